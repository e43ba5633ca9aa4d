/* crew.c - the workers behind rungs 1-5: each with a task pipe in and a result pipe out;
 * started, told to stop, reaped, and reported in one sentence when one dies. rungs.c says what
 * they do; this is the plumbing every parallel rung shares.
 */
#define _GNU_SOURCE
#include <poll.h>

#include "bench.h"
#include "crew.h"

/* ---------- the crew: workers, each with a task pipe in and a result pipe out ---------- */

/* book:stamps */
/* The steps of the first MAX_TIMED workers' start and stop, stamped by both sides: one page
 * shared with every worker this program forks, mapped once (before any crew's clock runs).
 * CLOCK_MONOTONIC is one clock for every process, so a parent's stamp and a worker's compare. */
static struct worker_times *shared_times(void)
{
    static struct worker_times *times;
    if (!times)
        times = map_shared_memory(NULL, MAX_TIMED * sizeof *times);
    return times;
}

void stamp(struct crew *c, int index, enum stamp step)
{
    if (index < MAX_TIMED)
        c->times[index].at[step] = now_ns();
}
/* end:stamps */

void crew_open(struct crew *c, struct rung_run *r, const char *rung,
               int (*work)(int, void *), size_t max_blocks)
{
    *c = (struct crew){.r = r, .rung = rung, .size = r->workers, .work = work,
                       .max_blocks = max_blocks, .times = shared_times()};
    memset(c->times, 0, MAX_TIMED * sizeof *c->times);
    c->slots = calloc((size_t)c->size, sizeof *c->slots);
    c->message = max_blocks ? malloc(sizeof(struct task) + max_blocks * BLOCK_VALUES * 4
                                     + max_blocks * sizeof(uint64_t)) : NULL;
    if (!c->slots || (max_blocks && !c->message))
        die_errno("malloc");
    for (int s = 0; s < c->size; s++)
        c->slots[s] = (struct slot){.pid = -1, .task_fd = -1, .result_fd = -1};
}

/* The workers' steps go to the rung's results; every worker has been reaped by now. */
void crew_close(struct crew *c)
{
    memcpy(c->r->times, c->times, sizeof c->r->times);
    free(c->slots);
    free(c->message);
}

/* A worker that died (or broke its pipe) ends the run with one sentence saying what it did. */
void worker_failed(struct crew *c, int s)
{
    struct slot *w = &c->slots[s];
    int status = reap_child(w->pid);
    if (w->blocks)
        die_child("worker", s, w->pid, status, "while working on blocks %zu..%zu of %s",
                  w->first_block, w->first_block + w->blocks - 1, c->rung);
    die_child("worker", s, w->pid, status, "in %s", c->rung);
}

/* Fork worker s with its two pipes; it says "ready" once it runs. */
void start_one(struct crew *c, int s, enum kit_pin pin)
{
    int task[2], result[2];
    if (pipe(task) == -1 || pipe(result) == -1)
        die_errno("pipe");
    c->slots[s].task_fd = task[1];
    c->slots[s].result_fd = result[0];
    struct worker_arg arg = {c, task[0], result[1]};
    stamp(c, s, FORK_CALLED);
    c->slots[s].pid = start_worker(s, pin, c->work, &arg);
    stamp(c, s, FORK_RETURNED);
    close(task[0]);
    close(result[1]);
}

void wait_ready(struct crew *c, int s)
{
    char ready;
    if (read_full(c->slots[s].result_fd, &ready, 1) != 1)
        worker_failed(c, s);
    stamp(c, s, READY_SEEN);
}

bool say_ready(struct crew *c, int index, int result_fd)
{
    stamp(c, index, READY_SENT);
    return write_full(result_fd, "r", 1);
}

/* Closing the task pipe tells the worker to exit; then it is reaped and must have ended well. */
void stop_one(struct crew *c, int s)
{
    struct slot *w = &c->slots[s];
    if (w->task_fd >= 0) {
        stamp(c, s, TOLD_TO_STOP);
        close(w->task_fd);
    }
    int status = reap_child(w->pid);
    stamp(c, s, REAPED);
    if (!ended_ok(status))
        die_child("worker", s, w->pid, status, "after its last task in %s", c->rung);
    close(w->result_fd);
    w->task_fd = w->result_fd = -1;
    w->pid = -1;
}

/* The whole pool: every worker told first, so that they end side by side, then each reaped. */
void stop_all(struct crew *c)
{
    for (int s = 0; s < c->size; s++) {
        stamp(c, s, TOLD_TO_STOP);
        close(c->slots[s].task_fd);
        c->slots[s].task_fd = -1;
    }
    for (int s = 0; s < c->size; s++)
        stop_one(c, s);
}

/* In a new worker: only its own two ends stay open, or a pipe would never see end-of-file. */
void close_parent_ends(struct crew *c, int index)
{
    stamp(c, index, RUNNING);
    for (int s = 0; s < c->size; s++) {
        if (c->slots[s].task_fd >= 0)
            close(c->slots[s].task_fd);
        if (c->slots[s].result_fd >= 0)
            close(c->slots[s].result_fd);
    }
}

/* The next worker with something to say (a result, or end-of-file because it died). */
int wait_for_result(struct crew *c)
{
    struct pollfd fds[c->size];
    for (int s = 0; s < c->size; s++)
        fds[s] = (struct pollfd){.fd = c->slots[s].result_fd, .events = POLLIN};
    for (;;) {
        int n = poll(fds, (nfds_t)c->size, -1);
        if (n == -1 && errno == EINTR) {
            exit_if_stopped();
            continue;
        }
        if (n == -1)
            die_errno("poll");
        for (int s = 0; s < c->size; s++)
            if (fds[s].revents)
                return s;
    }
}

/* A result header, then (for a chunk sent through the pipe) its partial sums. */
void receive_result(struct crew *c, int s, bool partials_follow)
{
    struct slot *w = &c->slots[s];
    struct result res;
    if (read_full(w->result_fd, &res, sizeof res) != sizeof res)
        worker_failed(c, s);
    if (res.check.bad_block >= 0)
        verification_failed("%s: worker %d received block %lld with checksum %016llx; the parent "
                             "sent %016llx (the data changed on the way)", c->rung, s,
                             (long long)res.check.bad_block,
                             (unsigned long long)res.check.received,
                             (unsigned long long)res.check.sent);
    size_t bytes = res.blocks * sizeof(double);
    if (partials_follow &&
        read_full(w->result_fd, c->r->partials + res.first_block, bytes) != bytes)
        worker_failed(c, s);
    w->blocks = 0;
}


void start_all(struct crew *c, enum kit_pin pin)
{
    for (int s = 0; s < c->size; s++)
        start_one(c, s, pin);
    for (int s = 0; s < c->size; s++)
        wait_ready(c, s);
}
