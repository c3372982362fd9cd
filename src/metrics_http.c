/* metrics_http.c - /metrics and /healthz answered from proxy snapshots (see metrics_http.h). */
#include "metrics_http.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

struct up_metrics_http {
    struct up_proxy *proxy;
    struct up_metrics_info info;
    struct up_stats snap; /* used by the server thread only */
    size_t max_body;
};

int up_metrics_http_new(struct up_proxy *p, const struct up_metrics_info *info, struct up_metrics_http **out)
{
    struct up_metrics_http *m = up_calloc(1, sizeof(*m));
    if (!m)
        return UP_ENOMEM;
    m->proxy = p;
    m->info = *info;
    m->snap.targets = up_calloc(up_proxy_target_count(p), sizeof(*m->snap.targets));
    m->snap.reader_kernel_drops = up_calloc(up_proxy_reader_count(p), sizeof(*m->snap.reader_kernel_drops));
    m->snap.reader_received = up_calloc(up_proxy_reader_count(p), sizeof(*m->snap.reader_received));
    if (!m->snap.targets || !m->snap.reader_kernel_drops || !m->snap.reader_received) {
        up_metrics_http_free(m);
        return UP_ENOMEM;
    }
    up_proxy_snapshot(p, &m->snap);
    m->max_body = up_metrics_render_bound(&m->snap, &m->info);
    /* With a config file a reload may bring up to UP_TARGETS_MAX targets
     * with names of any length: the bound covers the worst of them (the
     * bound renders every value at its longest, so only the count and the
     * length of the names matter). */
    size_t room = up_proxy_target_count(p);
    if (room > m->snap.ntargets) {
        struct up_stats worst = m->snap;
        for (size_t i = 0; i < room; i++) {
            memset(worst.targets[i].name, 'x', UP_NAME_MAX - 1);
            worst.targets[i].name[UP_NAME_MAX - 1] = '\0';
        }
        worst.ntargets = room;
        size_t b = up_metrics_render_bound(&worst, &m->info);
        if (b > m->max_body)
            m->max_body = b;
    }
    *out = m;
    return UP_OK;
}

size_t up_metrics_http_max_body(const struct up_metrics_http *m)
{
    return m->max_body;
}

void up_metrics_http_handle(void *ctx, const struct up_http_request *req, struct up_http_reply *reply)
{
    struct up_metrics_http *m = ctx;
    bool metrics = up_http_target_is(req->target, req->target_len, "/metrics");
    bool healthz = up_http_target_is(req->target, req->target_len, "/healthz");
    if (!metrics && !healthz) {
        up_http_reply_text(reply, 404, "not found: try /metrics or /healthz\n");
        return;
    }
    bool get = req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
    bool head = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    if (!get && !head) {
        up_http_reply_text(reply, 405, "method not allowed: use GET or HEAD\n");
        reply->allow = "GET, HEAD";
        return;
    }
    up_proxy_snapshot(m->proxy, &m->snap);
    if (metrics) {
        size_t n = up_metrics_render(&m->snap, &m->info, reply->body, reply->body_cap);
        if (n >= reply->body_cap) { /* cannot happen: body_cap >= the bound */
            up_http_reply_text(reply, 500, "metrics too large for the buffer\n");
            return;
        }
        reply->status = 200;
        reply->content_type = UP_METRICS_CONTENT_TYPE;
        reply->body_len = n;
        return;
    }
    if (!m->snap.source_bound) {
        up_http_reply_text(reply, 503, "unavailable: the source is not receiving (stopping)\n");
        return;
    }
    for (size_t i = 0; i < m->snap.ntargets; i++)
        if (!m->snap.targets[i].writer_alive) {
            char text[UP_NAME_MAX + 64];
            snprintf(text, sizeof(text), "unavailable: the writer of target %s is not running\n",
                     m->snap.targets[i].name);
            up_http_reply_text(reply, 503, text);
            return;
        }
    for (size_t i = 0; m->info.health_stall_ms && i < m->snap.ntargets; i++) {
        const struct up_stats_target *t = &m->snap.targets[i];
        if (t->stalled_ms >= m->info.health_stall_ms) {
            char text[UP_NAME_MAX + 160];
            snprintf(text, sizeof(text),
                     "unavailable: target %s has sent nothing for %.1f s while %llu datagram(s) were queued for it "
                     "(--health-stall)\n",
                     t->name, (double)t->stalled_ms / 1000.0, (unsigned long long)t->queue_depth);
            up_http_reply_text(reply, 503, text);
            return;
        }
    }
    up_http_reply_text(reply, 200, "ok\n");
}

void up_metrics_http_free(struct up_metrics_http *m)
{
    if (!m)
        return;
    up_free(m->snap.targets);
    up_free(m->snap.reader_kernel_drops);
    up_free(m->snap.reader_received);
    up_free(m);
}
