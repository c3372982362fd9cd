/*
 * target.c - a target's socket and writer thread (see target.h).
 *
 *   reader r --push--> queues[r] --peek--> writer --sendmmsg--> socket
 *                         ^                   |
 *                         +----consume--------+ (only after the send)
 */
#include "target.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "fence.h"
#include "pool.h"
#include "target_shape.h"

#ifdef UP_TSAN
atomic_int up_fence_word; /* see fence.h */
#endif

/* A non-blocking datagram socket with the target's send buffer. */
static int open_socket(struct up_target *t, int family, up_sock *out)
{
    int r = up_udp_open(family, true, out);
    if (r != UP_OK)
        return r;
    if (t->sndbuf > 0) {
        int got = 0;
        if (up_sock_set_buffer(*out, false, t->sndbuf, &got) == UP_ERANGE)
            up_log(UP_LOG_WARN,
                   "target %s: send buffer capped at %d bytes (asked %d); raise the net.core.wmem_max sysctl", t->name,
                   got, t->sndbuf);
    }
    return UP_OK;
}

int up_target_init(struct up_target *t, const struct up_addr *addr, size_t nqueues, uint32_t channel_size, int sndbuf)
{
    int r;
    memset(t, 0, sizeof(*t));
    t->sock = UP_SOCK_INVALID;
    t->addr = *addr;
    snprintf(t->name, sizeof(t->name), "%s", addr->text);
    atomic_init(&t->sleeping, 0);
    atomic_init(&t->state, UP_TARGET_RUN);
    atomic_init(&t->drain_deadline_ns, 0);
    atomic_init(&t->alive, 0);
    atomic_init(&t->progress_ns, 0);
    atomic_init(&t->reconnect, 0);
    t->is_unix = addr->len && addr->ss.ss_family == AF_UNIX;
    t->sndbuf = sndbuf;

    r = open_socket(t, addr->len ? addr->ss.ss_family : AF_INET, &t->sock);
    if (r != UP_OK)
        goto fail;
    if (addr->len) {
        r = up_udp_connect(t->sock, (const struct sockaddr *)&addr->ss, addr->len);
        if (r == UP_OK) {
            t->connected = true;
        } else if (t->is_unix) {
            /* Not there yet: count drops until it is (up_target_reconnect). */
            up_log(UP_LOG_WARN, "target %s: cannot connect: %s (datagrams count as dropped_send_error until it can)",
                   t->name, up_strerror(r));
            atomic_store_explicit(&t->reconnect, 1, memory_order_relaxed);
        } else {
            goto fail;
        }
    }
    r = UP_ENOMEM;
    t->nqueues = nqueues;
    t->queues = up_calloc_aligned(_Alignof(struct up_queue), nqueues * sizeof(*t->queues));
    t->by_reader = up_calloc_aligned(64, nqueues * sizeof(*t->by_reader));
    t->dg = up_calloc(UP_BATCH, sizeof(*t->dg));
    t->batch = up_calloc(UP_BATCH, sizeof(*t->batch));
    t->per_queue = up_calloc(nqueues, sizeof(*t->per_queue));
    if (!t->queues || !t->by_reader || !t->dg || !t->batch || !t->per_queue)
        goto fail;
    for (size_t i = 0; i < nqueues; i++) {
        r = up_queue_init(&t->queues[i], channel_size);
        if (r != UP_OK)
            goto fail;
    }
    r = up_io_new(UP_BATCH, &t->io);
    if (r != UP_OK)
        goto fail;
    r = up_sem_init(&t->wake);
    if (r != UP_OK)
        goto fail;
    t->sem_ok = true;
    return UP_OK;
fail:
    up_target_destroy(t);
    return r;
}

int up_target_set_opts(struct up_target *t, const struct up_target_opts *o)
{
    t->opts = *o;
    if (o->name[0])
        snprintf(t->name, sizeof(t->name), "%s", o->name);
    if (!up_target_opts_shaped(o))
        return UP_OK;
    return up_tshape_new(&o->shape, &t->shaper);
}

void up_target_destroy(struct up_target *t)
{
    up_tshape_free(t->shaper);
    if (t->queues)
        for (size_t i = 0; i < t->nqueues; i++)
            up_queue_destroy(&t->queues[i]);
    up_free_aligned(t->queues);
    up_free_aligned(t->by_reader);
    up_free(t->dg);
    up_free(t->batch);
    up_free(t->per_queue);
    up_io_free(t->io);
    if (t->sem_ok)
        up_sem_destroy(&t->wake);
    up_sock_close(t->sock);
    memset(t, 0, sizeof(*t));
    t->sock = UP_SOCK_INVALID;
}

size_t up_target_send(struct up_target *t, struct up_io *io, const struct up_dgram *dg, size_t n,
                      struct up_target_counters *c, struct up_ratelimit *rl)
{
    size_t done = 0, sent = 0;
    uint64_t bytes = 0;
    while (done < n) {
        int r = up_udp_send_batch(t->sock, io, dg + done, n - done);
        if (r > 0) {
            for (int i = 0; i < r; i++)
                bytes += dg[done + (size_t)i].len;
            done += (size_t)r;
            sent += (size_t)r;
            continue;
        }
        if (r == UP_EAGAIN)
            break;
        /* One datagram failed (nothing listening, no route, no kernel
         * buffers...): count it, say so now and then, go on. Without a
         * peer every one would fail alike: count them all at once. */
        size_t failed = r == UP_ENOTCONN ? n - done : 1;
        if (t->is_unix && (r == UP_ECONNREFUSED || r == UP_ENOTCONN || r == UP_ENOENT) &&
            !atomic_load_explicit(&t->reconnect, memory_order_relaxed))
            atomic_store_explicit(&t->reconnect, 1, memory_order_relaxed); /* the peer went away */
        up_counter_add(&c->dropped_send_error, failed);
        up_log_limited(rl, UP_LOG_WARN, "target %s: send failed: %s (counted in dropped_send_error)", t->name,
                       up_strerror(r));
        done += failed;
    }
    if (sent) {
        up_counter_add(&c->sent, sent);
        up_counter_add(&c->sent_bytes, bytes);
    }
    return done;
}

void up_target_wake_fenced(struct up_target *t)
{
    if (atomic_load_explicit(&t->sleeping, memory_order_relaxed) &&
        atomic_exchange_explicit(&t->sleeping, 0, memory_order_relaxed))
        up_sem_post(&t->wake);
}

void up_target_wake(struct up_target *t)
{
    /* Pairs with the fence in wait_for_work(): either we see sleeping == 1
     * or the writer sees our push. */
    up_full_fence();
    up_target_wake_fenced(t);
}

static bool queues_empty(struct up_target *t)
{
    for (size_t i = 0; i < t->nqueues; i++)
        if (up_queue_depth(&t->queues[i]))
            return false;
    return true;
}

/* Sleep until a reader pushes or the state changes. */
static void wait_for_work(struct up_target *t)
{
    atomic_store_explicit(&t->sleeping, 1, memory_order_relaxed);
    up_full_fence();
    if (!queues_empty(t) || atomic_load_explicit(&t->state, memory_order_acquire) != UP_TARGET_RUN) {
        /* Work arrived meanwhile. If a reader already took the flag down it
         * has posted (or will): take that post so it cannot pile up. */
        if (!atomic_exchange_explicit(&t->sleeping, 0, memory_order_relaxed))
            up_sem_wait(&t->wake, -1);
        return;
    }
    up_sem_wait(&t->wake, -1);
    atomic_store_explicit(&t->sleeping, 0, memory_order_relaxed);
}

/* Give back the references of the n packets in batch (taken from the
 * queues in order), one return-stack push per pool. */
static void release_batch(struct up_target *t, size_t n)
{
    struct up_packet *first = NULL, *last = NULL;
    for (size_t i = 0; i < n; i++) {
        struct up_packet *p = t->batch[i];
        if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
            continue;
        if (first && first->pool != p->pool) {
            up_pool_return_chain(first->pool, first, last);
            first = NULL;
        }
        p->next = first;
        if (!first)
            last = p;
        first = p;
    }
    if (first)
        up_pool_return_chain(first->pool, first, last);
}

/* Peek up to one batch from the queues, starting one queue further each
 * time: a reader whose queue always has a full batch cannot keep the
 * others waiting. */
static size_t take_batch(struct up_target *t)
{
    size_t n = 0, q = t->next_queue;
    for (size_t i = 0; i < t->nqueues; i++) {
        t->per_queue[q] = up_queue_peek(&t->queues[q], t->batch + n, UP_BATCH - n);
        n += t->per_queue[q];
        if (++q == t->nqueues)
            q = 0;
    }
    if (++t->next_queue == t->nqueues)
        t->next_queue = 0;
    return n;
}

static void finish_batch(struct up_target *t, size_t n)
{
    release_batch(t, n);
    for (size_t q = 0; q < t->nqueues; q++)
        if (t->per_queue[q])
            up_queue_consume(&t->queues[q], t->per_queue[q]);
}

/* Progress for --health-stall: one clock read per batch, never per
 * datagram. Relaxed: the value is a coarse time, read on its own. */
static void mark_progress(struct up_target *t)
{
    atomic_store_explicit(&t->progress_ns, up_now_ns(), memory_order_relaxed);
}

static void *writer_main(void *arg)
{
    struct up_target *t = arg;
    struct up_target_counters *c = &t->by_writer.c;
    bool give_up = false;

    for (;;) {
        /* The state before the peek: DRAIN is set only after the readers'
         * last push, so if we saw it, this peek sees everything they queued
         * (acquire pairs with the release in up_target_drain). Loaded after
         * the peek, an empty peek could miss a last push and count it as
         * dropped_shutdown below without trying. */
        int state = atomic_load_explicit(&t->state, memory_order_acquire);
        size_t n = take_batch(t);
        if (n == 0) {
            if (state != UP_TARGET_RUN)
                break; /* readers are gone and everything is sent */
            /* Nothing queued, so not stalled: before the wait and after it. */
            mark_progress(t);
            wait_for_work(t);
            mark_progress(t);
            continue;
        }
        if (t->shaper) { /* shaped or packed: target_shape.c */
            size_t handled = up_tshape_send(t, n, &give_up);
            if (handled < n)
                up_counter_add(&c->dropped_shutdown, n - handled);
            finish_batch(t, n);
            if (give_up)
                break;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            up_packet_to_dgram(t->batch[i], &t->dg[i]);
        size_t done = 0;
        while (done < n) {
            uint64_t sent_before = up_counter_get(&c->sent); /* ours: only this thread writes it */
            done += up_target_send(t, t->io, t->dg + done, n - done, c, &t->rl);
            if (up_counter_get(&c->sent) != sent_before)
                mark_progress(t);
            if (done == n)
                break;
            /* Socket buffer full: wait for room, but notice a drain deadline. */
            if (atomic_load_explicit(&t->state, memory_order_acquire) != UP_TARGET_RUN &&
                up_now_ns() >= atomic_load_explicit(&t->drain_deadline_ns, memory_order_relaxed)) {
                give_up = true;
                break;
            }
            up_sock_wait(t->sock, true, 100);
        }
        if (done < n)
            up_counter_add(&c->dropped_shutdown, n - done);
        finish_batch(t, n);
        if (give_up)
            break;
    }
    /* Drain timed out: what is left is dropped, and counted. */
    size_t n;
    while ((n = take_batch(t)) > 0) {
        up_counter_add(&c->dropped_shutdown, n);
        finish_batch(t, n);
    }
    atomic_store_explicit(&t->alive, 0, memory_order_release);
    return NULL;
}

int up_target_start(struct up_target *t)
{
    char name[16];
    snprintf(name, sizeof(name), "up-writer");
    atomic_store_explicit(&t->alive, 1, memory_order_release);
    mark_progress(t);
    int r = up_thread_start(&t->thread, writer_main, t, name);
    if (r != UP_OK) {
        atomic_store_explicit(&t->alive, 0, memory_order_release);
        return r;
    }
    t->started = true;
    return UP_OK;
}

void up_target_drain(struct up_target *t, uint64_t deadline_ns)
{
    atomic_store_explicit(&t->drain_deadline_ns, deadline_ns, memory_order_relaxed);
    /* Release: the deadline is visible once the state is. */
    atomic_store_explicit(&t->state, UP_TARGET_DRAIN, memory_order_release);
    up_full_fence();
    if (atomic_exchange_explicit(&t->sleeping, 0, memory_order_relaxed))
        up_sem_post(&t->wake);
}

bool up_target_running(struct up_target *t)
{
    /* Acquire: pairs with the writer's release store when it exits. */
    return atomic_load_explicit(&t->alive, memory_order_acquire) != 0;
}

void up_target_join(struct up_target *t)
{
    if (t->started)
        up_thread_join(t->thread);
    t->started = false;
}

int up_target_set_addr(struct up_target *t, const struct up_addr *addr)
{
    int r;
    /* The socket's family: an unresolved target's socket was opened AF_INET
     * (up_target_init). */
    int family = t->addr.len ? t->addr.ss.ss_family : AF_INET;
    if (addr->ss.ss_family == family) {
        /* Same family: connect() again swaps the peer in place (also the
         * first connect of a name that resolved late; Windows cannot put a
         * fresh socket in place of another). */
        r = up_udp_connect(t->sock, (const struct sockaddr *)&addr->ss, addr->len);
    } else {
        up_sock fresh = UP_SOCK_INVALID;
        r = open_socket(t, addr->ss.ss_family, &fresh);
        if (r == UP_OK)
            r = up_udp_connect(fresh, (const struct sockaddr *)&addr->ss, addr->len);
        if (r == UP_OK)
            r = up_sock_replace(t->sock, fresh);
        else
            up_sock_close(fresh);
    }
    if (r != UP_OK)
        return r;
    struct up_addr keep = *addr;
    snprintf(keep.text, sizeof(keep.text), "%s", t->addr.text);
    t->addr = keep;
    t->connected = true;
    return UP_OK;
}

int up_target_reconnect(struct up_target *t)
{
    if (!t->is_unix || !atomic_load_explicit(&t->reconnect, memory_order_relaxed))
        return UP_OK;
    /* Clear first: a failure seen after our connect sets it again. */
    atomic_store_explicit(&t->reconnect, 0, memory_order_relaxed);
    int r = up_udp_connect(t->sock, (const struct sockaddr *)&t->addr.ss, t->addr.len);
    if (r != UP_OK) {
        atomic_store_explicit(&t->reconnect, 1, memory_order_relaxed);
        if (t->connected)
            up_log(UP_LOG_WARN, "target %s: lost its socket: %s (retrying every second)", t->name, up_strerror(r));
        t->connected = false;
        return r;
    }
    /* Only after a failure was seen: a first connect or a receiver that
     * came back with a new socket. At most once a second. */
    up_log(UP_LOG_INFO, "target %s: connected", t->name);
    t->connected = true;
    return UP_OK;
}

void up_target_snapshot(struct up_target *t, struct up_stats_target *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", t->name);
    for (size_t i = 0; i <= t->nqueues; i++) {
        const struct up_target_counters *c = i < t->nqueues ? &t->by_reader[i].c : &t->by_writer.c;
        s->sent += up_counter_get(&c->sent);
        s->sent_bytes += up_counter_get(&c->sent_bytes);
        s->dropped_queue_full += up_counter_get(&c->dropped_queue_full);
        s->dropped_send_error += up_counter_get(&c->dropped_send_error);
        s->dropped_shutdown += up_counter_get(&c->dropped_shutdown);
    }
    for (size_t i = 0; i < t->nqueues; i++) {
        s->queue_depth += up_queue_depth(&t->queues[i]);
        s->queue_capacity += up_queue_capacity(&t->queues[i]);
    }
    s->writer_alive = atomic_load_explicit(&t->alive, memory_order_acquire);
    if (t->shaper) {
        s->shaped = t->opts.shape.dialect != UP_DIALECT_RAW ? 2 : 1;
        up_tshape_snapshot(t->shaper, s);
    } else {
        s->sent_packets = s->sent; /* one datagram out per datagram in */
    }
    s->resolve_failures = up_counter_get(&t->resolve_failures);
    /* Stalled: datagrams wait and the writer is awake (a sleeping writer is
     * being woken for them right now) but has sent nothing since. */
    if (s->queue_depth && !atomic_load_explicit(&t->sleeping, memory_order_relaxed)) {
        uint64_t now = up_now_ns(), since = atomic_load_explicit(&t->progress_ns, memory_order_relaxed);
        if (since && now > since)
            s->stalled_ms = (now - since) / 1000000u;
    }
}
