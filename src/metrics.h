/*
 * metrics.h - the one list of exported metrics, and the Prometheus text
 * exposition (format 0.0.4) of a stats snapshot.
 *
 * up_metrics[] names every exported value once; the Prometheus renderer
 * (here) and the DogStatsD self-metrics (selfstats.c) both walk it, so the
 * two exports, the stats log line and the final line all read the same
 * snapshot fields (struct up_stats, filled by up_proxy_snapshot()).
 *
 * Prometheus names: "udp_proxy_" + name, plus "_total" for counters.
 * Labels: target="<as the operator wrote it>" on per-target metrics,
 * reader="<index>" on per-source-socket metrics, reason="..." on drops
 * (rule="..." on line rewrites, direction="in|out" on lines).
 */
#ifndef UP_METRICS_H
#define UP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stats.h"

enum up_metric_type {
    UP_METRIC_COUNTER = 0, /* only grows (exact totals since start) */
    UP_METRIC_GAUGE = 1,   /* a current value */
};

enum up_metric_scope {
    UP_METRIC_PROCESS = 0, /* one value */
    UP_METRIC_READER = 1,  /* one value per source socket (label reader) */
    UP_METRIC_TARGET = 2,  /* one value per target (label target) */
};

struct up_metric {
    const char *name;           /* base name, e.g. "received_datagrams" */
    const char *help;           /* one line, for # HELP */
    enum up_metric_type type;   /* counter or gauge */
    enum up_metric_scope scope; /* how many values, which label */
    const char *reason;         /* value of the reason label, or NULL */
    /* The value for reader/target i (ignored for PROCESS) in s. */
    uint64_t (*get)(const struct up_stats *s, size_t i);
};

/* The name of the label whose value is m->reason: "rule" for the line
 * rewrites, "direction" for the lines in and out, else "reason". */
static inline const char *up_metric_label(const struct up_metric *m)
{
    if (m->name[0] == 'l' && m->name[1] == 'i') { /* lines, lines_rewritten */
        if (m->name[5] == '\0')
            return "direction";
        if (m->name[6] == 'r')
            return "rule";
    }
    return "reason";
}

/* Only shaped or packed targets (issue 11) have sent_packets and
 * lines_dropped (packing counts oversize lines); only dialect=otel ones
 * have lines and lines_rewritten. A plain target exports none of them. */
static inline bool up_metric_shaping_only(const struct up_metric *m)
{
    return strncmp(m->name, "lines", 5) == 0 || strcmp(m->name, "sent_packets") == 0;
}

/* Does metric m have a value for reader/target i of s? */
static inline bool up_metric_applies(const struct up_metric *m, const struct up_stats *s, size_t i)
{
    if (m->scope != UP_METRIC_TARGET || !up_metric_shaping_only(m))
        return true;
    bool otel_only = strcmp(m->name, "lines") == 0 || strcmp(m->name, "lines_rewritten") == 0;
    return s->targets[i].shaped > (otel_only ? 1 : 0);
}

/* Every exported value. Entries with the same name (the dropped reasons)
 * are adjacent: together they form one metric family. */
extern const struct up_metric up_metrics[];
extern const size_t up_metrics_count;

/* What the snapshot does not hold. */
struct up_metrics_info {
    const char *version;      /* build version, for udp_proxy_build_info */
    double start_time;        /* process start, seconds since the Unix epoch */
    unsigned health_stall_ms; /* --health-stall: /healthz fails for a target stalled this long; 0 = off */
};

#define UP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Render s as Prometheus text into buf[0..size) (NUL-terminated when
 * size > 0). Returns the length of the whole text; a return value >= size
 * means it was cut. */
size_t up_metrics_render(const struct up_stats *s, const struct up_metrics_info *info, char *buf, size_t size);

/* The longest text up_metrics_render() can produce for snapshots with the
 * targets and readers of s (names as in s, any counter values), plus one
 * for the NUL: a buffer of this size is never too small. */
size_t up_metrics_render_bound(const struct up_stats *s, const struct up_metrics_info *info);

/* Write `v` with Prometheus label-value escaping (\\, \", \n) into buf.
 * Returns the escaped length (which may exceed size: then cut). */
size_t up_metrics_escape_label(const char *v, char *buf, size_t size);

#endif
