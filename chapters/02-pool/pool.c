/* pool.c - a pre-forked process pool, written in the open (chapter 2's mechanism).
 *
 * Read this file first; main.c runs the experiments on it. pool_create forks N workers once,
 * pool_map hands out chunks of tasks dynamically (a worker that sends back its results is
 * given the next chunk), pool_destroy stops them in order. per_task_map is the way without a
 * pool: a fresh process for every task.
 *
 *    parent                          worker w (forked once, loops until told to stop)
 *    ------                          --------
 *    tasks pipe w   --- chunk ---->  read chunk {task, first, count}
 *                                    run tasks first .. first+count-1
 *    results pipe w <-- results ---  write {RESULTS, w, first, count} + count values
 *    (poll all results pipes; the first worker to answer gets the next chunk)
 *
 * What to look for: every task comes back exactly once, from the worker that was given it;
 * each worker counts the tasks it ran and says so when stopped, and the parent checks its own
 * count against that; a worker that dies is named (which worker, which signal, which tasks)
 * and the run stops instead of waiting for results that will never come.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>

#include "bench.h"
#include "pool.h"

extern char **environ;

/* ---------- the work: tasks with a checkable answer ---------- */

/* Task k: `spins` rounds of xorshift from a start that depends on k. About 2 ns a round. */
uint64_t spin_task(long k, uint64_t spins)
{
    return spin_from(mix64((uint64_t)k) | 1, spins);
}

/* The tiny job as a program (`ch02-pool --tiny-job K`, what xargs and parallel run). */
void print_tiny_job(long k)
{
    char line[64];
    int len = snprintf(line, sizeof line, "%ld %llu\n", k,
                       (unsigned long long)spin_task(k, TINY_SPINS));
    /* one write: lines from jobs running side by side on one pipe never interleave */
    _exit(write(STDOUT_FILENO, line, (size_t)len) == len ? 0 : 1);
}

static void worker_fail(int w, const char *what)
{
    fprintf(stderr, "%s: worker %d: %s\n", kit_prog, w, what);
    _exit(3);
}

/* The same tiny job, run by a pool worker as a program: spawn it, read its line, reap it. */
static uint64_t exec_task(int w, long k, const char *self_path)
{
    char arg[24], line[64];
    int out[2], status, err;
    pid_t pid;
    posix_spawn_file_actions_t actions;
    snprintf(arg, sizeof arg, "%ld", k);
    char *argv[] = {(char *)self_path, "--tiny-job", arg, NULL};
    if (pipe2(out, O_CLOEXEC) == -1)
        worker_fail(w, "pipe2 failed");
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    err = posix_spawn(&pid, self_path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err)
        worker_fail(w, "posix_spawn of the tiny job failed");
    close(out[1]);
    size_t got = read_full(out[0], line, sizeof line - 1);
    close(out[0]);
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            worker_fail(w, "waitpid failed");
    line[got] = '\0';
    long echoed = -1;
    unsigned long long value = 0;
    if (!ended_ok(status) || sscanf(line, "%ld %llu", &echoed, &value) != 2 || echoed != k)
        worker_fail(w, "the tiny job failed or printed something else");
    return value;
}

/* Task k as the process given it runs it, with the test switches applied. */
static uint64_t run_task(int w, enum task_kind task, long k, uint64_t arg,
                         const struct pool_config *config)
{
    if (k == config->kill_task)
        raise(SIGKILL);                             /* test switch: die mid-map */
    uint64_t value = task == TASK_SPIN ? spin_task(k, arg) : exec_task(w, k, config->self_path);
    return k == config->corrupt_task ? value ^ 1 : value;   /* test switch: a wrong answer */
}

/* ---------- the messages ---------- */

struct chunk_msg {
    int32_t task;               /* enum task_kind */
    int32_t pad;
    int64_t first, count;       /* count 0: stop */
    uint64_t arg;
};

enum reply_kind { REPLY_HELLO = 1, REPLY_RESULTS, REPLY_GOODBYE };
struct reply_header {
    int32_t kind;
    int32_t worker;
    int64_t first, count;       /* GOODBYE: count = tasks this worker ran in its life */
};

/* ---------- a worker ---------- */

/* book:worker-loop */
static void worker_main(int w, int tasks_fd, int results_fd, const struct pool_config *config)
{
    struct reply_header hello = {REPLY_HELLO, w, 0, 0};
    uint64_t *values = NULL;
    long capacity = 0, life_tasks = 0;
    struct chunk_msg chunk;

    if (!write_full(results_fd, &hello, sizeof hello))
        worker_fail(w, "cannot say hello");
    for (;;) {
        if (read_full(tasks_fd, &chunk, sizeof chunk) != sizeof chunk)
            _exit(0);                               /* the parent is gone */
        if (chunk.count == 0) {                     /* stop: say how much we did */
            struct reply_header bye = {REPLY_GOODBYE, w, 0, life_tasks};
            _exit(write_full(results_fd, &bye, sizeof bye) ? 0 : 3);
        }
        if (chunk.task < 0 || chunk.task > TASK_EXEC || chunk.count < 0)
            worker_fail(w, "a malformed chunk message");
        if (chunk.count > capacity) {
            free(values);
            capacity = chunk.count;
            if (!(values = malloc((size_t)capacity * sizeof *values)))
                worker_fail(w, "out of memory");
        }
        for (long i = 0; i < chunk.count; i++)
            values[i] = run_task(w, chunk.task, chunk.first + i, chunk.arg, config);
        life_tasks += chunk.count;
        struct reply_header done = {REPLY_RESULTS, w, chunk.first, chunk.count};
        if (!write_full(results_fd, &done, sizeof done) ||
            !write_full(results_fd, values, (size_t)chunk.count * sizeof *values))
            worker_fail(w, "cannot send results");
    }
}
/* end:worker-loop */

/* A worker is gone: say which, how, and what it was doing, then stop the run (die_child kills
 * and reaps the other workers). */
/* book:worker-died */
__attribute__((noreturn))
static void worker_died(struct pool *p, int w)
{
    struct worker *wk = &p->workers[w];
    int status = reap_child(wk->pid);
    if (wk->count == 0)
        die_child("worker", w, wk->pid, status, "while idle");
    if (wk->count == 1)
        die_child("worker", w, wk->pid, status, "while running task %ld", wk->first);
    die_child("worker", w, wk->pid, status, "while running tasks %ld..%ld", wk->first,
              wk->first + wk->count - 1);
}
/* end:worker-died */

/* Reads one reply header from worker w; a short read means it died. */
static struct reply_header read_reply(struct pool *p, int w, enum reply_kind expected)
{
    struct reply_header h;
    if (read_full(p->workers[w].results_fd, &h, sizeof h) != sizeof h)
        worker_died(p, w);
    if (h.kind != (int32_t)expected || h.worker != w)
        verification_failed("worker %d sent a reply of kind %d from worker %d, expected kind %d",
                            w, h.kind, h.worker, expected);
    return h;
}

static void close_fd(int fd)
{
    if (fd >= 0 && close(fd) == -1)
        die_errno("close");
}

/* ---------- the pool ---------- */

struct worker_start {
    const struct pool *p;
    int tasks[2], results[2];
};

/* In the new worker: the other workers' pipes and the parent's ends are not ours. */
static int worker_entry(int w, void *arg)
{
    const struct worker_start *s = arg;
    for (int older = 0; older < w; older++) {
        close(s->p->workers[older].tasks_fd);
        close(s->p->workers[older].results_fd);
    }
    close(s->tasks[1]);
    close(s->results[0]);
    signal(SIGPIPE, SIG_DFL);
    worker_main(w, s->tasks[0], s->results[1], s->p->config);
    return 0;
}

/* book:pool-create */
struct pool *pool_create(int size, const struct pool_config *config)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p || !(p->workers = calloc((size_t)size, sizeof *p->workers)) ||
        !(p->polls = calloc((size_t)size, sizeof *p->polls)))
        die_errno("calloc");
    p->size = size;
    p->config = config;
    for (int w = 0; w < size; w++) {
        struct worker_start s = {p, {-1, -1}, {-1, -1}};
        if (pipe2(s.tasks, O_CLOEXEC) == -1 || pipe2(s.results, O_CLOEXEC) == -1)
            die_errno("pipe2");
        pid_t pid = start_worker(w, config->pin, worker_entry, &s);
        close_fd(s.tasks[0]);
        close_fd(s.results[1]);
        p->workers[w] = (struct worker){.pid = pid, .tasks_fd = s.tasks[1],
                                        .results_fd = s.results[0]};
        p->polls[w] = (struct pollfd){.fd = s.results[0], .events = POLLIN};
    }
    for (int w = 0; w < size; w++)          /* ready when every worker has said hello */
        read_reply(p, w, REPLY_HELLO);
    return p;
}
/* end:pool-create */

static void send_chunk(struct pool *p, int w, enum task_kind task, uint64_t arg, long first,
                       long count)
{
    struct worker *wk = &p->workers[w];
    struct chunk_msg m = {task, 0, first, count, arg};
    wk->first = first;
    wk->count = count;
    if (!write_full(wk->tasks_fd, &m, sizeof m)) {
        if (errno != EPIPE)
            die_errno("write to a worker");
        worker_died(p, w);                  /* nobody reads its pipe any more */
    }
}

/* Worker w has results ready: store them, check each task comes back once. */
static void receive_results(struct pool *p, int w, uint64_t *results, bool *done)
{
    struct worker *wk = &p->workers[w];
    struct reply_header h = read_reply(p, w, REPLY_RESULTS);
    if (h.first != wk->first || h.count != wk->count)
        verification_failed("worker %d returned tasks %lld..%lld, it was given %ld..%ld", w,
                            (long long)h.first, (long long)(h.first + h.count - 1), wk->first,
                            wk->first + wk->count - 1);
    for (long k = wk->first; k < wk->first + wk->count; k++) {
        if (done[k])
            verification_failed("task %ld came back twice", k);
        done[k] = true;
    }
    size_t bytes = (size_t)wk->count * sizeof *results;
    if (read_full(wk->results_fd, results + wk->first, bytes) != bytes)
        worker_died(p, w);
    wk->map_tasks += wk->count;
    wk->map_chunks++;
    wk->life_tasks += wk->count;
    wk->count = 0;                          /* idle again */
}

/* book:pool-map */
/* One map in progress: what to run, and the first task not handed out yet. */
struct map_state {
    enum task_kind task;
    uint64_t arg;
    long tasks, chunk, next;
};

/* Hands worker w the next chunk, if any is left; returns 1 if it did. */
static int give_next_chunk(struct pool *p, int w, struct map_state *m)
{
    if (m->next >= m->tasks)
        return 0;
    long n = m->chunk < m->tasks - m->next ? m->chunk : m->tasks - m->next;
    send_chunk(p, w, m->task, m->arg, m->next, n);
    m->next += n;
    return 1;
}

/* results[k] = task(k, arg) for k in 0..tasks-1, `chunk` tasks per message. */
void pool_map(struct pool *p, enum task_kind task, uint64_t arg, long tasks, long chunk,
              uint64_t *results)
{
    struct map_state m = {task, arg, tasks, chunk, 0};
    bool *done = calloc((size_t)tasks, sizeof *done);
    long outstanding = 0;
    if (!done)
        die_errno("calloc");
    for (int w = 0; w < p->size; w++) {         /* one chunk to each worker to start */
        p->workers[w].map_tasks = p->workers[w].map_chunks = 0;
        outstanding += give_next_chunk(p, w, &m);
    }
    while (outstanding > 0) {
        exit_if_stopped();                      /* a stop signal that came between two polls */
        if (poll(p->polls, (nfds_t)p->size, -1) == -1) {
            if (errno != EINTR)
                die_errno("poll");
            continue;
        }
        for (int w = 0; w < p->size; w++) {
            if (!p->polls[w].revents)
                continue;
            if (p->workers[w].count == 0)       /* an idle worker's pipe only stirs if it died */
                worker_died(p, w);
            receive_results(p, w, results, done);
            outstanding--;
            outstanding += give_next_chunk(p, w, &m);   /* dynamic: first to answer gets more */
        }
    }
    free(done);
}
/* end:pool-map */

/* book:pool-destroy */
void pool_destroy(struct pool *p)
{
    for (int w = 0; w < p->size; w++)
        send_chunk(p, w, TASK_SPIN, 0, 0, 0);          /* count 0: stop */
    for (int w = 0; w < p->size; w++) {
        struct worker *wk = &p->workers[w];
        struct reply_header bye = read_reply(p, w, REPLY_GOODBYE);
        if (bye.count != wk->life_tasks)
            verification_failed("worker %d says it ran %lld tasks, the parent counted %ld", w,
                                (long long)bye.count, wk->life_tasks);
        int status = reap_child(wk->pid);
        if (!ended_ok(status))
            die_child("worker", w, wk->pid, status, "at shutdown");
        close_fd(wk->tasks_fd);
        close_fd(wk->results_fd);
    }
    free(p->polls);
    free(p->workers);
    free(p);
}
/* end:pool-destroy */

/* ---------- without a pool: a process per task ---------- */

struct task_child {
    const struct pool_config *config;
    uint64_t spins;
    int results_fd;
};
struct task_result {
    int64_t task;
    uint64_t value;
};

static int run_one_task(int k, void *arg)
{
    const struct task_child *c = arg;
    struct task_result r = {k, run_task(k, TASK_SPIN, k, c->spins, c->config)};
    return write_full(c->results_fd, &r, sizeof r) ? 0 : 1;    /* 16 bytes: one atomic write */
}

/* book:per-task */
void per_task_map(const struct pool_config *config, int workers, uint64_t spins, long tasks,
                  uint64_t *results)
{
    struct { pid_t pid; long task; } slot[MAX_WORKERS] = {{0, 0}};   /* pid 0: free */
    int fds[2];
    long started = 0, finished = 0;
    if (pipe2(fds, O_CLOEXEC) == -1)
        die_errno("pipe2");
    struct task_child c = {config, spins, fds[1]};
    while (finished < tasks) {
        for (int i = 0; i < workers && started < tasks; i++)
            if (slot[i].pid == 0) {
                slot[i].pid = start_worker((int)started, config->pin, run_one_task, &c);
                slot[i].task = started++;
            }
        int status, i = 0;
        pid_t pid = reap_any(&status);          /* every child alive now is in a slot */
        while (i < workers && slot[i].pid != pid)
            i++;
        if (i == workers)
            die("waitpid: pid %d is not a per-task child", (int)pid);
        slot[i].pid = 0;
        if (!ended_ok(status))
            die_child("per-task child", (int)slot[i].task, pid, status,
                      "while running task %ld of %ld", slot[i].task, tasks);
        struct task_result r;
        if (read_full(fds[0], &r, sizeof r) != sizeof r || r.task < 0 || r.task >= tasks)
            die("a per-task child sent no valid result");
        results[r.task] = r.value;
        finished++;
    }
    close_fd(fds[0]);
    close_fd(fds[1]);
}
/* end:per-task */
