/* ch05-mmap - memory-mapped files vs read(), split across processes: the driver.
 *
 * Read readers.c first: the methods, the split across processes and the checks. This file
 * holds the options, the data file (values whose exact sum is known), the experiments,
 * their tables and conclusions. Experiments (each its own TSV file and --only name):
 *   methods  MB/s of read, mmap, mmap-advise, mmap-populate, pread-N, mmap-N, file cached
 *   cold     the same, the file evicted before every trial (mincore() tells if it worked)
 *   workers  mmap-N and pread-N for N = 1 .. 2 x --workers
 *   bufsize  read() with buffers of 4 KiB .. 16 MiB
 * Linux only (mincore, posix_fadvise, MAP_POPULATE, PR_SET_PDEATHSIG, /proc/meminfo).
 * Exit: 0 ok, 1 runtime or verification failure (or a killed worker), 2 usage error.
 *
 * Sample output line (methods; variant, processes, median, min, max, unit, page faults):
 *   mmap-2            2       3385       3003       3486  MB/s  26.0 faults/MB, 0.0 major
 * Verification: every method's sum equals the sum computed while writing the file, bit for
 * bit; the workers' ranges tile the file; the data file's names are gone at the end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include "cli.h"
#include "bench.h"
#include "proc.h"
#include "report.h"
#include "readers.h"

static const char usage[] =
    "Usage: ch05-mmap [--quick | --full] [--only methods|cold|workers|bufsize] [--size SIZE]\n"
    "                 [--dir DIR] [--bufsize SIZE] [--trials N] [--workers N] [--seed S]\n"
    "                 [--pin none|same|spread] [--out DIR] [--inject overlap|gap|sum|stall]\n"
    "Memory-mapped files vs read(), split across processes (Linux only).\n"
    "  --size SIZE      data file size, a multiple of 4 bytes (one float32), at most the free\n"
    "                   space in DIR and the available memory (default 4000000 quick,\n"
    "                   40000000 default, 400000000 full: 1 M, 10 M, 100 M values)\n"
    "  --dir DIR        an existing writable directory for the data file (default: a fresh\n"
    "                   directory $TMPDIR/ch05-mmap-PID-XXXXXX); the file's name (and that\n"
    "                   directory) is removed as soon as it is open: it lives on, nameless,\n"
    "                   through its descriptor until the program ends\n"
    "  --bufsize SIZE   read()/pread() buffer of the methods and cold experiments (4K to 64M,\n"
    "                   a multiple of 4; default 128K)\n"
    "  --workers N      processes of pread-N and mmap-N; the workers experiment runs 1..2N\n"
    "  --inject KIND    for the tests: worker 1 starts one page early (overlap) or late (gap),\n"
    "                   or counts one value twice (sum): the parent's checks must catch it;\n"
    "                   or worker 0 waits until it is killed (stall): the parent must report it\n"
    "Writes results/ch05-{methods,cold,workers,bufsize}.tsv (x = processes, or buffer KiB).\n";

static const char *const experiments[] = {"methods", "cold", "workers", "bufsize"};

/* ---------- measuring ---------- */

struct method_trial {
    struct split_job job;       /* the method, N, the buffer, --inject and --pin */
    bool cold;
    /* out, over every trial including the warm-up */
    double most_resident;       /* cold: largest fraction still cached after eviction */
    long minor_faults, major_faults, runs;
    struct partial reports[MAX_PROCS];
};

static void count_faults(long *minor, long *major)
{
    struct rusage self, kids;
    if (getrusage(RUSAGE_SELF, &self) == -1 || getrusage(RUSAGE_CHILDREN, &kids) == -1)
        die_errno("getrusage");
    *minor = self.ru_minflt + kids.ru_minflt;
    *major = self.ru_majflt + kids.ru_majflt;
}

/* One pass over the whole file; returns MB/s (1 MB = 10^6 bytes) and checks the sum. */
static double time_method(void *ctx)
{
    struct method_trial *t = ctx;
    const struct method *m = t->job.method;
    if (t->cold)
        t->most_resident = fmax(t->most_resident, evict_file());
    long minor0, major0, minor1, major1;
    uint64_t done = data.size;
    double sum;
    count_faults(&minor0, &major0);
    uint64_t start = now_ns();
    if (m->split)
        sum = run_split(&t->job, t->reports);
    else
        sum = m->sum(data.fd, (struct range){0, data.size}, t->job.buf, t->job.bufsize, &done);
    double seconds = seconds_since(start);
    count_faults(&minor1, &major1);
    t->minor_faults += minor1 - minor0;
    t->major_faults += major1 - major0;
    t->runs++;
    if (done != data.size)
        verification_failed("%s: summed %llu bytes of %llu", m->name, (unsigned long long)done,
                            (unsigned long long)data.size);
    if (sum != data.expected_sum)
        verification_failed("%s%s: sum %.3f, expected %.3f", m->name, m->split ? "-N" : "", sum,
                            data.expected_sum);
    return (double)data.size / 1e6 / seconds;
}

static double mb(uint64_t bytes) { return (double)bytes / 1e6; }

/* A method by name: one process (split false) or N of them. */
static const struct method *method_named(const char *name, bool split)
{
    for (int i = 0; i < METHOD_COUNT; i++)
        if (strcmp(methods[i].name, name) == 0 && methods[i].split == split)
            return &methods[i];
    die("no method %s%s", name, split ? "-N" : "");
}

/* A trial of `m` in `procs` processes; calloc'd, for its MAX_PROCS reports. */
static struct method_trial *new_trial(const struct split_job *base, const struct method *m,
                                      int procs)
{
    struct method_trial *t = calloc(1, sizeof *t);
    if (!t)
        die_errno("calloc");
    t->job = *base;
    t->job.method = m;
    t->job.procs = procs;
    return t;
}

/* The warm speed of one method, measured where a conclusion needs it, so no conclusion
 * depends on which other experiments ran first. */
static struct stats measure_warm(const struct split_job *base, const char *name, bool split,
                                 int procs, long trials)
{
    struct method_trial *t = new_trial(base, method_named(name, split), procs);
    struct stats s = measure(time_method, t, trials);
    free(t);
    return s;
}

/* The table row of a split method: NAME-N with N = procs, at x = procs. */
static double split_median(const struct report *r, const char *name, int procs)
{
    char variant[32];
    snprintf(variant, sizeof variant, "%s-%d", name, procs);
    return median_of(r, variant, procs);
}

/* ---------- experiments 1 and 2: methods (warm) and cold ---------- */

/* One table of every method: its rows, and what the conclusions read beside them. */
struct methods_table {
    struct report r;
    double minor_per_mb[METHOD_COUNT], major_per_mb[METHOD_COUNT];   /* by methods[] index */
    double most_resident;
    struct partial ranges[8];   /* the last split run's first ranges, as the parent checked them */
};

static double faults_per_mb(const double per_method[], const char *name)
{
    return per_method[method_named(name, false) - methods];
}

static void print_ranges(const struct methods_table *tab, int procs)
{
    printf("  ranges of mmap-%d (page = %zu bytes):", procs, data.page);
    int shown = procs < (int)KIT_COUNT(tab->ranges) ? procs : (int)KIT_COUNT(tab->ranges);
    for (int w = 0; w < shown; w++)
        printf(" [%llu, %llu)", (unsigned long long)tab->ranges[w].begin,
               (unsigned long long)(tab->ranges[w].begin + tab->ranges[w].bytes));
    printf("%s -- contiguous, page-aligned, %llu bytes each summed once\n",
           procs > shown ? " ..." : "", (unsigned long long)data.size);
    printf("  sums: every method returned exactly %.3f, the sum known from writing the file\n",
           data.expected_sum);
}

static void conclude_methods(const struct kit_opts *o, const struct methods_table *tab)
{
    const struct report *r = &tab->r;
    int n = (int)o->workers;
    double read = median_of(r, "read", 1), mmap = median_of(r, "mmap", 1);
    printf("  -> one process: mmap runs at %.2fx read's speed (read copies every byte once more; "
           "mmap instead\n     takes %.1f page faults per MB), mmap-advise at %.2fx and "
           "mmap-populate at %.2fx mmap;\n     %d processes: pread-%d at %.2fx and mmap-%d at "
           "%.2fx one process's read (%.2f effective CPUs).\n",
           mmap / read, faults_per_mb(tab->minor_per_mb, "mmap"),
           median_of(r, "mmap-advise", 1) / mmap, median_of(r, "mmap-populate", 1) / mmap, n, n,
           split_median(r, "pread", n) / read, n, split_median(r, "mmap", n) / read,
           o->effective_cpus);
}

static void conclude_cold(const struct kit_opts *o, const struct split_job *base,
                          const struct methods_table *tab, long trials)
{
    const struct report *r = &tab->r;
    int n = (int)o->workers;
    double read = median_of(r, "read", 1), mmap = median_of(r, "mmap", 1);
    double mmap_n = split_median(r, "mmap", n);
    struct statfs fs;
    bool tmpfs = fstatfs(data.fd, &fs) == 0 && fs.f_type == 0x01021994;   /* TMPFS_MAGIC */
    if (tab->most_resident > 0.5)
        printf("  -> eviction did NOT take effect: up to %.0f%% of the file stayed cached%s, so "
               "these\n     'cold' numbers are warm ones in disguise.\n", 100 * tab->most_resident,
               tmpfs ? " (tmpfs: the page cache is the only copy of the file)" : "");
    else
        printf("  -> eviction worked (at most %.1f%% of the pages stayed cached before a trial): "
               "cold read %.0f MB/s,\n     cold mmap %.0f MB/s (%.1f major faults per MB); "
               "%d processes: pread-%d at\n     %.2fx and mmap-%d at %.2fx cold read.\n",
               100 * tab->most_resident, read, mmap, faults_per_mb(tab->major_per_mb, "mmap"),
               n, n, split_median(r, "pread", n) / read, n, mmap_n / read);
    printf("     warm / cold: read %.1fx, mmap %.1fx, mmap-%d %.1fx.\n",
           measure_warm(base, "read", false, 1, trials).median / read,
           measure_warm(base, "mmap", false, 1, trials).median / mmap, n,
           measure_warm(base, "mmap", true, n, trials).median / mmap_n);
}

/* Every method once, as a table row and a TSV row; cold evicts the file before every trial. */
static void run_methods_table(const struct kit_opts *o, const struct split_job *base, bool cold)
{
    const char *experiment = cold ? "cold" : "methods";
    long trials = cold ? trials_for(o, 1, 3, 5) : trials_for(o, 3, 7, 15);
    struct methods_table tab = {0};
    report_start(&tab.r, o, experiment, "processes");
    report_note(&tab.r, "bufsize=%zu", base->bufsize);
    printf("\n%s: one pass over %.1f MB, %s (%ld trials; %zu-byte read buffer; N = %ld)\n",
           experiment, mb(data.size),
           cold ? "the file evicted from the page cache before each trial"
                : "the file in the page cache", trials, base->bufsize, o->workers);
    for (int i = 0; i < METHOD_COUNT; i++) {
        const struct method *m = &methods[i];
        int p = m->split ? (int)o->workers : 1;
        char name[32];
        snprintf(name, sizeof name, m->split ? "%s-%d" : "%s", m->name, p);
        if (cold && o->mode != MODE_QUICK)
            progress("cold: %s", name);
        struct method_trial *t = new_trial(base, m, p);
        t->cold = cold;
        report_add(&tab.r, name, p, "MB/s", measure(time_method, t, trials));
        double passes_mb = mb(data.size) * (double)t->runs;
        tab.minor_per_mb[i] = (double)t->minor_faults / passes_mb;
        tab.major_per_mb[i] = (double)t->major_faults / passes_mb;
        report_comment(&tab.r, "%.1f faults/MB, %.1f major", tab.minor_per_mb[i],
                       tab.major_per_mb[i]);
        tab.most_resident = fmax(tab.most_resident, t->most_resident);
        if (m->split)
            memcpy(tab.ranges, t->reports, sizeof tab.ranges);
        free(t);
    }
    if (cold)
        report_note(&tab.r, "most_resident_after_evict=%.4f", tab.most_resident);
    report_print(&tab.r);
    report_write(&tab.r);
    print_ranges(&tab, (int)o->workers);
    if (cold)
        conclude_cold(o, base, &tab, trials_for(o, 3, 7, 15));
    else
        conclude_methods(o, &tab);
    report_free(&tab.r);
}

/* ---------- experiment 3: workers ---------- */

static void run_workers(const struct kit_opts *o, const struct split_job *base)
{
    long trials = trials_for(o, 2, 5, 11);
    int max_procs = (int)(2 * o->workers);
    struct report r;
    report_start(&r, o, "workers", "processes");
    printf("\nworkers: the file (%.1f MB, cached) split across N = 1..%d processes (%ld trials)\n",
           mb(data.size), max_procs, trials);
    for (int procs = 1; procs <= max_procs; procs++) {
        if (o->mode != MODE_QUICK && procs > 1)
            progress("workers: %d of %d process counts", procs, max_procs);
        static const char *const split[] = {"mmap", "pread"};
        for (int k = 0; k < 2; k++) {
            char name[16];
            snprintf(name, sizeof name, "%s-N", split[k]);
            report_add(&r, name, procs, "MB/s", measure_warm(base, split[k], true, procs, trials));
            report_comment(&r, "%.2fx N=1", median_of(&r, name, procs) / median_of(&r, name, 1));
        }
    }
    report_print(&r);
    report_write(&r);
    const struct report_row *mmap = report_best(&r, "mmap-N", true);
    const struct report_row *pread = report_best(&r, "pread-N", true);
    printf("  -> best mmap-N %.0f MB/s with N=%.0f (%.2fx N=1), best pread-N %.0f MB/s with N=%.0f "
           "(%.2fx N=1),\n     against %.2f effective CPUs of %d: past the CPUs (or the memory "
           "bandwidth) more processes only share them.\n",
           mmap->s.median, mmap->x, mmap->s.median / median_of(&r, "mmap-N", 1),
           pread->s.median, pread->x, pread->s.median / median_of(&r, "pread-N", 1),
           o->effective_cpus, online_cpus());
    report_free(&r);
}

/* ---------- experiment 4: bufsize ---------- */

static void run_bufsize(const struct kit_opts *o, const struct split_job *base)
{
    long trials = trials_for(o, 2, 5, 11);
    size_t step = o->mode == MODE_QUICK ? 4 : 2;       /* powers of 4, or of 2 */
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    struct report r;
    report_start(&r, o, "bufsize", "buffer_kib");
    report_note(&r, "l2_cache_kib=%ld", l2 > 0 ? l2 / 1024 : 0);
    printf("\nbufsize: one process read()s the cached file (%.1f MB) with buffers of 4K..16M "
           "(%ld trials)%s\n", mb(data.size), trials, l2 > 0 ? "" : "; L2 cache size unknown");
    if (l2 > 0)
        printf("  (this CPU's L2 cache: %ld KiB)\n", l2 / 1024);
    struct split_job job = *base;
    for (job.bufsize = 4096; job.bufsize <= (16u << 20); job.bufsize *= step)   /* x in KiB */
        report_add(&r, "read", (double)job.bufsize / 1024, "MB/s",
                   measure_warm(&job, "read", false, 1, trials));
    double mmap = measure_warm(base, "mmap", false, 1, trials).median;
    report_note(&r, "mmap_mbs=%.1f", mmap);     /* the figure's reference line, this run's */
    report_print(&r);
    report_write(&r);
    char b[16];
    const struct report_row *top = report_best(&r, "read", true);
    double best = top->s.median;
    double first = median_of(&r, "read", 4), last = median_of(&r, "read", 16 << 10);
    printf("  -> 4K buffers: %.0f MB/s (a system call per 4 KiB); best %.0f MB/s at %s (%.2fx 4K); "
           "16M: %.2fx the best%s\n", first, best, format_size((size_t)top->x << 10, b, sizeof b),
           best / first, last / best, last < 0.9 * best && l2 > 0 && l2 < (16L << 20)
               ? " (a buffer larger than the L2 cache: likely its copy no longer stays in it)."
               : ".");
    printf("     mmap in this run: %.0f MB/s, %.2fx the best read().\n", mmap, mmap / best);
    report_free(&r);
}

/* ---------- plumbing: the data file's life ---------- */

/* At exit, on SIGINT/SIGTERM and after a worker died: kill and reap the workers we started
 * and close the file, whose names went as soon as it was open (create_unlinked_file):
 * closing frees its blocks. Workers never run this. */
static void clean_up(void)
{
    if (getpid() != data.owner)
        return;
    kill_children();
    if (data.fd != -1)
        close(data.fd);
    data.fd = -1;
}

/* Makes the file (in a fresh private directory unless --dir), then removes its name and the
 * directory at once: the open descriptor keeps the file alive, workers reopen it through
 * /proc/self/fd, and even a SIGKILLed parent leaves nothing behind. SIGINT and SIGTERM wait
 * (blocked) until the names are gone, so a stop cannot land in between. */
static void create_unlinked_file(const char *dir_opt)
{
    sigset_t stops, before;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, &before);
    if (!dir_opt) {
        const char *tmp = getenv("TMPDIR");
        if (snprintf(data.dir, sizeof data.dir, "%.4000s/ch05-mmap-%d-XXXXXX",
                     tmp && *tmp ? tmp : "/tmp", (int)getpid()) >= (int)sizeof data.dir)
            die("TMPDIR is too long");
        if (!mkdtemp(data.dir))
            die("mkdtemp %s: %s", data.dir, strerror(errno));
        snprintf(data.path, sizeof data.path, "%.4050s/data.f32", data.dir);
    }
    data.fd = open(data.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int open_errno = errno;
    if (data.fd != -1 && unlink(data.path) == -1)
        die_errno("unlink (data file)");
    if (!dir_opt && rmdir(data.dir) == -1)
        die_errno("rmdir (data directory)");
    sigprocmask(SIG_SETMASK, &before, NULL);
    errno = open_errno;
    if (data.fd == -1 && dir_opt)
        die_usage("--dir: cannot create a file in '%s': %s", dir_opt, strerror(errno));
    if (data.fd == -1)
        die_errno("open (data file)");
}

/* Checks --dir, creates the data file -- proof that the directory takes files -- and checks
 * that SIZE fits on its filesystem and in memory. Bad input exits 2, leaving nothing. */
static void create_data_file(const char *dir_opt, uint64_t size)
{
    struct stat st;
    data.owner = getpid();
    if (dir_opt && stat(dir_opt, &st) == -1)
        die_usage("--dir: '%s' %s", dir_opt, errno == ENOENT ? "does not exist" : strerror(errno));
    if (dir_opt && !S_ISDIR(st.st_mode))
        die_usage("--dir: '%s' is not a directory", dir_opt);
    if (dir_opt && snprintf(data.path, sizeof data.path, "%s/ch05-mmap-%d.f32", dir_opt,
                            (int)getpid()) >= (int)sizeof data.path)
        die_usage("--dir: path too long");
    create_unlinked_file(dir_opt);
    struct statvfs fs;
    if (fstatvfs(data.fd, &fs) == -1)
        die_errno("fstatvfs");
    unsigned long long free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize;
    unsigned long long memory = available_memory();
    char want[32], have[32];
    format_size(size, want, sizeof want);
    if (size > free_bytes)
        die_usage("--size: %s is larger than the free space in '%s' (%s)", want,
                  dir_opt ? dir_opt : data.dir, format_size(free_bytes, have, sizeof have));
    if (size > memory)
        die_usage("--size: %s is larger than the available memory (%s): the warm-cache experiments "
                  "need the whole file cached", want, format_size(memory, have, sizeof have));
}

/* The next value, k/8 with k in -128..127 from splitmix64 (the state steps by the golden
 * ratio, the value is the mixed state): exact in a float, and a sum of fewer than 2^46 of
 * them is exact in a double in any order -- so a split sum equals the sequential one. */
static float next_value(uint64_t *state)
{
    uint64_t random = mix64(*state);
    *state += 0x9e3779b97f4a7c15u;
    return (float)((int)(random >> 56) - 128) / 8.0f;
}

/* Writes the values and records, page by page, the exact sum of what was written. */
static void fill_data_file(unsigned long seed, uint64_t size)
{
    enum { CHUNK = 1 << 20 };               /* a whole number of pages */
    data.size = size;
    data.page = (size_t)sysconf(_SC_PAGESIZE);
    data.pages = (size + data.page - 1) / data.page;
    data.eighths_before = calloc(data.pages + 1, sizeof *data.eighths_before);
    data.residency = calloc(data.pages ? data.pages : 1, 1);
    float *chunk = malloc(CHUNK);
    if (!data.eighths_before || !data.residency || !chunk)
        die_errno("malloc");
    uint64_t state = seed, values = size / sizeof(float), per_page = data.page / sizeof(float);
    int64_t eighths = 0;
    for (uint64_t v = 0; v < values;) {
        exit_if_stopped();
        size_t n = 0;
        for (; n < CHUNK / sizeof(float) && v < values; n++, v++) {
            chunk[n] = next_value(&state);
            eighths += (int64_t)(chunk[n] * 8);
            if ((v + 1) % per_page == 0 || v + 1 == values)
                data.eighths_before[v / per_page + 1] = eighths;
        }
        if (!write_full(data.fd, chunk, n * sizeof(float)))
            die_errno("write (data file)");
    }
    free(chunk);
    data.expected_sum = (double)eighths / 8.0;
}

/* The end of a good run: close the file, and prove no name of it is left. */
static void remove_data_file(void)
{
    clean_up();
    struct stat st;
    if (stat(data.path, &st) == 0 || (data.dir[0] && stat(data.dir, &st) == 0))
        verification_failed("the data file %s (or its directory) is still there after clean-up",
                            data.path);
}

/* The command line: the standard options and this chapter's own, checked before any work. */
struct options {
    const char *dir;            /* --dir, or NULL: a private directory under $TMPDIR */
    uint64_t size;              /* --size */
    size_t bufsize;             /* --bufsize */
    enum inject inject;         /* --inject */
};

static struct options parse_options(struct kit_opts *o, int argc, char **argv)
{
    struct options opt = {.bufsize = 128 << 10, .inject = INJECT_NONE};
    const char *size = NULL, *bufsize = NULL, *inject = NULL;
    const struct kit_option own[] = {{"--size", &size, NULL}, {"--dir", &opt.dir, NULL},
                                     {"--bufsize", &bufsize, NULL}, {"--inject", &inject, NULL}};
    parse_kit_options(o, argc, argv, own, KIT_COUNT(own), experiments, KIT_COUNT(experiments));
    if (opt.dir && !*opt.dir)
        die_usage("--dir: needs a directory name");
    if (bufsize)
        opt.bufsize = parse_size("--bufsize", bufsize, 4 << 10, 64 << 20);
    if (opt.bufsize % sizeof(float))
        die_usage("--bufsize: %zu is not a multiple of 4 bytes (one float32)", opt.bufsize);
    static const char *const faults[] = {"overlap", "gap", "sum", "stall"};  /* enum inject */
    if (inject)
        opt.inject = 1 + parse_choice("--inject", inject, "a fault", faults, 4);
    /* at most 2^46 values: the sums stay exact; free space and memory are checked once the
     * file's directory is known */
    opt.size = size ? parse_size("--size", size, 4 << 10, 1ull << 48)
                    : (uint64_t)by_mode(o, 4000000, 40000000, 400000000);
    if (opt.size % sizeof(float))
        die_usage("--size: %llu is not a multiple of 4 bytes (one float32)",
                  (unsigned long long)opt.size);
    long sweep = 2 * o->workers;
    refuse_long_sweep(o, "workers", sweep * (sweep + 1), "N = 1..2W, mmap and pread");
    return opt;
}

/* The data file made (bad --dir or --size: exit 2 before --out is made), filled, announced;
 * returns what every experiment starts from. */
static struct split_job start_run(struct kit_opts *o, const struct options *opt)
{
    create_data_file(opt->dir, opt->size);
    if (atexit(clean_up) != 0)
        die("atexit failed");
    catch_stop_signals(clean_up);
    prepare_out_dir(o);
    if (o->pin == PIN_SAME)
        pin_to_cpu(0);
    print_run_header(o, "memory-mapped files vs read(), split across processes");
    printf("placement: %s\n", pin_name(o->pin));
    if (o->mode == MODE_FULL)
        progress("writing the %.0f MB data file", mb(opt->size));
    fill_data_file(o->seed, opt->size);
    printf("data file: %s, %.1f MB = %llu float32 values k/8 (seed %lu), exact sum %.3f\n",
           data.path, mb(opt->size), (unsigned long long)(opt->size / sizeof(float)), o->seed,
           data.expected_sum);
    printf("  (its name was removed as soon as it was open: it lives on through the descriptor)\n");
    if (wanted(o, "methods") || wanted(o, "cold") || wanted(o, "workers"))
        report_effective_cpus(o, calibration_spins(o));

    /* the largest buffer any experiment uses, touched here so no worker's read pays its first
     * faults; workers inherit it (copy-on-write) */
    size_t largest = wanted(o, "bufsize") && opt->bufsize < (16u << 20) ? 16u << 20 : opt->bufsize;
    float *buf = malloc(largest);
    if (!buf)
        die_errno("malloc");
    memset(buf, 0, largest);
    return (struct split_job){.buf = buf, .bufsize = opt->bufsize, .inject = opt->inject,
                              .pin = o->pin};
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch05-mmap", usage, argc, argv);
    struct options opt = parse_options(&o, argc, argv);
    struct split_job base = start_run(&o, &opt);
    if (wanted(&o, "methods"))
        run_methods_table(&o, &base, false);
    if (wanted(&o, "cold"))
        run_methods_table(&o, &base, true);
    if (wanted(&o, "workers"))
        run_workers(&o, &base);
    if (wanted(&o, "bufsize"))
        run_bufsize(&o, &base);
    free(base.buf);
    remove_data_file();
    printf("\nverification: every sum exact, every worker's range checked (no gap, no overlap), "
           "data file removed.\nTSV files: %s/ch05-*.tsv\n", o.out_dir);
    return 0;
}
