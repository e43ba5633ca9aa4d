/* queues.c - five bounded queues between processes, behind one interface: put, get, close.
 *
 * What it demonstrates: a bounded queue is a buffer plus two ways to wait, "full" for the
 * producer and "empty" for the consumer. Every variant below is that, built differently:
 *   pipe         the kernel's bounded queue: the pipe's buffer, and read()/write() sleeping in it
 *   mutex-cond   a process-shared mutex and two condition variables, the way Python's
 *                queue.Queue (and most libraries) build one: a lock taken for every item
 *   semaphores   two counting semaphores (free slots, filled slots) and a mutex: the textbook
 *   mpmc-ring    a ring whose every slot carries a sequence number (Vyukov's bounded MPMC queue):
 *                no lock; a producer claims a slot with one compare-and-swap, and a process only
 *                sleeps (on a futex) when the ring is really full or empty
 *   ring-batch   the same ring, but one claim takes up to B slots at once (the batching behind
 *                LMAX's Disruptor): one compare-and-swap and one wake-up check per batch
 * What to look for: what each variant does per item on its fast path (a system call, a lock, an
 * atomic), and when it must sleep: a futex call, a wake-up, a context switch, microseconds.
 *
 * Every queue lives in one anonymous shared mapping made before fork(): children inherit it,
 * and nothing has a name in /dev/shm that a crash could leave behind.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bench.h"
#include "queues.h"

const char *const queue_kind_names[Q_KINDS] = {"pipe", "mutex-cond", "semaphores", "mpmc-ring",
                                                "ring-batch"};

/* One slot of the ring: the item and the sequence number that says whose turn it is.
 * seq == pos: free for the producer of position pos; seq == pos + 1: holds pos's item. */
struct slot {
    _Atomic uint64_t seq;
    struct item item;
};

/* book:queue */
/* What every process shares: the buffer, the counts, the locks and the futex words. */
struct shared_state {
    _Atomic int producers_open;             /* the last queue_close() ends the consumers */
    _Atomic int closed;
    _Atomic size_t high_water;
    /* mutex-cond and semaphores: a circular buffer of items under one lock */
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    sem_t free_slots, filled_slots;
    size_t head;                            /* under lock: the oldest item */
    _Atomic size_t count;                   /* written under lock; read by samplers */
    /* the rings: each position on its own cache line, written by one side only */
    alignas(64) _Atomic uint64_t put_pos;   /* next position a producer claims */
    alignas(64) _Atomic uint64_t get_pos;   /* next position a consumer claims */
    alignas(64) _Atomic uint32_t space_event;    /* futex: bumped when space appears */
    _Atomic uint32_t producers_sleeping;    /* flag: a producer may be asleep */
    alignas(64) _Atomic uint32_t items_event;    /* futex: bumped when items appear */
    _Atomic uint32_t consumers_sleeping;    /* flag: a consumer may be asleep */
    alignas(64) unsigned char buffer[];     /* capacity items, or capacity slots */
};

/* Each process's own handle (fork copies it): its pipe ends are its own to close. */
struct queue {
    enum queue_kind kind;
    size_t capacity, batch, bytes;
    int read_fd, write_fd;                  /* pipe: -1 once this process closed it */
    struct shared_state *sh;                /* one anonymous MAP_SHARED mapping */
};
/* end:queue */

static struct item *items_of(struct queue *q) { return (struct item *)q->sh->buffer; }
static struct slot *slots_of(struct queue *q) { return (struct slot *)q->sh->buffer; }

static void note_high_water(const struct queue *q, size_t now_held)
{
    size_t seen = atomic_load_explicit(&q->sh->high_water, memory_order_relaxed);
    while (now_held > seen && !atomic_compare_exchange_weak(&q->sh->high_water, &seen, now_held))
        ;
}

/* The slow path's clock: only a process that must wait reads it, twice. */
static uint64_t wait_begins(struct waits *w) { w->waits++; return now_ns(); }

static void wait_ends(struct waits *w, uint64_t began) { w->blocked_ns += now_ns() - began; }

/* ================= pipe: the kernel's bounded queue ================= */

/* Each item is one write() of 64 bytes. Writes of at most PIPE_BUF (4096) bytes are atomic,
 * so items from several producers never interleave, and since the pipe only ever holds whole
 * items, a 64-byte read() returns exactly one. Both ends are O_NONBLOCK so that a process
 * notices when it would wait, and times the wait in poll(). */
/* book:pipe */
static void pipe_put(struct queue *q, const struct item *it, struct waits *w)
{
    while (write(q->write_fd, it, sizeof *it) == -1) {
        if (errno != EAGAIN && errno != EINTR)
            die_errno("write (pipe queue)");
        struct pollfd p = {.fd = q->write_fd, .events = POLLOUT};
        uint64_t began = wait_begins(w);     /* full: sleep until the reader makes room */
        if (poll(&p, 1, -1) == -1 && errno != EINTR)
            die_errno("poll (pipe queue)");
        wait_ends(w, began);
    }
}

static size_t pipe_get(struct queue *q, struct item *it, struct waits *w)
{
    for (;;) {
        ssize_t n = read(q->read_fd, it, sizeof *it);
        if (n == (ssize_t)sizeof *it)
            return 1;
        if (n == 0)
            return 0;                        /* every write end closed: every producer done */
        if (n > 0)
            die("read (pipe queue): %zd bytes, not one whole item", n);
        if (errno != EAGAIN && errno != EINTR)
            die_errno("read (pipe queue)");
        struct pollfd p = {.fd = q->read_fd, .events = POLLIN};
        uint64_t began = wait_begins(w);     /* empty: sleep until a writer adds an item */
        if (poll(&p, 1, -1) == -1 && errno != EINTR)
            die_errno("poll (pipe queue)");
        wait_ends(w, began);
    }
}
/* end:pipe */

/* The pipe's capacity is its buffer: F_SETPIPE_SZ rounds up to a power-of-two number of
 * pages, so only sizes of one page (64 items) and up, in powers of two, are offered. */
static bool pipe_open(struct queue *q)
{
    int fds[2];
    if (pipe2(fds, O_NONBLOCK) == -1)
        die_errno("pipe2");
    q->read_fd = fds[0], q->write_fd = fds[1];
    long want = (long)(q->capacity * sizeof(struct item));
    long got = fcntl(q->write_fd, F_SETPIPE_SZ, want);
    if (got != want) {                       /* rounded up to a page, or above the limit */
        int err = got == -1 ? errno : EINVAL;
        close(fds[0]);
        close(fds[1]);
        errno = err;
        return false;
    }
    return true;
}

/* ================= mutex-cond: one lock, two condition variables ================= */

/* `count` changes only under the lock; atomic so that a sampler may read it without. */
static size_t held(const struct queue *q)
{
    return atomic_load_explicit(&q->sh->count, memory_order_relaxed);
}

static void set_held(struct queue *q, size_t count)
{
    atomic_store_explicit(&q->sh->count, count, memory_order_relaxed);
}

static void lock(struct queue *q)
{
    int err = pthread_mutex_lock(&q->sh->lock);
    if (err)
        die_err(err, "pthread_mutex_lock");
}

static void unlock(struct queue *q)
{
    int err = pthread_mutex_unlock(&q->sh->lock);
    if (err)
        die_err(err, "pthread_mutex_unlock");
}

/* book:mutex-cond */
static void mutex_cond_put(struct queue *q, const struct item *it, struct waits *w)
{
    lock(q);
    if (held(q) == q->capacity) {
        uint64_t began = wait_begins(w);
        while (held(q) == q->capacity)
            pthread_cond_wait(&q->sh->not_full, &q->sh->lock);  /* unlocks, sleeps, relocks */
        wait_ends(w, began);
    }
    size_t count = held(q);
    items_of(q)[(q->sh->head + count) % q->capacity] = *it;
    set_held(q, count + 1);
    note_high_water(q, count + 1);
    pthread_cond_signal(&q->sh->not_empty);                 /* a futex wake if anyone sleeps */
    unlock(q);
}

static size_t mutex_cond_get(struct queue *q, struct item *it, struct waits *w)
{
    lock(q);
    if (held(q) == 0 && !q->sh->closed) {
        uint64_t began = wait_begins(w);
        while (held(q) == 0 && !q->sh->closed)
            pthread_cond_wait(&q->sh->not_empty, &q->sh->lock);
        wait_ends(w, began);
    }
    if (held(q) == 0) {                                     /* closed, and nothing left */
        unlock(q);
        return 0;
    }
    *it = items_of(q)[q->sh->head];
    q->sh->head = (q->sh->head + 1) % q->capacity;
    set_held(q, held(q) - 1);
    pthread_cond_signal(&q->sh->not_full);
    unlock(q);
    return 1;
}
/* end:mutex-cond */

/* ================= semaphores: free slots, filled slots, and a mutex ================= */

/* sem_trywait first: the fast path never reads the clock; only a real wait is timed. */
static void take(sem_t *s, struct waits *w)
{
    if (sem_trywait(s) == 0)
        return;
    if (errno != EAGAIN)
        die_errno("sem_trywait");
    uint64_t began = wait_begins(w);
    while (sem_wait(s) == -1)
        if (errno != EINTR)
            die_errno("sem_wait");
    wait_ends(w, began);
}

static void give(sem_t *s)
{
    if (sem_post(s) == -1)
        die_errno("sem_post");
}

/* book:semaphores */
static void semaphores_put(struct queue *q, const struct item *it, struct waits *w)
{
    take(&q->sh->free_slots, w);                 /* a free slot is ours: sleeps while full */
    lock(q);
    size_t count = held(q);
    items_of(q)[(q->sh->head + count) % q->capacity] = *it;
    set_held(q, count + 1);
    note_high_water(q, count + 1);
    unlock(q);
    give(&q->sh->filled_slots);
}

static size_t semaphores_get(struct queue *q, struct item *it, struct waits *w)
{
    take(&q->sh->filled_slots, w);               /* an item, or the close: sleeps while empty */
    lock(q);
    if (held(q) == 0) {                      /* woken by the close: pass it on and stop */
        unlock(q);
        give(&q->sh->filled_slots);
        return 0;
    }
    *it = items_of(q)[q->sh->head];
    q->sh->head = (q->sh->head + 1) % q->capacity;
    set_held(q, held(q) - 1);
    unlock(q);
    give(&q->sh->free_slots);
    return 1;
}
/* end:semaphores */

/* ================= the rings: a sequence number per slot, a futex to sleep on ================= */

/* Shared between processes, so not FUTEX_PRIVATE: the kernel keys the wait on the page. */
static void futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
    if (syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0) == -1 &&
        errno != EAGAIN && errno != EINTR)
        die_errno("futex (wait)");
}

static void futex_wake_all(_Atomic uint32_t *word)
{
    if (syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) == -1)
        die_errno("futex (wake)");
}

static uint64_t seq_at(struct queue *q, uint64_t pos)
{
    return atomic_load_explicit(&slots_of(q)[pos % q->capacity].seq, memory_order_acquire);
}

/* book:ring-claim */
/* Claims up to `want` consecutive slots that are free for this lap; returns how many (0: full)
 * and their first position. One compare-and-swap on put_pos, however many it claims. */
static size_t claim_for_put(struct queue *q, size_t want, uint64_t *first)
{
    uint64_t pos = atomic_load_explicit(&q->sh->put_pos, memory_order_relaxed);
    for (;;) {
        size_t k = 0;
        while (k < want && seq_at(q, pos + k) == pos + k)
            k++;
        if (k == 0) {                        /* full, unless another producer took pos */
            uint64_t now = atomic_load_explicit(&q->sh->put_pos, memory_order_relaxed);
            if (now == pos)
                return 0;
            pos = now;
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&q->sh->put_pos, &pos, pos + k,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *first = pos;
            return k;
        }                                    /* lost the race: pos now holds the new value */
    }
}

/* The same for a consumer: slots that hold this lap's items (seq == pos + 1). */
static size_t claim_for_get(struct queue *q, size_t want, uint64_t *first)
{
    uint64_t pos = atomic_load_explicit(&q->sh->get_pos, memory_order_relaxed);
    for (;;) {
        size_t k = 0;
        while (k < want && seq_at(q, pos + k) == pos + k + 1)
            k++;
        if (k == 0) {                        /* empty, unless another consumer took pos */
            uint64_t now = atomic_load_explicit(&q->sh->get_pos, memory_order_relaxed);
            if (now == pos)
                return 0;
            pos = now;
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&q->sh->get_pos, &pos, pos + k,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *first = pos;
            return k;
        }
    }
}
/* end:ring-claim */

static bool ring_has_space(struct queue *q)
{
    uint64_t pos = atomic_load_explicit(&q->sh->put_pos, memory_order_relaxed);
    return seq_at(q, pos) == pos;
}

static bool ring_has_items_or_closed(struct queue *q)
{
    uint64_t pos = atomic_load_explicit(&q->sh->get_pos, memory_order_relaxed);
    return seq_at(q, pos) == pos + 1 || atomic_load(&q->sh->closed);
}

/* book:ring-sleep */
/* Sleep until ready(q). Raise the flag, then look again: the waker publishes, then looks at the
 * flag, and the fences make sure at least one of the two sees the other. A wake-up that comes
 * between the look and the sleep changes `event`, and FUTEX_WAIT then returns at once instead
 * of sleeping through it. */
static void sleep_until(struct queue *q, bool (*ready)(struct queue *), _Atomic uint32_t *event,
                        _Atomic uint32_t *sleeping, struct waits *w)
{
    uint64_t began = wait_begins(w);
    for (;;) {
        uint32_t seen = atomic_load(event);
        atomic_store(sleeping, 1);
        atomic_thread_fence(memory_order_seq_cst);
        if (ready(q))
            break;
        futex_wait(event, seen);
    }
    wait_ends(w, began);
}

/* After publishing: a system call only when somebody raised the flag, and only by the first
 * waker that sees it (the exchange lowers it), not by every put while the sleeper gets going. */
static void wake_sleepers(_Atomic uint32_t *event, _Atomic uint32_t *sleeping)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(sleeping, memory_order_relaxed) == 0 ||
        atomic_exchange(sleeping, 0) == 0)
        return;
    atomic_fetch_add(event, 1);
    futex_wake_all(event);
}
/* end:ring-sleep */

/* book:ring-put-get */
static void ring_put(struct queue *q, const struct item *items, size_t n, struct waits *w)
{
    size_t most = q->kind == Q_RING_BATCH ? q->batch : 1;
    for (size_t done = 0; done < n;) {
        uint64_t first;
        size_t k = claim_for_put(q, n - done < most ? n - done : most, &first);
        if (k == 0) {
            sleep_until(q, ring_has_space, &q->sh->space_event, &q->sh->producers_sleeping, w);
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            struct slot *s = &slots_of(q)[(first + i) % q->capacity];
            s->item = items[done + i];
            atomic_store_explicit(&s->seq, first + i + 1, memory_order_release);  /* publish */
        }
        /* get_pos read after the publish: at most the fill now. With other producers, the
         * consumers may already be past this end: then there is nothing to note. */
        uint64_t got = atomic_load_explicit(&q->sh->get_pos, memory_order_relaxed);
        if (first + k > got)
            note_high_water(q, (size_t)(first + k - got));
        done += k;
        wake_sleepers(&q->sh->items_event, &q->sh->consumers_sleeping);
    }
}

static size_t ring_get(struct queue *q, struct item *items, size_t max, struct waits *w)
{
    size_t most = q->kind == Q_RING_BATCH ? (max < q->batch ? max : q->batch) : 1;
    uint64_t first;
    size_t k;
    while ((k = claim_for_get(q, most, &first)) == 0) {
        if (atomic_load(&q->sh->closed)) {       /* every put happened before the close */
            if ((k = claim_for_get(q, most, &first)) != 0)
                break;
            return 0;
        }
        sleep_until(q, ring_has_items_or_closed, &q->sh->items_event, &q->sh->consumers_sleeping,
                    w);
    }
    for (size_t i = 0; i < k; i++) {
        struct slot *s = &slots_of(q)[(first + i) % q->capacity];
        items[i] = s->item;
        /* free for the producer one lap later */
        atomic_store_explicit(&s->seq, first + i + q->capacity, memory_order_release);
    }
    wake_sleepers(&q->sh->space_event, &q->sh->producers_sleeping);
    return k;
}
/* end:ring-put-get */

/* ================= the interface ================= */

void queue_put(struct queue *q, const struct item *items, size_t n, struct waits *w)
{
    switch (q->kind) {
    case Q_PIPE:       for (size_t i = 0; i < n; i++) pipe_put(q, &items[i], w); break;
    case Q_MUTEX_COND: for (size_t i = 0; i < n; i++) mutex_cond_put(q, &items[i], w); break;
    case Q_SEMAPHORES: for (size_t i = 0; i < n; i++) semaphores_put(q, &items[i], w); break;
    default:           ring_put(q, items, n, w); break;
    }
}

/* The per-item queues hand out one item per call: one lock, or one read(), per item. */
size_t queue_get(struct queue *q, struct item *items, size_t max, struct waits *w)
{
    switch (q->kind) {
    case Q_PIPE:       return pipe_get(q, items, w);
    case Q_MUTEX_COND: return mutex_cond_get(q, items, w);
    case Q_SEMAPHORES: return semaphores_get(q, items, w);
    default:           return ring_get(q, items, max, w);
    }
}

/* book:close */
/* Each producer closes once. The last close ends the consumers: for the pipe, the last write
 * end closing means read() returns 0; the others set `closed` and wake every sleeper. */
void queue_close(struct queue *q)
{
    if (q->kind == Q_PIPE) {
        close(q->write_fd);
        q->write_fd = -1;
        return;
    }
    if (atomic_fetch_sub(&q->sh->producers_open, 1) != 1)
        return;
    if (q->kind == Q_MUTEX_COND) {
        lock(q);
        atomic_store(&q->sh->closed, 1);
        pthread_cond_broadcast(&q->sh->not_empty);
        unlock(q);
    } else if (q->kind == Q_SEMAPHORES) {
        atomic_store(&q->sh->closed, 1);
        give(&q->sh->filled_slots);          /* a consumer that wakes to nothing passes it on */
    } else {
        atomic_store(&q->sh->closed, 1);
        atomic_fetch_add(&q->sh->items_event, 1);
        futex_wake_all(&q->sh->items_event);
    }
}
/* end:close */

/* ================= set-up and tear-down ================= */

static void init_shared_sync(struct queue *q)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int err = pthread_mutexattr_init(&ma);
    if (!err) err = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    if (!err) err = pthread_mutex_init(&q->sh->lock, &ma);
    if (err)
        die_err(err, "pthread_mutex_init (process-shared)");
    pthread_mutexattr_destroy(&ma);
    err = pthread_condattr_init(&ca);
    if (!err) err = pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    if (!err) err = pthread_cond_init(&q->sh->not_full, &ca);
    if (!err) err = pthread_cond_init(&q->sh->not_empty, &ca);
    if (err)
        die_err(err, "pthread_cond_init (process-shared)");
    pthread_condattr_destroy(&ca);
    if (q->capacity > SEM_VALUE_MAX)
        die("capacity %zu is above SEM_VALUE_MAX", q->capacity);
    if (sem_init(&q->sh->free_slots, 1, (unsigned)q->capacity) == -1 ||
        sem_init(&q->sh->filled_slots, 1, 0) == -1)
        die_errno("sem_init (process-shared)");
}

struct queue *queue_create(enum queue_kind kind, size_t capacity, size_t batch, int producers)
{
    bool ring = kind == Q_MPMC_RING || kind == Q_RING_BATCH;
    if (capacity == 0 || (ring && capacity < 2)) {
        errno = EINVAL;                  /* a ring needs 2 slots: seq must tell full from free */
        return NULL;
    }
    struct queue *q = malloc(sizeof *q);
    if (!q)
        die_errno("malloc");
    size_t each = ring ? sizeof(struct slot) : sizeof(struct item);
    *q = (struct queue){.kind = kind, .capacity = capacity, .batch = batch, .read_fd = -1,
                        .write_fd = -1};
    q->bytes = sizeof(struct shared_state) + (kind == Q_PIPE ? 0 : capacity * each);
    /* MAP_NORESERVE: pages are only taken as the queue first fills them */
    q->sh = mmap(NULL, q->bytes, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (q->sh == MAP_FAILED)
        die_errno("mmap (queue)");
    atomic_store(&q->sh->producers_open, producers);
    init_shared_sync(q);
    if (ring)
        for (size_t i = 0; i < capacity; i++)
            atomic_store_explicit(&slots_of(q)[i].seq, i, memory_order_relaxed);
    if (kind == Q_PIPE && !pipe_open(q)) {
        int err = errno;
        queue_destroy(q);
        errno = err;
        return NULL;
    }
    return q;
}

/* A producer keeps only the write end, a consumer only the read end: otherwise the pipe would
 * never report end of file. The parent keeps the read end, to sample how full it is. */
void queue_attach(struct queue *q, enum queue_role role)
{
    int *unused = role == ROLE_PRODUCER ? &q->read_fd : &q->write_fd;
    if (*unused != -1)
        close(*unused);
    *unused = -1;
}

void queue_leave(struct queue *q)
{
    queue_attach(q, ROLE_CONSUMER);          /* like a consumer: only the read end */
}

size_t queue_occupancy(const struct queue *q)
{
    if (q->kind == Q_PIPE) {
        int bytes = 0;
        if (q->read_fd == -1 || ioctl(q->read_fd, FIONREAD, &bytes) == -1)
            return 0;
        note_high_water(q, (size_t)bytes / sizeof(struct item));
        return (size_t)bytes / sizeof(struct item);
    }
    if (q->kind == Q_MUTEX_COND || q->kind == Q_SEMAPHORES)
        return held(q);
    uint64_t put = atomic_load(&q->sh->put_pos);
    uint64_t got = atomic_load(&q->sh->get_pos);
    return put > got ? (size_t)(put - got) : 0;
}

/* The pipe's is only what samples saw (the kernel itself enforces its bound). */
size_t queue_high_water(const struct queue *q)
{
    return atomic_load(&q->sh->high_water);
}

void queue_destroy(struct queue *q)
{
    if (q->read_fd != -1)
        close(q->read_fd);
    if (q->write_fd != -1)
        close(q->write_fd);
    sem_destroy(&q->sh->free_slots);
    sem_destroy(&q->sh->filled_slots);
    pthread_cond_destroy(&q->sh->not_full);
    pthread_cond_destroy(&q->sh->not_empty);
    pthread_mutex_destroy(&q->sh->lock);
    munmap(q->sh, q->bytes);
    free(q);
}
