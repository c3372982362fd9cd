/* pool.c - preallocated datagram buffers with reference counts (see pool.h). */
#include "pool.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "log.h"

/* Bytes of each of the three reservations of a pool. */
static size_t packets_bytes(const struct up_pool *p)
{
    return p->count * sizeof(struct up_packet);
}

static size_t slots_bytes(const struct up_pool *p)
{
    return p->count * UP_SLOT_SIZE;
}

static size_t large_bytes(const struct up_pool *p)
{
    return p->count * p->large_size;
}

int up_pool_init(struct up_pool *p, size_t count, size_t large_size)
{
    memset(p, 0, sizeof(*p));
    atomic_init(&p->returned, NULL);
    p->count = count;
    p->large_size = large_size;
    if (count > SIZE_MAX / sizeof(struct up_packet) || count > SIZE_MAX / UP_SLOT_SIZE ||
        (large_size && count > SIZE_MAX / large_size))
        return UP_ENOMEM;
    /* Address space only: nothing is committed or written here. A
     * reservation is page aligned, so the descriptors are 64-byte aligned. */
    p->packets = up_reserve(packets_bytes(p));
    p->slots = up_reserve(slots_bytes(p));
    if (large_size)
        p->large_mem = up_reserve(large_bytes(p));
    if (!p->packets || !p->slots || (large_size && !p->large_mem)) {
        up_pool_destroy(p);
        return UP_ENOMEM;
    }
    /* No free list yet: never-used packets are committed, set up and handed
     * out in order only when no used one is free (see up_pool_get). */
    p->fresh_next = 0;
    p->committed = 0;
    return UP_OK;
}

void up_pool_destroy(struct up_pool *p)
{
    up_unreserve(p->packets, packets_bytes(p));
    up_unreserve(p->slots, slots_bytes(p));
    up_unreserve(p->large_mem, large_bytes(p));
    memset(p, 0, sizeof(*p));
}

/* Commit the memory of the next run of never-used packets (up to
 * UP_POOL_CHUNK of them): descriptors, slots and areas. A run that failed
 * half way is committed again from its start next time (harmless). */
static int commit_run(struct up_pool *p)
{
    size_t first = p->committed;
    size_t n = p->count - first < UP_POOL_CHUNK ? p->count - first : UP_POOL_CHUNK;
    int r = up_commit(p->packets + first, n * sizeof(struct up_packet));
    if (r == UP_OK)
        r = up_commit(p->slots + first * UP_SLOT_SIZE, n * UP_SLOT_SIZE);
    if (r == UP_OK && p->large_size)
        r = up_commit(p->large_mem + first * p->large_size, n * p->large_size);
    if (r != UP_OK) {
        p->commit_failures++;
        up_log_limited(&p->rl_commit, UP_LOG_WARN,
                       "cannot commit memory for buffers %zu-%zu of %zu (%zu bytes each): %s; datagrams that "
                       "find no free buffer are dropped (counted in no_buffer); lower --buffer or --channel-size",
                       first, first + n - 1, p->count, UP_SLOT_SIZE + p->large_size, up_strerror(r));
        return r;
    }
    p->committed = first + n;
    return UP_OK;
}

/* The first use of packet i: point it at its memory. */
static struct up_packet *fresh_packet(struct up_pool *p)
{
    if (p->fresh_next == p->committed && commit_run(p) != UP_OK)
        return NULL;
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
