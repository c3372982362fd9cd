/*
 * stats.h - counters of what came in, went out and was lost.
 *
 * Each counter has exactly one writer thread (a reader or a writer), which
 * bumps it with a relaxed load and store: no locked instruction on the hot
 * path. Readers of the stats (the stats log, a metrics exporter) load them
 * relaxed and sum over threads. Counters only grow, so a sum taken while
 * traffic flows is a consistent lower bound, and exact once traffic stops.
 *
 * Identities (exact after a drain):
 *   per target: sent + dropped_queue_full + dropped_send_error
 *               + dropped_shutdown == received
 *   oversize, no_buffer and not_allowed datagrams are not counted as
 *   received: they were never forwarded anywhere and have counters of their
 *   own.
 * Targets come and go on reload: a removed target leaves the snapshot once
 * it has drained (its final counters are logged then); an added one starts
 * at zero. So the per-target identity holds for targets that were there
 * all along; the stats line matches targets by name, not position.
 */
#ifndef UP_STATS_H
#define UP_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shape.h"

typedef atomic_uint_fast64_t up_counter;

/* Single-writer increment (see above). */
static inline void up_counter_add(up_counter *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

static inline uint64_t up_counter_get(const up_counter *c)
{
    return atomic_load_explicit((up_counter *)c, memory_order_relaxed);
}

/* Written by one reader thread. */
struct up_reader_counters {
    up_counter received;       /* datagrams accepted for forwarding */
    up_counter received_bytes; /* their bytes */
    up_counter oversize;       /* larger than --buffer: not forwarded */
    up_counter no_buffer;      /* no free buffer: not forwarded (should stay 0) */
    up_counter recv_errors;    /* failed receive calls */
    up_counter not_allowed;    /* sender outside --allow: not forwarded */
};

/* Per target, one copy per thread that touches the target. */
struct up_target_counters {
    up_counter sent;               /* datagrams the kernel accepted */
    up_counter sent_bytes;         /* their bytes */
    up_counter dropped_queue_full; /* queue full when the reader offered it */
    up_counter dropped_send_error; /* the send failed (refused, unreachable...) */
    up_counter dropped_shutdown;   /* still queued when the drain timed out */
};

#define UP_NAME_MAX 320 /* longest target name, with NUL */

/* A point-in-time sum of every counter, for logging and exporting. */
struct up_stats_target {
    char name[UP_NAME_MAX]; /* as the operator wrote it */
    uint64_t sent, sent_bytes, dropped_queue_full, dropped_send_error, dropped_shutdown;
    uint64_t queue_depth;      /* datagrams queued now, all readers */
    uint64_t queue_capacity;   /* datagrams the queues hold, all readers */
    uint64_t resolve_failures; /* lookups of the target's name that failed (last address kept) */
    int writer_alive;          /* 1 while the writer thread runs */
    uint64_t stalled_ms;       /* datagrams are queued and the writer has sent none for this long
                                * (ms, coarse: per batch); 0 when it keeps up or has nothing to do */
    /* Shaped or packed targets (issue 11; zero for a plain raw target). */
    int shaped;                              /* 0 plain, 1 packed raw, 2 otel (the line counters apply) */
    uint64_t sent_packets;                   /* datagrams on the wire (sent counts the originals) */
    uint64_t lines_in, lines_out;            /* lines looked at, lines written (otel) */
    uint64_t lines_dropped[UP_DROP_COUNT];   /* input lines not sent, by reason */
    uint64_t lines_rewritten[UP_RULE_COUNT]; /* input lines repaired, by rule */
};

struct up_stats {
    double taken_at; /* wall clock, seconds */
    uint64_t received, received_bytes, oversize, no_buffer, recv_errors, not_allowed;
    uint64_t kernel_drops; /* receive-buffer overflows the kernel counted since start */
    size_t ntargets;
    struct up_stats_target *targets; /* ntargets entries, owned by the caller */
    /* For the exporters (metrics.c, selfstats.c); zero/NULL when unused. */
    int source_bound;              /* 1 while the source is bound and the readers receive */
    size_t nreaders;               /* entries filled in reader_kernel_drops (0 if it is NULL) */
    uint64_t *reader_kernel_drops; /* per source socket, cumulative; room for up_proxy_reader_count()
                                    * entries, owned by the caller; NULL: not wanted */
    uint64_t *reader_received;     /* per reader, its share of `received`; same room and owner as
                                    * reader_kernel_drops; NULL: not wanted (then exported as 0) */
};

/* Index of the target called `name` in s (hint: where it probably is), or
 * s->ntargets when s has none: a reload adds and removes targets, so two
 * snapshots are matched by name, not by position. */
size_t up_stats_target_index(const struct up_stats *s, const char *name, size_t hint);

/* Append "key=value" pairs of (cur - prev) to buf (prev may be NULL:
 * totals). A counter smaller than in prev (a target re-added under the
 * same name) counts as new: its value is its delta. Returns the length
 * written (truncated at size). */
size_t up_stats_format_delta(const struct up_stats *cur, const struct up_stats *prev, char *buf, size_t size);

/* For a shaped or packed target i of cur: "target=NAME lines_in=..
 * lines_out=.. lines_dropped_REASON=.. lines_rewritten_RULE=.." (deltas as
 * above; reasons and rules only once seen). Kept off the main line, which
 * has a bounded length. Returns the length written, 0 for a plain target. */
size_t up_stats_format_lines(const struct up_stats *cur, const struct up_stats *prev, size_t i, char *buf, size_t size);

/* The longest text of one target's " target=NAME key=value..." entry. */
#define UP_STATS_TARGET_TEXT_MAX (UP_NAME_MAX + 10 * 24 + 160)

/* The same text in parts that each fit in `size` (at least
 * UP_STATS_TARGET_TEXT_MAX + 1), never cutting a target's entry: the
 * first part (*next == 0) holds the process counters and the targets that
 * fit, each following part the next targets. *next is the first target
 * not yet written: call again while *next < cur->ntargets. Returns the
 * length of this part. */
size_t up_stats_format_part(const struct up_stats *cur, const struct up_stats *prev, size_t *next, char *buf,
                            size_t size);

/* Advance a 64-bit total from a 32-bit counter that wraps (the kernel's
 * per-socket drop count): adds the difference since *last, modulo 2^32. */
static inline void up_counter32_advance(uint64_t *total, uint32_t *last, uint32_t now)
{
    *total += (uint32_t)(now - *last);
    *last = now;
}

#endif
