/* pool.h - what pool.c (a pre-forked process pool, and a process per task) offers main.c. */
#ifndef CH02_POOL_H
#define CH02_POOL_H

#include <poll.h>
#include <stdint.h>

#include "cli.h"

enum { MAX_WORKERS = 256, TINY_SPINS = 300 };  /* the tiny task: well under a microsecond */

/* What a chunk message names: an index into a table of task functions (Python sends a pickled
 * reference instead; either way the worker must already have the code). */
enum task_kind { TASK_SPIN, TASK_EXEC };

/* How the pool's processes run: placement, this program's path (for TASK_EXEC), and two test
 * switches, -1 when off: the process given task `kill_task` dies of SIGKILL before running it,
 * the one given `corrupt_task` returns a wrong value for it. */
struct pool_config {
    enum kit_pin pin;
    const char *self_path;
    long kill_task, corrupt_task;
};

struct worker {
    pid_t pid;
    int tasks_fd;               /* the parent writes chunks here */
    int results_fd;             /* and reads results here */
    long first, count;          /* the chunk it holds now; count 0 = idle */
    long map_tasks, map_chunks; /* what it ran in the current map */
    long life_tasks;            /* what it ran since it was forked, as the parent counted */
};

struct pool {
    int size;
    const struct pool_config *config;
    struct worker *workers;
    struct pollfd *polls;
};

uint64_t spin_task(long k, uint64_t spins);
__attribute__((noreturn)) void print_tiny_job(long k);

struct pool *pool_create(int size, const struct pool_config *config);
void pool_map(struct pool *p, enum task_kind task, uint64_t arg, long tasks, long chunk,
              uint64_t *results);
void pool_destroy(struct pool *p);

/* The way without a pool: a fresh process per task, at most `workers` alive at once. */
void per_task_map(const struct pool_config *config, int workers, uint64_t spins, long tasks,
                  uint64_t *results);

#endif
