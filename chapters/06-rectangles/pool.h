/* pool.h - what pool.c offers the driver: a job's tasks run on W pre-forked workers.
 *
 *   pool_run_init(&run, job, W), pool_run_free(&run)   room for one run's results
 *   run_pool(job, W, dispatch, pin, &run)   fork W workers, let them take every task, reap
 *                                  them; every task's result (by index) and the times in run.
 *                                  A worker that dies ends the program: which worker, which
 *                                  signal, which task; exit 1.
 *   run_in_loop(job, &run)         the same tasks in this process, one after another
 */
#ifndef CH06_POOL_H
#define CH06_POOL_H

#include <sys/types.h>

#include "cli.h"
#include "search.h"

/* shared: every task waits in one pipe that all workers read; parent: the parent sends each
 * worker its next task when it reports the last one done (a round trip per task). */
enum dispatch { DISPATCH_SHARED, DISPATCH_PARENT };
extern const char *const dispatch_names[2];

struct pool_run {
    int workers;
    uint64_t start_ns, wall_ns;
    uint64_t startup_ns;                   /* until the last worker was set up */
    uint64_t shutdown_ns;                  /* from the last task's end until all were reaped */
    uint64_t parent_cpu_ns;                /* the parent's CPU time while the pool ran */
    struct task_result *results;           /* by task index */
    uint64_t *worker_cpu_ns;               /* by worker, from wait4 */
    pid_t *worker_pids;
};

void pool_run_init(struct pool_run *run, const struct job *job, int workers);
void pool_run_free(struct pool_run *run);
void run_pool(const struct job *job, int workers, enum dispatch dispatch, enum kit_pin pin,
              struct pool_run *run);
void run_in_loop(const struct job *job, struct pool_run *run);

#endif
