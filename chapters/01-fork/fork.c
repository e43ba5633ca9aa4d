/* ch01-fork - what does starting a process cost, and why?
 *
 * Four experiments, each its own TSV file and --only name:
 *   methods  create one process (or thread), let it finish, reap it: fork, vfork,
 *            posix_spawn of /bin/true, fork + execve of /bin/true, pthread_create
 *   batch    N = 1..32 children doing the same small task, started one at a time
 *            (start, wait, next) or all at once (start all, then wait for all)
 *   rss      fork, vfork and posix_spawn latency as the parent's touched memory grows,
 *            and the copy-on-write cost when the child then writes every page
 *   speedup  one fixed CPU-bound job split across 1..2 x CPUs processes
 *
 * Usage: ch01-fork [--quick | --full] [--only EXPERIMENT] [--max-rss SIZE]
 *                  [--trials N] [--workers N] [--pin none|same|spread] [--out DIR]
 * Linux only (vfork, sched_setaffinity, /proc/meminfo).
 * Exit: 0 ok, 1 runtime or verification failure, 2 usage error.
 *
 * Sample output line (methods):
 *   fork             78.4     71.9    120.3  us
 * What to look for: fork costs tens of microseconds and grows with the parent's
 * memory (its page tables are copied); vfork and posix_spawn stay flat; exec adds
 * the cost of loading a program; a thread is several times cheaper than a process.
 *
 * Verification: every child's exit status carries a value the parent checks (the
 * op number, or which of /bin/true and /bin/false ran); every child started is
 * reaped; a child that wrote every page of its copy-on-write memory must leave the
 * parent's copy untouched; the speedup partial sums must add up to the sequential sum.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "cli.h"
#include "bench.h"

extern char **environ;

static const char usage[] =
    "Usage: ch01-fork [--quick | --full] [--only methods|batch|rss|speedup] [--max-rss SIZE]\n"
    "                 [--trials N] [--workers N] [--pin none|same|spread] [--out DIR]\n"
    "What does starting a process cost, and why? (Linux only)\n"
    "  --max-rss SIZE   largest parent memory in the rss experiment (1M to half the free memory;\n"
    "                   default 16M quick, 256M default, 1G full)\n"
    "  --workers N      the speedup experiment runs 1..2N processes (default N = online CPUs)\n"
    "Writes results/ch01-{methods,batch,rss,speedup}.tsv.\n";

static const char *const experiments[] = {"methods", "batch", "rss", "speedup"};

static void expect_exit(int status, int expected, const char *what)
{
    if (WIFSIGNALED(status))
        die("%s: child killed by signal %d (%s)", what, WTERMSIG(status), strsignal(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != expected)
        verification_failed("%s: child exit status %d, expected %d", what, WEXITSTATUS(status), expected);
}

/* ---------- experiment 1: methods ----------
 * Each function starts one process or thread, lets it finish, reaps it, and checks
 * the value it returned. `op` numbers the call so every exit status differs. */

/* book:fork-and-reap */
static void fork_and_reap(long op)
{
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0)
        _exit(op & 0x7f);       /* the child: a copy of us, gone at once */
    track_child(pid);
    expect_exit(reap_child(pid), op & 0x7f, "fork");
}
/* end:fork-and-reap */

static void vfork_and_reap(long op)
{
    /* The child borrows our memory and we sleep until it calls _exit: nothing is
     * copied, not even page tables. All it may do is _exit or exec. */
    pid_t pid = vfork();
    if (pid == -1)
        die_errno("vfork");
    if (pid == 0)
        _exit(op & 0x7f);
    track_child(pid);
    expect_exit(reap_child(pid), op & 0x7f, "vfork");
}

/* Alternating /bin/true and /bin/false lets the exit status prove which one ran. */
static const char *true_or_false(long op) { return op % 2 ? "/bin/false" : "/bin/true"; }

static void spawn_and_reap(long op)
{
    const char *path = true_or_false(op);
    char *argv[] = {(char *)path, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, path, NULL, NULL, argv, environ);
    if (err) {
        errno = err;
        die_errno("posix_spawn");
    }
    track_child(pid);
    expect_exit(reap_child(pid), (int)(op % 2), "posix_spawn");
}

static void fork_exec_and_reap(long op)
{
    const char *path = true_or_false(op);
    char *argv[] = {(char *)path, NULL};
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        execve(path, argv, environ);
        _exit(127);             /* exec failed: the parent sees 127, not 0 or 1 */
    }
    track_child(pid);
    expect_exit(reap_child(pid), (int)(op % 2), "fork+exec");
}

static void *thread_body(void *arg) { return (void *)((intptr_t)arg + 1); }

static void thread_and_join(long op)
{
    pthread_t thread;
    void *result;
    int err = pthread_create(&thread, NULL, thread_body, (void *)(intptr_t)op);
    if (err) {
        errno = err;
        die_errno("pthread_create");
    }
    if ((err = pthread_join(thread, &result)) != 0) {
        errno = err;
        die_errno("pthread_join");
    }
    if ((intptr_t)result != op + 1)
        verification_failed("thread: returned %ld, expected %ld", (long)(intptr_t)result, op + 1);
}

static const struct method {
    const char *name;
    void (*start_and_reap)(long op);
    const char *what;
} methods[] = {
    {"fork", fork_and_reap, "fork + _exit + waitpid"},
    {"vfork", vfork_and_reap, "vfork + _exit + waitpid"},
    {"posix_spawn", spawn_and_reap, "posix_spawn /bin/true + waitpid"},
    {"fork+exec", fork_exec_and_reap, "fork + execve /bin/true + waitpid"},
    {"thread", thread_and_join, "pthread_create + pthread_join"},
};
enum { METHOD_COUNT = sizeof methods / sizeof methods[0] };

struct method_trial {
    const struct method *method;
    long ops;
};

/* lmbench-style: a trial is `ops` back-to-back calls; the sample is the mean per call. */
static double time_method(void *ctx)
{
    struct method_trial *t = ctx;
    uint64_t start = now_ns();
    for (long op = 0; op < t->ops; op++)
        t->method->start_and_reap(op);
    return (double)(now_ns() - start) / (double)t->ops / 1e3;
}

static void print_row(const char *name, const char *x, struct stats s, const char *unit)
{
    printf("  %-14s %8s %10.1f %10.1f %10.1f  %-4s%s\n", name, x, s.median, s.min, s.max, unit,
           is_noisy(s) ? "  noisy" : "");
}

static void print_heading(const char *x_name)
{
    printf("  %-14s %8s %10s %10s %10s  %s\n", "variant", x_name, "median", "min", "max", "unit");
}

static void run_methods(struct kit_opts *o)
{
    long trials = o->trials ? o->trials : by_mode(o, 5, 15, 30);
    long ops = by_mode(o, 20, 100, 400);
    struct stats results[METHOD_COUNT];
    FILE *tsv = tsv_open(o, "methods", "none");

    printf("\nmethods: start one process or thread, let it finish, reap it (%ld trials x %ld each)\n",
           trials, ops);
    print_heading("");
    for (int m = 0; m < METHOD_COUNT; m++) {
        struct method_trial t = {&methods[m], ops};
        results[m] = measure(time_method, &t, trials);
        print_row(methods[m].name, "", results[m], "us");
        tsv_row(tsv, methods[m].name, 0, "us", results[m]);
    }
    tsv_close(tsv);
    printf("  -> a process costs %.0f us to fork and reap, %.1fx that to run a new program "
           "(fork+exec), %.1fx a thread's %.0f us;\n     vfork skips copying the page tables "
           "(%.0f us), posix_spawn uses it under the hood (%.0f us).\n",
           results[0].median, results[3].median / results[0].median,
           results[0].median / results[4].median, results[4].median,
           results[1].median, results[2].median);
}

/* ---------- experiment 2: batch ---------- */

/* The small task every batch child does: ~50 us of arithmetic with a checkable answer. */
static int small_task(long k)
{
    return (int)(spin(50000 + (uint64_t)k) & 0x7f);
}

struct batch_trial {
    long children;
    bool all_at_once;
    const int *expected;     /* small_task(k) for each child, computed untimed */
};

static pid_t start_task_child(long k)
{
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a killed parent */
        _exit(small_task(k));
    }
    track_child(pid);
    return pid;
}

/* book:batch */
static double time_batch(void *ctx)
{
    struct batch_trial *t = ctx;
    pid_t pids[64];
    uint64_t start = now_ns();
    if (t->all_at_once) {
        for (long k = 0; k < t->children; k++)
            pids[k] = start_task_child(k);
        for (long k = 0; k < t->children; k++)
            expect_exit(reap_child(pids[k]), t->expected[k], "batch");
    } else {
        for (long k = 0; k < t->children; k++)
            expect_exit(reap_child(start_task_child(k)), t->expected[k], "batch");
    }
    return (double)(now_ns() - start) / 1e3;
}
/* end:batch */

static void run_batch(struct kit_opts *o)
{
    static const long sizes[] = {1, 2, 4, 8, 16, 32};
    long trials = o->trials ? o->trials : by_mode(o, 3, 15, 30);
    int expected[32];
    FILE *tsv = tsv_open(o, "batch", "children");

    for (long k = 0; k < 32; k++)
        expected[k] = small_task(k);
    printf("\nbatch: N children each doing a ~50 us task; total time (%ld trials)\n", trials);
    printf("  %-14s %8s %10s %10s %10s  %-4s %14s\n", "variant", "N", "median", "min", "max", "unit",
           "per process");
    struct stats last_one = {0}, last_all = {0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int all = 0; all <= 1; all++) {
            const char *name = all ? "all-at-once" : "one-at-a-time";
            struct batch_trial t = {sizes[i], all, expected};
            struct stats s = measure(time_batch, &t, trials);
            char n[16];
            snprintf(n, sizeof n, "%ld", sizes[i]);
            printf("  %-14s %8s %10.1f %10.1f %10.1f  %-4s %11.1f us%s\n", name, n, s.median, s.min,
                   s.max, "us", s.median / (double)sizes[i], is_noisy(s) ? "  noisy" : "");
            tsv_row(tsv, name, (double)sizes[i], "us", s);
            *(all ? &last_all : &last_one) = s;
        }
    }
    tsv_close(tsv);
    printf("  -> 32 children: %.1f ms one at a time, %.1f ms all at once (%.2fx faster with %.2f "
           "effective CPUs):\n     starting them all first lets the tasks overlap; each start still "
           "costs the parent its fork.\n",
           last_one.median / 1e3, last_all.median / 1e3, last_one.median / last_all.median,
           o->effective_cpus);
}

/* ---------- experiment 3: rss ---------- */

static const unsigned char PAGE_MARK = 0xa5;

/* The child writes one byte into each page: every write is a copy-on-write fault
 * that copies one 4 KiB page. It first checks it sees the parent's data. */
static void fork_write_and_reap(unsigned char *memory, size_t bytes, size_t page)
{
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        int wrong = 0;
        for (size_t off = 0; off < bytes; off += page) {
            wrong |= memory[off] != PAGE_MARK;
            memory[off] = (unsigned char)~PAGE_MARK;
        }
        _exit(wrong);
    }
    track_child(pid);
    expect_exit(reap_child(pid), 0, "fork+write (child saw the parent's pages)");
}

enum rss_variant { RSS_FORK, RSS_VFORK, RSS_SPAWN, RSS_FORK_WRITE, RSS_VARIANTS };
static const char *const rss_names[] = {"fork", "vfork", "posix_spawn", "fork+write"};

struct rss_trial {
    enum rss_variant variant;
    unsigned char *memory;
    size_t bytes, page;
    long ops;
};

static double time_rss(void *ctx)
{
    struct rss_trial *t = ctx;
    uint64_t start = now_ns();
    for (long op = 0; op < t->ops; op++) {
        switch (t->variant) {
        case RSS_FORK: fork_and_reap(op); break;
        case RSS_VFORK: vfork_and_reap(op); break;
        case RSS_SPAWN: spawn_and_reap(op); break;
        default: fork_write_and_reap(t->memory, t->bytes, t->page); break;
        }
    }
    return (double)(now_ns() - start) / (double)t->ops / 1e3;
}

static void run_rss(struct kit_opts *o, unsigned long long max_rss)
{
    long trials = o->trials ? o->trials : by_mode(o, 3, 7, 11);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    FILE *tsv = tsv_open(o, "rss", "parent_mib");
    struct stats first[RSS_VARIANTS] = {{0}}, last[RSS_VARIANTS] = {{0}};
    double per_page_ns = 0;

    printf("\nrss: start and reap one process while the parent has touched SIZE of memory "
           "(%ld trials)\n", trials);
    print_heading("MiB");
    unsigned long long sizes[24];
    int size_count = 0;
    for (unsigned long long bytes = 1 << 20; bytes < max_rss; bytes *= 4)
        sizes[size_count++] = bytes;
    sizes[size_count++] = max_rss;           /* 1M, 4M, 16M, ... up to --max-rss */

    for (int i = 0; i < size_count; i++) {
        size_t bytes = sizes[i];
        unsigned char *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED)
            die_errno("mmap");
        /* Counted in base pages whatever the machine's transparent-huge-page setting. */
        madvise(memory, bytes, MADV_NOHUGEPAGE);
        memset(memory, PAGE_MARK, bytes);
        double mib = (double)bytes / (1 << 20);
        char x[16];
        snprintf(x, sizeof x, "%g", mib);
        struct stats s[RSS_VARIANTS];
        for (int v = 0; v < RSS_VARIANTS; v++) {
            long ops = (long)((16ull << 20) / bytes);
            struct rss_trial t = {v, memory, bytes, page, ops < 1 ? 1 : ops > 16 ? 16 : ops};
            s[v] = measure(time_rss, &t, trials);
            print_row(rss_names[v], x, s[v], "us");
            tsv_row(tsv, rss_names[v], mib, "us", s[v]);
        }
        for (size_t off = 0; off < bytes; off += page)
            if (memory[off] != PAGE_MARK)
                verification_failed("rss: the child's write reached the parent's page at offset %zu", off);
        per_page_ns = (s[RSS_FORK_WRITE].median - s[RSS_FORK].median) * 1e3 / (double)(bytes / page);
        printf("  %-14s %8s %10.2f %32s\n", "cow-per-page", x, per_page_ns, "ns per page written");
        if (i == 0)
            memcpy(first, s, sizeof s);
        memcpy(last, s, sizeof s);
        if (munmap(memory, bytes) == -1)
            die_errno("munmap");
    }
    tsv_close(tsv);
    char big[16];
    printf("  -> from 1 MiB to %s fork grows %.0fx (%.0f -> %.0f us: page tables are copied), "
           "vfork %.1fx, posix_spawn %.1fx;\n     writing a page after fork costs %.0f ns "
           "(a fault and a 4 KiB copy).\n",
           format_size(max_rss, big, sizeof big), last[RSS_FORK].median / first[RSS_FORK].median,
           first[RSS_FORK].median, last[RSS_FORK].median, last[RSS_VFORK].median / first[RSS_VFORK].median,
           last[RSS_SPAWN].median / first[RSS_SPAWN].median, per_page_ns);
}

/* ---------- experiment 4: speedup ---------- */

/* The job: sum of mix64(i) over [begin, end), exact in 64-bit (mod 2^64) whatever the split. */
static uint64_t sum_range(uint64_t begin, uint64_t end)
{
    uint64_t sum = 0;
    for (uint64_t i = begin; i < end; i++)
        sum += mix64(i);
    return sum;
}

struct partial {
    int worker;
    uint64_t sum;
};

struct speedup_trial {
    int procs;
    uint64_t total;
    uint64_t expected;
    enum kit_pin pin;
};

/* book:speedup */
static double time_split(void *ctx)
{
    struct speedup_trial *t = ctx;
    int fds[2];
    if (pipe(fds) == -1)
        die_errno("pipe");
    uint64_t start = now_ns();
    for (int w = 0; w < t->procs; w++) {
        pid_t pid = fork();
        if (pid == -1)
            die_errno("fork");
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (t->pin == PIN_SPREAD)
                pin_to_cpu(w);
            struct partial p = {w, sum_range(t->total * w / t->procs, t->total * (w + 1) / t->procs)};
            _exit(write(fds[1], &p, sizeof p) == sizeof p ? 0 : 1);  /* < PIPE_BUF: atomic */
        }
        track_child(pid);
    }
    uint64_t sum = 0;
    for (int w = 0; w < t->procs; w++) {
        struct partial p;
        ssize_t got;
        while ((got = read(fds[0], &p, sizeof p)) == -1 && errno == EINTR)
            exit_if_stopped();
        if (got != sizeof p)
            die("speedup: a worker sent no result (read returned %zd)", got);
        sum += p.sum;
    }
    while (child_count > 0)
        expect_exit(reap_child(children[0].pid), 0, "speedup worker");
    double elapsed = (double)(now_ns() - start) / 1e6;
    close(fds[0]);
    close(fds[1]);
    if (sum != t->expected)
        verification_failed("speedup with %d processes: sum %#llx, expected %#llx", t->procs,
                            (unsigned long long)sum, (unsigned long long)t->expected);
    return elapsed;
}
/* end:speedup */

static void run_speedup(struct kit_opts *o)
{
    long trials = o->trials ? o->trials : by_mode(o, 3, 5, 11);
    uint64_t total = (uint64_t)by_mode(o, 10000000, 150000000, 1000000000);
    int max_procs = (int)(2 * o->workers);
    FILE *tsv = tsv_open(o, "speedup", "processes");

    uint64_t start = now_ns();
    uint64_t expected = sum_range(0, total);
    double sequential_ms = (double)(now_ns() - start) / 1e6;
    printf("\nspeedup: sum of mix64(i) for %llu values split across P processes (%ld trials); "
           "in-process sequential: %.1f ms\n", (unsigned long long)total, trials, sequential_ms);
    printf("  %-14s %8s %10s %10s %10s  %-4s %9s %10s\n", "variant", "P", "median", "min", "max",
           "unit", "speedup", "efficiency");
    struct stats one = {0}, best = {0};
    int best_procs = 1;
    for (int procs = 1; procs <= max_procs; procs++) {
        if (o->mode != MODE_QUICK && procs > 1)
            progress("speedup: %d of %d process counts", procs, max_procs);
        struct speedup_trial t = {procs, total, expected, o->pin};
        struct stats s = measure(time_split, &t, trials);
        if (procs == 1)
            one = best = s;
        struct stats speedup = ratio_of(one, s);
        printf("  %-14s %8d %10.1f %10.1f %10.1f  %-4s %9.2f %10.2f%s\n", "wall", procs, s.median,
               s.min, s.max, "ms", speedup.median, speedup.median / procs, is_noisy(s) ? "  noisy" : "");
        tsv_row(tsv, "wall", procs, "ms", s);
        tsv_row(tsv, "speedup", procs, "x", speedup);
        if (s.median < best.median) {
            best = s;
            best_procs = procs;
        }
    }
    tsv_close(tsv);
    printf("  -> best speedup %.2fx with %d processes, against %.2f effective CPUs (%d online): "
           "past the CPUs more processes only share them.\n",
           one.median / best.median, best_procs, o->effective_cpus, online_cpus());
}

/* ---------- plumbing ---------- */

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch01-fork", usage, argc, argv);
    const char *max_rss_text = NULL;

    for (int i = 1; i < argc; i++) {
        if (kit_std_option(&o, argc, argv, &i))
            continue;
        if (is_opt(argv[i], "--max-rss"))
            max_rss_text = option_value(argc, argv, &i, "--max-rss");
        else
            die_usage("unknown option '%s'", argv[i]);
    }
    check_only(&o, experiments, sizeof experiments / sizeof experiments[0]);
    /* The parent's memory plus the child's copies of every page written. */
    unsigned long long limit = available_memory() / 2;
    unsigned long long max_rss = (unsigned long long)by_mode(&o, 16 << 20, 256 << 20, 1 << 30);
    if (max_rss_text)
        max_rss = parse_size("--max-rss", max_rss_text, 1 << 20, limit);
    else if (wanted(&o, "rss") && max_rss > limit)
        die("the rss experiment needs 2 x %llu MiB and only %llu MiB is available; pass a smaller --max-rss",
            max_rss >> 20, (limit * 2) >> 20);
    prepare_out_dir(&o);
    catch_stop_signals(kill_children);

    if (o.pin == PIN_SAME)
        pin_to_cpu(0);
    print_run_header(&o, "what does starting a process cost, and why?");
    printf("placement: %s\n", pin_name(o.pin));
    if (wanted(&o, "batch") || wanted(&o, "speedup"))
        report_effective_cpus(&o, (uint64_t)by_mode(&o, 2000000, 20000000, 50000000));
    fflush(stdout);   /* a forked child must not inherit unwritten output */

    if (wanted(&o, "methods"))
        run_methods(&o);
    if (wanted(&o, "batch"))
        run_batch(&o);
    if (wanted(&o, "rss"))
        run_rss(&o, max_rss);
    if (wanted(&o, "speedup"))
        run_speedup(&o);
    printf("\nverification: every child's exit status checked, every child reaped, sums exact.\n"
           "TSV files: %s/ch01-*.tsv\n", o.out_dir);
    return 0;
}
