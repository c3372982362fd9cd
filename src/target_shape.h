/*
 * target_shape.h - the writer side of a shaped or packed target (issue 11).
 *
 * A target with dialect=otel or max-datagram>0 has no zero-copy path: its
 * writer copies each queued datagram through the shaper (shape.c) into
 * memory this module owns, packs the lines into datagrams of at most
 * max-datagram bytes, and sends them with one sendmmsg per 64. Everything
 * is allocated when the target is made; nothing per datagram. The reader
 * never sends to such a target itself (no inline path), so the shaping
 * cost lands on this target's writer thread alone.
 *
 * Accounting: `sent` still counts original datagrams (a datagram counts
 * as sent once every packed datagram holding its lines was accepted by the
 * kernel, and also when the shaper dropped all its lines: those are in
 * lines_dropped), so sent + drops == received holds per target.
 * sent_packets and sent_bytes count what went on the wire.
 */
#ifndef UP_TARGET_SHAPE_H
#define UP_TARGET_SHAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "shape.h"
#include "stats.h"

struct up_target;
struct up_tshape;

/* Make the writer state for options o. Returns UP_OK or UP_ENOMEM. */
int up_tshape_new(const struct up_shape_opts *o, struct up_tshape **out);

/* Free it (NULL is fine). */
void up_tshape_free(struct up_tshape *s);

/* Writer thread: shape, pack and send the n packets of t->batch. Waits for
 * socket room like the plain writer. Returns how many of the n datagrams
 * were handled (counted as sent or as send errors); fewer than n only when
 * the target drains and its deadline passed (*give_up is set: the caller
 * counts the rest in dropped_shutdown). */
size_t up_tshape_send(struct up_target *t, size_t n, bool *give_up);

/* Add the line counters and sent_packets into st (any thread). */
void up_tshape_snapshot(const struct up_tshape *s, struct up_stats_target *st);

#endif
