/*
 * shape.h - per-target shaping of DogStatsD lines for other dialects, and
 * line packing (issue 11).
 *
 * Pure functions: bytes in, bytes out, counters. No allocation, no globals,
 * no I/O; the caller owns every buffer. The writer of a shaped target
 * (target_shape.c) calls them on its own thread; the reader never does.
 *
 * The otel dialect turns each DogStatsD line into lines an OpenTelemetry
 * Collector's statsd receiver parses (every version since about v0.55):
 *
 *     name:value|type[|@rate][|#k:v,...]      type in c, g, ms, h, d
 *
 * (plus |c:ID and |T<secs> when container-id=keep / timestamp=keep), joined
 * by '\n'. What cannot be repaired is dropped and counted by reason; every
 * repair is counted by rule (once per input line and rule). See
 * docs/METRICS.md and the README's dual-write section for the table.
 */
#ifndef UP_SHAPE_H
#define UP_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UP_SHAPE_LINE_MAX 65507u /* longest line that fits one UDP datagram (IPv4) */

enum up_dialect {
    UP_DIALECT_RAW = 0,  /* bytes as received */
    UP_DIALECT_OTEL = 1, /* the OTel statsd receiver's subset */
};

enum up_bare_tags {
    UP_BARE_TRUE = 0, /* #canary -> #canary:true */
    UP_BARE_DROP = 1, /* the entry is removed */
    UP_BARE_KEEP = 2, /* left as is (receiver with enable_simple_tags) */
};

/* One target's shaping options (--target ADDR,OPTION=VALUE...). */
struct up_shape_opts {
    int dialect;            /* enum up_dialect */
    bool keep_container_id; /* container-id=keep: |c:ID passes (receiver >= v0.96) */
    bool keep_timestamp;    /* timestamp=keep: |T<secs> passes on c and g (receiver >= v0.96) */
    int bare_tags;          /* enum up_bare_tags */
    bool d_as_h;            /* d-as-h=true: type d becomes h (receiver < v0.84) */
    uint32_t max_datagram;  /* max-datagram=BYTES: pack/split lines; 0 = off */
};

/* Why a line was dropped (label reason of udp_proxy_lines_dropped_total). */
enum up_shape_drop {
    UP_DROP_EVENT = 0,     /* _e{...}: an event */
    UP_DROP_SERVICE_CHECK, /* _sc|...: a service check */
    UP_DROP_SET,           /* |s: sets cannot be kept statelessly */
    UP_DROP_NAN_INF,       /* a NaN or infinite value */
    UP_DROP_UNKNOWN_TYPE,  /* a type other than c, g, ms, h, d, s */
    UP_DROP_MALFORMED,     /* no name, no value, a non-numeric value, a bad @rate, ... */
    UP_DROP_OVERSIZE,      /* a line (after shaping) longer than 65,507 bytes, or no room */
    UP_DROP_COUNT
};

/* What was repaired (label rule of udp_proxy_lines_rewritten_total). */
enum up_shape_rule {
    UP_RULE_PACKED = 0,     /* name:1:2:3|d expanded into one line per value */
    UP_RULE_CONTAINER_ID,   /* |c:ID stripped */
    UP_RULE_EXTERNAL_DATA,  /* |e:... stripped */
    UP_RULE_CARDINALITY,    /* |card:... stripped */
    UP_RULE_TIMESTAMP,      /* |T... stripped */
    UP_RULE_UNKNOWN_FIELD,  /* any other field stripped */
    UP_RULE_EMPTY_FIELD,    /* || or a trailing | (or an empty |#) removed */
    UP_RULE_EMPTY_TAG,      /* an empty tag entry (#a,,b) removed */
    UP_RULE_TRAILING_SPACE, /* \r or blanks at the ends of the line or of a tag removed */
    UP_RULE_MULTIPLE_TAGS,  /* several # fields: the last one kept */
    UP_RULE_MULTIPLE_RATES, /* several @ fields: the last one kept */
    UP_RULE_GAUGE_SIGN,     /* gauge +N -> N; -N -> 0 then -N */
    UP_RULE_BARE_TAG,       /* #canary -> canary:true (or removed) */
    UP_RULE_EMPTY_TAG_KEY,  /* #:v removed */
    UP_RULE_D_AS_H,         /* type d written as h */
    UP_RULE_COUNT
};

/* Counters of one shaping call (the caller adds them up). */
struct up_shape_counts {
    uint64_t lines_in;                 /* non-empty input lines */
    uint64_t lines_out;                /* lines written */
    uint64_t dropped[UP_DROP_COUNT];   /* input lines dropped, by reason */
    uint64_t rewritten[UP_RULE_COUNT]; /* input lines repaired, by rule */
};

/* Label values, indexed by the enums above. */
extern const char *const up_shape_drop_names[UP_DROP_COUNT];
extern const char *const up_shape_rule_names[UP_RULE_COUNT];

/* Shape one datagram in[0..len) (lines separated by '\n') by o->dialect
 * into out[0..cap): the lines kept, joined by '\n', no trailing newline.
 * UP_DIALECT_RAW copies the bytes. A line whose output does not fit in what
 * is left of out is dropped as a whole (counted oversize). Adds to *c
 * (not reset). Returns the bytes written (<= cap). Never reads outside
 * in[0..len) or writes outside out[0..cap). */
size_t up_shape_datagram(const struct up_shape_opts *o, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                         struct up_shape_counts *c);

/* Parse a value of the otel option `name` (container-id, timestamp,
 * bare-tags, d-as-h, dialect) into o. Returns 0, -1 for an unknown name or
 * -2 for a bad value. (max-datagram and name are parsed by the caller.) */
int up_shape_set_option(struct up_shape_opts *o, const char *name, const char *value);

/* ---- packing (max-datagram=BYTES) ---------------------------------------
 *
 * Joins the lines of consecutive datagrams with '\n' into datagrams of at
 * most max bytes. A datagram that fits is never split; a larger one is split
 * at line boundaries only; a line longer than max goes alone (dropped and
 * counted oversize when longer than 65,507 bytes). Pure: the caller owns
 * the arena and the output table, sends the packed datagrams and resets.
 */
struct up_pack_out {
    size_t off; /* into the arena */
    size_t len; /* bytes */
};

struct up_pack {
    uint8_t *arena;           /* caller's memory, arena_cap bytes */
    size_t arena_cap, used;   /* bytes used */
    struct up_pack_out *outs; /* caller's table, outs_cap entries */
    size_t outs_cap, nout;    /* datagrams packed so far */
    size_t max;               /* max datagram bytes (> 0) */
    bool open;                /* the last datagram may take more lines */
};

/* Set pk up over the caller's arena and table (empty). */
void up_pack_init(struct up_pack *pk, uint8_t *arena, size_t arena_cap, struct up_pack_out *outs, size_t outs_cap,
                  size_t max);

/* Start over (after the caller sent what was packed). */
void up_pack_reset(struct up_pack *pk);

/* Add one datagram's lines d[0..len) ('\n' between lines). Returns 0, or -1
 * when the arena or the table cannot take all of it: then nothing changed
 * (send, reset, add again; an empty pack takes any datagram of at most
 * arena_cap - 1 bytes whose lines need at most outs_cap datagrams).
 * Oversize lines are counted in c->dropped[UP_DROP_OVERSIZE] (c may be
 * NULL). *first_out receives the index of the first datagram holding part
 * of d (nout when d had nothing to send). */
int up_pack_add(struct up_pack *pk, const uint8_t *d, size_t len, size_t *first_out, struct up_shape_counts *c);

#endif
