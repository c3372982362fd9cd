/*
 * proxy.c - wiring and lifecycle of readers and targets (see proxy.h).
 *
 * Stop order: readers first (they stop receiving, take what the kernel
 * still holds, exit), then every writer drains its queues until the
 * deadline. Nothing is dropped silently: what the deadline cuts off is
 * counted in dropped_shutdown.
 *
 * Reload (control thread), hitless:
 *   1. everything that can fail first: new targets are connected and their
 *      writers started, a changed source is bound (SO_REUSEPORT lets the
 *      new socket overlap the old one) - on any failure nothing changes;
 *   2. a new route table is published (seq_cst store) and the old one is
 *      kept until every reader has passed a batch boundary (its epoch moved
 *      after the publish; idle readers wake every 200 ms): from then on no
 *      reader can touch a removed target or the old table;
 *   3. a changed source: each reader is handed its new socket, moves to it
 *      at its next batch boundary, empties the old one and lets go of it;
 *      the control thread closes it;
 *   4. removed targets drain their queues (up to --drain-timeout), log
 *      their final counters and are freed.
 * Kept targets keep their socket, queues and counters throughout.
 */
#include "proxy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "handover.h"
#include "log.h"
#include "reader.h"
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
    bool adopted;                           /* the source sockets were inherited (handover.h), not bound here */
    bool running, stopped;
};

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

static int open_unix_source(const struct up_options *o, up_sock *out, char *err, size_t errlen)
{
    const struct up_addr *a = &o->source_addr;
    up_sock s = UP_SOCK_INVALID;
    int r = up_udp_open(AF_UNIX, false, &s);
    if (r == UP_OK) {
        int got = 0;
        up_sock_set_buffer(s, true, o->rcvbuf, &got);
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

static int open_source(const struct up_options *o, bool reuseport, up_sock *out, char *err, size_t errlen)
{
    const struct up_addr *a = &o->source_addr;
    if (adopt_source(o, out))
        return UP_OK;
    if (a->ss.ss_family == AF_UNIX)
        return open_unix_source(o, out, err, errlen);
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

static void target_free(struct up_target *t)
{
    if (!t)
        return;
    up_target_destroy(t);
    up_free_aligned(t);
}

static int target_new(struct up_proxy *p, const struct up_addr *addr, struct up_target **out)
{
    struct up_target *t = up_calloc_aligned(64, sizeof(*t));
    if (!t)
        return UP_ENOMEM;
    int r = up_target_init(t, addr, p->nreaders, p->opt.channel_size, p->opt.sndbuf);
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
    p->pool_targets = opt->ntargets;
    /* With a config file a reload may rebind the source onto an address
     * that overlaps the running one: both must allow it, where the system
     * can (Windows cannot: there such a rebind fails and the reload is
     * refused, the running source stays). */
    p->reuseport = p->nreaders > 1 || (UP_HAVE_REUSEPORT && opt->config[0] != '\0');
    p->readers = up_calloc(p->nreaders, sizeof(*p->readers));
    p->cur = up_calloc(1, sizeof(*p->cur));
    if (!p->readers || !p->cur) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < p->nreaders; i++) {
        p->readers[i].sock = UP_SOCK_INVALID;
        p->readers[i].rsock = UP_SOCK_INVALID;
    }
    for (size_t i = 0; i < opt->ntargets; i++) {
        r = target_new(p, &opt->target_addrs[i], &p->cur->targets[i]);
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
    for (size_t i = 0; i < p->nreaders; i++) {
        up_sock s;
        size_t before = up_handover_pending();
        r = open_source(&p->opt, p->reuseport, &s, err, errlen);
        if (r != UP_OK)
            goto fail;
        r = up_reader_init(&p->readers[i], i, s, &p->route, p->pool_targets, opt->buffer, opt->channel_size, &p->stop);
        if (r != UP_OK) {
            up_sock_close(s);
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

void up_proxy_stop(struct up_proxy *p)
{
    if (!p->running || p->stopped)
        return;
    p->stopped = true;
    /* Release: pairs with the readers' acquire load of the flag. */
    atomic_store_explicit(&p->stop, 1, memory_order_release);
    for (size_t i = 0; i < p->nreaders; i++)
        up_reader_join(&p->readers[i]);
    uint64_t deadline = up_now_ns() + (uint64_t)p->opt.drain_ms * 1000000u;
    for (size_t i = 0; i < p->cur->ntargets; i++)
        up_target_drain(p->cur->targets[i], deadline);
    for (size_t i = 0; i < p->cur->ntargets; i++)
        up_target_join(p->cur->targets[i]);
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
        /* Sockets closed by a source rebind left their drops in the base. */
        uint64_t drops = p->readers[i].kernel_drops_base, now = 0;
        if (p->readers[i].sock != UP_SOCK_INVALID && up_sock_rx_drops(p->readers[i].sock, &now) == UP_OK)
            drops += now;
        s->kernel_drops += drops;
        if (s->reader_kernel_drops)
            s->reader_kernel_drops[i] = drops;
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
    uint_fast64_t seen[64];
    for (size_t i = 0; i < p->nreaders && i < 64; i++)
        seen[i] = atomic_load_explicit(&p->readers[i].epoch, memory_order_seq_cst);
    for (size_t i = 0; i < p->nreaders && i < 64; i++)
        while (atomic_load_explicit(&p->readers[i].epoch, memory_order_seq_cst) == seen[i])
            up_sleep_ms(1);
}

static struct up_target *find_target(const struct up_route *rt, const char *name)
{
    for (size_t i = 0; i < rt->ntargets; i++)
        if (strcmp(rt->targets[i]->name, name) == 0)
            return rt->targets[i];
    return NULL;
}

static bool in_options(const struct up_options *o, const char *name)
{
    for (size_t i = 0; i < o->ntargets; i++)
        if (strcmp(o->targets[i], name) == 0)
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

int up_proxy_reload(struct up_proxy *p, const struct up_options *next, char *err, size_t errlen)
{
    static struct up_options n; /* large: off the stack; control thread only */
    struct up_target *added[UP_TARGETS_MAX], *removed[UP_TARGETS_MAX];
    up_sock fresh[64];
    size_t nadded = 0, nremoved = 0, nkept = 0;
    bool steered = false;
    struct up_route *nr = NULL;
    int r = UP_OK;

    int old_sndbuf = p->opt.sndbuf;
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
        struct up_target *t = find_target(p->cur, n.targets[i]);
        if (t) {
            nkept++;
        } else {
            p->opt.sndbuf = n.sndbuf; /* new targets get the new --sndbuf */
            r = target_new(p, &n.target_addrs[i], &t);
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
        if (!in_options(&n, p->cur->targets[i]->name))
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
        for (size_t i = 0; i < p->nreaders; i++)
            if ((r = open_source(&n, p->reuseport, &fresh[i], err, errlen)) != UP_OK)
                goto fail;
        /* Same address as before (a group with the old sockets): send
         * everything to the new ones, so that closing the old ones after
         * their last drain loses nothing. Harmless otherwise. */
        if (p->reuseport && n.source_addr.ss.ss_family != AF_UNIX)
            steered = up_udp_steer_newest(fresh[0], (unsigned)p->nreaders) == UP_OK;
    }
    if (nr->ntargets > p->pool_targets)
        up_log(UP_LOG_WARN,
               "reload: %zu targets, buffers were sized for %zu: if every queue fills at once, datagrams are "
               "dropped (counted in no_buffer); restart to resize",
               nr->ntargets, p->pool_targets);

    /* 2. Publish; the old table stays valid until every reader moved on. */
    lock(p);
    struct up_route *old = p->cur;
    p->cur = nr;
    atomic_store_explicit(&p->route, nr, memory_order_seq_cst);
    unlock(p);
    wait_readers_pass(p);
    up_free(old);

    /* 3. A changed source: each reader moves over at a batch boundary. */
    if (rebind) {
        for (size_t i = 0; i < p->nreaders; i++) {
            p->readers[i].swap_sock = fresh[i];
            /* Release: swap_sock is written before the reader sees the flag. */
            atomic_store_explicit(&p->readers[i].swap, 1, memory_order_release);
        }
        for (size_t i = 0; i < p->nreaders; i++) {
            struct up_reader *rd = &p->readers[i];
            while (atomic_load_explicit(&rd->swap, memory_order_acquire))
                up_sleep_ms(1);
            uint64_t drops = 0;
            lock(p);
            if (up_sock_rx_drops(rd->sock, &drops) == UP_OK)
                rd->kernel_drops_base += drops;
            up_sock_close(rd->sock);
            rd->sock = fresh[i];
            unlock(p);
        }
        if (steered)
            up_udp_steer_clear(fresh[0]);
        if (p->opt.source_addr.ss.ss_family == AF_UNIX &&
            !(n.source_addr.ss.ss_family == AF_UNIX && up_addr_equal(&n.source_addr, &p->opt.source_addr)))
            up_unix_unlink(&p->opt.source_addr.ss);
        up_log(UP_LOG_INFO, "reload: source %s -> %s", p->opt.source, n.source);
    }

    /* 4. Removed targets: nobody pushes to them any more; drain, stop. */
    uint64_t deadline = up_now_ns() + (uint64_t)n.drain_ms * 1000000u;
    for (size_t i = 0; i < nremoved; i++)
        up_target_drain(removed[i], deadline);
    for (size_t i = 0; i < nremoved; i++) {
        up_target_join(removed[i]);
        log_final("removed (drained)", removed[i]);
        target_free(removed[i]);
    }
    for (size_t i = 0; i < nadded; i++)
        up_log(UP_LOG_INFO, "reload: target %s added", added[i]->name);
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
    if (rebind && n.source_addr.ss.ss_family == AF_UNIX && fresh[0] != UP_SOCK_INVALID)
        up_unix_unlink(&n.source_addr.ss);
    up_free(nr);
    return r;
}

/* ---- periodic work: names that move, Unix peers that come back --------- */

static void resolve_target(struct up_proxy *p, struct up_target *t, uint64_t now)
{
    struct up_addr a;
    bool waiting = t->addr.len == 0;
    uint64_t every = p->opt.resolve_interval;
    if (waiting && (every == 0 || every > UNRESOLVED_RETRY_S))
        every = UNRESOLVED_RETRY_S;
    if (every == 0)
        return;
    t->next_resolve_ns = now + every * 1000000000u;
    int r = up_addr_resolve(t->addr.text, false, &a);
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
    if (!waiting && up_addr_equal(&a, &t->addr))
        return;
    char was[80] = "nothing", now_s[80];
    if (!waiting)
        up_addr_format((struct sockaddr *)&t->addr.ss, was, sizeof(was));
    up_addr_format((struct sockaddr *)&a.ss, now_s, sizeof(now_s));
    r = up_target_set_addr(t, &a);
    if (r != UP_OK) {
        up_log(UP_LOG_WARN, "target %s: cannot move to %s: %s; keeping %s", t->name, now_s, up_strerror(r), was);
        return;
    }
    up_log(UP_LOG_INFO, "target %s: address changed: %s -> %s (queue kept)", t->name, was, now_s);
}

void up_proxy_tick(struct up_proxy *p)
{
    uint64_t now = up_now_ns();
    for (size_t i = 0; i < p->cur->ntargets; i++) {
        struct up_target *t = p->cur->targets[i];
        if (t->is_unix) {
            up_target_reconnect(t);
            continue;
        }
        if (t->addr.named && now >= t->next_resolve_ns)
            resolve_target(p, t, now);
    }
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
    up_free(p->readers);
    up_free(p->cur);
    up_free(p);
}
