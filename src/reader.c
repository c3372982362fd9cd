/* reader.c - the receive loop and the fan-out (see reader.h). */
#include "reader.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "fence.h"

/* How long an idle receive waits before looking at the stop flag. */
#define IDLE_WAIT_MS 200

/* Set on a received datagram whose sender --allow does not accept. */
#define DGRAM_DENIED 0x100u

static size_t large_size_for(uint32_t buffer)
{
    return buffer > UP_SLOT_SIZE ? buffer - UP_SLOT_SIZE : 0;
}

/* Enough packets that the pool can never run dry: every target queue full,
 * plus one batch being received. Each packet carries its own room for a
 * datagram of --buffer bytes, so a full queue holds its own bytes and never
 * another target's (whatever the datagram size). Untouched pages cost
 * nothing. */
static size_t pool_count(size_t ntargets, uint32_t channel_size)
{
    size_t cap = 1;
    while (cap < channel_size)
        cap <<= 1;
    return ntargets * cap + 2 * UP_BATCH;
}

double up_reader_reserve_bytes(size_t pool_targets, uint32_t buffer, uint32_t channel_size)
{
    return (double)pool_count(pool_targets, channel_size) *
           (double)(sizeof(struct up_packet) + UP_SLOT_SIZE + large_size_for(buffer));
}

/* Point receive entry i at its reserved packet (or the scratch area). */
static void reserve(struct up_reader *rd, size_t i)
{
    struct up_dgram *d = &rd->rdg[i];
    size_t large = large_size_for(rd->buffer);
    if (!rd->res[i])
        rd->res[i] = up_pool_get(&rd->pool);
    struct up_packet *p = rd->res[i];
    UP_BUF_SET(d->iov[0], p ? p->data : rd->scratch, rd->buffer < UP_SLOT_SIZE ? rd->buffer : UP_SLOT_SIZE);
    d->iovcnt = 1;
    if (large) {
        UP_BUF_SET(d->iov[1], p ? p->large : rd->scratch + UP_SLOT_SIZE, large);
        d->iovcnt = 2;
    }
}

int up_reader_init(struct up_reader *rd, size_t index, up_sock sock, _Atomic(const struct up_route *) *route,
                   size_t pool_targets, uint32_t buffer, uint32_t channel_size, const atomic_int *stop)
{
    memset(rd, 0, sizeof(*rd));
    rd->index = index;
    rd->sock = sock;
    rd->rsock = sock;
    rd->route = route;
    rd->buffer = buffer;
    rd->stop = stop;
    atomic_init(&rd->epoch, 0);
    atomic_init(&rd->swap, 0);
    atomic_init(&rd->late, 0);
    rd->swap_sock = UP_SOCK_INVALID;
    size_t ntargets = pool_targets;

    size_t count = pool_count(ntargets, channel_size);
    int r = up_pool_init(&rd->pool, count, large_size_for(buffer));
    if (r != UP_OK)
        goto fail;
    r = up_io_new(UP_BATCH, &rd->io);
    if (r != UP_OK)
        goto fail;
    rd->rdg = up_calloc(UP_BATCH, sizeof(*rd->rdg));
    rd->res = up_calloc(UP_BATCH, sizeof(*rd->res));
    rd->out = up_calloc(UP_BATCH, sizeof(*rd->out));
    rd->sdg = up_calloc(UP_BATCH, sizeof(*rd->sdg));
    rd->unheld = up_calloc(UP_BATCH, sizeof(*rd->unheld));
    rd->scratch = up_calloc(1, UP_SLOT_SIZE + large_size_for(buffer));
    rd->from = up_calloc(UP_BATCH, sizeof(*rd->from));
    if (!rd->rdg || !rd->res || !rd->out || !rd->sdg || !rd->unheld || !rd->scratch || !rd->from) {
        r = UP_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < UP_BATCH; i++)
        reserve(rd, i);
    return UP_OK;
fail:
    rd->sock = UP_SOCK_INVALID;  /* the caller still owns it: */
    rd->rsock = UP_SOCK_INVALID; /* closed by neither name */
    up_reader_destroy(rd);
    return r;
}

void up_reader_destroy(struct up_reader *rd)
{
    up_io_free(rd->io);
    up_free(rd->rdg);
    up_free(rd->res);
    up_free(rd->out);
    up_free(rd->sdg);
    up_free(rd->unheld);
    up_free(rd->scratch);
    up_free(rd->from);
    up_pool_destroy(&rd->pool);
    if (atomic_load_explicit(&rd->swap, memory_order_acquire) && rd->swap_sock != rd->sock)
        up_sock_close(rd->swap_sock); /* handed over, never taken */
    if (rd->rsock != rd->sock)
        up_sock_close(rd->rsock);
    up_sock_close(rd->sock);
    memset(rd, 0, sizeof(*rd));
    rd->sock = UP_SOCK_INVALID;
    rd->rsock = UP_SOCK_INVALID;
}

/* --allow: mark the datagrams of senders outside every allowed network
 * (runs only when the route has an allow list). */
static void mark_denied(struct up_reader *rd, const struct up_route *rt, size_t r)
{
    for (size_t i = 0; i < r; i++)
        if (!up_cidr_match(rt->allow, rt->nallow, (const struct sockaddr *)&rd->from[i]))
            rd->rdg[i].flags |= DGRAM_DENIED;
}

/* The debug line for each forwarded datagram: its size, its sender (the
 * receive asks for senders while the level is debug) and its fan-out. */
static void log_datagram(const struct up_reader *rd, const struct up_route *rt, size_t i, size_t len)
{
    char from[UP_ADDR_TEXT_MAX];
    const struct sockaddr *sa = (const struct sockaddr *)&rd->from[i];
    if (sa->sa_family == AF_UNSPEC || (sa->sa_family == AF_UNIX && up_unix_path(&rd->from[i])[0] == '\0'))
        snprintf(from, sizeof(from), "an unnamed socket");
    else
        up_addr_format(sa, from, sizeof(from));
    up_log(UP_LOG_DEBUG, "received %zu bytes from %s, forwarding to %zu target(s)", len, from, rt->ntargets);
}

/* Sort the r received datagrams: accepted ones move to out[] (their
 * reservations are used up), denied, oversize and unbuffered ones are
 * counted and their buffers stay reserved. Returns the count accepted. */
static size_t accept_batch(struct up_reader *rd, const struct up_route *rt, size_t r, bool debug)
{
    size_t m = 0;
    uint64_t bytes = 0, oversize = 0, nobuf = 0, denied = 0;
    for (size_t i = 0; i < r; i++) {
        const struct up_dgram *d = &rd->rdg[i];
        /* One test for every rare case: flags are 0 for a normal datagram. */
        if (d->flags || d->len > rd->buffer) {
            if (d->flags & DGRAM_DENIED) {
                denied++;
                if (up_log_limited_due(&rd->rl_allow, UP_LOG_WARN)) {
                    char from[UP_ADDR_TEXT_MAX];
                    up_addr_format((const struct sockaddr *)&rd->from[i], from, sizeof(from));
                    up_log_limited(&rd->rl_allow, UP_LOG_WARN,
                                   "dropped a datagram from %s: a sender outside --allow (counted in not_allowed)",
                                   from);
                }
                continue;
            }
            oversize++;
            up_log_limited(&rd->rl_oversize, UP_LOG_WARN,
                           "dropped a datagram of %u bytes: larger than --buffer %u (counted in oversize)",
                           (unsigned)d->len, (unsigned)rd->buffer);
            continue;
        }
        struct up_packet *p = rd->res[i];
        if (!p) {
            nobuf++;
            up_log_limited(&rd->rl_nobuf, UP_LOG_WARN, "dropped a datagram: no free buffer (counted in no_buffer)");
            continue;
        }
        p->len = d->len;
        rd->res[i] = NULL;
        bytes += d->len;
        rd->out[m++] = p;
        if (debug)
            log_datagram(rd, rt, i, d->len);
    }
    if (m) {
        up_counter_add(&rd->c.received, m);
        up_counter_add(&rd->c.received_bytes, bytes);
    }
    if (oversize)
        up_counter_add(&rd->c.oversize, oversize);
    if (nobuf)
        up_counter_add(&rd->c.no_buffer, nobuf);
    if (denied)
        up_counter_add(&rd->c.not_allowed, denied);
    return m;
}

/* Offer the m accepted packets to every target. Each packet starts with one
 * reference per target and none for us. A target that keeps a packet in its
 * queue owns that reference; the references of the others stay with us
 * until the end, so the packet cannot go back to the pool while we still
 * send it inline or directly for them; then we give them back, in one step
 * per packet, and nothing at all when every target kept it (the common case
 * under load). A packet every target kept may be returned by the writers
 * while we are still here: harmless, we no longer touch it, and only this
 * thread ever takes packets out of the pool again. */
static void fan_out(struct up_reader *rd, const struct up_route *rt, size_t m)
{
    unsigned ntargets = (unsigned)rt->ntargets;
    struct up_target *pushed_to[UP_TARGETS_MAX];
    size_t npushed = 0;
    for (size_t j = 0; j < m; j++) {
        /* Relaxed: the queue push (release) publishes it to the writers. */
        atomic_store_explicit(&rd->out[j]->refs, ntargets, memory_order_relaxed);
        up_packet_to_dgram(rd->out[j], &rd->sdg[j]);
        rd->unheld[j] = 0;
    }
    for (size_t t = 0; t < rt->ntargets; t++) {
        struct up_target *tg = rt->targets[t];
        struct up_target_slot *slot = &tg->by_reader[rd->index];
        struct up_target_counters *c = &slot->c;
        struct up_queue *q = &tg->queues[rd->index];
        size_t k = 0;
        /* Inline only when the writer has finished everything we queued
         * before: keeps each target's order. Until we give this target's
         * reference back (below), the packets stay ours to send from. Never
         * to a shaped or packed target: its writer does that work
         * (target_shape.c). */
        if (m <= UP_INLINE_MAX && !tg->shaper && up_queue_drained(q))
            k = up_target_send(tg, rd->io, rd->sdg, m, c, &rd->rl_send);
        for (size_t j = 0; j < k; j++)
            rd->unheld[j]++;
        if (k == m)
            continue;
        size_t pushed = up_queue_push(q, (void *const *)(rd->out + k), m - k);
        if (pushed)
            pushed_to[npushed++] = tg;
        if (k + pushed < m) {
            /* Queue full: the writer is behind (often just not scheduled).
             * Try the socket directly, still without waiting; only what the
             * socket will not take either is dropped. Order within this
             * target may change then: UDP never promised it. A socket that
             * refused is not asked again for the next `skip` batches (up to
             * UP_DIRECT_BACKOFF_MAX): a stuck target must not cost every
             * batch a failing system call. */
            size_t rest = m - k - pushed;
            size_t sent = 0;
            if (tg->shaper) {
                /* a shaped target's bytes come from its writer only */
            } else if (slot->direct_skip) {
                slot->direct_skip--;
            } else {
                sent = up_target_send(tg, rd->io, rd->sdg + k + pushed, rest, c, &rd->rl_send);
                if (sent < rest) {
                    unsigned b = slot->direct_backoff ? slot->direct_backoff * 2 : 1;
                    slot->direct_backoff = b < UP_DIRECT_BACKOFF_MAX ? b : UP_DIRECT_BACKOFF_MAX;
                    slot->direct_skip = slot->direct_backoff;
                } else {
                    slot->direct_backoff = 0;
                }
            }
            for (size_t j = k + pushed; j < m; j++)
                rd->unheld[j]++;
            if (sent < rest) {
                up_counter_add(&c->dropped_queue_full, rest - sent);
                up_log_limited(&rd->rl_queue, UP_LOG_WARN,
                               "target %s: queue and socket buffer full, dropped %zu datagrams (counted in "
                               "dropped_queue_full)",
                               tg->name, rest - sent);
            }
        }
    }
    /* Wake the writers we pushed to: one fence for all of them. */
    if (npushed) {
        up_full_fence();
        for (size_t i = 0; i < npushed; i++)
            up_target_wake_fenced(pushed_to[i]);
    }
    for (size_t j = 0; j < m; j++) {
        unsigned u = rd->unheld[j];
        struct up_packet *p = rd->out[j];
        if (u == ntargets) {
            atomic_store_explicit(&p->refs, 0, memory_order_relaxed);
            up_pool_put(&rd->pool, p); /* no writer ever saw it (or no targets) */
        } else if (u == 0) {
            continue; /* every target kept it: theirs now, do not touch it */
        } else if (atomic_fetch_sub_explicit(&p->refs, u, memory_order_acq_rel) == u) {
            up_pool_put(&rd->pool, p); /* the writers were faster */
        }
    }
}

/* Receive and forward one batch from s. Returns the count received, or an
 * error. The route table is loaded once, here, and not used after return. */
static int reader_step(struct up_reader *rd, up_sock s, bool wait)
{
    /* seq_cst: pairs with the reload's publish and epoch reads (proxy.c);
     * a plain load on x86 and most others. */
    const struct up_route *rt = atomic_load_explicit(rd->route, memory_order_seq_cst);
    int r;
    /* One level check per batch: at debug, senders are asked for too. */
    bool debug = up_log_enabled(UP_LOG_DEBUG);
    if (rt->nallow == 0 && !debug) {
        r = up_udp_recv_batch(s, rd->io, rd->rdg, UP_BATCH, wait);
    } else {
        r = up_udp_recv_batch_from(s, rd->io, rd->rdg, UP_BATCH, wait, rd->from);
        if (r > 0 && rt->nallow)
            mark_denied(rd, rt, (size_t)r);
    }
    if (r < 0)
        return r;
    /* A rebind wakes us with shutdown(SHUT_RD) on the old socket (proxy.c,
     * move_source), which a blocked receive reports as one empty datagram:
     * not a datagram. (The old socket gets no traffic by then; only an
     * empty datagram arriving alone in the instant before the steering
     * could be taken for it.) */
    if (wait && r == 1 && rd->rdg[0].len == 0 && atomic_load_explicit(&rd->swap, memory_order_acquire))
        return 0;
    size_t m = accept_batch(rd, rt, (size_t)r, debug);
    if (m)
        fan_out(rd, rt, m);
    for (size_t i = 0; i < (size_t)r; i++)
        reserve(rd, i);
    return r;
}

/* Batch boundary: we hold no route table now. seq_cst: see proxy.c. */
static void pass_boundary(struct up_reader *rd)
{
    uint_fast64_t e = atomic_load_explicit(&rd->epoch, memory_order_relaxed);
    atomic_store_explicit(&rd->epoch, e + 1, memory_order_seq_cst);
}

/* Take what the kernel still holds on s, without waiting (bounded). */
static void drain_socket(struct up_reader *rd, up_sock s)
{
    for (int i = 0; i < 4096; i++) {
        int r = reader_step(rd, s, false);
        pass_boundary(rd);
        if (r <= 0)
            break;
    }
}

/* A reload rebound the source: move to the new socket, empty the old one,
 * and tell the control thread (which closes it) that we let go. */
static void take_new_socket(struct up_reader *rd, up_sock fresh)
{
    up_sock old = rd->rsock;
    rd->rsock = fresh;
    drain_socket(rd, old);
    /* Release: we are done with `old` before the control thread closes it. */
    atomic_store_explicit(&rd->swap, 0, memory_order_release);
}

/* After the stop: receive one batch and count it as received and, for
 * every target, dropped_shutdown. Returns the count received (0 when
 * nothing came). */
static int count_late(struct up_reader *rd, bool wait)
{
    const struct up_route *rt = atomic_load_explicit(rd->route, memory_order_seq_cst);
    int r;
    if (rt->nallow == 0) {
        r = up_udp_recv_batch(rd->rsock, rd->io, rd->rdg, UP_BATCH, wait);
    } else {
        r = up_udp_recv_batch_from(rd->rsock, rd->io, rd->rdg, UP_BATCH, wait, rd->from);
        if (r > 0)
            mark_denied(rd, rt, (size_t)r);
    }
    if (r <= 0)
        return 0;
    size_t m = accept_batch(rd, rt, (size_t)r, false);
    for (size_t i = 0; i < m; i++)
        up_pool_put(&rd->pool, rd->out[i]); /* never offered to anyone */
    for (size_t t = 0; t < rt->ntargets && m; t++)
        up_counter_add(&rt->targets[t]->by_reader[rd->index].c.dropped_shutdown, m);
    for (size_t i = 0; i < (size_t)r; i++)
        reserve(rd, i);
    return r;
}

static void *reader_main(void *arg)
{
    struct up_reader *rd = arg;
    while (!atomic_load_explicit(rd->stop, memory_order_acquire)) {
        int r = reader_step(rd, rd->rsock, true);
        pass_boundary(rd);
        /* One relaxed load per batch; acquire only when something came. */
        if (atomic_load_explicit(&rd->swap, memory_order_relaxed) &&
            atomic_load_explicit(&rd->swap, memory_order_acquire)) /* acquire: swap_sock is written */
            take_new_socket(rd, rd->swap_sock);
        if (r >= 0 || r == UP_EAGAIN)
            continue;
        up_counter_add(&rd->c.recv_errors, 1);
        up_log_limited(&rd->rl_recv, UP_LOG_ERROR, "receive failed: %s", up_strerror(r));
        up_sleep_ms(10); /* a persistent error must not spin a core */
    }
    /* Stop: take what the kernel still holds (bounded) and forward it. */
    drain_socket(rd, rd->rsock);
    /* Release: our last push is done before the proxy drains the writers. */
    atomic_store_explicit(&rd->late, 1, memory_order_release);
    /* A re-exec follows (up_proxy_keep_sources): receive nothing more; what
     * arrives waits in the kernel's buffer for the next image. */
    if (atomic_load_explicit(rd->stop, memory_order_acquire) == UP_STOP_HANDOVER)
        return NULL;
    /* While the writers drain, the socket stays bound: what still arrives
     * is received and counted, not left in a buffer that close() would
     * discard uncounted (review m2). It is counted as dropped_shutdown for
     * every target: we are stopping and forward nothing more. */
    while (atomic_load_explicit(rd->stop, memory_order_acquire) == 1)
        count_late(rd, true);
    while (count_late(rd, false) > 0)
        ;
    return NULL;
}

int up_reader_start(struct up_reader *rd)
{
    int r = up_thread_start(&rd->thread, reader_main, rd, "up-reader");
    if (r == UP_OK)
        rd->started = true;
    return r;
}

void up_reader_join(struct up_reader *rd)
{
    if (rd->started)
        up_thread_join(rd->thread);
    rd->started = false;
}
