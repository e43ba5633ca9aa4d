/* ch01-fork - what does starting a process cost, and why? The driver: options, timing loops,
 * tables and conclusions; the mechanism is in spawn.c (read it first).
 *
 * Usage: see `usage` below. Exit: 0 ok, 1 runtime or verification failure, 2 usage error.
 * Sample output line (methods):  fork   0   78.4   71.9   120.3  us  100 calls per trial
 * Sizes come from a time budget per experiment, scaled from a first measured call and counted
 * while trials run, and each heading says what was chosen; --trials N fixes the trial count.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include <sys/resource.h>

#include "report.h"
#include "spawn.h"
#include "stress_fork.h"

static const char usage[] =
    "Usage: ch01-fork [--quick | --full] [--only methods|batch|rss|speedup|stress-ng]\n"
    "                 [--max-rss SIZE] [--trials N] [--workers N] [--pin none|same|spread]\n"
    "                 [--out DIR]\n"
    "What does starting a process cost, and why? (Linux only)\n"
    "  --only stress-ng stress-ng's fork loop rebuilt on the plain fork one ingredient at a\n"
    "                   time (run only when named; harness/peers.d/ch01.sh compares it with\n"
    "                   stress-ng --fork 1 --fork-max 1): a row per recipe, in us per fork, and\n"
    "                   a cpu:RECIPE row each with the parent's + children's CPU per fork, a\n"
    "                   faults:RECIPE row with their page faults per fork\n"
    "  --max-rss SIZE   largest parent memory in the rss experiment (1M to half the free memory;\n"
    "                   default 16M quick, 256M default, 1G full)\n"
    "  --workers N      the speedup experiment runs 1..2N processes (default N = online CPUs)\n"
    "Test switch (make a failure happen on purpose):\n"
    "  --kill-child K   batch child K (0..31) kills itself with SIGKILL before its task\n"
    "Writes results/ch01-{methods,batch,rss,speedup}.tsv (ch01-stress-ng.tsv when asked for).\n";

static const char *const experiments[] = {"methods", "batch", "rss", "speedup", "stress-ng"};

struct ch01_opts {
    struct kit_opts kit;
    unsigned long long max_rss;
    bool max_rss_given;
    long kill_child;            /* -1: off */
};

/* ---------- experiments 1 and 3: one call at a time ---------- */

/* A trial is `ops` back-to-back calls of one method, or of fork+write into `memory`. */
struct calls {
    const struct method *method;    /* NULL: fork+write */
    unsigned char *memory;
    size_t bytes;
    long ops;
};

/* lmbench-style: the sample is the mean per call, in microseconds. */
static double time_calls(void *ctx)
{
    struct calls *t = ctx;
    uint64_t start = now_ns();
    for (long op = 0; op < t->ops; op++)
        if (t->method)
            t->method->start_and_reap(op);
        else
            fork_write_and_reap(t->memory, t->bytes);
    return (double)(now_ns() - start) / (double)t->ops / 1e3;
}

/* One timed call (the warm-up) sizes the point: calls per trial so that the mode's trials
 * would fit the budget, then as many trials as do. */
static struct stats measure_calls(const struct kit_opts *o, struct calls *t, double budget_s,
                                  long most_ops, long most_trials)
{
    t->ops = 1;
    double call_s = time_calls(t) / 1e6;
    t->ops = count_within(budget_s / (double)(most_trials + 1), call_s, 1, most_ops);
    return samples_within(o, time_calls, t, budget_s - call_s, most_trials);
}

/* ---------- experiment 1: methods ---------- */

static void methods_conclusion(const struct report *r)
{
    double fork = median_of(r, "fork", 0), vfork = median_of(r, "vfork", 0);
    double spawn = median_of(r, "posix_spawn", 0), exec = median_of(r, "fork+exec", 0);
    double thread = median_of(r, "thread", 0);
    printf("  -> a process costs %.0f us to fork and reap, %.1fx that to run a new program "
           "(fork+exec), %.1fx a thread's %.0f us;\n", fork, exec / fork, fork / thread, thread);
    printf(vfork < fork / 2 ? "     vfork copies nothing, not even the page tables (%.0f us);"
                            : "     vfork (%.0f us) saves little over fork here;", vfork);
    if (spawn < exec / 1.5)
        printf(" posix_spawn starts the program without that copy: %.0f us against fork+exec's "
               "%.0f.\n", spawn, exec);
    else
        printf(" posix_spawn (%.0f us) %s fork+exec (%.0f us):\n"
               "     loading and starting the new program, not the copy, is what costs here.\n",
               spawn, spawn < exec ? "is not much cheaper than" : "was no cheaper than", exec);
}

/* Returns fork's median (us per fork + reap), for the batch experiment's conclusion. */
static double run_methods(const struct ch01_opts *c)
{
    double budget = budget_for(&c->kit, 0.25, 1.0);     /* seconds per method */
    long most_ops = by_mode(&c->kit, 20, 100, 400), most_trials = by_mode(&c->kit, 5, 15, 30);
    struct report r;
    report_start(&r, &c->kit, "methods", "none");
    printf("\nmethods: start one process or thread, let it finish, reap it (trials and calls per "
           "trial fit %g s per method)\n", budget);
    for (int m = 0; m < method_count; m++) {
        struct calls t = {&methods[m], NULL, 0, 0};
        struct stats s = measure_calls(&c->kit, &t, budget, most_ops, most_trials);
        report_add(&r, methods[m].name, 0, "us", s);
        report_comment(&r, "%ld calls per trial", t.ops);
    }
    report_print(&r);
    methods_conclusion(&r);
    double fork = median_of(&r, "fork", 0);
    report_save(&r);
    return fork;
}

/* ---------- experiment 2: batch ---------- */

static double time_batch(void *ctx)
{
    uint64_t start = now_ns();
    run_batch(ctx);
    return (double)(now_ns() - start) / 1e3;
}

/* fork_reap: fork's median in the methods experiment, NAN when it did not run. */
static void batch_conclusion(const struct report *r, double effective_cpus, double fork_reap)
{
    double one = median_of(r, "one-at-a-time", BATCH_MAX);
    double all = median_of(r, "all-at-once", BATCH_MAX);
    printf("  -> %d children: %.1f ms one at a time, %.1f ms all at once (%.2fx, with %.2f "
           "effective CPUs):\n     %s\n", BATCH_MAX, one / 1e3, all / 1e3, one / all,
           effective_cpus,
           all < one / 1.2 ? "starting them all first lets the tasks overlap; each start still "
                             "costs the parent its fork."
           : effective_cpus < 1.5 ? "starting them all first gained little or nothing: with so few "
                                    "effective CPUs the tasks had little room to overlap."
                                  : "starting them all first gained little or nothing in this "
                                    "run.");
    double per = one / BATCH_MAX, share = fork_reap / per;
    if (fork_reap > 0)
        printf("     one at a time, %.0f us per process; a bare fork + reap (methods) took "
               "%.0f us, %.0f%% of that%s.\n", per, fork_reap, 100 * share,
               share > 0.5 && share <= 1 ? ": the forks, one after another, are most of the time"
                                         : "");
}

static void run_batch_sweep(const struct ch01_opts *c, double fork_reap)
{
    static const long sizes[] = {1, 2, 4, 8, 16, BATCH_MAX};
    int expected[BATCH_MAX];
    for (long k = 0; k < BATCH_MAX; k++)
        expected[k] = small_task(k);
    double point_budget = budget_for(&c->kit, 1.0, 4.0) / (double)(2 * KIT_COUNT(sizes));
    for (int all = 0; all <= 1; all++)          /* warm-up: one child each way */
        run_batch(&(struct batch){1, all, expected, c->kill_child});
    struct report r;
    report_start(&r, &c->kit, "batch", "children");
    printf("\nbatch: N children each doing a ~100 us task; total time (trials fit %.2g s per "
           "point)\n", point_budget);
    for (size_t i = 0; i < KIT_COUNT(sizes); i++) {
        for (int all = 0; all <= 1; all++) {
            struct batch b = {sizes[i], all, expected, c->kill_child};
            struct stats s = samples_within(&c->kit, time_batch, &b, point_budget,
                                            by_mode(&c->kit, 3, 15, 30));
            report_add(&r, all ? "all-at-once" : "one-at-a-time", (double)sizes[i], "us", s);
            report_comment(&r, "%.1f us per process", s.median / (double)sizes[i]);
        }
    }
    report_print(&r);
    batch_conclusion(&r, c->kit.effective_cpus, fork_reap);
    report_save(&r);
}

/* ---------- experiment 3: rss ---------- */

static const struct method *method_named(const char *name)
{
    for (int k = 0; k < method_count; k++)
        if (strcmp(methods[k].name, name) == 0)
            return &methods[k];
    return NULL;
}

/* Every variant at one size, a trial's calls together forking at most 16 MiB of parent memory
 * (one call past 16 MiB); the copy-on-write cost per page beside fork+write. */
static void rss_point(const struct ch01_opts *c, struct report *r, size_t bytes, double budget)
{
    static const char *const variants[] = {"fork", "vfork", "posix_spawn", "fork+write"};
    unsigned char *memory = touched_memory(bytes);
    double mib = (double)bytes / (1 << 20);
    long most_ops = bytes < (16u << 20) ? (long)((16u << 20) / bytes) : 1;
    for (size_t v = 0; v < KIT_COUNT(variants); v++) {
        struct calls t = {method_named(variants[v]), memory, bytes, 0};
        report_add(r, variants[v], mib, "us", measure_calls(&c->kit, &t, budget, most_ops,
                                                            by_mode(&c->kit, 3, 7, 11)));
    }
    check_parent_pages(memory, bytes);
    size_t pages = bytes / (size_t)sysconf(_SC_PAGESIZE);
    report_comment(r, "cow: %.2f ns per page written",
                   (median_of(r, "fork+write", mib) - median_of(r, "fork", mib)) * 1e3 /
                   (double)pages);
    release_memory(memory, bytes);
}

static void rss_conclusion(const struct report *r, unsigned long long max_rss)
{
    double small = 1, big = (double)max_rss / (1 << 20);
    char text[16];
    double fork_growth = median_of(r, "fork", big) / median_of(r, "fork", small);
    double vfork_growth = median_of(r, "vfork", big) / median_of(r, "vfork", small);
    double spawn_growth = median_of(r, "posix_spawn", big) / median_of(r, "posix_spawn", small);
    printf("  -> from 1 MiB to %s fork grows %.1fx (%.0f -> %.0f us), vfork %.1fx, "
           "posix_spawn %.1fx;\n", format_size(max_rss, text, sizeof text), fork_growth,
           median_of(r, "fork", small), median_of(r, "fork", big), vfork_growth, spawn_growth);
    if (fork_growth <= 1.5) {
        printf("     fork barely grew at these sizes: what the memory adds is within its fixed "
               "cost and noise.\n");
        return;
    }
    printf("     fork grew with the parent's memory (likely its page-table copy; not timed "
           "apart here);\n");
    bool vfork_grew = vfork_growth >= 1.5, spawn_grew = spawn_growth >= 1.5;
    if (vfork_grew == spawn_grew)
        printf("     vfork and posix_spawn, which share the parent's memory, %s.\n",
               vfork_grew ? "grew too: why is not measured here" : "stayed flat");
    else
        printf("     vfork and posix_spawn share the parent's memory, yet %s grew too (%s "
               "stayed flat):\n     why is not measured here.\n",
               vfork_grew ? "vfork" : "posix_spawn", vfork_grew ? "posix_spawn" : "vfork");
}

/* The sizes: 1M, 4M, 16M, ... up to --max-rss. Past 4M (past 16M in --quick, whose whole sweep
 * the tests and figures expect) a size runs only while it fits the budget, as predicted from
 * the size before it, unless --max-rss asked for it. */
static void run_rss(const struct ch01_opts *c)
{
    double budget = budget_for(&c->kit, 0.8, 4.0), spent = 0, last_s = 0;
    unsigned long long always = (unsigned long long)by_mode(&c->kit, 16 << 20, 4 << 20, 4 << 20);
    unsigned long long bytes = 1 << 20, last = bytes;
    struct report r;
    report_start(&r, &c->kit, "rss", "parent_mib");
    printf("\nrss: start and reap one process while the parent has touched SIZE of memory "
           "(trials fit %.2g s per point)\n", budget / 12);
    for (;; bytes = bytes * 4 < c->max_rss ? bytes * 4 : c->max_rss) {
        double predicted = last_s * (double)bytes / (double)last;
        if (bytes > always && !c->max_rss_given && spent + predicted > budget) {
            char text[16];
            printf("  (%s and above skipped: that size would take ~%.0f s, past the %.0f s "
                   "budget; --max-rss runs it)\n", format_size(bytes, text, sizeof text),
                   predicted, budget);
            break;
        }
        uint64_t start = now_ns();
        rss_point(c, &r, bytes, budget / 12);
        last_s = seconds_since(start);
        spent += last_s;
        last = bytes;
        if (bytes == c->max_rss)
            break;
    }
    report_print(&r);
    rss_conclusion(&r, last);
    report_save(&r);
}

/* ---------- experiment 4: speedup ---------- */

struct speedup_trial {
    int procs;
    uint64_t total, expected;
    enum kit_pin pin;
};

static double time_split(void *ctx)
{
    struct speedup_trial *t = ctx;
    uint64_t start = now_ns();
    uint64_t sum = split_sum(t->procs, t->total, t->pin);
    double elapsed = (double)(now_ns() - start) / 1e6;
    if (sum != t->expected)
        verification_failed("speedup with %d processes: sum %#llx, expected %#llx", t->procs,
                            (unsigned long long)sum, (unsigned long long)t->expected);
    return elapsed;
}

/* The job is as many values as this process sums in its share of the budget (a trial per
 * process count, each taking at most what the job takes in-process): summing them gives the
 * size, the expected answer and the sequential time at once. */
static uint64_t sized_job(const struct kit_opts *o, double budget_s, long trials, int max_procs,
                          uint64_t *expected, double *sequential_s)
{
    enum { BLOCK = 1000000 };
    double budget = budget_s / (double)((trials + 1) * max_procs + 1);
    uint64_t least = (uint64_t)by_mode(o, 2, 10, 10) * BLOCK;
    uint64_t most = (uint64_t)by_mode(o, 10000000, 150000000, 1000000000);
    uint64_t total = 0, sum = 0, start = now_ns();
    while (total < most && (total < least || seconds_since(start) < budget)) {
        exit_if_stopped();
        sum += sum_range(total, total + BLOCK);
        total += BLOCK;
    }
    *expected = sum;
    *sequential_s = seconds_since(start);
    return total;
}

static void speedup_conclusion(const struct report *r, const struct kit_opts *o, int max_procs)
{
    const struct report_row *best = report_best(r, "wall", false);
    printf("  -> best speedup %.2fx with %.0f processes, against %.2f effective CPUs (%d online)"
           "%s.\n", median_of(r, "wall", 1) / best->s.median, best->x,
           o->effective_cpus, online_cpus(),
           max_procs > online_cpus() ? ": past the CPUs more processes only share them" : "");
}

static void run_speedup(const struct ch01_opts *c)
{
    const struct kit_opts *o = &c->kit;
    long trials = trials_for(o, 3, 5, 11);
    int max_procs = (int)(2 * o->workers);
    uint64_t expected;
    double sequential_s, budget = budget_for(o, 0.8, 4.0);
    uint64_t total = sized_job(o, budget, trials, max_procs, &expected, &sequential_s);
    printf("\nspeedup: sum of mix64(i) for %llu values (what fits the budget) split across P "
           "processes (%ld trials); in-process sequential: %.1f ms\n", (unsigned long long)total,
           trials, sequential_s * 1e3);
    struct report r;
    report_start(&r, o, "speedup", "processes");
    for (int procs = 1; procs <= max_procs; procs++) {
        if (o->mode != MODE_QUICK && procs > 1)
            progress("speedup: %d of %d process counts", procs, max_procs);
        struct speedup_trial t = {procs, total, expected, o->pin};
        time_split(&t);                         /* warm-up */
        report_add(&r, "wall", procs, "ms", samples_within(o, time_split, &t,
                                                           budget / max_procs, trials));
        struct stats speedup = ratio_of(*report_find(&r, "wall", 1),
                                        *report_find(&r, "wall", procs));
        report_add(&r, "speedup", procs, "x", speedup);
        report_comment(&r, "efficiency %.2f", speedup.median / procs);
    }
    report_print(&r);
    speedup_conclusion(&r, o, max_procs);
    report_save(&r);
}

/* ---------- experiment 5, only when named: stress-ng's fork loop, piece by piece ---------- */

/* What a trial measures, per fork: its wall time, and the CPU time and page faults of the
 * parent and of its children (children count once reaped), each alone and together. */
enum { WALL_US, CPU_US, PARENT_CPU_US, CHILD_CPU_US, FAULTS, PARENT_FAULTS, CHILD_FAULTS,
       MEASURES };

static double cpu_us(const struct rusage *u) { return (double)rusage_cpu_ns(u) / 1e3; }

/* `ops` iterations of one recipe, measured into `per_fork`. */
static void time_recipe(const struct fork_recipe *recipe, long ops, double per_fork[MEASURES])
{
    struct fork_books books;
    struct rusage self0, kids0, self1, kids1;
    open_books(&books, recipe->extras);
    if (getrusage(RUSAGE_SELF, &self0) == -1 || getrusage(RUSAGE_CHILDREN, &kids0) == -1)
        die_errno("getrusage");
    uint64_t start = now_ns();
    for (long op = 0; op < ops; op++)
        stress_fork_once(recipe, &books, op);
    double n = (double)ops, wall_ns = (double)(now_ns() - start);
    if (getrusage(RUSAGE_SELF, &self1) == -1 || getrusage(RUSAGE_CHILDREN, &kids1) == -1)
        die_errno("getrusage");
    uint64_t counted = close_books(&books);
    if ((recipe->extras & PARENT_TABLE) && counted != (uint64_t)ops)
        verification_failed("%s: the shared counter says %llu forks, expected %ld",
                            recipe->name, (unsigned long long)counted, ops);
    per_fork[WALL_US] = wall_ns / n / 1e3;
    per_fork[PARENT_CPU_US] = (cpu_us(&self1) - cpu_us(&self0)) / n;
    per_fork[CHILD_CPU_US] = (cpu_us(&kids1) - cpu_us(&kids0)) / n;
    per_fork[CPU_US] = per_fork[PARENT_CPU_US] + per_fork[CHILD_CPU_US];
    per_fork[PARENT_FAULTS] = (double)(self1.ru_minflt - self0.ru_minflt) / n;
    per_fork[CHILD_FAULTS] = (double)(kids1.ru_minflt - kids0.ru_minflt) / n;
    per_fork[FAULTS] = per_fork[PARENT_FAULTS] + per_fork[CHILD_FAULTS];
}

/* A recipe's rows from its trials' samples (x[measure][trial]): wall time, CPU and page faults
 * per fork, the last two with the parent's and the children's means beside them. */
static void add_recipe_rows(struct report *r, const char *recipe, long trials,
                            double x[MEASURES][trials])
{
    size_t n = (size_t)trials;
    char name[60];
    report_add(r, recipe, 0, "us", stats_of(x[WALL_US], n));
    snprintf(name, sizeof name, "cpu:%s", recipe);
    report_add(r, name, 0, "us", stats_of(x[CPU_US], n));
    report_comment(r, "parent %.0f + child %.0f us (means)", stats_of(x[PARENT_CPU_US], n).mean,
                   stats_of(x[CHILD_CPU_US], n).mean);
    snprintf(name, sizeof name, "faults:%s", recipe);
    report_add(r, name, 0, "faults", stats_of(x[FAULTS], n));
    report_comment(r, "parent %.1f + child %.1f (means)", stats_of(x[PARENT_FAULTS], n).mean,
                   stats_of(x[CHILD_FAULTS], n).mean);
}

static void stress_ng_conclusion(const struct report *r)
{
    double plain = median_of(r, "plain", 0), like = median_of(r, "stress-ng-like", 0);
    double cpu_plain = median_of(r, "cpu:plain", 0);
    double cpu_like = median_of(r, "cpu:stress-ng-like", 0);
    const char *separator = "";
    printf("  -> stress-ng's loop rebuilt here: %.0f us per fork, %.2fx the plain fork's %.0f us;"
           "\n     each recipe minus plain:", like, like / plain, plain);
    for (int k = 0; k < fork_recipe_count; k++) {
        const char *name = fork_recipes[k].name;
        if (strcmp(name, "plain") != 0 && strcmp(name, "stress-ng-like") != 0) {
            printf("%s %s %+.0f us", separator, name, median_of(r, name, 0) - plain);
            separator = ",";
        }
    }
    printf(".\n     CPU per fork (parent + child) %.0f -> %.0f us, page faults %.0f -> %.0f",
           cpu_plain, cpu_like, median_of(r, "faults:plain", 0),
           median_of(r, "faults:stress-ng-like", 0));
    if (like <= plain)
        printf(": the extras made no difference to the time in this run.\n");
    else if (cpu_like - cpu_plain > 0.5 * (like - plain))
        printf(": most of the extra time is CPU the extras use.\n");
    else
        printf(": most of the extra time is not CPU: it is spent waiting (for a CPU, or the "
               "child).\n");
}

/* The lines of a file (/proc/self/maps: one per mapping), or -1 when it cannot be read. */
static long lines_in(const char *path)
{
    char line[512];
    long lines = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        lines += strchr(line, '\n') != NULL;
    fclose(f);
    return lines;
}

/* What fork copies from this process: its mappings, and its anonymous memory (the pages whose
 * table entries fork copies and write-protects; file pages are faulted in again instead). */
static void note_this_process(struct report *r)
{
    long mappings = lines_in("/proc/self/maps");
    long rss = (long)proc_value("/proc/self/status", "VmRSS");
    long anon = (long)proc_value("/proc/self/smaps_rollup", "Anonymous");
    printf("  the forking process: %ld mappings, %ld KiB resident, %ld KiB of it anonymous\n",
           mappings, rss, anon);
    report_note(r, "parent_mappings=%ld parent_rss_kib=%ld parent_anon_kib=%ld", mappings, rss,
                anon);
}

/* Every recipe trial by trial in turn, so load from elsewhere falls on all alike. The TSV's
 * mean per fork (wall time / forks) is the inverse of stress-ng's rate. */
static void run_stress_ng(const struct ch01_opts *c)
{
    const struct kit_opts *o = &c->kit;
    long trials = trials_for(o, 5, 15, 30);
    double budget = budget_for(o, 0.6, 4.0), slowest = 0, per_fork[MEASURES];
    for (int k = 0; k < fork_recipe_count; k++) {      /* warm-up: one fork of each, timed */
        time_recipe(&fork_recipes[k], 1, per_fork);
        slowest = fmax(slowest, per_fork[WALL_US]);
    }
    long ops = count_within(budget / (double)(trials * fork_recipe_count), slowest / 1e6, 1,
                            by_mode(o, 20, 100, 400));
    printf("\nstress-ng: fork + _exit + waitpid with stress-ng's extras, %ld forks per trial, %ld "
           "trials per recipe in turn\n", ops, trials);
    double (*x)[MEASURES][trials] = malloc(sizeof(double[fork_recipe_count][MEASURES][trials]));
    if (!x)
        die_errno("malloc");
    for (long i = 0; i < trials; i++) {
        exit_if_stopped();
        if (o->mode != MODE_QUICK)
            progress("stress-ng: trial %ld of %ld", i + 1, trials);
        for (int k = 0; k < fork_recipe_count; k++) {
            time_recipe(&fork_recipes[k], ops, per_fork);
            for (int m = 0; m < MEASURES; m++)
                x[k][m][i] = per_fork[m];
        }
    }
    struct report r;
    report_start(&r, o, "stress-ng", "none");
    report_note(&r, "forks_per_trial=%ld", ops);
    note_this_process(&r);
    for (int k = 0; k < fork_recipe_count; k++)
        add_recipe_rows(&r, fork_recipes[k].name, trials, x[k]);
    free(x);
    report_print(&r);
    stress_ng_conclusion(&r);
    report_save(&r);
}

/* ---------- options and main ---------- */

static struct ch01_opts parse_options(int argc, char **argv)
{
    struct ch01_opts c = {kit_defaults("ch01-fork", usage, argc, argv), 0, false, -1};
    const char *max_rss_text = NULL, *kill_text = NULL;
    const struct kit_option own[] = {{"--max-rss", &max_rss_text, NULL},
                                     {"--kill-child", &kill_text, NULL}};
    parse_kit_options(&c.kit, argc, argv, own, KIT_COUNT(own), experiments, KIT_COUNT(experiments));
    if (kill_text)
        c.kill_child = (long)parse_count("--kill-child", kill_text, 0, BATCH_MAX - 1);
    long sweep = 2 * c.kit.workers;
    refuse_long_sweep(&c.kit, "speedup", sweep * (sweep + 1) / 2, "P = 1..2W");
    if (c.kill_child >= 0 && !wanted(&c.kit, "batch"))
        die_usage("--kill-child: only the batch experiment has children to kill (--only %s)",
                  c.kit.only);
    /* The parent's memory plus the child's copies of every page written. */
    unsigned long long limit = available_memory() / 2;
    c.max_rss = (unsigned long long)by_mode(&c.kit, 16 << 20, 256 << 20, 1 << 30);
    c.max_rss_given = max_rss_text != NULL;
    if (max_rss_text)
        c.max_rss = parse_size("--max-rss", max_rss_text, 1 << 20, limit);
    else if (wanted(&c.kit, "rss") && c.max_rss > limit)
        die("the rss experiment needs 2 x %llu MiB and only %llu MiB is available; "
            "pass a smaller --max-rss", c.max_rss >> 20, (limit * 2) >> 20);
    return c;
}

int main(int argc, char **argv)
{
    struct ch01_opts c = parse_options(argc, argv);
    prepare_out_dir(&c.kit);
    catch_stop_signals(kill_children);
    if (c.kit.pin == PIN_SAME)
        pin_to_cpu(0);
    print_run_header(&c.kit, "what does starting a process cost, and why?");
    printf("placement: %s\n", pin_name(c.kit.pin));
    if (wanted(&c.kit, "batch") || wanted(&c.kit, "speedup"))
        report_effective_cpus(&c.kit, calibration_spins(&c.kit));

    double fork_reap = NAN;     /* us, from the methods experiment when it runs */
    if (wanted(&c.kit, "methods"))
        fork_reap = run_methods(&c);
    if (wanted(&c.kit, "batch"))
        run_batch_sweep(&c, fork_reap);
    if (wanted(&c.kit, "rss"))
        run_rss(&c);
    if (wanted(&c.kit, "speedup"))
        run_speedup(&c);
    if (c.kit.only && strcmp(c.kit.only, "stress-ng") == 0)     /* never in a default run */
        run_stress_ng(&c);
    printf("\nverification: every child's exit status checked, every child reaped, sums exact.\n"
           "TSV files: %s/ch01-*.tsv\n", c.kit.out_dir);
    return 0;
}
