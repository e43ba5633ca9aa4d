/* counters.c - one count shared by processes, and nine ways to add to it.
 *
 * The teaching file of ch04-locks (main.c is the driver: workers, trials, experiments).
 * P processes share one MAP_SHARED anonymous region (the arena) and add 1 to a count
 * I times each. Every way to do it is a function with one signature, in one table:
 *   none          load, add, store with no synchronization: the race, made visible
 *   mutex         a process-shared pthread mutex around every increment
 *   robust-mutex  the same, PTHREAD_MUTEX_ROBUST, with the bookkeeping needed to recover
 *   semaphore     a process-shared POSIX semaphore (the lock behind Python's Value.get_lock())
 *   spinlock      test-and-test-and-set on a C11 atomic bool, with a pause hint
 *   atomic        atomic_fetch_add on the shared count
 *   batched       count in a register, one atomic add at the end
 *   slots         one 8-byte slot per worker, side by side (several share a cache line)
 *   padded-slots  one slot per worker, each on its own cache line
 * What to look for: an uncontended lock costs tens of ns, more once a second CPU contends
 * for its cache line; batching is cheaper than every lock by orders of magnitude; adjacent
 * slots cost more than padded ones (false sharing); robust_lock shows how a survivor
 * repairs the count a dead holder left half-updated.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

#include "cli.h"
#include "bench.h"
#include "proc.h"
#include "counters.h"

struct arena *arena;
size_t line_size;
static unsigned char *slot_base;   /* MAX_WORKERS slots of line_size bytes, line-aligned */
static size_t arena_bytes;

/* Worker w's slot: 8 bytes apart (several per cache line) or one cache line apart. */
static _Atomic uint64_t *slot(int w, size_t stride)
{
    return (_Atomic uint64_t *)(void *)(slot_base + (size_t)w * stride);
}

static size_t slot_words(void) { return MAX_WORKERS * line_size / sizeof(uint64_t); }

/* ---------- the spinlock ----------
 * Test-and-test-and-set: try to take the lock with one atomic exchange; if it was taken,
 * wait with plain loads (which hit our own cached copy of the line and cost the holder
 * nothing) until it looks free, then try again. C11's atomic_flag has no plain read,
 * so the lock is an atomic_bool. The pause hint tells the core we are spinning. */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* book:spinlock */
static inline void spin_lock(atomic_bool *lock)
{
    while (atomic_exchange_explicit(lock, true, memory_order_acquire)) {
        while (atomic_load_explicit(lock, memory_order_relaxed))
            cpu_relax();
    }
}

static inline void spin_unlock(atomic_bool *lock)
{
    atomic_store_explicit(lock, false, memory_order_release);
}
/* end:spinlock */

/* ---------- the robust mutex and its recovery ----------
 * When the owner of a robust mutex dies, the kernel marks the lock word and wakes a
 * waiter; that process's pthread_mutex_lock returns EOWNERDEAD: it now holds the lock,
 * and the data may be half-updated. It must repair the data, then call
 * pthread_mutex_consistent, or the mutex becomes unusable for everyone.
 *
 * The rule that makes "exactly" exact: an increment counts once its holder has copied
 * the new count into `committed`. A holder that dies after `counter++` but before that
 * copy leaves counter = committed + 1; the recoverer rolls it back. So the dead worker's
 * increment in flight is lost, and every finished one is kept. */

/* book:robust-lock */
static void robust_lock(int who)
{
    int err = pthread_mutex_lock(&arena->robust);
    if (err == EOWNERDEAD) {
        uint64_t counter = atomic_load_explicit(&arena->counter, memory_order_relaxed);
        arena->rolled_back += counter - arena->committed;
        atomic_store_explicit(&arena->counter, arena->committed, memory_order_relaxed);
        arena->recoveries++;
        arena->recovered_by = who;
        arena->recovered_at_ns = now_ns();
        err = pthread_mutex_consistent(&arena->robust);
    }
    if (err)
        die_err(err, "pthread_mutex_lock (robust)");
}
/* end:robust-lock */

static void robust_unlock(void)
{
    int err = pthread_mutex_unlock(&arena->robust);
    if (err)
        die_err(err, "pthread_mutex_unlock (robust)");
}

static void mutex_lock(void)
{
    int err = pthread_mutex_lock(&arena->mutex);
    if (err)
        die_err(err, "pthread_mutex_lock");
}

static void mutex_unlock(void)
{
    int err = pthread_mutex_unlock(&arena->mutex);
    if (err)
        die_err(err, "pthread_mutex_unlock");
}

static void semaphore_wait(void)
{
    while (sem_wait(&arena->semaphore) == -1)
        if (errno != EINTR)
            die_errno("sem_wait");
}

static void semaphore_post(void)
{
    if (sem_post(&arena->semaphore) == -1)
        die_errno("sem_post");
}

/* ---------- the variants: one signature, one table ----------
 * count(w, n): worker w adds 1 to the count n times. Every load and store of shared
 * memory is a C11 atomic, relaxed where a lock (or having the slot to oneself) already
 * orders it: the same machine instructions as plain code, with no undefined behaviour.
 * So the updates `none` loses are lost by the hardware interleaving, not by the compiler. */

/* book:count-locked */
static void count_none(int w, long n)
{
    (void)w;
    for (long i = 0; i < n; i++) {   /* counter++ as the CPU does it: load, add, store */
        uint64_t seen = atomic_load_explicit(&arena->counter, memory_order_relaxed);
        atomic_store_explicit(&arena->counter, seen + 1, memory_order_relaxed);
    }
}

static void count_mutex(int w, long n)
{
    (void)w;
    for (long i = 0; i < n; i++) {
        mutex_lock();
        uint64_t seen = atomic_load_explicit(&arena->counter, memory_order_relaxed);
        atomic_store_explicit(&arena->counter, seen + 1, memory_order_relaxed);
        mutex_unlock();
    }
}
/* end:count-locked */

/* book:count-robust */
static void count_robust_mutex(int w, long n)
{
    for (long i = 0; i < n; i++) {
        robust_lock(w);
        uint64_t seen = atomic_load_explicit(&arena->counter, memory_order_relaxed);
        atomic_store_explicit(&arena->counter, seen + 1, memory_order_relaxed);
        arena->committed = seen + 1;          /* the increment now counts (see robust_lock) */
        robust_unlock();
    }
}
/* end:count-robust */

static void count_semaphore(int w, long n)
{
    (void)w;
    for (long i = 0; i < n; i++) {
        semaphore_wait();
        uint64_t seen = atomic_load_explicit(&arena->counter, memory_order_relaxed);
        atomic_store_explicit(&arena->counter, seen + 1, memory_order_relaxed);
        semaphore_post();
    }
}

static void count_spinlock(int w, long n)
{
    (void)w;
    for (long i = 0; i < n; i++) {
        spin_lock(&arena->spinlock);
        uint64_t seen = atomic_load_explicit(&arena->counter, memory_order_relaxed);
        atomic_store_explicit(&arena->counter, seen + 1, memory_order_relaxed);
        spin_unlock(&arena->spinlock);
    }
}

/* book:count-lock-free */
static void count_atomic(int w, long n)
{
    (void)w;
    for (long i = 0; i < n; i++)
        atomic_fetch_add(&arena->counter, 1);   /* one locked instruction (lock xadd on x86) */
}

static void count_batched(int w, long n)
{
    (void)w;
    uint64_t local = 0;
    for (long i = 0; i < n; i++) {
        local++;
        /* An empty asm that claims to change `local`: the compiler must keep the loop
         * (n real increments, in a register) instead of turning it into local = n. */
        __asm__ __volatile__("" : "+r"(local));
    }
    atomic_fetch_add(&arena->counter, local);    /* the only shared write */
}

/* The same instruction as `atomic`, on a word of the worker's own: the three differ only
 * in where the word lies. (A plain load and store would do, as one worker owns the slot,
 * but the store buffer hides part of their cost; the locked add must own the cache line
 * at every increment, so it shows where the line is.) */
static void count_slots_spaced(int w, long n, size_t stride)
{
    _Atomic uint64_t *mine = slot(w, stride);
    for (long i = 0; i < n; i++)
        atomic_fetch_add_explicit(mine, 1, memory_order_relaxed);
}

static void count_slots(int w, long n) { count_slots_spaced(w, n, sizeof(uint64_t)); }
static void count_padded_slots(int w, long n) { count_slots_spaced(w, n, line_size); }
/* end:count-lock-free */

/* Fault injection (--kill-holder): take the lock and die holding it. */
static void hold_mutex(int w) { (void)w; mutex_lock(); }
static void hold_robust_mutex(int w) { robust_lock(w); }
static void hold_semaphore(int w) { (void)w; semaphore_wait(); }
static void hold_spinlock(int w) { (void)w; spin_lock(&arena->spinlock); }

/* book:variant-table */
const struct variant variants[VARIANT_COUNT] = {
    {"none",         count_none,         NULL,              false, false, 1},
    {"mutex",        count_mutex,        hold_mutex,        true,  true,  1},
    {"robust-mutex", count_robust_mutex, hold_robust_mutex, true,  false, 1},
    {"semaphore",    count_semaphore,    hold_semaphore,    true,  true,  1},
    {"spinlock",     count_spinlock,     hold_spinlock,     true,  true,  4},
    {"atomic",       count_atomic,       NULL,              true,  true,  1},
    {"batched",      count_batched,      NULL,              true,  false, 1},
    {"slots",        count_slots,        NULL,              true,  false, 1},
    {"padded-slots", count_padded_slots, NULL,              true,  false, 1},
};
/* end:variant-table */


/* ---------- what a dead worker left ---------- */

/* The owner a mutex records (glibc: the owner's thread id, a single-threaded worker's pid);
 * 0 where the C library does not say. */
static pid_t mutex_owner(const pthread_mutex_t *m)
{
#ifdef __GLIBC__
    return (pid_t)m->__data.__owner;
#else
    (void)m;
    return 0;
#endif
}

bool is_robust(const struct variant *v) { return v->count == count_robust_mutex; }

enum lock_state lock_state(const struct variant *v, pid_t pid)
{
    int value = 1;
    if (v->hold == hold_mutex)
        return mutex_owner(&arena->mutex) == pid ? LOCK_OWNED : LOCK_FREE;
    if (v->hold == hold_robust_mutex)
        return mutex_owner(&arena->robust) == pid ? LOCK_OWNED : LOCK_FREE;
    if (v->hold == hold_semaphore)
        return sem_getvalue(&arena->semaphore, &value) == 0 && value == 0 ? LOCK_TAKEN : LOCK_FREE;
    if (v->hold == hold_spinlock)
        return atomic_load(&arena->spinlock) ? LOCK_TAKEN : LOCK_FREE;
    return LOCK_NONE;
}

/* ---------- the arena's life ---------- */

void reset_arena(void)
{
    atomic_store(&arena->counter, 0);
    arena->committed = 0;
    arena->recoveries = arena->rolled_back = arena->recovered_at_ns = 0;
    arena->recovered_by = -2;
    arena->victim_died_at_ns = 0;
    atomic_store(&arena->ready, 0);
    atomic_store(&arena->arrived, 0);
    atomic_store(&arena->victim_holding, 0);
    for (size_t k = 0; k < slot_words(); k++)
        atomic_store_explicit(slot(0, 0) + k, 0, memory_order_relaxed);
    for (int w = 0; w < MAX_WORKERS; w++)
        arena->started_ns[w] = arena->finished_ns[w] = arena->cpu_ns[w] = 0;
}

/* The count: the shared counter plus every word of the slot area, whatever the stride. */
uint64_t count_now(void)
{
    uint64_t total = atomic_load(&arena->counter);
    for (size_t k = 0; k < slot_words(); k++)
        total += atomic_load_explicit(slot(0, 0) + k, memory_order_relaxed);
    return total;
}


static void init_locks(void)
{
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init(&attr);
    if (!err)
        err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (!err)
        err = pthread_mutex_init(&arena->mutex, &attr);
    if (!err)
        err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (!err)
        err = pthread_mutex_init(&arena->robust, &attr);
    if (err)
        die_err(err, "pthread_mutex_init");
    pthread_mutexattr_destroy(&attr);
    if (sem_init(&arena->semaphore, 1, 1) == -1)       /* 1 = shared between processes */
        die_errno("sem_init");
    atomic_init(&arena->spinlock, false);
}

/* The machine's cache line, from sysconf, or 64 bytes if it will not say. */
size_t cache_line(bool *guessed)
{
    long n = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
    *guessed = n < 16 || n > LAYOUT_LINE || (n & (n - 1)) != 0;
    return *guessed ? 64 : (size_t)n;
}

void map_arena(void)
{
    size_t header = (sizeof(struct arena) + LAYOUT_LINE - 1) / LAYOUT_LINE * LAYOUT_LINE;
    arena_bytes = header + MAX_WORKERS * line_size;
    void *p = arena = map_shared_memory(NULL, arena_bytes);
    slot_base = (unsigned char *)p + header;   /* page-aligned + a multiple of 256: line-aligned */
    init_locks();
}

void unmap_arena(void)
{
    pthread_mutex_destroy(&arena->mutex);
    pthread_mutex_destroy(&arena->robust);
    sem_destroy(&arena->semaphore);
    if (munmap(arena, arena_bytes) == -1)
        die_errno("munmap");
}

/* A fresh robust mutex for each robust trial: the last one was recovered (or is owned by a
 * dead worker) and must not carry that state into the next trial. */
void renew_robust_mutex(void)
{
    pthread_mutexattr_t attr;
    int err = pthread_mutex_destroy(&arena->robust);
    if (!err)
        err = pthread_mutexattr_init(&attr);
    if (!err)
        err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (!err)
        err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (!err)
        err = pthread_mutex_init(&arena->robust, &attr);
    if (err)
        die_err(err, "pthread_mutex_init (robust)");
    pthread_mutexattr_destroy(&attr);
}
