/*
 * proxy.c - wiring and lifecycle of readers and targets (see proxy.h).
 *
 * Stop order: readers first (they stop receiving, take what the kernel
 * still holds, exit), then every writer drains its queues until the
 * deadline. Nothing is dropped silently: what the deadline cuts off is
 * counted in dropped_shutdown.
 */
#include "proxy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "reader.h"
#include "target.h"

struct up_proxy {
    struct up_options opt; /* copy of what we run with */
    size_t nreaders, ntargets;
    struct up_reader *readers; /* [nreaders] */
    struct up_target *targets; /* [ntargets] */
    atomic_int stop;           /* 1: readers stop receiving */
    bool running, stopped;
};

static int open_source(struct up_proxy *p, up_sock *out, char *err, size_t errlen)
{
    const struct up_addr *a = &p->opt.source_addr;
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
    r = up_sock_set_buffer(s, true, p->opt.rcvbuf, &got);
    if (r == UP_ERANGE) {
        static atomic_int warned;
        if (!atomic_exchange(&warned, 1))
            up_log(UP_LOG_WARN,
                   "source receive buffer capped at %d bytes (asked --rcvbuf %d): raise the net.core.rmem_max "
                   "sysctl (sysctl -w net.core.rmem_max=%d) or run with CAP_NET_ADMIN, or bursts will be dropped "
                   "by the kernel (counted in kernel_drops)",
                   got, p->opt.rcvbuf, p->opt.rcvbuf);
    }
    up_sock_set_rcvtimeo(s, 200);
    r = up_udp_bind(s, (const struct sockaddr *)&ss, len, p->nreaders > 1, false);
    if (r != UP_OK) {
        snprintf(err, errlen, "cannot listen on %s: %s", a->text, up_strerror(r));
        up_sock_close(s);
        return r;
    }
    *out = s;
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
    p->nreaders = opt->readers;
    p->ntargets = opt->ntargets;
    p->readers = up_calloc(p->nreaders, sizeof(*p->readers));
    p->targets = up_calloc(p->ntargets, sizeof(*p->targets));
    if (!p->readers || !p->targets) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < p->nreaders; i++)
        p->readers[i].sock = UP_SOCK_INVALID;
    for (size_t i = 0; i < p->ntargets; i++)
        p->targets[i].sock = UP_SOCK_INVALID;
    for (size_t i = 0; i < p->ntargets; i++) {
        r = up_target_init(&p->targets[i], &opt->target_addrs[i], p->nreaders, opt->channel_size, opt->sndbuf);
        if (r != UP_OK) {
            snprintf(err, errlen, "cannot set up target %s: %s", opt->targets[i], up_strerror(r));
            goto fail;
        }
    }
    for (size_t i = 0; i < p->nreaders; i++) {
        up_sock s;
        r = open_source(p, &s, err, errlen);
        if (r != UP_OK)
            goto fail;
        r = up_reader_init(&p->readers[i], i, s, p->targets, p->ntargets, opt->buffer, opt->channel_size, &p->stop);
        if (r != UP_OK) {
            up_sock_close(s);
            snprintf(err, errlen, "cannot set up reader %zu: %s", i, up_strerror(r));
            goto fail;
        }
    }
    *out = p;
    return UP_OK;
fail:
    up_proxy_free(p);
    return r;
}

int up_proxy_start(struct up_proxy *p)
{
    int r;
    for (size_t i = 0; i < p->ntargets; i++)
        if ((r = up_target_start(&p->targets[i])) != UP_OK)
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
    for (size_t i = 0; i < p->ntargets; i++)
        up_target_drain(&p->targets[i], deadline);
    for (size_t i = 0; i < p->ntargets; i++)
        up_target_join(&p->targets[i]);
}

size_t up_proxy_target_count(const struct up_proxy *p)
{
    return p->ntargets;
}

size_t up_proxy_reader_count(const struct up_proxy *p)
{
    return p->nreaders;
}

void up_proxy_snapshot(struct up_proxy *p, struct up_stats *s)
{
    s->taken_at = up_wall_time();
    s->received = s->received_bytes = s->oversize = s->no_buffer = s->recv_errors = s->kernel_drops = 0;
    for (size_t i = 0; i < p->nreaders; i++) {
        const struct up_reader_counters *c = &p->readers[i].c;
        s->received += up_counter_get(&c->received);
        s->received_bytes += up_counter_get(&c->received_bytes);
        s->oversize += up_counter_get(&c->oversize);
        s->no_buffer += up_counter_get(&c->no_buffer);
        s->recv_errors += up_counter_get(&c->recv_errors);
        uint64_t drops = 0;
        if (p->readers[i].sock != UP_SOCK_INVALID && up_sock_rx_drops(p->readers[i].sock, &drops) == UP_OK)
            s->kernel_drops += drops;
        if (s->reader_kernel_drops)
            s->reader_kernel_drops[i] = drops;
    }
    s->nreaders = s->reader_kernel_drops ? p->nreaders : 0;
    /* Acquire: pairs with the release store in up_proxy_stop(). */
    s->source_bound = atomic_load_explicit(&p->stop, memory_order_acquire) == 0;
    s->ntargets = p->ntargets;
    for (size_t i = 0; i < p->ntargets; i++)
        up_target_snapshot(&p->targets[i], &s->targets[i]);
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

void up_proxy_free(struct up_proxy *p)
{
    if (!p)
        return;
    up_proxy_stop(p);
    if (p->readers)
        for (size_t i = 0; i < p->nreaders; i++)
            up_reader_destroy(&p->readers[i]);
    if (p->targets)
        for (size_t i = 0; i < p->ntargets; i++)
            up_target_destroy(&p->targets[i]);
    up_free(p->readers);
    up_free(p->targets);
    up_free(p);
}
