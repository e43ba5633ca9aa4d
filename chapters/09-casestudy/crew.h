/* crew.h - what crew.c (the workers behind rungs 1-5, with their pipes) offers rungs.c. */
#ifndef CH09_CREW_H
#define CH09_CREW_H

#include <stdbool.h>
#include <stdint.h>

#include "rungs.h"

/* A worker's check of the blocks it received: the first bad one, or -1. */
struct received_check {
    int64_t bad_block;
    uint64_t sent, received;
};

/* A chunk travels as a task header, its values, then their checksums (rungs 4-5 send the header
 * alone: the values are in shared memory); a result comes back as a result header, then the
 * partial sums (none when they are in shared memory). */
struct task {
    uint32_t first_block, blocks;
    uint32_t batch_blocks;      /* rung 5: take batches of this many blocks; else 0 */
};
struct result {
    uint32_t first_block, blocks;
    struct received_check check;
};

struct slot {
    pid_t pid;
    int task_fd, result_fd;     /* the parent's ends; -1 when closed */
    size_t first_block, blocks; /* what it is working on, for the report of its death */
};

struct crew {
    struct rung_run *r;
    const char *rung;
    struct slot *slots;
    int size;
    int (*work)(int index, void *crew);
    char *message;              /* a chunk, encoded */
    size_t max_blocks;
    struct worker_times *times; /* shared with the workers: MAX_TIMED of them */
};

/* What a new worker gets: the crew (to close the parent's ends) and its own two pipe ends. */
struct worker_arg {
    struct crew *c;
    int task_fd, result_fd;
};

void crew_open(struct crew *c, struct rung_run *r, const char *rung,
               int (*work)(int, void *), size_t max_blocks);
void crew_close(struct crew *c);
void start_all(struct crew *c, enum kit_pin pin);
/* A worker that died (or broke its pipe): kill the others, say which and doing what, exit 1. */
__attribute__((noreturn)) void worker_failed(struct crew *c, int s);
void start_one(struct crew *c, int s, enum kit_pin pin);
void wait_ready(struct crew *c, int s);
void stop_one(struct crew *c, int s);
void stop_all(struct crew *c);
/* In a new worker: only its own two ends stay open; the worker is stamped RUNNING. */
void close_parent_ends(struct crew *c, int index);
/* A worker says it is ready (stamped READY_SENT); false if the parent is gone. */
bool say_ready(struct crew *c, int index, int result_fd);
void stamp(struct crew *c, int index, enum stamp step);
int wait_for_result(struct crew *c);
void receive_result(struct crew *c, int s, bool partials_follow);

#endif
