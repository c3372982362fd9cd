/*
 * pool.h - preallocated datagram buffers, shared by all targets.
 *
 * Each reader thread owns one pool, made at start-up: no allocation on the
 * per-datagram path. A datagram lives in one up_packet: a small slot of
 * UP_SLOT_SIZE bytes (most DogStatsD datagrams fit) and, only for larger
 * datagrams, a large continuation buffer (the rest, up to --buffer). The
 * kernel scatters each datagram over both (two iovecs), and the writers
 * gather them back with sendmmsg: no copy anywhere, even for 64 KiB ones.
 *
 * Ownership: the owning reader takes packets (up_pool_get), fills them and
 * hands one reference to each target queue it pushes the packet to
 * (refs = number of holders). Whoever drops the last reference returns the
 * packet with up_packet_release(): the owner to its private free list,
 * another thread through a lock-free return stack (many pushers, one taker
 * that takes the whole stack at once, so no ABA problem).
 */
#ifndef UP_POOL_H
#define UP_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define UP_SLOT_SIZE 2048u /* bytes in a small slot */

struct up_pool;

struct up_packet {
    atomic_uint refs;       /* holders that have yet to release it */
    uint32_t len;           /* datagram length, bytes */
    uint8_t *data;          /* small slot: first UP_SLOT_SIZE bytes */
    uint8_t *large;         /* continuation (bytes past UP_SLOT_SIZE) or NULL */
    struct up_packet *next; /* free-list link, only while free */
    struct up_pool *pool;   /* owner, to return to */
};

struct up_pool {
    /* Owner (reader thread) only. */
    struct up_packet *free; /* private LIFO free list (hot buffers first) */
    uint8_t **large_free;   /* private stack of free large buffers */
    size_t large_top;       /* entries in large_free */
    size_t free_count;      /* packets the owner can take now (private list + never used) */
    size_t fresh_next;      /* packets[fresh_next..count) were never used */
    /* Any thread pushes, the owner takes all: see pool.c. */
    _Alignas(64) _Atomic(struct up_packet *) returned;
    /* Storage, fixed after up_pool_init. */
    _Alignas(64) struct up_packet *packets; /* count descriptors */
    uint8_t *slots;                         /* count * UP_SLOT_SIZE bytes */
    uint8_t *large_mem;                     /* large_count * large_size bytes */
    size_t count;                           /* packets (small slots) */
    size_t large_count;                     /* large buffers */
    size_t large_size;                      /* bytes in a large buffer (0: none) */
};

/* Make a pool of `count` packets and `large_count` large buffers of
 * `large_size` bytes (0/0 when --buffer fits a slot). Memory is reserved,
 * not touched: pages become resident only when used.
 * Returns UP_OK or UP_ENOMEM. Release with up_pool_destroy(). */
int up_pool_init(struct up_pool *p, size_t count, size_t large_count, size_t large_size);
void up_pool_destroy(struct up_pool *p);

/* Owner only: a free packet with refs 0 and no large buffer, or NULL when
 * every packet is in flight. */
struct up_packet *up_pool_get(struct up_pool *p);

/* Owner only: a free large buffer or NULL. */
uint8_t *up_pool_get_large(struct up_pool *p);

/* Owner only: give back a packet that no other thread ever saw. */
void up_pool_put(struct up_pool *p, struct up_packet *pkt);

/* Any thread: drop `n` references to pkt; the one that drops the last
 * returns the packet (and its large buffer) to its pool. */
void up_packet_release(struct up_packet *pkt, unsigned n);

/* Any thread: return a chain of packets (linked by ->next, refs already 0)
 * to their pool in one step. All must belong to the same pool. */
void up_pool_return_chain(struct up_pool *p, struct up_packet *first, struct up_packet *last);

/* Point dg at the bytes of pkt for sending. */
static inline void up_packet_to_dgram(const struct up_packet *pkt, struct up_dgram *dg)
{
    if (pkt->len > UP_SLOT_SIZE) {
        UP_BUF_SET(dg->iov[0], pkt->data, UP_SLOT_SIZE);
        UP_BUF_SET(dg->iov[1], pkt->large, pkt->len - UP_SLOT_SIZE);
        dg->iovcnt = 2;
    } else {
        UP_BUF_SET(dg->iov[0], pkt->data, pkt->len);
        dg->iovcnt = 1;
    }
    dg->len = pkt->len;
    dg->flags = 0;
}

#endif
