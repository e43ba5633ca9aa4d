/* spawn.c - the ways to start a process, and what each one costs (chapter 1's mechanism).
 *
 * Read this file first; main.c times these functions and prints the tables.
 *   fork        a copy of the parent: its page tables are copied, its pages shared
 *               copy-on-write, so the cost grows with the parent's memory
 *   vfork       the child borrows the parent's memory until it calls _exit or exec: nothing
 *               is copied, the parent sleeps meanwhile
 *   posix_spawn start a new program in one call (glibc does it with a vfork-like clone)
 *   fork+exec   the classic two steps: a copy, then the copy replaced by a new program
 *   thread      a new flow of control in the same process: no new address space at all
 * then the cost of copy-on-write (a child writing every page it shares), a batch of children
 * started one at a time or all at once, and one job split across P processes.
 *
 * What to look for: every child's exit status carries a value the parent checks (the call
 * number, or which of /bin/true and /bin/false ran), so a child that did not run is caught;
 * every child is tracked and reaped, and a child that died is named (which one, which signal,
 * what it was doing) before the run stops.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "bench.h"
#include "spawn.h"

extern char **environ;

/* A child killed by a signal stops the run; one that exited with the wrong value gave a wrong
 * answer. */
static void check_child(const char *who, long index, pid_t pid, int status, int expected)
{
    if (!WIFEXITED(status))
        die_child(who, (int)index, pid, status, "%s", "");
    if (WEXITSTATUS(status) != expected)
        verification_failed("%s %ld (pid %d): exit status %d, expected %d", who, index, (int)pid,
                            WEXITSTATUS(status), expected);
}

/* ---------- one process: five ways to start it ---------- */

/* book:fork-and-reap */
void fork_and_reap(long op)
{
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0)
        _exit(op & 0x7f);       /* the child: a copy of us, gone at once */
    track_child(pid);
    check_child("fork child", op, pid, reap_child(pid), op & 0x7f);
}
/* end:fork-and-reap */

void vfork_and_reap(long op)
{
    /* The child borrows our memory and we sleep until it calls _exit: nothing is
     * copied, not even page tables. All it may do is _exit or exec. */
    pid_t pid = vfork();
    if (pid == -1)
        die_errno("vfork");
    if (pid == 0)
        _exit(op & 0x7f);
    track_child(pid);
    check_child("vfork child", op, pid, reap_child(pid), op & 0x7f);
}

/* Alternating /bin/true and /bin/false lets the exit status prove which one ran. */
static const char *true_or_false(long op) { return op % 2 ? "/bin/false" : "/bin/true"; }

void spawn_and_reap(long op)
{
    const char *path = true_or_false(op);
    char *argv[] = {(char *)path, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, path, NULL, NULL, argv, environ);
    if (err)
        die_err(err, "posix_spawn");
    track_child(pid);
    check_child("posix_spawn child", op, pid, reap_child(pid), (int)(op % 2));
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
    check_child("fork+exec child", op, pid, reap_child(pid), (int)(op % 2));
}

static void *thread_body(void *arg) { return (void *)((intptr_t)arg + 1); }

static void thread_and_join(long op)
{
    pthread_t thread;
    void *result;
    int err = pthread_create(&thread, NULL, thread_body, (void *)(intptr_t)op);
    if (err)
        die_err(err, "pthread_create");
    if ((err = pthread_join(thread, &result)) != 0)
        die_err(err, "pthread_join");
    if ((intptr_t)result != op + 1)
        verification_failed("thread: returned %ld, expected %ld", (long)(intptr_t)result, op + 1);
}

const struct method methods[] = {
    {"fork", fork_and_reap},
    {"vfork", vfork_and_reap},
    {"posix_spawn", spawn_and_reap},
    {"fork+exec", fork_exec_and_reap},
    {"thread", thread_and_join},
};
const int method_count = sizeof methods / sizeof methods[0];

/* ---------- the parent's memory: page tables and copy-on-write ---------- */

static const unsigned char PAGE_MARK = 0xa5;

unsigned char *touched_memory(size_t bytes)
{
    unsigned char *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        die_errno("mmap");
    /* Counted in base pages whatever the machine's transparent-huge-page setting. */
    madvise(memory, bytes, MADV_NOHUGEPAGE);
    memset(memory, PAGE_MARK, bytes);       /* every page present: fork copies its entry */
    return memory;
}

/* The child writes one byte into each page: every write is a copy-on-write fault that copies
 * one 4 KiB page. It first checks it sees the parent's data. */
void fork_write_and_reap(unsigned char *memory, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    pid_t parent = getpid(), pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        become_child(parent, PIN_NONE, 0);     /* writing 1 GiB takes a while: not orphaned */
        int wrong = 0;
        for (size_t off = 0; off < bytes; off += page) {
            wrong |= memory[off] != PAGE_MARK;
            memory[off] = (unsigned char)~PAGE_MARK;
        }
        _exit(wrong);
    }
    track_child(pid);
    int status = reap_child(pid);
    if (!WIFEXITED(status))
        die_child("fork+write child", 0, pid, status, "while writing every page");
    if (WEXITSTATUS(status) != 0)
        verification_failed("fork+write: the child did not see the parent's pages");
}

/* The child's writes went to its own copies: the parent's pages are as it left them. */
void check_parent_pages(const unsigned char *memory, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < bytes; off += page)
        if (memory[off] != PAGE_MARK)
            verification_failed("rss: the child's write reached the parent's page at offset %zu",
                                off);
}

void release_memory(unsigned char *memory, size_t bytes)
{
    if (munmap(memory, bytes) == -1)
        die_errno("munmap");
}

/* ---------- a batch of children ---------- */

/* The small task every batch child does: 50,000 rounds of arithmetic (about 100 us at about
 * 2 ns a round) with a checkable answer. */
int small_task(long k)
{
    return (int)(spin(50000 + (uint64_t)k) & 0x7f);
}

static int batch_child(int k, void *arg)
{
    const struct batch *b = arg;
    if (k == b->kill_child)
        raise(SIGKILL);                     /* test switch: a child that dies */
    return small_task(k);
}

static void check_batch_child(const struct batch *b, long k, pid_t pid, int status)
{
    if (!WIFEXITED(status))
        die_child("batch child", (int)k, pid, status, "while running task %ld (N = %ld, %s)", k,
                  b->children, b->all_at_once ? "all at once" : "one at a time");
    check_child("batch child", k, pid, status, b->expected[k]);
}

/* book:batch */
void run_batch(const struct batch *b)
{
    pid_t pids[BATCH_MAX];
    if (b->all_at_once) {
        for (long k = 0; k < b->children; k++)
            pids[k] = start_worker((int)k, PIN_NONE, batch_child, (void *)b);
        for (long k = 0; k < b->children; k++)
            check_batch_child(b, k, pids[k], reap_child(pids[k]));
    } else {
        for (long k = 0; k < b->children; k++) {
            pids[k] = start_worker((int)k, PIN_NONE, batch_child, (void *)b);
            check_batch_child(b, k, pids[k], reap_child(pids[k]));
        }
    }
}
/* end:batch */

/* ---------- one job split across P processes ---------- */

/* The job: sum of mix64(i) over [begin, end), exact in 64-bit (mod 2^64) whatever the split. */
uint64_t sum_range(uint64_t begin, uint64_t end)
{
    uint64_t sum = 0;
    for (uint64_t i = begin; i < end; i++)
        sum += mix64(i);
    return sum;
}

struct split {
    int procs;
    uint64_t total;
    int results_fd;             /* each worker writes its partial sum here */
};

struct partial {
    int worker;
    uint64_t sum;
};

static int sum_worker(int w, void *arg)
{
    const struct split *s = arg;
    struct partial p = {w, sum_range(s->total * (uint64_t)w / (uint64_t)s->procs,
                                     s->total * (uint64_t)(w + 1) / (uint64_t)s->procs)};
    return write_full(s->results_fd, &p, sizeof p) ? 0 : 1;    /* < PIPE_BUF: atomic */
}

/* book:speedup */
uint64_t split_sum(int procs, uint64_t total, enum kit_pin pin)
{
    int fds[2];
    pid_t pids[procs];
    if (pipe(fds) == -1)
        die_errno("pipe");
    struct split s = {procs, total, fds[1]};
    for (int w = 0; w < procs; w++)
        pids[w] = start_worker(w, pin, sum_worker, &s);
    /* Reap each worker as it ends: one that died stops the run at once, named, instead of
     * leaving the parent waiting for a result that will never come. The partials wait in
     * the pipe (16 bytes each, far below its capacity). */
    for (int left = procs; left > 0; left--) {
        int status, w = 0;
        pid_t pid = reap_any(&status);
        while (w < procs && pids[w] != pid)
            w++;
        if (!ended_ok(status))
            die_child("speedup worker", w, pid, status, "while summing its share %d of %d",
                      w + 1, procs);
    }
    uint64_t sum = 0;
    for (int w = 0; w < procs; w++) {
        struct partial p;
        if (read_full(fds[0], &p, sizeof p) != sizeof p)
            die("speedup: worker results missing (%d of %d read)", w, procs);
        sum += p.sum;
    }
    close(fds[0]);
    close(fds[1]);
    return sum;
}
/* end:speedup */
