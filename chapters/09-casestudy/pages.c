/* pages.c - what a page of shared memory costs a process that maps it anew: the probe behind
 * the ladder's first-touch lines.
 *
 * The values are already in memory (the parent made them); a new process maps them and reads
 * one byte per 4 KiB page, twice. The first pass pays for whatever the kernel (and, on a
 * virtual machine, the hypervisor) must do before this process can use each page; the second
 * pass finds it done, so the difference is the first touch. Three ways of mapping, each in a
 * process of its own so that none inherits another's work:
 *   read-write            the whole object writable, as SharedMemory(name=...) maps it (rung 4)
 *   read-only             PROT_READ: a worker that only reads the values (rung 5)
 *   read-only-populated   read-only, with MADV_POPULATE_READ filling the page tables in one call
 *                         before the first pass: does that save the cost or only move it?
 * Then munmap, timed too: a worker pays it when it ends (the rung's teardown). Then, for the
 * first two ways, the same first reads as a worker pays them: every value summed twice through
 * a second fresh mapping; the first pass less the second is what the first reads cost inside
 * the arithmetic.
 * What to look for: the first pass per page against the second, read-write against read-only,
 * and the page faults (one per 16 pages: the kernel maps the pages around each fault).
 * Everything is CPU time of the probe itself, so other processes on the machine count little.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench.h"
#include "rungs.h"

const char *const touch_names[TOUCH_KINDS] = {"read-write", "read-only", "read-only-populated"};

/* Whole 4 KiB pages of values: the pages the probe reads. */
size_t pages_of(const struct input *in) { return in->count * sizeof(float) / 4096; }

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

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

/* The same first reads inside the arithmetic, as a worker pays them: a fresh mapping (new to
 * this process, like the first), every value summed twice; the difference is the first reads. */
static bool sum_twice(const struct input *in, int prot, struct first_touch *ft)
{
    const struct shared *home = &in->home;
    size_t bytes = home->bytes - home->data_offset;
    const float *values = mmap(NULL, bytes, prot, MAP_SHARED, home->fd, (off_t)home->data_offset);
    if (values == MAP_FAILED)
        return false;
    double start = cpu_ms();
    keep_sum(sum_values(in, values));
    ft->work_first_ms = cpu_ms() - start;
    start = cpu_ms();
    keep_sum(sum_values(in, values));
    ft->work_again_ms = cpu_ms() - start;
    munmap((void *)values, bytes);
    return true;
}

struct probe_arg {
    const struct input *in;
    enum touch_kind kind;
    int result_fd;
};

/* book:first-touch */
/* In a new process: map the values' part of the object one way, read every page twice, unmap. */
static int probe(int index, void *arg)
{
    const struct probe_arg *a = arg;
    const struct shared *home = &a->in->home;
    size_t bytes = home->bytes - home->data_offset, pages = pages_of(a->in);
    int prot = a->kind == TOUCH_READ_WRITE ? PROT_READ | PROT_WRITE : PROT_READ;
    char *values = mmap(NULL, bytes, prot, MAP_SHARED, home->fd, (off_t)home->data_offset);
    if (values == MAP_FAILED)
        return 3;
    struct first_touch ft = {0};
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
    if (a->kind != TOUCH_READ_ONLY_POPULATED && !sum_twice(a->in, prot, &ft))
        return 6;
    (void)index;
    return write_full(a->result_fd, &ft, sizeof ft) ? 0 : 5;
}
/* end:first-touch */

/* One probe process; its answer comes back through a pipe. */
struct first_touch measure_first_touch(const struct input *in, enum touch_kind kind)
{
    int fds[2];
    if (pipe(fds) == -1)
        die_errno("pipe");
    struct probe_arg arg = {in, kind, fds[1]};
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
