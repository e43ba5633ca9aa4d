/* readers.c - four ways to read a file's bytes, and one file split across processes.
 *
 * The teaching file of ch05-mmap (main.c is the driver: options, experiments, tables).
 * What it demonstrates, top to bottom:
 *   sum_values            the work every method does: add up float32 values
 *   sum_by_read/_pread    the kernel copies each buffer-full from the page cache to us
 *   map_and_sum           no copy: the file's cached pages become part of our address space
 *                         (plain, with madvise hints, with MAP_POPULATE)
 *   split_range, worker   N processes, each sums a page-aligned byte range of its own
 *   check_coverage        the parent proves the ranges tile the file: no gap, no overlap
 *   evict_file            the cold page cache: write back, drop, and check with mincore()
 * What to look for: read() with a buffer that fits in the CPU cache against mmap, which saves
 * a copy but pays page faults (which wins depends on what a fault costs on the machine: read
 * won 3.2x on the reference VM); splitting helps only up to the CPUs and the memory
 * bandwidth; a cold file runs at the speed of the device.
 *
 * Verification: the values are k/8 with k in -128..127, so every partial and total sum
 * is exact in a double whatever the order of additions; each worker's partial sum must
 * equal its range's, bit for bit.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#include "cli.h"
#include "proc.h"
#include "readers.h"

struct data_file data = {.fd = -1};

/* ---------- the data file: values whose exact sum is known (made by main.c) ---------- */



/* The exact sum of the values in bytes [begin, end): begin on a page boundary,
 * end on one or at the end of the file. */
double expected_range_sum(uint64_t begin, uint64_t end)
{
    if (begin >= end)
        return 0;
    uint64_t first = begin / data.page, last = (end + data.page - 1) / data.page;
    return (double)(data.eighths_before[last] - data.eighths_before[first]) / 8.0;
}

/* ---------- the work every method does: add up float32 values ---------- */

/* Eight running sums keep eight additions in flight (one sum would wait ~4 cycles per
 * addition); exact values make the order irrelevant to the result. */
double sum_values(const float *v, size_t n)
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


/* book:read */
/* The kernel copies each buffer-full from the page cache into our buffer; we sum the copy. */
static double sum_by_read(int fd, struct range r, float *buf, size_t bufsize, uint64_t *done)
{
    double sum = 0;
    if (lseek(fd, (off_t)r.begin, SEEK_SET) == -1)
        die_errno("lseek");
    for (*done = 0; *done < r.end - r.begin;) {
        size_t want = r.end - r.begin - *done < bufsize ? r.end - r.begin - *done : bufsize;
        size_t got = read_full(fd, buf, want);
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
        size_t got = pread_full(fd, buf, want, (off_t)(r.begin + *done));
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

/* The three mapping methods in the methods' signature (they need no buffer). */
static double sum_by_mmap(int fd, struct range r, float *buf, size_t size, uint64_t *done)
{
    (void)buf, (void)size;
    return map_and_sum(fd, r, MAP_PLAIN, done);
}

static double sum_by_mmap_advised(int fd, struct range r, float *buf, size_t size, uint64_t *done)
{
    (void)buf, (void)size;
    return map_and_sum(fd, r, MAP_ADVISED, done);
}

static double sum_by_mmap_populated(int fd, struct range r, float *buf, size_t size, uint64_t *done)
{
    (void)buf, (void)size;
    return map_and_sum(fd, r, MAP_PREFAULTED, done);
}

const struct method methods[METHOD_COUNT] = {
    {"read", sum_by_read, false, "one process, read() into a buffer"},
    {"mmap", sum_by_mmap, false, "one process, mmap the file, walk it"},
    {"mmap-advise", sum_by_mmap_advised, false, "mmap + MADV_SEQUENTIAL + MADV_WILLNEED"},
    {"mmap-populate", sum_by_mmap_populated, false, "mmap with MAP_POPULATE (faults in mmap)"},
    {"pread", sum_by_pread, true, "N processes, each pread()s its range"},
    {"mmap", sum_by_mmap, true, "N processes, each maps its range"},
};

/* ---------- splitting the file across processes ---------- */

/* book:split-range */
/* Worker w of n gets whole pages [P*w/n, P*(w+1)/n) of the file's P pages, so every
 * range starts on a page boundary (mmap's offset must); the last page may be partial,
 * so no range reaches past the end of the file. */
struct range split_range(int w, int n)
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
static struct range injected(struct range r, int w, enum inject inject)
{
    if (w != 1 || inject == INJECT_NONE)
        return r;
    if (inject == INJECT_OVERLAP && r.begin >= data.page)
        r.begin -= data.page;
    else if (inject == INJECT_GAP && r.end - r.begin >= data.page)
        r.begin += data.page;
    return r;
}

static double injected_sum(double sum, int w, enum inject inject)
{
    return w == 1 && inject == INJECT_SUM ? sum + 0.125 : sum;   /* a value counted twice */
}

/* book:worker */
/* A worker opens the file by name, as a spawned Python worker must, sums its range
 * and sends its partial sum to the parent over the pipe. The file's only name is
 * /proc/self/fd/N (its directory entry is gone): opening it makes a new open file
 * description, with a file offset of its own. */
static int worker(int w, void *arg)
{
    const struct split_job *job = arg;      /* start_worker made us a child of the parent */
    close(job->pipe[0]);
    struct range r = injected(split_range(w, job->procs), w, job->inject);
    char name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", data.fd);
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        die_errno("worker: open");
    if (w == 0 && job->inject == INJECT_STALL)
        pause();                            /* until a signal ends it: the tests kill it */
    struct partial rep = {.worker = w, .begin = r.begin};
    double sum = job->method->sum(fd, r, job->buf, job->bufsize, &rep.bytes);
    rep.sum = injected_sum(sum, w, job->inject);
    return write_full(job->pipe[1], &rep, sizeof rep) ? 0 : 1;   /* < PIPE_BUF: one atomic write */
}
/* end:worker */

/* Each worker's status: one that was killed or failed is reported with its range, exit 1. */
static void reap_workers(const char *variant, const pid_t *pids, int procs)
{
    for (int w = 0; w < procs; w++) {
        int status = reap_child(pids[w]);
        if (ended_ok(status))
            continue;
        exit_if_stopped();      /* a Ctrl-C that reached the workers too is a stop, not a crash */
        struct range r = split_range(w, procs);
        char how[64];
        die("%s: worker %d of %d (bytes %llu..%llu) %s%s", variant, w, procs,
            (unsigned long long)r.begin, (unsigned long long)r.end,
            WIFSIGNALED(status) ? "was " : "failed: ", how_it_ended(status, how, sizeof how));
    }
}

/* Reads one report per worker until all are in or every worker has closed the pipe. */
static int collect_reports(int fd, struct partial *reports, int procs, const char *variant)
{
    int got = 0;
    bool seen[MAX_PROCS] = {false};
    while (got < procs) {
        struct partial rep;
        size_t n = read_full(fd, &rep, sizeof rep);
        if (n == 0)
            break;                          /* every worker is gone: the reaping says why */
        if (n != sizeof rep || rep.worker < 0 || rep.worker >= procs || seen[rep.worker])
            die("%s: a malformed report on the pipe (%zu bytes, worker %d)", variant, n,
                (int)rep.worker);
        seen[rep.worker] = true;
        reports[rep.worker] = rep;
        got++;
    }
    return got;
}

/* book:coverage */
/* The ranges the workers say they summed must tile [0, size): each starts on a page
 * boundary exactly where the previous one ended, and the last ends at the file's end. */
static void check_coverage(const char *variant, const struct partial *reports, int procs)
{
    uint64_t next = 0;
    for (int w = 0; w < procs; w++) {
        uint64_t begin = reports[w].begin;
        if (begin % data.page != 0)
            verification_failed("%s: worker %d starts at byte %llu, not on a page boundary",
                                variant, w, (unsigned long long)begin);
        if (begin < next)
            verification_failed("%s: ranges overlap: bytes %llu..%llu summed by worker %d and "
                                "again by worker %d", variant, (unsigned long long)begin,
                                (unsigned long long)next, w - 1, w);
        if (begin > next)
            verification_failed("%s: a gap between ranges: bytes %llu..%llu summed by no worker "
                                "(%d and %d)", variant, (unsigned long long)next,
                                (unsigned long long)begin, w - 1, w);
        next = begin + reports[w].bytes;
    }
    if (next != data.size)
        verification_failed("%s: the ranges end at byte %llu, the file at %llu", variant,
                            (unsigned long long)next, (unsigned long long)data.size);
}
/* end:coverage */

/* book:run-split */
/* Starts the job's workers, collects one partial sum from each, and checks them: the
 * ranges tile the file, each partial sum is its range's. Returns the total. */
double run_split(struct split_job *job, struct partial *reports)
{
    char variant[32];
    pid_t pids[MAX_PROCS];
    int procs = job->procs;
    snprintf(variant, sizeof variant, "%s-%d", job->method->name, procs);
    if (pipe(job->pipe) == -1)
        die_errno("pipe");
    for (int w = 0; w < procs; w++)
        pids[w] = start_worker(w, job->pin, worker, job);
    close(job->pipe[1]);    /* only the workers hold the write end: EOF once all are gone */
    int got = collect_reports(job->pipe[0], reports, procs, variant);
    close(job->pipe[0]);
    reap_workers(variant, pids, procs);
    if (got != procs)
        die("%s: %d of %d workers sent no result", variant, procs - got, procs);
    check_coverage(variant, reports, procs);
    double total = 0;
    for (int w = 0; w < procs; w++) {
        double expected = expected_range_sum(reports[w].begin, reports[w].begin + reports[w].bytes);
        if (reports[w].sum != expected)
            verification_failed("%s: worker %d summed %.3f over bytes %llu..%llu, expected %.3f",
                                variant, w, reports[w].sum, (unsigned long long)reports[w].begin,
                                (unsigned long long)(reports[w].begin + reports[w].bytes),
                                expected);
        total += reports[w].sum;
    }
    return total;
}
/* end:run-split */

/* ---------- the cold page cache ---------- */

/* What fraction of the file's pages the page cache holds now: mincore() on a mapping
 * that was never touched reports the cache, not our own page tables. */
double resident_fraction(void)
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
double evict_file(void)
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
