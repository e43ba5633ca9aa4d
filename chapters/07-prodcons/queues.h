/* queues.h - what the teaching file queues.c offers the driver: five bounded queues between
 * processes behind one tiny interface (put, get, close), and the 64-byte item they carry.
 *
 *   queue_create(kind, capacity, batch, P)  a queue in shared memory (or the kernel's), before fork
 *   queue_attach(q, role)                in a child: keep only the ends its role uses
 *   queue_leave(q)                       in the parent, after forking: keep only the read end
 *   queue_put(q, items, n, &w)           all n items, blocking while the queue is full
 *   queue_get(q, items, max, &w)         1..max items, blocking while empty; 0 = closed and drained
 *   queue_close(q)                       one per producer; the last one ends every consumer
 *   queue_occupancy(q)                   items in the queue now (a sample, for the driver)
 *   queue_high_water(q)                  the most items it ever held (checked against capacity)
 *   queue_destroy(q)
 */
#ifndef CH07_QUEUES_H
#define CH07_QUEUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One item: who made it, its number, when it was put, and a payload the consumer can check.
 * 64 bytes: one cache line, the size the chapter's questions are asked for. */
struct item {
    uint64_t producer;      /* 0 .. P-1 */
    uint64_t seq;           /* 0, 1, 2 ... per producer: a loss, a copy or a reordering shows */
    uint64_t sent_ns;       /* CLOCK_MONOTONIC just before the put (latency) */
    uint64_t check;         /* item_check(producer, seq) */
    uint64_t payload[4];    /* check ^ 1, check ^ 2, ... */
};
_Static_assert(sizeof(struct item) == 64, "an item is 64 bytes");

enum queue_kind { Q_PIPE, Q_MUTEX_COND, Q_SEMAPHORES, Q_MPMC_RING, Q_RING_BATCH, Q_KINDS };
extern const char *const queue_kind_names[Q_KINDS];

enum queue_role { ROLE_PRODUCER, ROLE_CONSUMER };

/* What one process spent waiting on the queue: the slow path only (full or empty). */
struct waits {
    uint64_t waits;         /* times it found the queue full (put) or empty (get) and slept */
    uint64_t blocked_ns;    /* time spent asleep or polling for that */
};

struct queue;

/* NULL with errno set when the kind cannot offer this capacity (a pipe holds at least one page,
 * a sequence-numbered ring at least 2 slots); `batch` is ring-batch's most items per claim;
 * `producers` is how many queue_close() calls end the queue. */
struct queue *queue_create(enum queue_kind kind, size_t capacity, size_t batch, int producers);
void queue_attach(struct queue *q, enum queue_role role);
void queue_leave(struct queue *q);
void queue_put(struct queue *q, const struct item *items, size_t n, struct waits *w);
size_t queue_get(struct queue *q, struct item *items, size_t max, struct waits *w);
void queue_close(struct queue *q);
size_t queue_occupancy(const struct queue *q);
size_t queue_high_water(const struct queue *q);
void queue_destroy(struct queue *q);

#endif
