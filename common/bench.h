/* bench.h - the kit's timing, statistics and TSV output.
 *
 *   now_ns()             CLOCK_MONOTONIC in nanoseconds (never wall-clock time)
 *   cpu_ns()             this process's CPU time in nanoseconds (all its threads)
 *   rusage_cpu_ns(u)     the CPU time (user + system) a struct rusage reports, in nanoseconds
 *   deadline_in(clock, ms)   a timespec ms from now, for timed waits (nothing is timed by it)
 *   clock_overhead_ns()  what one reading costs
 *   stats_of()           median, min, max, mean, stddev of a sample; ratio_of() two of them
 *   is_noisy()           max/min above NOISY_RATIO: the trials disagree, read with care
 *   measure()            one warm-up, then N trials of a function; returns stats_of() them
 *   measure_alternating()  two variants trial by trial (A B A B ...), so load falls on both;
 *                        measure_alternating_ratio() the same read as A/B pair by pair
 *   trials_for()         --trials, or the mode's count
 *   budget_for(), count_within(), samples_within()   counts from a time budget per mode;
 *                        seconds_since(start_ns)
 *   keep()               a sink, so the compiler cannot delete work whose result is unused
 *   spin(), spin_from(), mix64()   CPU work and well-spread values with a checkable answer
 *   effective_cpus()     the same spin in 1 process vs in P at once: the parallelism really there
 *   available_memory()   MemAvailable, for refusing sizes the machine cannot hold
 *   proc_value(path, key)   the number on a /proc file's "key: N kB" line (VmRSS, RssAnon)
 *   print_run_header(), report_effective_cpus(o, calibration_spins(o))   the lines every
 *                        chapter opens with
 *   tsv_open/tsv_row/tsv_close   results/chNN-<experiment>.tsv with its # metadata block,
 *                        written whole or not at all (tsv_open_noted: one more metadata line)
 *
 * Include cli.h first. Needs _GNU_SOURCE (sched_setaffinity, getloadavg).
 */
#ifndef KIT_BENCH_H
#define KIT_BENCH_H

#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "proc.h"

#define NOISY_RATIO 2.0 /* max/min above this flags a point as noisy */

/* ---------- the clock ---------- */

static inline uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) == -1)
        die_errno("clock_gettime");
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static inline uint64_t cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

/* A deadline for a timed wait (mq_timed* take CLOCK_REALTIME, condition variables the
 * clock they were made with); waits that wake to check on something, not measurements. */
static inline struct timespec deadline_in(clockid_t clock, long ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static inline uint64_t rusage_cpu_ns(const struct rusage *u)
{
    return ((uint64_t)u->ru_utime.tv_sec + (uint64_t)u->ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)u->ru_utime.tv_usec + (uint64_t)u->ru_stime.tv_usec) * 1000u;
}

/* What one now_ns() costs: printed once, so nobody reads below it. */
static inline double clock_overhead_ns(void)
{
    enum { READS = 100000 };
    uint64_t start = now_ns(), last = start;
    for (int i = 0; i < READS; i++)
        last = now_ns();
    return (double)(last - start) / READS;
}

static volatile uint64_t bench_sink;
static inline void keep(uint64_t value) { bench_sink = bench_sink ^ value; }

/* ---------- statistics ---------- */

struct stats {
    size_t n;
    double median, min, max, mean, stddev;
};

static inline int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts the samples in place. */
static inline struct stats stats_of(double *samples, size_t n)
{
    struct stats s = {0};
    if (n == 0)
        return s;
    qsort(samples, n, sizeof *samples, compare_doubles);
    s.n = n;
    s.min = samples[0];
    s.max = samples[n - 1];
    s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    double sum = 0, squares = 0;
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    s.mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        squares += (samples[i] - s.mean) * (samples[i] - s.mean);
    s.stddev = n > 1 ? sqrt(squares / (double)(n - 1)) : 0;
    return s;
}

static inline bool is_noisy(struct stats s)
{
    return s.n > 1 && s.min > 0 && s.max / s.min > NOISY_RATIO;
}

/* A point derived from two measured medians (a ratio), spread from their extremes. */
static inline struct stats ratio_of(struct stats num, struct stats den)
{
    struct stats r = num;
    r.median = num.median / den.median;
    r.mean = num.mean / den.mean;
    r.min = num.min / den.max;
    r.max = num.max / den.min;
    r.stddev = r.mean * sqrt(pow(num.stddev / num.mean, 2) + pow(den.stddev / den.mean, 2));
    return r;
}

/* One trial returns its measurement in the experiment's unit (e.g. us per op). */
typedef double (*trial_fn)(void *ctx);

/* `trials` measured trials (after the caller's warm-up); stops between trials on SIGINT. */
static inline struct stats run_trials(trial_fn trial, void *ctx, long trials)
{
    double *samples = malloc((size_t)trials * sizeof *samples);
    if (!samples)
        die_errno("malloc");
    for (long t = 0; t < trials; t++) {
        exit_if_stopped();
        samples[t] = trial(ctx);
    }
    struct stats s = stats_of(samples, (size_t)trials);
    free(samples);
    return s;
}

/* One untimed warm-up trial, then `trials` measured ones. */
static inline struct stats measure(trial_fn trial, void *ctx, long trials)
{
    exit_if_stopped();
    trial(ctx);
    return run_trials(trial, ctx, trials);
}

/* One untimed trial of each, then `trials` of each in alternation (A B A B ...) into xa, xb. */
static inline void alternate(trial_fn a, trial_fn b, void *ctx, long trials, double *xa,
                             double *xb)
{
    exit_if_stopped();
    a(ctx);
    b(ctx);
    for (long t = 0; t < trials; t++) {
        exit_if_stopped();
        xa[t] = a(ctx);
        xb[t] = b(ctx);
    }
}

/* Two variants measured in alternation (A B A B ...), so a burst of load from elsewhere on
 * the machine falls on both instead of on whichever ran then. */
static inline void measure_alternating(trial_fn a, trial_fn b, void *ctx, long trials,
                                       struct stats *sa, struct stats *sb)
{
    double *xa = malloc((size_t)trials * sizeof *xa), *xb = malloc((size_t)trials * sizeof *xb);
    if (!xa || !xb)
        die_errno("malloc");
    alternate(a, b, ctx, trials, xa, xb);
    *sa = stats_of(xa, (size_t)trials);
    *sb = stats_of(xb, (size_t)trials);
    free(xa);
    free(xb);
}

/* The same, read pair by pair: A's measurement over B's in each pair (a speedup when both are
 * times), so a drift that lasts seconds falls on both halves of every ratio. */
static inline struct stats measure_alternating_ratio(trial_fn a, trial_fn b, void *ctx,
                                                     long trials)
{
    double *xa = malloc((size_t)trials * sizeof *xa), *xb = malloc((size_t)trials * sizeof *xb);
    if (!xa || !xb)
        die_errno("malloc");
    alternate(a, b, ctx, trials, xa, xb);
    for (long t = 0; t < trials; t++)
        xa[t] /= xb[t];
    struct stats s = stats_of(xa, (size_t)trials);
    free(xa);
    free(xb);
    return s;
}

/* ---------- how many trials: --trials, or the mode's count, or a time budget ---------- */

/* --trials N wins; otherwise the mode's count. */
static inline long trials_for(const struct kit_opts *o, long quick, long normal, long full)
{
    return o->trials ? o->trials : (long)by_mode(o, quick, normal, full);
}

/* Seconds an experiment may take in this mode; --full has no budget. */
static inline double budget_for(const struct kit_opts *o, double quick_s, double normal_s)
{
    return o->mode == MODE_QUICK ? quick_s : o->mode == MODE_FULL ? INFINITY : normal_s;
}

/* A count that fits `budget_s` when one unit took `unit_s`, within [least, most].
 * The caller prints what it chose (progress) so a reader knows the sample size. */
static inline long count_within(double budget_s, double unit_s, long least, long most)
{
    if (!(unit_s > 0) || !isfinite(budget_s))
        return most;
    double fits = budget_s / unit_s;
    return fits < (double)least ? least : fits > (double)most ? most : (long)fits;
}

static inline double seconds_since(uint64_t start) { return (double)(now_ns() - start) / 1e9; }

/* Samples of a trial the caller has warmed up: as many as fit `budget_s`, counted while they
 * run (a guess from one call is easily 5x off on a loaded machine), at least 2 (--quick) or 3,
 * at most `most`; --trials N takes exactly N. */
static inline struct stats samples_within(const struct kit_opts *o, trial_fn trial, void *ctx,
                                          double budget_s, long most)
{
    long least = by_mode(o, 2, 3, 3), count = o->trials ? o->trials : most;
    double *x = malloc((size_t)count * sizeof *x);
    if (!x)
        die_errno("malloc");
    uint64_t start = now_ns();
    long n = 0;
    while (n < count && (o->trials || n < least || seconds_since(start) < budget_s)) {
        exit_if_stopped();
        x[n++] = trial(ctx);
    }
    struct stats s = stats_of(x, (size_t)n);
    free(x);
    return s;
}

/* ---------- placement and the parallelism actually available ---------- */

static inline const char *pin_name(enum kit_pin pin)
{
    return pin == PIN_SAME ? "same (every process on CPU 0)"
         : pin == PIN_SPREAD ? "spread (process i on CPU i mod CPUs)"
         : "none (the scheduler places processes)";
}

/* CPU work with a checkable answer: xorshift rounds from x (x != 0), about 2 ns a round. */
static inline uint64_t spin_from(uint64_t x, uint64_t iterations)
{
    for (uint64_t i = 0; i < iterations; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static inline uint64_t spin(uint64_t iterations)
{
    return spin_from(88172645463325252u, iterations);
}

/* splitmix64's mixer: a well-spread 64-bit value from any x, for generated work and data. */
static inline uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static inline int spin_child(int index, void *iterations)
{
    (void)index;
    keep(spin(*(uint64_t *)iterations));
    return 0;
}

/* Wall time for `procs` processes each running the same spin, started together. */
static inline double spin_wall_ns(int procs, uint64_t iterations)
{
    pid_t pids[procs];
    uint64_t start = now_ns();
    for (int p = 0; p < procs; p++)
        pids[p] = start_worker(p, PIN_NONE, spin_child, &iterations);
    for (int p = 0; p < procs; p++) {
        int status = reap_child(pids[p]);
        if (!ended_ok(status))
            die_child("effective-CPU calibration: spin child", p, pids[p], status, "%s", "");
    }
    return (double)(now_ns() - start);
}

/* P × t(1 process) / t(P processes): 2.0 on two idle cores, nearer 1 when shared. */
static inline double effective_cpus(int procs, uint64_t iterations)
{
    double ratios[3];
    for (int r = 0; r < 3; r++) {
        double one = spin_wall_ns(1, iterations);
        double all = spin_wall_ns(procs, iterations);
        ratios[r] = procs * one / all;
    }
    return stats_of(ratios, 3).median;
}

/* ---------- machine info ---------- */

static inline void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            char *value = colon + 2, *out = buf;
            /* spaces would split the key=value metadata line */
            for (; *value && *value != '\n' && out + 1 < buf + len; value++)
                *out++ = *value == ' ' ? '_' : *value;
            *out = '\0';
            break;
        }
    }
    fclose(f);
}

/* The number on a /proc file's "key: N kB" line (status, meminfo, smaps_rollup), in the
 * file's unit; -1 when the file cannot be read or has no such line. */
static inline long long proc_value(const char *path, const char *key)
{
    char line[512];
    size_t len = strlen(key);
    long long value = -1;
    FILE *f = fopen(path, "r");
    while (f && value == -1 && fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0 && line[len] == ':')
            value = strtoll(line + len + 1, NULL, 10);
    if (f)
        fclose(f);
    return value;
}

/* MemAvailable: what the kernel thinks can be allocated without swapping. */
static inline unsigned long long available_memory(void)
{
    long long kib = proc_value("/proc/meminfo", "MemAvailable");
    if (kib < 0)
        die("cannot read MemAvailable from /proc/meminfo");
    return (unsigned long long)kib * 1024;
}

/* "host=... cpus=2 model=... kernel=... date=... git=..." */
static inline void machine_line(char *buf, size_t len)
{
    char host[128] = "unknown", model[256], date[32];
    struct utsname u;
    time_t now = time(NULL);
    gethostname(host, sizeof host - 1);
    cpu_model(model, sizeof model);
    if (uname(&u) == -1)
        snprintf(u.release, sizeof u.release, "unknown");
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    const char *git = getenv("KIT_GIT");
    snprintf(buf, len, "host=%s cpus=%d model=%s kernel=%s date=%s git=%s",
             host, online_cpus(), model, u.release, date, git && *git ? git : "unknown");
}

/* The opening lines every chapter prints: what ran, where, and how far to trust the clock. */
static inline void print_run_header(const struct kit_opts *o, const char *question)
{
    char machine[768];
    double load[1] = {0};
    machine_line(machine, sizeof machine);
    printf("%s: %s\n", o->prog, question);
    printf("mode=%s  %s\n", mode_name(o->mode), machine);
    printf("clock: CLOCK_MONOTONIC, %.0f ns per reading\n", clock_overhead_ns());
    if (getloadavg(load, 1) == 1 && load[0] > online_cpus() / 2.0)
        warn("load average %.2f over the last minute is above half the %d CPUs: "
             "if other work is running, timings will be noisy",
             load[0], online_cpus());
}

/* The calibration's spin per mode: long enough to see two CPUs behave like one. */
static inline uint64_t calibration_spins(const struct kit_opts *o)
{
    return (uint64_t)by_mode(o, 2000000, 20000000, 50000000);
}

/* Measures and prints the parallelism available now; stored for the TSV metadata. */
static inline void report_effective_cpus(struct kit_opts *o, uint64_t spin_iterations)
{
    int procs = online_cpus();
    double measured = effective_cpus(procs, spin_iterations);
    /* P processes cannot get more than P CPUs: a ratio above P is the 1-process spin slowed by
     * other work, and reading speedups against it would ask for more than the machine has. */
    o->effective_cpus = measured > procs ? procs : measured;
    printf("effective CPUs: %.2f of %d (the same spin in 1 process vs in %d at once",
           o->effective_cpus, procs, procs);
    if (measured > procs)
        printf("; measured %.3f, more than can be: read as %d", measured, procs);
    printf(")\n");
    if (measured > 1.1 * procs)
        warn("%.2f effective CPUs is more than the %d online: the 1-process spin was slowed by "
             "other work, so this calibration cannot be trusted; rerun on a quieter machine",
             measured, procs);
    else if (o->effective_cpus < 0.75 * procs)
        warn("only %.2f of %d CPUs were available during calibration: read speedups against %.2f",
             o->effective_cpus, procs, o->effective_cpus);
}

/* ---------- TSV output ----------
 * A TSV appears whole or not at all. Its rows go to a file with no name yet (O_TMPFILE in
 * the output directory), which is given a temporary name and renamed over the old file only
 * once every byte is written (rename is atomic). Two runs sharing --out cannot mix their rows;
 * a failed run (a full disk, a file-size limit) leaves the previous file as it was; and a run
 * killed with SIGKILL leaves nothing, since a nameless file vanishes with its last descriptor.
 * Where the filesystem has no O_TMPFILE, the temporary name is used from the start and removed
 * at exit or on a stop signal. */

enum { MAX_OPEN_TSVS = 8 };
struct open_tsv {
    FILE *file;
    pid_t owner;
    bool named;                     /* false: still nameless (O_TMPFILE) */
    char path[PATH_MAX], temp[PATH_MAX + 32];
};
extern struct open_tsv open_tsvs[MAX_OPEN_TSVS];

static inline void remove_unfinished_tsvs(void)
{
    for (int i = 0; i < MAX_OPEN_TSVS; i++)
        if (open_tsvs[i].file && open_tsvs[i].owner == getpid()) {
            if (open_tsvs[i].named)
                unlink(open_tsvs[i].temp);
            open_tsvs[i].file = NULL;
        }
}

/* A nameless file in the directory of `path`, or -1 where the filesystem cannot. */
static inline int open_nameless(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    return open(slash ? dir : ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
}

static inline FILE *tsv_create(const char *path)
{
    for (int i = 0; i < MAX_OPEN_TSVS; i++) {
        struct open_tsv *t = &open_tsvs[i];
        if (t->file)
            continue;
        snprintf(t->path, sizeof t->path, "%s", path);
        snprintf(t->temp, sizeof t->temp, "%s.%d.tmp", path, (int)getpid());
        add_kit_cleanup(remove_unfinished_tsvs);
        int fd = open_nameless(path);
        t->named = fd == -1;
        if (t->named)
            fd = open(t->temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd == -1 || !(t->file = fdopen(fd, "w")))
            die("cannot write %s: %s", t->named ? t->temp : path, strerror(errno));
        t->owner = getpid();
        return t->file;
    }
    die("more than %d TSV files open at once", MAX_OPEN_TSVS);
}

/* Gives a nameless file its temporary name: the step before the rename. */
static inline int name_tsv(struct open_tsv *t, FILE *f)
{
    if (t->named)
        return 0;
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fileno(f));
    unlink(t->temp);
    if (linkat(AT_FDCWD, self, AT_FDCWD, t->temp, AT_SYMLINK_FOLLOW) == -1)
        return -1;
    t->named = true;
    return 0;
}

static inline FILE *tsv_open_table(const struct kit_opts *o, const char *experiment,
                                   const char *columns)
{
    char path[PATH_MAX], machine[768];
    const char *dash = strchr(o->prog, '-');
    if (snprintf(path, sizeof path, "%s/%.4s-%s.tsv", o->out_dir, o->prog, experiment)
        >= (int)sizeof path)
        die("output path too long");
    FILE *f = tsv_create(path);
    machine_line(machine, sizeof machine);
    fprintf(f, "# chapter=%.2s program=%s experiment=%s mode=%s\n",
            o->prog + 2, dash ? dash + 1 : o->prog, experiment, mode_name(o->mode));
    fprintf(f, "# %s\n", machine);
    fprintf(f, "# args=%s\n", o->args);
    if (o->effective_cpus > 0)
        fprintf(f, "# effective_cpus=%.2f\n", o->effective_cpus);
    fprintf(f, "%s\n", columns);
    return f;
}

#define MEASUREMENT_COLUMNS "variant\tx\tunit\tn\tmedian\tmin\tmax\tmean\tstddev"

/* A measurement table: variant, x (named by `# x=`), unit, and the statistics. */
static inline FILE *tsv_open(const struct kit_opts *o, const char *experiment, const char *x_name)
{
    char columns[256];
    snprintf(columns, sizeof columns, "# x=%s\n%s", x_name, MEASUREMENT_COLUMNS);
    return tsv_open_table(o, experiment, columns);
}

/* The same with one more metadata line, "# key=value ...": what a plot or a reader needs
 * beside the rows (a fitted line, the buffer size used). */
__attribute__((format(printf, 4, 5)))
static inline FILE *tsv_open_noted(const struct kit_opts *o, const char *experiment,
                                   const char *x_name,
                                   const char *fmt, ...)
{
    char note[512], columns[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    snprintf(columns, sizeof columns, "# x=%s\n# %s\n%s", x_name, note, MEASUREMENT_COLUMNS);
    return tsv_open_table(o, experiment, columns);
}

static inline void tsv_row(FILE *f, const char *variant, double x, const char *unit, struct stats s)
{
    fprintf(f, "%s\t%.12g\t%s\t%zu\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\n",
            variant, x, unit, s.n, s.median, s.min, s.max, s.mean, s.stddev);
}

/* Flushes the rows to disk and puts the file in place; any failure names the file and
 * the error (ENOSPC, EFBIG) and leaves the previous file untouched. */
static inline void tsv_close(FILE *f)
{
    for (int i = 0; i < MAX_OPEN_TSVS; i++) {
        struct open_tsv *t = &open_tsvs[i];
        if (t->file != f)
            continue;
        int failed = ferror(f), err = failed ? EIO : 0;
        if (fflush(f) != 0 || (!failed && name_tsv(t, f) != 0))
            failed = 1, err = errno;
        t->file = NULL;
        if (fclose(f) != 0 && !failed)
            failed = 1, err = errno;
        if (!failed && rename(t->temp, t->path) != 0)
            failed = 1, err = errno;
        if (failed) {
            if (t->named)
                unlink(t->temp);
            die("writing %s failed: %s", t->path, strerror(err));
        }
        return;
    }
    die("tsv_close: not a TSV opened by tsv_open");
}

#endif
