/* stress_fork.h - what stress_fork.c (stress-ng's fork loop, one ingredient at a time) offers
 * main.c. */
#ifndef CH01_STRESS_FORK_H
#define CH01_STRESS_FORK_H

#include <stdint.h>

/* What an iteration does besides fork, _exit and waitpid. */
enum fork_extra {
    CHILD_SESSION = 1 << 0,     /* the child: setsid, then vhangup */
    CHILD_YIELD = 1 << 1,       /* the child: sched_yield */
    CHILD_CALLS = 1 << 2,       /* the child: getpid, getpgid, setpgid x4, prctl(PR_SET_NAME) */
    PARENT_TABLE = 1 << 3,      /* the parent: clears its table of children, counts in shm */
};

struct fork_recipe {
    const char *name;
    unsigned extras;            /* enum fork_extra, or-ed */
};
extern const struct fork_recipe fork_recipes[];
extern const int fork_recipe_count;

/* The parent's bookkeeping, made before a trial and removed after it, so that its pages exist
 * only while a PARENT_TABLE recipe runs. */
struct fork_books {
    struct child_slot *table;   /* stress-ng's info[]: 16000 slots, cleared every iteration */
    volatile uint64_t *counter; /* its bogo-op counter, in a shared mapping */
};
void open_books(struct fork_books *b, unsigned extras);
uint64_t close_books(struct fork_books *b);     /* the counter's final value */

/* One iteration: fork, the child's extras and _exit, waitpid; the child's exit status is
 * checked (op & 0x7f when every checked call gave its expected answer). */
void stress_fork_once(const struct fork_recipe *r, struct fork_books *b, long op);

#endif
