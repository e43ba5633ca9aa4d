/* ch09-casestudy - naive vs optimized, end to end, and where the time goes. The driver:
 * options, experiments, tables, conclusions. The rungs of the ladder are in rungs.c.
 *
 * Five experiments, each its own TSV files and --only name:
 *   ladder     every rung at the default size: wall time, speedup over rung 0, and the phases
 *              of the median trial (start, distribute, compute, collect, teardown), which must
 *              add up to the wall time, with the CPU time and page faults of parent and workers;
 *              rung 5 again with its values mapped read-only instead of read with pread
 *              (-mapped), with its workers unpinned (-unpinned), and with the copy into
 *              shared memory inside the timer (+fill); what a
 *              page of shared memory costs a new process the first time it reads it, mapped
 *              read-write (rung 4), read-only, or read with pread (rung 5); the start and
 *              teardown phases step by step, and what the parent's heap costs a fork; the goal,
 *              beside what W processes at once give the arithmetic alone, and by how much and
 *              where it is missed; and rungs 0, 2 and 5+fill at a small
 *              input, where no parallel rung is worth setting up
 *   intensity  the naive rung (fork-per-chunk-pipe) against the optimized one (pool-shm-batched)
 *              as the work per value grows from 1/8 to 256 units: where copying stops mattering
 *   amdahl     the optimized rung at 1..2 x CPUs workers, beside the speedup the serial part
 *              of its own breakdown predicts
 *   size       rungs 0, 1, 2 and 5 from 10^4 values to --elements: fixed costs vs per-value costs
 *   arithmetic the compute alone in one process: sin and cos one value at a time, as the rungs
 *              do it, against glibc's vector versions 4, 8 and 16 at a time (vector.c), the
 *              kind of code NumPy runs
 *
 * Usage: ch09-casestudy [--quick | --full] [--only EXPERIMENT] [--elements N] [--units U]
 *                       [--chunk B] [--batch B] [--lanes L] [--trials N] [--workers N]
 *                       [--out DIR]
 * Exit: 0 ok, 1 runtime or verification failure, 2 usage error.
 * Sample output line (ladder):
 *   pool-pipe                   1e+07      102.3      98.32      109.7  ms  0.75x rung 0; ...
 * Every trial of every rung is checked against rung 0 bit for bit, block by block.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <sys/resource.h>

#include "report.h"
#include "rungs.h"
#include "vector.h"

static const char usage[] =
    "Usage: ch09-casestudy [--quick | --full] [--only ladder|intensity|amdahl|size|arithmetic]\n"
    "                      [--elements N] [--units U] [--chunk B] [--batch B] [--lanes L]\n"
    "                      [--trials N] [--workers N] [--pin none|same|spread] [--out DIR]\n"
    "Naive vs optimized, end to end: the sum of sin(x)cos(x) + sqrt|x| over float32 values,\n"
    "climbed rung by rung, each rung's time split into phases. (Linux only: shm_open, poll.)\n"
    "  --elements N   values at the default size (1K..1G; default 500K quick, 10M default,\n"
    "                 100M full; K, M, G are 1000s here: 10M = 10,000,000 as in the tutorial)\n"
    "  --units U      times the arithmetic is done per value in ladder, amdahl, size (1..256;\n"
    "                 default 1, the tutorial's)\n"
    "  --chunk B      blocks of 4096 values per chunk in rungs 1 and 2 (1..65536; default 64)\n"
    "  --batch B      blocks per batch in pool-shm-batched (1..65536; default 16 = 256 KiB)\n"
    "  --lanes L      values whose sin and cos are taken at once, in every rung of the ladder:\n"
    "                 1 (default: glibc's sinf and cosf, as the tutorial's arithmetic is\n"
    "                 written), or 4, 8, 16 (glibc's vector versions, as NumPy runs them; where\n"
    "                 the CPU has them; with --only ladder)\n"
    "  --workers N    processes in every parallel rung (amdahl: 1..2N)\n"
    "  --trials N     trials per point after a warm-up (default 2 quick, 5, 11 full; intensity\n"
    "                 and size, with many points, and arithmetic's rounds: 2, 3, 7)\n"
    "pool-shm-batched pins its workers (spread, one CPU each) whatever --pin says, and reads the\n"
    "values with pread, a batch at a time; --pin places the other rungs' workers.\n"
    "The goal (pool-shm-batched >= 0.8 x effective CPUs x one process) is read from rung 0 and\n"
    "rung 5 run in alternation, a trial of each per pair (3 pairs quick, 9, 15 full; --trials N:\n"
    "N pairs), kept in ch09-ladder.tsv as # pairs= paired_speedup= min= max=; beside it, the\n"
    "arithmetic alone in W processes at once against 1 (# arithmetic_parallelism= blocks=).\n"
    "Test switch (make a failure happen on purpose):\n"
    "  --inject corrupt   one bit of one value changes on its way to a worker\n"
    "  --inject partial   a worker returns one block's partial sum one unit in the last place off\n"
    "Writes results/ch09-{ladder,intensity,amdahl}.tsv with results/ch09-EXP-phases.tsv\n"
    "(columns: rung elements units workers start_ms distribute_ms compute_ms collect_ms\n"
    "teardown_ms sum_ms wall_ms unaccounted_pct parent_cpu_ms worker_cpu_ms parent_faults\n"
    "worker_faults, the median trial of each point), results/ch09-size.tsv and\n"
    "results/ch09-arithmetic.tsv (ns per value in one process: sin and cos one at a time, and\n"
    "through glibc's vector versions 4, 8, 16 at a time where the CPU has them; --inject corrupt\n"
    "there flips a bit of one value the vector passes read).\n"
    "The ladder also writes results/ch09-ladder-touch.tsv, the first-touch probe, one row per\n"
    "way of reaching the values (columns: way pages populate_ms first_ms again_ms unmap_ms\n"
    "faults work_first_ms work_again_ms check_ms check_apart_ms; CPU time of one process,\n"
    "medians of as many probes as intensity has trials per point; pread only: check_ms, a pass\n"
    "that sums and checksums every block, as rung 5 does; check_apart_ms, the same with each\n"
    "batch checksummed in a pass of its own before it is summed),\n"
    "and results/ch09-ladder-steps.tsv, the start and teardown steps of the median trial of\n"
    "each shared-memory rung, means over its workers (columns: rung workers start_ms\n"
    "teardown_ms fork_ms running_ms mapped_ms ready_ms saw_end_ms unmapped_ms reaped_ms).\n"
    "ch09-ladder.tsv notes a fork of the parent with the heap the pipe rungs left, then\n"
    "trimmed: # fork=left|trimmed rss_anon_kb= fork_cpu_ms= reaped_ms=\n"
    "pool-shm-batched+fill: rung 5 with the values copied into a fresh shared-memory object\n"
    "inside the timer (the other shared-memory rungs read the object the values were born in);\n"
    "pool-shm-batched-mapped: rung 5 with its workers mapping the values read-only;\n"
    "pool-shm-batched-unpinned: rung 5 with its workers placed by the scheduler (--pin none).\n";

static const char *const experiments[] = {"ladder", "intensity", "amdahl", "size",
                                           "arithmetic"};

/* Phases must add up to the wall time within this fraction, or the run says where not. */
#define CLOSES_WITHIN 0.05

struct ch09_opts {
    struct kit_opts kit;
    size_t elements;
    int units, lanes;
    size_t chunk_blocks, batch_blocks;
    enum fault fault;
    long trials;                /* per point: the ladder and amdahl */
    long sweep_trials;          /* per point: intensity, size and the first-touch probe */
};

/* ---------- one rung, measured and checked ---------- */

/* Rung 0's partial sums: what every rung must return, bit for bit. */
struct reference {
    double *partials;
    double total;
};

/* What a run cost besides wall time: CPU time and minor page faults, of the parent and of the
 * workers (every worker is reaped before a rung returns, so RUSAGE_CHILDREN holds them all). */
struct usage {
    double parent_cpu_ms, worker_cpu_ms;
    double parent_faults, worker_faults;
};

struct measured {
    struct stats wall_ms;
    double phase_ms[PHASES];    /* of the median trial */
    double trial_wall_ms;       /* that trial's wall time */
    struct usage use;           /* that trial's CPU time and page faults */
    struct worker_times times[MAX_TIMED];   /* that trial's workers' steps (rungs 4-5) */
    double worst_unaccounted;   /* over every trial, as a fraction of its wall time */
};

static struct rung_run rung_run_for(const struct ch09_opts *o, const struct input *in,
                                    int workers)
{
    struct rung_run r = {.in = in, .workers = workers, .pin = o->kit.pin,
                         .chunk_blocks = o->chunk_blocks, .batch_blocks = o->batch_blocks,
                         .fault = o->fault};
    r.partials = calloc(in->blocks, sizeof *r.partials);
    if (!r.partials)
        die_errno("calloc");
    return r;
}

static struct reference reference_of(const struct ch09_opts *o, const struct input *in)
{
    struct rung_run r = rung_run_for(o, in, 1);
    rungs[0].run(&r);
    return (struct reference){r.partials, r.total};
}

/* book:verify */
static void verify(const char *rung, const struct rung_run *r, const struct reference *ref)
{
    for (size_t b = 0; b < r->in->blocks; b++)
        if (memcmp(&r->partials[b], &ref->partials[b], sizeof(double)) != 0)
            verification_failed("%s: block %zu summed to %a (%.17g); rung 0 got %a (%.17g)",
                                rung, b, r->partials[b], r->partials[b], ref->partials[b],
                                ref->partials[b]);
    if (memcmp(&r->total, &ref->total, sizeof(double)) != 0)
        verification_failed("%s: total %a; rung 0 got %a", rung, r->total, ref->total);
}
/* end:verify */

static double sum_of(const double *phase_ms)
{
    double sum = 0;
    for (int p = 0; p < PHASES; p++)
        sum += phase_ms[p];
    return sum;
}

static double cpu_ms(const struct rusage *u) { return (double)rusage_cpu_ns(u) / 1e6; }

static struct usage usage_since(const struct rusage *self, const struct rusage *children)
{
    struct rusage s, c;
    getrusage(RUSAGE_SELF, &s);
    getrusage(RUSAGE_CHILDREN, &c);
    return (struct usage){cpu_ms(&s) - cpu_ms(self), cpu_ms(&c) - cpu_ms(children),
                          (double)(s.ru_minflt - self->ru_minflt),
                          (double)(c.ru_minflt - children->ru_minflt)};
}

/* One run: wall time from outside the rung, phases from inside, result checked. */
static double run_once(struct rung_run *r, const struct rung *rung, const struct reference *ref,
                       double *phase_ms, struct usage *use)
{
    memset(r->phase_ns, 0, sizeof r->phase_ns);
    exit_if_stopped();
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    uint64_t start = now_ns();
    rung->run(r);
    double wall_ms = (double)(now_ns() - start) / 1e6;
    *use = usage_since(&self, &children);
    verify(rung->name, r, ref);
    for (int p = 0; p < PHASES; p++)
        phase_ms[p] = r->phase_ns[p] / 1e6;
    return wall_ms;
}

static struct measured measure_rung(const struct ch09_opts *o, const struct rung *rung,
                                    const struct input *in, const struct reference *ref,
                                    int workers)
{
    struct rung_run r = rung_run_for(o, in, workers);
    long n = o->trials;
    double *walls = calloc((size_t)n, sizeof *walls), *sorted = calloc((size_t)n, sizeof *sorted);
    double (*phases)[PHASES] = malloc((size_t)n * sizeof *phases);
    struct usage *uses = malloc((size_t)n * sizeof *uses);
    struct worker_times (*times)[MAX_TIMED] = malloc((size_t)n * sizeof *times);
    if (!walls || !sorted || !phases || !uses || !times)
        die_errno("malloc");
    struct measured m = {0};
    run_once(&r, rung, ref, phases[0], &uses[0]);       /* warm-up, checked, not kept */
    for (long t = 0; t < n; t++) {
        walls[t] = sorted[t] = run_once(&r, rung, ref, phases[t], &uses[t]);
        memcpy(times[t], r.times, sizeof r.times);
        double off = fabs(walls[t] - sum_of(phases[t])) / walls[t];
        m.worst_unaccounted = off > m.worst_unaccounted ? off : m.worst_unaccounted;
    }
    m.wall_ms = stats_of(sorted, (size_t)n);
    long median_trial = 0;                              /* the trial nearest the median */
    for (long t = 1; t < n; t++)
        if (fabs(walls[t] - m.wall_ms.median) < fabs(walls[median_trial] - m.wall_ms.median))
            median_trial = t;
    memcpy(m.phase_ms, phases[median_trial], sizeof m.phase_ms);
    m.trial_wall_ms = walls[median_trial];
    m.use = uses[median_trial];
    memcpy(m.times, times[median_trial], sizeof m.times);
    free(times);
    free(uses);
    free(walls);
    free(sorted);
    free(phases);
    free(r.partials);
    return m;
}

/* book:pairs */
/* Rung 0 and rung 5 in alternation, one trial of each per pair: on a machine whose speed
 * drifts over seconds (a shared VM), measuring one rung after the other can hand one of them
 * the slow seconds; a pair runs both in the same seconds, and its ratio is rung 5's speedup. */
struct pair_of_rungs {
    struct rung_run alone, best;
    const struct rung *best_rung;
    const struct reference *ref;
};

/* One checked run's wall time; its phases and CPU time are not wanted here. */
static double wall_of_run(struct rung_run *r, const struct rung *rung, const struct reference *ref)
{
    double phase_ms[PHASES];
    struct usage use;
    return run_once(r, rung, ref, phase_ms, &use);
}

static double time_alone(void *arg)
{
    struct pair_of_rungs *p = arg;
    return wall_of_run(&p->alone, &rungs[0], p->ref);
}

static double time_best(void *arg)
{
    struct pair_of_rungs *p = arg;
    return wall_of_run(&p->best, p->best_rung, p->ref);
}

static struct stats paired_speedup(const struct ch09_opts *o, const struct input *in,
                                   const struct reference *ref, long pairs)
{
    struct pair_of_rungs p = {rung_run_for(o, in, 1), rung_run_for(o, in, (int)o->kit.workers),
                              find_rung("pool-shm-batched"), ref};
    struct stats s = measure_alternating_ratio(time_alone, time_best, &p, pairs);
    free(p.alone.partials);
    free(p.best.partials);
    return s;
}
/* end:pairs */

/* ---------- what the CPUs give the arithmetic itself ---------- */

/* The kit's effective-CPU calibration times a spin; this times the chapter's own arithmetic the
 * same way: the same blocks summed in 1 process, then in W processes at once, W x t(1) / t(W).
 * Each process sums a private copy the parent made before forking (so no page is new to it),
 * PARALLEL_PASSES times over, and must get rung 0's partial sums: what W workers could make of
 * the compute phase before any start, teardown or first-read cost. */
enum { PARALLEL_BLOCKS = 64, PARALLEL_PASSES = 16, WRONG_SUM = 3 };

struct parallel_job {
    float *values;
    const double *expected;         /* rung 0's partial sums of these blocks */
    size_t blocks;
    struct work work;
};

static int sum_blocks_child(int index, void *arg)
{
    (void)index;
    const struct parallel_job *j = arg;
    for (int pass = 0; pass < PARALLEL_PASSES; pass++)
        for (size_t b = 0; b < j->blocks; b++) {
            double sum = block_sum(j->values + b * BLOCK_VALUES, BLOCK_VALUES, j->work);
            if (memcmp(&sum, &j->expected[b], sizeof sum) != 0)
                return WRONG_SUM;
        }
    return 0;
}

static double sums_wall_ns(int procs, struct parallel_job *job)
{
    pid_t pids[procs];
    uint64_t start = now_ns();
    for (int p = 0; p < procs; p++)
        pids[p] = start_worker(p, PIN_NONE, sum_blocks_child, job);
    for (int p = 0; p < procs; p++) {
        int status = reap_child(pids[p]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == WRONG_SUM)
            verification_failed("the arithmetic in parallel: process %d of %d did not get rung "
                                "0's partial sums", p + 1, procs);
        if (!ended_ok(status))
            die_child("the arithmetic in parallel: process", p, pids[p], status, "%s", "");
    }
    return (double)(now_ns() - start);
}

struct parallelism {
    double ratio;                   /* W x t(1) / t(W); 0 when the input has no whole block */
    size_t blocks;
};

/* The median of 3 rounds. */
static struct parallelism arithmetic_parallelism(const struct input *in,
                                                 const struct reference *ref, int procs)
{
    size_t whole = in->count / BLOCK_VALUES;
    struct parallel_job job = {.expected = ref->partials, .work = in->work,
                               .blocks = whole < PARALLEL_BLOCKS ? whole : PARALLEL_BLOCKS};
    if (job.blocks == 0)
        return (struct parallelism){0, 0};
    size_t bytes = job.blocks * BLOCK_VALUES * sizeof(float);
    job.values = malloc(bytes);
    if (!job.values)
        die_errno("malloc");
    memcpy(job.values, in->values, bytes);
    double ratios[3];
    for (int r = 0; r < 3; r++) {
        double one = sums_wall_ns(1, &job);
        ratios[r] = procs * one / sums_wall_ns(procs, &job);
    }
    free(job.values);
    return (struct parallelism){stats_of(ratios, 3).median, job.blocks};
}

/* ---------- the phase tables: terminal and TSV ---------- */

struct phase_point {
    char rung[32];
    size_t elements;
    double units;
    int workers;
    struct measured m;
};

enum { MAX_PHASE_POINTS = 64 };
struct phase_table {
    const struct ch09_opts *o;
    char experiment[32];
    struct phase_point points[MAX_PHASE_POINTS];
    int count;
};

static void phase_add(struct phase_table *t, const char *rung, const struct input *in,
                      int workers, const struct measured *m)
{
    if (t->count == MAX_PHASE_POINTS)
        die("more than %d points in a phase table", MAX_PHASE_POINTS);
    struct phase_point *p = &t->points[t->count++];
    snprintf(p->rung, sizeof p->rung, "%s", rung);
    p->elements = in->count;
    p->units = units_per_value(in->work);
    p->workers = workers;
    p->m = *m;
}

static void phase_row(FILE *tsv, const struct phase_point *pt)
{
    const double *p = pt->m.phase_ms;
    const struct usage *u = &pt->m.use;
    double wall = pt->m.trial_wall_ms, sum = sum_of(p), off = 100 * (wall - sum) / wall;
    printf("  %-25s %9zu %5g %2d %7.2f %10.2f %8.2f %7.2f %8.2f %8.2f %6.1f%% %8.1f %8.1f "
           "%7.0f %7.0f%s\n", pt->rung, pt->elements, pt->units, pt->workers, p[0], p[1], p[2],
           p[3], p[4], wall, off, u->parent_cpu_ms, u->worker_cpu_ms, u->parent_faults,
           u->worker_faults,
           pt->m.worst_unaccounted > CLOSES_WITHIN ? "  a trial did not close" : "");
    fprintf(tsv, "%s\t%zu\t%g\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f"
            "\t%.3f\t%.3f\t%.0f\t%.0f\n", pt->rung, pt->elements, pt->units, pt->workers, p[0],
            p[1], p[2], p[3], p[4], sum, wall, off, u->parent_cpu_ms, u->worker_cpu_ms,
            u->parent_faults, u->worker_faults);
}

/* book:closes */
/* The table, and whether the accounting closed: in every trial the phases must add up to the
 * wall time measured around the rung within 5%. */
static void phase_table_finish(const struct phase_table *t)
{
    char name[64];
    snprintf(name, sizeof name, "%s-phases", t->experiment);
    FILE *tsv = tsv_open_table(&t->o->kit, name,
                               "rung\telements\tunits\tworkers\tstart_ms\tdistribute_ms"
                               "\tcompute_ms\tcollect_ms\tteardown_ms\tsum_ms\twall_ms"
                               "\tunaccounted_pct\tparent_cpu_ms\tworker_cpu_ms"
                               "\tparent_faults\tworker_faults");
    printf("  phases of the median trial (ms), its CPU time (ms) and minor page faults:\n"
           "  %-25s %9s %5s %2s %7s %10s %8s %7s %8s %8s %7s %8s %8s %7s %7s\n", "rung",
           "elements", "units", "W", "start", "distribute", "compute", "collect", "teardown",
           "wall", "unacc.", "cpu:par.", "workers", "flt:par", "workers");
    const struct phase_point *worst = &t->points[0];
    for (int i = 0; i < t->count; i++) {
        phase_row(tsv, &t->points[i]);
        if (t->points[i].m.worst_unaccounted > worst->m.worst_unaccounted)
            worst = &t->points[i];
    }
    tsv_close(tsv);
    double share = 100 * worst->m.worst_unaccounted;
    if (worst->m.worst_unaccounted <= CLOSES_WITHIN)
        printf("  -> accounting closes: in every trial the phases added up to the wall time "
               "within %.1f%% (worst: %s, %zu values, W = %d)\n", share, worst->rung,
               worst->elements, worst->workers);
    else
        printf("  -> accounting does NOT close everywhere: in one trial of %s (%zu values, "
               "W = %d) %.1f%% of the wall time fell outside every phase\n", worst->rung,
               worst->elements, worst->workers, share);
}
/* end:closes */

/* ---------- experiment 1: the ladder ---------- */

/* Every rung runs in the same parent, which forks its workers. Freed memory that glibc keeps in
 * the heap (an earlier rung's message buffers) would be copied-on-write by every later fork, so
 * each rung starts from the heap trimmed: a parent like one that runs that rung alone. */
static void ladder_point(const struct ch09_opts *o, struct report *rep, struct phase_table *t,
                         const struct rung *rung, const struct input *in)
{
    malloc_trim(0);
    struct reference ref = reference_of(o, in);
    struct measured m = measure_rung(o, rung, in, &ref, (int)o->kit.workers);
    free(ref.partials);
    report_add(rep, rung->name, (double)in->count, "ms", m.wall_ms);
    double floor_ms = median_of(rep, rungs[0].name, (double)in->count);
    if (rung != &rungs[0] && floor_ms > 0)
        report_comment(rep, "%.3gx rung 0; %s (ch. %s)", floor_ms / m.wall_ms.median,
                       rung->change, rung->taught);
    phase_add(t, rung->name, in, (int)o->kit.workers, &m);
}

static const struct measured *point_of(const struct phase_table *t, const char *rung,
                                       size_t elements)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->points[i].rung, rung) == 0 && t->points[i].elements == elements)
            return &t->points[i].m;
    die("no phase row for %s at %zu values", rung, elements);
}

static double phase_of(const struct phase_table *t, const char *rung, size_t elements,
                       enum phase p)
{
    return point_of(t, rung, elements)->phase_ms[p];
}

/* The optimization that does not pay: shared memory (and workers at all) for a small input. */
static void small_input_conclusion(const struct report *rep, const struct phase_table *t,
                                   size_t small)
{
    double seq = median_of(rep, "sequential", (double)small);
    double pipe = median_of(rep, "pool-pipe", (double)small);
    double shm = median_of(rep, filled_rung.name, (double)small);
    double pipe_d = phase_of(t, "pool-pipe", small, PHASE_DISTRIBUTE);
    double shm_d = phase_of(t, filled_rung.name, small, PHASE_DISTRIBUTE);
    printf("  -> at %zu values (%zu KB): one process %.3f ms, pool-pipe %.3f ms, %s %.3f ms: "
           "%s\n", small, small * 4 / 1000, seq, pipe, filled_rung.name, shm,
           seq < pipe && seq < shm ? "no parallel rung pays for so little work"
                                   : "a parallel rung still paid in this run");
    printf("     getting the values to the workers: %.3f ms into a fresh shared object against "
           "%.3f ms through pipes (%.2fx): %s\n", shm_d, pipe_d, shm_d / pipe_d,
           shm_d > pipe_d ? "for a small input shared memory does not pay"
                          : "shared memory was the cheaper way even here");
}

/* The probe's answers, one per way of mapping the values (the median of its trials, and the
 * fastest and slowest trial of each field), and their per-page costs in us. */
struct touches {
    struct first_touch kind[TOUCH_KINDS], low[TOUCH_KINDS], high[TOUCH_KINDS];
    size_t pages;
};

static double per_page_us(const struct touches *tt, double ms)
{
    return 1e3 * ms / (double)tt->pages;
}

static double first_us(const struct touches *tt, enum touch_kind k)
{
    return per_page_us(tt, tt->kind[k].first_ms);
}

/* Whose second pass is the arithmetic alone for a way of reading: its own through a mapping;
 * for pread, which pays its copy on every pass, the read-only mapping's. */
static enum touch_kind alone_of(enum touch_kind k)
{
    return k == TOUCH_PREAD ? TOUCH_READ_ONLY : k;
}

/* What reading the values costs inside the arithmetic, per page: the first pass less the
 * arithmetic alone. */
static double in_work_us(const struct touches *tt, enum touch_kind k)
{
    return per_page_us(tt, tt->kind[k].work_first_ms - tt->kind[alone_of(k)].work_again_ms);
}

static double in_work_ms(const struct touches *tt, enum touch_kind k)
{
    return in_work_us(tt, k) * (double)tt->pages / 1e3;
}

/* What checking every block's checksum costs, all blocks: the pread pass that sums and checks
 * less the second one that only sums; done as rung 5's workers do it, in the summing pass, or
 * (apart) in a pass of its own over each batch before the sum. */
static double checks_ms(const struct touches *tt, bool apart)
{
    const struct first_touch *m = &tt->kind[TOUCH_PREAD];
    return (apart ? m->check_apart_ms : m->check_ms) - m->work_again_ms;
}

/* Whether those two differences stand out of the probe's trials: the fastest trial of the
 * pass that reads (or checks) slower than the slowest trial of the pass it is set against. */
static bool in_work_measured(const struct touches *tt, enum touch_kind k)
{
    return tt->low[k].work_first_ms > tt->high[alone_of(k)].work_again_ms;
}

static bool checks_measured(const struct touches *tt, bool apart)
{
    const struct first_touch *lo = &tt->low[TOUCH_PREAD], *hi = &tt->high[TOUCH_PREAD];
    return (apart ? lo->check_apart_ms : lo->check_ms) > hi->work_again_ms;
}

/* Such a difference as a cost, "0.2 ms more" (unit " ms") or "0.38 more per page" (per
 * " per page"), when it stands out; else "not measurable (-0.45 per page, within the passes'
 * spread)". */
static const char *cost_text(char *buf, size_t n, double value, bool measured, int decimals,
                             const char *unit, const char *per)
{
    if (measured)
        snprintf(buf, n, "%.*f%s more%s", decimals, value, unit, per);
    else
        snprintf(buf, n, "not measurable (%.*f%s%s, within the passes' spread)", decimals, value,
                 unit, per);
    return buf;
}

/* book:goal */
/* The chapter's goal, checked in the run: the optimized rung at >= 0.8 x effective CPUs x the
 * throughput of one process, read from the pairs run in alternation; the ladder's medians, one
 * rung measured after the other, are reported beside them, never only the better of the two.
 * Then where the optimized rung's time went and, against what the goal allows, how far off its
 * median trial is: the phases outside compute, and the wait beyond one process's work split W
 * ways, of which the probe says how much is reading the values. */
static void goal_conclusion(const struct ch09_opts *o, const struct phase_table *t, size_t n,
                            double seq, const struct touches *tt, struct stats paired,
                            struct parallelism arithmetic)
{
    double goal = 0.8 * o->kit.effective_cpus, w = (double)o->kit.workers;
    const struct measured *best = point_of(t, "pool-shm-batched", n);
    const struct measured *filled = point_of(t, filled_rung.name, n);
    double best_ms = best->wall_ms.median, filled_ms = filled->wall_ms.median;
    printf("  -> goal: pool-shm-batched >= 0.8 x %.2f effective CPUs = %.2fx rung 0's "
           "throughput: %s in %zu pairs of trials run in alternation (median %.2fx, %.2f-%.2f); "
           "the ladder's medians, one rung after the other: %.2fx (%.1f against %.1f ms); %s "
           "when the run must first copy the values into shared memory (%.2fx in the ladder)\n",
           o->kit.effective_cpus, goal, paired.median >= goal ? "met" : "NOT met", paired.n,
           paired.median, paired.min, paired.max, seq / best_ms, best_ms, seq,
           seq / filled_ms >= goal ? "met" : "NOT met", seq / filled_ms);
    if (arithmetic.ratio > 0)
        printf("     the arithmetic alone, the same %zu blocks in %g processes at once against 1 "
               "(each from a private copy, %d passes; median of 3 rounds): %.2fx; the goal asks "
               "pool-shm-batched for %.2fx, %.2f of it\n", arithmetic.blocks, w, PARALLEL_PASSES,
               arithmetic.ratio, goal, goal / arithmetic.ratio);
    const double *p = best->phase_ms;
    double read_us = in_work_us(tt, TOUCH_PREAD), read_ms = (double)tt->pages / w * read_us / 1e3;
    char reads[32] = "not measurable", of_it[48] = "not measurable, within the probe's spread";
    char checks[32] = "not measurable";
    if (in_work_measured(tt, TOUCH_PREAD)) {
        snprintf(reads, sizeof reads, "%.1f ms", read_ms);
        snprintf(of_it, sizeof of_it, "about %.1f ms of it", read_ms);
    }
    if (checks_measured(tt, false))
        snprintf(checks, sizeof checks, "%.1f ms", checks_ms(tt, false) / w);
    printf("     the goal allows %.1f ms; where the median trial's %.1f ms went: start %.1f, "
           "distribute %.2f, collect %.2f, teardown %.1f ms; compute (waiting for the workers) "
           "%.1f ms, against %.1f ms for one process's work split %g ways; each worker's reads "
           "(%.0f pages with pread at %.2f us, inside the arithmetic) %s\n",
           seq / goal, best->trial_wall_ms, p[PHASE_START], p[PHASE_DISTRIBUTE], p[PHASE_COLLECT],
           p[PHASE_TEARDOWN], p[PHASE_COMPUTE], seq / w, w, (double)tt->pages / w, read_us,
           of_it);
    double over = best->trial_wall_ms - seq / goal;
    double outside = best->trial_wall_ms - p[PHASE_COMPUTE], beyond = p[PHASE_COMPUTE] - seq / w;
    if (over > 0)
        printf("     the median trial is %.1f ms over what the goal allows: %.1f ms outside "
               "compute, and %.1f ms of waiting beyond the work split %g ways (per worker: "
               "reads %s, checksums %s)\n", over, outside, beyond, w, reads, checks);
    else
        printf("     the median trial is %.1f ms inside what the goal allows\n", -over);
}
/* end:goal */

static void ladder_conclusions(const struct report *rep, const struct phase_table *t, size_t n)
{
    double seq = median_of(rep, "sequential", (double)n);
    double naive = median_of(rep, "fork-per-chunk-pipe", (double)n);
    double best = median_of(rep, "pool-shm-batched", (double)n);
    double filled = median_of(rep, filled_rung.name, (double)n);
    printf("  -> naive / optimized = %.2fx (%.1f / %.1f ms): the tutorial's one number, timed as "
           "the tutorial times it, after its data is in shared memory; counting the copy into "
           "shared memory too: %.2fx (%.1f ms)\n", naive / best, naive, best, naive / filled,
           filled);
    int step = 1;
    double gain = 0;
    for (int i = 1; i < rung_count; i++) {
        double g = median_of(rep, rungs[i - 1].name, (double)n) /
                   median_of(rep, rungs[i].name, (double)n);
        if (i > 1 && g > gain) {
            gain = g;
            step = i;
        }
    }
    printf("  -> the largest step among the parallel rungs: %s -> %s, %.2fx (%s)\n",
           rungs[step - 1].name, rungs[step].name, gain, rungs[step].change);
    const struct measured *f = point_of(t, filled_rung.name, n);
    printf("  -> getting the values into shared memory (create, populate, copy %zu MB): %.1f ms "
           "and %.0f page faults in the parent, %.0f%% of one process's whole run\n",
           n * 4 / 1000000, f->phase_ms[PHASE_DISTRIBUTE], f->use.parent_faults,
           100 * f->phase_ms[PHASE_DISTRIBUTE] / seq);
}

/* Rung 5's own choices, each against rung 5 with that choice undone, in the same run. */
static void choices_conclusion(const struct report *rep, const struct phase_table *t, size_t n)
{
    const char *const undone[] = {mapped_rung.name, unpinned_rung.name};
    const char *const choice[] = {"pread instead of a read-only mapping",
                                  "pinned instead of placed by the scheduler"};
    const struct stats *best = report_find(rep, "pool-shm-batched", (double)n);
    const struct measured *b = point_of(t, "pool-shm-batched", n);
    for (int i = 0; i < 2; i++) {
        const struct measured *u = point_of(t, undone[i], n);
        const struct stats *other = report_find(rep, undone[i], (double)n);
        printf("  -> %s: pool-shm-batched %.1f ms against %s %.1f ms (%s), workers' CPU %.1f "
               "against %.1f ms, start %.2f against %.2f, distribute %.2f against %.2f, "
               "teardown %.2f against %.2f\n", choice[i], best->median, undone[i], other->median,
               best->max < other->min   ? "it paid"
               : best->min > other->max ? "it did not pay"
                                        : "within the trials' spread",
               b->use.worker_cpu_ms,
               u->use.worker_cpu_ms, b->phase_ms[PHASE_START], u->phase_ms[PHASE_START],
               b->phase_ms[PHASE_DISTRIBUTE], u->phase_ms[PHASE_DISTRIBUTE],
               b->phase_ms[PHASE_TEARDOWN], u->phase_ms[PHASE_TEARDOWN]);
    }
}

/* Field f of a probe's answer, so that its trials can be summed up field by field. */
enum { TOUCH_FIELDS = 9 };
static double *field(struct first_touch *m, int f)
{
    double *fields[TOUCH_FIELDS] = {&m->populate_ms, &m->first_ms, &m->again_ms, &m->unmap_ms,
                                    &m->faults, &m->work_first_ms, &m->work_again_ms,
                                    &m->check_ms, &m->check_apart_ms};
    return fields[f];
}

/* The first-touch probe, `trials` times for each way of mapping: the median of each field,
 * and its fastest and slowest trial. */
static struct touches touches_of(const struct input *in, long trials, size_t batch_blocks)
{
    struct touches tt = {.pages = pages_of(in)};
    double *column[TOUCH_FIELDS];
    for (int f = 0; f < TOUCH_FIELDS; f++)
        if (!(column[f] = calloc((size_t)trials, sizeof *column[f])))
            die_errno("calloc");
    for (int k = 0; k < TOUCH_KINDS; k++) {
        for (long i = 0; i < trials; i++) {
            struct first_touch ft = measure_first_touch(in, (enum touch_kind)k, batch_blocks);
            for (int f = 0; f < TOUCH_FIELDS; f++)
                column[f][i] = *field(&ft, f);
        }
        for (int f = 0; f < TOUCH_FIELDS; f++) {
            struct stats st = stats_of(column[f], (size_t)trials);
            *field(&tt.kind[k], f) = st.median;
            *field(&tt.low[k], f) = st.min;
            *field(&tt.high[k], f) = st.max;
        }
    }
    for (int f = 0; f < TOUCH_FIELDS; f++)
        free(column[f]);
    return tt;
}

/* The probe's table: results/ch09-ladder-touch.tsv, one row per way of reaching the values. */
static void write_touches(const struct kit_opts *kit, const struct touches *tt)
{
    FILE *tsv = tsv_open_table(kit, "ladder-touch", "way\tpages\tpopulate_ms\tfirst_ms\t"
                               "again_ms\tunmap_ms\tfaults\twork_first_ms\twork_again_ms\t"
                               "check_ms\tcheck_apart_ms");
    for (int k = 0; k < TOUCH_KINDS; k++) {
        const struct first_touch *m = &tt->kind[k];
        fprintf(tsv, "%s\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\n",
                touch_names[k], tt->pages, m->populate_ms, m->first_ms, m->again_ms, m->unmap_ms,
                m->faults, m->work_first_ms, m->work_again_ms, m->check_ms, m->check_apart_ms);
    }
    tsv_close(tsv);
}

/* What first reads of pages explain of a shared-memory rung's extra CPU time: a share only
 * when there is extra CPU time and the probe's difference stands out of its trials. */
static void extra_cpu_line(const struct phase_table *t, size_t n, const char *rung,
                           const struct touches *tt, enum touch_kind k)
{
    const struct measured *seq = point_of(t, "sequential", n), *m = point_of(t, rung, n);
    double extra = m->use.worker_cpu_ms - seq->use.parent_cpu_ms;
    double touched = in_work_ms(tt, k);
    char more[64], read[192];
    if (extra > 0)
        snprintf(more, sizeof more, "%.1f ms more", extra);
    else
        snprintf(more, sizeof more, "no more than one process (%.1f ms)", extra);
    if (!in_work_measured(tt, k))
        snprintf(read, sizeof read, "not measurable (%.1f ms, within the passes' spread)",
                 touched);
    else if (extra <= 0)
        snprintf(read, sizeof read, "about %.1f ms", touched);
    else
        snprintf(read, sizeof read, "about %.1f ms (%.0f%% of the extra%s)", touched,
                 100 * touched / extra,
                 touched > extra ? "; more than all of it: the probe and the rung are separate "
                                   "runs, so the two numbers need not add up"
                                 : "");
    printf("     %s's workers (%s) used %.1f ms of CPU for what one process did in %.1f ms: "
           "%s; reading its pages inside the arithmetic, as the probe measured it: %s\n", rung,
           touch_names[k], m->use.worker_cpu_ms, seq->use.parent_cpu_ms, more, read);
}

/* book:first-touch-lines */
/* What a page of the shared values costs a new process, by how it is mapped, and what that
 * explains of the shared-memory rungs' extra CPU time. */
static void first_touch_conclusion(const struct phase_table *t, size_t n,
                                   const struct touches *tt)
{
    printf("  -> a new process reading the shared values, one byte per 4 KiB page (%zu pages; "
           "CPU time, us per page; median of the probes):\n", tt->pages);
    for (int k = 0; k < TOUCH_KINDS; k++) {
        const struct first_touch *m = &tt->kind[k];
        printf("     %-20s first read %6.2f, second %5.2f, munmap %5.2f (%.0f page faults in the "
               "first read", touch_names[k], first_us(tt, k), per_page_us(tt, m->again_ms),
               per_page_us(tt, m->unmap_ms), m->faults);
        if (k == TOUCH_READ_ONLY_POPULATED)
            printf("; populating before it: %.2f", per_page_us(tt, m->populate_ms));
        printf(")\n");
        char in_work[96], check[96], apart[96];
        cost_text(in_work, sizeof in_work, in_work_us(tt, k), in_work_measured(tt, k), 2, "",
                  " per page");
        if (k == TOUCH_READ_WRITE || k == TOUCH_READ_ONLY)
            printf("     %-20s summing every value through a fresh mapping: first pass %.1f ms, "
                   "second %.1f ms: %s\n", "", m->work_first_ms, m->work_again_ms, in_work);
        if (k == TOUCH_PREAD)
            printf("     %-20s summing every value read this way: first pass %.1f ms, second "
                   "%.1f ms; against the arithmetic alone: %s; checksumming every block in the "
                   "same pass: %s (in a pass of its own: %s)\n", "", m->work_first_ms,
                   m->work_again_ms, in_work,
                   cost_text(check, sizeof check, checks_ms(tt, false),
                             checks_measured(tt, false), 1, " ms", ""),
                   cost_text(apart, sizeof apart, checks_ms(tt, true), checks_measured(tt, true),
                             1, " ms", ""));
    }
    double rw = first_us(tt, TOUCH_READ_WRITE), ro = first_us(tt, TOUCH_READ_ONLY);
    const struct first_touch *pop = &tt->kind[TOUCH_READ_ONLY_POPULATED];
    double populated = per_page_us(tt, pop->populate_ms + pop->first_ms);
    char inside[48] = "inside the arithmetic: not measurable";
    if (in_work_measured(tt, TOUCH_READ_ONLY) && in_work_measured(tt, TOUCH_READ_WRITE))
        snprintf(inside, sizeof inside, "%.2fx inside the arithmetic",
                 in_work_us(tt, TOUCH_READ_ONLY) / in_work_us(tt, TOUCH_READ_WRITE));
    printf("     read-only first reads cost %.2fx the read-write ones (%s); populating first, "
           "then reading: %.2f us per page in all against %.2f, %s\n", ro / rw, inside,
           populated, ro,
           populated < 0.8 * ro    ? "cheaper than reading without it"
           : populated > 1.25 * ro ? "dearer than reading without it"
                                   : "about the same: the cost moved, not saved");
    printf("     pread cost %.2f us per page on the first pass and %.2f on the second, %.2fx "
           "a first read through a read-only mapping; inside the arithmetic %.2f against %.2f\n",
           first_us(tt, TOUCH_PREAD), per_page_us(tt, tt->kind[TOUCH_PREAD].again_ms),
           first_us(tt, TOUCH_PREAD) / ro, in_work_us(tt, TOUCH_PREAD),
           in_work_us(tt, TOUCH_READ_ONLY));
    extra_cpu_line(t, n, "pool-shm", tt, TOUCH_READ_WRITE);
    extra_cpu_line(t, n, mapped_rung.name, tt, TOUCH_READ_ONLY);
    extra_cpu_line(t, n, "pool-shm-batched", tt, TOUCH_PREAD);
}
/* end:first-touch-lines */

/* ---------- the start and teardown phases, step by step ---------- */

/* Each step is the interval between two stamps, one of them the worker's own; the width of its
 * column in the terminal table. */
static const struct {
    const char *name;
    enum stamp from, to;
    int width;
} steps[] = {
    {"fork", FORK_CALLED, FORK_RETURNED, 6},    /* the parent inside fork() */
    {"running", FORK_RETURNED, RUNNING, 7},     /* until the worker's first line: placed, pinned */
    {"mapped", RUNNING, READY_SENT, 6},         /* the worker maps the object */
    {"ready", READY_SENT, READY_SEEN, 6},       /* its "ready" reaches the parent */
    {"saw_end", TOLD_TO_STOP, SAW_END, 7},      /* the parent's close reaches the worker */
    {"unmapped", SAW_END, UNMAPPED, 8},         /* the worker frees and unmaps */
    {"reaped", UNMAPPED, REAPED, 6},            /* it exits; the parent's waitpid returns */
};
enum { STEPS = sizeof steps / sizeof steps[0], FIRST_STOP_STEP = 4 };
static const char *const stepped_rungs[] = {"pool-shm", "pool-shm-batched-mapped",
                                            "pool-shm-batched-unpinned", "pool-shm-batched"};

/* Step k in ms, the mean over the timed workers of the median trial; NAN if a stamp is missing. */
static double step_ms(const struct measured *m, int workers, int k)
{
    int timed = workers < MAX_TIMED ? workers : MAX_TIMED;
    double sum = 0;
    for (int s = 0; s < timed; s++) {
        const uint64_t *at = m->times[s].at;
        if (!at[steps[k].from] || !at[steps[k].to])
            return NAN;
        sum += ((double)at[steps[k].to] - (double)at[steps[k].from]) / 1e6;
    }
    return sum / timed;
}

/* The steps' table: results/ch09-ladder-steps.tsv, one row per shared-memory rung. */
static void write_steps(const struct kit_opts *kit, const struct phase_table *t, size_t n,
                        int workers)
{
    FILE *tsv = tsv_open_table(kit, "ladder-steps", "rung\tworkers\tstart_ms\tteardown_ms\t"
                               "fork_ms\trunning_ms\tmapped_ms\tready_ms\tsaw_end_ms\t"
                               "unmapped_ms\treaped_ms");
    for (size_t i = 0; i < sizeof stepped_rungs / sizeof stepped_rungs[0]; i++) {
        const struct measured *m = point_of(t, stepped_rungs[i], n);
        fprintf(tsv, "%s\t%d\t%.4f\t%.4f", stepped_rungs[i], workers, m->phase_ms[PHASE_START],
                m->phase_ms[PHASE_TEARDOWN]);
        for (int k = 0; k < STEPS; k++)
            fprintf(tsv, "\t%.4f", step_ms(m, workers, k));
        fprintf(tsv, "\n");
    }
    tsv_close(tsv);
}

/* book:steps */
/* Where the start and teardown phases went, step by step, for the shared-memory rungs: each
 * step's mean over the workers, from stamps the parent and the workers wrote in shared memory. */
static void steps_conclusion(const struct phase_table *t, size_t n, int workers)
{
    printf("  -> start and teardown step by step (median trial; ms per worker, mean of %d; fork: "
           "the parent in fork(); running: from its return to the worker's first line, pinning "
           "included):\n     %-25s %6s %6s %7s %6s %6s | %8s %7s %8s %6s\n",
           workers < MAX_TIMED ? workers : MAX_TIMED, "rung", "start", "fork", "running",
           "mapped", "ready", "teardown", "saw end", "unmapped", "reaped");
    for (size_t i = 0; i < sizeof stepped_rungs / sizeof stepped_rungs[0]; i++) {
        const struct measured *m = point_of(t, stepped_rungs[i], n);
        printf("     %-25s %6.2f", stepped_rungs[i], m->phase_ms[PHASE_START]);
        for (int k = 0; k < STEPS; k++) {
            if (k == FIRST_STOP_STEP)
                printf(" | %8.2f", m->phase_ms[PHASE_TEARDOWN]);
            printf(" %*.2f", steps[k].width, step_ms(m, workers, k));
        }
        printf("\n");
    }
}
/* end:steps */

/* book:fork-heap */
/* What the heap the pipe rungs leave behind costs a fork: the fork probe with the heap as they
 * left it, then trimmed (as every rung starts). */
static void fork_heap_probe(const struct ch09_opts *o, struct report *rep,
                            struct fork_cost *left, struct fork_cost *trimmed)
{
    *left = measure_fork(o->trials);
    malloc_trim(0);
    *trimmed = measure_fork(o->trials);
    report_note(rep, "fork=left rss_anon_kb=%.0f fork_cpu_ms=%.3f reaped_ms=%.3f",
                left->rss_anon_kb, left->fork_cpu_ms, left->reaped_ms);
    report_note(rep, "fork=trimmed rss_anon_kb=%.0f fork_cpu_ms=%.3f reaped_ms=%.3f",
                trimmed->rss_anon_kb, trimmed->fork_cpu_ms, trimmed->reaped_ms);
}
/* end:fork-heap */

static void fork_heap_conclusion(const struct fork_cost *left, const struct fork_cost *trimmed)
{
    printf("  -> forking the parent with the heap the pipe rungs left (%.0f kB of private memory "
           "in use): %.3f ms of its CPU inside fork(), the child reaped after %.3f ms; trimmed "
           "(%.0f kB): %.3f and %.3f ms: %s\n", left->rss_anon_kb, left->fork_cpu_ms,
           left->reaped_ms, trimmed->rss_anon_kb, trimmed->fork_cpu_ms, trimmed->reaped_ms,
           trimmed->fork_cpu_ms < left->fork_cpu_ms ? "every rung starts from a trimmed heap"
                                                    : "trimming saved nothing in this run");
}

static void run_ladder(const struct ch09_opts *o)
{
    struct input in, small;
    size_t small_count = o->elements < 16000 ? o->elements : 16000;
    make_input(&in, o->elements, o->kit.seed, (struct work){o->units, 1, o->lanes});
    printf("\nladder: %zu values, %d unit(s) of work each, W = %ld, %ld trials + 1 warm-up per "
           "rung; every trial's %zu block sums checked bit for bit against rung 0\n", in.count,
           o->units, o->kit.workers, o->trials, in.blocks);
    if (o->lanes > 1)
        printf("  in every rung, sin and cos %d values at a time through glibc's vector versions "
               "(--lanes %d), as NumPy takes them\n", o->lanes, o->lanes);
    struct report rep;
    report_start(&rep, &o->kit, "ladder", "elements");
    report_note(&rep, "lanes=%d", o->lanes);
    struct phase_table t = {.o = o, .experiment = "ladder"};
    struct fork_cost left = {0}, trimmed = {0};
    for (int i = 0; i < rung_count; i++) {
        progress("ladder: rung %d of %d (%s)", i, rung_count - 1, rungs[i].name);
        if (strcmp(rungs[i].name, "pool-shm") == 0)     /* after the pipe rungs */
            fork_heap_probe(o, &rep, &left, &trimmed);
        ladder_point(o, &rep, &t, &rungs[i], &in);
    }
    ladder_point(o, &rep, &t, &mapped_rung, &in);
    ladder_point(o, &rep, &t, &unpinned_rung, &in);
    ladder_point(o, &rep, &t, &filled_rung, &in);
    struct touches tt = touches_of(&in, o->sweep_trials, o->batch_blocks);
    write_touches(&o->kit, &tt);
    write_steps(&o->kit, &t, o->elements, (int)o->kit.workers);
    struct reference ref = reference_of(o, &in);
    printf("  result: %.17g (every rung: exactly this)\n", ref.total);
    long pairs = trials_for(&o->kit, 3, 9, 15);
    progress("ladder: rungs 0 and 5 in alternation, %ld pairs", pairs);
    struct stats paired = paired_speedup(o, &in, &ref, pairs);
    report_note(&rep, "pairs=%zu paired_speedup=%.4g min=%.4g max=%.4g", paired.n,
                paired.median, paired.min, paired.max);
    progress("ladder: the arithmetic alone in 1 process, then in %ld at once", o->kit.workers);
    struct parallelism arithmetic = arithmetic_parallelism(&in, &ref, (int)o->kit.workers);
    report_note(&rep, "arithmetic_parallelism=%.4g blocks=%zu", arithmetic.ratio,
                arithmetic.blocks);
    free(ref.partials);
    free_input(&in);
    make_input(&small, small_count, o->kit.seed, (struct work){o->units, 1, o->lanes});
    ladder_point(o, &rep, &t, &rungs[0], &small);
    ladder_point(o, &rep, &t, find_rung("pool-pipe"), &small);
    ladder_point(o, &rep, &t, &filled_rung, &small);
    free_input(&small);
    report_print(&rep);
    report_write(&rep);
    phase_table_finish(&t);
    ladder_conclusions(&rep, &t, o->elements);
    choices_conclusion(&rep, &t, o->elements);
    first_touch_conclusion(&t, o->elements, &tt);
    steps_conclusion(&t, o->elements, (int)o->kit.workers);
    fork_heap_conclusion(&left, &trimmed);
    goal_conclusion(o, &t, o->elements, median_of(&rep, "sequential", (double)o->elements), &tt,
                    paired, arithmetic);
    small_input_conclusion(&rep, &t, small_count);
    free(rep.rows);
}

/* ---------- experiment 2: intensity ---------- */

static struct stats one_value(double v) { return (struct stats){1, v, v, v, v, 0}; }

static struct stats scaled(struct stats s, double factor)
{
    s.median *= factor, s.min *= factor, s.max *= factor, s.mean *= factor, s.stddev *= factor;
    return s;
}

/* Where the naive rung's copying (distribute) falls below its compute: between two measured
 * intensities, on log scales. */
static double crossover(const double *units, const double *copy_per_compute, int count)
{
    for (int i = 1; i < count; i++) {
        double a = copy_per_compute[i - 1], b = copy_per_compute[i];
        if (a >= 1 && b < 1)
            return units[i - 1] * pow(units[i] / units[i - 1], log(a) / (log(a) - log(b)));
    }
    return NAN;
}

/* The crossover predicted from the tutorial's intensity alone, one unit per value: copying
 * costs the same per value whatever the work, and the work grows with the units. */
static double predicted_crossover(const double *units, const double *copy_per_compute, int count)
{
    for (int i = 0; i < count; i++)
        if (units[i] == 1)
            return copy_per_compute[i];
    return NAN;
}

static void intensity_conclusion(const double *units, const double *ratio, int count)
{
    double at = crossover(units, ratio, count);
    double predicted = predicted_crossover(units, ratio, count);
    if (isnan(at)) {
        printf("  -> copying %s compute at every intensity measured (copy/compute %.2f at %g "
               "unit(s), %.2f at %g)\n", ratio[0] < 1 ? "stayed below" : "stayed above",
               ratio[0], units[0], ratio[count - 1], units[count - 1]);
        return;
    }
    printf("  -> crossover: the naive rung's copying costs as much as the work itself at %.2g "
           "units per value; predicted from 1 unit (copying constant, the work growing with "
           "the units): %.2g, %s\n", at, predicted,
           at <= 2 * predicted && at >= predicted / 2 ? "within a factor 2"
                                                      : "NOT within a factor 2");
}

/* book:intensity */
/* Copying against computing: the naive rung's distribute phase (copies and pipe writes, done by
 * the parent alone) against the work itself in one process (rung 0). */
static void intensity_point(const struct ch09_opts *o, struct report *rep, struct phase_table *t,
                            const struct input *in, double *copy_per_compute)
{
    const struct rung *naive = find_rung("fork-per-chunk-pipe");
    const struct rung *best = find_rung("pool-shm-batched");
    struct reference ref = reference_of(o, in);
    int w = (int)o->kit.workers;
    struct measured seq = measure_rung(o, &rungs[0], in, &ref, 1);
    struct measured a = measure_rung(o, naive, in, &ref, w), b = measure_rung(o, best, in, &ref, w);
    free(ref.partials);
    double per_value = 1e6 / (double)in->count, x = units_per_value(in->work);
    report_add(rep, rungs[0].name, x, "ns/value", scaled(seq.wall_ms, per_value));
    report_add(rep, naive->name, x, "ns/value", scaled(a.wall_ms, per_value));
    report_add(rep, best->name, x, "ns/value", scaled(b.wall_ms, per_value));
    report_add(rep, "ratio", x, "x", ratio_of(a.wall_ms, b.wall_ms));
    report_comment(rep, "naive / optimized");
    *copy_per_compute = a.phase_ms[PHASE_DISTRIBUTE] / seq.trial_wall_ms;
    report_add(rep, "copy/compute", x, "x", one_value(*copy_per_compute));
    report_comment(rep, "naive's distribute phase / one process's time");
    phase_add(t, naive->name, in, w, &a);
    phase_add(t, best->name, in, w, &b);
}
/* end:intensity */

/* The intensities swept: from an eighth of a unit per value (a sixteenth in --quick, which
 * steps by 4) to 256 units, so that the crossover is inside the range on a machine where copying
 * a value costs less than the tutorial's arithmetic on it. At most 3 below 1 and 9 from 1 up. */
enum { MAX_INTENSITIES = 12 };
static int sweep_points(const struct ch09_opts *o, struct work *points)
{
    int step = o->kit.mode == MODE_QUICK ? 4 : 2, count = 0;
    for (int every = o->kit.mode == MODE_QUICK ? 16 : 8; every > 1; every /= step)
        points[count++] = (struct work){1, every, 1};
    for (int units = 1; units <= 256; units *= step)
        points[count++] = (struct work){units, 1, 1};
    return count;
}

static void run_intensity(const struct ch09_opts *options)
{
    struct ch09_opts sweep = *options, *o = &sweep;
    sweep.trials = options->sweep_trials;
    struct work points[MAX_INTENSITIES];
    double units[MAX_INTENSITIES], copy_per_compute[MAX_INTENSITIES];
    int count = sweep_points(o, points);
    long long work = by_mode(&o->kit, 250000, 2000000, 64000000);
    printf("\nintensity: fork-per-chunk-pipe (naive) vs pool-shm-batched (optimized), %g to 256 "
           "units of work per value, about %lld value-units per point (fewer values as the units "
           "grow above 1), W = %ld\n", units_per_value(points[0]), work, o->kit.workers);
    struct report rep;
    report_start(&rep, &o->kit, "intensity", "units");
    struct phase_table t = {.o = o, .experiment = "intensity"};
    for (int i = 0; i < count; i++) {
        struct input in;
        units[i] = units_per_value(points[i]);
        long long values = units[i] < 1 ? work : work / points[i].units;
        make_input(&in, (size_t)(values < 16000 ? 16000 : values), o->kit.seed, points[i]);
        progress("intensity: %g units, %zu values", units[i], in.count);
        intensity_point(o, &rep, &t, &in, &copy_per_compute[i]);
        free_input(&in);
    }
    report_note(&rep, "crossover_units=%.3g predicted_units=%.3g",
                crossover(units, copy_per_compute, count),
                predicted_crossover(units, copy_per_compute, count));
    report_finish(&rep);
    phase_table_finish(&t);
    intensity_conclusion(units, copy_per_compute, count);
}

/* ---------- experiment 3: amdahl ---------- */

/* book:amdahl */
/* The serial part is what the optimized rung's own breakdown at W = 1 shows outside compute
 * (start, distribute, collect, teardown); Amdahl's law divides only the rest among W workers. */
static double amdahl_speedup(double sequential_ms, const struct measured *one_worker, double w)
{
    double compute = one_worker->phase_ms[PHASE_COMPUTE];
    double serial = one_worker->trial_wall_ms - compute;
    return sequential_ms / (serial + compute / w);
}
/* end:amdahl */

static void amdahl_conclusion(const struct report *rep, double effective, int cpus, int most)
{
    double at_cpus = median_of(rep, "measured", cpus);
    double at_most = median_of(rep, "measured", most);
    if (!isnan(at_cpus))        /* no row there when --workers asks for fewer than the CPUs */
        printf("  -> at W = %d (the CPUs): measured %.2fx rung 0, Amdahl predicts %.2fx (%.2fx "
               "with the %.2f effective CPUs)\n", cpus, at_cpus, median_of(rep, "amdahl", cpus),
               median_of(rep, "amdahl-cpus", cpus), effective);
    double alone = median_of(rep, "amdahl", most), capped = median_of(rep, "amdahl-cpus", most);
    printf("  -> at W = %d: measured %.2fx; Amdahl alone would give %.2fx: ", most, at_most,
           alone);
    if (at_most > 1.25 * alone)
        printf("above it: the serial part read from the breakdown was not the limit here\n");
    else if (at_most >= 0.8 * alone)
        printf("the serial part is the limit here\n");
    else if (at_most >= 0.8 * capped && at_most <= 1.25 * capped)
        printf("the CPU count (%.2f effective) accounts for it: Amdahl with W capped there "
               "predicts %.2fx\n", effective, capped);
    else if (at_most > capped)
        printf("between Amdahl with W capped at the %.2f effective CPUs (%.2fx) and without: "
               "neither prediction accounts for it\n", effective, capped);
    else
        printf("below even Amdahl with W capped at the %.2f effective CPUs (%.2fx): neither the "
               "serial part nor the CPU count accounts for the rest (not measured here)\n",
               effective, capped);
}

static void run_amdahl(const struct ch09_opts *o)
{
    const struct rung *best = find_rung("pool-shm-batched");
    int most = 2 * (int)o->kit.workers;
    struct input in;
    make_input(&in, o->elements, o->kit.seed, (struct work){o->units, 1, 1});
    printf("\namdahl: pool-shm-batched at W = 1..%d, %zu values; the serial part measured at "
           "W = 1\n", most, in.count);
    struct reference ref = reference_of(o, &in);
    struct measured seq = measure_rung(o, &rungs[0], &in, &ref, 1), one = {0};
    struct report rep;
    report_start(&rep, &o->kit, "amdahl", "workers");
    struct phase_table t = {.o = o, .experiment = "amdahl"};
    phase_add(&t, rungs[0].name, &in, 1, &seq);
    for (int w = 1; w <= most; w++) {
        progress("amdahl: W = %d of %d", w, most);
        struct measured m = measure_rung(o, best, &in, &ref, w);
        if (w == 1)
            one = m;
        phase_add(&t, best->name, &in, w, &m);
        double cpus = w < o->kit.effective_cpus ? w : o->kit.effective_cpus;
        report_add(&rep, "measured", w, "x", ratio_of(seq.wall_ms, m.wall_ms));
        report_add(&rep, "amdahl", w, "x", one_value(amdahl_speedup(seq.trial_wall_ms, &one, w)));
        report_add(&rep, "amdahl-cpus", w, "x",
                   one_value(amdahl_speedup(seq.trial_wall_ms, &one, cpus)));
    }
    double serial = one.trial_wall_ms - one.phase_ms[PHASE_COMPUTE];
    report_note(&rep, "serial_fraction=%.4f serial_ms=%.3f sequential_ms=%.3f",
                serial / one.trial_wall_ms, serial, seq.trial_wall_ms);
    printf("  serial part at W = 1: %.2f of %.2f ms = %.1f%% (start, distribute, collect, "
           "teardown); one process: %.2f ms\n", serial, one.trial_wall_ms,
           100 * serial / one.trial_wall_ms, seq.trial_wall_ms);
    free(ref.partials);
    free_input(&in);
    report_print(&rep);
    report_write(&rep);
    phase_table_finish(&t);
    amdahl_conclusion(&rep, o->kit.effective_cpus, online_cpus(), most);
    free(rep.rows);
}

/* ---------- experiment 4: size ---------- */

static void size_conclusion(const struct report *rep, const double *sizes, int count,
                            double effective)
{
    for (int i = 0; i < count; i++) {
        double seq = median_of(rep, "sequential", sizes[i]);
        double best = median_of(rep, "pool-shm-batched", sizes[i]);
        if (best < seq) {
            printf("  -> the optimized rung first beats one process at %.0f values (%.0f against "
                   "%.0f ns per value)", sizes[i], best, seq);
            if (i > 0)
                printf("; at %.0f it lost (%.0f against %.0f)", sizes[i - 1],
                       median_of(rep, "pool-shm-batched", sizes[i - 1]),
                       median_of(rep, "sequential", sizes[i - 1]));
            printf("\n");
            return;
        }
    }
    printf("  -> one process was faster than pool-shm-batched at every size measured (up to %.0f "
           "values; %.2f effective CPUs); the size run does not split fixed from per-value costs "
           "(the ladder's phases do)\n", sizes[count - 1], effective);
}

static void run_size(const struct ch09_opts *options)
{
    struct ch09_opts sweep = *options, *o = &sweep;
    sweep.trials = options->sweep_trials;
    static const char *const names[] = {"sequential", "fork-per-chunk-pipe", "pool-pipe",
                                        "pool-shm-batched"};
    double sizes[8];
    int count = 0;
    for (double s = 1e4; s <= (double)o->elements && count < 7; s *= 10)
        sizes[count++] = s;
    if (count == 0 || sizes[count - 1] < (double)o->elements)
        sizes[count++] = (double)o->elements;
    printf("\nsize: rungs 0, 1, 2 and 5 from %.0f to %zu values, W = %ld: wall time per value\n",
           sizes[0], o->elements, o->kit.workers);
    struct report rep;
    report_start(&rep, &o->kit, "size", "elements");
    for (int i = 0; i < count; i++) {
        struct input in;
        make_input(&in, (size_t)sizes[i], o->kit.seed, (struct work){o->units, 1, 1});
        struct reference ref = reference_of(o, &in);
        progress("size: %zu values", in.count);
        for (int k = 0; k < 4; k++) {
            struct measured m = measure_rung(o, find_rung(names[k]), &in, &ref,
                                             (int)o->kit.workers);
            report_add(&rep, names[k], sizes[i], "ns/value", scaled(m.wall_ms, 1e6 / sizes[i]));
        }
        free(ref.partials);
        free_input(&in);
    }
    report_print(&rep);
    report_write(&rep);
    size_conclusion(&rep, sizes, count, o->kit.effective_cpus);
    free(rep.rows);
}

/* ---------- arithmetic: one process's compute, sin and cos 1, 4, 8 or 16 at a time ---------- */

/* Ways of computing sin and cos: one value at a time (the rungs' kernel), then glibc's vector
 * functions (vector.c), 4, 8 and 16 at a time. */
static const struct {
    int lanes;
    const char *name;
} arithmetic_ways[] = {{1, "sincosf-one-at-a-time"}, {4, "libmvec-4-sse"},
                       {8, "libmvec-8-avx2"}, {16, "libmvec-16-avx512"}};
enum { ARITHMETIC_WAYS = KIT_COUNT(arithmetic_ways) };

/* A vector sum agrees with the scalar one to this fraction, block by block: libmvec's 4 units
 * in the last place over a block of 4096 terms is about 1e-7 at worst. */
#define VECTOR_AGREES_WITHIN 1e-5

struct arithmetic_trial {
    const struct input *in;
    const float *values;        /* the input's, or a copy with one value changed (--inject) */
    int lanes;
    double *partials;           /* out: one sum per block */
};

/* One pass over every block, as rung 0 does it; ns per value. */
static double arithmetic_pass(void *ctx)
{
    struct arithmetic_trial *t = ctx;
    const struct input *in = t->in;
    uint64_t start = now_ns();
    for (size_t b = 0; b < in->blocks; b++) {
        const float *block = t->values + b * BLOCK_VALUES;
        size_t n = values_in(in, b, 1);
        t->partials[b] = t->lanes == 1 ? block_sum(block, n, in->work)
                                       : vector_sum(block, n, t->lanes);
    }
    return (double)(now_ns() - start) / (double)in->count;
}

/* One value at a time must give rung 0's sums bit for bit; the vector ways, within a bound. */
static void check_arithmetic(const struct arithmetic_trial *t, const char *name,
                             const struct reference *ref)
{
    for (size_t b = 0; b < t->in->blocks; b++) {
        double got = t->partials[b], want = ref->partials[b];
        bool ok = t->lanes == 1 ? memcmp(&got, &want, sizeof got) == 0
                                : fabs(got - want) <= VECTOR_AGREES_WITHIN * fabs(want);
        if (!ok)
            verification_failed("arithmetic: %s: block %zu summed to %.17g; rung 0 got %.17g",
                                name, b, got, want);
    }
}

/* The values the vector ways read: the input's own, or under --inject corrupt a copy with one
 * bit of one value flipped (bit 30 moves any value in [0, 1) far outside it). */
static float *values_for_vectors(const struct ch09_opts *o, const struct input *in)
{
    if (o->fault != FAULT_CORRUPT)
        return in->values;
    float *copy = malloc(in->count * sizeof *copy);
    if (!copy)
        die_errno("malloc");
    memcpy(copy, in->values, in->count * sizeof *copy);
    uint32_t bits;
    size_t bad = in->blocks / 2 * BLOCK_VALUES;
    memcpy(&bits, &copy[bad], sizeof bits);
    bits ^= 1u << 30;
    memcpy(&copy[bad], &bits, sizeof bits);
    return copy;
}

/* Every way once per round, in turn, so drift falls on all of them; the first round untimed. */
static void time_arithmetic(struct arithmetic_trial *trials, const bool *runs, long rounds,
                            const struct reference *ref, struct stats *ns_per_value)
{
    double samples[ARITHMETIC_WAYS][rounds];
    for (long round = -1; round < rounds; round++)
        for (int w = 0; w < ARITHMETIC_WAYS; w++) {
            if (!runs[w])
                continue;
            exit_if_stopped();
            double ns = arithmetic_pass(&trials[w]);
            check_arithmetic(&trials[w], arithmetic_ways[w].name, ref);
            if (round >= 0)
                samples[w][round] = ns;
        }
    for (int w = 0; w < ARITHMETIC_WAYS; w++)
        if (runs[w])
            ns_per_value[w] = stats_of(samples[w], (size_t)rounds);
}

static void arithmetic_conclusion(const struct report *rep, double elements)
{
    const char *fastest = NULL;
    double one = median_of(rep, arithmetic_ways[0].name, elements), best = one;
    int ran = 0;
    for (int w = 1; w < ARITHMETIC_WAYS; w++) {
        double ns = median_of(rep, arithmetic_ways[w].name, elements);
        ran += !isnan(ns);
        if (ns < best)
            best = ns, fastest = arithmetic_ways[w].name;
    }
    if (!ran) {
        printf("  -> no vector way ran on this machine; one value at a time: %.2f ns per value\n",
               one);
        return;
    }
    if (!fastest) {
        printf("  -> no vector way was faster here than one value at a time (%.2f ns per value)\n",
               one);
        return;
    }
    printf("  -> sin and cos through %s: %.2f ns per value against %.2f one at a time, %.2fx "
           "(one process; every block within %.0e of rung 0's sum)\n",
           fastest, best, one, one / best, VECTOR_AGREES_WITHIN);
}

static void run_arithmetic(const struct ch09_opts *o)
{
    long rounds = o->sweep_trials;
    struct input in;
    make_input(&in, o->elements, o->kit.seed, (struct work){1, 1, 1});
    struct reference ref = reference_of(o, &in);
    float *vector_values = values_for_vectors(o, &in);
    printf("\narithmetic: the tutorial's arithmetic alone in one process, %zu values, sin and "
           "cos one value at a time (the rungs) or 4, 8, 16 at a time (glibc's libmvec); "
           "%ld rounds + 1 warm-up, every way once per round\n", in.count, rounds);
    struct arithmetic_trial trials[ARITHMETIC_WAYS];
    bool runs[ARITHMETIC_WAYS];
    for (int w = 0; w < ARITHMETIC_WAYS; w++) {
        runs[w] = vector_width_runs(arithmetic_ways[w].lanes);
        trials[w] = (struct arithmetic_trial){&in, w ? vector_values : in.values,
                                              arithmetic_ways[w].lanes, NULL};
        trials[w].partials = calloc(in.blocks, sizeof *trials[w].partials);
        if (!trials[w].partials)
            die_errno("calloc");
    }
    struct stats ns[ARITHMETIC_WAYS];
    time_arithmetic(trials, runs, rounds, &ref, ns);
    struct report rep;
    report_start(&rep, &o->kit, "arithmetic", "elements");
    for (int w = 0; w < ARITHMETIC_WAYS; w++)
        if (runs[w])
            report_add(&rep, arithmetic_ways[w].name, (double)in.count, "ns/value", ns[w]);
    report_print(&rep);
    for (int w = 0; w < ARITHMETIC_WAYS; w++)
        if (!runs[w])
            printf("  %-22s not run: this CPU (or this architecture) lacks its instructions\n",
                   arithmetic_ways[w].name);
    report_write(&rep);
    arithmetic_conclusion(&rep, (double)in.count);
    free(rep.rows);
    for (int w = 0; w < ARITHMETIC_WAYS; w++)
        free(trials[w].partials);
    if (vector_values != in.values)
        free(vector_values);
    free(ref.partials);
    free_input(&in);
}

/* ---------- options and main ---------- */

/* A count of values: digits with an optional K, M or G meaning 10^3, 10^6, 10^9. */
static size_t parse_elements(const char *text)
{
    static const char *const range = "accepted: 1K to 1G";
    char digits[32];
    size_t len = strlen(text);
    unsigned long long multiple = 1;
    if (len == 0 || len >= sizeof digits)
        die_usage("--elements: '%s' is not a count (%s)", text, range);
    memcpy(digits, text, len + 1);
    switch (digits[len - 1]) {
    case 'K': case 'k': multiple = 1000; break;
    case 'M': case 'm': multiple = 1000000; break;
    case 'G': case 'g': multiple = 1000000000; break;
    }
    if (multiple > 1)
        digits[--len] = '\0';
    if (len == 0 || strspn(digits, "0123456789") != len)
        die_usage("--elements: '%s' is not a count (a whole number with an optional K, M or G "
                  "suffix; %s)", text, range);
    errno = 0;
    unsigned long long n = strtoull(digits, NULL, 10);
    if (errno == ERANGE || n > 1000000000ULL / multiple || n * multiple < 1000)
        die_usage("--elements: %s is out of range (%s)", text, range);
    return (size_t)(n * multiple);
}

static enum fault parse_fault(const char *text)
{
    if (strcmp(text, "corrupt") == 0)
        return FAULT_CORRUPT;
    if (strcmp(text, "partial") == 0)
        return FAULT_PARTIAL;
    die_usage("--inject: '%s' is not a fault (accepted: corrupt, partial)", text);
}

static size_t blocks_option(int argc, char **argv, int *i, const char *name)
{
    return (size_t)parse_count(name, option_value(argc, argv, i, name), 1, 65536);
}

static void parse_args(struct ch09_opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (kit_std_option(&o->kit, argc, argv, &i))
            continue;
        if (is_opt(a, "--elements"))
            o->elements = parse_elements(option_value(argc, argv, &i, "--elements"));
        else if (is_opt(a, "--units"))
            o->units = (int)parse_count("--units", option_value(argc, argv, &i, "--units"), 1, 256);
        else if (is_opt(a, "--chunk"))
            o->chunk_blocks = blocks_option(argc, argv, &i, "--chunk");
        else if (is_opt(a, "--batch"))
            o->batch_blocks = blocks_option(argc, argv, &i, "--batch");
        else if (is_opt(a, "--lanes"))
            o->lanes = (int)parse_count("--lanes", option_value(argc, argv, &i, "--lanes"), 1, 16);
        else if (is_opt(a, "--inject"))
            o->fault = parse_fault(option_value(argc, argv, &i, "--inject"));
        else
            die_usage("unknown option '%s'", a);
    }
}

/* Vector sine and cosine: a width the CPU runs, and only in the ladder (the intensity
 * experiment works on some values only, the arithmetic experiment runs every width itself). */
static void check_lanes(const struct ch09_opts *o)
{
    if (o->lanes != 1 && o->lanes != 4 && o->lanes != 8 && o->lanes != 16)
        die_usage("--lanes: %d is not a vector width (accepted: 1, 4, 8, 16)", o->lanes);
    if (!vector_width_runs(o->lanes))
        die_usage("--lanes: this CPU does not run sin and cos %d values at a time (widths it "
                  "runs: 1%s%s%s)", o->lanes, vector_width_runs(4) ? ", 4" : "",
                  vector_width_runs(8) ? ", 8" : "", vector_width_runs(16) ? ", 16" : "");
    if (o->lanes > 1 && !(o->kit.only && strcmp(o->kit.only, "ladder") == 0))
        die_usage("--lanes %d: vector sin and cos are for the ladder; add --only ladder",
                  o->lanes);
}

/* The values, their copy in shared memory, the chunks in flight: about 10 bytes per value. */
static void check_memory(const struct ch09_opts *o)
{
    unsigned long long need = 12ULL * o->elements, have = available_memory();
    char need_text[32], have_text[32];
    if (need > have)
        die_usage("--elements: %zu values need about %s of memory; %s is available", o->elements,
                  format_size(need, need_text, sizeof need_text),
                  format_size(have, have_text, sizeof have_text));
}

int main(int argc, char **argv)
{
    struct ch09_opts o = {.kit = kit_defaults("ch09-casestudy", usage, argc, argv), .units = 1,
                          .lanes = 1, .chunk_blocks = 64, .batch_blocks = 16};
    parse_args(&o, argc, argv);
    check_only(&o.kit, experiments, sizeof experiments / sizeof experiments[0]);
    check_lanes(&o);
    if (!o.elements)
        o.elements = (size_t)by_mode(&o.kit, 500000, 10000000, 100000000);
    check_memory(&o);
    prepare_out_dir(&o.kit);
    catch_stop_signals(kill_children);
    signal(SIGPIPE, SIG_IGN);       /* a dead worker's pipe gives EPIPE, which we report */
    o.trials = trials_for(&o.kit, 2, 5, 11);
    o.sweep_trials = trials_for(&o.kit, 2, 3, 7);
    print_run_header(&o.kit, "naive vs optimized, end to end, and where the time goes");
    report_effective_cpus(&o.kit, calibration_spins(&o.kit));
    printf("workers: %ld; placement: %s (pool-shm-batched and its +fill and -mapped: spread); "
           "blocks of %d values\n",
           o.kit.workers, pin_name(o.kit.pin), BLOCK_VALUES);
    if (wanted(&o.kit, "ladder"))
        run_ladder(&o);
    if (wanted(&o.kit, "intensity"))
        run_intensity(&o);
    if (wanted(&o.kit, "amdahl"))
        run_amdahl(&o);
    if (wanted(&o.kit, "size"))
        run_size(&o);
    if (wanted(&o.kit, "arithmetic"))
        run_arithmetic(&o);
    return 0;
}
