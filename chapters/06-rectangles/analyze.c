/* analyze.c - --analyze: the questions a ProcessPoolExecutor user asks, answered by measuring
 * the pool of pool.c on the tasks of search.c.
 *   overhead  the same tasks in a plain loop and on pools of 1, 2, 4 (and --workers) workers,
 *             each dispatch; the empty pool (tasks that return at once); speedups, wall and CPU
 *   timeline  which tasks each worker ran, when, and each worker's rate against the loop's
 *   setup     the derangement table rebuilt for every task against kept per worker
 *   split     first-column against cycle-type tasks: work, time, and how unequal the tasks are
 * Every run is checked against the first, sequential one. Conclusions read the rows by name
 * (pool size, dispatch); a sentence is printed only when the numbers at hand support it.
 */
#define _GNU_SOURCE
#include <math.h>

#include "driver.h"
#include "report.h"

struct analysis {
    struct kit_opts *o;
    const struct options *opt;
    struct job job;                   /* the first-column split of the size analyzed */
    struct count expected;            /* the sequential run's count: every run must match it */
    double seq_wall_ms, seq_cpu_ms;
    struct pool_run pool_at_w;        /* one run at --workers W for the timeline; results NULL
                                         until a run is kept */
};

static double ms(uint64_t ns) { return (double)ns / 1e6; }

/* Rectangles per CPU-second in the plain loop: what a worker's rate is read against. */
static double loop_rate(const struct analysis *a)
{
    return (double)(a->expected.positive + a->expected.negative) / (a->seq_cpu_ms / 1e3);
}

/* ---------- runs, and what each one shows ---------- */

/* Every run must count what the first, sequential run counted. */
static void check_same(const struct analysis *a, struct count c, const char *what)
{
    char x[64], y[64];
    if (c.positive != a->expected.positive || c.negative != a->expected.negative)
        verification_failed("%s: total %s, the sequential run counted %s", what,
                            format_u128(c.positive + c.negative, true, x, sizeof x),
                            format_u128(a->expected.positive + a->expected.negative, true, y,
                                        sizeof y));
}

static struct count one_pool(const struct analysis *a, const struct job *job, int w,
                             enum dispatch dispatch, struct pool_run *run, const char *what)
{
    pool_run_init(run, job, w);
    run_pool(job, w, dispatch, a->o->pin, run);
    struct count c = add_up(job, run->results);
    check_same(a, c, what);
    return c;
}

/* The plain loop: every task in this process, one after another; its wall and CPU time. Its
 * count is checked against the known values only when `what` is given to say what they
 * confirmed (the first run); every later run is held to that run's count instead. */
static struct count plain_loop(const struct analysis *a, char *what, size_t len,
                               double *wall_ms, double *cpu_ms)
{
    struct pool_run run;
    pool_run_init(&run, &a->job, 1);
    run_in_loop(&a->job, &run);
    struct count c = what ? verified_count(&a->job, run.results, what, len)
                          : add_up(&a->job, run.results);
    *wall_ms = ms(run.wall_ns);
    *cpu_ms = ms(run.worker_cpu_ns[0]);
    pool_run_free(&run);
    return c;
}

struct run_summary {
    double wall_ms, startup_ms, shutdown_ms, overhead_ms;
    double busy_max_ms, busy_mean_ms, cpu_max_ms, cpu_sum_ms, setup_ms;
    double gap_us;             /* median time between a worker's tasks: result out, next in */
    double pool_cpu_ms;        /* CPU time outside the tasks: the parent's and the workers' */
    int setups;
};

/* Busy time = the worker's tasks, end - start. Overhead = what the pool adds to its busiest
 * worker's work: starting the workers, handing out tasks, collecting results, reaping.
 * A worker runs its tasks in the order it got them, so its next start follows its last end. */
static struct run_summary summarize(const struct job *job, const struct pool_run *run)
{
    struct run_summary s = {.wall_ms = ms(run->wall_ns), .startup_ms = ms(run->startup_ns),
                            .shutdown_ms = ms(run->shutdown_ns)};
    double *busy = calloc((size_t)run->workers, sizeof *busy);
    double *gaps = calloc((size_t)job->task_count, sizeof *gaps);
    uint64_t *last_end = calloc((size_t)run->workers, sizeof *last_end);
    if (!busy || !gaps || !last_end)
        die_errno("calloc");
    int gap_count = 0;
    for (int i = 0; i < job->task_count; i++) {
        const struct task_result *res = &run->results[i];
        busy[res->worker] += ms(res->end_ns - res->start_ns);
        if (last_end[res->worker])
            gaps[gap_count++] = (double)(res->start_ns - last_end[res->worker]) / 1e3;
        last_end[res->worker] = res->end_ns;
        s.pool_cpu_ms -= ms(res->cpu_ns);
        s.setups += res->setups;
        s.setup_ms += ms(res->setup_ns);
    }
    for (int w = 0; w < run->workers; w++) {
        double cpu = ms(run->worker_cpu_ns[w]);
        s.busy_max_ms = fmax(s.busy_max_ms, busy[w]);
        s.busy_mean_ms += busy[w] / run->workers;
        s.cpu_max_ms = fmax(s.cpu_max_ms, cpu);
        s.cpu_sum_ms += cpu;
    }
    s.pool_cpu_ms += s.cpu_sum_ms + ms(run->parent_cpu_ns);
    s.gap_us = gap_count ? stats_of(gaps, (size_t)gap_count).median : 0;
    s.overhead_ms = s.wall_ms - s.busy_max_ms;
    free(busy);
    free(gaps);
    free(last_end);
    return s;
}

/* The first run warms up and gives the count every later run must match; its times are the
 * baseline until the overhead experiment measures the loop again, trial by trial beside the
 * pools. */
static void analyze_sequential(struct analysis *a)
{
    char what[512], total[64];
    a->expected = plain_loop(a, what, sizeof what, &a->seq_wall_ms, &a->seq_cpu_ms);
    printf("sequential: %s rectangles; %s\n",
           format_u128(a->expected.positive + a->expected.negative, true, total, sizeof total),
           what[0] ? what : "(no independent value known for this size)");
    printf("  plain loop: %.2f ms wall, %.2f ms CPU: %.3g rectangles per CPU-second\n",
           a->seq_wall_ms, a->seq_cpu_ms, loop_rate(a));
}

/* ---------- overhead: the loop against pools of W, both dispatches ---------- */

enum { MAX_TRIALS = 64, MAX_SIZES = 4, DISPATCHES = 2 };   /* sizes: 1, 2, 4, --workers */
static const enum dispatch dispatches_compared[DISPATCHES] = {DISPATCH_PARENT, DISPATCH_SHARED};

enum metric { WALL, OVERHEAD, EMPTY, POOL_CPU, STARTUP, SHUTDOWN, BUSY, CPU, IMBALANCE, GAP,
              METRICS };
static const char *const metric_names[METRICS] = {
    "wall", "overhead", "empty", "pool_cpu", "startup", "shutdown", "busy", "cpu", "imbalance",
    "gap"};

struct config {                       /* one pool size and dispatch, its samples by trial */
    int w;
    enum dispatch dispatch;
    double v[METRICS][MAX_TRIALS];
};

/* The same tasks on a pool of w, each returning at once: what starting the workers, dealing
 * the tasks and reaping the workers take when there is no work to hide behind. */
static double empty_pool_ms(const struct analysis *a, int w, enum dispatch dispatch)
{
    struct job empty = a->job;
    struct pool_run run;
    empty.no_work = true;
    pool_run_init(&run, &empty, w);
    run_pool(&empty, w, dispatch, a->o->pin, &run);       /* checks every task came back */
    double wall = ms(run.wall_ns);
    pool_run_free(&run);
    return wall;
}

/* One trial is the loop and then every pool size and dispatch, so a change in the machine's
 * load between trials hits all of them alike instead of one configuration. */
static void overhead_trial(struct analysis *a, struct config *configs, int count, int t,
                           double *loop_wall, double *loop_cpu)
{
    struct pool_run run;
    check_same(a, plain_loop(a, NULL, 0, &loop_wall[t], &loop_cpu[t]), "plain loop");
    for (int i = 0; i < count; i++) {
        struct config *c = &configs[i];
        one_pool(a, &a->job, c->w, c->dispatch, &run, dispatch_names[c->dispatch]);
        struct run_summary s = summarize(&a->job, &run);
        double values[METRICS] = {
            [WALL] = s.wall_ms, [OVERHEAD] = s.overhead_ms, [POOL_CPU] = s.pool_cpu_ms,
            [STARTUP] = s.startup_ms, [SHUTDOWN] = s.shutdown_ms, [BUSY] = s.busy_max_ms,
            [CPU] = s.cpu_max_ms, [IMBALANCE] = s.busy_max_ms / s.busy_mean_ms, [GAP] = s.gap_us,
            [EMPTY] = empty_pool_ms(a, c->w, c->dispatch)};
        for (int m = 0; m < METRICS; m++)
            c->v[m][t] = values[m];
        if (c->w == a->o->workers && c->dispatch == a->opt->dispatch && !a->pool_at_w.results)
            a->pool_at_w = run;            /* the timeline shows this run */
        else
            pool_run_free(&run);
    }
}

/* The rows by name: "wall/shared" at x = 2 is the wall time of a pool of 2, shared pipe. */
static struct stats stat_of(const struct report *r, enum metric m, enum dispatch d, int w)
{
    char name[64];
    snprintf(name, sizeof name, "%s/%s", metric_names[m], dispatch_names[d]);
    const struct stats *s = report_find(r, name, w);
    return s ? *s : (struct stats){.median = NAN, .min = NAN, .max = NAN};
}

static double med(const struct report *r, enum metric m, enum dispatch d, int w)
{
    return stat_of(r, m, d, w).median;
}

static void overhead_row(FILE *tsv, const struct report *r, const struct analysis *a,
                         const struct config *c, int trials)
{
    int w = c->w;
    enum dispatch d = c->dispatch;
    struct stats sw = stat_of(r, WALL, d, w), so = stat_of(r, OVERHEAD, d, w);
    struct stats se = stat_of(r, EMPTY, d, w);
    double cpu = med(r, CPU, d, w), speedup_wall = a->seq_wall_ms / sw.median;
    double speedup_cpu = a->seq_cpu_ms / cpu, imbalance = med(r, IMBALANCE, d, w);
    double start = med(r, STARTUP, d, w), stop = med(r, SHUTDOWN, d, w);
    double gap = med(r, GAP, d, w), pool_cpu = med(r, POOL_CPU, d, w);
    printf("  %4d %8s %9.2f %11.3f %8.3f %11.3f %10.3f %11.3f %7.1f %8.2f %8.2f %9.2f%s%s\n", w,
           dispatch_names[d], sw.median, so.median, se.median, pool_cpu, start, stop, gap,
           speedup_wall, speedup_cpu, imbalance, is_noisy(so) ? "  noisy" : "",
           w > online_cpus() ? "  oversubscribed" : "");
    fprintf(tsv, "%d\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t"
            "%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\n",
            w, dispatch_names[d], trials, sw.median, sw.min, sw.max, so.median, so.min, so.max,
            se.median, se.min, se.max, pool_cpu, start, stop, med(r, BUSY, d, w), cpu,
            speedup_wall, speedup_cpu, speedup_wall / w, speedup_cpu / w, imbalance, gap);
}

/* The empty pool's time against W: a line through W = 1 and the largest W measured. */
static void empty_pool_sentence(const struct report *r, const int *sizes, int count, int hi)
{
    printf("     The empty pool (shared) takes");
    for (int i = 0; i < count; i++)
        printf("%s%.3f", i == 0 ? " " : i == count - 1 ? " and " : ", ",
               med(r, EMPTY, DISPATCH_SHARED, sizes[i]));
    printf(" ms at W =");
    for (int i = 0; i < count; i++)
        printf("%s%d", i ? ", " : " ", sizes[i]);
    double e_1 = med(r, EMPTY, DISPATCH_SHARED, 1), e_hi = med(r, EMPTY, DISPATCH_SHARED, hi);
    double per = (e_hi - e_1) / (hi - 1), fixed = e_1 - per;
    if (per > 0 && fixed >= 0)
        printf(": about %.3f ms fixed and %.3f ms per worker (its start and reap, not timed "
               "apart).\n", fixed, per);
    else
        printf(": no fixed and per-worker cost stands out of the noise.\n");
}

/* The headline is the overhead while every worker has a CPU of its own. With more workers than
 * CPUs a worker may wait for a CPU and that wait would land in the overhead: the machine's size,
 * not the pool's cost, so those rows are marked and left out of the headline. The run does not
 * measure that wait (a worker's run delay would). */
static void overhead_headline(const struct report *r, const int *sizes, int count)
{
    int cpus = online_cpus(), shown = 0;
    double most = 0;
    printf("  -> headline: the pool's overhead with W <= %d workers (the online CPUs), medians:\n"
           "    ", cpus);
    for (int i = 0; i < count; i++) {
        double shared = med(r, OVERHEAD, DISPATCH_SHARED, sizes[i]);
        double parent = med(r, OVERHEAD, DISPATCH_PARENT, sizes[i]);
        if (sizes[i] <= cpus) {
            printf("%s W=%d %.3f ms shared, %.3f ms parent", shown++ ? ";" : "", sizes[i],
                   shared, parent);
            most = fmax(most, fmax(shared, parent));
        }
    }
    printf("; at most %.3f ms.\n", most);
    if (shown < count)
        printf("     W > %d is oversubscribed and left out of the headline: there a worker may "
               "wait for a CPU\n     inside its overhead (not measured here; its run delay would "
               "show it).\n", cpus);
}

/* A pool of 1 against the loop: a verdict only when every trial of one is beyond every trial
 * of the other. */
static void pool_of_one_sentence(const struct report *r, const struct analysis *a,
                                 struct stats loop)
{
    double loop_wall = a->seq_wall_ms, loop_cpu = a->seq_cpu_ms;
    struct stats w1 = stat_of(r, WALL, DISPATCH_SHARED, 1);
    double wall1 = w1.median, cpu1 = med(r, CPU, DISPATCH_SHARED, 1);
    printf("  -> a pool of 1 against the plain loop: %+.2f ms wall (%+.1f%%), %+.2f ms CPU "
           "(%+.1f%%):\n     ", wall1 - loop_wall, 100 * (wall1 - loop_wall) / loop_wall,
           cpu1 - loop_cpu, 100 * (cpu1 - loop_cpu) / loop_cpu);
    if (w1.min > loop.max)
        printf("the pool was slower in every trial (its start alone took %.2f ms).\n",
               med(r, STARTUP, DISPATCH_SHARED, 1));
    else if (w1.max < loop.min)
        printf("the pool was faster in every trial; why is not measured here (the loop run in a "
               "forked\n     child would test whether it is the process).\n");
    else
        printf("the trials' ranges overlap (loop %.2f to %.2f ms, pool %.2f to %.2f ms): no cost "
               "of the\n     pool stands out of their spread.\n", loop.min, loop.max, w1.min,
               w1.max);
}

/* The wall-time and CPU-time speedups at W, and what lies between them when they part. */
static void speedup_sentence(const struct report *r, const struct analysis *a, int w)
{
    double wall = med(r, WALL, DISPATCH_SHARED, w), cpu = med(r, CPU, DISPATCH_SHARED, w);
    double busy = med(r, BUSY, DISPATCH_SHARED, w);
    double speedup_wall = a->seq_wall_ms / wall, speedup_cpu = a->seq_cpu_ms / cpu;
    printf("     At W=%d: wall speedup %.2f, CPU-time speedup %.2f (loop CPU / busiest worker's "
           "CPU) with %.2f\n     effective CPUs; ", w, speedup_wall, speedup_cpu,
           a->o->effective_cpus);
    if (speedup_cpu > 1.1 * speedup_wall) {
        printf("the pool's wall, %.2f ms, is %.2f ms above its busiest worker's CPU time\n"
               "     (medians)", wall, wall - cpu);
        if (busy > cpu)
            printf(": %.2f ms of it outside that worker's tasks (its start, dealing and shutdown),"
                   "\n     %.2f ms inside them off a CPU (likely waiting for one; not measured "
                   "here: the workers'\n     run delay, as chapter 8 reads it, would measure it)",
                   wall - busy, busy - cpu);
        else   /* its CPU time also holds its start: wall - busy only bounds the gap */
            printf(", no more than the %.2f ms outside that worker's tasks\n     (its start, "
                   "dealing and shutdown)", wall - busy);
        printf(".\n");
    } else if (speedup_wall > 1.1 * speedup_cpu) {
        printf("the wall-time speedup is the higher: the loop's wall %.2f ms, its CPU %.2f "
               "ms.\n", a->seq_wall_ms, a->seq_cpu_ms);
    } else {
        printf("the two are within 10%% of each other.\n");
    }
}

static void overhead_conclusion(const struct report *r, const struct analysis *a,
                                const int *sizes, int count, struct stats loop)
{
    overhead_headline(r, sizes, count);
    int most = 1;                           /* pool_sizes: 1 and 4 always, --workers maybe */
    for (int i = 0; i < count; i++)
        most = sizes[i] > most ? sizes[i] : most;
    pool_of_one_sentence(r, a, loop);
    printf("     At W=1 the overhead (wall - busiest worker's busy time) is %.3f ms with the "
           "parent\n     dealing, %.3f ms with the shared pipe: between two tasks a worker "
           "waited %.1f us for the\n     round trip through the parent, %.1f us to read its "
           "next task itself.\n", med(r, OVERHEAD, DISPATCH_PARENT, 1),
           med(r, OVERHEAD, DISPATCH_SHARED, 1), med(r, GAP, DISPATCH_PARENT, 1),
           med(r, GAP, DISPATCH_SHARED, 1));
    empty_pool_sentence(r, sizes, count, most);
    speedup_sentence(r, a, (int)a->o->workers);
}

static FILE *overhead_table(const struct analysis *a, int trials, struct stats loop_wall)
{
    FILE *tsv = tsv_open_table(a->o, "overhead",
        "workers\tdispatch\ttrials\twall_ms\twall_min_ms\twall_max_ms\toverhead_ms\t"
        "overhead_min_ms\toverhead_max_ms\tempty_ms\tempty_min_ms\tempty_max_ms\tpool_cpu_ms\t"
        "startup_ms\tshutdown_ms\tbusy_max_ms\tcpu_max_ms\tspeedup_wall\tspeedup_cpu\t"
        "efficiency_wall\tefficiency_cpu\timbalance\tgap_us");
    printf("\noverhead: the same %d tasks in a plain loop and on pools of W workers, each task "
           "sent by the parent\nor taken from the shared pipe; empty = the same pool with tasks "
           "that return at once (%d trials, medians)\n", a->job.task_count, trials);
    printf("  %4s %8s %9s %11s %8s %11s %10s %11s %7s %8s %8s %9s\n", "W", "dispatch",
           "wall ms", "overhead ms", "empty ms", "pool cpu ms", "startup ms", "shutdown ms",
           "gap us", "speedup", "cpu spd", "imbalance");
    printf("  %4s %8s %9.2f %11s %8s %11s %10s %11s %7s %8.2f %8.2f %9.2f\n", "loop", "-",
           a->seq_wall_ms, "-", "-", "-", "-", "-", "-", 1.0, 1.0, 1.0);
    fprintf(tsv, "0\t-\t%d\t%.4f\t%.4f\t%.4f\t0\t0\t0\t0\t0\t0\t0\t0\t0\t%.4f\t%.4f\t1\t1\t1\t1\t"
            "1\t0\n", trials, a->seq_wall_ms, loop_wall.min, loop_wall.max, a->seq_wall_ms,
            a->seq_cpu_ms);
    return tsv;
}

static void analyze_overhead(struct analysis *a)
{
    int w = (int)a->o->workers, sizes[MAX_SIZES] = {1, 2, 4, w};
    int count = w == 1 || w == 2 || w == 4 ? 3 : 4, configs = count * DISPATCHES;
    long asked = trials_for(a->o, 2, 3, 3);
    int trials = asked < MAX_TRIALS ? (int)asked : MAX_TRIALS;
    static struct config c[MAX_SIZES * DISPATCHES];      /* 50 KB of samples: not on the stack */
    double loop_wall[MAX_TRIALS], loop_cpu[MAX_TRIALS];
    for (int i = 0; i < configs; i++)
        c[i].w = sizes[i / DISPATCHES], c[i].dispatch = dispatches_compared[i % DISPATCHES];
    for (int t = 0; t < trials; t++) {
        progress("overhead: trial %d of %d (the loop, then pools of 1, 2, 4%s workers, both "
                 "dispatches)", t + 1, trials, count > 3 ? " and --workers" : "");
        overhead_trial(a, c, configs, t, loop_wall, loop_cpu);
    }
    struct stats loop = stats_of(loop_wall, (size_t)trials);
    a->seq_wall_ms = loop.median;
    a->seq_cpu_ms = stats_of(loop_cpu, (size_t)trials).median;
    struct report r;
    report_start(&r, a->o, "overhead", "workers");
    for (int i = 0; i < configs; i++)
        for (int m = 0; m < METRICS; m++) {
            char name[64];
            snprintf(name, sizeof name, "%s/%s", metric_names[m], dispatch_names[c[i].dispatch]);
            report_add(&r, name, c[i].w, m == GAP ? "us" : "ms", stats_of(c[i].v[m], trials));
        }
    FILE *tsv = overhead_table(a, trials, loop);
    for (int i = 0; i < configs; i++)
        overhead_row(tsv, &r, a, &c[i], trials);
    tsv_close(tsv);
    overhead_conclusion(&r, a, sizes, count, loop);
    report_free(&r);
}

/* ---------- timeline: which worker ran what ---------- */

/* One worker: its tasks into the timeline TSV, its totals onto the screen and workers TSV.
 * Returns its rectangles per CPU-second, NAN for a worker that ran no task; *most becomes its
 * task count when that is the larger. */
static double timeline_worker(const struct analysis *a, const struct pool_run *run, int w,
                              FILE *tl, FILE *wk, double seq_rate, int *most)
{
    const struct job *job = &a->job;
    char list[256] = "", label[64], num[64];
    int tasks = 0, setups = 0;
    double setup = 0, busy = 0, cpu = ms(run->worker_cpu_ns[w]);
    u128 rect = 0;
    for (int i = 0; i < job->task_count; i++) {
        const struct task_result *res = &run->results[i];
        if (res->worker != w)
            continue;
        u128 weighted = res->total * task_weight(job, &job->tasks[i]);
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%d", tasks ? "," : "", i);
        tasks++, setups += res->setups, setup += ms(res->setup_ns);
        busy += ms(res->end_ns - res->start_ns);
        rect += weighted;
        fprintf(tl, "%d\t%d\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%s\n", w, i,
                task_label(job, &job->tasks[i], label, sizeof label),
                ms(res->start_ns - run->start_ns), ms(res->end_ns - run->start_ns),
                ms(res->setup_ns), ms(res->cpu_ns), format_u128(weighted, false, num, sizeof num));
    }
    /* per CPU-second: what the code does when it runs, whatever else shares the machine */
    double rate = cpu > 0 ? (double)rect / (cpu / 1e3) : 0;
    printf("  %6d %8d %5d %-30.30s %6d %9.2f %9.2f %9.2f %12.3g %8.2f\n", w,
           (int)run->worker_pids[w], tasks, tasks ? list : "-", setups, setup, busy, cpu, rate,
           rate / seq_rate);
    fprintf(wk, "%d\t%d\t%d\t%s\t%d\t%.4f\t%.4f\t%.4f\t%s\t%.6g\n", w, (int)run->worker_pids[w],
            tasks, tasks ? list : "-", setups, setup, busy, cpu,
            format_u128(rect, false, num, sizeof num), rate);
    *most = tasks > *most ? tasks : *most;
    return tasks ? rate : NAN;
}

static void analyze_timeline(struct analysis *a)
{
    const struct job *job = &a->job;
    if (!a->pool_at_w.results)
        one_pool(a, job, (int)a->o->workers, a->opt->dispatch, &a->pool_at_w, "pool");
    const struct pool_run *run = &a->pool_at_w;
    FILE *tl = tsv_open_table(a->o, "timeline", "worker\ttask\tlabel\tstart_ms\tend_ms\t"
                              "setup_ms\tcpu_ms\trectangles");
    FILE *wk = tsv_open_table(a->o, "workers", "worker\tpid\ttasks\ttask_list\tsetups\t"
                              "setup_ms\tbusy_ms\tcpu_ms\trectangles\trate_per_s");
    double seq_rate = loop_rate(a);
    printf("\ntimeline: one pool of %d workers, which tasks each ran (times from the pool's "
           "start)\n", run->workers);
    printf("  %6s %8s %5s %-30s %6s %9s %9s %9s %12s %8s\n", "worker", "pid", "tasks",
           "task numbers", "setups", "setup ms", "busy ms", "cpu ms", "rect/cpu-s", "vs loop");
    double rate_min = INFINITY, rate_max = 0;
    int most = 0;                                    /* the most tasks any worker ran */
    for (int w = 0; w < run->workers; w++) {
        double rate = timeline_worker(a, run, w, tl, wk, seq_rate, &most);
        rate_min = fmin(rate_min, rate);             /* fmin and fmax skip an idle worker's NAN */
        rate_max = fmax(rate_max, rate);
    }
    tsv_close(tl);
    tsv_close(wk);
    struct run_summary s = summarize(job, run);
    int per = (job->task_count + run->workers - 1) / run->workers;
    bool near = rate_min / seq_rate > 0.8 && rate_max / seq_rate < 1.2;
    printf("  -> per CPU-second each worker counts %.3g to %.3g rectangles, the plain loop %.3g "
           "(ratios %.2f to %.2f):\n     %s.\n     Load imbalance (max/mean busy time) %.2f; "
           "with %d equal tasks on %d workers one must run\n     at least %d (a floor of %.2f); "
           "here the most was %d: finer tasks lower it, largest-first\n     helps unequal ones "
           "(split).\n", rate_min, rate_max, seq_rate, rate_min / seq_rate, rate_max / seq_rate,
           near ? "every worker within 20% of the loop's rate"
                : "some worker's rate is more than 20% off the loop's (cause not measured here; "
                  "the table\n     above gives each worker's setup, busy and CPU time)",
           s.busy_max_ms / s.busy_mean_ms, job->task_count, run->workers, per,
           (double)per * run->workers / job->task_count, most);
}

/* ---------- setup: the table per task or per worker ---------- */

static void analyze_setup(struct analysis *a)
{
    long workers = a->o->workers;
    FILE *tsv = tsv_open_table(a->o, "setup", "setup\tsetups\tsetup_ms\twall_ms");
    printf("\nsetup: building the filtered derangement table (step 1) per task vs once per "
           "worker, %ld workers\n", workers);
    if (a->job.r == 2) {
        printf("  (r = 2: row 2 is the last row, counted by the DP; there is no table to build)\n");
        fprintf(tsv, "per-task\t0\t0\t0\nper-worker\t0\t0\t0\n");
        tsv_close(tsv);
        return;
    }
    printf("  %-11s %7s %10s %10s %14s\n", "setup", "setups", "setup ms", "wall ms",
           "ms per setup");
    struct run_summary got[2];
    for (int mode = SETUP_PER_TASK; mode >= SETUP_PER_WORKER; mode--) {
        struct job job = a->job;
        struct pool_run run;
        job.setup = (enum setup)mode;
        one_pool(a, &job, (int)workers, a->opt->dispatch, &run, "setup");
        struct run_summary s = summarize(&job, &run);
        const char *name = mode == SETUP_PER_TASK ? "per-task" : "per-worker";
        printf("  %-11s %7d %10.2f %10.2f %14.3f\n", name, s.setups, s.setup_ms, s.wall_ms,
               s.setup_ms / s.setups);
        fprintf(tsv, "%s\t%d\t%.4f\t%.4f\n", name, s.setups, s.setup_ms, s.wall_ms);
        got[mode] = s;
        pool_run_free(&run);
    }
    tsv_close(tsv);
    const struct run_summary *task = &got[SETUP_PER_TASK], *worker = &got[SETUP_PER_WORKER];
    printf("  -> per task the table was built %d times (%.2f ms, %.1f%% of the busy time); kept "
           "per worker,\n     %d times (%.2f ms): once per worker for each first symbol of row 2 "
           "it met.\n", task->setups, task->setup_ms,
           100 * task->setup_ms / (task->busy_mean_ms * (double)workers), worker->setups,
           worker->setup_ms);
}

/* ---------- split: first-column against cycle-type ---------- */

/* Greedy list scheduling: each task in turn (from the last one when `backwards`) to the worker
 * that frees up first, as the pool does. */
static double list_schedule(const double *durations, int count, int w, bool backwards)
{
    double load[64] = {0}, makespan = 0;
    w = w < 64 ? w : 64;
    for (int i = 0; i < count; i++) {
        int least = 0;
        for (int k = 1; k < w; k++)
            least = load[k] < load[least] ? k : least;
        load[least] += durations[backwards ? count - 1 - i : i];
        makespan = fmax(makespan, load[least]);
    }
    return makespan;
}

struct split_result {
    double work, wall_ms, given_ms, sorted_ms, ideal_ms;   /* the last three: list schedules */
};

static struct split_result one_split(struct analysis *a, enum split sp, FILE *tsv)
{
    struct job job = new_job(a->job.r, a->job.n, sp, SETUP_PER_WORKER);
    struct pool_run run;
    int workers = (int)a->o->workers;
    struct count c = one_pool(a, &job, workers, a->opt->dispatch, &run, split_names[sp]);
    struct run_summary s = summarize(&job, &run);
    int tasks = job.task_count;
    double *dur = malloc((size_t)tasks * sizeof *dur);
    if (!dur)
        die_errno("malloc");
    for (int i = 0; i < tasks; i++)
        dur[i] = ms(run.results[i].end_ns - run.results[i].start_ns);
    double given_ms = list_schedule(dur, tasks, workers, false);
    struct stats t = stats_of(dur, (size_t)tasks);              /* sorts dur, shortest first */
    struct split_result got = {(double)c.work, s.wall_ms, given_ms,
                               list_schedule(dur, tasks, workers, true), t.mean * tasks / workers};
    char p[64], q[64];
    printf("  %-13s %6d %16llu %10.2f %10.2f %12.3f %10.3f\n", split_names[sp], tasks,
           (unsigned long long)c.work, s.wall_ms, s.cpu_sum_ms, t.max, t.mean);
    fprintf(tsv, "%s\t%d\t%llu\t%.4f\t%.4f\t%.4f\t%.4f\t%s\t%s\n", split_names[sp], tasks,
            (unsigned long long)c.work, s.wall_ms, s.cpu_sum_ms, t.max, t.mean,
            format_u128(c.positive, false, p, sizeof p),
            format_u128(c.negative, false, q, sizeof q));
    free(dur);
    free_job(&job);
    pool_run_free(&run);
    return got;
}

/* "161x less", "1.4x less" or "no less": a ratio said only the way it came out. */
static const char *less(double ratio, char *buf, size_t len)
{
    snprintf(buf, len, ratio <= 1 ? "no less" : ratio >= 10 ? "%.0fx less" : "%.1fx less", ratio);
    return buf;
}

static void analyze_split(struct analysis *a)
{
    FILE *tsv = tsv_open_table(a->o, "split", "split\ttasks\twork_steps\twall_ms\tcpu_ms\t"
                               "largest_task_ms\tmean_task_ms\tpositive\tnegative");
    printf("\nsplit: first-column (step 3) vs cycle-type (step 5) tasks, %ld workers\n",
           a->o->workers);
    printf("  %-13s %6s %16s %10s %10s %12s %10s\n", "split", "tasks", "work steps", "wall ms",
           "cpu ms", "largest ms", "mean ms");
    struct split_result fc = one_split(a, SPLIT_FIRST_COLUMN, tsv);
    struct split_result ct = one_split(a, SPLIT_CYCLE_TYPE, tsv);
    tsv_close(tsv);
    char work[32], wall[32];
    printf("  -> the cycle-type split does %s work and takes %s wall time, same counts.\n"
           "     Its tasks are unequal: dealt in the given order the busiest of %ld workers "
           "would need %.2f ms,\n     largest first %.2f ms, against a perfect %.2f ms (list "
           "scheduling of the measured task times).\n",
           less(fc.work / ct.work, work, sizeof work), less(fc.wall_ms / ct.wall_ms, wall,
           sizeof wall), a->o->workers, ct.given_ms, ct.sorted_ms, ct.ideal_ms);
}

void run_analysis(struct kit_opts *o, const struct options *opt)
{
    struct analysis a = {.o = o, .opt = opt};
    int r = opt->r, n = opt->n;
    a.job = new_job(r, n, SPLIT_FIRST_COLUMN, SETUP_PER_WORKER);
    check_size(&a.job, o->workers, opt->yes);
    prepare_out_dir(o);
    print_run_header(o, "a real search on a process pool: what does the pool cost, what does "
                     "it buy?");
    report_effective_cpus(o, (uint64_t)by_mode(o, 2000000, 10000000, 30000000));
    printf("(%d,%d), first-column split: %d tasks (one per sorted first column), (r-1)! = %d "
           "rectangles per one counted; pool of %ld workers\nplacement: %s\n", r, n,
           a.job.task_count, (int)factorial(r - 1), o->workers, pin_name(o->pin));
    analyze_sequential(&a);
    if (wanted(o, "overhead"))
        analyze_overhead(&a);
    if (wanted(o, "timeline"))
        analyze_timeline(&a);
    if (wanted(o, "setup"))
        analyze_setup(&a);
    if (wanted(o, "split"))
        analyze_split(&a);
    pool_run_free(&a.pool_at_w);
    free_job(&a.job);
    printf("\nverification: every run (loop, every pool, both setups, both splits) counted the "
           "same rectangles; every first-column task the same count.\nTSV files: %s/ch06-*.tsv\n",
           o->out_dir);
}
