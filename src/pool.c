/* pool.c - preallocated datagram buffers with reference counts (see pool.h). */
#include "pool.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

int up_pool_init(struct up_pool *p, size_t count, size_t large_count, size_t large_size)
{
    memset(p, 0, sizeof(*p));
    atomic_init(&p->returned, NULL);
    p->count = count;
    p->large_count = large_size ? large_count : 0;
    p->large_size = large_size;
    p->packets = up_calloc(count, sizeof(*p->packets));
    /* calloc of a large block maps fresh zero pages: nothing is touched
     * until a datagram lands there, so unused slots cost no resident memory. */
    p->slots = up_calloc(count, UP_SLOT_SIZE);
    if (p->large_count) {
        p->large_mem = up_calloc(p->large_count, large_size);
        p->large_free = up_calloc(p->large_count, sizeof(*p->large_free));
    }
    if (!p->packets || !p->slots || (p->large_count && (!p->large_mem || !p->large_free))) {
        up_pool_destroy(p);
        return UP_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        struct up_packet *pkt = &p->packets[i];
        atomic_init(&pkt->refs, 0);
        pkt->data = p->slots + i * UP_SLOT_SIZE;
        pkt->pool = p;
    }
    /* No free list yet: never-used packets are handed out in order only
     * when no used one is free (see up_pool_get). */
    p->fresh_next = 0;
    p->free_count = count;
    for (size_t i = p->large_count; i-- > 0;)
        p->large_free[p->large_top++] = p->large_mem + i * large_size;
    return UP_OK;
}

void up_pool_destroy(struct up_pool *p)
{
    up_free(p->packets);
    up_free(p->slots);
    up_free(p->large_mem);
    up_free(p->large_free);
    memset(p, 0, sizeof(*p));
}

struct up_packet *up_pool_get(struct up_pool *p)
{
    struct up_packet *pkt = p->free;
    if (!pkt) {
        /* Take everything the writers returned since last time before any
         * never-used packet: reusing warm buffers keeps the resident memory
         * at what is really in flight. Acquire: pairs with the release in
         * up_pool_return_chain, so their last reads of the bytes happen
         * before we let the kernel overwrite them. */
        pkt = atomic_exchange_explicit(&p->returned, NULL, memory_order_acquire);
        if (!pkt) {
            if (p->fresh_next == p->count)
                return NULL;
            p->free_count--;
            return &p->packets[p->fresh_next++];
        }
        /* Free their large buffers now, all of them: left on the packets
         * they would stay out of up_pool_get_large()'s reach until each
         * packet is taken again (a no_buffer drop meanwhile). */
        size_t n = 0;
        for (struct up_packet *q = pkt; q; q = q->next) {
            if (q->large) {
                p->large_free[p->large_top++] = q->large;
                q->large = NULL;
            }
            n++;
        }
        p->free_count += n;
    }
    p->free = pkt->next;
    p->free_count--;
    pkt->next = NULL;
    if (pkt->large) {
        p->large_free[p->large_top++] = pkt->large;
        pkt->large = NULL;
    }
    return pkt;
}

uint8_t *up_pool_get_large(struct up_pool *p)
{
    if (p->large_top == 0) {
        /* Large buffers come back attached to their packets: recycle some. */
        struct up_packet *got = atomic_exchange_explicit(&p->returned, NULL, memory_order_acquire);
        while (got) {
            struct up_packet *next = got->next;
            up_pool_put(p, got);
            got = next;
        }
        if (p->large_top == 0)
            return NULL;
    }
    return p->large_free[--p->large_top];
}

void up_pool_put(struct up_pool *p, struct up_packet *pkt)
{
    if (pkt->large) {
        p->large_free[p->large_top++] = pkt->large;
        pkt->large = NULL;
    }
    pkt->next = p->free;
    p->free = pkt;
    p->free_count++;
}

void up_pool_return_chain(struct up_pool *p, struct up_packet *first, struct up_packet *last)
{
    struct up_packet *head = atomic_load_explicit(&p->returned, memory_order_relaxed);
    do {
        last->next = head;
        /* Release: our reads of the packets' bytes (the send) happen before
         * the owner reuses them. */
    } while (
        !atomic_compare_exchange_weak_explicit(&p->returned, &head, first, memory_order_release, memory_order_relaxed));
}

void up_packet_release(struct up_packet *pkt, unsigned n)
{
    /* acq_rel: the release orders our use of the bytes before the last
     * holder's return; the acquire makes the last holder see everyone's. */
    if (atomic_fetch_sub_explicit(&pkt->refs, n, memory_order_acq_rel) == n)
        up_pool_return_chain(pkt->pool, pkt, pkt);
}
