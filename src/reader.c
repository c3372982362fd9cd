/* reader.c - the receive loop and the fan-out (see reader.h). */
#include "reader.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

/* How long an idle receive waits before looking at the stop flag. */
#define IDLE_WAIT_MS 200

/* Set on a received datagram whose sender --allow does not accept. */
#define DGRAM_DENIED 0x100u

static size_t large_size_for(uint32_t buffer)
{
    return buffer > UP_SLOT_SIZE ? buffer - UP_SLOT_SIZE : 0;
}

/* Point receive entry i at its reserved buffers (or the scratch area). */
static void reserve(struct up_reader *rd, size_t i)
{
    struct up_dgram *d = &rd->rdg[i];
    size_t large = large_size_for(rd->buffer);
    if (!rd->res[i])
        rd->res[i] = up_pool_get(&rd->pool);
    uint8_t *slot = rd->res[i] ? rd->res[i]->data : rd->scratch;
    UP_BUF_SET(d->iov[0], slot, rd->buffer < UP_SLOT_SIZE ? rd->buffer : UP_SLOT_SIZE);
    d->iovcnt = 1;
    if (large) {
        if (!rd->res_large[i])
            rd->res_large[i] = up_pool_get_large(&rd->pool);
        UP_BUF_SET(d->iov[1], rd->res_large[i] ? rd->res_large[i] : rd->scratch + UP_SLOT_SIZE, large);
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

    /* Enough packets that the pool can never run dry: every target queue
     * full, plus one batch being received. Untouched pages cost nothing. */
    size_t cap = 1;
    while (cap < channel_size)
        cap <<= 1;
    size_t count = ntargets * cap + 2 * UP_BATCH;
    /* Large buffers are virtual memory until used; bound them at 16 MiB
     * of address space (and at least two batches). */
    size_t lsize = large_size_for(buffer);
    size_t lcount = 0;
    if (lsize) {
        lcount = ((size_t)16 << 20) / lsize;
        if (lcount < 2 * UP_BATCH)
            lcount = 2 * UP_BATCH;
        if (lcount > count)
            lcount = count;
    }
    int r = up_pool_init(&rd->pool, count, lcount, lsize);
    if (r != UP_OK)
        goto fail;
    r = up_io_new(UP_BATCH, &rd->io);
    if (r != UP_OK)
        goto fail;
    rd->rdg = up_calloc(UP_BATCH, sizeof(*rd->rdg));
    rd->res = up_calloc(UP_BATCH, sizeof(*rd->res));
    rd->res_large = up_calloc(UP_BATCH, sizeof(*rd->res_large));
    rd->out = up_calloc(UP_BATCH, sizeof(*rd->out));
    rd->sdg = up_calloc(UP_BATCH, sizeof(*rd->sdg));
    rd->unheld = up_calloc(UP_BATCH, sizeof(*rd->unheld));
    rd->scratch = up_calloc(1, UP_SLOT_SIZE + lsize);
    rd->from = up_calloc(UP_BATCH, sizeof(*rd->from));
    if (!rd->rdg || !rd->res || !rd->res_large || !rd->out || !rd->sdg || !rd->unheld || !rd->scratch || !rd->from) {
        r = UP_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < UP_BATCH; i++)
        reserve(rd, i);
    return UP_OK;
fail:
    rd->sock = UP_SOCK_INVALID; /* the caller still owns it */
    up_reader_destroy(rd);
    return r;
}

void up_reader_destroy(struct up_reader *rd)
{
    up_io_free(rd->io);
    up_free(rd->rdg);
    up_free(rd->res);
    up_free(rd->res_large);
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

/* Sort the r received datagrams: accepted ones move to out[] (their
 * reservations are used up), denied, oversize and unbuffered ones are
 * counted and their buffers stay reserved. Returns the count accepted. */
static size_t accept_batch(struct up_reader *rd, size_t r)
{
    size_t m = 0;
    uint64_t bytes = 0, oversize = 0, nobuf = 0, denied = 0;
    for (size_t i = 0; i < r; i++) {
        const struct up_dgram *d = &rd->rdg[i];
        /* One test for every rare case: flags are 0 for a normal datagram. */
        if (d->flags || d->len > rd->buffer) {
            if (d->flags & DGRAM_DENIED) {
                denied++;
                up_log_limited(&rd->rl_allow, UP_LOG_WARN,
                               "dropped a datagram from a sender outside --allow (counted in not_allowed)");
                continue;
            }
            oversize++;
            up_log_limited(&rd->rl_oversize, UP_LOG_WARN,
                           "dropped a datagram of %u bytes: larger than --buffer %u (counted in oversize)",
                           (unsigned)d->len, (unsigned)rd->buffer);
            continue;
        }
        struct up_packet *p = rd->res[i];
        if (!p || (d->len > UP_SLOT_SIZE && !rd->res_large[i])) {
            nobuf++;
            up_log_limited(&rd->rl_nobuf, UP_LOG_WARN, "dropped a datagram: no free buffer (counted in no_buffer)");
            continue;
        }
        if (d->len > UP_SLOT_SIZE) {
            p->large = rd->res_large[i];
            rd->res_large[i] = NULL;
        }
        p->len = d->len;
        rd->res[i] = NULL;
        bytes += d->len;
        rd->out[m++] = p;
        if (up_log_enabled(UP_LOG_DEBUG))
            up_log(UP_LOG_DEBUG, "received %u bytes", (unsigned)d->len);
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

static void fan_out(struct up_reader *rd, const struct up_route *rt, size_t m)
{
    unsigned holders = (unsigned)rt->ntargets + 1; /* every target + us */
    for (size_t j = 0; j < m; j++) {
        /* Relaxed: the queue push (release) publishes it to the writers. */
        atomic_store_explicit(&rd->out[j]->refs, holders, memory_order_relaxed);
        up_packet_to_dgram(rd->out[j], &rd->sdg[j]);
        rd->unheld[j] = 1; /* our own reference */
    }
    for (size_t t = 0; t < rt->ntargets; t++) {
        struct up_target *tg = rt->targets[t];
        struct up_target_counters *c = &tg->by_reader[rd->index].c;
        struct up_queue *q = &tg->queues[rd->index];
        size_t k = 0;
        /* Inline only when the writer has finished everything we queued
         * before: keeps each target's order. */
        if (m <= UP_INLINE_MAX && up_queue_drained(q))
            k = up_target_send(tg, rd->io, rd->sdg, m, c, &rd->rl_send);
        for (size_t j = 0; j < k; j++)
            rd->unheld[j]++;
        if (k == m)
            continue;
        size_t pushed = up_queue_push(q, (void *const *)(rd->out + k), m - k);
        if (pushed)
            up_target_wake(tg);
        if (k + pushed < m) {
            /* Queue full: the writer is behind (often just not scheduled).
             * Try the socket directly, still without waiting; only what the
             * socket will not take either is dropped. Order within this
             * target may change then: UDP never promised it. */
            size_t rest = m - k - pushed;
            size_t sent = up_target_send(tg, rd->io, rd->sdg + k + pushed, rest, c, &rd->rl_send);
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
    for (size_t j = 0; j < m; j++) {
        struct up_packet *p = rd->out[j];
        if (rd->unheld[j] == holders) {
            up_pool_put(&rd->pool, p); /* no writer ever saw it */
        } else if (atomic_fetch_sub_explicit(&p->refs, rd->unheld[j], memory_order_acq_rel) == rd->unheld[j]) {
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
    if (rt->nallow == 0) {
        r = up_udp_recv_batch(s, rd->io, rd->rdg, UP_BATCH, wait);
    } else {
        r = up_udp_recv_batch_from(s, rd->io, rd->rdg, UP_BATCH, wait, rd->from);
        if (r > 0)
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
    size_t m = accept_batch(rd, (size_t)r);
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
    size_t m = accept_batch(rd, (size_t)r);
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
