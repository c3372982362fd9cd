/* run.c - the control loop: stats, signals, graceful stop (see run.h). */
#include "run.h"

#include <stdatomic.h>
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
#include "resolver.h"
#include "reexec.h"
#include "selfstats.h"
#include "settings.h"
#include "stats.h"

#ifndef UP_VERSION
#define UP_VERSION "dev"
#endif

/* A log line carries at most 1,024 bytes (log.c), its time stamp and level
 * included: the stats text is logged in parts of at most this much, each a
 * whole number of targets. The first part reads "HEAD received=... target=
 * ...", each further one "MORE target=..." (MORE is HEAD with a "+": a
 * parser joins them; one that only knows HEAD still finds the process
 * counters and the first targets). */
#define STATS_PART_MAX 900

static void log_stats(const char *head, const char *more, const struct up_stats *cur, const struct up_stats *prev)
{
    char line[STATS_PART_MAX];
    size_t next = 0;
    do {
        const char *what = next == 0 ? head : more;
        up_stats_format_part(cur, prev, &next, line, sizeof(line));
        up_log(UP_LOG_INFO, "%s %s", what, line[0] == ' ' ? line + 1 : line);
    } while (next < cur->ntargets);
    /* Shaped targets: their line counters on a line of their own each. */
    for (size_t i = 0; i < cur->ntargets; i++)
        if (up_stats_format_lines(cur, prev, i, line, sizeof(line)))
            up_log(UP_LOG_INFO, "%s %s", head[0] == 'f' ? "final lines:" : "stats lines:", line);
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
        struct up_metrics_info info = {UP_VERSION, start_time, o->health_stall_ms};
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

/* SIGUSR1 and every SIGHUP: open --log-file again (after logrotate moved
 * it); the old file is closed. */
static void reopen_log(const struct up_options *o, const char *why)
{
    if (!o->log_file[0])
        return;
    int r = up_log_reopen();
    if (r != UP_OK)
        up_log(UP_LOG_ERROR, "%s: cannot reopen --log-file '%s': %s (still writing to the old file)", why, o->log_file,
               up_strerror(r));
    else
        up_log(UP_LOG_INFO, "%s: log file %s reopened", why, o->log_file);
}

/* The drain after a stop request, still taking signals: a second stop
 * request ends it at once (what is left counts as dropped_shutdown). */
static void drain(struct up_proxy *p, const struct up_options *o)
{
    up_log(UP_LOG_INFO, "stopping: draining queues (up to %u ms; stop again to skip)", o->drain_ms);
    up_proxy_stop_begin(p);
    while (!up_proxy_drained(p)) {
        int ev = up_ctrl_wait(50);
        if (ev == UP_CTRL_STOP) {
            up_log(UP_LOG_WARN, "second stop request: ending the drain now, what is queued is dropped "
                                "(counted in dropped_shutdown)");
            up_proxy_stop_now(p);
            break;
        }
        if (ev == UP_CTRL_REOPEN)
            reopen_log(o, "SIGUSR1");
    }
    up_proxy_stop(p);
}

/* How often the control thread does its periodic work (up_proxy_tick). */
#define TICK_MS 1000

/* SIGHUP: the file is read and its names resolved on the resolver thread
 * (a lookup may hang while DNS is down: signals must still be taken), then
 * applied here, on the control thread. Static: a job still running at exit
 * keeps its memory (resolver.h). */
struct reload_job {
    struct up_options n; /* the file's settings */
    int argc;
    char *const *argv;
    int rc;           /* UP_OK: n is ready to apply */
    char err[700];    /* else why not */
    atomic_int state; /* RELOAD_IDLE, _BUSY, _DONE */
};
enum { RELOAD_IDLE = 0, RELOAD_BUSY, RELOAD_DONE };
static struct reload_job job;

static void reload_read(void *arg)
{
    struct reload_job *j = arg;
    int r = up_config_load(&j->n, j->argc, j->argv, j->err, sizeof(j->err));
    if (r == UP_OPTIONS_RUN && j->n.cli_targets)
        up_log(UP_LOG_WARN, "reload: --target was given on the command line: the file's targets are ignored");
    if (r == UP_OPTIONS_RUN)
        r = up_options_resolve(&j->n, j->err, sizeof(j->err));
    j->rc = r;
    /* Release: n, rc and err are written before the control thread looks. */
    atomic_store_explicit(&j->state, RELOAD_DONE, memory_order_release);
}

/* Start reading the file; false when nothing was started (no file). */
static bool reload_begin(struct up_proxy *p, const struct up_options *o)
{
    if (!o->config[0]) {
        up_log(UP_LOG_WARN, "SIGHUP ignored: no --config file to reload");
        return false;
    }
    up_log(UP_LOG_INFO, "reload: reading %s", o->config);
    job.argc = o->argc;
    job.argv = o->argv;
    atomic_store_explicit(&job.state, RELOAD_BUSY, memory_order_relaxed);
    if (up_resolver_post(up_proxy_resolver(p), reload_read, &job) != UP_OK) {
        atomic_store_explicit(&job.state, RELOAD_IDLE, memory_order_relaxed);
        up_log(UP_LOG_ERROR, "reload failed, the running configuration stays: the resolver thread is busy");
        return false;
    }
    return true;
}

static void warn_open_source(const struct up_options *o);

/* The source and --allow count in effect (the control thread's copy). */
static struct {
    char source[UP_ADDR_TEXT_MAX];
    size_t nallow;
} running;

/* The file was read: apply it, or keep the running configuration and say why. */
static void reload_apply(struct up_proxy *p, struct up_options *o)
{
    struct up_options *n = &job.n;
    char err[700];
    int r = job.rc;
    if (r == UP_OK)
        r = up_proxy_reload(p, n, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "%s", job.err);
    atomic_store_explicit(&job.state, RELOAD_IDLE, memory_order_relaxed);
    if (r != UP_OK) {
        up_log(UP_LOG_ERROR, "reload failed, the running configuration stays: %s", err);
        return;
    }
    /* Newly open to every interface (a new source, or --allow gone): say so. */
    if (strcmp(n->source, running.source) != 0 || (running.nallow && !n->nallow))
        warn_open_source(n);
    snprintf(running.source, sizeof(running.source), "%s", n->source);
    running.nallow = n->nallow;
    if (n->log_level != o->log_level) {
        up_log(UP_LOG_INFO, "reload: --log-level %s -> %s", up_log_level_name(o->log_level),
               up_log_level_name(n->log_level));
        up_log_set_level(n->log_level);
    }
    if (n->stats_interval != o->stats_interval)
        up_log(UP_LOG_INFO, "reload: --stats-interval %u -> %u", o->stats_interval, n->stats_interval);
    if (n->resolve_interval != o->resolve_interval)
        up_log(UP_LOG_INFO, "reload: --resolve-interval %u -> %u", o->resolve_interval, n->resolve_interval);
    if (n->drain_ms != o->drain_ms)
        up_log(UP_LOG_INFO, "reload: --drain-timeout %u ms -> %u ms", o->drain_ms, n->drain_ms);
    o->log_level = n->log_level;
    o->stats_interval = n->stats_interval;
    o->resolve_interval = n->resolve_interval;
    o->drain_ms = n->drain_ms;
}

static void log_setting(void *ctx, const char *line)
{
    (void)ctx;
    if (strncmp(line, "warning: ", 9) == 0)
        up_log(UP_LOG_WARN, "setting: %s", line + 9);
    else
        up_log(UP_LOG_INFO, "setting: %s", line);
}

/* A source on every interface takes datagrams from any host that can
 * reach the port: fine behind a firewall, a surprise elsewhere. */
static void warn_open_source(const struct up_options *o)
{
    const struct up_addr *a = &o->source_addr;
    bool any = a->any_host;
    if (a->ss.ss_family == AF_INET)
        any = any || ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    else if (a->ss.ss_family == AF_INET6)
        any = any || memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr, &in6addr_any, 16) == 0;
    if (any && o->nallow == 0)
        up_log(UP_LOG_WARN,
               "--source %s listens on every interface and --allow is not set: any host that can reach the port "
               "may send; restrict it with --allow NETWORK (e.g. --allow 10.0.0.0/8, repeatable) or a --source "
               "on one address (e.g. 127.0.0.1:PORT)",
               o->source);
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
    warn_open_source(o); /* before "listening on": logged by then */
    snprintf(running.source, sizeof(running.source), "%s", o->source);
    running.nallow = o->nallow;
    char src[80] = "?";
    up_proxy_source_addr(p, src, sizeof(src));
    up_log(UP_LOG_INFO, "udp-proxy %s listening on %s (%s), %zu target(s), %u reader(s), buffer %u, channel %u",
           UP_VERSION, o->source, src, o->ntargets, o->readers, (unsigned)o->buffer, (unsigned)o->channel_size);
    for (size_t i = 0; i < o->ntargets; i++) {
        char t[80] = "not resolved yet";
        if (o->target_addrs[i].len)
            up_addr_format((struct sockaddr *)&o->target_addrs[i].ss, t, sizeof(t));
        char opts[UP_ADDR_TEXT_MAX];
        up_target_opts_format(&o->target_opts[i], opts, sizeof(opts));
        up_log(UP_LOG_INFO, "target %s (%s)%s", o->targets[i], t, opts);
    }
    up_settings_describe(o, log_setting, NULL);
    up_log(UP_LOG_INFO, "setting: source receive buffer granted by the kernel: %d bytes (asked --rcvbuf %d)",
           up_proxy_source_rcvbuf(p), o->rcvbuf);
    if (ready)
        ready(ctx);

    struct up_stats *cur = &a, *prev = &b;
    up_proxy_snapshot(p, prev);
    uint64_t interval_ns = (uint64_t)o->stats_interval * 1000000000u;
    uint64_t next = up_now_ns() + interval_ns;
    uint64_t next_tick = up_now_ns() + (uint64_t)TICK_MS * 1000000u;
    bool reload_again = false; /* a SIGHUP came while the file was being read */
    for (;;) {
        uint64_t now = up_now_ns();
        int wait_ms = now >= next_tick ? 0 : (int)((next_tick - now) / 1000000u) + 1;
        if (interval_ns) {
            int w = now >= next ? 0 : (int)((next - now) / 1000000u) + 1;
            if (w < wait_ms)
                wait_ms = w;
        }
        int reading = atomic_load_explicit(&job.state, memory_order_acquire);
        if (reading != RELOAD_IDLE && wait_ms > 20)
            wait_ms = 20; /* pick the file's settings up soon after they are read */
        int ev = up_ctrl_wait(wait_ms);
        if (ev == UP_CTRL_STOP) {
            up_notify_stopping();
            break;
        }
        if (ev == UP_CTRL_REOPEN)
            reopen_log(o, "SIGUSR1");
        if (ev == UP_CTRL_REEXEC && reexec_ready()) {
            up_notify_reloading(); /* READY=1 comes from the new image */
            reexec = true;
            break;
        }
        if (ev == UP_CTRL_RELOAD) {
            reopen_log(o, "SIGHUP");
            if (reading != RELOAD_IDLE) {
                up_log(UP_LOG_INFO, "reload: still reading the file (a lookup is slow); one more reload follows");
                reload_again = true;
            } else {
                up_notify_reloading();
                if (!reload_begin(p, o))
                    up_notify_ready();
            }
        }
        /* Acquire: pairs with reload_read()'s release. */
        if (atomic_load_explicit(&job.state, memory_order_acquire) == RELOAD_DONE) {
            reload_apply(p, o);
            uint64_t want = (uint64_t)o->stats_interval * 1000000000u;
            if (want != interval_ns) {
                interval_ns = want;
                next = up_now_ns() + interval_ns;
            }
            if (!reload_again || !reload_begin(p, o))
                up_notify_ready();
            reload_again = false;
        }
        if (up_now_ns() >= next_tick) {
            up_proxy_tick(p);
            next_tick = up_now_ns() + (uint64_t)TICK_MS * 1000000u;
        }
        if (interval_ns && up_now_ns() >= next) {
            up_proxy_snapshot(p, cur);
            log_stats("stats", "stats+", cur, prev);
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
    if (reexec) {
        up_log(UP_LOG_INFO, "re-exec: draining queues (up to %u ms)", o->drain_ms);
        up_proxy_keep_sources(p);
        up_proxy_stop(p);
    } else {
        drain(p, o);
    }
    up_proxy_snapshot(p, cur);
    log_stats("final totals:", "final totals+:", cur, NULL);
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
