/* channels.c - seven ways for bytes to cross from one process to another, behind one interface.
 *
 * Every channel carries the same payload, a stream of words the receiver checks; they differ
 * only in how the bytes cross:
 *   pipe, socketpair, fifo   write(2) copies into a kernel buffer, read(2) copies out
 *   mqueue         a POSIX message queue: the same two copies, in pieces of its message size
 *   queue          slots in shared memory under a process-shared mutex and two condition
 *                  variables: what every multiprocessing library builds first
 *   shm-ring       a byte ring in shared memory: C11 atomics, and a futex to sleep on when it
 *                  is empty or full (never a busy spin)
 *   shm-zero-copy  the sender writes into a shared slot, the receiver checks it in place
 * Read from the top: the payload, the interface, each channel under its own heading, the
 * table of all seven. main.c, the driver, forks the peer and times them.
 *
 * What to look for: the kernel's channels make a system call per message and copy every byte
 * twice; the shared-memory ones enter the kernel only when a side must sleep, and
 * shm-zero-copy copies nothing. A waiting side wakes every 200 ms to ask the driver whether
 * its peer still lives (check_peer): a dead peer never means a hang. Every named object loses
 * its name as soon as it is open, before the peer exists: a SIGKILLed parent leaves no name.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "bench.h"
#include "channels.h"

enum { WAIT_SLICE_MS = 200 };   /* a blocked side checks on its peer this often */

/* ---------- the payload and its check ---------- */

/* book:stream */
/* Word w of a stream is w * GOLDEN + salt. Multiplying by an odd constant is a bijection,
 * so no two words of a run are equal: a lost, repeated, reordered or changed byte makes
 * some word differ from the one the receiver expects next. */
static const uint64_t GOLDEN = 0x9e3779b97f4a7c15u;

static void fill_stream(struct stream *s, unsigned char *msg, size_t bytes)
{
    uint64_t *word = (uint64_t *)msg, value = s->next * GOLDEN + s->salt;
    for (size_t i = 0; i < bytes / WORD; i++, value += GOLDEN)
        word[i] = value;
    uint64_t first = s->next * WORD;
    if (s->corrupt_at - first < bytes)      /* (unsigned: false when corrupt_at < first) */
        msg[s->corrupt_at - first] ^= CORRUPT_BIT;
    s->next += bytes / WORD;
}

static void check_stream(struct stream *s, const unsigned char *msg, size_t bytes)
{
    const uint64_t *word = (const uint64_t *)msg;
    uint64_t value = s->next * GOLDEN + s->salt, differ = 0;
    for (size_t i = 0; i < bytes / WORD; i++, value += GOLDEN)
        differ |= word[i] ^ value;          /* no branch: the loop stays as fast as a read */
    for (size_t i = 0; differ && i < bytes; i++) {
        uint64_t expected = (s->next + i / WORD) * GOLDEN + s->salt;
        unsigned char want = ((const unsigned char *)&expected)[i % WORD];
        if (msg[i] != want)
            verification_failed("%s: byte %" PRIu64 " of the stream is 0x%02x, expected "
                                "0x%02x (a lost, repeated, reordered or changed byte)",
                                s->what, s->next * WORD + i, msg[i], want);
    }
    s->next += bytes / WORD;
}
/* end:stream */

/* ---------- the interface (struct link, channel, channel_kind: channels.h) ---------- */

/* book:driver */
void send_message(struct channel *ch, enum direction dir, struct stream *s, size_t bytes)
{
    struct link *l = &ch->link[dir];
    unsigned char *msg = ch->kind->claim ? ch->kind->claim(l, bytes) : l->stage;
    fill_stream(s, msg, bytes);
    if (ch->kind->publish)
        ch->kind->publish(l, bytes);
    else
        ch->kind->send(l, msg, bytes);
}

void receive_message(struct channel *ch, enum direction dir, struct stream *s, size_t bytes)
{
    struct link *l = &ch->link[dir];
    const unsigned char *msg = ch->kind->receive ? ch->kind->receive(l, bytes) : l->stage;
    if (!ch->kind->receive)
        ch->kind->recv(l, l->stage, bytes);
    check_stream(s, msg, bytes);        /* every byte that arrives, on every channel */
    if (ch->kind->release)
        ch->kind->release(l);
}
/* end:driver */

/* ---------- pipe, socketpair, fifo: write(2) and read(2) through the kernel ---------- */

/* book:fd-copy */
static void fd_send(struct link *l, const unsigned char *buf, size_t n)
{
    if (!write_full(l->write_fd, buf, n)) {     /* copy 1: into the kernel's buffer */
        if (errno == EPIPE || errno == ECONNRESET)
            peer_gone("write: the reader is gone");
        die_errno("write");
    }
}

static void fd_recv(struct link *l, unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t got = read(l->read_fd, buf, n);   /* copy 2: out of it; sleeps while empty */
        if (got > 0) {
            buf += got;
            n -= (size_t)got;
        } else if (got == -1 && errno == EINTR) {
            check_peer();
        } else if (got == 0 || errno == ECONNRESET) {
            peer_gone("read: the writer is gone");
        } else {
            die_errno("read");
        }
    }
}
/* end:fd-copy */

static void create_pipes(struct channel *ch)
{
    for (int d = DOWN; d <= UP; d++) {
        int fds[2];
        if (pipe(fds) == -1)
            die_errno("pipe");
        ch->link[d].read_fd = fds[0];
        ch->link[d].write_fd = fds[1];
    }
}

static void create_socketpair(struct channel *ch)
{
    int sv[2];   /* one bidirectional pair: the parent keeps sv[0], the child sv[1] */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die_errno("socketpair");
    ch->link[DOWN] = (struct link){.write_fd = sv[0], .read_fd = sv[1]};
    ch->link[UP] = (struct link){.write_fd = dup(sv[1]), .read_fd = dup(sv[0])};  /* one each */
    if (ch->link[UP].write_fd == -1 || ch->link[UP].read_fd == -1)
        die_errno("dup");
}

/* Each side closes the ends it does not use, so that when one side dies the other reads
 * end-of-file or gets EPIPE instead of waiting forever. */
static void close_unused_ends(struct channel *ch, bool parent)
{
    int *a = parent ? &ch->link[DOWN].read_fd : &ch->link[DOWN].write_fd;
    int *b = parent ? &ch->link[UP].write_fd : &ch->link[UP].read_fd;
    if (close(*a) == -1 || close(*b) == -1)
        die_errno("close");
    *a = *b = -1;
}

/* A FIFO is a pipe found by its path. The parent opens both ends of both FIFOs by path and
 * removes the names at once: the child inherits the four descriptors, and each side closes
 * the ends it does not use, as with a pipe. */
static void create_fifos(struct channel *ch)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX - 8], path[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/ch03-ipc-%d-fifo-XXXXXX", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    if (!mkdtemp(dir))
        die("mkdtemp %s: %s", dir, strerror(errno));
    for (int d = DOWN; d <= UP; d++) {
        struct link *l = &ch->link[d];
        snprintf(path, sizeof path, "%s/%s", dir, d == DOWN ? "down" : "up");
        if (mkfifo(path, 0600) == 0) {   /* the read end first and without blocking: then */
            l->read_fd = open(path, O_RDONLY | O_NONBLOCK);  /* the write end has a reader */
            l->write_fd = open(path, O_WRONLY);
        }
        int err = errno;
        unlink(path);
        if (l->read_fd == -1 || l->write_fd == -1) {
            rmdir(dir);
            die("mkfifo or open %s: %s", path, strerror(err));
        }
        if (fcntl(l->read_fd, F_SETFL, 0) == -1)         /* from now on, a read may block */
            die_errno("fcntl");
    }
    if (rmdir(dir) == -1)
        die("rmdir %s: %s", dir, strerror(errno));
}

/* ---------- mqueue: a POSIX message queue, whole messages in pieces ---------- */

static void create_mqueues(struct channel *ch)
{
    /* Linux's default limits: 8 KiB a message (fs/mqueue/msgsize_max), 10 in the queue */
    struct mq_attr attr = {.mq_msgsize = 8192, .mq_maxmsg = 10};
    for (int d = DOWN; d <= UP; d++) {
        char name[64];
        snprintf(name, sizeof name, "/ch03-ipc-%d-%s", (int)getpid(), d == DOWN ? "down" : "up");
        mqd_t mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
        if (mq == (mqd_t)-1)
            die("mq_open %s: %s", name, strerror(errno));
        if (mq_unlink(name) == -1)      /* the child inherits the descriptor through fork */
            die("mq_unlink %s: %s", name, strerror(errno));
        ch->link[d].mq = mq;
        ch->link[d].piece = (size_t)attr.mq_msgsize;
    }
}

static void mq_send_pieces(struct link *l, const unsigned char *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        size_t piece = n - off < l->piece ? n - off : l->piece;
        struct timespec until = deadline_in(CLOCK_REALTIME, WAIT_SLICE_MS);
        if (mq_timedsend(l->mq, (const char *)buf + off, piece, 0, &until) == 0)
            off += piece;
        else if (errno == ETIMEDOUT || errno == EINTR)
            check_peer();
        else
            die_errno("mq_timedsend");
    }
}

static void mq_recv_pieces(struct link *l, unsigned char *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        size_t piece = n - off < l->piece ? n - off : l->piece;
        struct timespec until = deadline_in(CLOCK_REALTIME, WAIT_SLICE_MS);
        /* room for a whole piece even for a short last one: the stage has a piece to spare */
        ssize_t got = mq_timedreceive(l->mq, (char *)buf + off, l->piece, NULL, &until);
        if (got == -1) {
            if (errno != ETIMEDOUT && errno != EINTR)
                die_errno("mq_timedreceive");
            check_peer();
            continue;
        }
        if ((size_t)got != piece)
            verification_failed("mqueue: a piece of %zd bytes arrived, expected %zu", got, piece);
        off += piece;
    }
}

/* ---------- shared memory: a POSIX shm object, its name removed once it is mapped ---------- */

static void *map_shared(struct channel *ch, const char *suffix, size_t bytes)
{
    char name[64];
    snprintf(name, sizeof name, "/ch03-ipc-%d-%s", (int)getpid(), suffix);
    ch->mapping_bytes = bytes;
    return ch->mapping = map_shared_memory(name, bytes);
}

/* ---------- queue: slots in shared memory under a process-shared mutex ---------- */

enum { QUEUE_SLOTS = 16, QUEUE_SLOT_BYTES = 4096 };   /* 64 KiB: what a pipe holds by default */

struct shm_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    uint32_t head, tail;                 /* slots taken, slots put: tail - head are full */
    uint32_t length[QUEUE_SLOTS];
    alignas(64) unsigned char slot[QUEUE_SLOTS][QUEUE_SLOT_BYTES];
};

static void check_pthread(int err, const char *call)
{
    if (err == EOWNERDEAD)   /* a robust mutex whose owner died holding it */
        peer_gone("the mutex owner died holding it");
    if (err)
        die_err(err, call);
}

static void create_queues(struct channel *ch)
{
    struct shm_queue *q = map_shared(ch, "queue", 2 * sizeof *q);
    pthread_mutexattr_t ma;     /* shared between processes; robust: a dead owner is seen */
    pthread_condattr_t ca;
    int err;
    if ((err = pthread_mutexattr_init(&ma)) || (err = pthread_condattr_init(&ca))
        || (err = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED))
        || (err = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST))
        || (err = pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED))
        || (err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)))
        die_err(err, "pthread_mutexattr/condattr");
    for (int d = DOWN; d <= UP; d++) {
        check_pthread(pthread_mutex_init(&q[d].lock, &ma), "pthread_mutex_init");
        check_pthread(pthread_cond_init(&q[d].not_empty, &ca), "pthread_cond_init");
        check_pthread(pthread_cond_init(&q[d].not_full, &ca), "pthread_cond_init");
        ch->link[d].queue = &q[d];
    }
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_destroy(&ca);
}

static void queue_wait(struct shm_queue *q, pthread_cond_t *cond)
{
    struct timespec until = deadline_in(CLOCK_MONOTONIC, WAIT_SLICE_MS);
    int err = pthread_cond_timedwait(cond, &q->lock, &until);
    if (err == ETIMEDOUT)
        check_peer();
    else
        check_pthread(err, "pthread_cond_timedwait");
}

/* book:queue */
static void queue_send(struct link *l, const unsigned char *buf, size_t n)
{
    struct shm_queue *q = l->queue;
    for (size_t off = 0; off < n; off += QUEUE_SLOT_BYTES) {
        size_t piece = n - off < QUEUE_SLOT_BYTES ? n - off : QUEUE_SLOT_BYTES;
        check_pthread(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
        while (q->tail - q->head == QUEUE_SLOTS)
            queue_wait(q, &q->not_full);
        memcpy(q->slot[q->tail % QUEUE_SLOTS], buf + off, piece);
        q->length[q->tail % QUEUE_SLOTS] = (uint32_t)piece;
        q->tail++;
        check_pthread(pthread_cond_signal(&q->not_empty), "pthread_cond_signal");
        check_pthread(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
    }
}
/* end:queue */

static void queue_recv(struct link *l, unsigned char *buf, size_t n)
{
    struct shm_queue *q = l->queue;
    for (size_t off = 0; off < n; off += QUEUE_SLOT_BYTES) {
        size_t piece = n - off < QUEUE_SLOT_BYTES ? n - off : QUEUE_SLOT_BYTES;
        check_pthread(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
        while (q->tail == q->head)
            queue_wait(q, &q->not_empty);
        uint32_t got = q->length[q->head % QUEUE_SLOTS];
        if (got != piece)
            verification_failed("queue: a slot of %" PRIu32 " bytes, expected %zu", got, piece);
        memcpy(buf + off, q->slot[q->head % QUEUE_SLOTS], piece);
        q->head++;
        check_pthread(pthread_cond_signal(&q->not_full), "pthread_cond_signal");
        check_pthread(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
    }
}

/* ---------- shm-ring and shm-zero-copy: two counters, and a futex to sleep on ---------- */

/* The producer only ever moves tail, the consumer only head; each on its own cache line.
 * Counters wrap at 2^32; capacity (bytes or slots) is a power of two, so tail - head is
 * always the number of bytes or messages in flight. */
enum { RING_BYTES = 1 << 16, RING_HEADER = 8192 };
enum { ZERO_COPY_MIN_SLOTS = 4, ZERO_COPY_MAX_SLOTS = RING_BYTES / 64 };

struct ring {
    alignas(64) _Atomic uint32_t tail;
    _Atomic uint32_t consumer_sleeping;
    alignas(64) _Atomic uint32_t head;
    _Atomic uint32_t producer_sleeping;
    alignas(64) uint32_t capacity;
    uint32_t slot_length[ZERO_COPY_MAX_SLOTS];
};
_Static_assert(sizeof(struct ring) <= RING_HEADER, "the ring's header must fit before its data");

static void futex_wait(_Atomic uint32_t *word, uint32_t seen)
{
    struct timespec slice = {0, WAIT_SLICE_MS * 1000000L};
    /* The kernel sleeps only if *word still equals seen: a wake-up between our check and
     * this call is never lost. Not FUTEX_PRIVATE: the word is shared between processes. */
    if (syscall(SYS_futex, (void *)word, FUTEX_WAIT, seen, &slice, NULL, 0) == -1) {
        if (errno == ETIMEDOUT || errno == EINTR)
            check_peer();
        else if (errno != EAGAIN)
            die_errno("futex(FUTEX_WAIT)");
    }
}

static void futex_wake(_Atomic uint32_t *word)
{
    if (syscall(SYS_futex, (void *)word, FUTEX_WAKE, 1, NULL, NULL, 0) == -1)
        die_errno("futex(FUTEX_WAKE)");
}

/* book:ring */
/* Sleep until *counter moves away from seen. Announce the sleep first, then look again:
 * together with move_and_wake (store, then look at the flag) one of the two always sees
 * the other's store (seq_cst), so a wake-up is never missed and nobody spins. */
static void sleep_until_moved(_Atomic uint32_t *counter, uint32_t seen,
                              _Atomic uint32_t *sleeping)
{
    atomic_store(sleeping, 1);
    if (atomic_load(counter) == seen)
        futex_wait(counter, seen);
    atomic_store_explicit(sleeping, 0, memory_order_relaxed);
}

static void move_and_wake(_Atomic uint32_t *counter, uint32_t value, _Atomic uint32_t *sleeping)
{
    atomic_store(counter, value);   /* publishes everything written before it */
    if (atomic_load(sleeping))
        futex_wake(counter);        /* a system call only when the other side sleeps */
}

/* Producer: room for at least one byte (or slot). */
static uint32_t ring_space(struct ring *r)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    for (;;) {
        uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail - head < r->capacity)
            return r->capacity - (tail - head);
        sleep_until_moved(&r->head, head, &r->producer_sleeping);
    }
}

/* Consumer: at least one byte (or message) to take. */
static uint32_t ring_ready(struct ring *r)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (tail != head)
            return tail - head;
        sleep_until_moved(&r->tail, tail, &r->consumer_sleeping);
    }
}
/* end:ring */

static void create_rings(struct channel *ch, const char *suffix, uint32_t capacity,
                         size_t slot_bytes)
{
    size_t area = (size_t)capacity * slot_bytes;
    unsigned char *base = map_shared(ch, suffix, 2 * (RING_HEADER + area));
    memset(base, 0, 2 * (RING_HEADER + area));     /* fault the pages in before timing */
    for (int d = DOWN; d <= UP; d++) {
        unsigned char *at = base + (size_t)d * (RING_HEADER + area);
        ch->link[d].ring = (struct ring *)at;
        ch->link[d].ring->capacity = capacity;
        ch->link[d].data = at + RING_HEADER;
        ch->link[d].slot_bytes = slot_bytes;
    }
}

static void create_byte_rings(struct channel *ch) { create_rings(ch, "ring", RING_BYTES, 1); }

/* The part of n that fits from position `at` on: what is free (or ready), up to the end. */
static size_t ring_chunk(const struct ring *r, uint32_t at, uint32_t available, size_t n)
{
    size_t chunk = n < available ? n : available;
    return chunk < r->capacity - at ? chunk : r->capacity - at;   /* the rest wraps around */
}

static void ring_send(struct link *l, const unsigned char *buf, size_t n)
{
    struct ring *r = l->ring;
    for (size_t chunk; n > 0; buf += chunk, n -= chunk) {
        uint32_t space = ring_space(r);
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        chunk = ring_chunk(r, tail & (r->capacity - 1), space, n);
        memcpy(l->data + (tail & (r->capacity - 1)), buf, chunk);
        move_and_wake(&r->tail, tail + (uint32_t)chunk, &r->consumer_sleeping);
    }
}

static void ring_recv(struct link *l, unsigned char *buf, size_t n)
{
    struct ring *r = l->ring;
    for (size_t chunk; n > 0; buf += chunk, n -= chunk) {
        uint32_t ready = ring_ready(r);
        uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        chunk = ring_chunk(r, head & (r->capacity - 1), ready, n);
        memcpy(buf, l->data + (head & (r->capacity - 1)), chunk);
        move_and_wake(&r->head, head + (uint32_t)chunk, &r->producer_sleeping);
    }
}

/* shm-zero-copy: the same two counters count whole messages, in as many slots as fill the
 * shm-ring's 64 KiB (at least 4), so small messages are not held back by a short ring. */
static void create_zero_copy(struct channel *ch)
{
    uint32_t slots = ZERO_COPY_MIN_SLOTS;
    while (slots < ZERO_COPY_MAX_SLOTS && (size_t)slots * ch->max_msg < RING_BYTES)
        slots *= 2;
    create_rings(ch, "zero-copy", slots, ch->max_msg);
}

/* book:zero-copy */
static unsigned char *zero_copy_claim(struct link *l, size_t n)
{
    (void)n;                                    /* every slot holds the largest message */
    struct ring *r = l->ring;
    ring_space(r);                              /* wait for a free slot */
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    return l->data + (tail & (r->capacity - 1)) * l->slot_bytes;   /* the sender writes here */
}

static void zero_copy_publish(struct link *l, size_t n)
{
    struct ring *r = l->ring;
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    r->slot_length[tail & (r->capacity - 1)] = (uint32_t)n;
    move_and_wake(&r->tail, tail + 1, &r->consumer_sleeping);   /* the only thing that crosses */
}

static const unsigned char *zero_copy_receive(struct link *l, size_t n)
{
    struct ring *r = l->ring;
    ring_ready(r);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t slot = head & (r->capacity - 1);
    if (r->slot_length[slot] != n)
        verification_failed("shm-zero-copy: a message of %" PRIu32 " bytes, expected %zu",
                            r->slot_length[slot], n);
    return l->data + slot * l->slot_bytes;                      /* read in place */
}

static void zero_copy_release(struct link *l)
{
    uint32_t head = atomic_load_explicit(&l->ring->head, memory_order_relaxed);
    move_and_wake(&l->ring->head, head + 1, &l->ring->producer_sleeping);
}
/* end:zero-copy */

/* ---------- the seven channels ---------- */

/* book:channels */
static const struct channel_kind channels[CHANNEL_COUNT] = {
    {"pipe", create_pipes, .send = fd_send, .recv = fd_recv},
    {"socketpair", create_socketpair, .send = fd_send, .recv = fd_recv},
    {"fifo", create_fifos, .send = fd_send, .recv = fd_recv},
    {"mqueue", create_mqueues, .send = mq_send_pieces, .recv = mq_recv_pieces},
    {"queue", create_queues, .send = queue_send, .recv = queue_recv},
    {"shm-ring", create_byte_rings, .send = ring_send, .recv = ring_recv},
    {"shm-zero-copy", create_zero_copy, .claim = zero_copy_claim, .publish = zero_copy_publish,
     .receive = zero_copy_receive, .release = zero_copy_release},
};
/* end:channels */

const char *channel_name(int kind) { return channels[kind].name; }

int channel_named(const char *name)
{
    for (int k = 0; k < CHANNEL_COUNT; k++)
        if (strcmp(name, channels[k].name) == 0)
            return k;
    return -1;
}

struct channel *open_channel(int kind, size_t max_msg)
{
    struct channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        die_errno("calloc");
    ch->kind = &channels[kind];
    ch->max_msg = max_msg;
    for (int d = DOWN; d <= UP; d++)
        ch->link[d].read_fd = ch->link[d].write_fd = -1;
    ch->kind->create(ch);
    return ch;
}

/* Each side's own part: its ends of the kernel's channels, its private message buffers. */
void attach_channel(struct channel *ch, bool parent)
{
    if (ch->link[DOWN].read_fd != -1)
        close_unused_ends(ch, parent);
    if (ch->kind->claim)
        return;
    for (int d = DOWN; d <= UP; d++) {
        size_t room = ch->max_msg + ch->link[d].piece;        /* (mqueue: a piece to spare) */
        if (!(ch->link[d].stage = malloc(room)))
            die_errno("malloc");
        memset(ch->link[d].stage, 0, room);          /* fault the pages in before timing */
    }
}

void close_channel(struct channel *ch)
{
    for (int d = DOWN; d <= UP; d++) {
        struct link *l = &ch->link[d];
        if ((l->read_fd != -1 && close(l->read_fd) == -1)
            || (l->write_fd != -1 && close(l->write_fd) == -1))
            die_errno("close");
        if (l->piece && mq_close(l->mq) == -1)      /* piece: set for an mqueue only */
            die_errno("mq_close");
        free(l->stage);
    }
    if (ch->mapping && munmap(ch->mapping, ch->mapping_bytes) == -1)
        die_errno("munmap");
    free(ch);
}

void send_bytes(struct channel *ch, enum direction dir, const void *buf, size_t n)
{
    ch->kind->send(&ch->link[dir], buf, n);
}

void receive_bytes(struct channel *ch, enum direction dir, void *buf, size_t n)
{
    ch->kind->recv(&ch->link[dir], buf, n);
}
