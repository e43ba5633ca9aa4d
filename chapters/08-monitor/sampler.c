/* sampler.c - watching a process tree from /proc: what each process did, sample by sample.
 *
 * The kernel keeps a running account of every process and shows it as text files:
 *   /proc/PID/stat        state, parent, CPU time in clock ticks (user, system, and children
 *                         already waited for), resident pages, the CPU it last ran on, when
 *                         it started
 *   /proc/PID/status      the same and more, one "Name: value" per line; the only place with
 *                         voluntary and involuntary context switches
 *   /proc/PID/schedstat   time on a CPU and time spent runnable but waiting for one, in ns
 *   /proc/PID/task/PID/children   the processes it started that are still alive
 *   /proc/stat, /proc/pressure/cpu   the same for the whole machine
 * A sampler reads them every period and subtracts: CPU % is the CPU time gained between two
 * samples over the time between them. Two things follow, and the chapter measures both:
 *   - reading costs: each file read is a system call that makes the kernel format text, and
 *     opening a file by its path costs as much again; so the sampler opens each file once and
 *     re-reads it, and reads per sample only what can have changed: stat and schedstat every
 *     time, status (the dearest file, for the context switches) every 100 ms and only of a
 *     process that has run since it was last read, and children lists only once something in
 *     the tree has run; the numbers are picked out of the text by a scanner that knows only
 *     digits and spaces;
 *   - sampling misses: CPU used after a process's last sample, and processes that start and end
 *     between two samples. The kernel does not lose them: when a parent waits for a child
 *     (wait4), the child's CPU, and that of every child *it* waited for, is added to the
 *     parent's account (stat's cutime/cstime, wait4's rusage). So the watcher is the parent
 *     (or the subreaper) of what it watches, and takes the final account from wait4.
 * What to look for: sample_files (one process) and sample_tree (every descendant), and how
 * little of their cost is the sampling proper: where one system call costs ~1 us, the reads per
 * process and the wake-up per period are most of the bill. The loop that calls them every
 * period, and reaps what ended, is watch.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <time.h>

#include "cli.h"
#include "proc.h"
#include "bench.h"
#include "sampler.h"

/* ---------- reading one /proc file ----------
 * One open, one read, one close: the kernel formats the text on the read. The files are
 * small (stat is ~300 bytes, status ~1.5 KiB), so one buffer holds all of it. */

static ssize_t read_proc_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;                       /* the process is gone: not an error */
    ssize_t n;
    do
        n = read(fd, buf, len - 1);
    while (n == -1 && errno == EINTR);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* ---------- the same files kept open ----------
 * Half of that cost is the open and close: a walk of the path through /proc, a lookup of the
 * pid, a file to allocate and free. A file kept open is read again with pread at offset 0 (the
 * kernel formats fresh text on every read): one system call instead of three. It stays bound
 * to *that* process: once the process is reaped the read fails (ESRCH) instead of reading
 * whichever new process reused its pid. Each sample of the tree marks the processes it read;
 * the files of the others are closed at its end. This is how the sampler reads unless told to
 * reopen every file each time (the slow way, kept to measure the difference). */

enum proc_file { STAT, STATUS, SCHEDSTAT, CHILDREN, PROC_FILES };
static const char *const proc_file_names[PROC_FILES] = {"stat", "status", "schedstat",
                                                        "children"};

struct open_files {
    pid_t pid;
    bool read_this_sample;
    int fd[PROC_FILES];               /* -1 until first needed */
    unsigned samples_to_full;         /* 0: its next sample is a full one */
    bool full_this_sample;
    bool sampled;                     /* a periodic sample of it was taken before */
    uint64_t cpu_ns_at_sample;        /* its CPU time at that sample */
    uint64_t cpu_ns_at_children;      /* its CPU time just before its children were listed */
    char *children;                   /* that list (NULL until read), in a buffer kept for it */
    size_t children_cap;
    bool list_reused;                 /* this sample took the list read before */
    bool switches_read;
    uint64_t cpu_ns_at_switches;      /* its CPU time just before its status was read */
    uint64_t voluntary, involuntary;  /* the context switches status said then */
};
static struct open_files *kept;
static size_t kept_count, kept_cap, kept_hint;
static bool reopen_files;
static long kept_fds;                 /* descriptors held open, across all processes */

/* Keeping files open spends descriptors: 4 per process. Past the process's limit (less a
 * reserve for everything else, the slow way included) a file is opened, read and closed. */
static bool may_keep_another(void)
{
    static long limit = -1;
    if (limit == -1) {
        struct rlimit r;
        limit = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY
                    ? (long)r.rlim_cur - 32 : 1 << 20;
    }
    return kept_fds < limit;
}

static void close_files(struct open_files *f)
{
    for (int k = 0; k < PROC_FILES; k++)
        if (f->fd[k] != -1) {
            close(f->fd[k]);
            kept_fds--;
        }
    free(f->children);
    *f = kept[--kept_count];             /* the last entry takes its place */
}

/* The tree is walked in the same order every sample, so the entry after the last one found is
 * usually the one wanted: a sample of n processes costs n lookups, not n * n / 2. */
static struct open_files *files_of(pid_t pid)
{
    for (size_t k = 0; k < kept_count; k++) {
        size_t i = (kept_hint + k) % kept_count;
        if (kept[i].pid == pid) {
            kept_hint = i + 1;
            return &kept[i];
        }
    }
    if (kept_count == kept_cap) {
        kept_cap = kept_cap ? 2 * kept_cap : 64;
        if (!(kept = realloc(kept, kept_cap * sizeof *kept)))
            die_errno("realloc");
    }
    struct open_files *f = &kept[kept_count++];
    memset(f, 0, sizeof *f);
    f->pid = pid;
    for (int k = 0; k < PROC_FILES; k++)
        f->fd[k] = -1;
    return f;
}

static void path_of(pid_t pid, enum proc_file which, char *path, size_t len)
{
    if (which == CHILDREN)
        snprintf(path, len, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    else
        snprintf(path, len, "/proc/%d/%s", (int)pid, proc_file_names[which]);
}

/* f: the process's kept files (none are kept while reopen_files is set). */
/* book:kept-open */
static ssize_t read_of(struct open_files *f, enum proc_file which, char *buf, size_t len)
{
    char path[64];
    if (f->fd[which] == -1)
        path_of(f->pid, which, path, sizeof path);
    f->read_this_sample = true;
    if (reopen_files || (f->fd[which] == -1 && !may_keep_another()))
        return read_proc_file(path, buf, len);
    if (f->fd[which] == -1) {
        if ((f->fd[which] = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
            close_files(f);              /* the process is gone */
            return -1;
        }
        kept_fds++;
    }
    ssize_t n;
    do
        n = pread(f->fd[which], buf, len - 1, 0);
    while (n == -1 && errno == EINTR);
    if (n < 0) {                         /* ESRCH: that process is gone (its pid may be */
        close_files(f);                  /* reused: the next read opens the new one's) */
        return -1;
    }
    buf[n] = '\0';
    return n;
}
/* end:kept-open */

/* Closes the files of every process the last sample did not read (it has ended). */
static void close_files_not_read(void)
{
    for (size_t i = kept_count; i-- > 0;) {
        if (!kept[i].read_this_sample)
            close_files(&kept[i]);
        else
            kept[i].read_this_sample = false;
    }
}

void sampler_close_files(void)
{
    while (kept_count > 0)
        close_files(&kept[kept_count - 1]);
}

void sampler_reopen_files(bool on)
{
    sampler_close_files();
    reopen_files = on;
}

/* A full sample reads every file; the others only those that change between two samples.
 * 0: every sample reads every file, even of a process that has not run (to measure the saving). */
static unsigned full_every = 1;

void sampler_full_every(unsigned samples)
{
    full_every = samples;
}

/* ---------- one process ---------- */

static uint64_t page_bytes(void)
{
    static uint64_t page;
    if (!page)
        page = (uint64_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* The kernel writes every field wanted here as unsigned decimal digits, fields one space
 * apart. So a scanner that knows only digits and spaces does: strtoull would also look for a
 * sign, a base, the locale's spaces and an overflow for each, and the fields not wanted need
 * no converting at all, only skipping. */

/* The number at *p, and *p moved past it and the one character after it. */
static uint64_t next_number(const char **p)
{
    const char *c = *p;
    uint64_t v = 0;
    while (*c >= '0' && *c <= '9')
        v = v * 10 + (uint64_t)(*c++ - '0');
    *p = *c ? c + 1 : c;
    return v;
}

/* *p moved past `fields` fields, whatever they hold (some are negative: nice, tpgid). */
static void skip_fields(const char **p, int fields)
{
    const char *c = *p;
    while (fields > 0 && *c)
        fields -= *c++ == ' ';
    *p = c;
}

/* /proc/PID/stat: "pid (comm) state ppid ...". comm may hold spaces and ')', so the fields are
 * counted from the last ')'. Field numbers are the ones proc(5) uses. */
/* book:stat */
static bool parse_stat(const char *text, struct proc_sample *s)
{
    const char *open = strchr(text, '('), *close = strrchr(text, ')');
    if (!open || !close || close < open || close[1] != ' ' || !close[2])
        return false;
    size_t len = (size_t)(close - open - 1);
    if (len >= sizeof s->comm)
        len = sizeof s->comm - 1;
    memcpy(s->comm, open + 1, len);
    s->comm[len] = '\0';
    const char *p = close + 2;
    s->state = *p;                                   /* 3 */
    skip_fields(&p, 1);
    s->ppid = (pid_t)next_number(&p);                /* 4 */
    skip_fields(&p, 9);                              /* 5 .. 13 */
    s->user_ticks = next_number(&p);                 /* 14 utime */
    s->system_ticks = next_number(&p);               /* 15 stime */
    s->reaped_children_ticks = next_number(&p);      /* 16 cutime */
    s->reaped_children_ticks += next_number(&p);     /* 17 cstime */
    skip_fields(&p, 2);                              /* 18 priority, 19 nice */
    s->threads = (int)next_number(&p);               /* 20 */
    skip_fields(&p, 1);
    s->start_ticks = next_number(&p);                /* 22 */
    skip_fields(&p, 1);
    s->rss_bytes = next_number(&p) * page_bytes();   /* 24, in pages */
    skip_fields(&p, 14);                             /* 25 .. 38 */
    s->cpu = (int)next_number(&p);                   /* 39 processor */
    return true;
}
/* end:stat */

/* /proc/PID/status: one "Key:\tvalue" per line; only two of its ~55 lines are wanted, and the
 * kernel writes them one after the other. */
static void parse_status(const char *text, struct proc_sample *s)
{
    const char *p = strstr(text, "\nvoluntary_ctxt_switches:\t");
    if (!p)
        return;
    p += 26;
    s->voluntary_switches = next_number(&p);
    if (strncmp(p, "nonvoluntary_ctxt_switches:\t", 28) == 0) {
        p += 28;
        s->involuntary_switches = next_number(&p);
    }
}

long clock_ticks_per_second(void)
{
    static long hz;
    if (!hz)
        hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    return hz;
}

/* A process with one thread, not runnable now, whose CPU time has not moved since it was
 * cpu_ns_then, has not run since: the kernel adds to that time at every switch away from a
 * task, so it has made no system call (no fork) and no context switch since. */
static bool idle_since(const struct proc_sample *s, uint64_t cpu_ns_then)
{
    return s->threads <= 1 && s->state != 'R' && have_schedstat() && s->cpu_ns == cpu_ns_then;
}

/* The context switches, from status: the only thing stat and schedstat lack, and as dear as
 * both together (~1.4 KiB of text). Not read again for a process idle since the last read
 * (unless forced): its switches cannot have moved. */
static bool read_switches(struct open_files *f, struct proc_sample *s, bool force)
{
    if (force || !f->switches_read || !idle_since(s, f->cpu_ns_at_switches)) {
        char buf[4096];
        if (read_of(f, STATUS, buf, sizeof buf) < 0)
            return false;
        parse_status(buf, s);
        f->switches_read = true;
        f->cpu_ns_at_switches = s->cpu_ns;   /* read before status: any later run shows */
        f->voluntary = s->voluntary_switches;
        f->involuntary = s->involuntary_switches;
    }
    s->voluntary_switches = f->voluntary;
    s->involuntary_switches = f->involuntary;
    s->has_switches = true;
    return true;
}

/* false when the process is gone (it may end between any two reads: then the sample is
 * incomplete and is dropped, as if the process had ended just before).
 * full: the context switches too (a periodic sample asks every full_every-th time only, and
 * says so: has_switches); force: read every file, whatever the process did. */
/* book:sample-process */
static bool sample_files(struct open_files *f, bool full, bool force, struct proc_sample *s)
{
    char buf[4096];
    memset(s, 0, sizeof *s);
    s->pid = f->pid;
    if (read_of(f, STAT, buf, sizeof buf) < 0 || !parse_stat(buf, s))
        return false;
    s->read_ns = now_ns();               /* its own time: a sample of many takes a while; */
    const char *p = buf;                 /* taken first, the CPU read can only be later */
    if (read_of(f, SCHEDSTAT, buf, sizeof buf) >= 0) {
        s->cpu_ns = next_number(&p);                      /* "on_cpu_ns waiting_ns slices" */
        s->run_delay_ns = next_number(&p);
    } else if (have_schedstat()) {
        return false;                    /* gone between two reads */
    }
    /* schedstat is the main thread's alone; stat's ticks (10 ms grain) count every thread */
    if (s->threads > 1 || s->cpu_ns == 0)
        s->cpu_ns = (s->user_ticks + s->system_ticks) * (1000000000u / clock_ticks_per_second());
    return !full || read_switches(f, s, force);
}
/* end:sample-process */

/* Every file, now (a process's last look before it is reaped, say). */
bool sample_process(pid_t pid, struct proc_sample *s)
{
    return sample_files(files_of(pid), true, true, s);
}

bool have_schedstat(void)
{
    static int have = -1;
    char buf[128];
    if (have == -1)
        have = read_proc_file("/proc/self/schedstat", buf, sizeof buf) > 0;
    return have;
}

/* ---------- the tree: every descendant of root ----------
 * /proc/PID/task/PID/children lists the live children of a process's main thread (the kit's
 * processes and most programs fork from it). A breadth-first walk from root finds every
 * descendant alive at this instant; root itself is not included.
 * A children list changes only when some process of the tree runs: a process gains a child by
 * forking and loses one by waiting for it (system calls it makes), and a subreaper is handed
 * the orphans of a process that ends below it (ending is something that process does). So:
 *   - a process idle since its children were listed has the same children, or fewer: the
 *     list read then is used again, and a pid in it counts only while that process is still
 *     its parent;
 *   - a sample that finds every process as idle as at the previous one, none new and none
 *     gone (the tree has not moved), has found every list as it is: it is done;
 *   - a sample that finds the tree moved reads again the lists it took from before that can
 *     have changed without their process running: the root's (it is handed orphans, reaps,
 *     and is the caller) and, at their full samples, the others' (any may be a subreaper).
 * A tree that sleeps costs no list reads at all; a busy one, the lists of what ran. */

static bool tree_moved;              /* this sample found a process new, gone or not idle */
static bool root_starts_nothing;     /* the caller's promise (sampler_root_starts_nothing) */
static bool root_list_current;       /* the root's list was read since that promise */

void sampler_root_starts_nothing(bool promise)
{
    root_starts_nothing = promise;
    root_list_current = false;
}

/* One sample of the tree's: every full_every-th of a process is a full one. */
static bool sample_periodic(pid_t pid, struct proc_sample *s)
{
    struct open_files *f = files_of(pid);
    bool every_file = full_every == 0;
    f->full_this_sample = every_file || f->samples_to_full == 0;
    if (!every_file)
        f->samples_to_full = f->full_this_sample ? full_every - 1 : f->samples_to_full - 1;
    if (!sample_files(f, f->full_this_sample, every_file, s)) {
        tree_moved = true;               /* gone (and its files closed: f is not its own) */
        return false;
    }
    if (!f->sampled || !idle_since(s, f->cpu_ns_at_sample))
        tree_moved = true;
    f->sampled = true;
    f->cpu_ns_at_sample = s->cpu_ns;
    return true;
}

/* The children of f's process as text: the list read before if `reuse` allows, else read now
 * (cpu_ns: its CPU time just before) into the buffer kept for it. *reused says which. */
static const char *children_of(struct open_files *f, bool reuse, uint64_t cpu_ns, bool *reused)
{
    f->read_this_sample = true;
    *reused = f->list_reused = reuse && f->children && full_every != 0;
    if (*reused)
        return f->children;
    f->cpu_ns_at_children = cpu_ns;
    for (;;) {
        if (!f->children) {
            f->children_cap = 256;
            if (!(f->children = malloc(f->children_cap)))
                die_errno("malloc");
        }
        ssize_t n = read_of(f, CHILDREN, f->children, f->children_cap);
        if (n < 0)
            return "";                   /* gone: its files are closed */
        if ((size_t)n + 1 < f->children_cap)
            return f->children;
        f->children_cap *= 2;            /* the list filled the buffer: it may go on */
        if (!(f->children = realloc(f->children, f->children_cap)))
            die_errno("realloc");
    }
}

static bool is_among(pid_t pid, const struct proc_sample *out, size_t count)
{
    for (size_t i = count; i-- > 0;)
        if (out[i].pid == pid)
            return true;
    return false;
}

/* Samples the processes `list` names (children of `parent`) into out[count..max) and returns
 * the new count; known: skip those out[] already holds. */
static size_t sample_listed(pid_t parent, const char *list, bool reused, bool known,
                            struct proc_sample *out, size_t count, size_t max)
{
    for (const char *p = list; *p && count < max;) {
        pid_t pid = (pid_t)next_number(&p);
        if (pid == 0)
            break;
        if ((known && is_among(pid, out, count)) || !sample_periodic(pid, &out[count]))
            continue;
        if (reused && out[count].ppid != parent)
            tree_moved = true;           /* no longer its child: found again where it is now */
        else
            count++;
    }
    return count;
}

/* Breadth first: the children of out[next], out[next + 1], ..., and of each one found. */
static size_t sample_below(size_t next, struct proc_sample *out, size_t count, size_t max)
{
    for (; next < count; next++) {
        struct open_files *f = files_of(out[next].pid);
        bool reused;
        const char *list = children_of(f, idle_since(&out[next], f->cpu_ns_at_children),
                                       out[next].cpu_ns, &reused);
        count = sample_listed(out[next].pid, list, reused, false, out, count, max);
    }
    return count;
}

/* book:tree */
/* The tree moved: the reused lists that can have changed without their process running are
 * read again, and what they name that this sample has not found yet is sampled, with every
 * process below it. */
static size_t list_again(pid_t root, struct proc_sample *out, size_t count, size_t max)
{
    size_t found = count;
    bool reused;
    struct open_files *f = files_of(root);
    if (f->list_reused)
        count = sample_listed(root, children_of(f, false, 0, &reused), false, true, out, count,
                              max);
    for (size_t i = 0; i < found; i++) {
        f = files_of(out[i].pid);
        if (f->list_reused && f->full_this_sample)
            count = sample_listed(out[i].pid, children_of(f, false, out[i].cpu_ns, &reused),
                                  false, true, out, count, max);
    }
    return sample_below(found, out, count, max);
}

size_t sample_tree(pid_t root, struct proc_sample *out, size_t max)
{
    tree_moved = false;
    bool reused;
    const char *list = children_of(files_of(root), root_starts_nothing && root_list_current, 0,
                                   &reused);
    root_list_current = true;
    size_t count = sample_listed(root, list, reused, false, out, 0, max);
    count = sample_below(0, out, count, max);
    if (tree_moved)
        count = list_again(root, out, count, max);
    close_files_not_read();
    return count;
}
/* end:tree */

/* ---------- the whole machine ----------
 * Read when a watch starts and when it ends: the summary needs the difference, not a series. */

void sample_system(struct system_sample *s)
{
    char buf[4096];
    memset(s, 0, sizeof *s);
    unsigned long long t[8] = {0};
    if (read_proc_file("/proc/stat", buf, sizeof buf) > 0 &&
        sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1], &t[2], &t[3],
               &t[4], &t[5], &t[6], &t[7]) == 8) {
        for (int i = 0; i < 8; i++)
            s->total_ticks += t[i];
        s->busy_ticks = s->total_ticks - t[3] - t[4];     /* minus idle and iowait */
    }
    /* "some avg10=.. avg60=.. avg300=.. total=US": total is the time, since boot, during
     * which at least one runnable task was waiting for a CPU */
    const char *total;
    if (read_proc_file("/proc/pressure/cpu", buf, sizeof buf) > 0 &&
        (total = strstr(buf, "total=")) != NULL) {
        s->has_pressure = true;
        s->pressure_some_us = strtoull(total + 6, NULL, 10);
    }
    s->read_ns = now_ns();
}
