/* spawn.h - what spawn.c (the ways to start a process, and what each costs) offers main.c. */
#ifndef CH01_SPAWN_H
#define CH01_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* One way to start a process (or a thread), let it finish and reap it; `op` numbers the call,
 * and the child's exit status carries it back, so every call is checked. */
struct method {
    const char *name;
    void (*start_and_reap)(long op);
};
extern const struct method methods[];
extern const int method_count;

void fork_and_reap(long op);
void vfork_and_reap(long op);
void spawn_and_reap(long op);

/* The parent's memory: `bytes` touched (one mark per byte), and a child that writes every page. */
unsigned char *touched_memory(size_t bytes);
void fork_write_and_reap(unsigned char *memory, size_t bytes);
void check_parent_pages(const unsigned char *memory, size_t bytes);
void release_memory(unsigned char *memory, size_t bytes);

/* A batch of `children`, each running small_task(k): one at a time, or all started first.
 * kill_child >= 0 makes that child kill itself (a test switch). */
struct batch {
    long children;
    bool all_at_once;
    const int *expected;        /* small_task(k) for each child, computed untimed */
    long kill_child;
};
enum { BATCH_MAX = 32 };
int small_task(long k);
void run_batch(const struct batch *b);

/* The sum of mix64(i) over [0, total), split across `procs` processes placed by `pin`. */
uint64_t sum_range(uint64_t begin, uint64_t end);
uint64_t split_sum(int procs, uint64_t total, enum kit_pin pin);

#endif
