/* pool.c - a pre-forked process pool with dynamic scheduling, two ways to deal the tasks.
 *
 * W workers are forked once; each takes tasks until none is left, runs each with run_task()
 * (search.c) and writes the result straight into shared memory at the task's index. Who hands
 * a worker its next task:
 *   shared   every task index is written up front into one pipe that all workers read; a
 *            4-byte read takes one whole task (pipe writes of up to PIPE_BUF bytes are never
 *            split), so the kernel deals them out and the parent is not in the loop.
 *   parent   each worker has its own task pipe and says "done" on its done pipe; the parent
 *            sends the next task to whichever worker answered: a round trip through the parent
 *            per task, as in chapter 2's pool and Python's ProcessPoolExecutor.
 * Either way the parent polls the done pipes: end of file on one means that worker has exited
 * (the kernel closes a process's files however it ends), and wait4 says how, and what CPU
 * time it used. A worker that died names itself, its signal and its task; the others are
 * killed and reaped (proc.h's table of children), also on SIGINT/SIGTERM.
 *
 * What to look for: with the shared pipe a worker goes from one task to the next without
 * waking anyone; with the parent dealing, every task costs two wake-ups and two pipe trips.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench.h"
#include "proc.h"
#include "pool.h"

const char *const dispatch_names[2] = {"shared", "parent"};

struct worker_slot {          /* in shared memory: written by its worker, read by the parent */
    int32_t running;          /* the task it is on, -1 between tasks */
    int32_t tasks_done;
    uint64_t ready_ns;        /* when it had been forked and set up */
};

struct worker {
    pid_t pid;
    int task_fd;              /* the parent's end of its task pipe; -1 when shared or closed */
    int done_fd;              /* the parent's end of its done pipe; -1 once reaped */
    int task_in, done_out;    /* the worker's ends */
};

struct pool {
    const struct job *job;
    enum dispatch dispatch;
    int count;                       /* workers started */
    int shared_fd;                   /* the shared task pipe's read end; -1: parent dispatch */
    struct worker *workers;
    struct worker_slot *slots;       /* MAP_SHARED, one per worker */
    struct task_result *results;     /* MAP_SHARED, by task index: no copy, no message */
};

/* ---------- the worker ---------- */

/* A forked worker holds copies of every pipe end opened so far: it keeps only its own two, so
 * that the end of file it waits for, and the one the parent waits for, can happen. */
static void keep_own_pipes(const struct pool *p, int id)
{
    for (int w = 0; w <= id; w++) {
        if (p->workers[w].task_fd >= 0)
            close(p->workers[w].task_fd);
        close(p->workers[w].done_fd);
    }
}

/* book:worker */
static int worker_main(int id, void *arg)
{
    struct pool *p = arg;
    struct worker *me = &p->workers[id];
    struct worker_slot *slot = &p->slots[id];
    keep_own_pipes(p, id);
    struct solver *sv = solver_new(p->job);
    __atomic_store_n(&slot->ready_ns, now_ns(), __ATOMIC_RELAXED);
    int32_t task;
    while (read_full(me->task_in, &task, sizeof task) == sizeof task) {
        if (task < 0 || task >= p->job->task_count)
            return 3;
        __atomic_store_n(&slot->running, task, __ATOMIC_RELAXED);
        run_task(p->job, task, sv, &p->results[task]);            /* the result, in place */
        p->results[task].worker = id;
        __atomic_store_n(&slot->running, -1, __ATOMIC_RELAXED);
        __atomic_store_n(&slot->tasks_done, slot->tasks_done + 1, __ATOMIC_RELAXED);
        if (p->dispatch == DISPATCH_PARENT && !write_full(me->done_out, &task, sizeof task))
            return 3;                               /* "next, please", to a parent gone */
    }
    return 0;                      /* end of file on the task pipe: no task is left */
}
/* end:worker */

/* Its done pipe, and (parent dispatch) its own task pipe; then fork, and keep the parent's
 * ends. start_worker (proc.h) makes it die with the parent and tracks it. */
static void start_pool_worker(struct pool *p, int id, enum kit_pin pin)
{
    int task[2] = {p->shared_fd, -1}, done[2];
    if ((p->shared_fd < 0 && pipe(task) == -1) || pipe(done) == -1)
        die_errno("pipe");
    p->workers[id] = (struct worker){0, task[1], done[0], task[0], done[1]};
    p->count = id + 1;
    p->workers[id].pid = start_worker(id, pin, worker_main, p);
    if (p->shared_fd < 0)
        close(task[0]);
    close(done[1]);
}

/* ---------- the parent ---------- */

static void describe_task(const struct job *job, int task, char *buf, size_t len)
{
    char label[64];
    snprintf(buf, len, "task %d (%s %s)", task,
             job->split == SPLIT_FIRST_COLUMN ? "first column"
             : job->split == SPLIT_CYCLE_TYPE
                 ? "row 2's cycle type:first symbols of rows 3.."
                 : "row 2's cycle type:first symbols of rows 3../row 3's second",
             task_label(job, &job->tasks[task], label, sizeof label));
}

/* A worker's done pipe ended: it has exited. Reap it; unless it ended cleanly after its last
 * task, say which worker died of what while running which task, and stop the run. */
static void reap_worker(struct pool *p, int w, struct pool_run *run)
{
    int status;
    struct rusage usage;
    pid_t pid = p->workers[w].pid;
    while (wait4(pid, &status, 0, &usage) == -1) {
        if (errno != EINTR)
            die_errno("wait4");
        exit_if_stopped();
    }
    forget_child(pid);
    run->worker_pids[w] = pid;
    close(p->workers[w].done_fd);
    p->workers[w].done_fd = -1;
    run->worker_cpu_ns[w] = rusage_cpu_ns(&usage);
    if (ended_ok(status))
        return;
    exit_if_stopped();                /* a Ctrl-C reaches the workers too: that is no crash */
    int task = __atomic_load_n(&p->slots[w].running, __ATOMIC_RELAXED);
    char what[160] = "no task";
    if (task >= 0)
        describe_task(p->job, task, what, sizeof what);
    die_child("worker", w, pid, status, "while running %s", what);
}

static void send_task(struct pool *p, int w, int32_t task)
{
    /* EPIPE: the worker is gone; the end of file on its done pipe will say how it died */
    if (!write_full(p->workers[w].task_fd, &task, sizeof task) && errno != EPIPE)
        die_errno("write (task pipe)");
}

static void close_task_pipe(struct pool *p, int w)
{
    if (p->workers[w].task_fd >= 0)
        close(p->workers[w].task_fd);   /* end of file: the worker exits after its task */
    p->workers[w].task_fd = -1;
}

/* Every task index goes into the shared pipe before the first fork. The pipe is made big
 * enough for all of them (4 bytes a task), so the parent never waits to write and a worker
 * never waits for the parent: only for the pipe's lock while another worker takes a task. */
static int fill_shared_pipe(int tasks)
{
    int fds[2];
    size_t bytes = (size_t)tasks * sizeof(int32_t);
    if (pipe(fds) == -1)
        die_errno("pipe (shared tasks)");
    if (bytes > 65536 && fcntl(fds[1], F_SETPIPE_SZ, (int)bytes) == -1)
        die("the shared task pipe cannot hold %d tasks (F_SETPIPE_SZ: %s; see "
            "/proc/sys/fs/pipe-max-size); use --dispatch parent", tasks, strerror(errno));
    if (fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1)   /* full would be a bug: fail, never hang */
        die_errno("fcntl (shared tasks)");
    int32_t batch[PIPE_BUF / sizeof(int32_t)];
    for (int next = 0; next < tasks;) {
        size_t n = 0;
        while (n < sizeof batch / sizeof batch[0] && next < tasks)
            batch[n++] = next++;
        /* at most PIPE_BUF bytes: written whole, so a 4-byte read always takes one index */
        if (write(fds[1], batch, n * sizeof batch[0]) != (ssize_t)(n * sizeof batch[0]))
            die_errno("write (shared task pipe)");
    }
    close(fds[1]);                 /* the workers read end of file once the pipe is empty */
    return fds[0];
}

static void *map_shared(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die_errno("mmap (shared)");
    return p;
}

/* Start the workers, each with its first task or the shared pipe; returns the next task the
 * parent has to send (every task, for the shared pipe: none). */
static int deal(struct pool *p, int count, enum kit_pin pin)
{
    int tasks = p->job->task_count, next = 0;
    /* book:deal */
    p->shared_fd = -1;
    if (p->dispatch == DISPATCH_SHARED) {
        p->shared_fd = fill_shared_pipe(tasks);           /* the tasks wait in the pipe */
        next = tasks;
    }
    for (int w = 0; w < count; w++) {
        start_pool_worker(p, w, pin);
        if (p->dispatch == DISPATCH_PARENT) {
            if (next < tasks)
                send_task(p, w, next++);
            else
                close_task_pipe(p, w);
        }
    }
    if (p->shared_fd >= 0)
        close(p->shared_fd);                              /* the workers have it now */
    /* end:deal */
    return next;
}

static void report_progress(const struct pool *p, int running)
{
    int done = 0;
    for (int w = 0; w < p->count; w++)
        done += __atomic_load_n(&p->slots[w].tasks_done, __ATOMIC_RELAXED);
    progress("pool of %d: %d of %d tasks done, %d workers running", p->count, done,
             p->job->task_count, running);
}

/* Until every worker has exited: a done note gets the next task (parent dispatch), an end of
 * file is a worker gone, reaped and checked. */
static void collect(struct pool *p, int next, struct pool_run *run)
{
    int tasks = p->job->task_count, running = p->count;
    struct pollfd *fds = calloc((size_t)p->count, sizeof *fds);
    if (!fds)
        die_errno("calloc");
    uint64_t last_progress = now_ns();
    while (running > 0) {
        for (int w = 0; w < p->count; w++)      /* -1 (reaped): poll skips it */
            fds[w] = (struct pollfd){p->workers[w].done_fd, POLLIN, 0};
        if (poll(fds, (nfds_t)p->count, 1000) == -1) {
            if (errno != EINTR)
                die_errno("poll");
            exit_if_stopped();
            continue;
        }
        /* book:dispatch */
        for (int w = 0; w < p->count; w++) {
            if (!(fds[w].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int32_t done;
            if (read_full(p->workers[w].done_fd, &done, sizeof done) != sizeof done) {
                reap_worker(p, w, run);                   /* end of file: it has exited */
                running--;
                continue;
            }
            /* a note (parent dispatch only): the next task goes to whichever worker answered */
            if (next < tasks)
                send_task(p, w, next++);
            else
                close_task_pipe(p, w);
        }
        /* end:dispatch */
        if (p->count > 1 && now_ns() - last_progress > 5000000000u) {
            report_progress(p, running);
            last_progress = now_ns();
        }
    }
    free(fds);
}

/* Every task came back exactly once, from a worker of this pool. */
static void check_every_task_done(const struct job *job, const struct pool_run *run,
                                  int tasks_run)
{
    if (tasks_run != job->task_count)
        verification_failed("pool of %d: the workers ran %d tasks, not %d", run->workers,
                            tasks_run, job->task_count);
    for (int i = 0; i < job->task_count; i++) {
        const struct task_result *res = &run->results[i];
        if (res->task != i || res->worker < 0 || res->worker >= run->workers ||
            res->end_ns < res->start_ns)
            verification_failed("pool of %d: task %d has no result (the workers ended "
                                "without it)", run->workers, i);
    }
}

/* The results out of shared memory, checked; start-up and shutdown from the workers' times. */
static void close_pool(struct pool *p, struct pool_run *run, uint64_t end)
{
    int tasks = p->job->task_count, tasks_run = 0;
    uint64_t last_end = run->start_ns, last_ready = run->start_ns;
    memcpy(run->results, p->results, (size_t)tasks * sizeof *p->results);
    for (int w = 0; w < p->count; w++) {
        last_ready = p->slots[w].ready_ns > last_ready ? p->slots[w].ready_ns : last_ready;
        tasks_run += p->slots[w].tasks_done;
    }
    munmap(p->results, (size_t)tasks * sizeof *p->results);
    munmap(p->slots, (size_t)p->count * sizeof *p->slots);
    free(p->workers);
    check_every_task_done(p->job, run, tasks_run);
    for (int i = 0; i < tasks; i++)
        last_end = run->results[i].end_ns > last_end ? run->results[i].end_ns : last_end;
    run->startup_ns = last_ready - run->start_ns;
    run->shutdown_ns = end - last_end;
    run->wall_ns = end - run->start_ns;
}

void run_pool(const struct job *job, int count, enum dispatch dispatch, enum kit_pin pin,
              struct pool_run *run)
{
    struct pool p = {.job = job, .dispatch = dispatch};
    int tasks = job->task_count;
    uint64_t parent_cpu_start = cpu_ns();
    signal(SIGPIPE, SIG_IGN);          /* a task sent to a dead worker: EPIPE, not our death */
    run->workers = count;
    run->start_ns = now_ns();
    p.workers = calloc((size_t)count, sizeof *p.workers);
    if (!p.workers)
        die_errno("calloc");
    p.slots = map_shared((size_t)count * sizeof *p.slots);
    p.results = map_shared((size_t)tasks * sizeof *p.results);
    for (int w = 0; w < count; w++)
        p.slots[w].running = -1;
    for (int i = 0; i < tasks; i++)
        p.results[i].task = -1;
    int next = deal(&p, count, pin);
    collect(&p, next, run);
    uint64_t end = now_ns();
    run->parent_cpu_ns = cpu_ns() - parent_cpu_start;
    close_pool(&p, run, end);
}

/* The baseline every pool is measured against: the same tasks in this process, one after
 * another, with no pool at all. */
void run_in_loop(const struct job *job, struct pool_run *run)
{
    struct solver *sv = solver_new(job);
    uint64_t cpu_start = cpu_ns();
    run->workers = 1;
    run->start_ns = now_ns();
    for (int i = 0; i < job->task_count; i++) {
        exit_if_stopped();
        run_task(job, i, sv, &run->results[i]);
    }
    solver_free(sv);
    run->wall_ns = now_ns() - run->start_ns;
    run->worker_cpu_ns[0] = cpu_ns() - cpu_start;
}

void pool_run_init(struct pool_run *run, const struct job *job, int count)
{
    memset(run, 0, sizeof *run);
    run->results = calloc((size_t)job->task_count, sizeof *run->results);
    run->worker_cpu_ns = calloc((size_t)count, sizeof *run->worker_cpu_ns);
    run->worker_pids = calloc((size_t)count, sizeof *run->worker_pids);
    if (!run->results || !run->worker_cpu_ns || !run->worker_pids)
        die_errno("calloc");
}

void pool_run_free(struct pool_run *run)
{
    free(run->results);
    free(run->worker_cpu_ns);
    free(run->worker_pids);
}
