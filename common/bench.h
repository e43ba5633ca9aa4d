/* bench.h - the kit's timing, statistics and TSV output.
 *
 *   now_ns()            CLOCK_MONOTONIC in nanoseconds (never wall-clock time)
 *   measure()           one warm-up, then N trials of a function; returns stats_of() them
 *   stats_of()          median, min, max, mean, stddev of a sample
 *   is_noisy()          max/min above NOISY_RATIO: the trials disagree, read with care
 *   keep()              a sink, so the compiler cannot delete work whose result is unused
 *   spin(), mix64()     CPU work and well-spread values with a checkable answer
 *   effective_cpus()    the same spin in 1 process vs in P at once: the parallelism really there
 *   available_memory()  MemAvailable, for refusing sizes the machine cannot hold
 *   tsv_open/tsv_row    results/chNN-<experiment>.tsv with its # metadata block
 *                       (tsv_open_noted: one more metadata line)
 *
 * Include cli.h first. Needs _GNU_SOURCE (sched_setaffinity, getloadavg).
 */
#ifndef KIT_BENCH_H
#define KIT_BENCH_H

#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"

#define NOISY_RATIO 2.0 /* max/min above this flags a point as noisy */

/* ---------- the clock ---------- */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

/* One untimed warm-up trial, then `trials` measured ones; stops between trials on SIGINT. */
static inline struct stats measure(trial_fn trial, void *ctx, long trials)
{
    double *samples = malloc((size_t)trials * sizeof *samples);
    if (!samples)
        die_errno("malloc");
    exit_if_stopped();
    trial(ctx);
    for (long t = 0; t < trials; t++) {
        exit_if_stopped();
        samples[t] = trial(ctx);
    }
    struct stats s = stats_of(samples, (size_t)trials);
    free(samples);
    return s;
}

/* ---------- placement and the parallelism actually available ---------- */

static inline int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static inline void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % online_cpus(), &set);
    if (sched_setaffinity(0, sizeof set, &set) == -1)
        die_errno("sched_setaffinity");
}

static inline const char *pin_name(enum kit_pin pin)
{
    return pin == PIN_SAME ? "same (every process on CPU 0)"
         : pin == PIN_SPREAD ? "spread (process i on CPU i mod CPUs)"
         : "none (the scheduler places processes)";
}

static inline uint64_t spin(uint64_t iterations)
{
    uint64_t x = 88172645463325252u;
    for (uint64_t i = 0; i < iterations; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

/* splitmix64's mixer: a well-spread 64-bit value from any x, for generated work and data. */
static inline uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* Wall time for `procs` processes each running the same spin, started together. */
static inline double spin_wall_ns(int procs, uint64_t iterations)
{
    uint64_t start = now_ns();
    for (int p = 0; p < procs; p++) {
        pid_t pid = fork();
        if (pid == -1)
            die_errno("fork");
        if (pid == 0) {
            keep(spin(iterations));
            _exit(0);
        }
    }
    for (int p = 0; p < procs; p++) {
        int status;
        while (wait(&status) == -1) {
            if (errno != EINTR)
                die_errno("wait");
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            die("effective-CPU calibration: a spin child failed (status %d)", status);
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

/* MemAvailable: what the kernel thinks can be allocated without swapping. */
static inline unsigned long long available_memory(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kib = 0;
    if (!f)
        die_errno("fopen /proc/meminfo");
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
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
        warn("load average %.2f over the last minute is above half the %d CPUs: if other work is running, timings will be noisy",
             load[0], online_cpus());
}

/* Measures and prints the parallelism available now; stored for the TSV metadata. */
static inline void report_effective_cpus(struct kit_opts *o, uint64_t spin_iterations)
{
    int procs = online_cpus();
    o->effective_cpus = effective_cpus(procs, spin_iterations);
    printf("effective CPUs: %.2f of %d (the same spin in 1 process vs in %d at once)\n",
           o->effective_cpus, procs, procs);
    if (o->effective_cpus < 0.75 * procs)
        warn("only %.2f of %d CPUs were available during calibration: read speedups against %.2f",
             o->effective_cpus, procs, o->effective_cpus);
}

/* ---------- TSV output ---------- */

static inline FILE *tsv_open_table(const struct kit_opts *o, const char *experiment, const char *columns)
{
    char path[PATH_MAX], machine[768];
    const char *dash = strchr(o->prog, '-');
    if (snprintf(path, sizeof path, "%s/%.4s-%s.tsv", o->out_dir, o->prog, experiment) >= (int)sizeof path)
        die("output path too long");
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write %s: %s", path, strerror(errno));
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
static inline FILE *tsv_open_noted(const struct kit_opts *o, const char *experiment, const char *x_name,
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

static inline void tsv_close(FILE *f)
{
    if (ferror(f) | fclose(f))
        die("writing a TSV file failed");
}

#endif
