/* ch05-mmap - memory-mapped files vs read(), split across processes.
 *
 * One data file of float32 values (default 10 M values = 40 MB), summed in several
 * ways. Four experiments, each its own TSV file and --only name:
 *   methods  MB/s of each method, the file already in the page cache:
 *              read           one process, read() into a buffer (--bufsize)
 *              mmap           one process maps the whole file and walks it
 *              mmap-advise    the same after madvise(MADV_SEQUENTIAL) and madvise(MADV_WILLNEED)
 *              mmap-populate  the same with MAP_POPULATE: the page tables filled inside mmap()
 *              pread-N        N processes (--workers), each pread()s its byte range
 *              mmap-N         N processes, each maps its page-aligned range (the tutorial's worker)
 *   cold     the same methods, the file evicted from the page cache before every trial
 *            (fdatasync + posix_fadvise(POSIX_FADV_DONTNEED)); mincore() tells whether it worked
 *   workers  mmap-N and pread-N for N = 1 .. 2 x --workers
 *   bufsize  read() with buffers of 4 KiB .. 16 MiB
 *
 * Usage: ch05-mmap [--quick | --full] [--only EXPERIMENT] [--size SIZE] [--dir DIR]
 *                  [--bufsize SIZE] [--trials N] [--workers N] [--seed S]
 *                  [--pin none|same|spread] [--out DIR] [--inject overlap|gap|sum|stall]
 * Linux only (mincore, posix_fadvise, MAP_POPULATE, PR_SET_PDEATHSIG, /proc/meminfo).
 * Exit: 0 ok, 1 runtime or verification failure, 2 usage error.
 *
 * Sample output line (methods):
 *   mmap-2               2     3306.3     2127.1     4221.9  MB/s         2.8       0.0
 * What to look for: with the file cached, read() with a buffer that fits in the CPU
 * cache is about as fast as mmap: mmap saves a copy but pays page faults (counted in
 * the table) and builds a fresh page table on every pass; splitting across processes
 * helps only up to the CPUs and the memory bandwidth; a cold file runs at the speed
 * of the device instead.
 *
 * Verification: the values are k/8 with k in -128..127, so every partial and total
 * sum is exact in a double whatever the order of additions; every method's sum must
 * equal the sum computed while writing the file, bit for bit, and each worker's
 * partial sum must equal its range's. The parent checks that the ranges the workers
 * report cover the file exactly once (no gap, no overlap, page-aligned starts), and
 * that the data file is gone at the end. A worker that dies is reported (which worker,
 * which signal, which byte range) and the program exits 1, removing the data file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "cli.h"
#include "bench.h"

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

enum { MAX_PROCS = 2048 };
enum inject { INJECT_NONE, INJECT_OVERLAP, INJECT_GAP, INJECT_SUM, INJECT_STALL };

/* ---------- the data file: values whose exact sum is known ---------- */

static struct data_file {
    char dir[PATH_MAX];         /* our private directory, when we made one (removed at once) */
    char path[PATH_MAX];        /* the file's name while it had one */
    pid_t owner;                /* only this process removes it, never a worker */
    int fd;
    uint64_t size;              /* bytes, a multiple of 4 */
    size_t page;
    uint64_t pages;             /* ceil(size / page): the last page may be partial */
    int64_t *eighths_before;    /* [p] = 8 x the sum of the values in pages 0..p-1 */
    double expected_sum;
    unsigned char *residency;   /* mincore() vector, one byte per page */
} data = {.fd = -1};

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

/* The exact sum of the values in bytes [begin, end): begin on a page boundary,
 * end on one or at the end of the file. */
static double expected_range_sum(uint64_t begin, uint64_t end)
{
    if (begin >= end)
        return 0;
    uint64_t first = begin / data.page, last = (end + data.page - 1) / data.page;
    return (double)(data.eighths_before[last] - data.eighths_before[first]) / 8.0;
}

/* ---------- the work every method does: add up float32 values ---------- */

/* Eight running sums keep eight additions in flight (one sum would wait ~4 cycles per
 * addition); exact values make the order irrelevant to the result. */
static double sum_values(const float *v, size_t n)
{
    double acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += v[i + k];
    for (; i < n; i++)
        acc[0] += v[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* ---------- the methods: sum the values in one byte range ----------
 * Every method has the same signature, so one process or N of them run the same code.
 * `done` receives the bytes actually summed, which the parent checks. */

struct range {
    uint64_t begin, end;
};

typedef double (*range_sum_fn)(int fd, struct range r, float *buf, size_t bufsize, uint64_t *done);

/* Reads exactly `want` bytes unless the file ends first. */
static size_t read_until_full(int fd, void *buf, size_t want, off_t *offset)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = offset ? pread(fd, (char *)buf + got, want - got, *offset + (off_t)got)
                           : read(fd, (char *)buf + got, want - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die_errno(offset ? "pread" : "read");
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* book:read */
/* The kernel copies each buffer-full from the page cache into our buffer; we sum the copy. */
static double sum_by_read(int fd, struct range r, float *buf, size_t bufsize, uint64_t *done)
{
    double sum = 0;
    if (lseek(fd, (off_t)r.begin, SEEK_SET) == -1)
        die_errno("lseek");
    for (*done = 0; *done < r.end - r.begin;) {
        size_t want = r.end - r.begin - *done < bufsize ? r.end - r.begin - *done : bufsize;
        size_t got = read_until_full(fd, buf, want, NULL);
        sum += sum_values(buf, got / sizeof(float));
        *done += got;
        if (got < want)
            break;              /* the file ended early: the byte count shows it */
    }
    return sum;
}
/* end:read */

/* The same copy, but the offset travels with the call: processes that share one open
 * file description cannot move each other's position. */
static double sum_by_pread(int fd, struct range r, float *buf, size_t bufsize, uint64_t *done)
{
    double sum = 0;
    for (*done = 0; *done < r.end - r.begin;) {
        size_t want = r.end - r.begin - *done < bufsize ? r.end - r.begin - *done : bufsize;
        off_t offset = (off_t)(r.begin + *done);
        size_t got = read_until_full(fd, buf, want, &offset);
        sum += sum_values(buf, got / sizeof(float));
        *done += got;
        if (got < want)
            break;
    }
    return sum;
}

enum map_how { MAP_PLAIN, MAP_ADVISED, MAP_PREFAULTED };

/* book:map-and-sum */
/* No copy: the range's page-cache pages become part of our address space. The first
 * touch of a page with no page-table entry yet is a page fault (the kernel then maps a
 * batch of neighbouring cached pages, "fault-around"); MAP_POPULATE takes those faults
 * inside mmap() itself, before the first value is read. */
static double map_and_sum(int fd, struct range r, enum map_how how, uint64_t *done)
{
    size_t length = r.end - r.begin;    /* r.begin is page-aligned: mmap requires it */
    *done = 0;
    if (length == 0)
        return 0;                       /* mmap rejects an empty mapping */
    int flags = MAP_SHARED | (how == MAP_PREFAULTED ? MAP_POPULATE : 0);
    const float *values = mmap(NULL, length, PROT_READ, flags, fd, (off_t)r.begin);
    if (values == MAP_FAILED)
        die_errno("mmap");
    if (how == MAP_ADVISED) {
        /* two hints, not flags to OR: read ahead aggressively, and start reading now */
        if (madvise((void *)values, length, MADV_SEQUENTIAL) == -1)
            die_errno("madvise MADV_SEQUENTIAL");
        if (madvise((void *)values, length, MADV_WILLNEED) == -1)
            die_errno("madvise MADV_WILLNEED");
    }
    double sum = sum_values(values, length / sizeof(float));
    if (munmap((void *)values, length) == -1)
        die_errno("munmap");
    *done = length;
    return sum;
}
/* end:map-and-sum */

static double sum_by_mmap(int fd, struct range r, float *buf, size_t bufsize, uint64_t *done)
{
    (void)buf, (void)bufsize;
    return map_and_sum(fd, r, MAP_PLAIN, done);
}

static double sum_by_mmap_advised(int fd, struct range r, float *buf, size_t bufsize, uint64_t *done)
{
    (void)buf, (void)bufsize;
    return map_and_sum(fd, r, MAP_ADVISED, done);
}

static double sum_by_mmap_populated(int fd, struct range r, float *buf, size_t bufsize, uint64_t *done)
{
    (void)buf, (void)bufsize;
    return map_and_sum(fd, r, MAP_PREFAULTED, done);
}

static const struct method {
    const char *name;       /* a split method is named NAME-N in the output */
    range_sum_fn sum;
    bool split;             /* N worker processes, one range each */
    const char *what;
} methods[] = {
    {"read", sum_by_read, false, "one process, read() into a buffer"},
    {"mmap", sum_by_mmap, false, "one process, mmap the file, walk it"},
    {"mmap-advise", sum_by_mmap_advised, false, "mmap + MADV_SEQUENTIAL + MADV_WILLNEED"},
    {"mmap-populate", sum_by_mmap_populated, false, "mmap with MAP_POPULATE (faults taken in mmap)"},
    {"pread", sum_by_pread, true, "N processes, each pread()s its range"},
    {"mmap", sum_by_mmap, true, "N processes, each maps its range"},
};
enum { METHOD_COUNT = sizeof methods / sizeof methods[0], PREAD_N = 4, MMAP_N = 5 };

/* ---------- splitting the file across processes ---------- */

struct report {             /* one pipe message per worker: 32 bytes, written atomically */
    int32_t worker;
    uint64_t begin, bytes;  /* what the worker actually summed */
    double sum;
};

static struct split_config {
    enum inject inject;
    enum kit_pin pin;
} split_config;

/* book:split-range */
/* Worker w of n gets whole pages [P*w/n, P*(w+1)/n) of the file's P pages, so every
 * range starts on a page boundary (mmap's offset must); the last page may be partial,
 * so no range reaches past the end of the file. */
static struct range split_range(int w, int n)
{
    uint64_t first = data.pages * (uint64_t)w / (uint64_t)n;
    uint64_t last = data.pages * (uint64_t)(w + 1) / (uint64_t)n;
    struct range r = {first * data.page, last * data.page};
    if (r.end > data.size)
        r.end = data.size;
    if (r.begin > r.end)
        r.begin = r.end;
    return r;
}
/* end:split-range */

/* --inject: a worker with an off-by-one bug, for the tests of the parent's checks.
 * Without --inject both functions return what they are given. */
static struct range injected(struct range r, int w)
{
    if (w != 1 || split_config.inject == INJECT_NONE)
        return r;
    if (split_config.inject == INJECT_OVERLAP && r.begin >= data.page)
        r.begin -= data.page;
    else if (split_config.inject == INJECT_GAP && r.end - r.begin >= data.page)
        r.begin += data.page;
    return r;
}

static double injected_sum(double sum, int w)
{
    return w == 1 && split_config.inject == INJECT_SUM ? sum + 0.125 : sum;   /* a value counted twice */
}

/* book:worker */
/* A worker opens the file by name, as a spawned Python worker must, sums its range
 * and sends its partial sum to the parent over the pipe. The file's only name is
 * /proc/self/fd/N (its directory entry is gone): opening it makes a new open file
 * description, with a file offset of its own. */
__attribute__((noreturn))
static void worker(const struct method *m, int w, int procs, float *buf, size_t bufsize, int report_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);       /* never outlive a killed parent */
    default_stop_signals();
    if (split_config.pin == PIN_SPREAD)
        pin_to_cpu(w);
    struct range r = injected(split_range(w, procs), w);
    char name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", data.fd);
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        die_errno("worker: open");
    if (w == 0 && split_config.inject == INJECT_STALL)
        pause();                            /* until a signal ends it: the tests kill it */
    struct report rep = {.worker = w, .begin = r.begin};
    rep.sum = injected_sum(m->sum(fd, r, buf, bufsize, &rep.bytes), w);
    _exit(write(report_fd, &rep, sizeof rep) == sizeof rep ? 0 : 1);   /* < PIPE_BUF: atomic */
}
/* end:worker */

/* Each worker's status: one that was killed or failed is reported with its range, exit 1. */
static void reap_workers(const char *variant, const pid_t *pids, int procs)
{
    for (int w = 0; w < procs; w++) {
        int status = reap_child(pids[w]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        exit_if_stopped();      /* a Ctrl-C that reached the workers too is a stop, not a crash */
        struct range r = split_range(w, procs);
        if (WIFSIGNALED(status))
            die("%s: worker %d of %d (bytes %llu..%llu) was killed by signal %d (%s)", variant, w, procs,
                (unsigned long long)r.begin, (unsigned long long)r.end, WTERMSIG(status),
                strsignal(WTERMSIG(status)));
        die("%s: worker %d of %d (bytes %llu..%llu) failed with exit status %d", variant, w, procs,
            (unsigned long long)r.begin, (unsigned long long)r.end, WEXITSTATUS(status));
    }
}

/* Reads one report per worker until all are in or every worker has closed the pipe. */
static int collect_reports(int fd, struct report *reports, int procs, const char *variant)
{
    int got = 0;
    bool seen[MAX_PROCS] = {false};
    while (got < procs) {
        struct report rep;
        ssize_t n = read(fd, &rep, sizeof rep);
        if (n == -1 && errno == EINTR) {
            exit_if_stopped();
            continue;
        }
        if (n == -1)
            die_errno("read (worker reports)");
        if (n == 0)
            break;                          /* every worker is gone: the reaping says why */
        if (n != sizeof rep || rep.worker < 0 || rep.worker >= procs || seen[rep.worker])
            die("%s: a malformed report on the pipe (%zd bytes, worker %d)", variant, n, (int)rep.worker);
        seen[rep.worker] = true;
        reports[rep.worker] = rep;
        got++;
    }
    return got;
}

/* book:coverage */
/* The ranges the workers say they summed must tile [0, size): each starts on a page
 * boundary exactly where the previous one ended, and the last ends at the file's end. */
static void check_coverage(const char *variant, const struct report *reports, int procs)
{
    uint64_t next = 0;
    for (int w = 0; w < procs; w++) {
        uint64_t begin = reports[w].begin;
        if (begin % data.page != 0)
            verification_failed("%s: worker %d starts at byte %llu, not on a page boundary", variant, w,
                                (unsigned long long)begin);
        if (begin < next)
            verification_failed("%s: ranges overlap: bytes %llu..%llu summed by worker %d and again by worker %d",
                                variant, (unsigned long long)begin, (unsigned long long)next, w - 1, w);
        if (begin > next)
            verification_failed("%s: a gap between ranges: bytes %llu..%llu summed by no worker (%d and %d)",
                                variant, (unsigned long long)next, (unsigned long long)begin, w - 1, w);
        next = begin + reports[w].bytes;
    }
    if (next != data.size)
        verification_failed("%s: the ranges end at byte %llu, the file at %llu", variant,
                            (unsigned long long)next, (unsigned long long)data.size);
}
/* end:coverage */

static double run_split(const struct method *m, int procs, float *buf, size_t bufsize,
                        struct report *reports)
{
    char variant[32];
    pid_t pids[MAX_PROCS];
    int fds[2];
    snprintf(variant, sizeof variant, "%s-%d", m->name, procs);
    if (pipe(fds) == -1)
        die_errno("pipe");
    fflush(stdout);                         /* a child must not inherit unwritten output */
    for (int w = 0; w < procs; w++) {
        pids[w] = fork();
        if (pids[w] == -1)
            die_errno("fork");
        if (pids[w] == 0) {
            close(fds[0]);
            worker(m, w, procs, buf, bufsize, fds[1]);
        }
        track_child(pids[w]);
    }
    close(fds[1]);          /* only the workers hold the write end: EOF once all are gone */
    int got = collect_reports(fds[0], reports, procs, variant);
    close(fds[0]);
    reap_workers(variant, pids, procs);
    if (got != procs)
        die("%s: %d of %d workers sent no result", variant, procs - got, procs);
    check_coverage(variant, reports, procs);
    double total = 0;
    for (int w = 0; w < procs; w++) {
        double expected = expected_range_sum(reports[w].begin, reports[w].begin + reports[w].bytes);
        if (reports[w].sum != expected)
            verification_failed("%s: worker %d summed %.3f over bytes %llu..%llu, expected %.3f", variant, w,
                                reports[w].sum, (unsigned long long)reports[w].begin,
                                (unsigned long long)(reports[w].begin + reports[w].bytes), expected);
        total += reports[w].sum;
    }
    return total;
}

/* ---------- the cold page cache ---------- */

/* What fraction of the file's pages the page cache holds now: mincore() on a mapping
 * that was never touched reports the cache, not our own page tables. */
static double resident_fraction(void)
{
    if (data.size == 0)
        return 0;
    void *map = mmap(NULL, data.size, PROT_READ, MAP_SHARED, data.fd, 0);
    if (map == MAP_FAILED)
        die_errno("mmap (mincore)");
    if (mincore(map, data.size, data.residency) == -1)
        die_errno("mincore");
    uint64_t resident = 0;
    for (uint64_t p = 0; p < data.pages; p++)
        resident += data.residency[p] & 1;
    if (munmap(map, data.size) == -1)
        die_errno("munmap");
    return (double)resident / (double)data.pages;
}

/* book:evict */
/* Dirty pages cannot be dropped, so write them back first; then ask the kernel to drop
 * the clean ones. It is advice: report what is still cached afterwards. */
static double evict_file(void)
{
    if (fdatasync(data.fd) == -1)
        die_errno("fdatasync");
    int err = posix_fadvise(data.fd, 0, 0, POSIX_FADV_DONTNEED);
    if (err) {
        errno = err;
        die_errno("posix_fadvise DONTNEED");
    }
    return resident_fraction();
}
/* end:evict */

/* ---------- measuring ---------- */

struct method_trial {
    const struct method *method;
    int procs;
    float *buf;
    size_t bufsize;
    bool cold;
    /* out, over every trial including the warm-up */
    double most_resident;       /* cold: largest fraction still cached after eviction */
    long minor_faults, major_faults, runs;
    struct report reports[MAX_PROCS];
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
    const struct method *m = t->method;
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
        sum = run_split(m, t->procs, t->buf, t->bufsize, t->reports);
    } else {
        struct range whole = {0, data.size};
        sum = m->sum(data.fd, whole, t->buf, t->bufsize, &done);
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

static void print_heading(const char *x_name, const char *extra)
{
    printf("  %-16s %5s %10s %10s %10s  %-5s%s\n", "variant", x_name, "median", "min", "max", "unit", extra);
}

static void print_row(const char *name, const char *x, struct stats s)
{
    printf("  %-16s %5s %10.1f %10.1f %10.1f  MB/s", name, x, s.median, s.min, s.max);
}

static double mb(uint64_t bytes) { return (double)bytes / 1e6; }

/* ---------- experiments 1 and 2: methods (warm) and cold ---------- */

static struct stats warm[METHOD_COUNT];
static bool have_warm;
static double minor_per_mb[METHOD_COUNT];

/* The same table for both; cold evicts the file before every trial. */
static void run_methods_table(struct kit_opts *o, bool cold, float *buf, size_t bufsize)
{
    const char *experiment = cold ? "cold" : "methods";
    long trials = o->trials ? o->trials : cold ? by_mode(o, 1, 3, 5) : by_mode(o, 3, 7, 15);
    int procs = (int)o->workers;
    char x[16], name[32];
    FILE *tsv = tsv_open_noted(o, experiment, "processes", "bufsize=%zu", bufsize);
    struct stats s[METHOD_COUNT];
    double most_resident = 0, major_per_mb = 0;
    struct method_trial *t = calloc(1, sizeof *t);
    if (!t)
        die_errno("calloc");

    printf("\n%s: one pass over %.1f MB, %s (%ld trials; %zu-byte read buffer; N = %d)\n", experiment,
           mb(data.size), cold ? "the file evicted from the page cache before each trial"
                               : "the file in the page cache", trials, bufsize, procs);
    print_heading("procs", "   faults/MB  major/MB");
    for (int i = 0; i < METHOD_COUNT; i++) {
        const struct method *m = &methods[i];
        int p = m->split ? procs : 1;
        if (cold && o->mode != MODE_QUICK)
            progress("cold: %s", variant_name(m, p, name, sizeof name));
        memset(t, 0, sizeof *t);
        *t = (struct method_trial){.method = m, .procs = p, .buf = buf, .bufsize = bufsize, .cold = cold};
        s[i] = measure(time_method, t, trials);
        double passes_mb = mb(data.size) * (double)t->runs;
        snprintf(x, sizeof x, "%d", p);
        print_row(variant_name(m, p, name, sizeof name), x, s[i]);
        printf(" %11.1f %9.1f%s\n", (double)t->minor_faults / passes_mb, (double)t->major_faults / passes_mb,
               is_noisy(s[i]) ? "  noisy" : "");
        tsv_row(tsv, name, p, "MB/s", s[i]);
        if (!cold)
            minor_per_mb[i] = (double)t->minor_faults / passes_mb;
        if (i == 1)
            major_per_mb = (double)t->major_faults / passes_mb;
        if (t->most_resident > most_resident)
            most_resident = t->most_resident;
    }
    if (cold)
        fprintf(tsv, "# most_resident_after_evict=%.4f\n", most_resident);
    tsv_close(tsv);

    /* the ranges of the last split run, as the parent checked them */
    printf("  ranges of mmap-%d (page = %zu bytes):", procs, data.page);
    for (int w = 0; w < procs && w < 8; w++)
        printf(" [%llu, %llu)", (unsigned long long)t->reports[w].begin,
               (unsigned long long)(t->reports[w].begin + t->reports[w].bytes));
    printf("%s -- contiguous, page-aligned, %llu bytes each summed once\n", procs > 8 ? " ..." : "",
           (unsigned long long)data.size);
    printf("  sums: every method returned exactly %.3f, the sum known from writing the file\n",
           data.expected_sum);
    free(t);

    if (!cold) {
        memcpy(warm, s, sizeof warm);
        have_warm = true;
        printf("  -> one process: mmap runs at %.2fx read's speed (read copies every byte once more; mmap instead\n"
               "     takes %.1f page faults per MB), mmap-advise at %.2fx and mmap-populate at %.2fx mmap;\n"
               "     %d processes: pread-%d at %.2fx and mmap-%d at %.2fx one process's read "
               "(%.2f effective CPUs).\n",
               s[1].median / s[0].median, minor_per_mb[1], s[2].median / s[1].median, s[3].median / s[1].median,
               procs, procs, s[PREAD_N].median / s[0].median, procs, s[MMAP_N].median / s[0].median,
               o->effective_cpus);
        return;
    }
    struct statfs fs;
    bool tmpfs = fstatfs(data.fd, &fs) == 0 && fs.f_type == 0x01021994;   /* TMPFS_MAGIC */
    if (most_resident > 0.5)
        printf("  -> eviction did NOT take effect: up to %.0f%% of the file stayed cached%s, so these\n"
               "     'cold' numbers are warm ones in disguise.\n", 100 * most_resident,
               tmpfs ? " (tmpfs: the page cache is the only copy of the file)" : "");
    else
        printf("  -> eviction worked (at most %.1f%% of the pages stayed cached before a trial): cold read %.0f MB/s,\n"
               "     cold mmap %.0f MB/s (%.1f major faults per MB); %d processes: pread-%d at\n"
               "     %.2fx and mmap-%d at %.2fx cold read.\n",
               100 * most_resident, s[0].median, s[1].median, major_per_mb, procs, procs,
               s[PREAD_N].median / s[0].median, procs, s[MMAP_N].median / s[0].median);
    if (have_warm)
        printf("     warm / cold: read %.1fx, mmap %.1fx, mmap-%d %.1fx.\n", warm[0].median / s[0].median,
               warm[1].median / s[1].median, procs, warm[MMAP_N].median / s[MMAP_N].median);
}

/* ---------- experiment 3: workers ---------- */

static void run_workers(struct kit_opts *o, float *buf, size_t bufsize)
{
    long trials = o->trials ? o->trials : by_mode(o, 2, 5, 11);
    int max_procs = (int)(2 * o->workers);
    FILE *tsv = tsv_open(o, "workers", "processes");
    const int split[2] = {MMAP_N, PREAD_N};
    struct stats one[2] = {{0}}, best[2] = {{0}};
    int best_procs[2] = {1, 1};
    struct method_trial *t = calloc(1, sizeof *t);
    if (!t)
        die_errno("calloc");

    printf("\nworkers: the file (%.1f MB, cached) split across N = 1..%d processes (%ld trials)\n",
           mb(data.size), max_procs, trials);
    print_heading("N", "   vs N=1");
    for (int procs = 1; procs <= max_procs; procs++) {
        if (o->mode != MODE_QUICK && procs > 1)
            progress("workers: %d of %d process counts", procs, max_procs);
        for (int k = 0; k < 2; k++) {
            const struct method *m = &methods[split[k]];
            char name[16], x[16];
            *t = (struct method_trial){.method = m, .procs = procs, .buf = buf, .bufsize = bufsize};
            struct stats s = measure(time_method, t, trials);
            if (procs == 1)
                one[k] = best[k] = s;
            if (s.median > best[k].median) {
                best[k] = s;
                best_procs[k] = procs;
            }
            snprintf(name, sizeof name, "%s-N", m->name);
            snprintf(x, sizeof x, "%d", procs);
            print_row(name, x, s);
            printf(" %9.2fx%s\n", s.median / one[k].median, is_noisy(s) ? "  noisy" : "");
            tsv_row(tsv, name, procs, "MB/s", s);
        }
    }
    tsv_close(tsv);
    free(t);
    printf("  -> best mmap-N %.0f MB/s with N=%d (%.2fx N=1), best pread-N %.0f MB/s with N=%d (%.2fx N=1),\n"
           "     against %.2f effective CPUs of %d: past the CPUs (or the memory bandwidth) more processes only "
           "share them.\n",
           best[0].median, best_procs[0], best[0].median / one[0].median, best[1].median, best_procs[1],
           best[1].median / one[1].median, o->effective_cpus, online_cpus());
}

/* ---------- experiment 4: bufsize ---------- */

static void run_bufsize(struct kit_opts *o, float *buf)
{
    long trials = o->trials ? o->trials : by_mode(o, 2, 5, 11);
    int step = o->mode == MODE_QUICK ? 4 : 2;       /* powers of 4, or of 2 */
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    FILE *tsv = tsv_open_noted(o, "bufsize", "buffer_kib", "l2_cache_kib=%ld", l2 > 0 ? l2 / 1024 : 0);
    struct stats first = {0}, best = {0}, last = {0};
    size_t best_size = 0;
    struct method_trial t = {.method = &methods[0], .procs = 1, .buf = buf};

    printf("\nbufsize: one process read()s the cached file (%.1f MB) with buffers of 4K..16M (%ld trials)%s\n",
           mb(data.size), trials, l2 > 0 ? "" : "; L2 cache size unknown");
    if (l2 > 0)
        printf("  (this CPU's L2 cache: %ld KiB)\n", l2 / 1024);
    print_heading("size", "");
    for (size_t size = 4096; size <= (16u << 20); size *= (size_t)step) {
        char x[16];
        t.bufsize = size;
        struct stats s = measure(time_method, &t, trials);
        print_row("read", format_size(size, x, sizeof x), s);
        printf("%s\n", is_noisy(s) ? "  noisy" : "");
        tsv_row(tsv, "read", (double)size / 1024, "MB/s", s);   /* KiB: exact in %g */
        if (size == 4096)
            first = s;
        if (s.median > best.median) {
            best = s;
            best_size = size;
        }
        last = s;
    }
    tsv_close(tsv);
    char b[16];
    printf("  -> 4K buffers: %.0f MB/s (a system call per 4 KiB); best %.0f MB/s at %s (%.2fx 4K); 16M: %.2fx "
           "the best%s\n", first.median, best.median, format_size(best_size, b, sizeof b),
           best.median / first.median, last.median / best.median,
           last.median < 0.9 * best.median ? " (a buffer larger than the cache: every byte crosses memory twice)."
                                            : ".");
    if (have_warm)
        printf("     mmap in this run: %.0f MB/s, %.2fx the best read().\n", warm[1].median,
               warm[1].median / best.median);
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

static enum inject parse_inject(const char *text)
{
    if (strcmp(text, "overlap") == 0)
        return INJECT_OVERLAP;
    if (strcmp(text, "gap") == 0)
        return INJECT_GAP;
    if (strcmp(text, "sum") == 0)
        return INJECT_SUM;
    if (strcmp(text, "stall") == 0)
        return INJECT_STALL;
    die_usage("--inject: '%s' is not a fault (accepted: overlap, gap, sum, stall)", text);
}

/* The workers experiment forks 1 + 2 + ... + 2W processes per trial and method: quadratic
 * in --workers. A mode allows the W it can finish (never fewer than the CPUs); --full any. */
static void check_workers_sweep(const struct kit_opts *o)
{
    long cpus = online_cpus(), most = o->mode == MODE_QUICK ? 8 : 32;
    most = most > cpus ? most : cpus;
    if (!wanted(o, "workers") || o->mode == MODE_FULL || o->workers <= most)
        return;
    long n = 2 * o->workers;
    const char *mode = o->mode == MODE_QUICK ? "--quick" : "the default mode";
    die_usage("--workers: %ld makes the workers experiment fork %ld processes per trial "
              "(N = 1..%ld, mmap and pread); %s allows up to %ld (use --full to run it anyway, "
              "or --only another experiment)", o->workers, n * (n + 1), n, mode, most);
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch05-mmap", usage, argc, argv);
    const char *size_text = NULL, *dir_opt = NULL;
    size_t bufsize = 128 << 10;

    for (int i = 1; i < argc; i++) {
        if (kit_std_option(&o, argc, argv, &i))
            continue;
        if (is_opt(argv[i], "--size")) {
            size_text = option_value(argc, argv, &i, "--size");
        } else if (is_opt(argv[i], "--dir")) {
            dir_opt = option_value(argc, argv, &i, "--dir");
            if (!*dir_opt)
                die_usage("--dir: needs a directory name");
        } else if (is_opt(argv[i], "--bufsize")) {
            bufsize = parse_size("--bufsize", option_value(argc, argv, &i, "--bufsize"), 4 << 10, 64 << 20);
            if (bufsize % sizeof(float))
                die_usage("--bufsize: %zu is not a multiple of 4 bytes (one float32)", bufsize);
        } else if (is_opt(argv[i], "--inject")) {
            split_config.inject = parse_inject(option_value(argc, argv, &i, "--inject"));
        } else {
            die_usage("unknown option '%s'", argv[i]);
        }
    }
    check_only(&o, experiments, sizeof experiments / sizeof experiments[0]);
    /* the free space and memory are checked once the file's directory is known */
    uint64_t size = (uint64_t)by_mode(&o, 4000000, 40000000, 400000000);
    if (size_text)
        size = parse_size("--size", size_text, 4 << 10, 1ull << 48);   /* 2^46 values: sums stay exact */
    if (size % sizeof(float))
        die_usage("--size: %llu is not a multiple of 4 bytes (one float32)", (unsigned long long)size);
    split_config.pin = o.pin;
    check_workers_sweep(&o);
    create_data_file(dir_opt, size);    /* bad --dir or --size: exit 2 before --out is made */
    if (atexit(clean_up) != 0)
        die("atexit failed");
    catch_stop_signals(clean_up);
    prepare_out_dir(&o);

    if (o.pin == PIN_SAME)
        pin_to_cpu(0);
    print_run_header(&o, "memory-mapped files vs read(), split across processes");
    printf("placement: %s\n", pin_name(o.pin));
    if (o.mode == MODE_FULL)
        progress("writing the %.0f MB data file", mb(size));
    fill_data_file(o.seed, size);
    printf("data file: %s, %.1f MB = %llu float32 values k/8 (seed %lu), exact sum %.3f\n", data.path,
           mb(size), (unsigned long long)(size / sizeof(float)), o.seed, data.expected_sum);
    printf("  (its name was removed as soon as it was open: it lives on through the descriptor)\n");
    if (wanted(&o, "methods") || wanted(&o, "cold") || wanted(&o, "workers"))
        report_effective_cpus(&o, (uint64_t)by_mode(&o, 2000000, 20000000, 50000000));
    fflush(stdout);

    /* the largest buffer any experiment uses; workers inherit it (copy-on-write) */
    size_t largest = wanted(&o, "bufsize") && bufsize < (16u << 20) ? 16u << 20 : bufsize;
    float *buf = malloc(largest);
    if (!buf)
        die_errno("malloc");
    memset(buf, 0, largest);

    if (wanted(&o, "methods"))
        run_methods_table(&o, false, buf, bufsize);
    if (wanted(&o, "cold"))
        run_methods_table(&o, true, buf, bufsize);
    if (wanted(&o, "workers"))
        run_workers(&o, buf, bufsize);
    if (wanted(&o, "bufsize"))
        run_bufsize(&o, buf);
    free(buf);
    remove_data_file();
    printf("\nverification: every sum exact, every worker's range checked (no gap, no overlap), "
           "data file removed.\nTSV files: %s/ch05-*.tsv\n", o.out_dir);
    return 0;
}
