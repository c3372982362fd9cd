/*
 * queue.h - bounded lock-free single-producer single-consumer queue.
 *
 * One queue per (reader, target) pair carries packet pointers from a reader
 * thread to a target's writer thread. Fixed capacity (a power of two), set at
 * start-up. The producer never waits: a push onto a full queue takes what
 * fits and the caller counts the rest as dropped.
 *
 * The consumer peeks a batch, sends it, and only then consumes it, so
 * "empty" seen by the producer means every item pushed so far has been
 * fully handled (the reader relies on this to send inline in order).
 */
#ifndef UP_QUEUE_H
#define UP_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct up_queue {
    _Alignas(64) atomic_size_t tail; /* next slot to fill; written by the producer */
    size_t head_cache;               /* producer's last view of head */
    _Alignas(64) atomic_size_t head; /* next slot to take; written by the consumer */
    size_t tail_cache;               /* consumer's last view of tail */
    _Alignas(64) size_t mask;        /* capacity - 1 */
    void **slots;                    /* capacity entries, owned by the queue */
};

/* Make a queue holding at least `min_capacity` items (rounded up to a
 * power of two). Returns UP_OK, UP_EINVAL (0 or too large) or UP_ENOMEM. */
int up_queue_init(struct up_queue *q, size_t min_capacity);
void up_queue_destroy(struct up_queue *q);

static inline size_t up_queue_capacity(const struct up_queue *q)
{
    return q->mask + 1;
}

/* Producer: append up to n items; returns how many fit (0..n), in order. */
size_t up_queue_push(struct up_queue *q, void *const *items, size_t n);

/* Producer: true when the consumer has handled every item pushed. */
bool up_queue_drained(struct up_queue *q);

/* Consumer: copy up to max items from the front without removing them. */
size_t up_queue_peek(struct up_queue *q, void **out, size_t max);

/* Consumer: remove n items (n <= what the last peek returned). */
void up_queue_consume(struct up_queue *q, size_t n);

/* Any thread: items currently queued (a snapshot). */
size_t up_queue_depth(struct up_queue *q);

#endif
