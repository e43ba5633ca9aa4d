/* ch03-ipc - pipes vs queues vs shared memory, and what serialization costs.
 *
 * Two processes, one sender and one receiver, and seven ways for bytes to cross between
 * them. Every channel runs under the same driver, the same payload and the same check;
 * the channels differ only in how the bytes cross:
 *   pipe           pipe(2): write copies into a kernel buffer, read copies out
 *   socketpair     AF_UNIX stream sockets: the same two copies, through socket buffers
 *   fifo           a named pipe (mkfifo in a private temp dir): a pipe found by its path
 *   mqueue         POSIX message queue, a message sent in pieces of the queue's message size
 *   queue          what Python calls a Queue: a bounded queue of slots in shared memory,
 *                  guarded by a process-shared mutex and two condition variables
 *   shm-ring       a single-producer single-consumer byte ring in shared memory: C11 atomics,
 *                  and a futex to sleep on when it is empty or full (never a busy spin)
 *   shm-zero-copy  the sender writes the message into a shared slot and the receiver checks
 *                  it in place: only a slot number crosses
 *
 * Three experiments, each its own TSV file and --only name:
 *   latency        round trip of a 64-byte message (ping-pong), per channel, with both
 *                  processes on one CPU (--pin same, x=1) and on two (--pin spread, x=2);
 *                  without --pin both are measured; --pin none lets the scheduler place (x=0)
 *   bandwidth      one-way throughput against message size, per channel, beside the
 *                  single-core memcpy bandwidth of this machine (variant memcpy): the ceiling
 *   serialization  1,000,000 integers sent as text (printf/strtoll), as length-prefixed binary
 *                  records, as the raw array through a pipe, and raw in place (shared memory):
 *                  encode, transfer and decode time, bytes on the wire
 *
 * Usage: ch03-ipc [--quick | --full] [--only latency|bandwidth|serialization]
 *                 [--channel NAME] [--pin none|same|spread] [--max-size SIZE] [--ints N]
 *                 [--corrupt-at N] [--trials N] [--seed S] [--out DIR]
 * Linux only (futex, POSIX message queues, sched_setaffinity, PR_SET_PDEATHSIG).
 * Exit: 0 ok, 1 runtime or verification failure, 2 usage error.
 *
 * Sample output line (latency: us per round trip, median (min), on one CPU, on two, ratio):
 *   shm-zero-copy   3.4 (3.4)             17.3 (16.7)             5.12x
 * What to look for: on one CPU a pipe round trip is a few microseconds, across two CPUs
 * several times more (each message wakes a sleeping CPU); small messages rank channels by
 * per-message cost, large ones by the copies they make, and the zero-copy channel runs
 * near memcpy speed; text encoding costs far more than moving its bytes.
 *
 * Verification: every word of every message is checked against a running sequence, so a
 * lost, repeated, reordered or changed byte fails the run (--corrupt-at proves it); decoded
 * integers must equal the originals; the peer process must exit 0 and is always reaped.
 * Named objects (/dev/shm/ch03-ipc-<pid>-*, /dev/mqueue/ch03-ipc-<pid>-*, the FIFO directory
 * $TMPDIR/ch03-ipc-<pid>-fifo-*) are removed as soon as both processes hold them, and by the
 * cleanup on exit, on SIGINT/SIGTERM and when the peer process dies.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "cli.h"
#include "bench.h"

static const char usage[] =
    "Usage: ch03-ipc [--quick | --full] [--only latency|bandwidth|serialization]\n"
    "                [--channel NAME] [--pin none|same|spread] [--max-size SIZE] [--ints N]\n"
    "                [--corrupt-at N] [--trials N] [--seed S] [--out DIR]\n"
    "Pipes vs queues vs shared memory, and what serialization costs (Linux only).\n"
    "  --channel NAME   latency and bandwidth for one channel only: pipe, socketpair, fifo,\n"
    "                   mqueue, queue, shm-ring, shm-zero-copy (default: all)\n"
    "  --pin            latency: without --pin both same (x=1) and spread (x=2) are measured;\n"
    "                   bandwidth and serialization: spread unless --pin says otherwise\n"
    "  --max-size SIZE  largest bandwidth message, a multiple of 8 (64 to 64M; default 256K\n"
    "                   quick, 4M default, 16M full); sizes go 64, 256, 1K, ... up to it\n"
    "  --ints N         integers in the serialization experiment (1 to 10000000;\n"
    "                   default 100000 quick, 1000000 otherwise)\n"
    "  --corrupt-at N   fault injection: every sender flips one bit of byte N of what it sends\n"
    "                   (0 to 2^40); the run must end with 'verification failed' and exit 1\n"
    "Writes results/ch03-latency.tsv (x = CPUs used: 1 same, 2 spread, 0 scheduler; us per\n"
    "round trip), ch03-bandwidth.tsv (x = message size in KiB; GB/s = 10^9 bytes/s, variant memcpy\n"
    "is the ceiling) and ch03-serialization.tsv (x = integers; variants FORMAT/encode,\n"
    "/transfer, /decode, /total in ms, /wire in bytes, /share = encode+decode in % of total).\n";

static const char *const experiments[] = {"latency", "bandwidth", "serialization"};

/* The plumbing at the end of the file, used by every channel while it waits. */
static void check_peer(void);
__attribute__((noreturn)) static void peer_gone(const char *how);
__attribute__((noreturn)) static void report_peer_end(int status);
static void remember_name(int kind, const char *name);
static void forget_name(const char *name);
static void remove_names(void);

enum { CORRUPT_BIT = 0x01 };
enum { WAIT_SLICE_MS = 200 };   /* a blocked side checks on its peer this often */

/* ---------- the payload and its check ---------- */

/* book:stream */
/* Word w of a stream is w * GOLDEN + salt. Multiplying by an odd constant is a bijection,
 * so no two words of a run are equal: a lost, repeated, reordered or changed byte makes
 * some word differ from the one the receiver expects next. */
static const uint64_t GOLDEN = 0x9e3779b97f4a7c15u;
enum { WORD = sizeof(uint64_t) };

struct stream {
    uint64_t next;          /* index of the next word */
    uint64_t salt;          /* one per direction: a reply cannot pass for an echo */
    uint64_t corrupt_at;    /* --corrupt-at: the byte the sender flips; UINT64_MAX: none */
    const char *what;       /* "bandwidth pipe 64K", for the failure message */
};

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
    if (differ) {
        for (size_t i = 0; i < bytes; i++) {
            uint64_t expected = (s->next + i / WORD) * GOLDEN + s->salt;
            unsigned char want = ((const unsigned char *)&expected)[i % WORD];
            if (msg[i] != want)
                verification_failed("%s: byte %" PRIu64 " of the stream is 0x%02x, expected 0x%02x "
                                     "(a lost, repeated, reordered or changed byte)",
                                     s->what, s->next * WORD + i, msg[i], want);
        }
    }
    s->next += bytes / WORD;
}
/* end:stream */

/* ---------- the channels: one interface, seven ways across ---------- */

enum { DOWN, UP };   /* link[DOWN]: parent -> child, link[UP]: child -> parent */

/* One direction of a channel, as one side sees it. */
struct link {
    int read_fd, write_fd;          /* pipe, socketpair, fifo */
    mqd_t mq;                       /* mqueue */
    size_t piece;                   /* mqueue: its message size */
    struct shm_queue *queue;        /* queue */
    struct ring *ring;              /* shm-ring, shm-zero-copy */
    unsigned char *data;            /* their data area in the shared mapping */
    size_t slot_bytes;              /* shm-zero-copy: one message slot */
    unsigned char *stage;           /* this side's private message buffer (copying channels) */
    unsigned char *bounce;          /* mqueue: a whole piece, for a short last piece */
};

struct channel {
    const struct channel_kind *kind;
    size_t max_msg;
    struct link link[2];
    void *mapping;
    size_t mapping_bytes;
    char fifo_dir[PATH_MAX], fifo_path[2][PATH_MAX];
};

/* A copying channel implements send and recv (exactly n bytes). The zero-copy channel
 * instead lends the sender a place to write (claim, publish) and the receiver the place
 * to read (receive, release). The driver only ever calls the four functions below. */
struct channel_kind {
    const char *name;
    const char *path;   /* how a byte crosses */
    void (*create)(struct channel *ch);             /* in the parent, before fork */
    void (*attach)(struct channel *ch, bool parent); /* on each side, after fork */
    void (*send)(struct link *l, const unsigned char *buf, size_t n);
    void (*recv)(struct link *l, unsigned char *buf, size_t n);
    unsigned char *(*claim)(struct link *l, size_t n);
    void (*publish)(struct link *l, size_t n);
    const unsigned char *(*receive)(struct link *l, size_t n);
    void (*release)(struct link *l);
};

static unsigned char *claim(const struct channel *ch, struct link *l, size_t n)
{
    return ch->kind->claim ? ch->kind->claim(l, n) : l->stage;
}

static void publish(const struct channel *ch, struct link *l, size_t n)
{
    if (ch->kind->publish)
        ch->kind->publish(l, n);
    else
        ch->kind->send(l, l->stage, n);
}

static const unsigned char *receive(const struct channel *ch, struct link *l, size_t n)
{
    if (ch->kind->receive)
        return ch->kind->receive(l, n);
    ch->kind->recv(l, l->stage, n);
    return l->stage;
}

static void release(const struct channel *ch, struct link *l)
{
    if (ch->kind->release)
        ch->kind->release(l);
}

/* ---------- pipe, socketpair, fifo: write(2) and read(2) through the kernel ---------- */

/* book:fd-copy */
static void write_all(struct link *l, const unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t done = write(l->write_fd, buf, n);   /* copy 1: into the kernel's buffer */
        if (done == -1) {
            if (errno == EINTR) { check_peer(); continue; }
            if (errno == EPIPE || errno == ECONNRESET) peer_gone("write: the reader is gone");
            die_errno("write");
        }
        buf += done;
        n -= (size_t)done;
    }
}

static void read_all(struct link *l, unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t done = read(l->read_fd, buf, n);     /* copy 2: out of it; sleeps while empty */
        if (done == 0)
            peer_gone("read: end of file, the writer is gone");
        if (done == -1) {
            if (errno == EINTR) { check_peer(); continue; }
            if (errno == ECONNRESET) peer_gone("read: connection reset");
            die_errno("read");
        }
        buf += done;
        n -= (size_t)done;
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
    int sv[2];   /* one bidirectional pair: the parent owns sv[0], the child sv[1] */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die_errno("socketpair");
    ch->link[DOWN] = (struct link){.read_fd = sv[1], .write_fd = sv[0]};
    ch->link[UP] = (struct link){.read_fd = sv[0], .write_fd = sv[1]};
}

/* Each side closes the ends it does not use, so that when one side dies the other reads
 * end-of-file or gets EPIPE instead of waiting forever. */
static void close_unused_ends(struct channel *ch, bool parent)
{
    int *a = parent ? &ch->link[DOWN].read_fd : &ch->link[DOWN].write_fd;
    int *b = parent ? &ch->link[UP].write_fd : &ch->link[UP].read_fd;
    if (close(*a) == -1)
        die_errno("close");
    if (*b != *a && close(*b) == -1)
        die_errno("close");
    *a = *b = -1;   /* (a socketpair's two links share one descriptor per side) */
}

static void create_fifos(struct channel *ch)
{
    const char *tmp = getenv("TMPDIR");
    if (snprintf(ch->fifo_dir, sizeof ch->fifo_dir - 8, "%s/ch03-ipc-%d-fifo-XXXXXX", tmp && *tmp ? tmp : "/tmp",
                 (int)getpid()) >= (int)sizeof ch->fifo_dir - 8)
        die("TMPDIR is too long a path");
    if (!mkdtemp(ch->fifo_dir))
        die("mkdtemp %s: %s", ch->fifo_dir, strerror(errno));
    remember_name('d', ch->fifo_dir);
    for (int d = DOWN; d <= UP; d++) {
        if (snprintf(ch->fifo_path[d], sizeof ch->fifo_path[d], "%s/%s", ch->fifo_dir, d == DOWN ? "down" : "up")
            >= (int)sizeof ch->fifo_path[d])
            die("TMPDIR is too long a path");
        if (mkfifo(ch->fifo_path[d], 0600) == -1)
            die("mkfifo %s: %s", ch->fifo_path[d], strerror(errno));
        remember_name('f', ch->fifo_path[d]);
        ch->link[d].read_fd = ch->link[d].write_fd = -1;
    }
}

static int open_fifo_end(const char *path, int flags)
{
    for (;;) {
        int fd = open(path, flags | O_NONBLOCK);   /* never blocks: a dead peer cannot hang us */
        if (fd != -1) {
            if (fcntl(fd, F_SETFL, flags) == -1)   /* then blocking reads and writes as usual */
                die_errno("fcntl");
            return fd;
        }
        if (errno != ENXIO)                          /* ENXIO: no reader has opened it yet */
            die("open %s: %s", path, strerror(errno));
        check_peer();
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

/* The order matters: the parent holds its write end of "down" before it opens "up" for
 * reading, and the child opens "up" for writing only once that reader exists, so when the
 * child says it is ready both directions have a reader and a writer. */
static void attach_fifos(struct channel *ch, bool parent)
{
    if (parent) {
        ch->link[DOWN].write_fd = open_fifo_end(ch->fifo_path[DOWN], O_WRONLY);
        ch->link[UP].read_fd = open_fifo_end(ch->fifo_path[UP], O_RDONLY);
    } else {
        ch->link[DOWN].read_fd = open_fifo_end(ch->fifo_path[DOWN], O_RDONLY);
        ch->link[UP].write_fd = open_fifo_end(ch->fifo_path[UP], O_WRONLY);
    }
}

/* ---------- mqueue: a POSIX message queue, whole messages in pieces ---------- */

static long proc_limit(const char *path, long fallback)
{
    long value = fallback;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &value) != 1)
            value = fallback;
        fclose(f);
    }
    return value;
}

/* A deadline for the timed waits: mq_timed* take CLOCK_REALTIME; nothing is measured with it. */
static struct timespec deadline_in(clockid_t clock, long ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static void create_mqueues(struct channel *ch)
{
    struct mq_attr attr = {0};
    long size_max = proc_limit("/proc/sys/fs/mqueue/msgsize_max", 8192);
    long count_max = proc_limit("/proc/sys/fs/mqueue/msg_max", 10);
    attr.mq_msgsize = size_max < 8192 ? size_max : 8192;
    attr.mq_maxmsg = count_max < 10 ? count_max : 10;
    for (int d = DOWN; d <= UP; d++) {
        char name[64];
        snprintf(name, sizeof name, "/ch03-ipc-%d-%s", (int)getpid(), d == DOWN ? "down" : "up");
        mqd_t mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
        if (mq == (mqd_t)-1)
            die("mq_open %s: %s", name, strerror(errno));
        remember_name('q', name);
        /* The child inherits the descriptor through fork, so the name can go at once. */
        if (mq_unlink(name) == -1)
            die("mq_unlink %s: %s", name, strerror(errno));
        forget_name(name);
        ch->link[d] = (struct link){.read_fd = -1, .write_fd = -1, .mq = mq, .piece = (size_t)attr.mq_msgsize};
    }
}

static void attach_mqueue(struct channel *ch, bool parent)
{
    (void)parent;
    for (int d = DOWN; d <= UP; d++)
        if (!(ch->link[d].bounce = malloc(ch->link[d].piece)))
            die_errno("malloc");
}

static void mq_send_all(struct link *l, const unsigned char *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        size_t piece = n - off < l->piece ? n - off : l->piece;
        struct timespec until = deadline_in(CLOCK_REALTIME, WAIT_SLICE_MS);
        if (mq_timedsend(l->mq, (const char *)buf + off, piece, 0, &until) == -1) {
            if (errno == ETIMEDOUT || errno == EINTR) { check_peer(); continue; }
            die_errno("mq_timedsend");
        }
        off += piece;
    }
}

static void mq_recv_all(struct link *l, unsigned char *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        size_t piece = n - off < l->piece ? n - off : l->piece;
        /* mq_receive wants room for a whole piece; a short last one lands in the bounce buffer */
        unsigned char *into = piece == l->piece ? buf + off : l->bounce;
        struct timespec until = deadline_in(CLOCK_REALTIME, WAIT_SLICE_MS);
        ssize_t got = mq_timedreceive(l->mq, (char *)into, l->piece, NULL, &until);
        if (got == -1) {
            if (errno == ETIMEDOUT || errno == EINTR) { check_peer(); continue; }
            die_errno("mq_timedreceive");
        }
        if ((size_t)got != piece)
            verification_failed("mqueue: a piece of %zd bytes arrived, expected %zu", got, piece);
        if (into == l->bounce)
            memcpy(buf + off, l->bounce, piece);
        off += piece;
    }
}

/* ---------- shared memory: named, mapped, then the name removed ---------- */

static void *map_shared(struct channel *ch, const char *suffix, size_t bytes)
{
    char name[64];
    snprintf(name, sizeof name, "/ch03-ipc-%d-%s", (int)getpid(), suffix);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd == -1)
        die("shm_open %s: %s", name, strerror(errno));
    remember_name('s', name);
    if (ftruncate(fd, (off_t)bytes) == -1)
        die_errno("ftruncate");
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die_errno("mmap");
    if (close(fd) == -1)
        die_errno("close");
    /* An unrelated process would shm_open(name) now; a forked child inherits the mapping,
     * so the name can go before anything can fail. */
    if (shm_unlink(name) == -1)
        die("shm_unlink %s: %s", name, strerror(errno));
    forget_name(name);
    ch->mapping = p;
    ch->mapping_bytes = bytes;
    return p;
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
    if (err) {
        errno = err;
        die_errno(call);
    }
}

static void create_queues(struct channel *ch)
{
    struct shm_queue *q = map_shared(ch, "queue", 2 * sizeof *q);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    check_pthread(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
    check_pthread(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED), "pthread_mutexattr_setpshared");
    check_pthread(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST), "pthread_mutexattr_setrobust");
    check_pthread(pthread_condattr_init(&ca), "pthread_condattr_init");
    check_pthread(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), "pthread_condattr_setpshared");
    check_pthread(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), "pthread_condattr_setclock");
    for (int d = DOWN; d <= UP; d++) {
        check_pthread(pthread_mutex_init(&q[d].lock, &ma), "pthread_mutex_init");
        check_pthread(pthread_cond_init(&q[d].not_empty, &ca), "pthread_cond_init");
        check_pthread(pthread_cond_init(&q[d].not_full, &ca), "pthread_cond_init");
        ch->link[d] = (struct link){.read_fd = -1, .write_fd = -1, .queue = &q[d]};
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
static void sleep_until_moved(_Atomic uint32_t *counter, uint32_t seen, _Atomic uint32_t *sleeping)
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

static void create_rings(struct channel *ch, const char *suffix, uint32_t capacity, size_t slot_bytes)
{
    size_t area = (size_t)capacity * slot_bytes;
    unsigned char *base = map_shared(ch, suffix, 2 * (RING_HEADER + area));
    memset(base, 0, 2 * (RING_HEADER + area));     /* fault the pages in before timing */
    for (int d = DOWN; d <= UP; d++) {
        unsigned char *at = base + (size_t)d * (RING_HEADER + area);
        struct ring *r = (struct ring *)at;
        r->capacity = capacity;
        ch->link[d] = (struct link){.read_fd = -1, .write_fd = -1, .ring = r,
                                    .data = at + RING_HEADER, .slot_bytes = slot_bytes};
    }
}

static void create_byte_rings(struct channel *ch) { create_rings(ch, "ring", RING_BYTES, 1); }

static void ring_send(struct link *l, const unsigned char *buf, size_t n)
{
    struct ring *r = l->ring;
    while (n > 0) {
        uint32_t space = ring_space(r);
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint32_t at = tail & (r->capacity - 1);
        size_t chunk = n < space ? n : space;
        if (chunk > r->capacity - at)
            chunk = r->capacity - at;            /* up to the end; the rest wraps to the start */
        memcpy(l->data + at, buf, chunk);
        move_and_wake(&r->tail, tail + (uint32_t)chunk, &r->consumer_sleeping);
        buf += chunk;
        n -= chunk;
    }
}

static void ring_recv(struct link *l, unsigned char *buf, size_t n)
{
    struct ring *r = l->ring;
    while (n > 0) {
        uint32_t ready = ring_ready(r);
        uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        uint32_t at = head & (r->capacity - 1);
        size_t chunk = n < ready ? n : ready;
        if (chunk > r->capacity - at)
            chunk = r->capacity - at;
        memcpy(buf, l->data + at, chunk);
        move_and_wake(&r->head, head + (uint32_t)chunk, &r->producer_sleeping);
        buf += chunk;
        n -= chunk;
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
    ring_space(l->ring);                        /* wait for a free slot */
    uint32_t tail = atomic_load_explicit(&l->ring->tail, memory_order_relaxed);
    return l->data + (tail & (l->ring->capacity - 1)) * l->slot_bytes;   /* the sender writes here */
}

static void zero_copy_publish(struct link *l, size_t n)
{
    struct ring *r = l->ring;
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    r->slot_length[tail & (r->capacity - 1)] = (uint32_t)n;
    move_and_wake(&r->tail, tail + 1, &r->consumer_sleeping);     /* the only thing that crosses */
}

static const unsigned char *zero_copy_receive(struct link *l, size_t n)
{
    struct ring *r = l->ring;
    ring_ready(r);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t slot = head & (r->capacity - 1);
    if (r->slot_length[slot] != n)
        verification_failed("shm-zero-copy: a message of %" PRIu32 " bytes, expected %zu", r->slot_length[slot], n);
    return l->data + slot * l->slot_bytes;                        /* read in place */
}

static void zero_copy_release(struct link *l)
{
    uint32_t head = atomic_load_explicit(&l->ring->head, memory_order_relaxed);
    move_and_wake(&l->ring->head, head + 1, &l->ring->producer_sleeping);
}
/* end:zero-copy */

/* book:channels */
static const struct channel_kind channels[] = {
    {"pipe", "write copies into a pipe buffer, read copies out",
     create_pipes, close_unused_ends, write_all, read_all, NULL, NULL, NULL, NULL},
    {"socketpair", "the same two copies, through AF_UNIX socket buffers",
     create_socketpair, close_unused_ends, write_all, read_all, NULL, NULL, NULL, NULL},
    {"fifo", "a pipe with a name in the file system",
     create_fifos, attach_fifos, write_all, read_all, NULL, NULL, NULL, NULL},
    {"mqueue", "mq_send copies each piece into the kernel, mq_receive out",
     create_mqueues, attach_mqueue, mq_send_all, mq_recv_all, NULL, NULL, NULL, NULL},
    {"queue", "memcpy into a shared slot under a mutex, memcpy out",
     create_queues, NULL, queue_send, queue_recv, NULL, NULL, NULL, NULL},
    {"shm-ring", "memcpy into a shared ring, memcpy out; a futex when empty or full",
     create_byte_rings, NULL, ring_send, ring_recv, NULL, NULL, NULL, NULL},
    {"shm-zero-copy", "written and read in place; a slot number crosses",
     create_zero_copy, NULL, NULL, NULL, zero_copy_claim, zero_copy_publish,
     zero_copy_receive, zero_copy_release},
};
/* end:channels */
enum { CHANNEL_COUNT = sizeof channels / sizeof channels[0] };

/* ---------- the driver: the same for every channel ---------- */

/* book:driver */
static void send_message(struct channel *ch, int dir, struct stream *s, size_t bytes)
{
    unsigned char *msg = claim(ch, &ch->link[dir], bytes);
    fill_stream(s, msg, bytes);
    publish(ch, &ch->link[dir], bytes);
}

static void receive_message(struct channel *ch, int dir, struct stream *s, size_t bytes)
{
    const unsigned char *msg = receive(ch, &ch->link[dir], bytes);
    check_stream(s, msg, bytes);        /* every byte that arrives, on every channel */
    release(ch, &ch->link[dir]);
}
/* end:driver */

/* ---------- the peer process: started, watched, reaped ---------- */

enum placement { ON_ONE_CPU, ON_TWO_CPUS, ANYWHERE };
static const char *const placement_names[] = {"same", "spread", "none"};

static struct {
    pid_t pid;              /* 0 when no peer runs */
    const char *role;       /* "sender" or "echo": what the child does */
    char task[96];          /* "bandwidth pipe 64K" */
    int control;            /* the parent's end of the control socket */
} peer = {0, "", "", -1};
static pid_t owner_pid;     /* the main process: only it cleans up */
static cpu_set_t original_cpus;

static void place(enum placement where, bool parent)
{
    if (where == ON_ONE_CPU)
        pin_to_cpu(0);
    else if (where == ON_TWO_CPUS)
        pin_to_cpu(parent ? 0 : 1);
}

static void send_byte(int fd)
{
    char byte = 'g';
    while (write(fd, &byte, 1) != 1) {
        if (errno == EINTR) { check_peer(); continue; }
        peer_gone("write to the control socket");
    }
}

static void wait_byte(int fd)
{
    char byte;
    ssize_t got;
    while ((got = read(fd, &byte, 1)) != 1) {
        if (got == -1 && errno == EINTR) { check_peer(); continue; }
        peer_gone("read from the control socket");
    }
}

static void allocate_stages(struct channel *ch)
{
    if (ch->kind->claim)
        return;
    for (int d = DOWN; d <= UP; d++) {
        if (!(ch->link[d].stage = malloc(ch->max_msg)))
            die_errno("malloc");
        memset(ch->link[d].stage, 0, ch->max_msg);   /* fault the pages in before timing */
    }
}

/* Fork the peer; it attaches to the channel, says it is ready, runs body, exits 0.
 * When this returns both sides hold the channel and no name is left in the file system. */
static void start_peer(struct channel *ch, enum placement where, const char *role,
                       void (*body)(struct channel *, void *), void *arg)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die_errno("socketpair");
    place(where, true);
    fflush(NULL);   /* a child that fails calls exit(), which would flush our TSV buffer a second time */
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);       /* never outlive the parent */
        if (getppid() != owner_pid)
            _exit(EXIT_RUNTIME);
        default_stop_signals();
        close(sv[0]);
        peer.control = sv[1];
        place(where, false);
        if (ch->kind->attach)
            ch->kind->attach(ch, false);
        allocate_stages(ch);
        send_byte(sv[1]);                        /* ready */
        body(ch, arg);
        _exit(0);
    }
    peer.pid = pid;
    peer.role = role;
    peer.control = sv[0];
    close(sv[1]);
    if (ch->kind->attach)
        ch->kind->attach(ch, true);
    allocate_stages(ch);
    wait_byte(peer.control);
    remove_names();                              /* the FIFOs: both sides have them open now */
}

static void close_fd(int *fd)
{
    if (*fd != -1 && close(*fd) == -1)
        die_errno("close");
    *fd = -1;
}

/* Reap the peer, check it finished its part, and release the channel. */
static void finish_peer(struct channel *ch)
{
    int status;
    while (waitpid(peer.pid, &status, 0) == -1) {
        if (errno != EINTR)
            die_errno("waitpid");
        exit_if_stopped();
    }
    pid_t pid = peer.pid;
    peer.pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        peer.pid = pid;   /* reaped already: report_peer_end only names it */
        report_peer_end(status);
    }
    close_fd(&peer.control);
    int *fds[4] = {&ch->link[DOWN].read_fd, &ch->link[DOWN].write_fd, &ch->link[UP].read_fd, &ch->link[UP].write_fd};
    for (int i = 0; i < 4; i++) {
        for (int j = i + 1; j < 4; j++)
            if (*fds[j] == *fds[i])
                *fds[j] = -1;          /* a socketpair end serves both links: close it once */
        close_fd(fds[i]);
    }
    for (int d = DOWN; d <= UP; d++) {
        struct link *l = &ch->link[d];
        if (l->piece && mq_close(l->mq) == -1)     /* piece: set for an mqueue link only */
            die_errno("mq_close");
        free(l->stage);
        free(l->bounce);
    }
    if (ch->mapping && munmap(ch->mapping, ch->mapping_bytes) == -1)
        die_errno("munmap");
    if (sched_setaffinity(0, sizeof original_cpus, &original_cpus) == -1)
        die_errno("sched_setaffinity");
}

static void open_channel(struct channel *ch, const struct channel_kind *kind, size_t max_msg)
{
    memset(ch, 0, sizeof *ch);
    ch->kind = kind;
    ch->max_msg = max_msg;
    for (int d = DOWN; d <= UP; d++)
        ch->link[d].read_fd = ch->link[d].write_fd = -1;
    kind->create(ch);
}

/* ---------- options shared by the experiments ---------- */

struct plan {
    struct kit_opts *o;
    const struct channel_kind *only_channel;   /* --channel, or NULL */
    bool pin_given;
    unsigned long long max_size;
    long ints;
    uint64_t corrupt_at;
};

static struct stream stream_for(const struct plan *p, int dir, const char *what)
{
    uint64_t salt = (p->o->seed + 1) * 0xbf58476d1ce4e5b9u + (uint64_t)dir * 0x94d049bb133111ebu;
    return (struct stream){0, salt, p->corrupt_at, what};
}

static bool channel_wanted(const struct plan *p, const struct channel_kind *k)
{
    return p->only_channel == NULL || p->only_channel == k;
}

static enum placement default_placement(const struct plan *p)
{
    if (p->pin_given)
        return p->o->pin == PIN_SAME ? ON_ONE_CPU : p->o->pin == PIN_SPREAD ? ON_TWO_CPUS : ANYWHERE;
    return online_cpus() > 1 ? ON_TWO_CPUS : ON_ONE_CPU;
}

/* ---------- experiment 1: latency ---------- */

enum { PING_BYTES = 64 };

struct ping {
    struct channel *ch;
    struct stream out, in;
    long rounds;            /* per trial */
    long total_rounds;      /* warm-up + trials, for the echo side */
};

/* The child: receive each message, check it, answer with the next message of its own stream. */
static void echo_body(struct channel *ch, void *arg)
{
    struct ping *p = arg;
    for (long r = 0; r < p->total_rounds; r++) {
        receive_message(ch, DOWN, &p->in, PING_BYTES);
        send_message(ch, UP, &p->out, PING_BYTES);
    }
}

/* book:ping */
static double time_round_trips(void *ctx)
{
    struct ping *p = ctx;
    uint64_t start = now_ns();
    for (long r = 0; r < p->rounds; r++) {
        send_message(p->ch, DOWN, &p->out, PING_BYTES);
        receive_message(p->ch, UP, &p->in, PING_BYTES);
    }
    return (double)(now_ns() - start) / (double)p->rounds / 1e3;
}
/* end:ping */

static struct stats latency_point(struct plan *pl, const struct channel_kind *kind, enum placement where,
                                  long trials, long rounds)
{
    struct channel ch;
    snprintf(peer.task, sizeof peer.task, "latency %s %s", kind->name, placement_names[where]);
    open_channel(&ch, kind, PING_BYTES);
    struct ping child = {&ch, stream_for(pl, UP, peer.task), stream_for(pl, DOWN, peer.task), rounds,
                         rounds * (trials + 1)};
    start_peer(&ch, where, "echo", echo_body, &child);
    struct ping parent = {&ch, stream_for(pl, DOWN, peer.task), stream_for(pl, UP, peer.task), rounds, 0};
    struct stats s = measure(time_round_trips, &parent, trials);
    finish_peer(&ch);
    return s;
}

static void run_latency(struct plan *pl)
{
    struct kit_opts *o = pl->o;
    long trials = o->trials ? o->trials : by_mode(o, 3, 9, 21);
    long rounds = by_mode(o, 100, 500, 5000);
    enum placement wheres[2];
    int nwhere = 0;
    if (pl->pin_given) {
        wheres[nwhere++] = default_placement(pl);
    } else {
        wheres[nwhere++] = ON_ONE_CPU;
        if (online_cpus() > 1)
            wheres[nwhere++] = ON_TWO_CPUS;
    }
    FILE *tsv = tsv_open(o, "latency", "cpus");
    printf("\nlatency: round trip of a %d-byte message, parent -> child -> parent (%ld trials x %ld round trips)\n",
           PING_BYTES, trials, rounds);
    printf("  %-14s", "channel");
    for (int w = 0; w < nwhere; w++)
        printf("  %-20s", wheres[w] == ON_ONE_CPU ? "one CPU: us (min)" : wheres[w] == ON_TWO_CPUS
                                                    ? "two CPUs: us (min)" : "scheduler: us (min)");
    printf("%s\n", nwhere == 2 ? "  two/one" : "");
    struct stats pipe_stats[2] = {{0}}, best = {0}, worst = {0};
    const char *best_name = "", *worst_name = "";
    for (int k = 0; k < CHANNEL_COUNT; k++) {
        if (!channel_wanted(pl, &channels[k]))
            continue;
        struct stats s[2] = {{0}};
        printf("  %-14s", channels[k].name);
        for (int w = 0; w < nwhere; w++) {
            s[w] = latency_point(pl, &channels[k], wheres[w], trials, rounds);
            char cell[32];
            snprintf(cell, sizeof cell, "%.1f (%.1f)%s", s[w].median, s[w].min, is_noisy(s[w]) ? "*" : "");
            printf("  %-20s", cell);
            tsv_row(tsv, channels[k].name, wheres[w] == ON_ONE_CPU ? 1 : wheres[w] == ON_TWO_CPUS ? 2 : 0, "us", s[w]);
        }
        if (nwhere == 2)
            printf("  %6.2fx", s[1].median / s[0].median);
        printf("\n");
        if (k == 0)
            memcpy(pipe_stats, s, sizeof pipe_stats);
        if (!best.n || s[nwhere - 1].median < best.median)
            best = s[nwhere - 1], best_name = channels[k].name;
        if (!worst.n || s[nwhere - 1].median > worst.median)
            worst = s[nwhere - 1], worst_name = channels[k].name;
    }
    tsv_close(tsv);
    printf("  (* noisy: the slowest trial took over %.0fx the fastest)\n", NOISY_RATIO);
    if (nwhere == 2 && pipe_stats[0].n) {
        double ratio = pipe_stats[1].median / pipe_stats[0].median;
        printf("  -> a pipe round trip costs %.1f us with both processes on one CPU and %.1f us across two (%.2fx):\n",
               pipe_stats[0].median, pipe_stats[1].median, ratio);
        if (ratio > 1.2)
            printf("     on one CPU the writer hands its CPU straight to the reader; across two, each message\n"
                   "     must wake the other CPU, which costs more than the whole round trip on one.\n");
        else if (ratio < 1 / 1.2)
            printf("     here two CPUs are cheaper: the other CPU was awake (busy or spinning), so no wake-up was paid.\n");
        else
            printf("     about the same here: the wake-up of the other CPU costs no more than a context switch.\n");
    }
    printf("  -> %s: fastest %s (%.1f us), slowest %s (%.1f us), %.1fx apart; the message is only %d bytes,\n"
           "     so this is the cost of a wake-up and the calls around it, not of copying.\n",
           placement_names[wheres[nwhere - 1]], best_name, best.median, worst_name, worst.median,
           worst.median / best.median, PING_BYTES);
}

/* ---------- experiment 2: bandwidth ---------- */

struct flow {
    struct channel *ch;
    struct stream stream;
    size_t bytes;
    long messages;          /* per trial */
    long total_messages;    /* warm-up + trials, for the sending side */
    uint64_t boundary;      /* when the previous trial's last byte was checked */
};

/* The child sends; the parent receives, so the check and the clock are on the same side. */
static void sender_body(struct channel *ch, void *arg)
{
    struct flow *f = arg;
    for (long m = 0; m < f->total_messages; m++)
        send_message(ch, UP, &f->stream, f->bytes);
}

/* book:flow */
/* The sender streams without pause; a trial is the time between the receiver's checks of
 * two trial-ending messages, so it measures the steady flow, not the start. */
static double time_flow(void *ctx)
{
    struct flow *f = ctx;
    for (long m = 0; m < f->messages; m++)
        receive_message(f->ch, UP, &f->stream, f->bytes);
    uint64_t now = now_ns();
    double gb_per_s = (double)f->bytes * (double)f->messages / (double)(now - f->boundary);
    f->boundary = now;
    return gb_per_s;   /* bytes per ns = GB/s */
}
/* end:flow */

struct copy_trial {
    unsigned char *from, *to;
    size_t bytes;
    long copies;
};

static double time_memcpy(void *ctx)
{
    struct copy_trial *t = ctx;
    uint64_t start = now_ns();
    for (long c = 0; c < t->copies; c++) {
        memcpy(t->to, t->from, t->bytes);
        keep(t->to[c % t->bytes]);
    }
    return (double)t->bytes * (double)t->copies / (double)(now_ns() - start);
}

static long messages_per_trial(const struct plan *pl, size_t bytes)
{
    long volume = (long)by_mode(pl->o, 256 << 10, 2 << 20, 8 << 20);
    long cap = (long)by_mode(pl->o, 256, 2048, 8192);
    long m = volume / (long)bytes;
    return m < 2 ? 2 : m > cap ? cap : m;
}

static struct stats bandwidth_point(struct plan *pl, const struct channel_kind *kind, size_t bytes, long trials)
{
    struct channel ch;
    char size[16];
    snprintf(peer.task, sizeof peer.task, "bandwidth %s %s", kind->name, format_size(bytes, size, sizeof size));
    open_channel(&ch, kind, bytes);
    long messages = messages_per_trial(pl, bytes);
    struct flow f = {&ch, stream_for(pl, UP, peer.task), bytes, messages, messages * (trials + 1), 0};
    start_peer(&ch, default_placement(pl), "sender", sender_body, &f);
    f.boundary = now_ns();
    struct stats s = measure(time_flow, &f, trials);
    finish_peer(&ch);
    return s;
}

static struct stats memcpy_point(struct plan *pl, size_t bytes, long trials)
{
    struct copy_trial t = {malloc(bytes), malloc(bytes), bytes, messages_per_trial(pl, bytes)};
    if (!t.from || !t.to)
        die_errno("malloc");
    memset(t.from, 1, bytes);
    memset(t.to, 2, bytes);
    struct stats s = measure(time_memcpy, &t, trials);
    if (memcmp(t.from, t.to, bytes) != 0)
        verification_failed("memcpy of %zu bytes: the copy differs from the source", bytes);
    free(t.from);
    free(t.to);
    return s;
}

static void run_bandwidth(struct plan *pl)
{
    struct kit_opts *o = pl->o;
    long trials = o->trials ? o->trials : by_mode(o, 3, 7, 15);
    size_t sizes[16];
    int nsizes = 0;
    for (size_t b = 64; b < pl->max_size && nsizes < 15; b *= 4)
        sizes[nsizes++] = b;
    sizes[nsizes++] = pl->max_size;
    enum placement where = default_placement(pl);

    FILE *tsv = tsv_open(o, "bandwidth", "msg_kib");
    printf("\nbandwidth: one-way throughput, GB/s (10^9 bytes/s), by message size; placement %s; %ld trials\n",
           placement_names[where], trials);
    printf("  %-14s", "channel");
    for (int i = 0; i < nsizes; i++) {
        char size[16];
        printf(" %7s", format_size(sizes[i], size, sizeof size));
    }
    printf("\n");

    struct stats ceiling[16], zero_copy_last = {0}, best_copy_last = {0};
    const char *best_copy_name = "";
    int done = 0, wanted_count = 0;
    for (int k = 0; k < CHANNEL_COUNT; k++)
        wanted_count += channel_wanted(pl, &channels[k]);
    for (int k = 0; k < CHANNEL_COUNT; k++) {
        if (!channel_wanted(pl, &channels[k]))
            continue;
        if (o->mode != MODE_QUICK)
            progress("bandwidth: %s (%d of %d channels)", channels[k].name, ++done, wanted_count);
        printf("  %-14s", channels[k].name);
        for (int i = 0; i < nsizes; i++) {
            struct stats s = bandwidth_point(pl, &channels[k], sizes[i], trials);
            printf(" %7.2f", s.median);
            tsv_row(tsv, channels[k].name, (double)sizes[i] / 1024, "GB/s", s);
            if (i == nsizes - 1 && channels[k].claim)
                zero_copy_last = s;
            else if (i == nsizes - 1 && s.median > best_copy_last.median)
                best_copy_last = s, best_copy_name = channels[k].name;
        }
        printf("\n");
    }
    /* The ceiling: one process copying a message of each size from one buffer to another. */
    printf("  %-14s", "memcpy");
    for (int i = 0; i < nsizes; i++) {
        ceiling[i] = memcpy_point(pl, sizes[i], 3 * trials);   /* cheap, and the line all is read against */
        printf(" %7.2f", ceiling[i].median);
        tsv_row(tsv, "memcpy", (double)sizes[i] / 1024, "GB/s", ceiling[i]);
    }
    printf("   (one CPU copying: the ceiling)\n");
    tsv_close(tsv);
    char big[16];
    format_size(sizes[nsizes - 1], big, sizeof big);
    printf("  -> 64-byte messages: the memcpy ceiling is %.1f GB/s but a channel pays a hand-over per message;\n"
           "     at %s the single-CPU memcpy ceiling is %.2f GB/s",
           ceiling[0].median, big, ceiling[nsizes - 1].median);
    if (zero_copy_last.n)
        printf(", shm-zero-copy moves %.2f GB/s (%.0f%% of it)", zero_copy_last.median,
               100 * zero_copy_last.median / ceiling[nsizes - 1].median);
    if (best_copy_last.n)
        printf(",\n     the best copying channel, %s, %.2f GB/s (%.0f%%): every byte it moves is copied twice",
               best_copy_name, best_copy_last.median, 100 * best_copy_last.median / ceiling[nsizes - 1].median);
    printf(".\n");
}

/* ---------- experiment 3: serialization ---------- */

/* book:formats */
/* text: one decimal number and a newline per integer, as printf writes and strtoll reads. */
static size_t encode_text(const int64_t *values, size_t n, unsigned char *out)
{
    char *p = (char *)out;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%" PRId64 "\n", values[i]);
    return (size_t)(p - (char *)out);
}

static void decode_text(const unsigned char *in, size_t bytes, int64_t *values, size_t n)
{
    const char *p = (const char *)in, *end = p + bytes;   /* in[bytes] is a '\0' */
    for (size_t i = 0; i < n; i++) {
        char *stop;
        errno = 0;
        long long v = strtoll(p, &stop, 10);
        if (stop == p || stop >= end || *stop != '\n' || errno)
            verification_failed("text: integer %zu does not parse (byte %td)", i, p - (const char *)in);
        values[i] = v;
        p = stop + 1;
    }
    if (p != end)
        verification_failed("text: %td bytes left after %zu integers", end - p, n);
}
/* end:formats */

/* records: each integer its own record, a 4-byte length then the 8 bytes of the value. */
static size_t encode_records(const int64_t *values, size_t n, unsigned char *out)
{
    const uint32_t length = sizeof(int64_t);
    for (size_t i = 0; i < n; i++, out += 12) {
        memcpy(out, &length, 4);
        memcpy(out + 4, &values[i], 8);
    }
    return n * 12;
}

static void decode_records(const unsigned char *in, size_t bytes, int64_t *values, size_t n)
{
    if (bytes != n * 12)
        verification_failed("records: %zu bytes for %zu records of 12", bytes, n);
    for (size_t i = 0; i < n; i++, in += 12) {
        uint32_t length;
        memcpy(&length, in, 4);
        if (length != sizeof(int64_t))
            verification_failed("records: record %zu says it is %" PRIu32 " bytes long, expected 8", i, length);
        memcpy(&values[i], in + 4, 8);
    }
}

static const struct format {
    const char *name;
    size_t (*encode)(const int64_t *values, size_t n, unsigned char *out);   /* NULL: raw */
    void (*decode)(const unsigned char *in, size_t bytes, int64_t *values, size_t n);
    bool in_place;
    const char *what;
} formats[] = {
    {"text", encode_text, decode_text, false, "printf / strtoll, through a pipe"},
    {"records", encode_records, decode_records, false, "length-prefixed binary records, through a pipe"},
    {"raw-pipe", NULL, NULL, false, "the array's own bytes, through a pipe"},
    {"raw-in-place", NULL, NULL, true, "the array in shared memory; a notice through a pipe"},
};
enum { FORMAT_COUNT = sizeof formats / sizeof formats[0] };
enum { PHASE_ENCODE, PHASE_TRANSFER, PHASE_DECODE, PHASE_TOTAL, PHASES };
static const char *const phase_names[] = {"encode", "transfer", "decode", "total"};

struct shipment {
    const struct format *format;
    int64_t *values;            /* the originals, in a shared mapping (raw-in-place reads them there) */
    size_t n;
    unsigned char *wire;        /* the sender's private encode buffer */
    _Atomic uint64_t *encoded;  /* shared: [0] encode start, [1] encode end (the sender's clock) */
    long trials;                /* warm-up included */
    uint64_t corrupt_at;
};

static size_t wire_capacity(size_t n) { return n * 21 + 1; }   /* "-1000000000\n" fits in 21 */

/* The child: on the parent's word, encode (or not), then send a length and the bytes. */
static void shipper_body(struct channel *ch, void *arg)
{
    struct shipment *s = arg;
    for (long t = 0; t < s->trials; t++) {
        wait_byte(peer.control);
        uint64_t start = now_ns();
        unsigned char *wire = (unsigned char *)s->values;      /* raw: the array is the message */
        uint64_t bytes = s->n * sizeof(int64_t);
        if (s->format->encode)
            bytes = s->format->encode(s->values, s->n, wire = s->wire);
        uint64_t end = now_ns();
        if (t == 0 && s->corrupt_at < bytes)
            wire[s->corrupt_at] ^= CORRUPT_BIT;                 /* --corrupt-at */
        atomic_store(&s->encoded[0], start);
        atomic_store(&s->encoded[1], end);
        write_all(&ch->link[UP], (const unsigned char *)&bytes, sizeof bytes);
        if (!s->format->in_place)
            write_all(&ch->link[UP], wire, bytes);
    }
}

struct inbox {
    unsigned char *bytes;       /* wire_capacity(n) */
    int64_t *decoded;
    const int64_t *expected;    /* the parent's own copy of the originals */
    uint64_t wire_bytes;
};

/* The parent: one shipment, timed phase by phase, then every integer checked (untimed). */
static void receive_shipment(struct channel *ch, struct shipment *s, struct inbox *in, double ms[PHASES])
{
    uint64_t bytes;
    const int64_t *result = s->values;
    send_byte(peer.control);
    read_all(&ch->link[UP], (unsigned char *)&bytes, sizeof bytes);
    if (!s->format->in_place) {
        if (bytes >= wire_capacity(s->n))
            verification_failed("%s: the sender announced %" PRIu64 " bytes", s->format->name, bytes);
        read_all(&ch->link[UP], in->bytes, bytes);
        in->bytes[bytes] = '\0';
    }
    uint64_t received = now_ns();
    if (s->format->decode) {
        s->format->decode(in->bytes, bytes, in->decoded, s->n);
        result = in->decoded;
    } else if (!s->format->in_place) {
        if (bytes != s->n * sizeof(int64_t))
            verification_failed("%s: %" PRIu64 " bytes for %zu integers", s->format->name, bytes, s->n);
        result = (const int64_t *)in->bytes;                   /* raw: the bytes are the array */
    }
    uint64_t decoded = now_ns();
    uint64_t start = atomic_load(&s->encoded[0]), end = atomic_load(&s->encoded[1]);
    ms[PHASE_ENCODE] = (double)(end - start) / 1e6;
    ms[PHASE_TRANSFER] = (double)(received - end) / 1e6;
    ms[PHASE_DECODE] = (double)(decoded - received) / 1e6;
    ms[PHASE_TOTAL] = (double)(decoded - start) / 1e6;
    for (size_t i = 0; i < s->n; i++)
        if (result[i] != in->expected[i])
            verification_failed("%s: integer %zu arrived as %" PRId64 ", expected %" PRId64, s->format->name, i,
                                result[i], in->expected[i]);
    in->wire_bytes = s->format->in_place ? sizeof bytes : sizeof bytes + bytes;
}

static void make_values(int64_t *values, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (seed + i + 1) * GOLDEN;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
        x ^= x >> 31;
        values[i] = (int64_t)(x % 2000000001u) - 1000000000;   /* 1 to 11 characters as text */
    }
}

static void *map_anonymous(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die_errno("mmap");
    return p;
}

static void run_serialization(struct plan *pl)
{
    struct kit_opts *o = pl->o;
    long trials = o->trials ? o->trials : by_mode(o, 3, 3, 11);   /* 1M integers as text: ~1 s a trial */
    size_t n = (size_t)pl->ints;
    int64_t *values = map_anonymous(n * sizeof *values);
    _Atomic uint64_t *encoded = map_anonymous(2 * sizeof *encoded);
    struct inbox in = {malloc(wire_capacity(n)), malloc(n * sizeof(int64_t)), NULL, 0};
    int64_t *expected = malloc(n * sizeof *expected);
    unsigned char *wire = malloc(wire_capacity(n));
    if (!in.bytes || !in.decoded || !expected || !wire)
        die_errno("malloc");
    make_values(expected, n, o->seed);
    in.expected = expected;
    memset(in.bytes, 0, wire_capacity(n));     /* fault every buffer in before timing */
    memset(in.decoded, 0, n * sizeof(int64_t));
    memset(wire, 0, wire_capacity(n));

    FILE *tsv = tsv_open(o, "serialization", "ints");
    printf("\nserialization: %zu integers from the child to the parent, ms per phase (median of %ld trials); "
           "placement %s\n", n, trials, placement_names[default_placement(pl)]);
    printf("  %-13s %9s %9s %9s %9s %12s %8s   %s\n", "format", "encode", "transfer", "decode", "total",
           "wire bytes", "enc+dec", "how");
    double medians[FORMAT_COUNT][PHASES], wires[FORMAT_COUNT];
    for (int f = 0; f < FORMAT_COUNT; f++) {
        const struct format *fmt = &formats[f];
        struct channel ch;
        snprintf(peer.task, sizeof peer.task, "serialization %s", fmt->name);
        make_values(values, n, o->seed);
        open_channel(&ch, &channels[0], 64);   /* a pipe, as under Python's Pipe and Queue */
        struct shipment s = {fmt, values, n, wire, encoded, trials + 1, pl->corrupt_at};
        start_peer(&ch, default_placement(pl), "sender", shipper_body, &s);
        double *samples = malloc((size_t)trials * (PHASES + 1) * sizeof *samples), ms[PHASES];
        if (!samples)
            die_errno("malloc");
        receive_shipment(&ch, &s, &in, ms);              /* warm-up */
        for (long t = 0; t < trials; t++) {
            exit_if_stopped();
            receive_shipment(&ch, &s, &in, ms);
            for (int p = 0; p < PHASES; p++)
                samples[p * trials + t] = ms[p];
            samples[PHASES * trials + t] = 100 * (ms[PHASE_ENCODE] + ms[PHASE_DECODE]) / ms[PHASE_TOTAL];
        }
        finish_peer(&ch);
        char variant[48];
        for (int p = 0; p <= PHASES; p++) {
            struct stats st = stats_of(samples + p * trials, (size_t)trials);
            snprintf(variant, sizeof variant, "%s/%s", fmt->name, p < PHASES ? phase_names[p] : "share");
            tsv_row(tsv, variant, (double)n, p < PHASES ? "ms" : "%", st);
            if (p < PHASES)
                medians[f][p] = st.median;
        }
        struct stats wire_stats = {(size_t)trials, (double)in.wire_bytes, (double)in.wire_bytes,
                                   (double)in.wire_bytes, (double)in.wire_bytes, 0};
        snprintf(variant, sizeof variant, "%s/wire", fmt->name);
        tsv_row(tsv, variant, (double)n, "bytes", wire_stats);
        wires[f] = (double)in.wire_bytes;
        free(samples);
        printf("  %-13s %9.2f %9.2f %9.2f %9.2f %12.0f %7.0f%%   %s\n", fmt->name, medians[f][PHASE_ENCODE],
               medians[f][PHASE_TRANSFER], medians[f][PHASE_DECODE], medians[f][PHASE_TOTAL], wires[f],
               100 * (medians[f][PHASE_ENCODE] + medians[f][PHASE_DECODE]) / medians[f][PHASE_TOTAL], fmt->what);
    }
    tsv_close(tsv);
    printf("  -> text: encoding and decoding are %.0f%% of its %.1f ms, and its %.0f bytes are %.1fx the raw array;\n"
           "     records: %.0f%% of %.1f ms; the raw array through a pipe: %.1f ms, all of it copying;\n"
           "     in place nothing is copied: %.3f ms, the time for a notice to cross.\n",
           100 * (medians[0][PHASE_ENCODE] + medians[0][PHASE_DECODE]) / medians[0][PHASE_TOTAL],
           medians[0][PHASE_TOTAL], wires[0], wires[0] / wires[2],
           100 * (medians[1][PHASE_ENCODE] + medians[1][PHASE_DECODE]) / medians[1][PHASE_TOTAL],
           medians[1][PHASE_TOTAL], medians[2][PHASE_TOTAL], medians[3][PHASE_TOTAL]);
    free(in.bytes);
    free(in.decoded);
    free(expected);
    free(wire);
    if (munmap(values, n * sizeof *values) == -1 || munmap((void *)encoded, 2 * sizeof *encoded) == -1)
        die_errno("munmap");
}

/* ---------- plumbing: names, the peer's end, cleanup, options ---------- */

static struct {
    int kind;               /* 's' shm, 'q' mqueue, 'f' FIFO, 'd' directory */
    char path[PATH_MAX];
} names[8];
static int name_count;

static void remember_name(int kind, const char *name)
{
    if (name_count == (int)(sizeof names / sizeof names[0]))
        die("too many named objects at once");
    names[name_count].kind = kind;
    snprintf(names[name_count].path, sizeof names[name_count].path, "%s", name);
    name_count++;
}

static void forget_name(const char *name)
{
    for (int i = 0; i < name_count; i++)
        if (strcmp(names[i].path, name) == 0) {
            names[i] = names[--name_count];
            return;
        }
}

/* Newest first: the FIFOs go before their directory. Safe to call more than once. */
static void remove_names(void)
{
    while (name_count > 0) {
        const char *path = names[name_count - 1].path;
        int kind = names[name_count - 1].kind;
        int rc = kind == 's' ? shm_unlink(path) : kind == 'q' ? mq_unlink(path)
               : kind == 'd' ? rmdir(path) : unlink(path);
        if (rc == -1 && errno != ENOENT)
            warn("could not remove %s: %s", path, strerror(errno));
        name_count--;
    }
}

/* At exit and on SIGINT/SIGTERM, in the main process only: kill and reap the peer we
 * started (nothing else), and remove any name still in the file system. */
static void clean_up(void)
{
    if (getpid() != owner_pid)
        return;
    if (peer.pid > 0) {
        kill(peer.pid, SIGKILL);
        waitpid(peer.pid, NULL, 0);
        peer.pid = 0;
    }
    remove_names();
}

static void report_peer_end(int status)
{
    pid_t pid = peer.pid;
    peer.pid = 0;
    if (WIFSIGNALED(status))
        die("%s: the %s process (pid %d) was killed by signal %d (%s)", peer.task, peer.role, (int)pid,
            WTERMSIG(status), strsignal(WTERMSIG(status)));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        die("%s: the %s process (pid %d) failed with exit status %d (its message is above)", peer.task,
            peer.role, (int)pid, WEXITSTATUS(status));
    die("%s: the %s process (pid %d) exited before finishing its part", peer.task, peer.role, (int)pid);
}

/* Called whenever a wait times out or is interrupted: stop if asked to; fail at once,
 * naming the peer and its signal, if the peer is gone. Never blocks. */
static void check_peer(void)
{
    exit_if_stopped();
    if (getpid() != owner_pid) {
        if (getppid() != owner_pid)
            _exit(EXIT_RUNTIME);     /* the parent is gone (PR_SET_PDEATHSIG also sees to it) */
        return;
    }
    int status;
    if (peer.pid > 0 && waitpid(peer.pid, &status, WNOHANG) == peer.pid)
        report_peer_end(status);
}

/* The other end closed: the peer is exiting. Wait for it and say how it ended. */
static void peer_gone(const char *how)
{
    exit_if_stopped();
    if (getpid() != owner_pid)
        _exit(EXIT_RUNTIME);         /* the parent failed and says why */
    int status;
    while (peer.pid > 0 && waitpid(peer.pid, &status, 0) == -1) {
        if (errno != EINTR)
            die_errno("waitpid");
        exit_if_stopped();
    }
    if (peer.pid <= 0)
        die("%s: %s", peer.task, how);
    report_peer_end(status);
    __builtin_unreachable();
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch03-ipc", usage, argc, argv);
    struct plan pl = {&o, NULL, false, 0, 0, UINT64_MAX};
    const char *max_size_text = NULL, *ints_text = NULL;

    for (int i = 1; i < argc; i++) {
        if (is_opt(argv[i], "--pin"))
            pl.pin_given = true;
        if (kit_std_option(&o, argc, argv, &i))
            continue;
        if (is_opt(argv[i], "--max-size")) {
            max_size_text = option_value(argc, argv, &i, "--max-size");
        } else if (is_opt(argv[i], "--ints")) {
            ints_text = option_value(argc, argv, &i, "--ints");
        } else if (is_opt(argv[i], "--corrupt-at")) {
            pl.corrupt_at = (uint64_t)parse_count("--corrupt-at", option_value(argc, argv, &i, "--corrupt-at"),
                                                  0, 1LL << 40);
        } else if (is_opt(argv[i], "--channel")) {
            const char *name = option_value(argc, argv, &i, "--channel");
            for (int k = 0; k < CHANNEL_COUNT; k++)
                if (strcmp(name, channels[k].name) == 0)
                    pl.only_channel = &channels[k];
            if (!pl.only_channel)
                die_usage("--channel: '%s' is not a channel (accepted: pipe, socketpair, fifo, mqueue, queue, "
                          "shm-ring, shm-zero-copy)", name);
        } else {
            die_usage("unknown option '%s'", argv[i]);
        }
    }
    check_only(&o, experiments, sizeof experiments / sizeof experiments[0]);
    pl.max_size = (unsigned long long)by_mode(&o, 256 << 10, 4 << 20, 16 << 20);
    if (max_size_text) {
        pl.max_size = parse_size("--max-size", max_size_text, 64, 64 << 20);
        if (pl.max_size % WORD)
            die_usage("--max-size: %s is not a multiple of 8 bytes (accepted: 64 to 64M)", max_size_text);
    }
    pl.ints = (long)by_mode(&o, 100000, 1000000, 1000000);
    if (ints_text)
        pl.ints = (long)parse_count("--ints", ints_text, 1, 10000000);
    prepare_out_dir(&o);

    owner_pid = getpid();
    if (sched_getaffinity(0, sizeof original_cpus, &original_cpus) == -1)
        die_errno("sched_getaffinity");
    catch_stop_signals(clean_up);
    if (atexit(clean_up) != 0)
        die("atexit failed");
    signal(SIGPIPE, SIG_IGN);   /* a write to a dead reader returns EPIPE, and we say who died */

    print_run_header(&o, "pipes vs queues vs shared memory, and what serialization costs");
    const char *tmp = getenv("TMPDIR");
    printf("parent pid %d: named objects are /dev/shm/ch03-ipc-%d-*, /dev/mqueue/ch03-ipc-%d-* and\n"
           "  %s/ch03-ipc-%d-fifo-*/, each removed as soon as both processes hold it\n",
           (int)owner_pid, (int)owner_pid, (int)owner_pid, tmp && *tmp ? tmp : "/tmp", (int)owner_pid);
    if (pl.corrupt_at != UINT64_MAX)
        printf("fault injection: every sender flips bit 0x%02x of byte %" PRIu64 " of what it sends\n",
               CORRUPT_BIT, pl.corrupt_at);
    fflush(stdout);

    if (wanted(&o, "latency"))
        run_latency(&pl);
    if (wanted(&o, "bandwidth"))
        run_bandwidth(&pl);
    if (wanted(&o, "serialization"))
        run_serialization(&pl);
    printf("\nverification: every byte received checked against its running sequence, decoded integers equal\n"
           "the originals, every peer process exited 0 and was reaped, no named object left behind.\n"
           "TSV files: %s/ch03-*.tsv\n", o.out_dir);
    return 0;
}
