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
 * Sample output line (methods):
 *   mmap-2               2     3306.3     2127.1     4221.9  MB/s         2.8       0.0
 * Verification: every method's sum equals the sum computed while writing the file, bit for
 * bit; the workers' ranges tile the file; the data file's names are gone at the end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
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
    if (t->cold) {
        double resident = evict_file();
        if (resident > t->most_resident)
            t->most_resident = resident;
    }
    long minor0, major0, minor1, major1;
    uint64_t done = data.size;
    double sum;
    count_faults(&minor0, &major0);
    uint64_t start = now_ns();
    if (m->split) {
        sum = run_split(&t->job, t->reports);
    } else {
        struct range whole = {0, data.size};
        sum = m->sum(data.fd, whole, t->job.buf, t->job.bufsize, &done);
    }
    double seconds = (double)(now_ns() - start) / 1e9;
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

static const char *variant_name(const struct method *m, int procs, char *buf, size_t len)
{
    if (m->split)
        snprintf(buf, len, "%s-%d", m->name, procs);
    else
        snprintf(buf, len, "%s", m->name);
    return buf;
}

static double mb(uint64_t bytes) { return (double)bytes / 1e6; }

/* ---------- experiments 1 and 2: methods (warm) and cold ---------- */

/* A method by name: one process (split false) or N of them. */
static int method_at(const char *name, bool split)
{
    for (int i = 0; i < METHOD_COUNT; i++)
        if (strcmp(methods[i].name, name) == 0 && methods[i].split == split)
            return i;
    die("no method %s%s", name, split ? "-N" : "");
}

/* What one table measured, by method (the index of methods[]). */
struct table {
    struct stats s[METHOD_COUNT];
    double minor_per_mb[METHOD_COUNT], major_per_mb[METHOD_COUNT];
    double most_resident;
    struct partial reports[MAX_PROCS];  /* the last split run's ranges */
};

static struct method_trial *new_trial(const struct split_job *base, int method, int procs)
{
    struct method_trial *t = calloc(1, sizeof *t);
    if (!t)
        die_errno("calloc");
    t->job = *base;
    t->job.method = &methods[method];
    t->job.procs = procs;
    return t;
}

/* Every method once, as a table row and a TSV row; cold evicts the file before every trial. */
static void measure_table(struct kit_opts *o, const struct split_job *base, bool cold, long trials,
                          struct report *r, struct table *tab)
{
    char name[32];
    for (int i = 0; i < METHOD_COUNT; i++) {
        const struct method *m = &methods[i];
        int p = m->split ? (int)o->workers : 1;
        if (cold && o->mode != MODE_QUICK)
            progress("cold: %s", variant_name(m, p, name, sizeof name));
        struct method_trial *t = new_trial(base, i, p);
        t->cold = cold;
        tab->s[i] = measure(time_method, t, trials);
        double passes_mb = mb(data.size) * (double)t->runs;
        tab->minor_per_mb[i] = (double)t->minor_faults / passes_mb;
        tab->major_per_mb[i] = (double)t->major_faults / passes_mb;
        report_add(r, variant_name(m, p, name, sizeof name), p, "MB/s", tab->s[i]);
        report_comment(r, "%.1f faults/MB, %.1f major", tab->minor_per_mb[i],
                       tab->major_per_mb[i]);
        tab->most_resident = fmax(tab->most_resident, t->most_resident);
        if (m->split)
            memcpy(tab->reports, t->reports, sizeof tab->reports);
        free(t);
    }
}

/* The ranges of the last split run, as the parent checked them, and the exact sum. */
static void print_ranges(const struct table *tab, int procs)
{
    printf("  ranges of mmap-%d (page = %zu bytes):", procs, data.page);
    for (int w = 0; w < procs && w < 8; w++)
        printf(" [%llu, %llu)", (unsigned long long)tab->reports[w].begin,
               (unsigned long long)(tab->reports[w].begin + tab->reports[w].bytes));
    printf("%s -- contiguous, page-aligned, %llu bytes each summed once\n",
           procs > 8 ? " ..." : "", (unsigned long long)data.size);
    printf("  sums: every method returned exactly %.3f, the sum known from writing the file\n",
           data.expected_sum);
}

static void conclude_methods(const struct kit_opts *o, const struct table *tab)
{
    int procs = (int)o->workers;
    double read = tab->s[method_at("read", false)].median;
    double mmap = tab->s[method_at("mmap", false)].median;
    printf("  -> one process: mmap runs at %.2fx read's speed (read copies every byte once more; "
           "mmap instead\n     takes %.1f page faults per MB), mmap-advise at %.2fx and "
           "mmap-populate at %.2fx mmap;\n     %d processes: pread-%d at %.2fx and mmap-%d at "
           "%.2fx one process's read (%.2f effective CPUs).\n",
           mmap / read, tab->minor_per_mb[method_at("mmap", false)],
           tab->s[method_at("mmap-advise", false)].median / mmap,
           tab->s[method_at("mmap-populate", false)].median / mmap, procs, procs,
           tab->s[method_at("pread", true)].median / read, procs,
           tab->s[method_at("mmap", true)].median / read, o->effective_cpus);
}

/* The warm speed of one method, measured here: the cold table's comparison needs no other
 * experiment to have run first. */
static double warm_median(const struct split_job *base, int method, int procs, long trials)
{
    struct method_trial *t = new_trial(base, method, procs);
    double median = measure(time_method, t, trials).median;
    free(t);
    return median;
}

static void conclude_cold(const struct kit_opts *o, const struct split_job *base,
                          const struct table *tab, long trials)
{
    int procs = (int)o->workers, read = method_at("read", false), mmap = method_at("mmap", false);
    int mmap_n = method_at("mmap", true);
    struct statfs fs;
    bool tmpfs = fstatfs(data.fd, &fs) == 0 && fs.f_type == 0x01021994;   /* TMPFS_MAGIC */
    if (tab->most_resident > 0.5) {
        printf("  -> eviction did NOT take effect: up to %.0f%% of the file stayed cached%s, so "
               "these\n     'cold' numbers are warm ones in disguise.\n", 100 * tab->most_resident,
               tmpfs ? " (tmpfs: the page cache is the only copy of the file)" : "");
    } else {
        printf("  -> eviction worked (at most %.1f%% of the pages stayed cached before a trial): "
               "cold read %.0f MB/s,\n     cold mmap %.0f MB/s (%.1f major faults per MB); "
               "%d processes: pread-%d at\n     %.2fx and mmap-%d at %.2fx cold read.\n",
               100 * tab->most_resident, tab->s[read].median, tab->s[mmap].median,
               tab->major_per_mb[mmap], procs, procs,
               tab->s[method_at("pread", true)].median / tab->s[read].median, procs,
               tab->s[mmap_n].median / tab->s[read].median);
    }
    printf("     warm / cold: read %.1fx, mmap %.1fx, mmap-%d %.1fx.\n",
           warm_median(base, read, 1, trials) / tab->s[read].median,
           warm_median(base, mmap, 1, trials) / tab->s[mmap].median, procs,
           warm_median(base, mmap_n, procs, trials) / tab->s[mmap_n].median);
}

/* The same table for both; cold evicts the file before every trial. */
static void run_methods_table(struct kit_opts *o, const struct split_job *base, bool cold)
{
    const char *experiment = cold ? "cold" : "methods";
    long trials = cold ? trials_for(o, 1, 3, 5) : trials_for(o, 3, 7, 15);
    struct report r;
    report_start(&r, o, experiment, "processes");
    report_note(&r, "bufsize=%zu", base->bufsize);
    struct table *tab = calloc(1, sizeof *tab);
    if (!tab)
        die_errno("calloc");

    printf("\n%s: one pass over %.1f MB, %s (%ld trials; %zu-byte read buffer; N = %ld)\n",
           experiment, mb(data.size),
           cold ? "the file evicted from the page cache before each trial"
                : "the file in the page cache", trials, base->bufsize, o->workers);
    measure_table(o, base, cold, trials, &r, tab);
    if (cold)
        report_note(&r, "most_resident_after_evict=%.4f", tab->most_resident);
    report_finish(&r);
    print_ranges(tab, (int)o->workers);
    if (cold)
        conclude_cold(o, base, tab, trials_for(o, 3, 7, 15));
    else
        conclude_methods(o, tab);
    free(tab);
}

/* ---------- experiment 3: workers ---------- */

static void run_workers(struct kit_opts *o, const struct split_job *base)
{
    long trials = trials_for(o, 2, 5, 11);
    int max_procs = (int)(2 * o->workers);
    struct report r;
    report_start(&r, o, "workers", "processes");
    const int split[2] = {method_at("mmap", true), method_at("pread", true)};
    struct stats one[2] = {{0}}, best[2] = {{0}};
    int best_procs[2] = {1, 1};

    printf("\nworkers: the file (%.1f MB, cached) split across N = 1..%d processes (%ld trials)\n",
           mb(data.size), max_procs, trials);
    for (int procs = 1; procs <= max_procs; procs++) {
        if (o->mode != MODE_QUICK && procs > 1)
            progress("workers: %d of %d process counts", procs, max_procs);
        for (int k = 0; k < 2; k++) {
            char name[16];
            struct method_trial *t = new_trial(base, split[k], procs);
            struct stats s = measure(time_method, t, trials);
            free(t);
            if (procs == 1)
                one[k] = best[k] = s;
            if (s.median > best[k].median) {
                best[k] = s;
                best_procs[k] = procs;
            }
            snprintf(name, sizeof name, "%s-N", methods[split[k]].name);
            report_add(&r, name, procs, "MB/s", s);
            report_comment(&r, "%.2fx N=1", s.median / one[k].median);
        }
    }
    report_finish(&r);
    printf("  -> best mmap-N %.0f MB/s with N=%d (%.2fx N=1), best pread-N %.0f MB/s with N=%d "
           "(%.2fx N=1),\n     against %.2f effective CPUs of %d: past the CPUs (or the memory "
           "bandwidth) more processes only share them.\n",
           best[0].median, best_procs[0], best[0].median / one[0].median, best[1].median,
           best_procs[1], best[1].median / one[1].median, o->effective_cpus, online_cpus());
}

/* ---------- experiment 4: bufsize ---------- */

static void conclude_bufsize(const struct split_job *base, struct stats first, struct stats best,
                             size_t best_size, struct stats last, long trials)
{
    char b[16];
    printf("  -> 4K buffers: %.0f MB/s (a system call per 4 KiB); best %.0f MB/s at %s (%.2fx 4K); "
           "16M: %.2fx the best%s\n", first.median, best.median,
           format_size(best_size, b, sizeof b), best.median / first.median,
           last.median / best.median, last.median < 0.9 * best.median
               ? " (a buffer larger than the cache: every byte crosses memory twice)." : ".");
    double mmap = warm_median(base, method_at("mmap", false), 1, trials);
    printf("     mmap in this run: %.0f MB/s, %.2fx the best read().\n", mmap, mmap / best.median);
}

static void run_bufsize(struct kit_opts *o, const struct split_job *base)
{
    long trials = trials_for(o, 2, 5, 11);
    int step = o->mode == MODE_QUICK ? 4 : 2;       /* powers of 4, or of 2 */
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    struct report r;
    report_start(&r, o, "bufsize", "buffer_kib");
    report_note(&r, "l2_cache_kib=%ld", l2 > 0 ? l2 / 1024 : 0);
    struct stats first = {0}, best = {0}, last = {0};
    size_t best_size = 0;
    struct method_trial *t = new_trial(base, method_at("read", false), 1);

    printf("\nbufsize: one process read()s the cached file (%.1f MB) with buffers of 4K..16M "
           "(%ld trials)%s\n", mb(data.size), trials, l2 > 0 ? "" : "; L2 cache size unknown");
    if (l2 > 0)
        printf("  (this CPU's L2 cache: %ld KiB)\n", l2 / 1024);
    for (size_t size = 4096; size <= (16u << 20); size *= (size_t)step) {
        t->job.bufsize = size;
        struct stats s = measure(time_method, t, trials);
        report_add(&r, "read", (double)size / 1024, "MB/s", s);   /* KiB: exact in %g */
        if (size == 4096)
            first = s;
        if (s.median > best.median) {
            best = s;
            best_size = size;
        }
        last = s;
    }
    report_finish(&r);
    free(t);
    conclude_bufsize(base, first, best, best_size, last, trials);
}

/* ---------- plumbing: the data file's life ---------- */

/* At exit, on SIGINT/SIGTERM and after a worker died: kill and reap the workers we
 * started. The file and its directory left the filesystem as soon as the file was open
 * (see create_data_file); closing the descriptor frees its blocks. Workers never run this. */
static void clean_up(void)
{
    if (getpid() != data.owner)
        return;
    kill_children();
    if (data.fd != -1)
        close(data.fd);
    data.fd = -1;
}

/* Checks --dir before anything is made: exists, a directory. */
static void check_dir_option(const char *dir_opt)
{
    struct stat st;
    if (stat(dir_opt, &st) == -1)
        die_usage("--dir: '%s' %s", dir_opt, errno == ENOENT ? "does not exist" : strerror(errno));
    if (!S_ISDIR(st.st_mode))
        die_usage("--dir: '%s' is not a directory", dir_opt);
    if (snprintf(data.path, sizeof data.path, "%s/ch05-mmap-%d.f32", dir_opt, (int)getpid()) >=
        (int)sizeof data.path)
        die_usage("--dir: path too long");
}

/* Makes the file (in a fresh private directory unless --dir), then removes its name and
 * the directory at once: the open descriptor keeps the file alive, workers reopen it
 * through /proc/self/fd, and even a SIGKILLed parent leaves nothing behind. SIGINT and
 * SIGTERM wait (blocked) until the names are gone, so a stop cannot land in between. */
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
    if (data.fd == -1 && dir_opt)
        die_usage("--dir: cannot create a file in '%s': %s", dir_opt, strerror(open_errno));
    if (data.fd == -1) {
        errno = open_errno;
        die_errno("open (data file)");
    }
}

/* Creates the data file -- proof that the directory takes files -- and checks that SIZE
 * fits on its filesystem and in memory. Bad input exits 2, leaving nothing. */
static void create_data_file(const char *dir_opt, uint64_t size)
{
    char buf[32], free_buf[32];
    data.owner = getpid();
    if (dir_opt)
        check_dir_option(dir_opt);
    create_unlinked_file(dir_opt);

    struct statvfs fs;
    if (fstatvfs(data.fd, &fs) == -1)
        die_errno("fstatvfs");
    unsigned long long free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize;
    unsigned long long memory = available_memory();
    const char *where = dir_opt ? dir_opt : data.dir;
    if (size > free_bytes)
        die_usage("--size: %s is larger than the free space in '%s' (%s)",
                  format_size(size, buf, sizeof buf), where,
                  format_size(free_bytes, free_buf, sizeof free_buf));
    if (size > memory)
        die_usage("--size: %s is larger than the available memory (%s): the warm-cache experiments "
                  "need the whole file cached", format_size(size, buf, sizeof buf),
                  format_size(memory, free_buf, sizeof free_buf));
}

/* k/8 with k in -128..127: exact in a float, and a sum of fewer than 2^46 of them
 * is exact in a double in any order -- so a split sum equals the sequential one. */
static float value_from(uint64_t random)
{
    return (float)((int)(random >> 56) - 128) / 8.0f;
}

/* splitmix64: the state steps by the golden ratio, each value is the mixed state. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = mix64(*state);
    *state += 0x9e3779b97f4a7c15u;
    return x;
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
    uint64_t state = seed, written = 0;
    int64_t eighths = 0;
    size_t per_page = data.page / sizeof(float);
    while (written < size) {
        exit_if_stopped();
        size_t bytes = size - written < CHUNK ? (size_t)(size - written) : CHUNK;
        size_t n = bytes / sizeof(float);
        for (size_t i = 0; i < n; i++) {
            uint64_t value_index = written / sizeof(float) + i;
            chunk[i] = value_from(next_random(&state));
            eighths += (int64_t)(chunk[i] * 8);
            if ((value_index + 1) % per_page == 0 || value_index + 1 == size / sizeof(float))
                data.eighths_before[value_index / per_page + 1] = eighths;
        }
        for (size_t off = 0; off < bytes;) {
            ssize_t w = write(data.fd, (char *)chunk + off, bytes - off);
            if (w == -1 && errno == EINTR)
                continue;
            if (w == -1)
                die_errno("write (data file)");
            off += (size_t)w;
        }
        written += bytes;
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
    const char *size_text = NULL, *bufsize = NULL, *inject = NULL;
    const struct kit_option own[] = {{"--size", &size_text, NULL}, {"--dir", &opt.dir, NULL},
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
    /* the free space and memory are checked once the file's directory is known */
    opt.size = (uint64_t)by_mode(o, 4000000, 40000000, 400000000);
    if (size_text)      /* at most 2^46 values: the sums stay exact */
        opt.size = parse_size("--size", size_text, 4 << 10, 1ull << 48);
    if (opt.size % sizeof(float))
        die_usage("--size: %llu is not a multiple of 4 bytes (one float32)",
                  (unsigned long long)opt.size);
    long sweep = 2 * o->workers;
    refuse_long_sweep(o, "workers", sweep * (sweep + 1), "N = 1..2W, mmap and pread");
    return opt;
}

/* The data file made (bad --dir or --size: exit 2 before --out is made), filled, announced. */
static void start_run(struct kit_opts *o, const struct options *opt)
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
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch05-mmap", usage, argc, argv);
    struct options opt = parse_options(&o, argc, argv);
    start_run(&o, &opt);

    /* the largest buffer any experiment uses; workers inherit it (copy-on-write) */
    size_t largest = wanted(&o, "bufsize") && opt.bufsize < (16u << 20) ? 16u << 20 : opt.bufsize;
    float *buf = malloc(largest);
    if (!buf)
        die_errno("malloc");
    memset(buf, 0, largest);        /* touched here, so no worker's read pays its first faults */
    struct split_job base = {.buf = buf, .bufsize = opt.bufsize, .inject = opt.inject,
                             .pin = o.pin};
    if (wanted(&o, "methods"))
        run_methods_table(&o, &base, false);
    if (wanted(&o, "cold"))
        run_methods_table(&o, &base, true);
    if (wanted(&o, "workers"))
        run_workers(&o, &base);
    if (wanted(&o, "bufsize"))
        run_bufsize(&o, &base);
    free(buf);
    remove_data_file();
    printf("\nverification: every sum exact, every worker's range checked (no gap, no overlap), "
           "data file removed.\nTSV files: %s/ch05-*.tsv\n", o.out_dir);
    return 0;
}
