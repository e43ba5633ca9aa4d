/* ch06-rectangles - a real search on a process pool: signed Latin rectangles.
 *
 * Read search.c first (the counting algorithm, step by step), then pool.c (the pre-forked pool
 * that runs its tasks). This file is the driver: options, counting R N on the pool, the work
 * as independent jobs (--task, --merge), and main; analyze.c measures the pool (--analyze);
 * counts.c checks every count against the values known independently.
 * Usage: the text below (--help). Linux only (prctl PR_SET_PDEATHSIG, wait4).
 * Exit: 0 ok, 1 runtime or verification failure (a killed worker included), 2 usage error.
 * Sample output line:
 *   positive        576,000
 * What to look for: the cycle-type split does ~100x less work than the first-column split; a
 * pool of 1 or 2 costs under a millisecond on a quiet machine when workers take their own
 * tasks, while a round trip through the parent costs tens of microseconds per task; on a
 * shared machine wall-time speedup drops while CPU-time speedup stays near the worker count.
 */
#define _GNU_SOURCE
#include "driver.h"

static const char usage[] =
    "Usage: ch06-rectangles R N [--split cycle-type|cycle-type-fine|first-column] [--workers W]\n"
    "                           [--dispatch shared|parent] [--setup task|worker] [--yes]\n"
    "       ch06-rectangles R N --task K/T [--split S]    job K of T: a TSV row per task (stdout)\n"
    "       ch06-rectangles R N --merge FILE [--split S]  add up --task rows (FILE, - = stdin)\n"
    "       ch06-rectangles [R N] --analyze [--quick | --full] [--workers W] [--trials N]\n"
    "                           [--out DIR]\n"
    "Counts normalized R x N Latin rectangles (first row 1..N) by sign: positive, negative,\n"
    "total, difference. 2 <= R <= N <= 16. Linux only.\n"
    "  --split S     cycle-type: a task per cycle type of row 2 and sorted first column;\n"
    "                cycle-type-fine: each of those split again by row 3's 2nd symbol (R >= 4);\n"
    "                first-column: a task per sorted first column (--analyze's default).\n"
    "                Default: cycle-type, or cycle-type-fine when cycle-type gives fewer than 64\n"
    "                tasks and R >= 4 (few big tasks leave a worker idle at the end)\n"
    "  --workers W   processes in the pool (default: online CPUs)\n"
    "  --setup task  rebuild the filtered derangement table for every task (the naive pool);\n"
    "  --setup worker  build each table once per worker and keep it (default)\n"
    "  --dispatch D  shared (default): the workers take their tasks from one shared pipe and put\n"
    "                results in shared memory; parent: the parent sends each worker its next task\n"
    "  --yes         run a size whose estimated time is over an hour\n"
    "  --task K/T    run the tasks i with i mod T = K-1 (1 <= K <= T); columns:\n"
    "                task tasks split r n label weight positive negative seconds\n"
    "                (positive/negative before the weight; the weighted sum is the count)\n"
    "  --analyze     the ProcessPool questions, answered by measurement (no R N: (4,6) --quick,\n"
    "                (4,7) default, (5,7) --full). --only timeline|overhead|setup|split.\n"
    "SIGINT or SIGTERM stops every mode within a second, also in the middle of a task.\n"
    "Writes (with --analyze) five special tables:\n"
    "  results/ch06-timeline.tsv  worker task label start_ms end_ms setup_ms cpu_ms rectangles\n"
    "                             (one pool run at --workers W; times from the pool's start)\n"
    "  results/ch06-workers.tsv   worker pid tasks task_list setups setup_ms busy_ms cpu_ms\n"
    "                             rectangles rate_per_s (cpu_ms from wait4)\n"
    "  results/ch06-overhead.tsv  workers dispatch trials wall_ms wall_min_ms wall_max_ms\n"
    "                             overhead_ms overhead_min_ms overhead_max_ms empty_ms\n"
    "                             empty_min_ms empty_max_ms pool_cpu_ms startup_ms shutdown_ms\n"
    "                             busy_max_ms cpu_max_ms speedup_wall speedup_cpu\n"
    "                             efficiency_wall efficiency_cpu imbalance gap_us\n"
    "                             (workers 0, dispatch -: the plain loop. overhead = wall - the\n"
    "                             busiest worker's busy time; empty = the same pool with tasks\n"
    "                             that return at once; pool_cpu = CPU outside the tasks, parent\n"
    "                             and workers; startup = until the last worker is set up;\n"
    "                             shutdown = last task's end to all reaped; gap = median time\n"
    "                             between two tasks of a worker)\n"
    "  results/ch06-split.tsv     split tasks work_steps wall_ms cpu_ms largest_task_ms\n"
    "                             mean_task_ms positive negative\n"
    "  results/ch06-setup.tsv     setup setups setup_ms wall_ms\n";

static const char *const experiments[] = {"timeline", "overhead", "setup", "split"};
enum { FEW_TASKS = 64 };   /* the default split goes finer below this many cycle-type tasks */

/* ---------- counting R N on the pool ---------- */

static void describe_count_run(const struct kit_opts *o, const struct options *opt,
                               const struct job *job, double estimate)
{
    char num[64];
    printf("(%d,%d), %s split: %d tasks, each rectangle counted stands for ", job->r, job->n,
           split_names[job->split], job->task_count);
    if (job->split == SPLIT_FIRST_COLUMN)
        printf("(r-1)! = %s\n", format_u128(factorial(job->r - 1), true, num, sizeof num));
    else
        printf("its class size x (r-2)! = %s x class size (%d cycle types)\n",
               format_u128(factorial(job->r - 2), true, num, sizeof num), job->class_count);
    printf("pool: %ld pre-forked workers, dynamic scheduling (%s); placement: %s\n", o->workers,
           opt->dispatch == DISPATCH_SHARED ? "each takes its next task from one shared pipe"
                                            : "the parent sends each worker its next task",
           pin_name(o->pin));
    printf("estimate: %.2g steps of work (Knuth's random probes), about %.2g s at %.0f ns a "
           "step\n", estimate, estimate * NS_PER_WORK_UNIT / 1e9 / (double)o->workers,
           NS_PER_WORK_UNIT);
}

static void run_count(struct kit_opts *o, const struct options *opt, const struct job *job,
                      double estimate)
{
    struct pool_run run;
    char what[512];
    print_run_header(o, "signed Latin rectangles, counted on a process pool");
    if (o->workers > 1)
        report_effective_cpus(o, 1000000);
    describe_count_run(o, opt, job, estimate);
    pool_run_init(&run, job, (int)o->workers);
    run_pool(job, (int)o->workers, opt->dispatch, o->pin, &run);
    struct count c = verified_count(job, run.results, what, sizeof what);
    print_count(c);
    double cpu = 0, wall = (double)run.wall_ns / 1e9;
    double rectangles = (double)(c.positive + c.negative);
    for (int w = 0; w < run.workers; w++)
        cpu += (double)run.worker_cpu_ns[w] / 1e9;
    printf("  wall %.3f s, CPU %.3f s (all workers, from wait4), work %.4g steps (DFS cells + "
           "DP steps;\n  estimated beforehand: %.2g)\n", wall, cpu, (double)c.work, estimate);
    printf("  -> %.3g rectangles per CPU-second (after the symmetry factor), %.3g per "
           "wall-second\n", rectangles / cpu, rectangles / wall);
    if (job->split == SPLIT_FIRST_COLUMN)
        add_check(what, sizeof what, "all %d first-column tasks gave the same count",
                  job->task_count);
    printf("verification: %s\n", what[0] ? what : "no independent value known for this size "
                                                  "(cross-check with the other --split)");
    pool_run_free(&run);
}

/* ---------- --task K/T and --merge: the work as independent jobs ---------- */

static void run_task_slice(const struct job *job, long k, long t)
{
    struct solver *sv = solver_new(job);
    char label[64], w[64], p[64], q[64];
    printf("task\ttasks\tsplit\tr\tn\tlabel\tweight\tpositive\tnegative\tseconds\n");
    for (int i = (int)(k - 1); i < job->task_count; i += (int)t) {
        struct task_result res;
        exit_if_stopped();
        run_task(job, i, sv, &res);
        u128 pos = (u128)(((i128)res.total + res.signed_sum) / 2);
        printf("%d\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%.6f\n", i, job->task_count,
               split_names[job->split], job->r, job->n,
               task_label(job, &job->tasks[i], label, sizeof label),
               format_u128(task_weight(job, &job->tasks[i]), false, w, sizeof w),
               format_u128(pos, false, p, sizeof p),
               format_u128(res.total - pos, false, q, sizeof q),
               (double)(res.end_ns - res.start_ns) / 1e9);
    }
    solver_free(sv);
    if (fflush(stdout) == EOF || ferror(stdout))
        die("writing the task rows failed");
}

/* One row of --task output into results[task]; every field checked against this job. */
static void merge_row(const struct job *job, const char *line, const char *where,
                      struct task_result *results, char *seen)
{
    char split[32], label[64], weight[64], pos[64], neg[64];
    int task, tasks, r, n;
    double seconds;
    u128 wt, p, q;
    if (sscanf(line, "%d\t%d\t%31[^\t]\t%d\t%d\t%63[^\t]\t%63[^\t]\t%63[^\t]\t%63[^\t]\t%lf",
               &task, &tasks, split, &r, &n, label, weight, pos, neg, &seconds) != 10 ||
        !parse_u128(weight, &wt) || !parse_u128(pos, &p) || !parse_u128(neg, &q))
        verification_failed("%s: not a task row: %s", where, line);
    if (r != job->r || n != job->n || tasks != job->task_count ||
        strcmp(split, split_names[job->split]) != 0)
        verification_failed("%s: a row of (%d,%d) %s with %d tasks, merging (%d,%d) %s with %d",
                            where, r, n, split, tasks, job->r, job->n, split_names[job->split],
                            job->task_count);
    if (task < 0 || task >= job->task_count)
        verification_failed("%s: task %d is not one of 0..%d", where, task, job->task_count - 1);
    if (seen[task]++)
        verification_failed("%s: task %d appears twice", where, task);
    if (wt != task_weight(job, &job->tasks[task]))
        verification_failed("%s: task %d has weight %s, expected another", where, task, weight);
    results[task].total = p + q;
    results[task].signed_sum = (i128)p - (i128)q;
}

static void run_merge(const struct job *job, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        die("cannot read %s: %s", path, strerror(errno));
    struct task_result *results = calloc((size_t)job->task_count, sizeof *results);
    char *seen = calloc((size_t)job->task_count, 1);
    if (!results || !seen)
        die_errno("calloc");
    char line[512], what[512], where[PATH_MAX + 32];
    int rows = 0, number = 0;
    while (fgets(line, sizeof line, f)) {
        number++;
        if (line[0] == '#' || strncmp(line, "task\t", 5) == 0 || line[0] == '\n')
            continue;
        snprintf(where, sizeof where, "%s:%d", path, number);
        merge_row(job, line, where, results, seen);
        rows++;
    }
    if (ferror(f))
        die("reading %s failed", path);
    if (f != stdin)
        fclose(f);
    for (int i = 0; i < job->task_count; i++)
        if (!seen[i])
            verification_failed("task %d of %d is missing from %s", i, job->task_count, path);
    struct count c = verified_count(job, results, what, sizeof what);
    printf("(%d,%d), %s split: merged %d task rows from %s, every task exactly once\n", job->r,
           job->n, split_names[job->split], rows, path);
    print_count(c);
    printf("verification: every task exactly once%s%s\n", what[0] ? "; " : "", what);
    free(results);
    free(seen);
}

/* ---------- options ---------- */

static void parse_task_slice(const char *text, long *k, long *t)
{
    char *end;
    errno = 0;
    long a = strtol(text, &end, 10);
    if (end == text || *end != '/' || errno)
        die_usage("--task: '%s' is not K/T (job K of T, 1 <= K <= T <= 1000000)", text);
    const char *rest = end + 1;
    long b = strtol(rest, &end, 10);
    if (end == rest || *end != '\0' || errno || b < 1 || b > 1000000 || a < 1 || a > b)
        die_usage("--task: '%s' is out of range (K/T with 1 <= K <= T <= 1000000)", text);
    *k = a;
    *t = b;
}

/* The chapter's options and R N, checked once all are read. */
static struct options parse_options(struct kit_opts *o, int argc, char **argv)
{
    static const char *const setups[] = {"worker", "task"};   /* enum setup's order */
    struct options opt = {.setup = SETUP_PER_WORKER, .dispatch = DISPATCH_SHARED};
    const char *split = NULL, *setup = NULL, *dispatch = NULL, *task = NULL;
    const char *r_text = NULL, *n_text = NULL;
    const struct kit_option own[] = {
        {"--split", &split, NULL}, {"--setup", &setup, NULL}, {"--dispatch", &dispatch, NULL},
        {"--task", &task, NULL}, {"--merge", &opt.merge_path, NULL},
        {"--analyze", NULL, &opt.analyze}, {"--yes", NULL, &opt.yes},
        {"R", &r_text, NULL}, {"N", &n_text, NULL},
    };
    parse_kit_options(o, argc, argv, own, KIT_COUNT(own), experiments, KIT_COUNT(experiments));
    if (split)
        opt.split = (enum split)parse_choice("--split", split, "a split", split_names, 3);
    opt.split_given = split != NULL;
    if (setup)
        opt.setup = (enum setup)parse_choice("--setup", setup, "a setup", setups, 2);
    if (dispatch)
        opt.dispatch = (enum dispatch)parse_choice("--dispatch", dispatch, "a dispatch",
                                                   dispatch_names, 2);
    if (task)
        parse_task_slice(task, &opt.task_k, &opt.task_t);
    if (r_text && !n_text)
        die_usage("give both R and N (rows and columns), e.g. 5 7");
    opt.r = (int)by_mode(o, 4, 4, 5), opt.n = (int)by_mode(o, 6, 7, 7);
    if (n_text) {
        opt.n = (int)parse_count("N", n_text, 2, MAX_N);
        opt.r = (int)parse_count("R", r_text, 2, opt.n);
    } else if (!opt.analyze && (opt.task_t || opt.merge_path || opt.split_given)) {
        die_usage("R and N are needed with --task, --merge and --split");
    }
    opt.analyze = opt.analyze || !r_text;
    if (opt.split_given && opt.split == SPLIT_CYCLE_TYPE_FINE && opt.r < 4)
        die_usage("--split cycle-type-fine: R is %d, it needs R >= 4 (row 3 must not be the "
                  "last row)", opt.r);
    if (opt.split_given && opt.analyze)
        die_usage("--split: --analyze always compares both splits");
    if (!opt.split_given)
        opt.split = opt.analyze ? SPLIT_FIRST_COLUMN : SPLIT_CYCLE_TYPE;
    if ((opt.task_t > 0) + (opt.merge_path != NULL) + opt.analyze > 1)
        die_usage("--task, --merge and --analyze are different modes: pick one");
    return opt;
}

/* The job to count: the split asked for, or cycle-type made finer when it gives few tasks. */
static struct job counting_job(const struct options *opt)
{
    struct job job = new_job(opt->r, opt->n, opt->split, opt->setup);
    if (!opt->split_given && job.task_count < FEW_TASKS && opt->r >= 4) {
        free_job(&job);                       /* few big tasks: split them once more */
        job = new_job(opt->r, opt->n, SPLIT_CYCLE_TYPE_FINE, opt->setup);
    }
    return job;
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch06-rectangles", usage, argc, argv);
    struct options opt = parse_options(&o, argc, argv);
    init_bit_tables(opt.n);
    if (opt.analyze) {
        catch_stop_signals(NULL);
        run_analysis(&o, &opt);
        return 0;
    }
    struct job job = counting_job(&opt);
    if (opt.merge_path) {
        run_merge(&job, opt.merge_path);
    } else if (opt.task_t) {
        check_size(&job, opt.task_t, opt.yes);          /* job K is 1/T of the work */
        catch_stop_signals(NULL);
        run_task_slice(&job, opt.task_k, opt.task_t);
    } else {
        double estimate = check_size(&job, o.workers, opt.yes);
        catch_stop_signals(NULL);
        run_count(&o, &opt, &job, estimate);
    }
    free_job(&job);
    return 0;
}
