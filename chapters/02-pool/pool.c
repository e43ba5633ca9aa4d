/* ch02-pool - how do pools and batching amortize the cost of starting a process?
 *
 * A small pre-forked process pool, written in the open: pool_create forks N workers
 * once, pool_map hands out chunks of tasks dynamically (a worker that sends back its
 * results is given the next chunk), pool_destroy stops them in order. A worker that
 * dies is reported (which worker, which signal, which tasks) and the run fails.
 *
 * Four experiments, each its own TSV file and --only name:
 *   per-task-vs-pool  T tasks (light, medium, heavy) as one fresh process per task vs
 *                     through the pool (create + map + destroy): wall time per task
 *   chunksize         T tiny tasks with chunk size 1, 2, 4, ... T: throughput
 *   overhead          pool of 1 worker vs a plain loop on the same work; pool start and
 *                     shutdown for 1..16 workers, fitted as fixed + per_worker x N
 *   shell-pools       T tiny jobs (this program in --tiny-job mode) through xargs -P,
 *                     GNU parallel and this pool: per-job cost of each
 *
 * Usage: ch02-pool [--quick | --full] [--only EXPERIMENT] [--tasks T] [--chunk N]
 *                  [--trials N] [--workers N] [--pin none|same|spread] [--out DIR]
 * Linux only (pipe2, prctl, /proc/self/exe).
 * Exit: 0 ok, 1 runtime or verification failure (or a worker died), 2 usage error.
 *
 * Sample output line (chunksize):
 *   pool                 64     1840.2     1702.9     1911.0  ktasks/s
 * What to look for: a fresh process per task costs a fork for every task, the pool
 * one per worker; chunk 1 pays a message round trip per task, big chunks amortize it
 * until too few chunks are left to keep every worker busy; the pool's start-up cost
 * grows with N (a fork each) and has almost no fixed part.
 *
 * Verification: every map's results equal a sequential map of the same tasks; every
 * task comes back exactly once, from the worker that was given it; the tasks each
 * worker ran are counted by the parent and by the worker itself, must agree, and sum
 * to T; every job run by xargs or parallel prints its task number and value, each
 * checked once. Per-worker counts go to results/ch02-workers.tsv
 * (experiment, variant, x, worker, tasks, chunks, map_tasks: tasks sums to map_tasks).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "cli.h"
#include "bench.h"

extern char **environ;

static const char usage[] =
    "Usage: ch02-pool [--quick | --full] [--only per-task-vs-pool|chunksize|overhead|shell-pools]\n"
    "                 [--tasks T] [--chunk N] [--trials N] [--workers N] [--pin none|same|spread]\n"
    "                 [--out DIR]\n"
    "How do pools and batching amortize the cost of starting a process? (Linux only)\n"
    "  --tasks T        tiny tasks in the chunksize experiment (1..1000000;\n"
    "                   default 2000 quick, 20000 default, 100000 full)\n"
    "  --chunk N        chunk size of the pool maps in per-task-vs-pool, overhead and\n"
    "                   shell-pools (1..1000000; default 1, like ProcessPoolExecutor.map)\n"
    "  --workers N      pool size (1..256; default: online CPUs)\n"
    "Test switches (make a failure happen on purpose):\n"
    "  --kill-task K    the pool worker given task K kills itself with SIGKILL before running it\n"
    "  --corrupt-task K the pool worker given task K returns a wrong value for it\n"
    "  --tiny-job K     run one tiny job and print 'K VALUE' (what xargs and parallel run)\n"
    "Writes results/ch02-{per-task-vs-pool,chunksize,overhead,shell-pools,workers}.tsv.\n";

static const char *const experiments[] = {"per-task-vs-pool", "chunksize", "overhead", "shell-pools"};

enum { MAX_WORKERS = 256 };

/* ---------- the work: tasks with a checkable answer ---------- */

/* Task k: `spins` rounds of xorshift from a start that depends on k. About 2 ns a round. */
static uint64_t spin_task(long k, uint64_t spins)
{
    uint64_t x = mix64((uint64_t)k) | 1;
    for (uint64_t i = 0; i < spins; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

enum { TINY_SPINS = 300 };      /* the tiny job: well under a microsecond of work */

static uint64_t exec_task(long k, uint64_t unused);

/* What a chunk message names: an index into this table (Python sends a pickled
 * reference to the function instead; either way the worker must already have the code). */
enum task_kind { TASK_SPIN, TASK_EXEC };
static uint64_t (*const task_functions[])(long k, uint64_t arg) = {spin_task, exec_task};

static pid_t parent_pid;

/* The first lines of every child we fork: die with the parent, default signals. */
static void become_pool_worker(void)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent_pid)        /* the parent died before prctl took effect */
        _exit(1);
    default_stop_signals();
    signal(SIGPIPE, SIG_DFL);
}

static const char *status_text(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    return buf;
}

/* Whole messages over a pipe: a pipe may hand over fewer bytes than asked. */
static bool write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Returns the bytes read: less than `len` only at end of file (the writer is gone). */
static size_t read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n == -1 && errno == EINTR) {
            exit_if_stopped();
            continue;
        }
        if (n == -1)
            die_errno("read");
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* ---------- the pool ----------
 *
 *    parent                          worker w (forked once, loops until told to stop)
 *    ------                          --------
 *    tasks pipe w   --- chunk ---->  read chunk {task, first, count}
 *                                    run tasks first .. first+count-1
 *    results pipe w <-- results ---  write {RESULTS, w, first, count} + count values
 *    (poll all results pipes; the first worker to answer gets the next chunk)
 */

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
    struct worker *workers;
    struct pollfd *polls;
};

/* Test switches: a worker that dies, a worker that lies. -1 = off. */
static long kill_task = -1, corrupt_task = -1;
static enum kit_pin worker_pin;
static char self_path[PATH_MAX];    /* this program, for --tiny-job */

static int worker_index = -1;       /* in a worker: which one it is */

static void worker_fail(const char *what)
{
    fprintf(stderr, "ch02-pool: worker %d: %s\n", worker_index, what);
    _exit(3);
}

/* book:worker-loop */
static void worker_main(int w, int tasks_fd, int results_fd)
{
    struct reply_header hello = {REPLY_HELLO, w, 0, 0};
    uint64_t *values = NULL;
    long capacity = 0, life_tasks = 0;
    struct chunk_msg chunk;

    worker_index = w;
    if (!write_all(results_fd, &hello, sizeof hello))
        worker_fail("cannot say hello");
    for (;;) {
        if (read_all(tasks_fd, &chunk, sizeof chunk) != sizeof chunk)
            _exit(0);                               /* the parent is gone */
        if (chunk.count == 0) {                     /* stop: say how much we did */
            struct reply_header bye = {REPLY_GOODBYE, w, 0, life_tasks};
            _exit(write_all(results_fd, &bye, sizeof bye) ? 0 : 3);
        }
        if (chunk.task < 0 || chunk.task > TASK_EXEC || chunk.count < 0)
            worker_fail("a malformed chunk message");
        if (chunk.count > capacity) {
            free(values);
            capacity = chunk.count;
            if (!(values = malloc((size_t)capacity * sizeof *values)))
                worker_fail("out of memory");
        }
        for (long i = 0; i < chunk.count; i++) {
            long k = chunk.first + i;
            if (k == kill_task)
                raise(SIGKILL);                     /* test switch: die mid-map */
            values[i] = task_functions[chunk.task](k, chunk.arg);
            if (k == corrupt_task)
                values[i] ^= 1;                     /* test switch: a wrong answer */
        }
        life_tasks += chunk.count;
        struct reply_header done = {REPLY_RESULTS, w, chunk.first, chunk.count};
        if (!write_all(results_fd, &done, sizeof done) ||
            !write_all(results_fd, values, (size_t)chunk.count * sizeof *values))
            worker_fail("cannot send results");
    }
}
/* end:worker-loop */

/* A worker is gone: say which, how, and what it was doing, then fail the run
 * (the exit handler kills and reaps the other workers). */
/* book:worker-died */
__attribute__((noreturn))
static void worker_died(struct pool *p, int w)
{
    struct worker *wk = &p->workers[w];
    char how[96], doing[96];
    pid_t pid = wk->pid;
    status_text(reap_child(pid), how, sizeof how);
    if (wk->count == 0)
        snprintf(doing, sizeof doing, "while idle");
    else if (wk->count == 1)
        snprintf(doing, sizeof doing, "while running task %ld", wk->first);
    else
        snprintf(doing, sizeof doing, "while running tasks %ld..%ld", wk->first, wk->first + wk->count - 1);
    die("worker %d (pid %ld) %s %s; the map cannot finish", w, (long)pid, how, doing);
}
/* end:worker-died */

/* Reads one reply header from worker w; a short read means it died. */
static struct reply_header read_reply(struct pool *p, int w, enum reply_kind expected)
{
    struct reply_header h;
    if (read_all(p->workers[w].results_fd, &h, sizeof h) != sizeof h)
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

/* book:pool-create */
static struct pool *pool_create(int size)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p || !(p->workers = calloc((size_t)size, sizeof *p->workers)) ||
        !(p->polls = calloc((size_t)size, sizeof *p->polls)))
        die_errno("calloc");
    p->size = size;
    fflush(stdout);                         /* a child must not inherit unwritten output */
    for (int w = 0; w < size; w++) {
        int tasks[2], results[2];
        if (pipe2(tasks, O_CLOEXEC) == -1 || pipe2(results, O_CLOEXEC) == -1)
            die_errno("pipe2");
        pid_t pid = fork();
        if (pid == -1)
            die_errno("fork");
        if (pid == 0) {
            become_pool_worker();
            for (int older = 0; older < w; older++) {   /* other workers' pipes are not ours */
                close(p->workers[older].tasks_fd);
                close(p->workers[older].results_fd);
            }
            close(tasks[1]);
            close(results[0]);
            if (worker_pin == PIN_SPREAD)
                pin_to_cpu(w);
            worker_main(w, tasks[0], results[1]);
        }
        track_child(pid);
        close_fd(tasks[0]);
        close_fd(results[1]);
        p->workers[w] = (struct worker){.pid = pid, .tasks_fd = tasks[1], .results_fd = results[0]};
        p->polls[w] = (struct pollfd){.fd = results[0], .events = POLLIN};
    }
    for (int w = 0; w < size; w++)          /* ready when every worker has said hello */
        read_reply(p, w, REPLY_HELLO);
    return p;
}
/* end:pool-create */

static void send_chunk(struct pool *p, int w, enum task_kind task, uint64_t arg, long first, long count)
{
    struct worker *wk = &p->workers[w];
    struct chunk_msg m = {task, 0, first, count, arg};
    wk->first = first;
    wk->count = count;
    if (!write_all(wk->tasks_fd, &m, sizeof m)) {
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
    if (read_all(wk->results_fd, results + wk->first, bytes) != bytes)
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
static void pool_map(struct pool *p, enum task_kind task, uint64_t arg, long tasks, long chunk,
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
static void pool_destroy(struct pool *p)
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
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char how[96];
            die("worker %d %s at shutdown", w, status_text(status, how, sizeof how));
        }
        close_fd(wk->tasks_fd);
        close_fd(wk->results_fd);
    }
    free(p->polls);
    free(p->workers);
    free(p);
}
/* end:pool-destroy */

/* ---------- running the tiny job as a program (what xargs and parallel run) ---------- */

static void print_tiny_job(long k)
{
    char line[64];
    int len = snprintf(line, sizeof line, "%ld %llu\n", k, (unsigned long long)spin_task(k, TINY_SPINS));
    /* one write: lines from jobs running side by side on one pipe never interleave */
    _exit(write(STDOUT_FILENO, line, (size_t)len) == len ? 0 : 1);
}

/* In a pool worker: run `ch02-pool --tiny-job k`, read its line, wait for it. */
static uint64_t exec_task(long k, uint64_t unused)
{
    (void)unused;
    char arg[24], line[64];
    int out[2];
    pid_t pid;
    posix_spawn_file_actions_t actions;
    snprintf(arg, sizeof arg, "%ld", k);
    char *argv[] = {self_path, "--tiny-job", arg, NULL};
    if (pipe2(out, O_CLOEXEC) == -1)
        worker_fail("pipe2 failed");
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    int err = posix_spawn(&pid, self_path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err)
        worker_fail("posix_spawn of the tiny job failed");
    close(out[1]);
    size_t got = read_all(out[0], line, sizeof line - 1);
    close(out[0]);
    int status;
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            worker_fail("waitpid failed");
    line[got] = '\0';
    long echoed = -1;
    unsigned long long value = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(line, "%ld %llu", &echoed, &value) != 2 || echoed != k)
        worker_fail("the tiny job failed or printed something else");
    return value;
}

/* ---------- output helpers ---------- */

/* What each worker ran in one map, checked to add up to the map's T. */
struct worker_counts {
    int size;
    long map_tasks;
    long tasks[MAX_WORKERS], chunks[MAX_WORKERS];
};

static void take_worker_counts(const struct pool *p, long map_tasks, struct worker_counts *out)
{
    long sum = 0;
    out->size = p->size;
    out->map_tasks = map_tasks;
    for (int w = 0; w < p->size; w++) {
        out->tasks[w] = p->workers[w].map_tasks;
        out->chunks[w] = p->workers[w].map_chunks;
        sum += out->tasks[w];
    }
    if (sum != map_tasks)
        verification_failed("the workers ran %ld tasks between them, the map had %ld", sum, map_tasks);
}

static FILE *workers_tsv;   /* ch02-workers.tsv: tasks per worker in the last map of each point */

static void write_worker_counts(const char *experiment, const char *variant, double x,
                                const struct worker_counts *c)
{
    for (int w = 0; w < c->size; w++)
        fprintf(workers_tsv, "%s\t%s\t%g\t%d\t%ld\t%ld\t%ld\n", experiment, variant, x, w,
                c->tasks[w], c->chunks[w], c->map_tasks);
}

static void print_worker_counts(const char *what, const struct worker_counts *c)
{
    printf("  %-16s tasks per worker:", what);
    for (int w = 0; w < c->size && w < 16; w++)
        printf(" %ld", c->tasks[w]);
    printf("%s (sum = T = %ld)\n", c->size > 16 ? " ..." : "", c->map_tasks);
}

static void check_results(const char *what, const uint64_t *got, const uint64_t *expected, long tasks)
{
    for (long k = 0; k < tasks; k++)
        if (got[k] != expected[k])
            verification_failed("%s: task %ld returned %#llx, a sequential map gives %#llx", what, k,
                                (unsigned long long)got[k], (unsigned long long)expected[k]);
}

static uint64_t *expected_results(enum task_kind task, uint64_t arg, long tasks)
{
    uint64_t *v = malloc((size_t)tasks * sizeof *v);
    if (!v)
        die_errno("malloc");
    for (long k = 0; k < tasks; k++)
        v[k] = task == TASK_SPIN ? spin_task(k, arg) : spin_task(k, TINY_SPINS);
    return v;
}

static uint64_t *new_results(long tasks)
{
    uint64_t *v = malloc((size_t)tasks * sizeof *v);
    if (!v)
        die_errno("malloc");
    memset(v, 0, (size_t)tasks * sizeof *v);
    return v;
}

static void print_row(const char *name, const char *x, struct stats s, const char *unit)
{
    printf("  %-16s %10s %10.1f %10.1f %10.1f  %-8s%s\n", name, x, s.median, s.min, s.max, unit,
           is_noisy(s) ? "  noisy" : "");
}

static void print_heading(const char *x_name)
{
    printf("  %-16s %10s %10s %10s %10s  %s\n", "variant", x_name, "median", "min", "max", "unit");
}

struct run_config {
    struct kit_opts *o;
    long chunk;                 /* --chunk: the pool maps outside the chunksize sweep */
    long tasks;                 /* --tasks: the chunksize experiment */
};

/* ---------- experiment 1: per-task-vs-pool ---------- */

struct map_trial {
    int workers;
    enum task_kind task;
    uint64_t arg;
    long tasks, chunk;
    const uint64_t *expected;
    uint64_t *results;
    const char *variant;
    struct worker_counts counts;    /* of the last map */
};

/* The old way: one fresh process per task, at most `workers` alive at once. Each
 * child sends {task, value} (16 bytes: one atomic pipe write) and exits. */
/* book:per-task */
static void per_task_map(int workers, uint64_t spins, long tasks, uint64_t *results)
{
    struct { int64_t task; uint64_t value; } msg;
    long started = 0, finished = 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == -1)
        die_errno("pipe2");
    fflush(stdout);
    while (finished < tasks) {
        exit_if_stopped();
        for (; started < tasks && started - finished < workers; started++) {
            pid_t pid = fork();
            if (pid == -1)
                die_errno("fork");
            if (pid == 0) {
                become_pool_worker();
                if (worker_pin == PIN_SPREAD)
                    pin_to_cpu((int)(started % workers));
                msg.task = started;
                msg.value = spin_task(started, spins);
                _exit(write(fds[1], &msg, sizeof msg) == sizeof msg ? 0 : 1);
            }
            track_child(pid);
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, 0)) == -1) {   /* every child alive now is one of these */
            if (errno != EINTR)
                die_errno("waitpid");
            exit_if_stopped();
        }
        forget_child(pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char how[96];
            die("a per-task child (pid %ld) %s", (long)pid, status_text(status, how, sizeof how));
        }
        if (read_all(fds[0], &msg, sizeof msg) != sizeof msg || msg.task < 0 || msg.task >= tasks)
            die("a per-task child sent no valid result");
        results[msg.task] = msg.value;
        finished++;
    }
    close_fd(fds[0]);
    close_fd(fds[1]);
}
/* end:per-task */

static double time_per_task(void *ctx)
{
    struct map_trial *t = ctx;
    memset(t->results, 0, (size_t)t->tasks * sizeof *t->results);
    uint64_t start = now_ns();
    per_task_map(t->workers, t->arg, t->tasks, t->results);
    double elapsed = (double)(now_ns() - start);
    check_results("per-task", t->results, t->expected, t->tasks);
    return elapsed / 1e3 / (double)t->tasks;
}

/* Pool variant: the whole life of a pool, as `with Pool(N) as p: p.map(...)` pays it. */
static double time_pool_lifetime(void *ctx)
{
    struct map_trial *t = ctx;
    memset(t->results, 0, (size_t)t->tasks * sizeof *t->results);
    uint64_t start = now_ns();
    struct pool *p = pool_create(t->workers);
    pool_map(p, t->task, t->arg, t->tasks, t->chunk, t->results);
    take_worker_counts(p, t->tasks, &t->counts);
    pool_destroy(p);
    double elapsed = (double)(now_ns() - start);
    check_results(t->variant, t->results, t->expected, t->tasks);
    return elapsed / 1e3 / (double)t->tasks;
}

static double time_sequential(void *ctx)
{
    struct map_trial *t = ctx;
    uint64_t start = now_ns();
    for (long k = 0; k < t->tasks; k++)
        t->results[k] = spin_task(k, t->arg);
    double elapsed = (double)(now_ns() - start);
    check_results("sequential", t->results, t->expected, t->tasks);
    return elapsed / 1e3 / (double)t->tasks;
}

static void run_per_task_vs_pool(struct run_config *c)
{
    struct kit_opts *o = c->o;
    static const struct {
        const char *name;
        uint64_t spins;
        long tasks[3];          /* quick, default, full */
    } loads[] = {
        {"light", 300, {100, 2000, 10000}},
        {"medium", 30000, {40, 500, 2000}},
        {"heavy", 300000, {10, 100, 400}},
    };
    long trials = o->trials ? o->trials : by_mode(o, 3, 5, 11);
    int workers = (int)o->workers;
    FILE *tsv = tsv_open_noted(o, "per-task-vs-pool", "task_us", "workers=%d chunk=%ld", workers, c->chunk);
    struct stats speedups[3];
    double task_us[3];

    printf("\nper-task-vs-pool: T tasks as a fresh process each vs a pool of %d (create + map "
           "with chunk %ld + destroy); wall time per task (%ld trials)\n", workers, c->chunk, trials);
    printf("  %-16s %10s %10s %10s %10s  %-8s\n", "variant", "task us", "median", "min", "max", "unit");
    for (int l = 0; l < 3; l++) {
        long tasks = by_mode(o, loads[l].tasks[0], loads[l].tasks[1], loads[l].tasks[2]);
        uint64_t *expected = expected_results(TASK_SPIN, loads[l].spins, tasks);
        struct map_trial t = {workers, TASK_SPIN, loads[l].spins, tasks, c->chunk, expected,
                              new_results(tasks), "pool", {0}};
        struct stats seq = measure(time_sequential, &t, trials);
        task_us[l] = seq.median;
        char x[24];
        snprintf(x, sizeof x, seq.median < 10 ? "%.2f" : "%.0f", seq.median);
        progress("per-task-vs-pool: %s tasks (%s us each), T = %ld", loads[l].name, x, tasks);
        struct stats fresh = measure(time_per_task, &t, trials);
        struct stats pooled = measure(time_pool_lifetime, &t, trials);
        speedups[l] = ratio_of(fresh, pooled);
        printf("  %s (T = %ld)\n", loads[l].name, tasks);
        print_row("sequential", x, seq, "us/task");
        print_row("per-task", x, fresh, "us/task");
        print_row("pool", x, pooled, "us/task");
        printf("  %-16s %10s %10.2f %10.2f %10.2f  x (per-task / pool)\n", "speedup", x,
               speedups[l].median, speedups[l].min, speedups[l].max);
        print_worker_counts("pool", &t.counts);
        write_worker_counts("per-task-vs-pool", "pool", seq.median, &t.counts);
        tsv_row(tsv, "sequential", seq.median, "us", seq);
        tsv_row(tsv, "per-task", seq.median, "us", fresh);
        tsv_row(tsv, "pool", seq.median, "us", pooled);
        tsv_row(tsv, "speedup", seq.median, "x", speedups[l]);
        free(expected);
        free(t.results);
    }
    tsv_close(tsv);
    printf("  -> the pool is %.1fx faster than a process per task for %.2f us tasks, %.2fx for "
           "%.0f us tasks:\n     a fork per task only matters while the task is not much longer "
           "than the fork.\n",
           speedups[0].median, task_us[0], speedups[2].median, task_us[2]);
}

/* ---------- experiment 2: chunksize ---------- */

struct chunk_trial {
    struct pool *pool;
    long tasks, chunk;
    const uint64_t *expected;
    uint64_t *results;
    struct worker_counts counts;
};

static double time_chunked_map(void *ctx)
{
    struct chunk_trial *t = ctx;
    memset(t->results, 0, (size_t)t->tasks * sizeof *t->results);
    uint64_t start = now_ns();
    pool_map(t->pool, TASK_SPIN, TINY_SPINS, t->tasks, t->chunk, t->results);
    double seconds = (double)(now_ns() - start) / 1e9;
    take_worker_counts(t->pool, t->tasks, &t->counts);
    check_results("chunksize", t->results, t->expected, t->tasks);
    return (double)t->tasks / seconds / 1e3;
}

static int compare_longs(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static void run_chunksize(struct run_config *c)
{
    struct kit_opts *o = c->o;
    long trials = o->trials ? o->trials : by_mode(o, 3, 5, 11);
    long tasks = c->tasks;
    /* multiprocessing.Pool.map's default: about four chunks per worker */
    long python_chunk = (tasks + 4 * o->workers - 1) / (4 * o->workers);
    long chunks[64];
    int count = 0;
    for (long n = 1; n < tasks; n *= 2)
        chunks[count++] = n;
    chunks[count++] = tasks;
    bool have_python = false;
    for (int i = 0; i < count; i++)
        have_python |= chunks[i] == python_chunk;
    if (!have_python)
        chunks[count++] = python_chunk;
    qsort(chunks, (size_t)count, sizeof *chunks, compare_longs);

    uint64_t *expected = expected_results(TASK_SPIN, TINY_SPINS, tasks);
    double task_us = 1e300;           /* the fastest of 5 in-process runs: the ideal is a bound */
    for (int r = 0; r < 5; r++) {
        uint64_t start = now_ns();
        for (long k = 0; k < tasks; k++)
            keep(spin_task(k, TINY_SPINS));
        double us = (double)(now_ns() - start) / 1e3 / (double)tasks;
        task_us = us < task_us ? us : task_us;
    }
    /* free messages: every worker (up to the CPUs) at in-process speed */
    double ideal = (double)(o->workers < online_cpus() ? o->workers : online_cpus()) / task_us * 1e3;
    FILE *tsv = tsv_open_noted(o, "chunksize", "chunk",
                               "tasks=%ld python_default_chunk=%ld task_us=%.4g ideal_ktasks_per_s=%.6g",
                               tasks, python_chunk, task_us, ideal);

    printf("\nchunksize: %ld tiny tasks (%.2f us each in-process) through a pool of %ld, chunk size "
           "1 .. T (%ld trials)\n", tasks, task_us, o->workers, trials);
    printf("  %-16s %10s %10s %10s %10s  %s\n", "variant", "chunk", "median", "min", "max", "unit");
    struct pool *p = pool_create((int)o->workers);
    struct chunk_trial t = {p, tasks, 1, expected, new_results(tasks), {0}};
    struct stats first = {0}, best = {0}, python = {0}, whole = {0};
    long best_chunk = 1;
    for (int i = 0; i < count; i++) {
        t.chunk = chunks[i];
        if (o->mode != MODE_QUICK)
            progress("chunksize: chunk %ld (%d of %d)", chunks[i], i + 1, count);
        struct stats s = measure(time_chunked_map, &t, trials);
        char x[24];
        snprintf(x, sizeof x, "%ld", chunks[i]);
        print_row(chunks[i] == python_chunk ? "pool (Python's)" : "pool", x, s, "ktasks/s");
        tsv_row(tsv, "pool", (double)chunks[i], "ktasks/s", s);
        write_worker_counts("chunksize", "pool", (double)chunks[i], &t.counts);
        if (i == 0)
            first = s;
        if (s.median > best.median) {
            best = s;
            best_chunk = chunks[i];
        }
        if (chunks[i] == python_chunk)
            python = s;
        whole = s;
    }
    print_worker_counts("chunk T", &t.counts);
    pool_destroy(p);
    tsv_close(tsv);
    free(expected);
    free(t.results);
    printf("  -> chunk 1: %.1f us of wall time per task (a message round trip each); best chunk %ld: "
           "%.2f us, %.1fx the throughput;\n     chunk T puts all the work on one worker (%.2fx the best); "
           "Python's default chunk %ld reaches %.0f%% of the best;\n     ideal (min(workers, CPUs) at in-process speed) %.0f ktasks/s.\n",
           1e3 / first.median, best_chunk, 1e3 / best.median, best.median / first.median,
           whole.median / best.median, python_chunk, 100 * python.median / best.median, ideal);
}

/* ---------- experiment 3: overhead ---------- */

struct overhead_point {
    int workers;
    struct stats start, stop, total;
};

static void measure_start_stop(struct overhead_point *pt, long trials)
{
    double *start = malloc((size_t)trials * sizeof *start), *stop = malloc((size_t)trials * sizeof *stop),
           *total = malloc((size_t)trials * sizeof *total);
    if (!start || !stop || !total)
        die_errno("malloc");
    for (long t = -1; t < trials; t++) {        /* t = -1: the warm-up */
        exit_if_stopped();
        uint64_t t0 = now_ns();
        struct pool *p = pool_create(pt->workers);
        uint64_t t1 = now_ns();
        pool_destroy(p);
        uint64_t t2 = now_ns();
        if (t >= 0) {
            start[t] = (double)(t1 - t0) / 1e3;
            stop[t] = (double)(t2 - t1) / 1e3;
            total[t] = (double)(t2 - t0) / 1e3;
        }
    }
    pt->start = stats_of(start, (size_t)trials);
    pt->stop = stats_of(stop, (size_t)trials);
    pt->total = stats_of(total, (size_t)trials);
    free(start);
    free(stop);
    free(total);
}

/* Two variants measured in alternation (A B A B ...), so a burst of load from
 * elsewhere on the machine falls on both instead of on whichever ran then. */
static void measure_pair(trial_fn a, trial_fn b, void *ctx, long trials, struct stats *sa, struct stats *sb)
{
    double *xa = malloc((size_t)trials * sizeof *xa), *xb = malloc((size_t)trials * sizeof *xb);
    if (!xa || !xb)
        die_errno("malloc");
    a(ctx);                                     /* warm-up, untimed */
    b(ctx);
    for (long t = 0; t < trials; t++) {
        exit_if_stopped();
        xa[t] = a(ctx);
        xb[t] = b(ctx);
    }
    *sa = stats_of(xa, (size_t)trials);
    *sb = stats_of(xb, (size_t)trials);
    free(xa);
    free(xb);
}

/* Least squares: y = fixed + per_worker * x. */
static void fit_line(const double *x, const double *y, int n, double *fixed, double *per_worker)
{
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i] / n;
        my += y[i] / n;
    }
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    *per_worker = sxx > 0 ? sxy / sxx : 0;
    *fixed = my - *per_worker * mx;
}

static void run_overhead(struct run_config *c)
{
    struct kit_opts *o = c->o;
    static const int sizes[] = {1, 2, 4, 8, 16};
    enum { SIZES = sizeof sizes / sizeof sizes[0] };
    long trials = o->trials ? o->trials : by_mode(o, 3, 20, 50);
    long tasks = by_mode(o, 50, 200, 1000);
    const uint64_t spins = 30000;

    /* pool of one vs a plain loop: the framework's own cost on the same work */
    uint64_t *expected = expected_results(TASK_SPIN, spins, tasks);
    struct map_trial t = {1, TASK_SPIN, spins, tasks, c->chunk, expected, new_results(tasks),
                          "pool-1", {0}};
    struct stats seq, one;
    measure_pair(time_sequential, time_pool_lifetime, &t, trials, &seq, &one);
    double framework_us = (one.median - seq.median) * (double)tasks;

    struct overhead_point points[SIZES];
    double x[SIZES], y[SIZES], fixed, per_worker;
    for (int i = 0; i < SIZES; i++) {
        points[i].workers = sizes[i];
        measure_start_stop(&points[i], trials);
        x[i] = sizes[i];
        y[i] = points[i].total.median;
    }
    fit_line(x, y, SIZES, &fixed, &per_worker);

    FILE *tsv = tsv_open_noted(o, "overhead", "workers",
                               "fit_fixed_us=%.6g fit_per_worker_us=%.6g tasks=%ld framework_us=%.6g",
                               fixed, per_worker, tasks, framework_us);
    printf("\noverhead: pool of 1 (create + map with chunk %ld + destroy) vs a plain loop, %ld tasks "
           "of ~%.0f us; then pool start and stop (%ld trials)\n", c->chunk, tasks, seq.median, trials);
    print_heading("workers");
    print_row("sequential", "-", seq, "us/task");
    print_row("pool-1", "1", one, "us/task");
    tsv_row(tsv, "sequential", 1, "us/task", seq);
    tsv_row(tsv, "pool-1", 1, "us/task", one);
    print_worker_counts("pool-1", &t.counts);
    write_worker_counts("overhead", "pool-1", 1, &t.counts);
    for (int i = 0; i < SIZES; i++) {
        char n[16];
        snprintf(n, sizeof n, "%d", sizes[i]);
        print_row("start", n, points[i].start, "us");
        print_row("stop", n, points[i].stop, "us");
        print_row("start+stop", n, points[i].total, "us");
        tsv_row(tsv, "start", sizes[i], "us", points[i].start);
        tsv_row(tsv, "stop", sizes[i], "us", points[i].stop);
        tsv_row(tsv, "start+stop", sizes[i], "us", points[i].total);
    }
    tsv_close(tsv);
    free(expected);
    free(t.results);
    double per_message_us = (framework_us - points[0].total.median) / (double)tasks;
    if (framework_us > points[0].total.median)
        printf("  -> a pool of 1 costs %.0f us more than the plain loop for %ld tasks: %.0f us to start "
               "and stop it, %.1f us per task\n     for the chunk's round trip;", framework_us, tasks,
               points[0].total.median, per_message_us);
    else
        printf("  -> a pool of 1 vs the plain loop: %.0f us apart for %ld tasks, less than the %.0f us "
               "start+stop of one worker:\n     the trials' spread (other load) hides the pool's cost;",
               framework_us, tasks, points[0].total.median);
    printf(" start+stop = %.0f us fixed + %.0f us per worker\n     (least squares over N = 1..16): %s\n",
           fixed, per_worker,
           fixed < per_worker ? "the fixed part is less than one worker's, so the cost is the forks."
                              : "the fixed part is more than one worker's: set-up done once dominates.");
}

/* ---------- experiment 4: shell-pools ---------- */

static bool find_in_path(const char *name, char *path, size_t len)
{
    const char *dirs = getenv("PATH");
    if (!dirs || !*dirs)
        dirs = "/usr/bin:/bin";
    while (*dirs) {
        const char *end = strchr(dirs, ':');
        size_t n = end ? (size_t)(end - dirs) : strlen(dirs);
        if (snprintf(path, len, "%.*s/%s", (int)n, dirs, name) < (int)len && access(path, X_OK) == 0)
            return true;
        dirs += n + (end ? 1 : 0);
    }
    return false;
}

struct shell_trial {
    char *const *argv;          /* the tool's command line; the task numbers go to its stdin */
    long tasks;
    const uint64_t *expected;
};

/* Runs one tool over T task numbers, reads back the 'K VALUE' lines, checks each once. */
static double time_shell_tool(void *ctx)
{
    struct shell_trial *t = ctx;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
        die_errno("pipe2");
    size_t input_len = (size_t)t->tasks * 12 + 1, used = 0;
    char *input = malloc(input_len), *output = malloc((size_t)t->tasks * 32 + 1);
    bool *seen = calloc((size_t)t->tasks, sizeof *seen);
    if (!input || !output || !seen)
        die_errno("malloc");
    for (long k = 0; k < t->tasks; k++)
        used += (size_t)snprintf(input + used, input_len - used, "%ld\n", k);

    uint64_t start = now_ns();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        become_pool_worker();
        setpgid(0, 0);                      /* its own group: cleanup kills its jobs too */
        if (dup2(in[0], STDIN_FILENO) == -1 || dup2(out[1], STDOUT_FILENO) == -1)
            _exit(126);
        execv(t->argv[0], t->argv);
        _exit(127);
    }
    setpgid(pid, pid);                      /* both sides, so it holds whoever runs first */
    track_child_as(pid, true);   /* a group leader: killed with its group */
    close_fd(in[0]);
    close_fd(out[1]);
    /* the whole input fits in the pipe (T <= 4000 lines), so this cannot wait on the tool */
    bool sent = write_all(in[1], input, used);
    close_fd(in[1]);
    size_t got = read_all(out[0], output, (size_t)t->tasks * 32);
    char extra[512];
    bool more = false;
    while (read_all(out[0], extra, sizeof extra) > 0)   /* unexpected output: drain, then fail */
        more = true;
    close_fd(out[0]);
    int status = reap_child(pid);
    double elapsed = (double)(now_ns() - start);
    if (!sent || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[96];
        die("%s %s", t->argv[0], status_text(status, how, sizeof how));
    }
    if (more)
        verification_failed("%s printed more than %ld result lines", t->argv[0], t->tasks);
    output[got] = '\0';
    long lines = 0;
    for (char *line = strtok(output, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        long k;
        unsigned long long value;
        if (sscanf(line, "%ld %llu", &k, &value) != 2 || k < 0 || k >= t->tasks)
            verification_failed("%s printed '%s', not 'TASK VALUE'", t->argv[0], line);
        if (seen[k])
            verification_failed("%s ran task %ld twice", t->argv[0], k);
        if (value != t->expected[k])
            verification_failed("%s: task %ld printed %llu, expected %llu", t->argv[0], k, value,
                                (unsigned long long)t->expected[k]);
        seen[k] = true;
    }
    if (lines != t->tasks)
        verification_failed("%s ran %ld of %ld tasks", t->argv[0], lines, t->tasks);
    free(input);
    free(output);
    free(seen);
    return elapsed / 1e3 / (double)t->tasks;
}

static void run_shell_pools(struct run_config *c)
{
    struct kit_opts *o = c->o;
    long trials = o->trials ? o->trials : by_mode(o, 1, 3, 5);
    long tasks = by_mode(o, 10, 200, 1000);
    int workers = (int)o->workers;
    char workers_text[16], xargs[PATH_MAX], parallel[PATH_MAX];
    snprintf(workers_text, sizeof workers_text, "%d", workers);
    uint64_t *expected = expected_results(TASK_EXEC, 0, tasks);
    FILE *tsv = tsv_open_noted(o, "shell-pools", "workers", "jobs=%ld chunk=%ld", tasks, c->chunk);
    struct stats s_xargs = {0}, s_parallel = {0}, s_exec, s_call;

    printf("\nshell-pools: %ld tiny jobs ('ch02-pool --tiny-job K', or the same work as a function "
           "call), %d at a time (%ld trials)\n", tasks, workers, trials);
    print_heading("workers");
    if (find_in_path("xargs", xargs, sizeof xargs)) {
        char *argv[] = {xargs, "-P", workers_text, "-n", "1", self_path, "--tiny-job", NULL};
        struct shell_trial t = {argv, tasks, expected};
        s_xargs = measure(time_shell_tool, &t, trials);
        print_row("xargs -P", workers_text, s_xargs, "us/job");
        tsv_row(tsv, "xargs", workers, "us", s_xargs);
    } else {
        printf("  %-16s %10s  skipped: xargs is not installed\n", "xargs -P", workers_text);
    }
    if (find_in_path("parallel", parallel, sizeof parallel)) {
        char *argv[] = {parallel, "--will-cite", "-j", workers_text, self_path, "--tiny-job", NULL};
        struct shell_trial t = {argv, tasks, expected};
        if (o->mode != MODE_QUICK)
            progress("shell-pools: GNU parallel");
        s_parallel = measure(time_shell_tool, &t, trials);
        print_row("parallel", workers_text, s_parallel, "us/job");
        tsv_row(tsv, "parallel", workers, "us", s_parallel);
    } else {
        printf("  %-16s %10s  skipped: GNU parallel is not installed (apt-get install parallel)\n",
               "parallel", workers_text);
    }
    struct map_trial t = {workers, TASK_EXEC, 0, tasks, c->chunk, expected, new_results(tasks),
                          "pool-exec", {0}};
    s_exec = measure(time_pool_lifetime, &t, trials);
    print_row("pool-exec", workers_text, s_exec, "us/job");
    tsv_row(tsv, "pool-exec", workers, "us", s_exec);
    write_worker_counts("shell-pools", "pool-exec", workers, &t.counts);
    t.task = TASK_SPIN;
    t.arg = TINY_SPINS;
    t.variant = "pool-call";
    s_call = measure(time_pool_lifetime, &t, trials);
    print_row("pool-call", workers_text, s_call, "us/job");
    tsv_row(tsv, "pool-call", workers, "us", s_call);
    print_worker_counts("pool-call", &t.counts);
    write_worker_counts("shell-pools", "pool-call", workers, &t.counts);
    tsv_close(tsv);
    free(expected);
    free(t.results);
    printf("  -> per job: ");
    if (s_xargs.n)
        printf("xargs %.0f us, ", s_xargs.median);
    if (s_parallel.n)
        printf("GNU parallel %.0f us, ", s_parallel.median);
    printf("this pool running the program %.0f us, calling it as a function %.1f us;\n"
           "     starting a program per job costs %.0fx handing a function to a live worker",
           s_exec.median, s_call.median, s_exec.median / s_call.median);
    if (s_parallel.n && s_xargs.n && s_parallel.median > s_xargs.median)
        printf(", and parallel adds %.0f us per job\n     of its own (a Perl program: its start-up, "
               "spread over %ld jobs, and its per-job bookkeeping)", s_parallel.median - s_xargs.median, tasks);
    printf(".\n");
}

/* ---------- plumbing ---------- */

static long parse_switch(int argc, char **argv, int *i, const char *name, long max)
{
    return (long)parse_count(name, option_value(argc, argv, i, name), 0, max);
}

int main(int argc, char **argv)
{
    /* The tiny job xargs and parallel run: nothing else, as fast as it can start. */
    if (argc == 3 && strcmp(argv[1], "--tiny-job") == 0) {
        kit_prog = "ch02-pool";
        kit_usage = usage;
        print_tiny_job((long)parse_count("--tiny-job", argv[2], 0, LONG_MAX));
    }
    struct kit_opts o = kit_defaults("ch02-pool", usage, argc, argv);
    struct run_config c = {&o, 1, 0};
    const char *tasks_text = NULL;

    for (int i = 1; i < argc; i++) {
        if (is_opt(argv[i], "--workers"))       /* before the standard option: a tighter limit */
            o.workers = (long)parse_count("--workers", option_value(argc, argv, &i, "--workers"), 1, MAX_WORKERS);
        else if (kit_std_option(&o, argc, argv, &i))
            continue;
        else if (is_opt(argv[i], "--tasks"))
            tasks_text = option_value(argc, argv, &i, "--tasks");
        else if (is_opt(argv[i], "--chunk"))
            c.chunk = (long)parse_count("--chunk", option_value(argc, argv, &i, "--chunk"), 1, 1000000);
        else if (is_opt(argv[i], "--kill-task"))
            kill_task = parse_switch(argc, argv, &i, "--kill-task", 1000000);
        else if (is_opt(argv[i], "--corrupt-task"))
            corrupt_task = parse_switch(argc, argv, &i, "--corrupt-task", 1000000);
        else
            die_usage("unknown option '%s'", argv[i]);
    }
    check_only(&o, experiments, sizeof experiments / sizeof experiments[0]);
    c.tasks = tasks_text ? (long)parse_count("--tasks", tasks_text, 1, 1000000)
                         : (long)by_mode(&o, 2000, 20000, 100000);
    if (o.workers > MAX_WORKERS)        /* the online-CPU default on a very large machine */
        o.workers = MAX_WORKERS;
    /* two pipe ends per worker stay open in the parent; the overhead experiment goes to 16 */
    struct rlimit files;
    long need = 2 * (o.workers > 16 ? o.workers : 16) + 32;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
        (rlim_t)need > files.rlim_cur)
        die_usage("--workers: %ld workers need %ld open files, ulimit -n allows %llu", o.workers, need,
                  (unsigned long long)files.rlim_cur);
    ssize_t len = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (len == -1)
        die_errno("readlink /proc/self/exe");
    self_path[len] = '\0';
    prepare_out_dir(&o);
    parent_pid = getpid();
    catch_stop_signals(kill_children);
    if (atexit(kill_children) != 0)
        die("atexit failed");
    signal(SIGPIPE, SIG_IGN);       /* a dead worker's pipe gives EPIPE, which we report */

    worker_pin = o.pin;
    if (o.pin == PIN_SAME)
        pin_to_cpu(0);
    print_run_header(&o, "how do pools and batching amortize the cost of starting a process?");
    printf("placement: %s\n", pin_name(o.pin));
    report_effective_cpus(&o, (uint64_t)by_mode(&o, 2000000, 20000000, 50000000));
    workers_tsv = tsv_open_table(&o, "workers", "experiment\tvariant\tx\tworker\ttasks\tchunks\tmap_tasks");

    if (wanted(&o, "per-task-vs-pool"))
        run_per_task_vs_pool(&c);
    if (wanted(&o, "chunksize"))
        run_chunksize(&c);
    if (wanted(&o, "overhead"))
        run_overhead(&c);
    if (wanted(&o, "shell-pools"))
        run_shell_pools(&c);
    tsv_close(workers_tsv);
    printf("\nverification: every map equals a sequential map, every task came back once from the "
           "worker given it,\n  per-worker task counts agree between parent and worker and sum to T.\n"
           "TSV files: %s/ch02-*.tsv\n", o.out_dir);
    return 0;
}
