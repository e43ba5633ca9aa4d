/* stress_fork.c - stress-ng's fork stressor rebuilt on ch01-fork's plain fork, one ingredient at
 * a time, so that the gap between `stress-ng --fork 1 --fork-max 1` and the kit's fork row is
 * measured instead of guessed. main.c runs it with `ch01-fork --only stress-ng`.
 *
 * One iteration of stress-ng 0.15's loop (stress-fork.c) with --fork-max 1:
 *   parent  clear its table of children (16000 slots of {pid, errno}: 125 KiB), fork, note the
 *           pid, waitpid, bump the bogo-op counter (in memory shared with stress-ng's main
 *           process), check the stop flag
 *   child   getpid, getpgid, setsid, vhangup, setpgid four times (two of them invalid on
 *           purpose), sched_yield, prctl(PR_SET_NAME) to rename itself, _exit(0)
 * Once per worker, not per iteration: signal handlers, an alarm for the time limit,
 * PR_SET_PDEATHSIG (a fork child does not inherit it), the OOM score, dropped capabilities.
 *
 * Each recipe below is the kit's fork + _exit + waitpid with some of those extras. The process
 * the loop runs in is the other ingredient: stress-ng's worker maps ~24 shared libraries (~170
 * mappings) where ch01-fork maps libc alone, and stress-ng is linked with -z now, so its child
 * calls _exit, setsid, ... directly, where ch01-fork's child (lazy binding) first asks the
 * dynamic linker for each, faulting in pages of its symbol tables. harness/peers.d/ch01.sh runs
 * this same program with LD_BIND_NOW=1, and with stress-ng's libraries preloaded too, to measure
 * those parts.
 *
 * What to look for: which recipe moves the time per fork, and whether it is the parent's CPU,
 * the child's CPU or neither (waiting) that moves; main.c prints all three.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "stress_fork.h"

const struct fork_recipe fork_recipes[] = {
    {"plain", 0},                                   /* ch01-fork's fork row */
    {"setsid+vhangup", CHILD_SESSION},
    {"sched_yield", CHILD_YIELD},
    {"child-calls", CHILD_CALLS | CHILD_SESSION | CHILD_YIELD},   /* all ten of the child's */
    {"parent-table", PARENT_TABLE},
    {"stress-ng-like", CHILD_CALLS | CHILD_SESSION | CHILD_YIELD | PARENT_TABLE},
};
const int fork_recipe_count = sizeof fork_recipes / sizeof fork_recipes[0];

/* ---------- the child: what it does before it is gone ---------- */

enum { CALL_WENT_WRONG = 0xff };    /* never op & 0x7f */

/* The calls stress-ng makes "to get more kernel coverage", in its order. Their answers are
 * ignored there; here the ones with a certain answer are checked, so a child that skipped them
 * is caught. vhangup comes only after setsid succeeded: the new session has no controlling
 * terminal, so even as root (stress-ng has dropped the capability and gets EPERM) it hangs up
 * nothing, never the reader's terminal. */
static _Noreturn void stress_child(unsigned extras, pid_t parent_group, long op)
{
    bool right = true;
    pid_t self = 0, group = 0;
    if (extras & CHILD_CALLS) {
        self = getpid();
        group = getpgid(self);
        right &= group == parent_group;
    }
    if (extras & CHILD_SESSION) {
        if (setsid() != -1)
            (void)vhangup();
        else
            right = false;
    }
    if (extras & CHILD_CALLS) {
        (void)setpgid(0, 0);            /* a session leader: EPERM */
        (void)setpgid(self, group);     /* EPERM */
        (void)setpgid(0, -1);           /* EINVAL */
        (void)setpgid(-1, 0);           /* ESRCH */
    }
    if (extras & CHILD_YIELD)
        right &= sched_yield() == 0;
    if (extras & CHILD_CALLS) {
        char name[64];                  /* stress-ng's "<program>-<state>", cut to 15 bytes */
        snprintf(name, sizeof name, "%s-%s", "ch01-fork", "zombie");
        right &= prctl(PR_SET_NAME, name) == 0;
    }
    _exit(right ? (int)(op & 0x7f) : CALL_WENT_WRONG);
}

/* ---------- the parent: its bookkeeping ---------- */

struct child_slot {
    pid_t pid;
    int err;
};
enum { TABLE_SLOTS = 16000 };       /* stress-ng's MAX_FORKS */

static pid_t parent_group;

void open_books(struct fork_books *b, unsigned extras)
{
    parent_group = getpgrp();
    *b = (struct fork_books){NULL, NULL};
    if (!(extras & PARENT_TABLE))
        return;
    /* Private like stress-ng's static table: after every fork its pages are shared
     * copy-on-write, and the next clearing write-faults each of them again. */
    b->table = mmap(NULL, TABLE_SLOTS * sizeof *b->table, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b->table == MAP_FAILED)
        die_errno("mmap");
    b->counter = map_shared_memory(NULL, sizeof *b->counter);
    *b->counter = 0;
}

uint64_t close_books(struct fork_books *b)
{
    if (!b->table)
        return 0;
    uint64_t count = *b->counter;
    if (munmap(b->table, TABLE_SLOTS * sizeof *b->table) == -1 ||
        munmap((void *)b->counter, sizeof *b->counter) == -1)
        die_errno("munmap");
    *b = (struct fork_books){NULL, NULL};
    return count;
}

/* book:stress-fork */
void stress_fork_once(const struct fork_recipe *r, struct fork_books *b, long op)
{
    if (r->extras & PARENT_TABLE)
        memset(b->table, 0, TABLE_SLOTS * sizeof *b->table);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0)
        stress_child(r->extras, parent_group, op);
    track_child(pid);
    int status = reap_child(pid);
    if (r->extras & PARENT_TABLE) {
        b->table[0].pid = pid;
        __atomic_add_fetch(b->counter, 1, __ATOMIC_SEQ_CST);   /* stress-ng: ++ between fences */
    }
    if (!WIFEXITED(status))
        die_child("fork child", (int)op, pid, status, "while running recipe %s", r->name);
    if (WEXITSTATUS(status) != (op & 0x7f))
        verification_failed("%s child %ld (pid %d): exit status %d, expected %ld%s", r->name, op,
                            (int)pid, WEXITSTATUS(status), op & 0x7f,
                            WEXITSTATUS(status) == CALL_WENT_WRONG
                                ? " (one of its calls gave an unexpected answer)" : "");
}
/* end:stress-fork */
