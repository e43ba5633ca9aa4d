/* workloads.c - the processes chapter 8 watches: each kind of process a monitor should tell apart.
 *
 *   spin         CPU-bound: nothing but computation (a pool worker)
 *   memory       a worker whose resident memory grows step by step
 *   ping, pong   two processes trading 8-byte messages over pipes: all context switches,
 *                little CPU
 *   spawner      starts short-lived children one after another, each a few ms of CPU;
 *                every child writes one byte to a pipe, so the driver can count the ones
 *                that really ran, whether or not a sampler ever saw them
 * Every worker checks its own result and exits 3 on a wrong one.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "cli.h"
#include "proc.h"
#include "bench.h"
#include "sampler.h"

const char *const workload_names[] = {"pool", "oversubscribed", "memory", "ping-pong",
                                      "short-lived", "mixed"};
const unsigned workload_count = sizeof workload_names / sizeof workload_names[0];

bool is_workload(const char *name)
{
    for (unsigned k = 0; k < workload_count; k++)
        if (strcmp(name, workload_names[k]) == 0)
            return true;
    return false;
}

/* What each named workload starts. `workers` sizes the pool; the rest have fixed shapes. */
void define_workload(struct workload *wl, const char *name, int workers, uint64_t duration_ns,
                     uint64_t memory_bytes, int short_children)
{
    memset(wl, 0, sizeof *wl);
    snprintf(wl->name, sizeof wl->name, "%s", name);
    wl->duration_ns = duration_ns;
    wl->short_cpu_ns = 2000000;          /* 2 ms of CPU per short child */
    bool mixed = strcmp(name, "mixed") == 0;
    if (strcmp(name, "pool") == 0)
        wl->spin_workers = workers;
    else if (strcmp(name, "oversubscribed") == 0)
        wl->spin_workers = 2 * online_cpus();
    else if (mixed)
        wl->spin_workers = 1;
    if (mixed || strcmp(name, "memory") == 0)
        wl->memory_bytes = memory_bytes;
    if (mixed || strcmp(name, "ping-pong") == 0)
        wl->ping_pong = true;
    if (mixed || strcmp(name, "short-lived") == 0)
        wl->short_children = short_children;
}

/* ---------- spin: CPU-bound ---------- */

/* Burns CPU until this process's CPU clock reads *until_cpu_ns (to ~50 us), however long the
 * CPU takes to give it: a process forked just before starts near 0. */
int spin_for_cpu(int index, void *until_cpu_ns)
{
    (void)index;
    uint64_t until = *(uint64_t *)until_cpu_ns;
    while (cpu_ns() < until)
        keep(spin(20000));
    return 0;
}

static int spin_for_wall(const struct workload *wl)
{
    uint64_t end = now_ns() + wl->duration_ns;
    while (now_ns() < end)
        keep(spin(20000));
    return 0;
}

int sleep_until_killed(int index, void *unused)
{
    (void)index, (void)unused;
    for (;;)
        pause();
}

/* ---------- memory: RSS that grows ---------- */

/* 16 steps over the duration, each touching 1/16 more of the region; then a check that every
 * page holds what was written. */
static int grow_memory(const struct workload *wl)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = wl->memory_bytes / page;
    unsigned char *region = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        return 4;
    uint64_t start = now_ns();
    for (size_t step = 1; step <= 16; step++) {
        for (size_t p = pages * (step - 1) / 16; p < pages * step / 16; p++)
            region[p * page] = (unsigned char)(p * 7 + 1);
        uint64_t until = start + wl->duration_ns * step / 16;
        while (now_ns() < until)
            usleep(1000);
    }
    for (size_t p = 0; p < pages; p++)
        if (region[p * page] != (unsigned char)(p * 7 + 1))
            return 3;
    munmap(region, pages * page);
    return 0;
}

/* ---------- ping-pong: context switches, little CPU ---------- */

static int to_pong[2], to_ping[2];

/* Sends 0, 2, 4, ... and expects each back plus one, until the duration is over; then closes
 * its end, which pong reads as the end. */
static int ping(const struct workload *wl)
{
    close(to_pong[0]);
    close(to_ping[1]);
    uint64_t end = now_ns() + wl->duration_ns, value = 0, back;
    while (now_ns() < end) {
        if (!write_full(to_pong[1], &value, sizeof value) ||
            read_full(to_ping[0], &back, sizeof back) != sizeof back || back != value + 1)
            return 3;
        value += 2;
    }
    return 0;
}

static int pong(void)
{
    close(to_pong[1]);
    close(to_ping[0]);
    uint64_t value, expected = 0;
    while (read_full(to_pong[0], &value, sizeof value) == sizeof value) {
        if (value != expected)
            return 3;
        value++;
        if (!write_full(to_ping[1], &value, sizeof value))
            return 3;
        expected += 2;
    }
    return 0;
}

/* ---------- short-lived children ---------- */

static int count_pipe[2];

/* Each child burns a few ms of CPU, writes one byte and exits with its number (mod 128);
 * the spawner checks every status, so a child that did not run or ran twice is caught. */
static int spawn_short_children(const struct workload *wl)
{
    pid_t self = getpid();
    for (int k = 0; k < wl->short_children; k++) {
        pid_t pid = fork();
        if (pid == -1)
            return 4;
        if (pid == 0) {
            become_child(self, PIN_NONE, 0);
            uint64_t cpu = cpu_ns() + wl->short_cpu_ns;
            spin_for_cpu(k, &cpu);
            _exit(write(count_pipe[1], "x", 1) == 1 ? k & 0x7f : 126);
        }
        int status;
        while (waitpid(pid, &status, 0) == -1)
            if (errno != EINTR)
                return 4;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != (k & 0x7f))
            return 3;
    }
    return 0;
}

/* ---------- starting a workload ---------- */

enum kind { SPIN, MEMORY, PING, PONG, SPAWNER };
/* What one child runs: its kind, and the workload it belongs to (a copy after fork). */
struct worker_arg {
    const struct workload *wl;
    enum kind kind;
};

static int run_worker(int index, void *arg)
{
    (void)index;
    const struct workload *wl = ((const struct worker_arg *)arg)->wl;
    switch (((const struct worker_arg *)arg)->kind) {
    case SPIN:
        if (wl->spin_by_cpu) {
            uint64_t cpu = wl->spin_cpu_ns;
            return spin_for_cpu(0, &cpu);
        }
        return spin_for_wall(wl);
    case MEMORY:
        return grow_memory(wl);
    case PING:
        return ping(wl);
    case PONG:
        return pong();
    default:
        return spawn_short_children(wl);
    }
}

static pid_t start_one(struct workload *wl, enum kind kind, const char *role)
{
    if (wl->started == (int)(sizeof wl->pids / sizeof wl->pids[0]))
        die("workload %s: more than %zu processes", wl->name, sizeof wl->pids / sizeof wl->pids[0]);
    static struct worker_arg args[sizeof wl->pids / sizeof wl->pids[0]];
    args[wl->started] = (struct worker_arg){wl, kind};
    /* the index places it under --pin spread: child i on CPU i mod CPUs */
    pid_t pid = start_worker(wl->started, wl->pin, run_worker, &args[wl->started]);
    wl->pids[wl->started] = pid;
    snprintf(wl->roles[wl->started], sizeof wl->roles[0], "%s", role);
    wl->started++;
    return pid;
}

void start_workload(struct workload *wl)
{
    char role[24];
    wl->count_fd = -1;
    for (int i = 0; i < wl->spin_workers; i++) {
        snprintf(role, sizeof role, "spin-%d", i % 100);
        start_one(wl, SPIN, role);
    }
    if (wl->memory_bytes)
        start_one(wl, MEMORY, "memory");
    if (wl->ping_pong) {
        if (pipe(to_pong) == -1 || pipe(to_ping) == -1)
            die_errno("pipe");
        start_one(wl, PING, "ping");
        start_one(wl, PONG, "pong");
        close(to_pong[0]), close(to_pong[1]), close(to_ping[0]), close(to_ping[1]);
    }
    if (wl->short_children) {
        if (pipe(count_pipe) == -1)
            die_errno("pipe");
        wl->spawner = start_one(wl, SPAWNER, "spawner");
        close(count_pipe[1]);
        wl->count_fd = count_pipe[0];
    }
}

/* The short children that really ran: one byte each, read once every writer is gone. */
long short_children_counted(struct workload *wl)
{
    if (wl->count_fd == -1)
        return 0;
    char buf[4096];
    long total = 0;
    size_t got;
    while ((got = read_full(wl->count_fd, buf, sizeof buf)) > 0)
        total += (long)got;
    close(wl->count_fd);
    wl->count_fd = -1;
    return total;
}

const char *role_of(const struct workload *wl, pid_t pid, pid_t ppid)
{
    for (int i = 0; i < wl->started; i++)
        if (wl->pids[i] == pid)
            return wl->roles[i];
    return wl->spawner && ppid == wl->spawner ? "short" : NULL;
}
