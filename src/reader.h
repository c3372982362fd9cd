/*
 * reader.h - a reader thread: receives batches and fans them out.
 *
 * Each reader owns a source socket (its own SO_REUSEPORT socket when there
 * are several readers), a buffer pool and one queue into every target.
 *
 * Targets are reached through the proxy's route table (struct up_route),
 * loaded once per batch. A reload publishes a new table and waits until
 * every reader has finished a batch (its `epoch` moved) before it frees the
 * old table or stops a removed target: readers take no lock and never wait.
 *
 *   recvmmsg(64) into reserved pool packets (scatter: slot + its continuation)
 *     -> drop oversize (counted, never forwarded cut)
 *     -> for each target: if its queues are drained and the batch is small,
 *        sendmmsg inline (MSG_DONTWAIT); push what is left to its queue
 *        and wake its writer; if the queue is full, offer the rest to the
 *        socket (MSG_DONTWAIT); what it refuses is that target's drop
 *     -> give back the references of targets that did not keep a packet
 *     -> reserve fresh packets for the next batch
 */
#ifndef UP_READER_H
#define UP_READER_H

#include <stdatomic.h>
#include <stddef.h>

#include "log.h"
#include "options.h"
#include "platform.h"
#include "pool.h"
#include "stats.h"
#include "target.h"

/* What readers forward to, published by the proxy (control thread) and
 * read once per batch; immutable once published. */
struct up_route {
    size_t ntargets;
    struct up_target *targets[UP_TARGETS_MAX];
    size_t nallow;                      /* 0: accept every sender */
    struct up_cidr allow[UP_ALLOW_MAX]; /* --allow networks */
};

/* A batch this small (or smaller) is sent by the reader itself to every
 * target whose queues are drained; bigger ones go to the writers. */
#define UP_INLINE_MAX 16

/* The proxy's stop value for a re-exec (up_proxy_keep_sources): after its
 * last forwarding drain a reader receives nothing more, so what arrives
 * stays in the kernel's buffer for the next image. */
#define UP_STOP_HANDOVER 3

struct up_reader {
    size_t index;                             /* which queue of each target is ours */
    up_sock sock;                             /* source socket for stats; owned, changed by the control thread */
    up_sock rsock;                            /* the socket this thread receives on */
    struct up_pool pool;                      /* our packets */
    _Alignas(64) struct up_reader_counters c; /* written by this thread only */
    _Alignas(64) atomic_uint_fast64_t epoch;  /* batches finished (seq_cst: see proxy.c, reload) */
    atomic_int swap;                          /* 1: move to swap_sock (set by the control thread, cleared by us) */
    up_sock swap_sock;                        /* the new source socket; written before swap is set */
    uint64_t kernel_drops_base;               /* drops of source sockets closed since start (control thread) */
    _Atomic(const struct up_route *) *route;  /* the proxy's published route table */
    uint32_t buffer;                          /* --buffer */
    const atomic_int *stop;                   /* the proxy's stop: 1 stop forwarding, 2 stop receiving,
                                               * UP_STOP_HANDOVER stop both (a re-exec takes the socket) */
    atomic_int late;                          /* 1: we forward no more, only count (set by us, after SIGTERM) */
    up_thread thread;
    bool started;
    /* Scratch, allocated at start-up, used by this thread only. */
    struct up_io *io;
    struct up_dgram *rdg;          /* [UP_BATCH] receive descriptors */
    struct up_packet **res;        /* [UP_BATCH] packet reserved per entry (NULL: scratch) */
    struct up_packet **out;        /* [UP_BATCH] packets accepted this batch */
    struct up_dgram *sdg;          /* [UP_BATCH] send descriptors for inline sends */
    unsigned *unheld;              /* [UP_BATCH] targets that did not keep the out entry */
    uint8_t *scratch;              /* receive space when the pool is empty; data discarded */
    struct sockaddr_storage *from; /* [UP_BATCH] sender addresses (only filled with --allow) */
    struct up_ratelimit rl_oversize, rl_queue, rl_send, rl_recv, rl_nobuf, rl_allow;
};

/* Set up reader `index` on an already bound socket (taken over: the reader
 * closes it). The pool is sized for `pool_targets` targets whose queues
 * are all full. Returns UP_OK or UP_ENOMEM; on error nothing is left to
 * free but the socket. */
int up_reader_init(struct up_reader *rd, size_t index, up_sock sock, _Atomic(const struct up_route *) *route,
                   size_t pool_targets, uint32_t buffer, uint32_t channel_size, const atomic_int *stop);
/* Address space (bytes) one reader's pool reserves: (pool_targets x queue
 * capacity + 2 batches) packets of a descriptor, a slot and room for the
 * rest of --buffer. Resident only where datagrams land. */
double up_reader_reserve_bytes(size_t pool_targets, uint32_t buffer, uint32_t channel_size);
int up_reader_start(struct up_reader *rd);
void up_reader_join(struct up_reader *rd);
void up_reader_destroy(struct up_reader *rd);

#endif
