/*
 * selfstats.h - the proxy's own counters sent as DogStatsD (--statsd-self).
 *
 * A thread of its own wakes every interval, takes a snapshot (the same one
 * the stats log line and /metrics use) and sends, for each entry of
 * up_metrics[] (metrics.h):
 *   counters  PREFIX NAME ":" delta-since-last-report "|c" [ "|#" tags ]
 *   gauges    PREFIX NAME ":" current-value          "|g" [ "|#" tags ]
 * tags: target:<name>, reader:<index>, reason:<reason>. Lines are packed into
 * datagrams of at most UP_SELFSTATS_PAYLOAD bytes, separated by '\n' (as
 * the DogStatsD agent accepts). On stop, a last report carries what
 * happened since the previous one, so the counter deltas received add up to
 * the final totals exactly. Never touches the data path; send errors (no
 * agent listening) are counted in nothing and logged rate-limited.
 */
#ifndef UP_SELFSTATS_H
#define UP_SELFSTATS_H

#include <stddef.h>

#include "addr.h"
#include "proxy.h"
#include "stats.h"

#define UP_SELFSTATS_PAYLOAD 1432  /* bytes per datagram: fits a 1500-byte MTU */
#define UP_SELFSTATS_PREFIX_MAX 64 /* longest prefix, with NUL */

/* Called once per line (without newline); the line lives until it returns. */
typedef void (*up_selfstats_emit)(void *ctx, const char *line, size_t len);

/* Format every metric of cur as DogStatsD lines: counters as cur - prev
 * (prev NULL: since zero), gauges as in cur. prefix is prepended to each
 * name. Tag values have ',', '|', '#', ' ' and control bytes replaced by '_'. */
void up_selfstats_format(const struct up_stats *cur, const struct up_stats *prev, const char *prefix,
                         up_selfstats_emit emit, void *ctx);

struct up_selfstats;

/* Open a UDP socket connected to addr for proxy p; reports every
 * interval_ms. Returns UP_OK or an error with a message in err. The caller
 * owns *out (up_selfstats_free). */
int up_selfstats_new(struct up_proxy *p, const struct up_addr *addr, unsigned interval_ms, const char *prefix,
                     struct up_selfstats **out, char *err, size_t errlen);
int up_selfstats_start(struct up_selfstats *s);
/* Send the last report and stop the thread. Idempotent. */
void up_selfstats_stop(struct up_selfstats *s);
void up_selfstats_free(struct up_selfstats *s);

#endif
