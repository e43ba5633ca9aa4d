/* channels.h - what channels.c offers the driver: the payload with its check, and seven
 * channels behind one interface. main.c forks the peer and times the channels. */
#ifndef CH03_CHANNELS_H
#define CH03_CHANNELS_H

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

struct channel;
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
