/*
 * pool.h - preallocated datagram buffers, shared by all targets.
 *
 * Each reader thread owns one pool, made at start-up: no allocation on the
 * per-datagram path. A datagram lives in one up_packet: a small slot of
 * UP_SLOT_SIZE bytes (most DogStatsD datagrams fit) and, when --buffer is
 * larger than a slot, the packet's own continuation area for the rest (up
 * to --buffer). The kernel scatters each datagram over both (two iovecs),
 * and the writers gather them back with sendmmsg: no copy anywhere, even
 * for 64 KiB ones.
 *
 * Every packet has its own continuation area (there is no shared pool of
 * large buffers): a target that holds packets in its queue holds their
 * bytes with them, and nothing else. So whatever its size, a datagram can
 * only be refused when every packet is in flight, which the reader's sizing
 * (every target queue full) rules out.
 *
 * Memory: descriptors, slots and areas are three reservations of address
 * space (alloc.h up_reserve: charged to nothing, not even the Windows commit
 * limit or Linux's vm.overcommit_memory=2). Packets are handed out for the
 * first time in order, and the first of each run of UP_POOL_CHUNK commits
 * the memory of the whole run (one call per array): at most count /
 * UP_POOL_CHUNK commits in a pool's life, none once every packet has been
 * used. Committed pages still become resident only where a datagram lands
 * (a 4 KB datagram touches one page of its area), and LIFO reuse keeps the
 * same few warm. A refused commit hands out no packet (the reader counts
 * the datagram in no_buffer) and is tried again on the next need.
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

#include "log.h"
#include "platform.h"

#define UP_SLOT_SIZE 2048u /* bytes in a small slot */
#define UP_POOL_CHUNK 64u  /* packets committed together on first use */

struct up_pool;

/* One cache line each: a writer's release of one packet never bounces the
 * line the reader is filling for the next (descriptors are contiguous). */
struct up_packet {
    _Alignas(64) atomic_uint refs; /* holders that have yet to release it */
    uint32_t len;                  /* datagram length, bytes */
    uint8_t *data;                 /* small slot: first UP_SLOT_SIZE bytes */
    uint8_t *large;                /* own continuation area (bytes past UP_SLOT_SIZE), NULL if none */
    struct up_packet *next;        /* free-list link, only while free */
    struct up_pool *pool;          /* owner, to return to */
};

struct up_pool {
    /* Owner (reader thread) only. */
    struct up_packet *free;        /* private LIFO free list (hot buffers first) */
    size_t fresh_next;             /* packets[fresh_next..count) were never used (nor initialised) */
    size_t committed;              /* memory of packets[0..committed) is committed (>= fresh_next) */
    uint64_t commit_failures;      /* commits refused (each cost a datagram) */
    struct up_ratelimit rl_commit; /* log of refused commits */
    /* Any thread pushes, the owner takes all: see pool.c. */
    _Alignas(64) _Atomic(struct up_packet *) returned;
    /* Storage, fixed after up_pool_init. */
    _Alignas(64) struct up_packet *packets; /* count descriptors (a reservation: page aligned) */
    uint8_t *slots;                         /* count * UP_SLOT_SIZE bytes (a reservation) */
    uint8_t *large_mem;                     /* count * large_size bytes (a reservation), or NULL */
    size_t count;                           /* packets */
    size_t large_size;                      /* bytes in a packet's continuation area (0: none) */
};

/* Make a pool of `count` packets, each with a small slot and, if large_size
 * is not 0, a continuation area of large_size bytes. Memory is reserved,
 * neither committed nor touched (not even the descriptors): see above.
 * Returns UP_OK or UP_ENOMEM (address space refused). Release with
 * up_pool_destroy(). */
int up_pool_init(struct up_pool *p, size_t count, size_t large_size);
void up_pool_destroy(struct up_pool *p);

/* Owner only: a free packet with refs 0, or NULL when every packet is in
 * flight (or the memory of a never-used one could not be committed: counted
 * in commit_failures and logged, rate-limited). Its `large` is its own area
 * (NULL when the pool has none). */
struct up_packet *up_pool_get(struct up_pool *p);

/* Owner only: give back a packet that no other thread ever saw. */
void up_pool_put(struct up_pool *p, struct up_packet *pkt);

/* Any thread: drop `n` references to pkt; the one that drops the last
 * returns the packet to its pool. */
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
