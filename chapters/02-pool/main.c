/* ch02-pool - how do pools and batching amortize the cost of starting a process? The driver:
 * options, experiments, tables and conclusions; the pool is in pool.c (read it first).
 *
 * Usage: see `usage` below. Exit: 0 ok, 1 runtime or verification failure (or a worker died),
 * 2 usage error. Sample output line (chunksize):  pool   64   1840   1702.9   1911  ktasks/s
 * Sizes come from a time budget where a fixed count can blow up (T per task load and shell
 * jobs from a first timed map, start/stop trials counted while they run), and each heading
 * says what was chosen; --trials N and --tasks T fix them; a test switch fixes every size at
 * the mode's count, so that the task it names exists.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>

#include "report.h"
#include "pool.h"

static const char usage[] =
    "Usage: ch02-pool [--quick | --full] [--only per-task-vs-pool|chunksize|overhead|shell-pools]\n"
    "                 [--tasks T] [--chunk N] [--trials N] [--workers N] [--pin none|same|spread]\n"
    "                 [--out DIR]\n"
    "How do pools and batching amortize the cost of starting a process? (Linux only)\n"
    "  --tasks T        tiny tasks in the chunksize experiment (1..1000000;\n"
    "                   default: what fits the time budget, at most 2000 quick, 20000 default,\n"
    "                   100000 full)\n"
    "  --chunk N        chunk size of the pool maps in per-task-vs-pool, overhead and\n"
    "                   shell-pools (1..1000000; default 1, like ProcessPoolExecutor.map)\n"
    "  --workers N      pool size (1..256; default: online CPUs)\n"
    "Test switches (make a failure happen on purpose; sizes are then the mode's full counts,\n"
    "and K must name a task that runs: 0 to the largest T of the experiments run, minus 1):\n"
    "  --kill-task K    the process given task K (pool worker or per-task child) kills itself\n"
    "                   with SIGKILL before running it\n"
    "  --corrupt-task K the process given task K returns a wrong value for it\n"
    "  --tiny-job K     run one tiny job and print 'K VALUE' (what xargs and parallel run)\n"
    "Writes results/ch02-{per-task-vs-pool,chunksize,overhead,shell-pools,workers}.tsv;\n"
    "ch02-workers.tsv has the columns experiment, variant, x, worker, tasks, chunks, map_tasks\n"
    "(the tasks each worker ran in the last map of a point; tasks sums to map_tasks).\n";

struct run_config {
    struct kit_opts *o;
    struct pool_config pool;
    long chunk;                 /* --chunk: the pool maps outside the chunksize sweep */
    long tasks;                 /* --tasks (0: from the budget): the chunksize experiment */
    bool fixed_sizes;           /* a test switch is on: the mode's counts, no budget */
    char self_path[PATH_MAX];
    FILE *workers_tsv;          /* ch02-workers.tsv */
};

/* The most tasks the maps of an experiment hold in quick, default and full mode (shell-pools:
 * jobs); with a test switch on they hold exactly these, so the task it names exists. */
static const long chunksize_most[3] = {2000, 20000, 100000}, overhead_tasks[3] = {50, 200, 1000},
                  shell_jobs_most[3] = {10, 200, 1000};

static long in_mode(const struct kit_opts *o, const long counts[3])
{
    return by_mode(o, counts[0], counts[1], counts[2]);
}

/* ---------- results and their checks ---------- */

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
        verification_failed("the workers ran %ld tasks between them, the map had %ld", sum,
                            map_tasks);
}

static void write_worker_counts(const struct run_config *c, const char *experiment,
                                const char *variant, double x, const struct worker_counts *n)
{
    for (int w = 0; w < n->size; w++)
        fprintf(c->workers_tsv, "%s\t%s\t%g\t%d\t%ld\t%ld\t%ld\n", experiment, variant, x, w,
                n->tasks[w], n->chunks[w], n->map_tasks);
}

static void print_worker_counts(const char *what, const struct worker_counts *n)
{
    printf("  %-22s tasks per worker:", what);
    for (int w = 0; w < n->size && w < 16; w++)
        printf(" %ld", n->tasks[w]);
    printf("%s (sum = T = %ld)\n", n->size > 16 ? " ..." : "", n->map_tasks);
}

/* ---------- the trials: one map each, checked against a sequential map ---------- */

struct map_trial {
    const struct run_config *c;
    int workers;
    enum task_kind task;
    uint64_t arg;
    long tasks, chunk;
    uint64_t *expected, *results;
    const char *variant;            /* names the map in a failed check (shell-pools: its row) */
    struct pool *pool;              /* the live pool a chunked map runs on; NULL otherwise */
    struct worker_counts counts;    /* of the last map */
};

/* A map of T tasks by `workers`, each task TASK_SPIN with `arg` spins or TASK_EXEC (the tiny
 * job as a program), with the answers a sequential map gives: task k of either kind computes
 * spin_task(k, spins). */
static struct map_trial new_map_trial(const struct run_config *c, const char *variant,
                                      int workers, enum task_kind task, uint64_t arg, long tasks,
                                      long chunk)
{
    size_t bytes = (size_t)tasks * sizeof(uint64_t);
    struct map_trial t = {c, workers, task, arg, tasks, chunk, calloc(1, bytes), calloc(1, bytes),
                          variant, NULL, {0}};
    if (!t.expected || !t.results)
        die_errno("calloc");
    for (long k = 0; k < tasks; k++)
        t.expected[k] = spin_task(k, task == TASK_EXEC ? TINY_SPINS : arg);
    return t;
}

static void free_map_trial(struct map_trial *t)
{
    free(t->expected);
    free(t->results);
}

/* Clears the last trial's answers (a task this map skips must not pass on them), then reads
 * the clock. */
static uint64_t start_map(struct map_trial *t)
{
    memset(t->results, 0, (size_t)t->tasks * sizeof *t->results);
    return now_ns();
}

/* Wall time per task since `start`, in us; then every answer is checked. */
static double checked_us_per_task(const struct map_trial *t, const char *what, uint64_t start)
{
    double us = (double)(now_ns() - start) / 1e3 / (double)t->tasks;
    for (long k = 0; k < t->tasks; k++)
        if (t->results[k] != t->expected[k])
            verification_failed("%s: task %ld returned %#llx, a sequential map gives %#llx",
                                what, k, (unsigned long long)t->results[k],
                                (unsigned long long)t->expected[k]);
    return us;
}

static double time_sequential(void *ctx)
{
    struct map_trial *t = ctx;
    uint64_t start = start_map(t);
    for (long k = 0; k < t->tasks; k++)
        t->results[k] = spin_task(k, t->arg);
    return checked_us_per_task(t, "sequential", start);
}

static double time_per_task(void *ctx)
{
    struct map_trial *t = ctx;
    uint64_t start = start_map(t);
    per_task_map(&t->c->pool, t->workers, t->arg, t->tasks, t->results);
    return checked_us_per_task(t, "per-task", start);
}

/* One map by a pool: the live t->pool (chunksize), or one created and destroyed around the
 * map, the whole life of a pool, as `with Pool(N) as p: p.map(...)` pays it. */
static double time_pool_map(void *ctx)
{
    struct map_trial *t = ctx;
    uint64_t start = start_map(t);
    struct pool *p = t->pool ? t->pool : pool_create(t->workers, &t->c->pool);
    pool_map(p, t->task, t->arg, t->tasks, t->chunk, t->results);
    take_worker_counts(p, t->tasks, &t->counts);
    if (p != t->pool)
        pool_destroy(p);
    return checked_us_per_task(t, t->variant, start);
}

/* The same as throughput, in ktasks/s. */
static double time_chunked_map(void *ctx)
{
    return 1e3 / time_pool_map(ctx);
}

/* T for one experiment: what fits `budget_s` when one task costs `task_s` in each of `runs`
 * runs, at least `least`. (With a test switch on, callers take the mode's count instead and
 * run no probe, so that the task it names runs where the switch promises.) */
static long tasks_within(double budget_s, double task_s, long runs, long least, long most)
{
    return count_within(budget_s / (double)runs, task_s, least < most ? least : most, most);
}

/* What a fresh process per task costs here, in seconds: a short per-task map, timed. */
static double per_task_cost_s(const struct run_config *c, uint64_t spins)
{
    struct map_trial t = new_map_trial(c, "per-task", (int)c->o->workers, TASK_SPIN, spins,
                                       2 * c->o->workers, 1);
    double us = time_per_task(&t);
    free_map_trial(&t);
    return us / 1e6;
}

/* ---------- experiment 1: per-task-vs-pool ---------- */

static const struct load {
    const char *name;
    uint64_t spins;
    long tasks[3];              /* at most: quick, default, full */
} loads[] = {
    {"light", 300, {100, 2000, 10000}},
    {"medium", 30000, {40, 500, 2000}},
    {"heavy", 300000, {10, 100, 400}},
};
enum { LOADS = sizeof loads / sizeof loads[0] };

/* One task load: sequential, per-task and pool, and the speedup; x = the task's time. */
static double per_task_point(struct run_config *c, struct report *r, const struct load *l,
                             long trials)
{
    const struct kit_opts *o = c->o;
    long most = in_mode(o, l->tasks);
    long tasks = c->fixed_sizes ? most
                 : tasks_within(budget_for(o, 0.5, 2.5), per_task_cost_s(c, l->spins),
                                2 * (trials + 1), 4 * o->workers, most);
    struct map_trial t = new_map_trial(c, "pool", (int)o->workers, TASK_SPIN, l->spins, tasks,
                                       c->chunk);
    struct stats seq = measure(time_sequential, &t, trials);
    progress("per-task-vs-pool: %s tasks (%.3g us each), T = %ld", l->name, seq.median, tasks);
    struct stats fresh = measure(time_per_task, &t, trials);
    struct stats pooled = measure(time_pool_map, &t, trials);
    report_add(r, "sequential", seq.median, "us", seq);
    report_comment(r, "%s tasks, T = %ld", l->name, tasks);
    report_add(r, "per-task", seq.median, "us", fresh);
    report_add(r, "pool", seq.median, "us", pooled);
    report_add(r, "speedup", seq.median, "x", ratio_of(fresh, pooled));
    report_comment(r, "per-task / pool");
    print_worker_counts("pool", &t.counts);
    write_worker_counts(c, "per-task-vs-pool", "pool", seq.median, &t.counts);
    free_map_trial(&t);
    return seq.median;
}

static void run_per_task_vs_pool(struct run_config *c)
{
    long trials = trials_for(c->o, 3, 5, 11);
    double task_us[LOADS];
    struct report r;
    report_start(&r, c->o, "per-task-vs-pool", "task_us");
    report_note(&r, "workers=%ld chunk=%ld", c->o->workers, c->chunk);
    printf("\nper-task-vs-pool: T tasks as a fresh process each vs a pool of %ld (create + map "
           "with chunk %ld + destroy);\n  wall time per task in us (%ld trials; T fits the "
           "budget)\n", c->o->workers, c->chunk, trials);
    for (int l = 0; l < LOADS; l++)
        task_us[l] = per_task_point(c, &r, &loads[l], trials);
    report_print(&r);
    report_write(&r);
    double light = median_of(&r, "speedup", task_us[0]);
    double heavy = median_of(&r, "speedup", task_us[LOADS - 1]);
    printf("  -> a process per task took %.1fx the pool's time for %.2f us tasks, %.2fx for "
           "%.0f us tasks:\n     %s\n", light, task_us[0], heavy, task_us[LOADS - 1],
           heavy < light ? "a fork per task only matters while the task is not much longer "
                           "than the fork."
                         : "here the pool's advantage did not shrink with longer tasks.");
    report_free(&r);
}

/* ---------- experiment 2: chunksize ---------- */

/* 1, 2, 4, ... below T, then T; Python's default chunk (1..T) in its place if not among them. */
static int chunk_sizes(long tasks, long python_chunk, long *chunks)
{
    int count = 0;
    for (long n = 1;; n = 2 * n < tasks ? 2 * n : tasks) {
        if (python_chunk < n && chunks[count - 1] < python_chunk)   /* 1 <= python_chunk */
            chunks[count++] = python_chunk;
        chunks[count++] = n;
        if (n == tasks)
            return count;
    }
}

/* T for the sweep: --tasks, or what fits the budget at chunk 1's round trip per task (the
 * whole sweep costs about three chunk-1 maps per trial). */
static long chunksize_tasks(const struct run_config *c, struct pool *p, long trials)
{
    const struct kit_opts *o = c->o;
    long most = in_mode(o, chunksize_most), probe = most < 500 ? most : 500;
    if (c->tasks || c->fixed_sizes)
        return c->tasks ? c->tasks : most;
    struct map_trial t = new_map_trial(c, "chunksize", p->size, TASK_SPIN, TINY_SPINS, probe, 1);
    t.pool = p;
    double task_s = time_pool_map(&t) / 1e6;
    free_map_trial(&t);
    return tasks_within(budget_for(o, 0.8, 5.0), task_s, 3 * (trials + 1), probe, most);
}

static void chunksize_conclusion(const struct report *r, long tasks, long python_chunk,
                                 double ideal)
{
    const struct report_row *top = report_best(r, "pool", true);
    double first = median_of(r, "pool", 1), best = top->s.median, best_chunk = top->x;
    printf("  -> chunk 1: %.1f us of wall time per task (a message round trip each); best chunk "
           "%.0f: %.2f us, %.1fx the throughput;\n     chunk T puts all the work on one worker "
           "(%.2fx the best); Python's default chunk %ld reaches %.0f%% of the best;\n     ideal "
           "(min(workers, CPUs) at in-process speed) %.0f ktasks/s.\n", 1e3 / first, best_chunk,
           1e3 / best, best / first, median_of(r, "pool", tasks) / best, python_chunk,
           100 * median_of(r, "pool", python_chunk) / best, ideal);
}

static void run_chunksize(struct run_config *c)
{
    struct kit_opts *o = c->o;
    long trials = trials_for(o, 3, 5, 11), chunks[64];
    struct pool *p = pool_create((int)o->workers, &c->pool);
    long tasks = chunksize_tasks(c, p, trials);
    /* multiprocessing.Pool.map's default: about four chunks per worker */
    long python_chunk = (tasks + 4 * o->workers - 1) / (4 * o->workers);
    int count = chunk_sizes(tasks, python_chunk, chunks);
    struct map_trial t = new_map_trial(c, "chunksize", p->size, TASK_SPIN, TINY_SPINS, tasks, 1);
    t.pool = p;
    double task_us = measure(time_sequential, &t, 5).min;   /* in-process: the ideal's bound */
    /* free messages: every worker (up to the CPUs) at in-process speed */
    double ideal = (double)(o->workers < online_cpus() ? o->workers : online_cpus()) / task_us
                   * 1e3;
    struct report r;
    report_start(&r, o, "chunksize", "chunk");
    report_note(&r, "tasks=%ld python_default_chunk=%ld task_us=%.4g ideal_ktasks_per_s=%.6g",
                tasks, python_chunk, task_us, ideal);
    printf("\nchunksize: %ld tiny tasks (%.2f us each in-process) through a pool of %ld, chunk "
           "size 1 .. T (%ld trials)\n", tasks, task_us, o->workers, trials);
    for (int i = 0; i < count; i++) {
        t.chunk = chunks[i];
        if (o->mode != MODE_QUICK)
            progress("chunksize: chunk %ld (%d of %d)", chunks[i], i + 1, count);
        report_add(&r, "pool", (double)chunks[i], "ktasks/s", measure(time_chunked_map, &t,
                                                                      trials));
        if (chunks[i] == python_chunk)
            report_comment(&r, "Python's default");
        write_worker_counts(c, "chunksize", "pool", (double)chunks[i], &t.counts);
    }
    pool_destroy(p);
    report_print(&r);
    report_write(&r);
    print_worker_counts("chunk T", &t.counts);
    chunksize_conclusion(&r, tasks, python_chunk, ideal);
    report_free(&r);
    free_map_trial(&t);
}

/* ---------- experiment 3: overhead ---------- */

/* Start and stop of a pool of `workers`, timed apart: as many trials as fit the budget. */
static void measure_start_stop(const struct run_config *c, struct report *r, int workers,
                               double budget_s, long most_trials)
{
    long least = c->o->trials ? c->o->trials : 3;
    long count = c->o->trials ? c->o->trials : most_trials;
    double *x = malloc(3 * (size_t)count * sizeof *x);     /* start, stop, start+stop */
    if (!x)
        die_errno("malloc");
    long n = 0;
    uint64_t begin = now_ns();
    for (long t = -1; t < count && (t < least || seconds_since(begin) < budget_s); t++) {
        exit_if_stopped();                      /* t = -1: the warm-up */
        uint64_t t0 = now_ns();
        struct pool *p = pool_create(workers, &c->pool);
        uint64_t t1 = now_ns();
        pool_destroy(p);
        uint64_t t2 = now_ns();
        if (t >= 0) {
            x[n] = (double)(t1 - t0) / 1e3;
            x[count + n] = (double)(t2 - t1) / 1e3;
            x[2 * count + n++] = (double)(t2 - t0) / 1e3;
        }
    }
    report_add(r, "start", workers, "us", stats_of(x, (size_t)n));
    report_add(r, "stop", workers, "us", stats_of(x + count, (size_t)n));
    report_add(r, "start+stop", workers, "us", stats_of(x + 2 * count, (size_t)n));
    free(x);
}

/* Least squares over the start+stop rows: y = fixed + per_worker * x. */
static void fit_line(const struct report *r, double *fixed, double *per_worker)
{
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < r->count; i++) {
        const struct report_row *row = &r->rows[i];
        if (strcmp(row->variant, "start+stop") == 0) {
            n++;
            sx += row->x;
            sy += row->s.median;
            sxx += row->x * row->x;
            sxy += row->x * row->s.median;
        }
    }
    double spread = n * sxx - sx * sx;
    *per_worker = spread > 0 ? (n * sxy - sx * sy) / spread : 0;
    *fixed = (sy - *per_worker * sx) / n;
}

static void overhead_conclusion(const struct report *r, long tasks, double fixed,
                                double per_worker)
{
    double framework_us = (median_of(r, "pool-1", 1) - median_of(r, "sequential", 1)) * tasks;
    double one = median_of(r, "start+stop", 1);
    if (framework_us > one)
        printf("  -> a pool of 1 costs %.0f us more than the plain loop for %ld tasks: %.0f us "
               "to start and stop it, %.1f us per task\n     for the chunk's round trip;",
               framework_us, tasks, one, (framework_us - one) / (double)tasks);
    else
        printf("  -> a pool of 1 vs the plain loop: %.0f us apart for %ld tasks, less than the "
               "%.0f us start+stop of one worker:\n     the trials' spread (other load) hides "
               "the pool's cost;", framework_us, tasks, one);
    printf(" start+stop = %.0f us fixed + %.0f us per worker\n     (least squares over N = "
           "1..16): %s\n", fixed, per_worker,
           fixed < per_worker ? "the fixed part is less than one worker's: the cost is per "
                                "worker (its fork and the rest are not timed apart)."
                              : "the fixed part is more than one worker's: set-up done once "
                                "costs more than starting a worker.");
}

static void run_overhead(struct run_config *c)
{
    struct kit_opts *o = c->o;
    long tasks = in_mode(o, overhead_tasks), most_trials = by_mode(o, 3, 20, 50);
    double budget = budget_for(o, 0.6, 4.0);
    struct map_trial t = new_map_trial(c, "pool-1", 1, TASK_SPIN, 30000, tasks, c->chunk);
    uint64_t start = now_ns();               /* one pair, timed: how many fit a third */
    time_sequential(&t);
    time_pool_map(&t);
    long trials = o->trials ? o->trials
                            : count_within(budget / 3, seconds_since(start), 3, most_trials);
    struct stats seq, one;
    measure_alternating(time_sequential, time_pool_map, &t, trials, &seq, &one);
    struct report r;
    report_start(&r, o, "overhead", "workers");
    report_add(&r, "sequential", 1, "us/task", seq);
    report_add(&r, "pool-1", 1, "us/task", one);
    for (int workers = 1; workers <= 16; workers *= 2)
        measure_start_stop(c, &r, workers, budget * 2 / 15, most_trials);
    double fixed, per_worker;
    fit_line(&r, &fixed, &per_worker);
    report_note(&r, "fit_fixed_us=%.6g fit_per_worker_us=%.6g tasks=%ld framework_us=%.6g",
                fixed, per_worker, tasks, (one.median - seq.median) * (double)tasks);
    printf("\noverhead: pool of 1 (create + map with chunk %ld + destroy) vs a plain loop, %ld "
           "tasks of ~%.0f us (%ld trials);\n  then pool start and stop (trials fit the budget)\n",
           c->chunk, tasks, seq.median, trials);
    report_print(&r);
    report_write(&r);
    print_worker_counts("pool-1", &t.counts);
    write_worker_counts(c, "overhead", "pool-1", 1, &t.counts);
    overhead_conclusion(&r, tasks, fixed, per_worker);
    report_free(&r);
    free_map_trial(&t);
}

/* ---------- experiment 4: shell-pools ---------- */

/* A shell pool: xargs or GNU parallel, found in PATH (path "" when it is not installed). */
struct shell_tool {
    const char *name, *shown, *install;     /* in PATH; in the text; how to get it */
    char path[PATH_MAX];
    char *argv[8];                          /* argv[0] is `path` */
};

/* A tool running T jobs: the task numbers 0 .. T-1 on its stdin. */
struct shell_trial {
    char *const *argv;
    long tasks;
    const uint64_t *expected;
};

/* Starts the tool, gives it T task numbers, returns what it printed (up to 32 bytes a line). */
static char *run_shell_tool(const struct shell_trial *t)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
        die_errno("pipe2");
    size_t input_len = (size_t)t->tasks * 12 + 1, used = 0, limit = (size_t)t->tasks * 32;
    char *input = malloc(input_len), *output = malloc(limit + 1);
    if (!input || !output)
        die_errno("malloc");
    for (long k = 0; k < t->tasks; k++)
        used += (size_t)snprintf(input + used, input_len - used, "%ld\n", k);
    pid_t pid = start_program(t->argv, in[0], out[1]);    /* its own group: killed whole */
    close(in[0]);
    close(out[1]);
    /* the whole input fits in the pipe (T <= 4000 lines), so this cannot wait on the tool */
    bool sent = write_full(in[1], input, used);
    close(in[1]);
    size_t got = read_full(out[0], output, limit + 1);
    if (got > limit)        /* the exit kills the tool's whole group, so nothing waits on it */
        verification_failed("%s printed more than %ld result lines", t->argv[0], t->tasks);
    output[got] = '\0';
    close(out[0]);
    int status = reap_child(pid);
    if (!sent || !ended_ok(status))
        die_child(t->argv[0], 0, pid, status, "while running %ld jobs", t->tasks);
    free(input);
    return output;
}

/* Runs one tool over T task numbers, reads back the 'K VALUE' lines, checks each once. */
static double time_shell_tool(void *ctx)
{
    struct shell_trial *t = ctx;
    bool *seen = calloc((size_t)t->tasks, sizeof *seen);
    if (!seen)
        die_errno("calloc");
    uint64_t start = now_ns();
    char *output = run_shell_tool(t);
    double us = (double)(now_ns() - start) / 1e3 / (double)t->tasks;
    long lines = 0;
    for (char *line = strtok(output, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        long k;
        unsigned long long value;
        if (sscanf(line, "%ld %llu", &k, &value) != 2 || k < 0 || k >= t->tasks)
            verification_failed("%s printed '%s', not 'TASK VALUE'", t->argv[0], line);
        if (seen[k])
            verification_failed("%s ran task %ld twice", t->argv[0], k);
        if (value != t->expected[k])
            verification_failed("%s: task %ld printed %llu, expected %llu", t->argv[0], k,
                                value, (unsigned long long)t->expected[k]);
        seen[k] = true;
    }
    if (lines != t->tasks)
        verification_failed("%s ran %ld of %ld tasks", t->argv[0], lines, t->tasks);
    free(output);
    free(seen);
    return us;
}

static void find_tools(struct shell_tool tools[2], char *workers, char *self)
{
    tools[0] = (struct shell_tool){"xargs", "xargs", "", "",
                                   {NULL, "-P", workers, "-n", "1", self, "--tiny-job", NULL}};
    tools[1] = (struct shell_tool){"parallel", "GNU parallel", " (apt-get install parallel)", "",
                                   {NULL, "--will-cite", "-j", workers, self, "--tiny-job", NULL}};
    for (int i = 0; i < 2; i++) {
        find_in_path(tools[i].name, tools[i].path, sizeof tools[i].path);
        tools[i].argv[0] = tools[i].path;
    }
}

/* The tool's row, named after it, or a line saying it is not installed. */
static void shell_tool_row(struct run_config *c, struct report *r, struct shell_tool *tool,
                           const struct map_trial *jobs, long trials)
{
    if (!tool->path[0]) {
        printf("  %-22s skipped: %s is not installed%s\n", tool->name, tool->shown,
               tool->install);
        return;
    }
    struct shell_trial t = {tool->argv, jobs->tasks, jobs->expected};
    if (c->o->mode != MODE_QUICK)
        progress("shell-pools: %s", tool->name);
    report_add(r, tool->name, (double)c->o->workers, "us", measure(time_shell_tool, &t,
                                                                   trials));
}

static void pool_job_row(struct run_config *c, struct report *r, struct map_trial *t,
                         long trials)
{
    report_add(r, t->variant, t->workers, "us", measure(time_pool_map, t, trials));
    write_worker_counts(c, "shell-pools", t->variant, t->workers, &t->counts);
}

static void shell_pools_conclusion(const struct report *r, double workers, long tasks)
{
    double xargs = median_of(r, "xargs", workers), parallel = median_of(r, "parallel", workers);
    double exec = median_of(r, "pool-exec", workers), call = median_of(r, "pool-call", workers);
    printf("  -> per job: ");
    if (!isnan(xargs))
        printf("xargs %.0f us, ", xargs);
    if (!isnan(parallel))
        printf("GNU parallel %.0f us, ", parallel);
    printf("this pool running the program %.0f us, calling it as a function %.1f us;\n"
           "     starting a program per job costs %.0fx handing a function to a live worker",
           exec, call, exec / call);
    if (parallel > xargs)
        printf(", and parallel adds %.0f us per job\n     of its own (a Perl program; its "
               "start-up, spread over %ld jobs, and its bookkeeping are not timed apart)",
               parallel - xargs, tasks);
    printf(".\n");
}

/* What a job costs through the slowest shell pool installed (its start-up included; GNU
 * parallel can be ten times xargs): a short run of 2 x workers jobs through each, timed. */
static double job_cost_s(const struct run_config *c, const struct shell_tool tools[2])
{
    struct map_trial exec = new_map_trial(c, "pool-exec", (int)c->o->workers, TASK_EXEC, 0,
                                          2 * c->o->workers, 1);
    double most = 0;
    for (int i = 0; i < 2; i++)
        if (tools[i].path[0]) {
            struct shell_trial t = {tools[i].argv, exec.tasks, exec.expected};
            double s = time_shell_tool(&t) / 1e6;
            most = s > most ? s : most;
        }
    if (most == 0)                      /* neither installed: a pool running the program */
        most = time_pool_map(&exec) / 1e6;
    free_map_trial(&exec);
    return most;
}

static void run_shell_pools(struct run_config *c)
{
    const struct kit_opts *o = c->o;
    long trials = trials_for(o, 1, 3, 5);
    long most = in_mode(o, shell_jobs_most);
    char workers[16];
    struct shell_tool tools[2];
    snprintf(workers, sizeof workers, "%ld", o->workers);
    find_tools(tools, workers, c->self_path);
    long tasks = c->fixed_sizes ? most : tasks_within(budget_for(o, 0.8, 5.0),
                                                      job_cost_s(c, tools), 2 * (trials + 1),
                                                      2 * o->workers, most);
    struct map_trial exec = new_map_trial(c, "pool-exec", (int)o->workers, TASK_EXEC, 0, tasks,
                                          c->chunk);
    struct map_trial call = new_map_trial(c, "pool-call", (int)o->workers, TASK_SPIN,
                                          TINY_SPINS, tasks, c->chunk);
    struct report r;
    report_start(&r, o, "shell-pools", "workers");
    report_note(&r, "jobs=%ld chunk=%ld", tasks, c->chunk);
    printf("\nshell-pools: %ld tiny jobs ('ch02-pool --tiny-job K', or the same work as a "
           "function call), %s at a time (%ld trials; jobs fit the budget)\n", tasks, workers,
           trials);
    for (int i = 0; i < 2; i++)
        shell_tool_row(c, &r, &tools[i], &exec, trials);
    pool_job_row(c, &r, &exec, trials);
    pool_job_row(c, &r, &call, trials);
    report_print(&r);
    report_write(&r);
    print_worker_counts("pool-call", &call.counts);
    shell_pools_conclusion(&r, (double)o->workers, tasks);
    report_free(&r);
    free_map_trial(&exec);
    free_map_trial(&call);
}

/* ---------- options and main ---------- */

static const struct experiment {
    const char *name;
    void (*run)(struct run_config *c);
    const long *most_tasks;     /* its largest map, quick, default, full (the light load's) */
} experiments[] = {
    {"per-task-vs-pool", run_per_task_vs_pool, loads[0].tasks},
    {"chunksize", run_chunksize, chunksize_most},
    {"overhead", run_overhead, overhead_tasks},
    {"shell-pools", run_shell_pools, shell_jobs_most},
};
enum { EXPERIMENTS = sizeof experiments / sizeof experiments[0] };

/* The largest T among the experiments that run, at the mode's counts (chunksize: --tasks). */
static long largest_tasks(const struct run_config *c)
{
    long most = 0;
    for (int e = 0; e < EXPERIMENTS; e++) {
        const struct experiment *x = &experiments[e];
        long t = c->tasks && x->run == run_chunksize ? c->tasks : in_mode(c->o, x->most_tasks);
        if (wanted(c->o, x->name) && t > most)
            most = t;
    }
    return most;
}

/* A test switch must name a task that runs: 0 .. the largest T - 1. */
static long parse_switch(const struct run_config *c, const char *name, const char *text)
{
    return text ? (long)parse_count(name, text, 0, largest_tasks(c) - 1) : -1;
}

static void check_open_files(const struct kit_opts *o)
{
    /* two pipe ends per worker stay open in the parent; the overhead experiment goes to 16 */
    struct rlimit files;
    long need = 2 * (o->workers > 16 ? o->workers : 16) + 32;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
        (rlim_t)need > files.rlim_cur)
        die_usage("--workers: %ld workers need %ld open files, ulimit -n allows %llu",
                  o->workers, need, (unsigned long long)files.rlim_cur);
}

static void parse_options(struct run_config *c, int argc, char **argv)
{
    const char *kill_text = NULL, *corrupt_text = NULL, *workers = NULL, *tasks = NULL;
    const char *chunk = NULL, *names[EXPERIMENTS];
    const struct kit_option own[] = {
        {"--workers", &workers, NULL},      /* this chapter's own limit, not the standard one */
        {"--tasks", &tasks, NULL}, {"--chunk", &chunk, NULL},
        {"--kill-task", &kill_text, NULL}, {"--corrupt-task", &corrupt_text, NULL}};
    for (int e = 0; e < EXPERIMENTS; e++)
        names[e] = experiments[e].name;
    parse_kit_options(c->o, argc, argv, own, KIT_COUNT(own), names, EXPERIMENTS);
    if (workers)
        c->o->workers = (long)parse_count("--workers", workers, 1, MAX_WORKERS);
    if (c->o->workers > MAX_WORKERS)        /* the online-CPU default on a very large machine */
        c->o->workers = MAX_WORKERS;
    if (tasks)
        c->tasks = (long)parse_count("--tasks", tasks, 1, 1000000);
    if (chunk)
        c->chunk = (long)parse_count("--chunk", chunk, 1, 1000000);
    c->pool.kill_task = parse_switch(c, "--kill-task", kill_text);
    c->pool.corrupt_task = parse_switch(c, "--corrupt-task", corrupt_text);
    c->fixed_sizes = kill_text || corrupt_text;
    check_open_files(c->o);
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
    struct run_config c = {.o = &o, .chunk = 1};
    parse_options(&c, argc, argv);
    ssize_t len = readlink("/proc/self/exe", c.self_path, sizeof c.self_path - 1);
    if (len == -1)
        die_errno("readlink /proc/self/exe");
    c.self_path[len] = '\0';
    c.pool.pin = o.pin;
    c.pool.self_path = c.self_path;
    prepare_out_dir(&o);
    catch_stop_signals(kill_children);
    signal(SIGPIPE, SIG_IGN);       /* a dead worker's pipe gives EPIPE, which we report */
    if (o.pin == PIN_SAME)
        pin_to_cpu(0);
    print_run_header(&o, "how do pools and batching amortize the cost of starting a process?");
    printf("placement: %s\n", pin_name(o.pin));
    if (c.fixed_sizes)
        printf("a test switch is on: sizes are the mode's full counts, not from the budget\n");
    report_effective_cpus(&o, calibration_spins(&o));
    c.workers_tsv = tsv_open_table(&o, "workers",
                                   "experiment\tvariant\tx\tworker\ttasks\tchunks\tmap_tasks");
    for (int e = 0; e < EXPERIMENTS; e++)
        if (wanted(&o, experiments[e].name))
            experiments[e].run(&c);
    tsv_close(c.workers_tsv);
    printf("\nverification: every map equals a sequential map, every task came back once from "
           "the worker given it,\n  per-worker task counts agree between parent and worker and "
           "sum to T.\nTSV files: %s/ch02-*.tsv\n", o.out_dir);
    return 0;
}
