/*
 * reader.h - a reader thread: receives batches and fans them out.
 *
 * Each reader owns a source socket (its own SO_REUSEPORT socket when there
 * are several readers), a buffer pool and one queue into every target.
 *
 *   recvmmsg(64) into reserved pool packets (scatter: slot + large buffer)
 *     -> drop oversize (counted, never forwarded cut)
 *     -> for each target: if its queues are drained and the batch is small,
 *        sendmmsg inline (MSG_DONTWAIT); push what is left to its queue
 *        (full queue: that target's drop, counted), wake its writer
 *     -> give back the references of targets that did not keep a packet
 *     -> reserve fresh packets for the next batch
 */
#ifndef UP_READER_H
#define UP_READER_H

#include <stdatomic.h>
#include <stddef.h>

#include "log.h"
#include "platform.h"
#include "pool.h"
#include "stats.h"
#include "target.h"

/* A batch this small (or smaller) is sent by the reader itself to every
 * target whose queues are drained; bigger ones go to the writers. */
#define UP_INLINE_MAX 16

struct up_reader {
    size_t index;                             /* which queue of each target is ours */
    up_sock sock;                             /* bound source socket; owned */
    struct up_pool pool;                      /* our packets */
    _Alignas(64) struct up_reader_counters c; /* written by this thread only */
    struct up_target *targets;                /* shared with the proxy, fixed while running */
    size_t ntargets;
    uint32_t buffer;        /* --buffer */
    const atomic_int *stop; /* set by the proxy to stop receiving */
    up_thread thread;
    bool started;
    /* Scratch, allocated at start-up, used by this thread only. */
    struct up_io *io;
    struct up_dgram *rdg;   /* [UP_BATCH] receive descriptors */
    struct up_packet **res; /* [UP_BATCH] packet reserved per entry (NULL: scratch) */
    uint8_t **res_large;    /* [UP_BATCH] large buffer reserved per entry (NULL: scratch) */
    struct up_packet **out; /* [UP_BATCH] packets accepted this batch */
    struct up_dgram *sdg;   /* [UP_BATCH] send descriptors for inline sends */
    unsigned *unheld;       /* [UP_BATCH] references nobody kept, per out entry */
    uint8_t *scratch;       /* receive space when the pool is empty; data discarded */
    struct up_ratelimit rl_oversize, rl_queue, rl_send, rl_recv, rl_nobuf;
};

/* Set up reader `index` on an already bound socket (taken over: the reader
 * closes it). Returns UP_OK or UP_ENOMEM; on error nothing is left to free
 * but the socket. */
int up_reader_init(struct up_reader *rd, size_t index, up_sock sock, struct up_target *targets, size_t ntargets,
                   uint32_t buffer, uint32_t channel_size, const atomic_int *stop);
int up_reader_start(struct up_reader *rd);
void up_reader_join(struct up_reader *rd);
void up_reader_destroy(struct up_reader *rd);

#endif
