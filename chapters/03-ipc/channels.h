/* channels.h - what channels.c offers the driver: the payload with its check, and seven
 * channels behind one interface (struct channel_kind, below). main.c forks the peer and
 * times the channels. */
#ifndef CH03_CHANNELS_H
#define CH03_CHANNELS_H

#include <mqueue.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WORD = sizeof(uint64_t) };   /* the stream's unit: messages are whole words */
enum { CORRUPT_BIT = 0x01 };        /* what --corrupt-at flips */
enum direction { DOWN, UP };        /* DOWN: parent -> child, UP: child -> parent */

/* One direction's payload: word w is w * GOLDEN + salt (see channels.c). */
struct stream {
    uint64_t next;          /* index of the next word */
    uint64_t salt;          /* one per direction: a reply cannot pass for an echo */
    uint64_t corrupt_at;    /* --corrupt-at: the byte the sender flips; UINT64_MAX: none */
    const char *what;       /* "bandwidth pipe 64K", for the failure message */
};

enum { CHANNEL_COUNT = 7 };
const char *channel_name(int kind);                 /* kind: 0 .. CHANNEL_COUNT - 1 */
int channel_named(const char *name);                /* its kind, or -1 */

/* The interface: one direction of a channel, as one side sees it (the fields of each kind
 * are set by its create function in channels.c). */
struct link {
    int read_fd, write_fd;          /* pipe, socketpair, fifo */
    mqd_t mq;                       /* mqueue */
    size_t piece;                   /* mqueue: its message size */
    struct shm_queue *queue;        /* queue */
    struct ring *ring;              /* shm-ring, shm-zero-copy */
    unsigned char *data;            /* their data area in the shared mapping */
    size_t slot_bytes;              /* shm-zero-copy: one message slot */
    unsigned char *stage;           /* this side's private message buffer (copying channels) */
};

struct channel {
    const struct channel_kind *kind;
    size_t max_msg;
    struct link link[2];            /* [DOWN], [UP] */
    void *mapping;
    size_t mapping_bytes;
};

/* A copying channel implements send and recv (exactly n bytes). The zero-copy channel
 * instead lends the sender a place to write (claim, publish) and the receiver the place
 * to read (receive, release). */
struct channel_kind {
    const char *name;
    void (*create)(struct channel *ch);             /* in the parent, before fork */
    void (*send)(struct link *l, const unsigned char *buf, size_t n);
    void (*recv)(struct link *l, unsigned char *buf, size_t n);
    unsigned char *(*claim)(struct link *l, size_t n);
    void (*publish)(struct link *l, size_t n);
    const unsigned char *(*receive)(struct link *l, size_t n);
    void (*release)(struct link *l);
};

struct channel *open_channel(int kind, size_t max_msg);   /* in the parent, before fork */
void attach_channel(struct channel *ch, bool parent);    /* on each side, after fork */
void close_channel(struct channel *ch);

/* The next `bytes` of the stream, sent or received and checked: the same for every channel. */
void send_message(struct channel *ch, enum direction dir, struct stream *s, size_t bytes);
void receive_message(struct channel *ch, enum direction dir, struct stream *s, size_t bytes);

/* Raw bytes through a pipe or socketpair: exactly n, in order. */
void send_bytes(struct channel *ch, enum direction dir, const void *buf, size_t n);
void receive_bytes(struct channel *ch, enum direction dir, void *buf, size_t n);

/* The driver defines these; a channel calls them while it waits. check_peer: a wait timed
 * out or was interrupted (stop if asked to; fail if the peer died). peer_gone: the other
 * end closed (say which process ended and how; exit). */
void check_peer(void);
__attribute__((noreturn)) void peer_gone(const char *how);

#endif
