/* watch.c - the sampling loop: sample the tree, reap what ended, sleep to the next tick.
 *
 * One wake-up per period serves every process watched. The tick is on an absolute clock, so a
 * late sample is skipped, never followed by a burst. SIGCHLD cuts the sleep short, so an ended
 * child is reaped at once; the watcher is its parent (or subreaper), so wait4 gives the kernel's
 * own account of it, which the samples are checked against.
 * What to look for: the loop in watch_tree, and reap_ended's last look at a zombie.
 */
#define _GNU_SOURCE
#include <time.h>

#include "cli.h"
#include "proc.h"
#include "bench.h"
#include "sampler.h"

/* SIGCHLD cuts the sleep short so an ended child is reaped at once, not at the next tick; and
 * without one, no child has ended: the loop does not ask (a system call saved per tick). */
static volatile sig_atomic_t child_ended;
static void on_child(int sig) { (void)sig; child_ended = 1; }

/* Every child that has ended: a last look at its /proc files while it is a zombie (waitid
 * with WNOWAIT finds it without reaping it), then wait4 reaps it and returns the kernel's
 * account. Once reaped, /proc/PID is gone. */
/* book:reap */
static void reap_ended(struct watch *w)
{
    if (!child_ended)
        return;
    child_ended = 0;                     /* before asking: a later SIGCHLD sets it again */
    siginfo_t info;
    for (;;) {
        info.si_pid = 0;
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1) {
            if (errno == ECHILD)
                return;
            die_errno("waitid");
        }
        if (info.si_pid == 0)
            return;                      /* children left, none ended */
        struct ended_process e = {.pid = info.si_pid};
        e.has_last = sample_process(e.pid, &e.last);
        if (wait4(e.pid, &e.status, 0, &e.usage) == -1)
            die_errno("wait4");
        forget_child(e.pid);
        e.t_ns = now_ns() - w->start_ns;
        w->on_end(w, &e);
    }
}
/* end:reap */

static void take_sample(struct watch *w, pid_t self, struct proc_sample **buf, size_t *cap)
{
    uint64_t t = now_ns() - w->start_ns;
    size_t count;
    while ((count = sample_tree(self, *buf, *cap)) == *cap) {   /* more than fit: grow */
        *cap *= 2;
        if (!(*buf = realloc(*buf, *cap * sizeof **buf)))
            die_errno("realloc");
    }
    w->samples++;
    w->processes_sampled += count;
    w->on_sample(w, t, *buf, count);
}

/* The loop's own CPU is read once at each end: a clock read per sample would cost two more
 * system calls per sample. */
/* book:watch */
void watch_tree(struct watch *w)
{
    struct sigaction child = {.sa_handler = on_child}, saved;
    sigemptyset(&child.sa_mask);         /* no SA_RESTART: the sleep returns EINTR */
    if (sigaction(SIGCHLD, &child, &saved) == -1)
        die_errno("sigaction");
    size_t cap = 256;
    struct proc_sample *buf = malloc(cap * sizeof *buf);
    if (!buf)
        die_errno("malloc");
    pid_t self = getpid();
    child_ended = 1;                     /* one may have ended before the handler was set */
    const uint64_t full_ns = 100000000;  /* a full sample of each process every 100 ms */
    sampler_full_every(w->every_file ? 0
                       : w->period_ns < full_ns ? (unsigned)(full_ns / w->period_ns) : 1);
    sample_system(&w->machine_at_start);
    sampler_root_starts_nothing(true);   /* the loop and its callbacks start no process */
    uint64_t cpu_at_start = cpu_ns();
    w->start_ns = now_ns();
    uint64_t tick = w->start_ns;
    uint64_t steady_cpu = 0, steady_start = 0;
    while (w->roots_left > 0) {
        exit_if_stopped();               /* a signal that came while sampling, not sleeping */
        take_sample(w, self, &buf, &cap);
        if (w->samples == 1)
            steady_cpu = cpu_ns(), steady_start = now_ns();
        reap_ended(w);
        tick += w->period_ns;
        for (uint64_t now = now_ns(); tick < now; tick += w->period_ns)
            w->late_samples++;           /* the sampler fell behind: skip ticks, never burst */
        struct timespec at = {(time_t)(tick / 1000000000u), (long)(tick % 1000000000u)};
        while (w->roots_left > 0 &&
               clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
            exit_if_stopped();
            reap_ended(w);               /* a child ended: account for it now */
        }
    }
    w->elapsed_ns = now_ns() - w->start_ns;
    uint64_t cpu_at_end = cpu_ns();
    w->watching_cpu_ns = cpu_at_end - cpu_at_start;
    w->steady_cpu_ns = cpu_at_end - steady_cpu;
    w->steady_ns = now_ns() - steady_start;
    sample_system(&w->machine_at_end);
    sampler_root_starts_nothing(false);
    sampler_close_files();
    free(buf);
    if (sigaction(SIGCHLD, &saved, NULL) == -1)
        die_errno("sigaction");
}
/* end:watch */
