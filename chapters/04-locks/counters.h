/* counters.h - what counters.c (the mechanism) offers the driver, main.c: the shared arena,
 * the variants behind one signature, and what a dead worker left in the arena. */
#ifndef CH04_COUNTERS_H
#define CH04_COUNTERS_H

#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum { LAYOUT_LINE = 256, MAX_WORKERS = 128 };

/* ---------- the shared region ----------
 * One MAP_SHARED | MAP_ANONYMOUS mapping made before fork: every worker sees the same
 * physical pages at the same address, and nothing has a name, so nothing can be left
 * behind. Each group of fields below starts a new cache line (LAYOUT_LINE is a multiple of any
 * line size we accept), so the variants interfere only through what they measure.
 * The per-worker slots follow the struct, spaced by the machine's own line size. */

/* book:arena */
struct arena {
    alignas(LAYOUT_LINE) _Atomic uint64_t counter;  /* the shared count */
    uint64_t committed;               /* robust-mutex: the count when the last holder finished */
    alignas(LAYOUT_LINE) pthread_mutex_t mutex;
    alignas(LAYOUT_LINE) pthread_mutex_t robust;
    uint64_t recoveries, rolled_back; /* written under `robust` by whoever recovers it */
    uint64_t recovered_at_ns;
    int recovered_by;                 /* the worker that got EOWNERDEAD */
    alignas(LAYOUT_LINE) sem_t semaphore;
    alignas(LAYOUT_LINE) atomic_bool spinlock;
    alignas(LAYOUT_LINE) _Atomic int ready;         /* workers waiting for the go */
    _Atomic int arrived;              /* workers at the start barrier, past the go */
    _Atomic int victim_holding;       /* robust: the worker about to die holds the lock */
    uint64_t victim_died_at_ns;
    uint64_t started_ns[MAX_WORKERS], finished_ns[MAX_WORKERS];  /* each written by one worker */
    uint64_t cpu_ns[MAX_WORKERS];     /* CPU time each worker spent counting */
};
/* end:arena */


extern struct arena *arena;
extern size_t line_size;           /* the machine's cache line: the padded slots' stride */

/* count(w, n): worker w adds 1 to the count n times. */
struct variant {
    const char *name;
    void (*count)(int worker, long increments);
    void (*hold)(int worker);  /* takes the lock (fault injection); NULL: there is no lock */
    bool exact;                /* the count must come out exactly P x I */
    bool contention;           /* in the contention experiment by default */
    long share;                /* does 1/share of a trial's increments */
};
enum { VARIANT_COUNT = 9 };
extern const struct variant variants[VARIANT_COUNT];

/* What the arena shows of a variant's lock once its workers are dead. */
enum lock_state {
    LOCK_NONE,          /* the variant has no lock */
    LOCK_FREE,
    LOCK_TAKEN,         /* by someone: the semaphore and the spinlock record no owner */
    LOCK_OWNED,         /* by the process asked about: the mutexes record their owner */
};
enum lock_state lock_state(const struct variant *v, pid_t pid);
bool is_robust(const struct variant *v);

size_t cache_line(bool *guessed);
void map_arena(void);
void unmap_arena(void);
void reset_arena(void);
void renew_robust_mutex(void);
uint64_t count_now(void);

#endif
