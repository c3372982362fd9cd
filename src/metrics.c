/*
 * metrics.c - the exported metric list and the Prometheus text exposition
 * (see metrics.h). Pure: formats a snapshot, nothing else.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Getters: one per snapshot field. */
#define PROC(field)                                                                                                    \
    static uint64_t get_##field(const struct up_stats *s, size_t i)                                                    \
    {                                                                                                                  \
        (void)i;                                                                                                       \
        return (uint64_t)s->field;                                                                                     \
    }
#define TARGET(field)                                                                                                  \
    static uint64_t get_t_##field(const struct up_stats *s, size_t i)                                                  \
    {                                                                                                                  \
        return (uint64_t)s->targets[i].field;                                                                          \
    }
PROC(received)
PROC(received_bytes)
PROC(oversize)
PROC(no_buffer)
PROC(recv_errors)
PROC(source_bound)
PROC(not_allowed)
TARGET(sent)
TARGET(sent_bytes)
TARGET(dropped_queue_full)
TARGET(dropped_send_error)
TARGET(dropped_shutdown)
TARGET(queue_depth)
TARGET(queue_capacity)
TARGET(writer_alive)
TARGET(resolve_failures)
TARGET(sent_packets)
TARGET(lines_in)
TARGET(lines_out)
#undef PROC
#undef TARGET

/* Shaped targets (issue 11): one getter per reason and rule. */
#define LINES(kind, k)                                                                                                 \
    static uint64_t get_t_##kind##_##k(const struct up_stats *s, size_t i)                                             \
    {                                                                                                                  \
        return s->targets[i].kind[k];                                                                                  \
    }
LINES(lines_dropped, 0)
LINES(lines_dropped, 1)
LINES(lines_dropped, 2)
LINES(lines_dropped, 3)
LINES(lines_dropped, 4)
LINES(lines_dropped, 5)
LINES(lines_dropped, 6)
LINES(lines_rewritten, 0)
LINES(lines_rewritten, 1)
LINES(lines_rewritten, 2)
LINES(lines_rewritten, 3)
LINES(lines_rewritten, 4)
LINES(lines_rewritten, 5)
LINES(lines_rewritten, 6)
LINES(lines_rewritten, 7)
LINES(lines_rewritten, 8)
LINES(lines_rewritten, 9)
LINES(lines_rewritten, 10)
LINES(lines_rewritten, 11)
LINES(lines_rewritten, 12)
LINES(lines_rewritten, 13)
LINES(lines_rewritten, 14)
#undef LINES
_Static_assert(UP_DROP_COUNT == 7 && UP_RULE_COUNT == 15, "one getter and one up_metrics entry per reason and rule");

static uint64_t get_reader_kernel_drops(const struct up_stats *s, size_t i)
{
    return s->reader_kernel_drops[i];
}

static uint64_t get_reader_received(const struct up_stats *s, size_t i)
{
    return s->reader_received ? s->reader_received[i] : 0;
}

#define DROP_HELP "Input lines a shaped target did not send, by reason (dialect=otel, max-datagram)."
#define RULE_HELP "Input lines a shaped target repaired, by rule (dialect=otel)."
const struct up_metric up_metrics[] = {
    {"received_datagrams", "Datagrams received on the source and accepted for forwarding.", UP_METRIC_COUNTER,
     UP_METRIC_PROCESS, NULL, get_received},
    {"received_bytes", "Bytes of the datagrams received and accepted for forwarding.", UP_METRIC_COUNTER,
     UP_METRIC_PROCESS, NULL, get_received_bytes},
    {"oversize_datagrams", "Datagrams larger than --buffer: dropped, never forwarded cut.", UP_METRIC_COUNTER,
     UP_METRIC_PROCESS, NULL, get_oversize},
    {"no_buffer_datagrams", "Datagrams dropped because no buffer was free (should stay 0).", UP_METRIC_COUNTER,
     UP_METRIC_PROCESS, NULL, get_no_buffer},
    {"receive_errors", "Failed receive calls on the source socket(s).", UP_METRIC_COUNTER, UP_METRIC_PROCESS, NULL,
     get_recv_errors},
    {"not_allowed_datagrams", "Datagrams from senders outside --allow: dropped, not forwarded.", UP_METRIC_COUNTER,
     UP_METRIC_PROCESS, NULL, get_not_allowed},
    {"kernel_receive_drops", "Datagrams the kernel dropped because a source socket's receive buffer was full.",
     UP_METRIC_COUNTER, UP_METRIC_READER, NULL, get_reader_kernel_drops},
    {"reader_received_datagrams",
     "Datagrams each reader (source socket) received and accepted: how SO_REUSEPORT spreads the load.",
     UP_METRIC_COUNTER, UP_METRIC_READER, NULL, get_reader_received},
    {"source_bound", "1 while the source is bound and receiving, 0 while stopping.", UP_METRIC_GAUGE, UP_METRIC_PROCESS,
     NULL, get_source_bound},
    {"sent_datagrams", "Datagrams sent to the target (accepted by the kernel).", UP_METRIC_COUNTER, UP_METRIC_TARGET,
     NULL, get_t_sent},
    {"sent_bytes", "Bytes of the datagrams sent to the target.", UP_METRIC_COUNTER, UP_METRIC_TARGET, NULL,
     get_t_sent_bytes},
    {"dropped_datagrams", "Datagrams not sent to the target, by reason.", UP_METRIC_COUNTER, UP_METRIC_TARGET,
     "queue_full", get_t_dropped_queue_full},
    {"dropped_datagrams", "Datagrams not sent to the target, by reason.", UP_METRIC_COUNTER, UP_METRIC_TARGET,
     "send_error", get_t_dropped_send_error},
    {"dropped_datagrams", "Datagrams not sent to the target, by reason.", UP_METRIC_COUNTER, UP_METRIC_TARGET,
     "shutdown", get_t_dropped_shutdown},
    {"queue_depth", "Datagrams waiting in the target's queues now.", UP_METRIC_GAUGE, UP_METRIC_TARGET, NULL,
     get_t_queue_depth},
    {"queue_capacity", "Datagrams the target's queues can hold.", UP_METRIC_GAUGE, UP_METRIC_TARGET, NULL,
     get_t_queue_capacity},
    {"writer_up", "1 while the target's writer thread runs.", UP_METRIC_GAUGE, UP_METRIC_TARGET, NULL,
     get_t_writer_alive},
    {"resolve_failures", "Failed lookups of the target's host name (the last good address is kept).", UP_METRIC_COUNTER,
     UP_METRIC_TARGET, NULL, get_t_resolve_failures},
    {"sent_packets", "Datagrams put on the wire for the target (packed: fewer than sent_datagrams).", UP_METRIC_COUNTER,
     UP_METRIC_TARGET, NULL, get_t_sent_packets},
    {"lines", "DogStatsD lines a dialect=otel target looked at (in) and wrote (out).", UP_METRIC_COUNTER,
     UP_METRIC_TARGET, "in", get_t_lines_in},
    {"lines", "DogStatsD lines a dialect=otel target looked at (in) and wrote (out).", UP_METRIC_COUNTER,
     UP_METRIC_TARGET, "out", get_t_lines_out},
    {"lines_dropped", DROP_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "event", get_t_lines_dropped_0},
    {"lines_dropped", DROP_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "service_check", get_t_lines_dropped_1},
    {"lines_dropped", DROP_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "set", get_t_lines_dropped_2},
    {"lines_dropped", DROP_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "nan_inf", get_t_lines_dropped_3},
    {"lines_dropped", DROP_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "unknown_type", get_t_lines_dropped_4},
    {"lines_dropped", DROP_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "malformed", get_t_lines_dropped_5},
    {"lines_dropped", DROP_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "oversize", get_t_lines_dropped_6},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "packed", get_t_lines_rewritten_0},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "container_id", get_t_lines_rewritten_1},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "external_data", get_t_lines_rewritten_2},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "cardinality", get_t_lines_rewritten_3},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "timestamp", get_t_lines_rewritten_4},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "unknown_field", get_t_lines_rewritten_5},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "empty_field", get_t_lines_rewritten_6},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "empty_tag", get_t_lines_rewritten_7},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "trailing_space", get_t_lines_rewritten_8},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "multiple_tags", get_t_lines_rewritten_9},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "multiple_rates", get_t_lines_rewritten_10},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "gauge_sign", get_t_lines_rewritten_11},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "bare_tag", get_t_lines_rewritten_12},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "empty_tag_key", get_t_lines_rewritten_13},
    {"lines_rewritten", RULE_HELP, UP_METRIC_COUNTER, UP_METRIC_TARGET, "d_as_h", get_t_lines_rewritten_14},
};
const size_t up_metrics_count = sizeof(up_metrics) / sizeof(up_metrics[0]);

/* Output cursor: counts the whole length, writes what fits. */
struct out {
    char *buf;
    size_t size, len;
    int max; /* render the longest possible numbers (for the bound) */
};

static void put_raw(struct out *o, const char *s, size_t n)
{
    if (o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void put_str(struct out *o, const char *s)
{
    put_raw(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, o->max ? UINT64_MAX : v);
    put_raw(o, tmp, (size_t)n);
}

/* A label value between quotes, escaped. */
static void put_label(struct out *o, const char *v)
{
    for (; *v; v++) {
        if (o->max) {
            put_raw(o, "\\\\", 2); /* every byte could need two */
            continue;
        }
        switch (*v) {
        case '\\': put_raw(o, "\\\\", 2); break;
        case '"': put_raw(o, "\\\"", 2); break;
        case '\n': put_raw(o, "\\n", 2); break;
        default: put_raw(o, v, 1);
        }
    }
}

static void put_header(struct out *o, const char *name, const char *help, const char *type)
{
    put_str(o, "# HELP ");
    put_str(o, name);
    put_str(o, " ");
    put_str(o, help); /* our own texts: no backslash or newline to escape */
    put_str(o, "\n# TYPE ");
    put_str(o, name);
    put_str(o, " ");
    put_str(o, type);
    put_str(o, "\n");
}

static void put_name(struct out *o, const struct up_metric *m)
{
    put_str(o, "udp_proxy_");
    put_str(o, m->name);
    if (m->type == UP_METRIC_COUNTER)
        put_str(o, "_total");
}

/* One sample line of metric m for reader/target i. */
static void put_sample(struct out *o, const struct up_stats *s, const struct up_metric *m, size_t i)
{
    char idx[24];
    put_name(o, m);
    if (m->scope != UP_METRIC_PROCESS || m->reason) {
        const char *sep = "{";
        if (m->scope == UP_METRIC_TARGET) {
            put_str(o, "{target=\"");
            put_label(o, s->targets[i].name);
            put_str(o, "\"");
            sep = ",";
        } else if (m->scope == UP_METRIC_READER) {
            snprintf(idx, sizeof(idx), "%llu", (unsigned long long)i);
            put_str(o, "{reader=\"");
            put_str(o, idx);
            put_str(o, "\"");
            sep = ",";
        }
        if (m->reason) {
            put_str(o, sep);
            put_str(o, up_metric_label(m));
            put_str(o, "=\"");
            put_str(o, m->reason);
            put_str(o, "\"");
        }
        put_str(o, "}");
    }
    put_str(o, " ");
    put_u64(o, m->get(s, i));
    put_str(o, "\n");
}

static void render(struct out *o, const struct up_stats *s, const struct up_metrics_info *info)
{
    char full[96];
    for (size_t a = 0; a < up_metrics_count;) {
        /* One family: up_metrics[a..b) share the name. */
        size_t b = a + 1;
        while (b < up_metrics_count && strcmp(up_metrics[b].name, up_metrics[a].name) == 0)
            b++;
        const struct up_metric *m = &up_metrics[a];
        size_t n = m->scope == UP_METRIC_TARGET ? s->ntargets : m->scope == UP_METRIC_READER ? s->nreaders : 1;
        size_t have = 0;
        for (size_t i = 0; i < n; i++)
            have += o->max || up_metric_applies(m, s, i); /* the bound: any target may be shaped */
        if (up_metric_shaping_only(m) && !have) {
            a = b; /* no shaped target: not exported */
            continue;
        }
        snprintf(full, sizeof(full), "udp_proxy_%s%s", m->name, m->type == UP_METRIC_COUNTER ? "_total" : "");
        put_header(o, full, m->help, m->type == UP_METRIC_COUNTER ? "counter" : "gauge");
        for (size_t i = 0; i < n; i++)
            for (size_t k = a; k < b && (o->max || up_metric_applies(m, s, i)); k++)
                put_sample(o, s, &up_metrics[k], i);
        a = b;
    }
    put_header(o, "process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", "gauge");
    char t[40];
    snprintf(t, sizeof(t), "%.3f", o->max ? 9999999999.999 : info->start_time);
    put_str(o, "process_start_time_seconds ");
    put_str(o, t);
    put_str(o, "\n");
    put_header(o, "udp_proxy_build_info", "Always 1; the version label tells the build.", "gauge");
    put_str(o, "udp_proxy_build_info{version=\"");
    put_label(o, info->version);
    put_str(o, "\"} 1\n");
}

size_t up_metrics_render(const struct up_stats *s, const struct up_metrics_info *info, char *buf, size_t size)
{
    struct out o = {buf, size, 0, 0};
    render(&o, s, info);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}

size_t up_metrics_render_bound(const struct up_stats *s, const struct up_metrics_info *info)
{
    struct out o = {NULL, 0, 0, 1};
    render(&o, s, info);
    return o.len + 1;
}

size_t up_metrics_escape_label(const char *v, char *buf, size_t size)
{
    struct out o = {buf, size, 0, 0};
    put_label(&o, v);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}
