/*
 * proxy.c - wiring and lifecycle of readers and targets (see proxy.h).
 *
 * Stop order: readers first (they stop forwarding and forward what the
 * kernel still holds; from then on they only count what arrives, as
 * received and dropped_shutdown), then every writer drains its queues
 * until the deadline, then the readers stop and the sockets close. Nothing
 * is dropped silently: what the deadline cuts off, and what arrived during
 * the drain, is counted in dropped_shutdown.
 *
 * Reload (control thread), hitless:
 *   1. everything that can fail first: new targets are connected and their
 *      writers started, a changed source is bound (SO_REUSEPORT lets the
 *      new socket overlap the old one; an address not ours yet is probed
 *      first) - on any failure nothing changes;
 *   2. a changed source: each reader is handed its new socket, the traffic
 *      is steered to the new sockets, the readers are woken, move over,
 *      empty the old sockets and let go of them; the control thread closes
 *      them (move_source);
 *   3. a new route table is published (seq_cst store) and the old one is
 *      kept until every reader has passed a batch boundary (its epoch moved
 *      after the publish; idle readers wake every 200 ms): from then on no
 *      reader can touch a removed target or the old table;
 *   4. removed targets drain their queues (up to --drain-timeout), log
 *      their final counters and are freed.
 * Kept targets keep their socket, queues and counters throughout.
 */
#include "proxy.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "handover.h"
#include "log.h"
#include "loops.h"
#include "reader.h"
#include "resolver.h"
#include "target.h"

/* A target whose name does not resolve yet is tried this often. */
#define UNRESOLVED_RETRY_S 5u

struct up_proxy {
    struct up_options opt; /* what we run with (live settings follow reloads) */
    size_t nreaders;
    size_t pool_targets;                    /* targets the reader pools were sized for */
    struct up_reader *readers;              /* [nreaders] */
    _Atomic(const struct up_route *) route; /* published to the readers */
    struct up_route *cur;                   /* the same table, control thread's handle */
    atomic_int stop;                        /* 1: readers stop receiving */
    atomic_flag lock;                       /* held while the route changes or a snapshot reads it */
    bool reuseport;                         /* source sockets are bound with SO_REUSEPORT */
    struct {
        uint64_t total;      /* the socket's kernel drops, widened past its 32-bit wrap */
        uint32_t last;       /* the kernel's counter at the last reading */
    } drops[UP_READERS_MAX]; /* per reader, current socket only; under the lock */
    bool adopted;            /* the source sockets were inherited (handover.h), not bound here */
    bool keep_sources;       /* a re-exec follows the stop: sources stay open and unread (up_proxy_keep_sources) */
    bool running, stopped;
    bool draining;                /* up_proxy_stop_begin() done */
    int rcvbuf_granted;           /* receive buffer the kernel gave the source, bytes */
    struct up_resolver *resolver; /* name lookups off the control thread */
    /* The source's SO_REUSEPORT group as the kernel numbers it (sockets in
     * the order they joined; a closed one's slot goes to the last one):
     * steering during a rebind names slots (up_udp_steer_slots). */
    up_sock slots[2 * UP_READERS_MAX];
    size_t nslots;
    struct up_lookup *lookups; /* [UP_TARGETS_MAX]; left alive if a lookup hangs at exit */
};

/* One lookup of a target's name, run on the resolver thread. The record
 * is the control thread's until `state` says DONE; the target itself is
 * only named (by pointer and text), never touched by the helper. */
struct up_lookup {
    const struct up_target *t;   /* whose name (compared, not dereferenced) */
    char text[UP_ADDR_TEXT_MAX]; /* the name looked up */
    struct up_addr addr;         /* the answer (rc == UP_OK) */
    int rc;                      /* up_addr_resolve()'s result */
    atomic_int state;            /* LOOKUP_FREE, _BUSY (queued or running), _DONE */
};
enum { LOOKUP_FREE = 0, LOOKUP_BUSY, LOOKUP_DONE };

static void lock(struct up_proxy *p)
{
    /* Taken by the control thread (reload, snapshot) and possibly by an
     * exporter's snapshot: short sections, never on the data path. */
    while (atomic_flag_test_and_set_explicit(&p->lock, memory_order_acquire))
        up_sleep_ms(1);
}

static void unlock(struct up_proxy *p)
{
    atomic_flag_clear_explicit(&p->lock, memory_order_release);
}

static int open_unix_source(const struct up_options *o, up_sock *out, int *granted, char *err, size_t errlen)
{
    const struct up_addr *a = &o->source_addr;
    up_sock s = UP_SOCK_INVALID;
    int r = up_udp_open(AF_UNIX, false, &s);
    if (r == UP_OK) {
        up_sock_set_buffer(s, true, o->rcvbuf, granted);
        up_sock_set_rcvtimeo(s, 200);
        r = up_unix_bind(s, &a->ss, a->len, o->source_mode);
    }
    if (r != UP_OK) {
        if (r == UP_ENOTSOCK)
            snprintf(err, errlen, "cannot listen on %s: the path exists and is not a socket; not removing it", a->text);
        else if (r == UP_EADDRINUSE)
            snprintf(err, errlen, "cannot listen on %s: another process receives on this socket", a->text);
        else
            snprintf(err, errlen, "cannot listen on %s: %s", a->text, up_strerror(r));
        up_sock_close(s);
        return r;
    }
    *out = s;
    return UP_OK;
}

/* A socket inherited already bound to the source (handover.h): apply this
 * configuration's settings (a larger --rcvbuf only: systemd may have given
 * more than we could ask for) and take it. */
static bool adopt_source(const struct up_options *o, up_sock *out)
{
    up_sock s = up_handover_take(&o->source_addr);
    if (s == UP_SOCK_INVALID)
        return false;
    int got = 0;
    if (up_sock_rcvbuf(s) < o->rcvbuf)
        up_sock_set_buffer(s, true, o->rcvbuf, &got);
    up_sock_set_rcvtimeo(s, 200);
    *out = s;
    return true;
}

static int open_source(const struct up_options *o, bool reuseport, up_sock *out, int *granted, char *err, size_t errlen)
{
    const struct up_addr *a = &o->source_addr;
    if (adopt_source(o, out)) {
        *granted = up_sock_rcvbuf(*out);
        return UP_OK;
    }
    if (a->ss.ss_family == AF_UNIX)
        return open_unix_source(o, out, granted, err, errlen);
    struct sockaddr_storage ss = a->ss;
    up_socklen len = a->len;
    up_sock s = UP_SOCK_INVALID;
    int r = up_udp_open(ss.ss_family, false, &s);
    if (r == UP_EAFNOSUPPORT && a->any_host && ss.ss_family == AF_INET6) {
        /* No IPv6 on this host: all interfaces means 0.0.0.0 then. */
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        uint16_t port = ((struct sockaddr_in6 *)&a->ss)->sin6_port;
        memset(&ss, 0, sizeof(ss));
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        s4->sin_port = port;
        len = sizeof(*s4);
        r = up_udp_open(AF_INET, false, &s);
    }
    if (r != UP_OK) {
        snprintf(err, errlen, "cannot open a socket for %s: %s", a->text, up_strerror(r));
        return r;
    }
    int got = 0;
    r = up_sock_set_buffer(s, true, o->rcvbuf, &got);
    *granted = got;
    if (r == UP_ERANGE) {
        static atomic_int warned;
        if (!atomic_exchange(&warned, 1))
            up_log(UP_LOG_WARN,
                   "source receive buffer capped at %d bytes (asked --rcvbuf %d): raise the net.core.rmem_max "
                   "sysctl (sysctl -w net.core.rmem_max=%d) or run with CAP_NET_ADMIN, or bursts will be dropped "
                   "by the kernel (counted in kernel_drops)",
                   got, o->rcvbuf, o->rcvbuf);
    }
    up_sock_set_rcvtimeo(s, 200);
    r = up_udp_bind(s, (const struct sockaddr *)&ss, len, reuseport, false);
    if (r != UP_OK) {
        snprintf(err, errlen, "cannot listen on %s: %s", a->text, up_strerror(r));
        up_sock_close(s);
        return r;
    }
    *out = s;
    return UP_OK;
}

/* SO_REUSEPORT lets our own sockets share the source (readers, reload
 * rebinds), but it would also let a second proxy join the group and take
 * part of the traffic. Before binding an address that is not ours yet,
 * bind it once without SO_REUSEPORT: if anybody serves it, that fails
 * with "address in use", as it does without --config. (Two instances
 * starting in the same instant can still both pass: the probe is closed
 * before the real sockets bind.) */
static int probe_source(const struct up_options *o, char *err, size_t errlen)
{
    if (o->source_addr.ss.ss_family == AF_UNIX)
        return UP_OK; /* up_unix_bind() refuses a socket somebody serves */
    if (up_handover_pending())
        return UP_OK; /* inherited sockets (re-exec, LISTEN_FDS) hold the port: never take one here */
    up_sock s = UP_SOCK_INVALID;
    int got = 0;
    int r = open_source(o, false, &s, &got, err, errlen);
    up_sock_close(s);
    if (r == UP_EADDRINUSE)
        snprintf(err, errlen, "cannot listen on %s: address already in use (another process serves it)",
                 o->source_addr.text);
    return r;
}

static uint16_t port_of(const struct up_addr *a)
{
    if (a->ss.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&a->ss)->sin_port;
    if (a->ss.ss_family == AF_INET6)
        return ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
    return 0;
}

static void target_free(struct up_target *t)
{
    if (!t)
        return;
    up_target_destroy(t);
    up_free_aligned(t);
}

static int target_new(struct up_proxy *p, const struct up_addr *addr, const struct up_target_opts *opts,
                      struct up_target **out)
{
    struct up_target *t = up_calloc_aligned(64, sizeof(*t));
    if (!t)
        return UP_ENOMEM;
    int r = up_target_init(t, addr, p->nreaders, p->opt.channel_size, p->opt.sndbuf);
    if (r == UP_OK && (r = up_target_set_opts(t, opts)) != UP_OK)
        up_target_destroy(t);
    if (r != UP_OK) {
        up_free_aligned(t);
        return r;
    }
    t->next_resolve_ns = up_now_ns() + (uint64_t)(addr->len ? p->opt.resolve_interval : 0) * 1000000000u;
    *out = t;
    return UP_OK;
}

int up_proxy_new(const struct up_options *opt, struct up_proxy **out, char *err, size_t errlen)
{
    int r = UP_ENOMEM;
    struct up_proxy *p = up_calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return UP_ENOMEM;
    }
    p->opt = *opt;
    atomic_init(&p->stop, 0);
    atomic_flag_clear(&p->lock);
    p->nreaders = opt->readers;
    if (p->nreaders == 0 || p->nreaders > UP_READERS_MAX) {
        snprintf(err, errlen, "--readers %zu: must be 1..%d", p->nreaders, UP_READERS_MAX);
        up_free(p);
        return UP_EINVAL;
    }
    p->pool_targets = opt->ntargets;
    /* With a config file a reload may rebind the source onto an address
     * that overlaps the running one: both must allow it, where the system
     * can (Windows cannot: there such a rebind fails and the reload is
     * refused, the running source stays). */
    p->reuseport = p->nreaders > 1 || (UP_HAVE_REUSEPORT && opt->config[0] != '\0');
    /* Aligned: struct up_reader has _Alignas(64) members. */
    p->readers = up_calloc_aligned(_Alignof(struct up_reader), p->nreaders * sizeof(*p->readers));
    p->cur = up_calloc(1, sizeof(*p->cur));
    p->lookups = up_calloc(UP_TARGETS_MAX, sizeof(*p->lookups));
    if (!p->readers || !p->cur || !p->lookups) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if ((r = up_resolver_new(&p->resolver)) != UP_OK) {
        snprintf(err, errlen, "cannot start the resolver thread: %s", up_strerror(r));
        goto fail;
    }
    for (size_t i = 0; i < p->nreaders; i++) {
        p->readers[i].sock = UP_SOCK_INVALID;
        p->readers[i].rsock = UP_SOCK_INVALID;
    }
    for (size_t i = 0; i < opt->ntargets; i++) {
        r = target_new(p, &opt->target_addrs[i], &opt->target_opts[i], &p->cur->targets[i]);
        if (r != UP_OK) {
            snprintf(err, errlen, "cannot set up target %s: %s", opt->targets[i], up_strerror(r));
            goto fail;
        }
        p->cur->ntargets++;
    }
    p->cur->nallow = opt->nallow;
    memcpy(p->cur->allow, opt->allow, sizeof(p->cur->allow));
    atomic_init(&p->route, p->cur);
    size_t inherited = up_handover_pending();
    /* Not for inherited sockets: they hold the port themselves. */
    if (p->reuseport && inherited == 0 && (r = probe_source(&p->opt, err, errlen)) != UP_OK)
        goto fail;
    for (size_t i = 0; i < p->nreaders; i++) {
        up_sock s;
        size_t before = up_handover_pending();
        r = open_source(&p->opt, p->reuseport, &s, &p->rcvbuf_granted, err, errlen);
        if (r != UP_OK)
            goto fail;
        r = up_reader_init(&p->readers[i], i, s, &p->route, p->pool_targets, opt->buffer, opt->channel_size, &p->stop);
        if (r != UP_OK) {
            up_sock_close(s);
            if (r == UP_ENOMEM)
                snprintf(err, errlen,
                         "cannot set up reader %zu: cannot reserve %.1f GiB of buffers (targets x --channel-size x "
                         "--buffer); lower --buffer to the largest datagram expected (--buffer 8192 needs %.2f GiB), "
                         "or --channel-size",
                         i, up_reader_reserve_bytes(p->pool_targets, opt->buffer, opt->channel_size) / (1 << 30),
                         up_reader_reserve_bytes(p->pool_targets, 8192, opt->channel_size) / (1 << 30));
            else
                snprintf(err, errlen, "cannot set up reader %zu: %s", i, up_strerror(r));
            goto fail;
        }
        /* An inherited socket's drop count runs since it was made; count
         * only ours from here (the previous image logged its own), so the
         * final totals of successive images add up. Unsigned arithmetic:
         * base + now = now - at_adoption. */
        uint64_t drops = 0;
        if (up_handover_pending() < before && up_sock_rx_drops(s, &drops) == UP_OK)
            p->readers[i].kernel_drops_base = (uint64_t)0 - drops;
    }
    for (size_t i = 0; i < p->nreaders; i++)
        p->slots[i] = p->readers[i].sock;
    p->nslots = p->nreaders;
    p->adopted = up_handover_pending() < inherited;
    *out = p;
    return UP_OK;
fail:
    up_proxy_free(p);
    return r;
}

int up_proxy_start(struct up_proxy *p)
{
    int r;
    for (size_t i = 0; i < p->cur->ntargets; i++)
        if ((r = up_target_start(p->cur->targets[i])) != UP_OK)
            goto fail;
    for (size_t i = 0; i < p->nreaders; i++)
        if ((r = up_reader_start(&p->readers[i])) != UP_OK)
            goto fail;
    p->running = true;
    return UP_OK;
fail:
    p->running = true;
    up_proxy_stop(p);
    return r;
}

/* Reader i's kernel drops since start (call under the lock). Sockets
 * closed by a source rebind left theirs in kernel_drops_base. */
static uint64_t reader_drops(struct up_proxy *p, size_t i)
{
    const struct up_reader *rd = &p->readers[i];
    uint64_t now = 0;
    if (rd->sock != UP_SOCK_INVALID && up_sock_rx_drops(rd->sock, &now) == UP_OK)
        up_counter32_advance(&p->drops[i].total, &p->drops[i].last, (uint32_t)now);
    return rd->kernel_drops_base + p->drops[i].total;
}

/* Reader i lets go of its socket: keep what it dropped in the base. */
static void reader_drops_close(struct up_proxy *p, size_t i)
{
    reader_drops(p, i);
    p->readers[i].kernel_drops_base += p->drops[i].total;
    p->drops[i].total = 0;
    p->drops[i].last = 0;
}

void up_proxy_keep_sources(struct up_proxy *p)
{
    p->keep_sources = true;
}

void up_proxy_stop_begin(struct up_proxy *p)
{
    if (!p->running || p->stopped || p->draining)
        return;
    p->draining = true;
    /* Release: pairs with the readers' acquire load of the flag. */
    atomic_store_explicit(&p->stop, p->keep_sources ? UP_STOP_HANDOVER : 1, memory_order_release);
    /* Each reader forwards what the kernel holds, then only counts what
     * still arrives (reader.c): wait for the last push before draining. */
    for (size_t i = 0; i < p->nreaders; i++)
        while (p->readers[i].started && !atomic_load_explicit(&p->readers[i].late, memory_order_acquire))
            up_sleep_ms(1);
    uint64_t deadline = up_now_ns() + (uint64_t)p->opt.drain_ms * 1000000u;
    for (size_t i = 0; i < p->cur->ntargets; i++)
        up_target_drain(p->cur->targets[i], deadline);
}

bool up_proxy_drained(struct up_proxy *p)
{
    for (size_t i = 0; i < p->cur->ntargets; i++)
        if (up_target_running(p->cur->targets[i]))
            return false;
    return true;
}

void up_proxy_stop_now(struct up_proxy *p)
{
    if (!p->draining || p->stopped)
        return;
    for (size_t i = 0; i < p->cur->ntargets; i++)
        up_target_drain(p->cur->targets[i], 0); /* the deadline has passed */
}

void up_proxy_stop(struct up_proxy *p)
{
    if (!p->running || p->stopped)
        return;
    up_proxy_stop_begin(p);
    p->stopped = true;
    for (size_t i = 0; i < p->cur->ntargets; i++)
        up_target_join(p->cur->targets[i]);
    /* The drain is over: the readers stop receiving, and the sockets close
     * at once (what arrives later is refused by the kernel, not kept in a
     * buffer nobody reads). */
    if (!p->keep_sources)
        atomic_store_explicit(&p->stop, 2, memory_order_release);
    for (size_t i = 0; i < p->nreaders; i++) {
        up_reader_join(&p->readers[i]);
        struct up_reader *rd = &p->readers[i];
        if (p->keep_sources)
            continue; /* up_proxy_detach_sources() takes them */
        if (rd->sock == UP_SOCK_INVALID || rd->rsock != rd->sock || p->opt.source_addr.ss.ss_family == AF_UNIX)
            continue; /* a unix: source is closed and unlinked by up_proxy_free() */
        lock(p);
        reader_drops_close(p, i);
        up_sock_close(rd->sock);
        rd->sock = rd->rsock = UP_SOCK_INVALID;
        unlock(p);
    }
}

size_t up_proxy_target_count(const struct up_proxy *p)
{
    return p->opt.config[0] ? UP_TARGETS_MAX : p->cur->ntargets;
}

size_t up_proxy_reader_count(const struct up_proxy *p)
{
    return p->nreaders;
}

void up_proxy_snapshot(struct up_proxy *p, struct up_stats *s)
{
    lock(p);
    s->taken_at = up_wall_time();
    s->received = s->received_bytes = s->oversize = s->no_buffer = s->recv_errors = s->kernel_drops = 0;
    s->not_allowed = 0;
    for (size_t i = 0; i < p->nreaders; i++) {
        const struct up_reader_counters *c = &p->readers[i].c;
        s->received += up_counter_get(&c->received);
        s->received_bytes += up_counter_get(&c->received_bytes);
        s->oversize += up_counter_get(&c->oversize);
        s->no_buffer += up_counter_get(&c->no_buffer);
        s->recv_errors += up_counter_get(&c->recv_errors);
        s->not_allowed += up_counter_get(&c->not_allowed);
        uint64_t drops = reader_drops(p, i);
        s->kernel_drops += drops;
        if (s->reader_kernel_drops)
            s->reader_kernel_drops[i] = drops;
        if (s->reader_received)
            s->reader_received[i] = up_counter_get(&c->received);
    }
    s->nreaders = s->reader_kernel_drops ? p->nreaders : 0;
    /* Acquire: pairs with the release store in up_proxy_stop(). */
    s->source_bound = atomic_load_explicit(&p->stop, memory_order_acquire) == 0;
    s->ntargets = p->cur->ntargets;
    for (size_t i = 0; i < p->cur->ntargets; i++)
        up_target_snapshot(p->cur->targets[i], &s->targets[i]);
    unlock(p);
}

size_t up_proxy_detach_sources(struct up_proxy *p, up_sock *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nreaders && n < max; i++) {
        struct up_reader *rd = &p->readers[i];
        if (rd->sock == UP_SOCK_INVALID)
            continue;
        if (rd->rsock == rd->sock)
            rd->rsock = UP_SOCK_INVALID;
        out[n++] = rd->sock;
        rd->sock = UP_SOCK_INVALID;
    }
    return n;
}

int up_proxy_source_addr(struct up_proxy *p, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    up_socklen len;
    int r = up_sock_local_addr(p->readers[0].sock, &ss, &len);
    if (r == UP_OK)
        up_addr_format((struct sockaddr *)&ss, buf, size);
    return r;
}

/* ---- reload ------------------------------------------------------------ */

/* Wait until every reader has finished the batch it was in when we
 * published (see the file comment). seq_cst on both sides: the publish,
 * our epoch loads, the reader's epoch store and its route load are in one
 * total order, so a batch that starts after the epoch moves sees the new
 * table. */
static void wait_readers_pass(struct up_proxy *p)
{
    uint_fast64_t seen[UP_READERS_MAX]; /* nreaders <= UP_READERS_MAX: options.c */
    for (size_t i = 0; i < p->nreaders; i++)
        seen[i] = atomic_load_explicit(&p->readers[i].epoch, memory_order_seq_cst);
    for (size_t i = 0; i < p->nreaders; i++)
        while (atomic_load_explicit(&p->readers[i].epoch, memory_order_seq_cst) == seen[i])
            up_sleep_ms(1);
}

/* A running target is kept when the same address (as written) comes with
 * the same options; a change of options replaces it (the new one starts,
 * the old one drains its queue: nothing is lost). */
static struct up_target *find_target(const struct up_route *rt, const char *addr, const struct up_target_opts *opts)
{
    for (size_t i = 0; i < rt->ntargets; i++)
        if (strcmp(rt->targets[i]->addr.text, addr) == 0 && up_target_opts_equal(&rt->targets[i]->opts, opts))
            return rt->targets[i];
    return NULL;
}

static bool in_options(const struct up_options *o, const struct up_target *t)
{
    for (size_t i = 0; i < o->ntargets; i++)
        if (strcmp(o->targets[i], t->addr.text) == 0 && up_target_opts_equal(&o->target_opts[i], &t->opts))
            return true;
    return false;
}

static bool addr_in_options(const struct up_options *o, const char *addr)
{
    for (size_t i = 0; i < o->ntargets; i++)
        if (strcmp(o->targets[i], addr) == 0)
            return true;
    return false;
}

static void log_final(const char *why, struct up_target *t)
{
    struct up_stats_target s;
    up_target_snapshot(t, &s);
    up_log(UP_LOG_INFO,
           "reload: target %s %s: sent=%llu sent_bytes=%llu dropped_queue_full=%llu dropped_send_error=%llu "
           "dropped_shutdown=%llu",
           t->name, why, (unsigned long long)s.sent, (unsigned long long)s.sent_bytes,
           (unsigned long long)s.dropped_queue_full, (unsigned long long)s.dropped_send_error,
           (unsigned long long)s.dropped_shutdown);
}

/* One text setting a running proxy cannot change (review m9). */
static void keep_text(const char *flag, char *next, const char *run, size_t size)
{
    if (strcmp(next, run) == 0)
        return;
    up_log(UP_LOG_WARN, "reload: %s changed ('%s' -> '%s'): needs a restart; keeping '%s'", flag, run, next, run);
    snprintf(next, size, "%s", run);
}

/* The exporters are started once, with their sockets and threads: a
 * reload keeps them as they are, and says so. */
static void keep_exporters(const struct up_options *o, struct up_options *n)
{
    keep_text("--metrics-listen", n->metrics_listen, o->metrics_listen, sizeof(n->metrics_listen));
    n->metrics_addr = o->metrics_addr;
    keep_text("--statsd-self", n->statsd_self, o->statsd_self, sizeof(n->statsd_self));
    n->statsd_self_addr = o->statsd_self_addr;
    keep_text("--statsd-self-prefix", n->statsd_self_prefix, o->statsd_self_prefix, sizeof(n->statsd_self_prefix));
    if (n->statsd_self_interval_ms != o->statsd_self_interval_ms) {
        up_log(UP_LOG_WARN, "reload: --statsd-self-interval changed (%u ms -> %u ms): needs a restart; keeping %u ms",
               o->statsd_self_interval_ms, n->statsd_self_interval_ms, o->statsd_self_interval_ms);
        n->statsd_self_interval_ms = o->statsd_self_interval_ms;
    }
}

/* Settings a running proxy cannot change: say so, keep the running value. */
static void keep_restart_only(struct up_proxy *p, struct up_options *n, bool rebind)
{
    struct up_options *o = &p->opt;
#define KEEP(field, flag, fmt)                                                                                         \
    if (n->field != o->field) {                                                                                        \
        up_log(UP_LOG_WARN, "reload: " flag " changed (" fmt " -> " fmt "): needs a restart; keeping " fmt, o->field,  \
               n->field, o->field);                                                                                    \
        n->field = o->field;                                                                                           \
    }
    KEEP(readers, "--readers", "%u")
    KEEP(buffer, "--buffer", "%u")
    KEEP(channel_size, "--channel-size", "%u")
    KEEP(log_max_size, "--log-max-size", "%d")
    KEEP(health_stall_ms, "--health-stall (ms)", "%u")
    if (!rebind) {
        KEEP(rcvbuf, "--rcvbuf", "%d")
        KEEP(source_mode, "--source-mode", "%o")
    }
#undef KEEP
    if (n->sndbuf != o->sndbuf)
        up_log(UP_LOG_INFO, "reload: --sndbuf changed (%d -> %d): applies to targets added from now on", o->sndbuf,
               n->sndbuf);
    if (strcmp(n->log_file, o->log_file) != 0) {
        up_log(UP_LOG_WARN, "reload: --log-file changed: needs a restart; keeping '%s'", o->log_file);
        snprintf(n->log_file, sizeof(n->log_file), "%s", o->log_file);
    }
    keep_exporters(o, n);
}

static bool allow_equal(const struct up_options *a, const struct up_options *b)
{
    if (a->nallow != b->nallow)
        return false;
    for (size_t i = 0; i < a->nallow; i++)
        if (strcmp(a->allow_text[i], b->allow_text[i]) != 0)
            return false;
    return true;
}

/* Steer the source's group to the sockets of set[] in it (one per
 * reader), but not to the one in slot `skip` (SIZE_MAX: none). */
static bool steer_fresh(struct up_proxy *p, const up_sock *set, size_t skip)
{
    unsigned to[UP_READERS_MAX], n = 0;
    for (size_t k = 0; k < p->nslots; k++)
        for (size_t i = 0; i < p->nreaders; i++)
            if (k != skip && p->slots[k] == set[i] && n < UP_READERS_MAX)
                to[n++] = (unsigned)k;
    return n > 0 && up_udp_steer_slots(set[0], to, n) == UP_OK;
}

/* Before new sockets join the group of the running ones: keep the traffic
 * on the running ones (read by the readers) until move_source() hands the
 * new ones over, so that no datagram waits unread in a new socket. */
static bool steer_running(struct up_proxy *p)
{
    up_sock cur[UP_READERS_MAX];
    for (size_t i = 0; i < p->nreaders; i++)
        cur[i] = p->readers[i].sock;
    return steer_fresh(p, cur, SIZE_MAX);
}

/* An old source socket that is not in the new sockets' group: connect it
 * to itself, so that it takes no datagram from anybody else any more.
 * Where the new address overlaps it (127.0.0.1:P -> :P) the kernel then
 * delivers to the new sockets; elsewhere the old address refuses. Either
 * way nothing more lands in a buffer that is about to be closed. */
static void seal(up_sock s)
{
    struct sockaddr_storage ss;
    up_socklen len;
    if (up_sock_local_addr(s, &ss, &len) != UP_OK || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    if (ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY))
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ss.ss_family == AF_INET6 && memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, &in6addr_any, 16) == 0)
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    (void)up_udp_connect(s, (const struct sockaddr *)&ss, len);
}

/* Move every reader to its new source socket without a gap (review M3,
 * s1). same: the new sockets joined the old ones' SO_REUSEPORT group.
 *   1. hand each reader its new socket;
 *   2. same group: steer every datagram to the new sockets;
 *   3. wake the readers (blocked on the old sockets, which get nothing
 *      more): each moves over, empties its old socket, lets go of it;
 *   4. close the old sockets. A close moves the group's last socket into
 *      the closed one's slot: before each close the steering leaves that
 *      socket out, so it names, before and after, only new sockets that
 *      stay in place (with one reader, the kernel's fallback hash over
 *      the group is right either way);
 *   5. back to the kernel's hash over the new sockets. */
static void move_source(struct up_proxy *p, const up_sock *fresh, bool same)
{
    for (size_t i = 0; i < p->nreaders; i++) {
        p->readers[i].swap_sock = fresh[i];
        /* Release: swap_sock is written before the reader sees the flag. */
        atomic_store_explicit(&p->readers[i].swap, 1, memory_order_release);
    }
    bool steered = false;
    if (same) {
        for (size_t i = 0; i < p->nreaders && p->nslots < 2 * UP_READERS_MAX; i++)
            p->slots[p->nslots++] = fresh[i];
        steered = steer_fresh(p, fresh, SIZE_MAX);
    }
    if (!same)
        for (size_t i = 0; i < p->nreaders; i++)
            seal(p->readers[i].sock);
    for (size_t i = 0; i < p->nreaders; i++)
        up_sock_shutdown_read(p->readers[i].sock);
    for (size_t i = 0; i < p->nreaders; i++)
        while (atomic_load_explicit(&p->readers[i].swap, memory_order_acquire))
            up_sleep_ms(1);
    for (size_t i = 0; i < p->nreaders; i++) {
        struct up_reader *rd = &p->readers[i];
        if (same && steered && p->nreaders > 1)
            steer_fresh(p, fresh, p->nslots - 1);
        if (same)
            for (size_t k = 0; k < p->nslots; k++)
                if (p->slots[k] == rd->sock) {
                    p->slots[k] = p->slots[--p->nslots];
                    break;
                }
        lock(p);
        reader_drops_close(p, i);
        up_sock_close(rd->sock);
        rd->sock = fresh[i];
        unlock(p);
    }
    if (steered)
        up_udp_steer_clear(fresh[0]);
    if (!same) {
        for (size_t i = 0; i < p->nreaders; i++)
            p->slots[i] = fresh[i];
        p->nslots = p->nreaders;
    }
}

static int reload_once(struct up_proxy *p, const struct up_options *next, char *err, size_t errlen);

int up_proxy_reload(struct up_proxy *p, const struct up_options *next, char *err, size_t errlen)
{
    /* reload_once() keeps its working copy of the options in static
     * storage (too large for the stack): one reload at a time, from the
     * control thread only. Enforced, not just said (review style 5). */
    static atomic_flag busy = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
        snprintf(err, errlen, "a reload is already running (reloads belong to the control thread)");
        return UP_EAGAIN;
    }
    int r = reload_once(p, next, err, errlen);
    atomic_flag_clear_explicit(&busy, memory_order_release);
    return r;
}

static int reload_once(struct up_proxy *p, const struct up_options *next, char *err, size_t errlen)
{
    static struct up_options n; /* large: off the stack; one reload at a time (up_proxy_reload) */
    struct up_target *added[UP_TARGETS_MAX], *removed[UP_TARGETS_MAX];
    up_sock fresh[UP_READERS_MAX]; /* nreaders <= UP_READERS_MAX: options.c */
    size_t nadded = 0, nremoved = 0, nkept = 0;
    struct up_route *nr = NULL;
    int r = UP_OK;

    int old_sndbuf = p->opt.sndbuf, granted = 0;
    bool same = false; /* the new source sockets join the running ones' group */
    bool held = false; /* the group is steered to the running sockets */
    n = *next;
    bool rebind = strcmp(n.source, p->opt.source) != 0;
    keep_restart_only(p, &n, rebind);
    for (size_t i = 0; i < p->nreaders; i++)
        fresh[i] = UP_SOCK_INVALID;

    /* 1. Everything that can fail. */
    nr = up_calloc(1, sizeof(*nr));
    if (!nr) {
        r = UP_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n.ntargets; i++) {
        struct up_target *t = find_target(p->cur, n.targets[i], &n.target_opts[i]);
        if (t) {
            nkept++;
        } else {
            p->opt.sndbuf = n.sndbuf; /* new targets get the new --sndbuf */
            r = target_new(p, &n.target_addrs[i], &n.target_opts[i], &t);
            if (r == UP_OK && (r = up_target_start(t)) != UP_OK)
                target_free(t);
            if (r != UP_OK) {
                snprintf(err, errlen, "cannot set up target %s: %s", n.targets[i], up_strerror(r));
                goto fail;
            }
            added[nadded++] = t;
        }
        nr->targets[nr->ntargets++] = t;
    }
    for (size_t i = 0; i < p->cur->ntargets; i++)
        if (!in_options(&n, p->cur->targets[i]))
            removed[nremoved++] = p->cur->targets[i];
    nr->nallow = n.nallow;
    memcpy(nr->allow, n.allow, sizeof(nr->allow));
    if (rebind) {
        if (n.source_addr.ss.ss_family == AF_UNIX && p->nreaders > 1) {
            r = UP_EINVAL;
            snprintf(err, errlen, "--source %s: a unix: source needs --readers 1 (running with %zu)", n.source,
                     p->nreaders);
            goto fail;
        }
        /* Another port is not ours yet: nobody else may serve it. The same
         * port (any address or family: 127.0.0.1:P -> :P) is: our own
         * sockets hold it, the probe would only find them. */
        bool ours = port_of(&p->opt.source_addr) != 0 && port_of(&p->opt.source_addr) == port_of(&n.source_addr);
        if (p->reuseport && !ours && (r = probe_source(&n, err, errlen)) != UP_OK)
            goto fail;
        same =
            p->reuseport && n.source_addr.ss.ss_family != AF_UNIX && up_addr_equal(&n.source_addr, &p->opt.source_addr);
        if (same)
            held = steer_running(p);
        for (size_t i = 0; i < p->nreaders; i++)
            if ((r = open_source(&n, p->reuseport, &fresh[i], &granted, err, errlen)) != UP_OK)
                goto fail;
    }
    if (nr->ntargets > p->pool_targets)
        up_log(UP_LOG_WARN,
               "reload: %zu targets, buffers were sized for %zu: if every queue fills at once, datagrams are "
               "dropped (counted in no_buffer); restart to resize",
               nr->ntargets, p->pool_targets);

    /* 2. A changed source: the readers move over first (see move_source). */
    if (rebind) {
        move_source(p, fresh, same);
        p->rcvbuf_granted = granted;
        if (p->opt.source_addr.ss.ss_family == AF_UNIX &&
            !(n.source_addr.ss.ss_family == AF_UNIX && up_addr_equal(&n.source_addr, &p->opt.source_addr)))
            up_unix_unlink(&p->opt.source_addr.ss);
        up_log(UP_LOG_INFO, "reload: source %s -> %s", p->opt.source, n.source);
    }

    /* 3. Publish; the old table stays valid until every reader moved on. */
    lock(p);
    struct up_route *old = p->cur;
    p->cur = nr;
    atomic_store_explicit(&p->route, nr, memory_order_seq_cst);
    unlock(p);
    wait_readers_pass(p);
    up_free(old);

    /* 4. Removed targets: nobody pushes to them any more; drain, stop. */
    uint64_t deadline = up_now_ns() + (uint64_t)n.drain_ms * 1000000u;
    for (size_t i = 0; i < nremoved; i++)
        up_target_drain(removed[i], deadline);
    for (size_t i = 0; i < nremoved; i++) {
        up_target_join(removed[i]);
        bool replaced = addr_in_options(&n, removed[i]->addr.text);
        log_final(replaced ? "options changed: replaced by a new one (the old one drained its queue; counters start "
                             "again from zero)"
                           : "removed (drained)",
                  removed[i]);
        target_free(removed[i]);
    }
    for (size_t i = 0; i < nadded; i++) {
        char opts[UP_ADDR_TEXT_MAX];
        up_target_opts_format(&added[i]->opts, opts, sizeof(opts));
        up_log(UP_LOG_INFO, "reload: target %s added (%s%s)", added[i]->name, added[i]->addr.text, opts);
    }
    if (!allow_equal(&n, &p->opt))
        up_log(UP_LOG_INFO, "reload: --allow now has %zu network(s)%s", n.nallow,
               n.nallow ? "" : " (every sender accepted)");
    up_log(UP_LOG_INFO, "reload: done: %zu target(s) kept, %zu added, %zu removed%s", nkept, nadded, nremoved,
           rebind ? ", source rebound" : "");
    p->opt = n;
    return UP_OK;
fail:
    p->opt.sndbuf = old_sndbuf;
    for (size_t i = 0; i < nadded; i++) {
        up_target_drain(added[i], 0);
        up_target_join(added[i]);
        target_free(added[i]);
    }
    for (size_t i = 0; i < p->nreaders; i++)
        up_sock_close(fresh[i]);
    if (held)
        up_udp_steer_clear(p->readers[0].sock);
    if (rebind && n.source_addr.ss.ss_family == AF_UNIX && fresh[0] != UP_SOCK_INVALID)
        up_unix_unlink(&n.source_addr.ss);
    up_free(nr);
    return r;
}

/* ---- periodic work: names that move, Unix peers that come back --------- */

static void lookup_run(void *arg)
{
    struct up_lookup *l = arg;
    l->rc = up_addr_resolve(l->text, false, &l->addr);
    /* Release: rc and addr are written before the control thread sees DONE. */
    atomic_store_explicit(&l->state, LOOKUP_DONE, memory_order_release);
}

static void apply_lookup(const struct up_options *o, struct up_target *t, int r, const struct up_addr *a)
{
    bool waiting = t->addr.len == 0;
    if (r != UP_OK) {
        up_counter_add(&t->resolve_failures, 1);
        if (waiting)
            up_log(UP_LOG_WARN, "target %s: still does not resolve: %s (counted in resolve_failures)", t->name,
                   up_strerror(r));
        else
            up_log(UP_LOG_WARN, "target %s: lookup failed: %s; keeping the last address (counted in resolve_failures)",
                   t->name, up_strerror(r));
        return;
    }
    if (!waiting && up_addr_equal(a, &t->addr))
        return;
    char was[80] = "nothing", now_s[80];
    if (!waiting)
        up_addr_format((struct sockaddr *)&t->addr.ss, was, sizeof(was));
    up_addr_format((struct sockaddr *)&a->ss, now_s, sizeof(now_s));
    const char *loop = up_loops_into(o, a);
    if (loop) {
        /* The name now points at the proxy itself: following it would send
         * every datagram round in a loop. */
        up_counter_add(&t->resolve_failures, 1);
        up_log(UP_LOG_ERROR,
               "target %s: the name now resolves to %s, the proxy's own %s: not followed (a loop); keeping %s "
               "(counted in resolve_failures)",
               t->name, now_s, loop, was);
        return;
    }
    r = up_target_set_addr(t, a);
    if (r != UP_OK) {
        up_log(UP_LOG_WARN, "target %s: cannot move to %s: %s; keeping %s", t->name, now_s, up_strerror(r), was);
        return;
    }
    up_log(UP_LOG_INFO, "target %s: address changed: %s -> %s (queue kept)", t->name, was, now_s);
}

/* Finished lookups: apply each to its target, if it is still there. */
static void collect_lookups(struct up_proxy *p)
{
    for (size_t i = 0; i < UP_TARGETS_MAX; i++) {
        struct up_lookup *l = &p->lookups[i];
        /* Acquire: pairs with lookup_run()'s release. */
        if (atomic_load_explicit(&l->state, memory_order_acquire) != LOOKUP_DONE)
            continue;
        for (size_t k = 0; k < p->cur->ntargets; k++) {
            struct up_target *t = p->cur->targets[k];
            if (t == l->t && strcmp(t->addr.text, l->text) == 0) {
                apply_lookup(&p->opt, t, l->rc, &l->addr);
                break;
            }
        }
        atomic_store_explicit(&l->state, LOOKUP_FREE, memory_order_relaxed);
    }
}

/* Ask the resolver thread for t's address, unless a lookup is under way. */
static void start_lookup(struct up_proxy *p, struct up_target *t, uint64_t now)
{
    bool waiting = t->addr.len == 0;
    uint64_t every = p->opt.resolve_interval;
    if (waiting && (every == 0 || every > UNRESOLVED_RETRY_S))
        every = UNRESOLVED_RETRY_S;
    if (every == 0)
        return;
    struct up_lookup *slot = NULL;
    for (size_t i = 0; i < UP_TARGETS_MAX; i++) {
        struct up_lookup *l = &p->lookups[i];
        int st = atomic_load_explicit(&l->state, memory_order_acquire);
        if (st != LOOKUP_FREE && l->t == t)
            return; /* still asking (DNS slow): the next one after it */
        if (st == LOOKUP_FREE && !slot)
            slot = l;
    }
    if (!slot)
        return;
    t->next_resolve_ns = now + every * 1000000000u;
    slot->t = t;
    snprintf(slot->text, sizeof(slot->text), "%s", t->addr.text);
    atomic_store_explicit(&slot->state, LOOKUP_BUSY, memory_order_relaxed);
    if (up_resolver_post(p->resolver, lookup_run, slot) != UP_OK)
        atomic_store_explicit(&slot->state, LOOKUP_FREE, memory_order_relaxed);
}

void up_proxy_tick(struct up_proxy *p)
{
    uint64_t now = up_now_ns();
    collect_lookups(p);
    for (size_t i = 0; i < p->cur->ntargets; i++) {
        struct up_target *t = p->cur->targets[i];
        if (t->is_unix) {
            up_target_reconnect(t);
            continue;
        }
        if (t->addr.named && now >= t->next_resolve_ns)
            start_lookup(p, t, now);
    }
}

int up_proxy_source_rcvbuf(const struct up_proxy *p)
{
    return p->rcvbuf_granted;
}

struct up_resolver *up_proxy_resolver(struct up_proxy *p)
{
    return p->resolver;
}

void up_proxy_free(struct up_proxy *p)
{
    if (!p)
        return;
    up_proxy_stop(p);
    bool bound = false;
    if (p->readers)
        for (size_t i = 0; i < p->nreaders; i++) {
            bound = bound || p->readers[i].sock != UP_SOCK_INVALID;
            up_reader_destroy(&p->readers[i]);
        }
    /* An inherited unix: socket's file belongs to whoever made it (systemd's
     * socket unit); one of our own earlier image is removed by the next
     * start as a stale file. */
    if (bound && !p->adopted && p->opt.source_addr.ss.ss_family == AF_UNIX)
        up_unix_unlink(&p->opt.source_addr.ss);
    if (p->cur)
        for (size_t i = 0; i < p->cur->ntargets; i++)
            target_free(p->cur->targets[i]);
    /* A lookup that hangs (DNS down) keeps its record: leave it alive. */
    if (up_resolver_free(p->resolver))
        up_free(p->lookups);
    up_free_aligned(p->readers);
    up_free(p->cur);
    up_free(p);
}
