/*
 * metrics_http.h - the /metrics and /healthz endpoints: the HTTP handler
 * that answers from a fresh snapshot of the proxy.
 *
 *   GET|HEAD /metrics  200, Prometheus text (metrics.h)
 *   GET|HEAD /healthz  200 "ok" while the source is bound and every writer
 *                      thread is alive (and, with --health-stall, no target
 *                      has had datagrams queued without sending any for
 *                      that long), 503 with the reason (naming the target)
 *                      otherwise
 *   other paths        404;  other methods on these paths: 405 (Allow)
 */
#ifndef UP_METRICS_HTTP_H
#define UP_METRICS_HTTP_H

#include <stddef.h>

#include "http.h"
#include "metrics.h"
#include "proxy.h"

struct up_metrics_http;

/* Make the endpoint state for proxy p (snapshot room for its targets and
 * readers). info->version must outlive it. Returns UP_OK or UP_ENOMEM. The
 * caller owns *out and frees it after the server has stopped. */
int up_metrics_http_new(struct up_proxy *p, const struct up_metrics_info *info, struct up_metrics_http **out);

/* Room the /metrics body can need (for up_http_config.max_body). */
size_t up_metrics_http_max_body(const struct up_metrics_http *m);

/* The up_http_handler; ctx is the struct up_metrics_http. */
void up_metrics_http_handle(void *ctx, const struct up_http_request *req, struct up_http_reply *reply);

void up_metrics_http_free(struct up_metrics_http *m);

#endif
