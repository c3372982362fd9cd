/* pool.c - preallocated datagram buffers with reference counts (see pool.h). */
#include "pool.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

int up_pool_init(struct up_pool *p, size_t count, size_t large_size)
{
    memset(p, 0, sizeof(*p));
    atomic_init(&p->returned, NULL);
    p->count = count;
    p->large_size = large_size;
    if (count > SIZE_MAX / sizeof(struct up_packet) - 1 || count > SIZE_MAX / UP_SLOT_SIZE ||
        (large_size && count > SIZE_MAX / large_size))
        return UP_ENOMEM;
    /* calloc of a large block maps fresh zero pages: nothing is touched
     * until a datagram lands there, so unused packets cost no resident
     * memory. The descriptors are aligned by hand (one spare) rather than
     * with up_calloc_aligned, which would write every page. */
    p->packets_mem = up_calloc(count + 1, sizeof(struct up_packet));
    p->slots = up_calloc(count, UP_SLOT_SIZE);
    if (large_size)
        p->large_mem = up_calloc(count, large_size);
    if (!p->packets_mem || !p->slots || (large_size && !p->large_mem)) {
        up_pool_destroy(p);
        return UP_ENOMEM;
    }
    uintptr_t a =
        ((uintptr_t)p->packets_mem + _Alignof(struct up_packet) - 1) & ~(uintptr_t)(_Alignof(struct up_packet) - 1);
    p->packets = (struct up_packet *)a;
    /* No free list yet: never-used packets are set up and handed out in
     * order only when no used one is free (see up_pool_get). */
    p->fresh_next = 0;
    return UP_OK;
}

void up_pool_destroy(struct up_pool *p)
{
    up_free(p->packets_mem);
    up_free(p->slots);
    up_free(p->large_mem);
    memset(p, 0, sizeof(*p));
}

/* The first use of packet i: point it at its memory. */
static struct up_packet *fresh_packet(struct up_pool *p)
{
    size_t i = p->fresh_next++;
    struct up_packet *pkt = &p->packets[i];
    atomic_init(&pkt->refs, 0);
    pkt->len = 0;
    pkt->data = p->slots + i * UP_SLOT_SIZE;
    pkt->large = p->large_size ? p->large_mem + i * p->large_size : NULL;
    pkt->next = NULL;
    pkt->pool = p;
    return pkt;
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
        if (!pkt)
            return p->fresh_next == p->count ? NULL : fresh_packet(p);
    }
    p->free = pkt->next;
    pkt->next = NULL;
    return pkt;
}

void up_pool_put(struct up_pool *p, struct up_packet *pkt)
{
    pkt->next = p->free;
    p->free = pkt;
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
