/*
 * target.h - one destination: its socket, its queues and its writer thread.
 *
 * Every target has one bounded queue per reader and one writer thread that
 * empties them in batches onto a connected, non-blocking socket. A reader
 * that finds a target's queues drained and has only a small batch sends it
 * itself ("inline", never waiting: MSG_DONTWAIT), which saves the hand-off
 * and wake-up at low rates; what it cannot send at once goes to the queue.
 * So a slow, full or dead target only fills its own queue: the reader drops
 * for that target alone (counted) and never waits.
 *
 * Wake-ups: the writer sleeps on a semaphore only when all its queues are
 * empty, after announcing it in `sleeping`; a reader posts the semaphore only
 * when it takes that flag down, so a busy writer costs the reader no system
 * call at all (Dekker-style handshake with seq_cst fences on both sides).
 *
 * Moving targets (control thread only, never on the data path): a target
 * named by a host name is re-resolved now and then; a new address of the
 * same family is set with connect() on the same socket (the kernel swaps the
 * peer atomically), another family gets a fresh socket put in place of the
 * old descriptor (up_sock_replace). The queues stay as they are. A Unix
 * target whose socket is missing or was re-created is connected again. A
 * target with no usable peer counts its datagrams in dropped_send_error.
 */
#ifndef UP_TARGET_H
#define UP_TARGET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "log.h"
#include "platform.h"
#include "queue.h"
#include "stats.h"
#include "target_opts.h"

struct up_tshape; /* target_shape.h */

#define UP_BATCH 64 /* datagrams per system call, both directions */

enum up_target_state {
    UP_TARGET_RUN = 0,   /* forward what comes */
    UP_TARGET_DRAIN = 1, /* readers stopped: send what is queued, then exit */
};

/* After a direct send (queue full) that the socket refused, a reader skips
 * that many batches at most before it asks the socket again. */
#define UP_DIRECT_BACKOFF_MAX 64u

/* Counters of one thread for one target, alone on their cache line, and
 * that thread's private state for the target. */
struct up_target_slot {
    _Alignas(64) struct up_target_counters c;
    unsigned direct_skip;    /* reader slots: batches left before the next direct send */
    unsigned direct_backoff; /* reader slots: the last skip length (doubles per refusal) */
};

struct up_target {
    char name[UP_NAME_MAX];                 /* as the operator wrote it */
    struct up_addr addr;                    /* resolved address */
    up_sock sock;                           /* connected, non-blocking; owned */
    size_t nqueues;                         /* one per reader */
    struct up_queue *queues;                /* [nqueues]; queue r: reader r -> writer */
    struct up_target_slot *by_reader;       /* [nqueues]; slot r written by reader r only */
    struct up_target_slot by_writer;        /* written by the writer only */
    _Alignas(64) atomic_int sleeping;       /* 1: writer waits (or is about to) on wake */
    up_sem wake;                            /* posted to wake the writer */
    atomic_int state;                       /* enum up_target_state */
    atomic_uint_fast64_t drain_deadline_ns; /* up_now_ns() limit while draining */
    atomic_int alive;                       /* 1 while the writer thread runs */
    /* up_now_ns() when the writer last sent a datagram or found its queues
     * empty (written by the writer about once per batch, relaxed; read by
     * snapshots for --health-stall: queued datagrams and an old value mean
     * the target is stalled). */
    atomic_uint_fast64_t progress_ns;
    up_thread thread;
    bool started; /* writer thread was started */
    bool sem_ok;  /* wake was initialised */
    /* Writer scratch, allocated at start-up, used by the writer only. */
    struct up_io *io;
    struct up_dgram *dg;    /* [UP_BATCH] */
    void **batch;           /* [UP_BATCH] packets being sent */
    size_t *per_queue;      /* [nqueues] items taken from each queue */
    size_t next_queue;      /* the queue the next batch starts with (fairness) */
    struct up_ratelimit rl; /* send-error log limiter */
    /* Per-target options (issue 11), fixed while the target is in a route
     * table (a reload that changes them replaces the target). */
    struct up_target_opts opts;
    struct up_tshape *shaper; /* writer state when shaped or packed, else NULL (zero-copy path) */
    /* Control thread only (re-resolving, reconnecting). */
    bool is_unix;                /* unix: target (fixed) */
    bool connected;              /* the socket has a peer */
    int sndbuf;                  /* --sndbuf it was made with */
    uint64_t next_resolve_ns;    /* up_now_ns() of the next lookup (named targets) */
    up_counter resolve_failures; /* failed lookups (written by the control thread) */
    /* Set by whoever sends when a Unix peer went away; the control thread
     * connects again and clears it. */
    _Alignas(64) atomic_int reconnect;
};

/* Set up t: connect a socket to addr (send buffer sndbuf bytes), make
 * nqueues queues of channel_size datagrams. addr->len 0 (a name that does
 * not resolve yet) or a Unix socket that is not there yet gives a target
 * without a peer, not an error. Returns UP_OK or an error; on error t holds
 * nothing to free. */
int up_target_init(struct up_target *t, const struct up_addr *addr, size_t nqueues, uint32_t channel_size, int sndbuf);
/* Control thread, after up_target_init() and before up_target_start():
 * apply o (name=, and the shaping state when o shapes or packs). Returns
 * UP_OK or UP_ENOMEM. */
int up_target_set_opts(struct up_target *t, const struct up_target_opts *o);

/* Start the writer thread. */
int up_target_start(struct up_target *t);
/* Ask the writer to send what is queued (until deadline_ns), then exit. */
void up_target_drain(struct up_target *t, uint64_t deadline_ns);
/* Wait for the writer to exit. */
void up_target_join(struct up_target *t);

/* Whether the writer thread still runs (false once it has drained). */
bool up_target_running(struct up_target *t);
/* Release everything (after join). */
void up_target_destroy(struct up_target *t);

/* Wake the writer if it sleeps; the caller has just pushed to a queue. */
void up_target_wake(struct up_target *t);
/* The same, when the caller has already done up_full_fence() after its
 * pushes (one fence for several targets). */
void up_target_wake_fenced(struct up_target *t);

/* Send dg[0..n) now without waiting; count into c (sent, bytes, send
 * errors; errors are logged through rl). Returns how many datagrams were
 * handled (sent, or failed and counted); less than n only when the socket
 * buffer is full (would block). Safe from any thread, but the caller must
 * keep the per-target order (see the reader's inline rule). */
size_t up_target_send(struct up_target *t, struct up_io *io, const struct up_dgram *dg, size_t n,
                      struct up_target_counters *c, struct up_ratelimit *rl);

/* Control thread: point the target at a new address of its name, keeping
 * its queues. Returns UP_OK or an error (the old address stays). */
int up_target_set_addr(struct up_target *t, const struct up_addr *addr);

/* Control thread: connect a Unix target again if a sender saw its peer go
 * away (or it never had one). Returns UP_OK when connected (or nothing to
 * do), else the connect error. */
int up_target_reconnect(struct up_target *t);

/* Sum this target's counters into s. */
void up_target_snapshot(struct up_target *t, struct up_stats_target *s);

#endif
