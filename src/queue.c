/*
 * queue.c - SPSC ring of pointers (see queue.h).
 *
 * head and tail count items forever (they wrap at SIZE_MAX, harmlessly with
 * a power-of-two capacity). Each side writes only its own index and caches
 * the other one, so the shared cache lines move only when a side runs out of
 * what it last saw.
 */
#include "queue.h"

#include "alloc.h"
#include "error.h"

int up_queue_init(struct up_queue *q, size_t min_capacity)
{
    size_t cap = 1;
    if (min_capacity == 0 || min_capacity > ((size_t)1 << 30))
        return UP_EINVAL;
    while (cap < min_capacity)
        cap <<= 1;
    q->slots = up_calloc(cap, sizeof(void *));
    if (!q->slots)
        return UP_ENOMEM;
    q->mask = cap - 1;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    q->head_cache = 0;
    q->tail_cache = 0;
    return UP_OK;
}

void up_queue_destroy(struct up_queue *q)
{
    up_free(q->slots);
    q->slots = NULL;
}

size_t up_queue_push(struct up_queue *q, void *const *items, size_t n)
{
    /* Relaxed: only this thread writes tail. */
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t cap = q->mask + 1;
    if (cap - (tail - q->head_cache) < n)
        /* Acquire: the consumer's reads of the slots it freed happen
         * before we overwrite them. */
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t room = cap - (tail - q->head_cache);
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++)
        q->slots[(tail + i) & q->mask] = items[i];
    /* Release: the slots (and the packets they point to) are written before
     * the consumer can see the new tail. */
    atomic_store_explicit(&q->tail, tail + n, memory_order_release);
    return n;
}

bool up_queue_drained(struct up_queue *q)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    /* Acquire: pairs with the consumer's release in up_queue_consume, so
     * whatever it did with the items (the send) happened before. */
    q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
    return q->head_cache == tail;
}

size_t up_queue_peek(struct up_queue *q, void **out, size_t max)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (q->tail_cache - head < max)
        /* Acquire: pairs with the producer's release in up_queue_push. */
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
    size_t avail = q->tail_cache - head;
    if (avail > max)
        avail = max;
    for (size_t i = 0; i < avail; i++)
        out[i] = q->slots[(head + i) & q->mask];
    return avail;
}

void up_queue_consume(struct up_queue *q, size_t n)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    /* Release: our reads of the slots happen before the producer reuses them. */
    atomic_store_explicit(&q->head, head + n, memory_order_release);
}

size_t up_queue_depth(struct up_queue *q)
{
    /* head first: tail only grows, so the later tail is >= this head and
     * the difference cannot wrap. From a third thread the two loads are
     * not one snapshot (the producer may refill what the consumer freed in
     * between), hence the clamp. */
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    size_t depth = tail - head;
    return depth <= q->mask ? depth : q->mask + 1;
}
