/* pages.c - what a page of shared memory costs a process that reads it anew: the probe behind
 * the ladder's first-touch lines.
 *
 * The values are already in memory (the parent made them); a new process maps them and reads
 * one byte per 4 KiB page, twice. The first pass pays for whatever the kernel (and, on a
 * virtual machine, the hypervisor) must do before this process can use each page; the second
 * pass finds it done, so the difference is the first touch. Four ways, each in a process of
 * its own so that none inherits another's work:
 *   read-write            the whole object writable, as SharedMemory(name=...) maps it (rung 4)
 *   read-only             PROT_READ: a worker that only reads the values (pool-shm-batched-mapped)
 *   read-only-populated   read-only, with MADV_POPULATE_READ filling the page tables in one call
 *                         before the first pass: does that save the cost or only move it?
 *   pread                 no mapping: the kernel copies one batch at a time into a buffer of the
 *                         process's own, reused (rung 5); both passes pay the copy
 * Then munmap (for pread, freeing the buffer), timed too: a worker pays it when it ends. Then,
 * except for the populated way, the reads as a worker pays them: every value summed twice
 * through a second fresh mapping (or pread batches); the first pass less the arithmetic alone
 * is what reading the values costs inside the arithmetic. The pread way also checksums every
 * block in one more pass, as a worker checks what it reads: that pass less the one that only
 * reads is what the checks cost.
 * What to look for: the first pass per page against the second, each way against the others,
 * and the page faults (one per 16 pages: the kernel maps the pages around each fault).
 * Everything is CPU time of the probe itself, so other processes on the machine count little.
 *
 * Last, a probe of what forking this process costs as it is: the parent's CPU time inside
 * fork() grows with the private memory whose page-table entries it must copy.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench.h"
#include "rungs.h"

const char *const touch_names[TOUCH_KINDS] = {"read-write", "read-only", "read-only-populated",
                                              "pread"};

/* Whole 4 KiB pages of values: the pages the probe reads. */
size_t pages_of(const struct input *in) { return in->count * sizeof(float) / 4096; }

static double cpu_ms(void) { return (double)cpu_ns() / 1e6; }

static double read_pages_ms(const char *values, size_t pages)
{
    const volatile char *bytes = values;
    double start = cpu_ms();
    unsigned sum = 0;
    for (size_t p = 0; p < pages; p++)
        sum += (unsigned char)bytes[p * 4096];
    keep(sum);
    return cpu_ms() - start;
}

static void keep_sum(double sum)
{
    uint64_t bits;
    memcpy(&bits, &sum, sizeof bits);
    keep(bits);
}

/* The work of blocks [first, first + blocks), whose values start at `values`; with `checks`,
 * each block also checksummed in the same pass, as rung 5's workers do, and compared. */
static double sum_values(const struct input *in, const float *values, size_t first,
                         size_t blocks, const uint64_t *checks)
{
    double total = 0;
    for (size_t k = 0; k < blocks; k++) {
        const float *block = values + k * BLOCK_VALUES;
        size_t n = values_in(in, first + k, 1);
        if (!checks) {
            total += block_sum(block, n, in->work);
            continue;
        }
        uint64_t got;
        total += block_sum_checked(block, n, in->work, &got);
        if (got != checks[k])
            die("first-touch probe: block %zu does not match its checksum", first + k);
    }
    return total;
}

/* What a pread pass does with each batch: read one byte per page, sum it, sum and check it in
 * one pass, or check it in a pass of its own and then sum it. */
enum pass { PASS_TOUCH, PASS_SUM, PASS_SUM_CHECKED, PASS_CHECK_APART };

/* Every value read as rung 5 reads it, a batch at a time with pread into `buffer`, and each
 * batch passed over as `pass` says. CPU ms, or -1 if the object ended early. */
static double pread_pass_ms(const struct input *in, float *buffer, size_t batch, enum pass pass)
{
    uint64_t *checks = (uint64_t *)(buffer + batch * BLOCK_VALUES);
    double start = cpu_ms(), total = 0;
    for (size_t b = 0; b < in->blocks; b += batch) {
        size_t n = in->blocks - b < batch ? in->blocks - b : batch;
        if (!read_batch(&in->home, in, b, n, buffer, checks))
            return -1;
        for (size_t k = 0; pass == PASS_CHECK_APART && k < n; k++)
            if (block_checksum(buffer + k * BLOCK_VALUES, values_in(in, b + k, 1)) != checks[k])
                die("first-touch probe: block %zu does not match its checksum", b + k);
        if (pass != PASS_TOUCH)
            total += sum_values(in, buffer, b, n, pass == PASS_SUM_CHECKED ? checks : NULL);
        else
            read_pages_ms((const char *)buffer, n * BLOCK_VALUES * sizeof(float) / 4096);
    }
    keep_sum(total);
    return cpu_ms() - start;
}

/* The same reads inside the arithmetic, as a worker pays them: a fresh mapping (new to this
 * process, like the first) or pread batches, every value summed twice. */
static bool sum_twice(const struct input *in, int prot, float *buffer, size_t batch,
                      struct first_touch *ft)
{
    const struct shared *home = &in->home;
    size_t bytes = home->bytes - home->data_offset;
    if (buffer) {
        ft->work_first_ms = pread_pass_ms(in, buffer, batch, PASS_SUM);
        ft->work_again_ms = pread_pass_ms(in, buffer, batch, PASS_SUM);
        ft->check_ms = pread_pass_ms(in, buffer, batch, PASS_SUM_CHECKED);
        ft->check_apart_ms = pread_pass_ms(in, buffer, batch, PASS_CHECK_APART);
        return ft->work_first_ms >= 0 && ft->work_again_ms >= 0 && ft->check_ms >= 0 &&
               ft->check_apart_ms >= 0;
    }
    const float *values = mmap(NULL, bytes, prot, MAP_SHARED, home->fd, (off_t)home->data_offset);
    if (values == MAP_FAILED)
        return false;
    double start = cpu_ms();
    keep_sum(sum_values(in, values, 0, in->blocks, NULL));
    ft->work_first_ms = cpu_ms() - start;
    start = cpu_ms();
    keep_sum(sum_values(in, values, 0, in->blocks, NULL));
    ft->work_again_ms = cpu_ms() - start;
    munmap((void *)values, bytes);
    return true;
}

struct probe_arg {
    const struct input *in;
    enum touch_kind kind;
    size_t batch;               /* blocks per pread */
    int result_fd;
};

/* The pread way's two passes over every page, its buffer freed, then its reads in the work. */
static int probe_pread(const struct probe_arg *a, struct first_touch *ft)
{
    float *buffer = malloc(a->batch * (BLOCK_VALUES * sizeof(float) + sizeof(uint64_t)));
    if (!buffer)
        return 3;
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    ft->first_ms = pread_pass_ms(a->in, buffer, a->batch, PASS_TOUCH);
    getrusage(RUSAGE_SELF, &after);
    ft->again_ms = pread_pass_ms(a->in, buffer, a->batch, PASS_TOUCH);
    ft->faults = (double)(after.ru_minflt - before.ru_minflt);
    if (ft->first_ms < 0 || ft->again_ms < 0 || !sum_twice(a->in, 0, buffer, a->batch, ft))
        return 6;
    double start = cpu_ms();
    free(buffer);
    ft->unmap_ms = cpu_ms() - start;
    return 0;
}

/* book:first-touch */
/* In a new process: map the values' part of the object one way, read every page twice, unmap
 * (or read them with pread, twice). */
static int probe(int index, void *arg)
{
    const struct probe_arg *a = arg;
    const struct shared *home = &a->in->home;
    size_t bytes = home->bytes - home->data_offset, pages = pages_of(a->in);
    int prot = a->kind == TOUCH_READ_WRITE ? PROT_READ | PROT_WRITE : PROT_READ;
    struct first_touch ft = {0};
    int failed = a->kind == TOUCH_PREAD ? probe_pread(a, &ft) : 0;
    if (a->kind == TOUCH_PREAD)
        return failed ? failed : write_full(a->result_fd, &ft, sizeof ft) ? 0 : 5;
    char *values = mmap(NULL, bytes, prot, MAP_SHARED, home->fd, (off_t)home->data_offset);
    if (values == MAP_FAILED)
        return 3;
    double start = cpu_ms();
    if (a->kind == TOUCH_READ_ONLY_POPULATED &&
        madvise(values, bytes, MADV_POPULATE_READ) == -1 && errno != EINVAL)
        return 4;                                       /* EINVAL: before Linux 5.14 */
    ft.populate_ms = cpu_ms() - start;
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    ft.first_ms = read_pages_ms(values, pages);
    getrusage(RUSAGE_SELF, &after);
    ft.again_ms = read_pages_ms(values, pages);
    start = cpu_ms();
    munmap(values, bytes);
    ft.unmap_ms = cpu_ms() - start;
    ft.faults = (double)(after.ru_minflt - before.ru_minflt);
    if (a->kind != TOUCH_READ_ONLY_POPULATED && !sum_twice(a->in, prot, NULL, 0, &ft))
        return 6;
    (void)index;
    return write_full(a->result_fd, &ft, sizeof ft) ? 0 : 5;
}
/* end:first-touch */

/* One probe process; its answer comes back through a pipe. */
struct first_touch measure_first_touch(const struct input *in, enum touch_kind kind,
                                       size_t batch_blocks)
{
    int fds[2];
    if (pipe(fds) == -1)
        die_errno("pipe");
    struct probe_arg arg = {in, kind, batch_blocks, fds[1]};
    pid_t pid = start_worker(0, PIN_NONE, probe, &arg);
    close(fds[1]);
    struct first_touch ft;
    size_t got = read_full(fds[0], &ft, sizeof ft);
    close(fds[0]);
    int status = reap_child(pid);
    if (got != sizeof ft || !ended_ok(status))
        die_child("first-touch probe", 0, pid, status, "while reading the shared values %s",
                  touch_names[kind]);
    return ft;
}

/* ---------- what a fork of this process costs ---------- */

static int exit_at_once(int index, void *arg)
{
    (void)index, (void)arg;
    return 0;
}

/* This process's private memory in use, which fork shares copy-on-write entry by entry. */
static double rss_anon_kb(void)
{
    long long kb = proc_value("/proc/self/status", "RssAnon");
    return kb < 0 ? NAN : (double)kb;
}

struct fork_cost measure_fork(long trials)
{
    double *cpu = calloc((size_t)trials, sizeof *cpu), *wall = calloc((size_t)trials, sizeof *wall);
    if (!cpu || !wall)
        die_errno("calloc");
    for (long i = 0; i < trials; i++) {
        uint64_t start = now_ns();
        double cpu_start = cpu_ms();
        pid_t pid = start_worker(0, PIN_NONE, exit_at_once, NULL);
        cpu[i] = cpu_ms() - cpu_start;
        int status = reap_child(pid);
        wall[i] = (double)(now_ns() - start) / 1e6;
        if (!ended_ok(status))
            die_child("fork probe", 0, pid, status, "which only exits");
    }
    struct fork_cost f = {stats_of(cpu, (size_t)trials).median,
                          stats_of(wall, (size_t)trials).median, rss_anon_kb()};
    free(cpu);
    free(wall);
    return f;
}
