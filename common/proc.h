/* proc.h - the processes a program starts: start, track, reap, kill, and say how one ended.
 *
 *   start_worker(i, pin, fn, arg)  fork a child that runs fn(i, arg) and _exits with its value;
 *                                  it dies with its parent, is placed by `pin`, and is tracked
 *   become_child(parent, pin, cpu) the same set-up for a child forked by hand (parent: getpid()
 *                                  before the fork)
 *   fork_flushed()                 fork() after flushing stdout; dies if fork fails
 *   find_in_path(name, path, len)  the program `name` in $PATH (path "" and false if absent)
 *   start_program(argv, in, out)   fork and exec argv (PATH searched) in a process group of its
 *                                  own, stdin/stdout from in/out (-1: inherited); dies with the
 *                                  parent; tracked as a group: killed with all it started
 *   track_child(pid), track_child_as(pid, group), forget_child(pid)   the table of children
 *   reap_child(pid)                waitpid for one child; its status
 *   reap_any(&status)              waitpid for whichever tracked child ends first
 *   kill_children()                SIGKILL and reap every tracked child (also at exit())
 *   ended_ok(status)               exited with status 0
 *   how_it_ended(status, buf, n)   "exited with status 3", "killed by signal 9 (Killed)"
 *   die_child(who, i, pid, status, fmt, ...)   kill the others and exit 1 with one sentence:
 *                                  "worker 2 (pid 4711) killed by signal 9 (Killed) while ..."
 *   read_full(fd, buf, n)          n bytes, fewer only at end of file; dies on an error
 *   pread_full(fd, buf, n, at)     the same from offset `at` (the file position is not moved)
 *   write_full(fd, buf, n)         n bytes, or false with errno set (EPIPE: the reader is gone)
 *   die_err(err, call)             a call that returns its error number (pthread_*, posix_spawn)
 *   map_shared_memory(name, bytes) memory a forked child shares: anonymous (name NULL), or a
 *                                  POSIX shm object whose name is removed as soon as it is open
 *   online_cpus(), pin_to_cpu(cpu)
 *
 * Include cli.h first (bench.h includes both). Needs _GNU_SOURCE (sched_setaffinity).
 */
#ifndef KIT_PROC_H
#define KIT_PROC_H

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "cli.h"

/* ---------- errors from calls that return an error number ---------- */

__attribute__((noreturn))
static inline void die_err(int err, const char *call)
{
    die("%s: %s", call, strerror(err));
}

/* ---------- memory shared with the children ---------- */

/* Zeroed, read-write, MAP_SHARED: a child forked after this sees the same pages. A named
 * object ("/ch03-ipc-4711-ring") loses its name before anything else can fail: this process
 * and its children use the mapping, so a killed program leaves no name behind. */
static inline void *map_shared_memory(const char *name, size_t bytes)
{
    int fd = -1;
    if (name) {
        if ((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) == -1)
            die("shm_open %s: %s", name, strerror(errno));
        if (shm_unlink(name) == -1)
            die("shm_unlink %s: %s", name, strerror(errno));
        if (ftruncate(fd, (off_t)bytes) == -1)
            die_errno("ftruncate");
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | (name ? 0 : MAP_ANONYMOUS), fd, 0);
    if (p == MAP_FAILED)
        die_errno("mmap");
    if (fd != -1 && close(fd) == -1)
        die_errno("close");
    return p;
}

/* ---------- placement ---------- */

static inline int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static inline void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % online_cpus(), &set);
    if (sched_setaffinity(0, sizeof set, &set) == -1)
        die_errno("sched_setaffinity");
}

/* ---------- the children this process started ----------
 * One table, so that a stop signal or a fatal error kills and reaps exactly the processes
 * this program started, never anyone else's. A child that leads a process group (xargs, a
 * shell) is killed with its whole group. A forked child inherits a copy of the table;
 * kill_children() does nothing there, the table is not its own. */

enum { MAX_CHILDREN = 4096 };
struct child {
    pid_t pid;
    bool group;
};
extern struct child children[MAX_CHILDREN];
extern int child_count;
extern pid_t children_owner;

static inline void kill_children(void)
{
    if (getpid() != children_owner)
        return;
    for (int i = 0; i < child_count; i++)
        kill(children[i].group ? -children[i].pid : children[i].pid, SIGKILL);
    for (int i = 0; i < child_count; i++)
        while (waitpid(children[i].pid, NULL, 0) == -1 && errno == EINTR)
            ;
    child_count = 0;
}

static inline void track_child_as(pid_t pid, bool group)
{
    if (getpid() != children_owner) {    /* the first child, or a table inherited by fork */
        children_owner = getpid();
        child_count = 0;
        add_kit_cleanup(kill_children);
    }
    if (child_count == MAX_CHILDREN)
        die("more than %d children at once", MAX_CHILDREN);
    children[child_count++] = (struct child){pid, group};
}

static inline void track_child(pid_t pid) { track_child_as(pid, false); }

static inline void forget_child(pid_t pid)
{
    for (int i = 0; i < child_count; i++) {
        if (children[i].pid == pid) {
            children[i] = children[--child_count];
            return;
        }
    }
}

/* waitpid for one tracked child (a stop signal in the wait stops the program); its status. */
static inline int reap_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR)
            die_errno("waitpid");
        exit_if_stopped();
    }
    forget_child(pid);
    return status;
}

/* Whichever child ends first: its pid, and its status in *status. */
static inline pid_t reap_any(int *status)
{
    pid_t pid;
    while ((pid = waitpid(-1, status, 0)) == -1) {
        if (errno != EINTR)
            die_errno("waitpid");
        exit_if_stopped();
    }
    forget_child(pid);
    return pid;
}

/* ---------- starting a child ---------- */

/* In a freshly forked child: die with the parent, let a stop signal simply end it, and run
 * where `pin` says. The parent may have died before PR_SET_PDEATHSIG took effect; then
 * getppid() already names another process and the child must not run on alone. */
static inline void become_child(pid_t parent, enum kit_pin pin, int cpu)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
        _exit(126);
    if (getppid() != parent)
        _exit(126);
    default_stop_signals();
    if (pin == PIN_SAME)
        pin_to_cpu(0);
    else if (pin == PIN_SPREAD)
        pin_to_cpu(cpu);
}

/* fork(), stdout flushed first: a child must not inherit (and print again) unwritten output. */
static inline pid_t fork_flushed(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    return pid;
}

typedef int (*worker_fn)(int index, void *arg);

/* fork a child that runs fn(index, arg) and _exit()s with what it returns; tracked. */
static inline pid_t start_worker(int index, enum kit_pin pin, worker_fn fn, void *arg)
{
    pid_t parent = getpid(), pid = fork_flushed();
    if (pid == 0) {
        become_child(parent, pin, index);
        _exit(fn(index, arg));
    }
    track_child(pid);
    return pid;
}

/* The first executable `name` in $PATH (or /usr/bin:/bin without one), into path. */
static inline bool find_in_path(const char *name, char *path, size_t len)
{
    const char *dirs = getenv("PATH");
    if (!dirs || !*dirs)
        dirs = "/usr/bin:/bin";
    while (*dirs) {
        const char *end = strchr(dirs, ':');
        size_t n = end ? (size_t)(end - dirs) : strlen(dirs);
        if (snprintf(path, len, "%.*s/%s", (int)n, dirs, name) < (int)len &&
            access(path, X_OK) == 0)
            return true;
        dirs += n + (end ? 1 : 0);
    }
    path[0] = '\0';
    return false;
}

/* A program (xargs, a shell, a command to watch) in a process group of its own, so that a
 * stop signal or an error kills it with every process it started. setpgid on both sides:
 * whichever runs first, the group exists before the parent relies on it. A failed exec
 * says so and exits 127. */
static inline pid_t start_program(char *const argv[], int in, int out)
{
    pid_t parent = getpid(), pid = fork_flushed();
    if (pid == 0) {
        setpgid(0, 0);
        become_child(parent, PIN_NONE, 0);
        if ((in != -1 && dup2(in, STDIN_FILENO) == -1) ||
            (out != -1 && dup2(out, STDOUT_FILENO) == -1))
            _exit(126);
        execvp(argv[0], argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", kit_prog, argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    track_child_as(pid, true);
    return pid;
}

/* ---------- how a child ended ---------- */

static inline bool ended_ok(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static inline const char *how_it_ended(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, len, "ended with wait status %#x", (unsigned)status);
    return buf;
}

/* A child that failed ends the run: "worker 2 (pid 4711) killed by signal 9 (Killed) while
 * running task 17; the others were stopped". `fmt` says what it was doing (may be ""). */
__attribute__((format(printf, 5, 6), noreturn))
static inline void die_child(const char *who, int index, pid_t pid, int status,
                             const char *fmt, ...)
{
    char how[96], doing[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(doing, sizeof doing, fmt, ap);
    va_end(ap);
    forget_child(pid);
    kill_children();
    die("%s %d (pid %d) %s%s%s; the others were stopped", who, index, (int)pid,
        how_it_ended(status, how, sizeof how), doing[0] ? " " : "", doing);
}

/* ---------- whole reads and writes ----------
 * A pipe or socket may move fewer bytes than asked; these loop until all have moved. */

/* The bytes read from offset `at`, or from the file position when `at` is -1: fewer than `len`
 * only at end of file (for a pipe: every writer is gone). */
static inline size_t read_at(int fd, void *buf, size_t len, off_t at)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = at < 0 ? read(fd, p + got, len - got)
                           : pread(fd, p + got, len - got, at + (off_t)got);
        if (n == -1 && errno == EINTR) {
            exit_if_stopped();
            continue;
        }
        if (n == -1)
            die_errno(at < 0 ? "read" : "pread");
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static inline size_t read_full(int fd, void *buf, size_t len) { return read_at(fd, buf, len, -1); }

static inline size_t pread_full(int fd, void *buf, size_t len, off_t at)
{
    return read_at(fd, buf, len, at);
}

/* true when every byte was written; false with errno set (EPIPE: the reader is gone). */
static inline bool write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1 && errno == EINTR) {
            exit_if_stopped();
            continue;
        }
        if (n == -1)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

#endif
