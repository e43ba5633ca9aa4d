/* sampler.h - what the /proc sampler (sampler.c), its loop (watch.c) and the built-in workloads
 * (workloads.c) offer the driver (main.c). */
#ifndef CH08_SAMPLER_H
#define CH08_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* ---------- sampler.c: one process, the whole tree, the whole machine ---------- */

/* One process at one instant, from /proc/PID/stat, schedstat and (has_switches) status. */
struct proc_sample {
    pid_t pid, ppid;
    char comm[17];
    char state;                       /* R running or runnable, S sleeping, D, Z zombie, ... */
    int threads;
    int cpu;                          /* the CPU it last ran on */
    uint64_t read_ns;                 /* just before its CPU time was read (CLOCK_MONOTONIC) */
    uint64_t cpu_ns;                  /* time on a CPU, user + system (schedstat, in ns) */
    uint64_t run_delay_ns;            /* time runnable but waiting for a CPU (schedstat) */
    uint64_t user_ticks, system_ticks;    /* the same CPU time split, in clock ticks (stat) */
    uint64_t reaped_children_ticks;   /* CPU of children it has waited for (stat cutime+cstime) */
    uint64_t start_ticks;             /* when it started, clock ticks since boot */
    uint64_t rss_bytes;               /* resident memory (stat) */
    bool has_switches;                /* status was read: the two below are filled in */
    uint64_t voluntary_switches;      /* it blocked: read, sleep, wait (status) */
    uint64_t involuntary_switches;    /* the scheduler took the CPU away (status) */
};

/* The whole machine: /proc/stat and, where the kernel has it, /proc/pressure/cpu. */
struct system_sample {
    uint64_t read_ns;                 /* when it was read (CLOCK_MONOTONIC) */
    uint64_t busy_ticks, total_ticks; /* every CPU together, since boot */
    bool has_pressure;
    uint64_t pressure_some_us;        /* time some runnable task waited for a CPU, since boot */
};

bool sample_process(pid_t pid, struct proc_sample *s);   /* every file */
size_t sample_tree(pid_t root, struct proc_sample *out, size_t max);
void sampler_full_every(unsigned samples);   /* every Nth sample of a process reads status;
                                               * 0: every sample every file, idle or not */
void sampler_root_starts_nothing(bool promise);   /* true: the root of the tree starts no
                                                   * process until this is set false again,
                                                   * so its children list holds while the
                                                   * tree does not move */
void sample_system(struct system_sample *s);
bool have_schedstat(void);
void sampler_reopen_files(bool on);  /* true: open, read, close each file every time */
void sampler_close_files(void);
long clock_ticks_per_second(void);

/* ---------- watch.c: the sampling loop ---------- */

/* A process the watcher reaped: the kernel's own account of it (wait4's rusage covers the
 * process and every child it waited for). */
struct ended_process {
    pid_t pid;
    int status;
    struct rusage usage;
    uint64_t t_ns;                    /* when it was reaped, since the watch started */
    bool has_last;                    /* its final numbers, read while it was a zombie */
    struct proc_sample last;
};

/* The sampling loop: the calling process's tree every period_ns, and every child reaped.
 * The callbacks must not start processes (the loop takes the tree's root, the caller, to start
 * none while it watches). */
struct watch {
    uint64_t period_ns;
    bool every_file;                  /* every file at every sample (else status every 100 ms,
                                         * and nothing a process idle since cannot change) */
    int roots_left;                   /* on_end decrements it; the loop stops at 0 */
    void (*on_sample)(struct watch *w, uint64_t t_ns, const struct proc_sample *procs,
                      size_t count);
    void (*on_end)(struct watch *w, const struct ended_process *e);
    void *ctx;                        /* the caller's */
    /* filled in by watch_tree: */
    uint64_t start_ns, elapsed_ns;
    uint64_t samples, processes_sampled, late_samples;
    uint64_t watching_cpu_ns;         /* the loop's own CPU: sampling, callbacks, reaping */
    uint64_t steady_cpu_ns, steady_ns;    /* the same, and the wall time, after the first
                                         * sample (which opens the files) to the end */
    struct system_sample machine_at_start, machine_at_end;
};

void watch_tree(struct watch *w);

/* ---------- workloads.c: the built-in workloads the chapter watches ---------- */

struct workload {
    char name[32];
    int spin_workers;                 /* CPU-bound workers */
    bool spin_by_cpu;                 /* each burns spin_cpu_ns of CPU (else: busy duration_ns) */
    uint64_t duration_ns;             /* how long the workload keeps busy */
    uint64_t spin_cpu_ns;
    uint64_t memory_bytes;            /* a worker whose RSS grows to this (0: none) */
    bool ping_pong;                   /* two processes trading messages */
    int short_children;               /* a spawner starting this many children, one at a time */
    uint64_t short_cpu_ns;            /* the CPU each short child burns */
    int pin;                          /* enum kit_pin: where its processes run */
    /* filled in by start_workload: */
    int started;                      /* its direct children */
    pid_t pids[80];
    char roles[80][16];
    pid_t spawner;                    /* the short children's parent, or 0 */
    int count_fd;                     /* one byte per short child that ran (read end) */
};

extern const char *const workload_names[];
extern const unsigned workload_count;

bool is_workload(const char *name);
void define_workload(struct workload *wl, const char *name, int workers, uint64_t duration_ns,
                     uint64_t memory_bytes, int short_children);
void start_workload(struct workload *wl);
long short_children_counted(struct workload *wl);
const char *role_of(const struct workload *wl, pid_t pid, pid_t ppid);
int spin_for_cpu(int index, void *until_cpu_ns);
int sleep_until_killed(int index, void *unused);

#endif
