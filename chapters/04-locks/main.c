/* ch04-locks - lock strategies for shared state across processes: the driver.
 *
 * Read counters.c first: the shared arena, the nine variants behind one signature, and the
 * robust mutex's recovery. This file forks the workers, releases them together, reaps and
 * verifies each trial, and runs three experiments (each its own TSV file and --only name):
 *   per-increment  ns per increment for every variant at P = 1, CPUs, 2 x CPUs
 *   contention     the lock variants from P = 1 to past the CPU count (a preempted holder)
 *   robust         a worker is killed (SIGKILL) while it holds the robust mutex; the
 *                  survivors get EOWNERDEAD, repair the count, and finish it exactly
 * Linux only (robust futexes, PR_SET_PDEATHSIG, sched_setaffinity).
 * Exit: 0 ok, 1 runtime or verification failure (or a killed worker), 2 usage error.
 *
 * Sample output line (per-increment):
 *   mutex                           2      40.82      38.44      68.69  ns
 * Verification: every synchronized variant's count equals P x I exactly; `none` may lose
 * updates but never counts more than P x I, and loses nothing with one worker; the robust
 * run's count is (P - 1) x I + K, where K is what the killed worker finished, with exactly
 * one recovery. A worker that dies is reported (which worker, which signal, which trial),
 * the others are killed, and the program exits 1: nobody waits for a dead lock holder.
 */
#define _GNU_SOURCE
#include <math.h>
#include <sys/wait.h>

#include "cli.h"
#include "bench.h"
#include "proc.h"
#include "report.h"
#include "counters.h"

static const char usage[] =
    "Usage: ch04-locks [--quick | --full] [--only per-increment|contention|robust]\n"
    "                  [--variant NAME[,NAME...]] [--increments N] [--trials N] [--workers N]\n"
    "                  [--pin none|same|spread] [--kill-holder] [--inject early-death|stall]\n"
    "                  [--out DIR]\n"
    "Lock strategies for shared state across processes (Linux only).\n"
    "  --variant LIST   variants to run in per-increment and contention, comma separated:\n"
    "                   none, mutex, robust-mutex, semaphore, spinlock, atomic, batched,\n"
    "                   slots, padded-slots (default: all in per-increment; mutex,\n"
    "                   semaphore, spinlock, atomic in contention)\n"
    "  --increments N   increments per trial, split across the P workers (1000 to 10^9;\n"
    "                   default 100000 quick, 1000000 default, 20000000 full); the spinlock\n"
    "                   does a quarter of them: past the CPU count, an increment whose lock\n"
    "                   holder was preempted can cost the others a whole time slice\n"
    "  --workers N      P = 1, N, 2N in per-increment; P = 1 .. max(4, 2N) in contention;\n"
    "                   max(2, N) workers in robust (1..64; default N = online CPUs)\n"
    "  --kill-holder    fault injection: in the first per-increment trial with P >= 2, worker 0\n"
    "                   takes the lock halfway through and is killed (SIGKILL) holding it (a\n"
    "                   lock-free variant: killed halfway); the program must report it and\n"
    "                   exit 1, without waiting on the dead holder\n"
    "  --inject early-death  fault injection: in the first robust trial, worker 0 is killed\n"
    "                   (SIGKILL) before it takes the lock; the program must report it (it is\n"
    "                   not the planned death) and exit 1, without waiting for it to hold\n"
    "  --inject stall   fault injection: worker 0 waits until it is killed (for the tests)\n"
    "Writes results/ch04-{per-increment,contention,robust}.tsv (measurement tables, ns or us)\n"
    "and results/ch04-lost-updates.tsv (columns: workers trial expected counted lost).\n";

static const char *const experiments[] = {"per-increment", "contention", "robust"};

enum { MAX_WORKERS_OPTION = 64 };

/* This chapter's options, beside the standard ones; all checked before any work. */
struct options {
    bool picked[VARIANT_COUNT]; /* --variant, by index into variants[] */
    bool variants_given;        /* --variant was used */
    long total;                 /* --increments: per trial, split across the workers */
    bool kill_holder;           /* --kill-holder */
    enum inject { INJECT_NONE, INJECT_EARLY_DEATH, INJECT_STALL } inject;   /* --inject */
};

/* ---------- one trial: fork P workers, release them together, reap, verify ---------- */

struct trial {
    const struct variant *v;
    const char *experiment;
    int procs;
    long increments;          /* per worker */
    enum kit_pin pin;
    long number;              /* 0 = the warm-up */
    int go[2];                /* the workers read go[0] until the parent closes go[1] */
    pid_t pids[MAX_WORKERS];  /* the workers of the trial running now */
    int victim;               /* worker killed holding the lock, or -1 */
    long victim_increments;   /* what the victim finishes before it takes the lock to die */
    bool victim_planned;      /* robust: its death is the experiment; otherwise it is reported */
    bool victim_dies_early;   /* --inject early-death: the victim dies before it takes the lock */
    bool stall;               /* --inject stall: worker 0 waits until it is killed */
    uint64_t counted;         /* the count the last trial ended with */
    double side_by_side;      /* the last trial's workers' CPU time / its wall time */
    /* `none` only, over its measured trials: */
    FILE *lost_tsv;           /* one row per trial */
    uint64_t most_lost;       /* the most updates one trial lost */
    long losing_trials;       /* trials that lost any */
    double most_side_by_side; /* the highest side_by_side */
};

/* The victim finishes its K increments, takes the lock, starts one more increment and dies
 * holding the lock; a variant without a lock dies halfway, holding nothing. */
static void die_as_victim(const struct trial *t, int w)
{
    if (t->victim_dies_early)
        raise(SIGKILL);                  /* holding nothing: not the planned death */
    t->v->count(w, t->victim_increments);
    if (t->v->hold) {
        t->v->hold(w);
        atomic_store(&arena->victim_holding, 1);
        uint64_t seen = atomic_load_explicit(&arena->counter, memory_order_relaxed);
        /* an increment in flight when it dies */
        atomic_store_explicit(&arena->counter, seen + 1, memory_order_relaxed);
    }
    arena->victim_died_at_ns = now_ns();
    raise(SIGKILL);
}

/* A worker, started by proc.h's start_worker: it dies with the parent, placed by --pin. */
static int run_worker(int w, void *arg)
{
    const struct trial *t = arg;
    close(t->go[1]);
    atomic_fetch_add(&arena->ready, 1);
    char byte;
    ssize_t got = read(t->go[0], &byte, 1);  /* blocks until the parent closes the write end */
    if (got != 0)
        die("worker %d: the go pipe returned %zd instead of end-of-file", w, got);
    /* The go wakes the workers, but the scheduler may run the first one for a whole time
     * slice before the last one runs at all: nobody counts until every worker runs. */
    atomic_fetch_add(&arena->arrived, 1);
    while (atomic_load(&arena->arrived) < t->procs)
        sched_yield();
    uint64_t cpu_start = cpu_ns();      /* beside the wall time: did they really overlap? */
    arena->started_ns[w] = now_ns();
    if (w == 0 && t->stall)
        pause();                         /* until a signal ends it: the tests kill it */
    if (w == t->victim)
        die_as_victim(t, w);
    if (t->victim_planned) {
        /* robust: start once the victim holds the lock, so a survivor is there to recover it */
        const struct timespec pause = {0, 10000};
        while (!atomic_load(&arena->victim_holding))
            nanosleep(&pause, NULL);
    }
    t->v->count(w, t->increments);
    arena->finished_ns[w] = now_ns();
    arena->cpu_ns[w] = cpu_ns() - cpu_start;
    return 0;
}

/* What the arena shows about a lock the dead worker held -- said only when it shows one. */
static const char *lock_left(const struct trial *t, int w, pid_t pid)
{
    bool victim_held = w == t->victim && atomic_load(&arena->victim_holding);
    if (w == t->victim && t->victim_planned && !victim_held)
        return " (before it took the lock: not the planned death)";
    enum lock_state left = victim_held ? LOCK_OWNED : lock_state(t->v, pid);
    if (left == LOCK_OWNED && is_robust(t->v))
        return " (a robust mutex it held is recovered, but the count can no longer be checked)";
    if (left == LOCK_OWNED)
        return " (a lock it held would never have been released)";
    if (left == LOCK_TAKEN)
        return " (its lock was left taken by a dead worker: it would never have been released)";
    return "";
}

/* A dead worker ends the run: say which, how, and where; then nobody waits for it. */
__attribute__((noreturn))
static void report_dead_worker(const struct trial *t, int w, pid_t pid, int status)
{
    char how[96];
    kill_children();
    die("worker %d of %d (pid %d) %s during %s, variant %s, P=%d, trial %ld%s; the other workers "
        "were killed%s", w, t->procs, (int)pid, how_it_ended(status, how, sizeof how),
        t->experiment, t->v->name, t->procs, t->number, t->number == 0 ? " (the warm-up)" : "",
        lock_left(t, w, pid));
}

/* book:reap */
/* Reaps one worker; a worker other than the planned victim must exit 0. */
static void reap_one(const struct trial *t, pid_t pid, int status)
{
    int w = 0;
    while (w < t->procs && t->pids[w] != pid)
        w++;
    if (w == t->procs)
        return;                          /* not one of ours (cannot happen: we fork only workers) */
    exit_if_stopped();                   /* a worker killed by our own Ctrl-C is no crash */
    /* the planned death: the victim, killed while the arena shows it holding the lock */
    bool planned = w == t->victim && t->victim_planned && WIFSIGNALED(status) &&
                   WTERMSIG(status) == SIGKILL && atomic_load(&arena->victim_holding);
    if (!planned && !ended_ok(status))
        report_dead_worker(t, w, pid, status);
}

static void wait_for_all_workers(const struct trial *t)
{
    for (int left = t->procs; left > 0; left--) {
        int status;
        pid_t pid = reap_any(&status);
        reap_one(t, pid, status);
    }
}
/* end:reap */

/* Until every worker waits at the go pipe; a worker that died before that is reported. */
static void wait_until_ready(const struct trial *t)
{
    const struct timespec pause = {0, 50000};
    while (atomic_load(&arena->ready) < t->procs) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == -1 && errno != EINTR)
            die_errno("waitpid");
        if (pid > 0) {
            forget_child(pid);
            reap_one(t, pid, status);
        }
        exit_if_stopped();
        nanosleep(&pause, NULL);
    }
}

/* Runs one trial and returns the interval in which the workers ran, in ns. */
static uint64_t run_workers(struct trial *t)
{
    reset_arena();
    if (pipe(t->go) == -1)
        die_errno("pipe");
    for (int w = 0; w < t->procs; w++)   /* a failed fork: those started are killed at exit */
        t->pids[w] = start_worker(w, t->pin, run_worker, t);
    if (close(t->go[0]) == -1)
        die_errno("close");
    wait_until_ready(t);
    if (close(t->go[1]) == -1)           /* go: every worker's read returns end-of-file */
        die_errno("close");
    wait_for_all_workers(t);
    uint64_t first = UINT64_MAX, last = 0, cpu = 0;
    for (int w = 0; w < t->procs; w++) {
        if (w == t->victim)
            continue;
        first = arena->started_ns[w] < first ? arena->started_ns[w] : first;
        last = arena->finished_ns[w] > last ? arena->finished_ns[w] : last;
        cpu += arena->cpu_ns[w];
    }
    uint64_t elapsed = last > first ? last - first : 1;
    t->counted = count_now();
    t->side_by_side = (double)cpu / (double)elapsed;
    t->number++;
    return elapsed;
}

static void verify_count(struct trial *t)
{
    uint64_t expected = (uint64_t)t->procs * (uint64_t)t->increments;
    if (t->v->exact) {
        if (t->counted != expected)
            verification_failed("%s, variant %s, P=%d: count %llu, expected %d x %ld = %llu",
                                t->experiment, t->v->name, t->procs, (unsigned long long)t->counted,
                                t->procs, t->increments, (unsigned long long)expected);
        if (arena->recoveries != 0)
            verification_failed("%s, variant %s: a robust-mutex recovery without a dead worker",
                                t->experiment, t->v->name);
        return;
    }
    /* `none`: updates may be lost, never invented; one worker alone loses nothing. */
    if (t->counted > expected || t->counted == 0 || (t->procs == 1 && t->counted != expected))
        verification_failed("%s, variant none, P=%d: count %llu, expected at most %llu%s",
                            t->experiment, t->procs, (unsigned long long)t->counted,
                            (unsigned long long)expected, t->procs == 1 ? " and exactly that" : "");
    if (t->number == 1)
        return;                          /* the warm-up */
    uint64_t lost = expected - t->counted;
    t->most_lost = lost > t->most_lost ? lost : t->most_lost;
    t->losing_trials += lost > 0;
    t->most_side_by_side = fmax(t->most_side_by_side, t->side_by_side);
    if (t->lost_tsv)
        fprintf(t->lost_tsv, "%d\t%ld\t%llu\t%llu\t%llu\n", t->procs, t->number - 1,
                (unsigned long long)expected, (unsigned long long)t->counted,
                (unsigned long long)lost);
}

/* One measured trial: nanoseconds per increment of the whole job (wall time / (P x I)). */
static double time_increments(void *ctx)
{
    struct trial *t = ctx;
    uint64_t elapsed = run_workers(t);
    verify_count(t);
    t->victim = -1;                      /* --kill-holder strikes in the first trial only */
    return (double)elapsed / ((double)t->procs * (double)t->increments);
}

static const struct variant *find_variant(const char *name)
{
    for (int k = 0; k < VARIANT_COUNT; k++)
        if (strcmp(variants[k].name, name) == 0)
            return &variants[k];
    return NULL;
}

/* One point of a sweep: variant k with P workers sharing --increments, measured (ns per
 * increment) and added to r. kill_holder: worker 0 dies holding the lock halfway through. */
static struct trial measure_point(struct report *r, const struct options *opt, int k, int procs,
                                  bool kill_holder, FILE *lost_tsv, long trials)
{
    if (r->o->mode != MODE_QUICK)
        progress("%s: %s, P=%d", r->experiment, variants[k].name, procs);
    /* the spinlock does 1/share: past the CPUs a preempted holder costs a time slice */
    long each = opt->total / variants[k].share / procs;
    each = each > 0 ? each : 1;
    struct trial t = {.v = &variants[k], .experiment = r->experiment, .procs = procs,
                      .increments = each, .pin = r->o->pin, .stall = opt->inject == INJECT_STALL,
                      .victim = kill_holder ? 0 : -1, .victim_increments = each / 2,
                      .lost_tsv = variants[k].exact ? NULL : lost_tsv};
    report_add(r, variants[k].name, procs, "ns", measure(time_increments, &t, trials));
    return t;
}

/* ---------- experiment 1: per-increment ---------- */

/* Workers' CPU time / wall time at or above this: two of them counted at the same moment for
 * at least 0.2 / (P - 1) of the trial (a fifth with P = 2), thousands of racing increments;
 * below it they may have taken turns. tests/ch04-locks.bats uses the same threshold. */
#define RAN_AT_ONCE 1.2

/* What `none` lost at P = procs (its trial, or NULL when it did not run), worded by whether
 * it lost any and whether its workers really ran at once. */
static void summarize_races(const struct trial *none, long trials, int procs)
{
    if (!none)
        return;
    if (none->most_lost > 0)
        printf("     none lost updates in %ld of %ld trials (up to %llu): load-add-store from two "
               "processes overwrite each other.\n     That is the lesson, not a failure.\n",
               none->losing_trials, trials, (unsigned long long)none->most_lost);
    else if (none->most_side_by_side < RAN_AT_ONCE)
        printf("     none lost no update this time: the workers ran side by side at %.2f "
               "(CPU time / wall time during the trial, %d.00 if all ran all the time),\n"
               "     too little to race (the race needs two on CPUs at the same moment, or a "
               "preemption between load and store).\n", none->most_side_by_side, procs);
    else
        printf("     none lost no update this time, although the workers ran side by side at %.2f "
               "(CPU time / wall time during the trial):\n     by luck of the timing; the code "
               "still races (run it again, or with more --increments).\n", none->most_side_by_side);
}

/* Slots side by side against padded ones: false sharing needs two CPUs to share a line, so on
 * one CPU (--pin same) a gap between them is not called that. */
static const char *layout_verdict(double ratio, enum kit_pin pin)
{
    if (pin == PIN_SAME)
        return ratio > 1.3 ? "not false sharing: on one CPU (--pin same) no line moves between "
                             "CPUs; the cause is not measured here"
                           : "no false-sharing penalty this run; --pin same: one CPU, no line to "
                             "share";
    if (ratio > 1.3)
        return "false sharing: the only difference is the slots' layout";
    return pin == PIN_SPREAD ? "no false-sharing penalty this run"
                             : "no false-sharing penalty this run; were the workers on one CPU? "
                               "try --pin spread";
}

/* The "->" lines: what this run's numbers say, worded by what they are and by the placement.
 * Neither the line's moves nor the waiters' sleeps are counted, so a cause is only "likely". */
static void summarize_per_increment(const struct report *r, int procs, enum kit_pin pin)
{
    double mutex = median_of(r, "mutex", procs), atomic = median_of(r, "atomic", procs);
    double batched = median_of(r, "batched", procs), slots = median_of(r, "slots", procs);
    double padded = median_of(r, "padded-slots", procs), mutex1 = median_of(r, "mutex", 1);
    printf("  -> with P=%d:", procs);
    if (!isnan(mutex) && !isnan(mutex1))
        printf(" a mutex costs %.1f ns per increment, %.1fx its %.1f ns alone (%s);", mutex,
               mutex / mutex1, mutex1, mutex / mutex1 <= 1.3 ? "little cost from sharing"
               : pin == PIN_SAME ? "contended on one CPU (--pin same), so no line moved between "
                                   "CPUs; likely waiters sleeping, not counted here"
               : "contended; likely the lock's line moving between CPUs and waiters sleeping, "
                 "neither counted here; --pin same keeps the line on one CPU");
    if (!isnan(atomic))
        printf("\n     an atomic add %.1f ns;", atomic);
    if (!isnan(batched) && !isnan(mutex))
        printf(" counting locally and adding once %.2f ns (the mutex costs %.1fx that);",
               batched, mutex / batched);
    if (!isnan(slots) && !isnan(padded))
        printf("\n     slots side by side %.1f ns vs %.1f ns on their own %zu-byte cache lines "
               "(%.1fx: %s).", slots, padded, line_size, slots / padded,
               layout_verdict(slots / padded, pin));
    printf("\n");
}

static void run_per_increment(struct kit_opts *o, const struct options *opt)
{
    long trials = trials_for(o, 3, 5, 15);
    int n = (int)o->workers, counts[] = {1, n == 1 ? 2 : n, 2 * n}, count_n = n == 1 ? 2 : 3;
    bool kill_holder = opt->kill_holder;
    struct report r;
    report_start(&r, o, "per-increment", "workers");
    struct trial none = {0};             /* `none` at P = counts[1], for the race sentence */
    FILE *lost = NULL;
    if (opt->picked[find_variant("none") - variants])
        lost = tsv_open_table(o, "lost-updates", "workers\ttrial\texpected\tcounted\tlost");

    printf("\nper-increment: P workers share %ld increments per trial (the spinlock 1/%ld of "
           "them); wall time / (P x I), %ld trials\n", opt->total,
           find_variant("spinlock")->share, trials);
    for (int k = 0; k < VARIANT_COUNT; k++) {
        if (!opt->picked[k])
            continue;
        for (int c = 0; c < count_n; c++) {
            bool inject = kill_holder && counts[c] >= 2;   /* with others there to wait on it */
            kill_holder = kill_holder && !inject;
            struct trial t = measure_point(&r, opt, k, counts[c], inject, lost, trials);
            if (variants[k].exact)
                continue;
            uint64_t expected = (uint64_t)t.procs * (uint64_t)t.increments;
            report_comment(&r, "lost up to %llu of %llu updates (%.1f%%), in %ld of %ld trials",
                           (unsigned long long)t.most_lost, (unsigned long long)expected,
                           100.0 * (double)t.most_lost / (double)expected, t.losing_trials,
                           trials);
            if (c == 1)
                none = t;
        }
    }
    if (lost)
        tsv_close(lost);
    report_print(&r);
    report_write(&r);
    summarize_per_increment(&r, counts[1], o->pin);
    summarize_races(none.v ? &none : NULL, trials, counts[1]);
    report_free(&r);
}

/* ---------- experiment 2: contention ---------- */

/* The "->" lines: past the CPUs, the spinlock against its cost at P = CPUs, and the dearest
 * lock whose waiters sleep. */
static void summarize_contention(const struct report *r, int cpus, int max_procs)
{
    double spin_at_cpus = median_of(r, "spinlock", cpus), worst_spin = 0, worst_sleeping = 0;
    const char *worst_sleeping_name = NULL;
    for (int k = 0; k < VARIANT_COUNT; k++) {
        bool spinlock = strcmp(variants[k].name, "spinlock") == 0;
        for (int procs = cpus + 1; procs <= max_procs; procs++) {
            double median = median_of(r, variants[k].name, procs);
            if (spinlock)
                worst_spin = fmax(worst_spin, median);
            else if (variants[k].hold && median > worst_sleeping) {
                worst_sleeping = median;
                worst_sleeping_name = variants[k].name;
            }
        }
    }
    bool spin_line = worst_spin > 0 && !isnan(spin_at_cpus);
    if (spin_line) {
        double collapse = worst_spin / spin_at_cpus;
        printf("  -> past the %d CPUs the spinlock's worst point is %.1f ns per increment, %.1fx "
               "its cost at P=%d:\n     %s\n", cpus, worst_spin, collapse, cpus, collapse > 1.5
                   ? "likely a holder preempted while the others spin (not counted here: the "
                     "workers' involuntary context switches would show it)."
                   : "no collapse this run (a preempted holder is a matter of luck: more "
                     "--increments or --pin same make it likely).");
    }
    if (!worst_sleeping_name)
        return;
    /* under the spinlock's line, or a "->" line of its own */
    printf("%sThe worst sleeping lock past the CPUs (%s) costs %.1f ns", spin_line ? "     "
           : "  -> ", worst_sleeping_name, worst_sleeping);
    if (worst_spin > 0)
        printf(", %.2fx the spinlock's worst point", worst_sleeping / worst_spin);
    printf(";\n     its waiters sleep in the kernel instead of spinning (by design; the sleeps are "
           "not counted here).\n");
}

static void run_contention(struct kit_opts *o, const struct options *opt)
{
    long trials = trials_for(o, 3, 5, 15);
    int max_procs = 2 * (int)o->workers > 4 ? 2 * (int)o->workers : 4, cpus = online_cpus();
    struct report r;
    report_start(&r, o, "contention", "workers");

    printf("\ncontention: the lock variants from P=1 to P=%d on %d CPUs (%.2f effective); "
           "ns per increment, %ld trials\n", max_procs, cpus, o->effective_cpus, trials);
    for (int k = 0; k < VARIANT_COUNT; k++) {
        if (opt->variants_given ? !opt->picked[k] : !variants[k].contention)
            continue;
        for (int procs = 1; procs <= max_procs; procs++) {
            measure_point(&r, opt, k, procs, false, NULL, trials);
            const char *name = variants[k].name;
            report_comment(&r, "%.1fx P=1", median_of(&r, name, procs) / median_of(&r, name, 1));
        }
    }
    report_print(&r);
    report_write(&r);
    summarize_contention(&r, cpus, max_procs);
    report_free(&r);
}

/* ---------- experiment 3: robust ---------- */

/* One trial: worker 0 (the victim) finishes K increments, takes the lock, starts one more and
 * is killed; the survivors start once it holds the lock, so they are waiting when it dies.
 * Returns the time from the victim's death to a survivor holding the repaired lock, in us. */
static double time_recovery(void *ctx)
{
    struct trial *t = ctx;
    renew_robust_mutex();
    run_workers(t);
    t->victim_dies_early = false;        /* --inject early-death strikes in the first trial */
    uint64_t expected = (uint64_t)(t->procs - 1) * (uint64_t)t->increments +
                        (uint64_t)t->victim_increments;
    if (arena->recoveries != 1 || arena->rolled_back != 1 || arena->recovered_by < 1)
        verification_failed("robust: %llu recoveries by worker %d rolling back %llu increments, "
                            "expected 1 recovery by a survivor rolling back 1",
                            (unsigned long long)arena->recoveries, arena->recovered_by,
                            (unsigned long long)arena->rolled_back);
    if (t->counted != expected)
        verification_failed("robust: count %llu, expected %d survivors x %ld + %ld finished by the "
                            "killed worker = %llu", (unsigned long long)t->counted, t->procs - 1,
                            t->increments, t->victim_increments, (unsigned long long)expected);
    return (double)(arena->recovered_at_ns - arena->victim_died_at_ns) / 1e3;
}

static void run_robust(struct kit_opts *o, const struct options *opt)
{
    long trials = trials_for(o, 3, 10, 30);
    int procs = o->workers < 2 ? 2 : (int)o->workers;
    long each = (long)by_mode(o, 20000, 200000, 1000000);
    struct trial t = {.v = find_variant("robust-mutex"), .experiment = "robust", .procs = procs,
                      .increments = each, .pin = o->pin, .stall = opt->inject == INJECT_STALL,
                      .victim = 0, .victim_increments = each / 4, .victim_planned = true,
                      .victim_dies_early = opt->inject == INJECT_EARLY_DEATH};
    printf("\nrobust: %d workers x %ld increments under a robust mutex; worker 0 is killed "
           "(SIGKILL) holding it\n        after %ld increments, with one more in flight "
           "(%ld trials)\n", procs, t.increments, t.victim_increments, trials);
    struct stats s = measure(time_recovery, &t, trials);
    struct report r;
    report_start(&r, o, "robust", "workers");
    report_add(&r, "kill-to-recovered", procs, "us", s);
    report_finish(&r);
    printf("  -> in every trial a survivor got EOWNERDEAD, median %.0f us after the kill (the "
           "holder's exit, the kernel's walk\n     of its robust list, a waiter woken and "
           "scheduled), rolled back the 1 uncommitted increment, called "
           "pthread_mutex_consistent,\n     and the count finished at exactly %d x %ld + %ld = "
           "%llu (last trial: worker %d recovered).\n",
           s.median, procs - 1, t.increments, t.victim_increments, (unsigned long long)t.counted,
           arena->recovered_by);
}

/* ---------- options, the run's set-up, main ---------- */

static void parse_variants(const char *list, struct options *opt)
{
    char copy[256];
    if (snprintf(copy, sizeof copy, "%s", list) >= (int)sizeof copy || list[0] == '\0')
        die_usage("--variant: needs one or more variant names");
    const char *names[VARIANT_COUNT];
    for (int k = 0; k < VARIANT_COUNT; k++)
        names[k] = variants[k].name;
    opt->variants_given = true;
    memset(opt->picked, 0, sizeof opt->picked);
    char *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save))
        opt->picked[parse_choice("--variant", name, "a variant", names, VARIANT_COUNT)] = true;
}

static struct options parse_options(struct kit_opts *o, int argc, char **argv)
{
    struct options opt = {.variants_given = false};
    const char *increments_text = NULL, *variants_text = NULL, *inject = NULL;
    const struct kit_option own[] = {{"--variant", &variants_text, NULL},
                                     {"--increments", &increments_text, NULL},
                                     {"--kill-holder", NULL, &opt.kill_holder},
                                     {"--inject", &inject, NULL}};
    for (int k = 0; k < VARIANT_COUNT; k++)
        opt.picked[k] = true;
    parse_kit_options(o, argc, argv, own, KIT_COUNT(own), experiments, KIT_COUNT(experiments));
    if (variants_text)
        parse_variants(variants_text, &opt);
    static const char *const faults[] = {"early-death", "stall"};   /* enum inject, from 1 */
    if (inject)
        opt.inject = 1 + parse_choice("--inject", inject, "a fault", faults, 2);
    if (o->workers > MAX_WORKERS_OPTION)
        die_usage("--workers: %ld is out of range for this chapter (accepted: 1 to %d)",
                  o->workers, MAX_WORKERS_OPTION);
    opt.total = (long)by_mode(o, 100000, 1000000, 20000000);
    if (increments_text)
        opt.total = (long)parse_count("--increments", increments_text, 1000, 1000000000);
    if (opt.inject == INJECT_EARLY_DEATH && !wanted(o, "robust"))
        die_usage("--inject: early-death works in the robust experiment (use --only robust)");
    if (opt.kill_holder && !wanted(o, "per-increment"))
        die_usage("--kill-holder: works in the per-increment experiment "
                  "(use --only per-increment)");
    return opt;
}

/* The arena mapped, the run described. */
static void start_run(struct kit_opts *o)
{
    prepare_out_dir(o);
    catch_stop_signals(NULL);            /* the workers are killed and reaped by proc.h */
    bool guessed;
    line_size = cache_line(&guessed);
    map_arena();
    if (o->pin == PIN_SAME)
        pin_to_cpu(0);
    print_run_header(o, "what does sharing a count between processes cost, lock by lock?");
    printf("placement: %s\n", pin_name(o->pin));
    printf("cache line: %zu bytes (%s)\n", line_size, guessed
           ? "sysconf gave no usable size: assumed 64" : "sysconf _SC_LEVEL1_DCACHE_LINESIZE");
    if (wanted(o, "per-increment") || wanted(o, "contention"))
        report_effective_cpus(o, calibration_spins(o));
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch04-locks", usage, argc, argv);
    struct options opt = parse_options(&o, argc, argv);
    start_run(&o);
    if (wanted(&o, "per-increment"))
        run_per_increment(&o, &opt);
    if (wanted(&o, "contention"))
        run_contention(&o, &opt);
    if (wanted(&o, "robust"))
        run_robust(&o, &opt);
    unmap_arena();
    printf("\nverification: every synchronized count exact (P x I); none never over-counts; "
           "the robust run recovered exactly once and finished exactly.\n"
           "TSV files: %s/ch04-*.tsv\n", o.out_dir);
    return 0;
}
