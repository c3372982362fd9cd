/* run.c - the control loop: stats, signals, graceful stop (see run.h). */
#include "run.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "handover.h"
#include "http.h"
#include "log.h"
#include "metrics_http.h"
#include "notify.h"
#include "platform.h"
#include "proxy.h"
#include "reexec.h"
#include "selfstats.h"
#include "stats.h"

#ifndef UP_VERSION
#define UP_VERSION "dev"
#endif

static void log_stats(const char *what, const struct up_stats *cur, const struct up_stats *prev)
{
    char line[4096];
    up_stats_format_delta(cur, prev, line, sizeof(line));
    up_log(UP_LOG_INFO, "%s %s", what, line);
}

/* The exporters (--metrics-listen, --statsd-self): each NULL when off. */
struct exporters {
    struct up_metrics_http *endpoint;
    struct up_http_server *http;
    struct up_selfstats *self;
};

/* Bind the metrics listener and the self-metrics socket before any thread
 * starts, so a bad address fails start-up like a bad source does. */
static int exporters_new(struct exporters *e, struct up_options *o, struct up_proxy *p, double start_time, char *err,
                         size_t errlen)
{
    int r = UP_OK;
    if (o->metrics_listen[0]) {
        struct up_metrics_info info = {UP_VERSION, start_time};
        if ((r = up_metrics_http_new(p, &info, &e->endpoint)) != UP_OK) {
            snprintf(err, errlen, "out of memory");
            return r;
        }
        struct up_http_config c;
        up_http_config_defaults(&c);
        c.listen = o->metrics_addr;
        c.max_body = up_metrics_http_max_body(e->endpoint);
        if (c.max_body < 1024)
            c.max_body = 1024; /* room for the error texts */
        c.handler = up_metrics_http_handle;
        c.ctx = e->endpoint;
        if ((r = up_http_new(&c, &e->http, err, errlen)) != UP_OK)
            return r;
    }
    if (o->statsd_self[0])
        r = up_selfstats_new(p, &o->statsd_self_addr, o->statsd_self_interval_ms, o->statsd_self_prefix, &e->self, err,
                             errlen);
    return r;
}

static int exporters_start(struct exporters *e)
{
    int r = UP_OK;
    char addr[80] = "?";
    if (e->http && (r = up_http_start(e->http)) == UP_OK) {
        up_http_local_addr(e->http, addr, sizeof(addr));
        up_log(UP_LOG_INFO, "metrics: serving http://%s/metrics and /healthz", addr);
    }
    if (r == UP_OK && e->self)
        r = up_selfstats_start(e->self);
    return r;
}

/* After the final totals: the last self-metrics report, then the server
 * (it answers /metrics, and 503 on /healthz, while the queues drain). */
static void exporters_free(struct exporters *e)
{
    up_selfstats_free(e->self);
    up_http_free(e->http);
    up_metrics_http_free(e->endpoint);
}

/* How often the control thread does its periodic work (up_proxy_tick). */
#define TICK_MS 1000

/* SIGHUP: read the configuration again and apply it, or keep the running
 * one and say why. */
static void reload(struct up_proxy *p, struct up_options *o)
{
    static struct up_options n; /* large: off the stack */
    char err[700];
    if (!o->config[0]) {
        up_log(UP_LOG_WARN, "SIGHUP ignored: no --config file to reload");
        return;
    }
    up_log(UP_LOG_INFO, "reload: reading %s", o->config);
    int r = up_config_load(&n, o->argc, o->argv, err, sizeof(err));
    if (r == UP_OPTIONS_RUN && n.cli_targets)
        up_log(UP_LOG_WARN, "reload: --target was given on the command line: the file's targets are ignored");
    if (r == UP_OPTIONS_RUN)
        r = up_options_resolve(&n, err, sizeof(err));
    if (r == UP_OK)
        r = up_proxy_reload(p, &n, err, sizeof(err));
    if (r != UP_OK) {
        up_log(UP_LOG_ERROR, "reload failed, the running configuration stays: %s", err);
        return;
    }
    if (n.log_level != o->log_level) {
        up_log(UP_LOG_INFO, "reload: --log-level %s -> %s", up_log_level_name(o->log_level),
               up_log_level_name(n.log_level));
        up_log_set_level(n.log_level);
    }
    if (n.stats_interval != o->stats_interval)
        up_log(UP_LOG_INFO, "reload: --stats-interval %u -> %u", o->stats_interval, n.stats_interval);
    if (n.resolve_interval != o->resolve_interval)
        up_log(UP_LOG_INFO, "reload: --resolve-interval %u -> %u", o->resolve_interval, n.resolve_interval);
    if (n.drain_ms != o->drain_ms)
        up_log(UP_LOG_INFO, "reload: --drain-timeout %u ms -> %u ms", o->drain_ms, n.drain_ms);
    o->log_level = n.log_level;
    o->stats_interval = n.stats_interval;
    o->resolve_interval = n.resolve_interval;
    o->drain_ms = n.drain_ms;
}

/* SIGUSR2: can a re-exec start? The file at the start path must run and
 * accept the configuration (reexec.h); otherwise say why, keep running. */
static bool reexec_ready(void)
{
    char err[700];
    if (up_reexec_check(err, sizeof(err)) != UP_OK) {
        up_log(UP_LOG_ERROR, "SIGUSR2: re-exec refused, still running: %s", err);
        return false;
    }
    return true;
}

/* Returns only if the exec failed: the sockets go back to the hand-over
 * pool and the caller starts again on them. */
static void reexec_now(const up_sock *socks, size_t n)
{
    char err[600];
    up_log(UP_LOG_INFO, "re-exec: executing %s with %zu socket(s)", up_reexec_path(), n);
    up_reexec(socks, n, err, sizeof(err));
    up_log(UP_LOG_ERROR, "re-exec failed, resuming with the running binary and its sockets: %s", err);
    up_handover_give(socks, n);
}

static int run_proxy(struct up_options *o, up_ready_fn ready, void *ctx, bool *again)
{
    char err[600];
    struct up_proxy *p = NULL;
    struct up_stats a = {0}, b = {0};
    struct exporters ex = {0};
    int status = 1;
    double start_time = up_wall_time();
    bool reexec = false;
    up_sock socks[UP_HANDOVER_MAX];
    size_t nsocks = 0;

    int r = up_proxy_new(o, &p, err, sizeof(err));
    up_handover_close_rest();
    if (r != UP_OK) {
        up_log(UP_LOG_FATAL, "%s", err);
        return 1;
    }
    if (exporters_new(&ex, o, p, start_time, err, sizeof(err)) != UP_OK) {
        up_log(UP_LOG_FATAL, "%s", err);
        goto out;
    }
    size_t n = up_proxy_target_count(p);
    a.targets = up_calloc(n, sizeof(*a.targets));
    b.targets = up_calloc(n, sizeof(*b.targets));
    if (!a.targets || !b.targets) {
        up_log(UP_LOG_FATAL, "out of memory");
        goto out;
    }
    r = up_proxy_start(p);
    if (r != UP_OK) {
        up_log(UP_LOG_FATAL, "cannot start threads: %s", up_strerror(r));
        goto out;
    }
    r = exporters_start(&ex);
    if (r != UP_OK) {
        up_log(UP_LOG_FATAL, "cannot start the exporter threads: %s", up_strerror(r));
        goto out;
    }
    char src[80] = "?";
    up_proxy_source_addr(p, src, sizeof(src));
    up_log(UP_LOG_INFO, "udp-proxy %s listening on %s (%s), %zu target(s), %u reader(s), buffer %u, channel %u",
           UP_VERSION, o->source, src, o->ntargets, o->readers, (unsigned)o->buffer, (unsigned)o->channel_size);
    for (size_t i = 0; i < o->ntargets; i++) {
        char t[80] = "not resolved yet";
        if (o->target_addrs[i].len)
            up_addr_format((struct sockaddr *)&o->target_addrs[i].ss, t, sizeof(t));
        up_log(UP_LOG_INFO, "target %s (%s)", o->targets[i], t);
    }
    if (ready)
        ready(ctx);

    struct up_stats *cur = &a, *prev = &b;
    up_proxy_snapshot(p, prev);
    uint64_t interval_ns = (uint64_t)o->stats_interval * 1000000000u;
    uint64_t next = up_now_ns() + interval_ns;
    uint64_t next_tick = up_now_ns() + (uint64_t)TICK_MS * 1000000u;
    for (;;) {
        uint64_t now = up_now_ns();
        int wait_ms = now >= next_tick ? 0 : (int)((next_tick - now) / 1000000u) + 1;
        if (interval_ns) {
            int w = now >= next ? 0 : (int)((next - now) / 1000000u) + 1;
            if (w < wait_ms)
                wait_ms = w;
        }
        int ev = up_ctrl_wait(wait_ms);
        if (ev == UP_CTRL_STOP) {
            up_notify_stopping();
            break;
        }
        if (ev == UP_CTRL_REEXEC && reexec_ready()) {
            up_notify_reloading(); /* READY=1 comes from the new image */
            reexec = true;
            break;
        }
        if (ev == UP_CTRL_RELOAD) {
            up_notify_reloading();
            reload(p, o);
            up_notify_ready();
            uint64_t want = (uint64_t)o->stats_interval * 1000000000u;
            if (want != interval_ns) {
                interval_ns = want;
                next = up_now_ns() + interval_ns;
            }
        }
        if (up_now_ns() >= next_tick) {
            up_proxy_tick(p);
            next_tick = up_now_ns() + (uint64_t)TICK_MS * 1000000u;
        }
        if (interval_ns && up_now_ns() >= next) {
            up_proxy_snapshot(p, cur);
            log_stats("stats", cur, prev);
            struct up_stats *t = prev;
            prev = cur;
            cur = t;
            next += interval_ns;
            if (next < up_now_ns())
                next = up_now_ns() + interval_ns;
        }
    }
    /* A re-exec: let the HTTP thread notice its stop (up to 250 ms) while
     * the readers still run, not while the kernel holds the datagrams. */
    if (reexec && ex.http)
        up_http_stop(ex.http);
    up_log(UP_LOG_INFO, "%s: draining queues (up to %u ms)", reexec ? "re-exec" : "stopping", o->drain_ms);
    up_proxy_stop(p);
    up_proxy_snapshot(p, cur);
    log_stats("final totals:", cur, NULL);
    if (reexec)
        nsocks = up_proxy_detach_sources(p, socks, UP_HANDOVER_MAX);
    status = 0;
out:
    exporters_free(&ex);
    up_proxy_free(p);
    up_free(a.targets);
    up_free(b.targets);
    if (reexec) {
        reexec_now(socks, nsocks); /* returns only on failure */
        *again = true;
    }
    return status;
}

int up_run(struct up_options *o, up_ready_fn ready, void *ctx)
{
    bool again;
    int status;
    do {
        again = false;
        status = run_proxy(o, ready, ctx, &again);
    } while (again);
    return status;
}
