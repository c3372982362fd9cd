/*
 * target_shape.c - shaping and packing on a target's writer thread (see
 * target_shape.h).
 *
 *   batch of queued packets --copy/shape--> shaped[] --pack--> arena
 *        (one at a time)                                    |  outs[]
 *                                                           v
 *                                        sendmmsg(64) on the target socket
 *
 * A datagram's packed lines never straddle two flushes (up_pack_add takes
 * all of it or nothing), so each original is accounted once: sent when
 * all its packed datagrams went out, a send error if one of them failed.
 */
#include "target_shape.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "pool.h"
#include "target.h"

#define SHAPED_CAP (256u << 10) /* one datagram's shaped lines (expansion room) */
#define ARENA_CAP (512u << 10)  /* packed datagrams of one flush */
/* Greedy packing: two neighbours hold more than max (>= 512) bytes, so an
 * arena needs at most this many datagrams. */
#define OUTS_CAP (2u * ARENA_CAP / 511u + 2u)

struct up_tshape {
    struct up_shape_opts opts;
    uint8_t *joined;            /* [65536]: a two-part packet made contiguous */
    uint8_t *shaped;            /* [SHAPED_CAP] */
    uint8_t *arena;             /* [ARENA_CAP] */
    struct up_pack_out *outs;   /* [OUTS_CAP] */
    struct up_dgram *odg;       /* [OUTS_CAP] */
    uint8_t *failed;            /* [OUTS_CAP]: 1 when that packed datagram was not sent */
    size_t lo[UP_BATCH];        /* first packed datagram of each original in the pack */
    size_t hi[UP_BATCH];        /* one past its last (lo == hi: nothing to send) */
    struct up_pack pk;          /* over arena and outs */
    struct up_shape_counts acc; /* scratch for one shaping call */
    /* Writer-owned counters (relaxed single-writer stores, see stats.h). */
    up_counter lines_in, lines_out, sent_packets;
    up_counter dropped[UP_DROP_COUNT];
    up_counter rewritten[UP_RULE_COUNT];
};

int up_tshape_new(const struct up_shape_opts *o, struct up_tshape **out)
{
    struct up_tshape *s = up_calloc(1, sizeof(*s));
    if (!s)
        return UP_ENOMEM;
    s->opts = *o;
    s->joined = up_calloc(1, 65536);
    s->shaped = up_calloc(1, SHAPED_CAP);
    s->arena = up_calloc(1, ARENA_CAP);
    s->outs = up_calloc(OUTS_CAP, sizeof(*s->outs));
    s->odg = up_calloc(OUTS_CAP, sizeof(*s->odg));
    s->failed = up_calloc(OUTS_CAP, 1);
    if (!s->joined || !s->shaped || !s->arena || !s->outs || !s->odg || !s->failed) {
        up_tshape_free(s);
        return UP_ENOMEM;
    }
    /* max-datagram 0: each datagram alone, split only past 65,507 bytes. */
    up_pack_init(&s->pk, s->arena, ARENA_CAP, s->outs, OUTS_CAP, o->max_datagram ? o->max_datagram : UP_SHAPE_LINE_MAX);
    *out = s;
    return UP_OK;
}

void up_tshape_free(struct up_tshape *s)
{
    if (!s)
        return;
    up_free(s->joined);
    up_free(s->shaped);
    up_free(s->arena);
    up_free(s->outs);
    up_free(s->odg);
    up_free(s->failed);
    up_free(s);
}

/* Send the packed datagrams; mark the ones that failed. Returns how many
 * were handled (all, unless the drain deadline passed). */
static size_t send_packed(struct up_target *t, struct up_tshape *s, bool *give_up)
{
    struct up_target_counters *c = &t->by_writer.c;
    size_t n = s->pk.nout, done = 0, packets = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        UP_BUF_SET(s->odg[i].iov[0], s->arena + s->outs[i].off, s->outs[i].len);
        s->odg[i].iovcnt = 1;
        s->odg[i].len = (uint32_t)s->outs[i].len;
        s->odg[i].flags = 0;
        s->failed[i] = 0;
    }
    while (done < n) {
        size_t chunk = n - done < UP_BATCH ? n - done : UP_BATCH;
        int r = up_udp_send_batch(t->sock, t->io, s->odg + done, chunk);
        if (r > 0) {
            for (int i = 0; i < r; i++)
                bytes += s->odg[done + (size_t)i].len;
            done += (size_t)r;
            packets += (size_t)r;
            continue;
        }
        if (r == UP_EAGAIN) {
            if (atomic_load_explicit(&t->state, memory_order_acquire) != UP_TARGET_RUN &&
                up_now_ns() >= atomic_load_explicit(&t->drain_deadline_ns, memory_order_relaxed)) {
                *give_up = true;
                break;
            }
            up_sock_wait(t->sock, true, 100);
            continue;
        }
        /* As up_target_send(): one failed datagram (all of them without a peer). */
        size_t failed = r == UP_ENOTCONN ? n - done : 1;
        if (t->is_unix && (r == UP_ECONNREFUSED || r == UP_ENOTCONN || r == UP_ENOENT) &&
            !atomic_load_explicit(&t->reconnect, memory_order_relaxed))
            atomic_store_explicit(&t->reconnect, 1, memory_order_relaxed);
        up_log_limited(&t->rl, UP_LOG_WARN, "target %s: send failed: %s (counted in dropped_send_error)", t->name,
                       up_strerror(r));
        memset(s->failed + done, 1, failed);
        done += failed;
    }
    if (packets) {
        up_counter_add(&s->sent_packets, packets);
        up_counter_add(&c->sent_bytes, bytes);
    }
    return done;
}

/* Send what is packed and account originals [first, end). Returns how many
 * of them are handled. */
static size_t flush(struct up_target *t, struct up_tshape *s, size_t first, size_t end, bool *give_up)
{
    struct up_target_counters *c = &t->by_writer.c;
    size_t done = send_packed(t, s, give_up);
    size_t ok = 0, bad = 0, handled = 0;
    for (size_t j = first; j < end; j++) {
        if (s->hi[j] > done)
            break; /* not (fully) sent: the drain deadline passed */
        bool failed = false;
        for (size_t k = s->lo[j]; k < s->hi[j] && !failed; k++)
            failed = s->failed[k];
        if (failed)
            bad++;
        else
            ok++;
        handled++;
    }
    if (ok)
        up_counter_add(&c->sent, ok);
    if (bad)
        up_counter_add(&c->dropped_send_error, bad);
    up_pack_reset(&s->pk);
    return handled;
}

static void add_counts(struct up_tshape *s)
{
    struct up_shape_counts *a = &s->acc;
    if (a->lines_in)
        up_counter_add(&s->lines_in, a->lines_in);
    if (a->lines_out)
        up_counter_add(&s->lines_out, a->lines_out);
    for (int i = 0; i < UP_DROP_COUNT; i++)
        if (a->dropped[i])
            up_counter_add(&s->dropped[i], a->dropped[i]);
    for (int i = 0; i < UP_RULE_COUNT; i++)
        if (a->rewritten[i])
            up_counter_add(&s->rewritten[i], a->rewritten[i]);
}

size_t up_tshape_send(struct up_target *t, size_t n, bool *give_up)
{
    struct up_tshape *s = t->shaper;
    size_t handled = 0, first = 0; /* originals [first, i) are in the pack */
    memset(&s->acc, 0, sizeof(s->acc));
    up_pack_reset(&s->pk);
    for (size_t i = 0; i < n; i++) {
        const struct up_packet *p = t->batch[i];
        const uint8_t *d = p->data;
        size_t len = p->len;
        if (len > UP_SLOT_SIZE) {
            memcpy(s->joined, p->data, UP_SLOT_SIZE);
            memcpy(s->joined + UP_SLOT_SIZE, p->large, len - UP_SLOT_SIZE);
            d = s->joined;
        }
        if (s->opts.dialect != UP_DIALECT_RAW) {
            len = up_shape_datagram(&s->opts, d, len, s->shaped, SHAPED_CAP, &s->acc);
            d = s->shaped;
        }
        size_t lo;
        if (up_pack_add(&s->pk, d, len, &lo, &s->acc) != 0) {
            size_t h = flush(t, s, first, i, give_up);
            handled += h;
            if (*give_up)
                goto out;
            first = i;
            if (up_pack_add(&s->pk, d, len, &lo, &s->acc) != 0) {
                /* Cannot happen with the sizes above; never loop on it. */
                s->acc.dropped[UP_DROP_OVERSIZE]++;
                lo = s->pk.nout;
            }
        }
        s->lo[i] = lo < s->pk.nout ? lo : s->pk.nout;
        s->hi[i] = s->pk.nout;
        if (!s->opts.max_datagram)
            s->pk.open = false; /* no packing: one datagram in, one out */
    }
    handled += flush(t, s, first, n, give_up);
out:
    add_counts(s);
    return handled;
}

void up_tshape_snapshot(const struct up_tshape *s, struct up_stats_target *st)
{
    st->lines_in += up_counter_get(&s->lines_in);
    st->lines_out += up_counter_get(&s->lines_out);
    st->sent_packets += up_counter_get(&s->sent_packets);
    for (int i = 0; i < UP_DROP_COUNT; i++)
        st->lines_dropped[i] += up_counter_get(&s->dropped[i]);
    for (int i = 0; i < UP_RULE_COUNT; i++)
        st->lines_rewritten[i] += up_counter_get(&s->rewritten[i]);
}
