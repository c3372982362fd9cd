/*
 * shape.c - DogStatsD -> otel line shaping and line packing (see shape.h).
 *
 * One input line at a time:
 *
 *   trim blanks -> event/service check? -> name:v1[:v2...] | type | fields...
 *        |                                        |
 *        +-- drop (reason) <-- no repair possible +-- keep the last @ and #,
 *                                                     strip c: e: card: T ...
 *   -> one output line per value: name:value|type[|@rate][|#tags][|c:][|T]
 *
 * Everything works on spans of the input; the output is written once, and
 * a line that does not fit is rolled back as a whole.
 */
#include "shape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const up_shape_drop_names[UP_DROP_COUNT] = {
    "event", "service_check", "set", "nan_inf", "unknown_type", "malformed", "oversize",
};

const char *const up_shape_rule_names[UP_RULE_COUNT] = {
    "packed",         "container_id", "external_data", "cardinality",    "timestamp",
    "unknown_field",  "empty_field",  "empty_tag",     "trailing_space", "multiple_tags",
    "multiple_rates", "gauge_sign",   "bare_tag",      "empty_tag_key",  "d_as_h",
};

struct span {
    const uint8_t *p;
    size_t n;
};

static bool blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool has_prefix(struct span s, const char *pre)
{
    size_t n = strlen(pre);
    return s.n >= n && memcmp(s.p, pre, n) == 0;
}

static bool span_is(struct span s, const char *word)
{
    return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

static bool lower_is(const uint8_t *p, size_t n, const char *word)
{
    if (n != strlen(word))
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (c != (uint8_t)word[i])
            return false;
    }
    return true;
}

enum num { NUM_OK = 0, NUM_NAN_INF = 1, NUM_BAD = 2 };

/* A decimal number: [+-]digits[.digits][e[+-]digits] (or .digits), finite.
 * NaN and infinities (words, or a value too large for a double) are
 * NUM_NAN_INF; anything else (hex, '_', empty) is NUM_BAD. */
static enum num check_number(const uint8_t *p, size_t n, bool sign_ok)
{
    size_t i = 0, digits = 0;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        if (!sign_ok)
            return NUM_BAD;
        i++;
    }
    if (lower_is(p + i, n - i, "nan") || lower_is(p + i, n - i, "inf") || lower_is(p + i, n - i, "infinity"))
        return NUM_NAN_INF;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++, digits++;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return NUM_BAD;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++, e++;
        if (e == 0)
            return NUM_BAD;
    }
    if (i != n)
        return NUM_BAD;
    /* Finite? Only a long or exponent form can overflow. */
    char tmp[128];
    if (n >= sizeof(tmp))
        return NUM_BAD;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    return isfinite(v) ? NUM_OK : NUM_NAN_INF;
}

/* Output cursor over out[0..cap): writes what fits, remembers overflow. */
struct out {
    uint8_t *buf;
    size_t cap, len;
    bool full;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* What one input line is made of (spans into the input). */
struct line {
    struct span name, values, type, rate, tags, cid, ts;
    bool has_tags;
    uint32_t rules; /* bit per enum up_shape_rule */
};

#define RULE(l, r) ((l)->rules |= 1u << (r))

/* Parse the fields after the type. Returns -1 (malformed) or 0. */
static int parse_fields(const struct up_shape_opts *o, struct line *l, struct span rest)
{
    bool seen_rate = false, seen_tags = false;
    while (rest.n) {
        /* rest starts right after a '|'. */
        const uint8_t *bar = memchr(rest.p, '|', rest.n);
        struct span f = {rest.p, bar ? (size_t)(bar - rest.p) : rest.n};
        if (bar) {
            rest.p = bar + 1;
            rest.n -= f.n + 1;
            if (rest.n == 0)
                RULE(l, UP_RULE_EMPTY_FIELD); /* trailing '|' */
        } else {
            rest.n = 0;
        }
        if (f.n == 0) {
            RULE(l, UP_RULE_EMPTY_FIELD);
        } else if (f.p[0] == '@') {
            if (check_number(f.p + 1, f.n - 1, false) != NUM_OK)
                return -1;
            if (seen_rate)
                RULE(l, UP_RULE_MULTIPLE_RATES);
            seen_rate = true;
            l->rate = (struct span){f.p + 1, f.n - 1};
        } else if (f.p[0] == '#') {
            if (seen_tags)
                RULE(l, UP_RULE_MULTIPLE_TAGS);
            seen_tags = true;
            l->has_tags = true;
            l->tags = (struct span){f.p + 1, f.n - 1};
        } else if (has_prefix(f, "c:")) {
            struct span id = {f.p + 2, f.n - 2};
            while (id.n && blank(id.p[id.n - 1]))
                id.n--;
            if (o->keep_container_id && id.n && !blank(id.p[0]))
                l->cid = id;
            else
                RULE(l, UP_RULE_CONTAINER_ID);
        } else if (has_prefix(f, "e:")) {
            RULE(l, UP_RULE_EXTERNAL_DATA);
        } else if (has_prefix(f, "card:")) {
            RULE(l, UP_RULE_CARDINALITY);
        } else if (f.p[0] == 'T') {
            bool digits = f.n > 1;
            for (size_t i = 1; i < f.n; i++)
                digits = digits && f.p[i] >= '0' && f.p[i] <= '9';
            bool typed = span_is(l->type, "c") || span_is(l->type, "g");
            if (o->keep_timestamp && digits && typed)
                l->ts = (struct span){f.p + 1, f.n - 1};
            else
                RULE(l, UP_RULE_TIMESTAMP);
        } else {
            RULE(l, UP_RULE_UNKNOWN_FIELD);
        }
    }
    return 0;
}

/* Write the tag entries of l (no "|#" if none is left). */
static void put_tags(const struct up_shape_opts *o, struct line *l, struct out *out)
{
    if (!l->has_tags)
        return;
    size_t mark = out->len;
    bool any = false;
    put(out, "|#", 2);
    struct span t = l->tags;
    if (t.n == 0)
        RULE(l, UP_RULE_EMPTY_FIELD); /* "|#" alone */
    while (t.n) {
        const uint8_t *comma = memchr(t.p, ',', t.n);
        struct span e = {t.p, comma ? (size_t)(comma - t.p) : t.n};
        if (comma) {
            t.p = comma + 1;
            t.n -= e.n + 1;
            if (t.n == 0)
                RULE(l, UP_RULE_EMPTY_TAG); /* trailing ',' */
        } else {
            t.n = 0;
        }
        size_t n0 = e.n;
        while (e.n && blank(e.p[0]))
            e.p++, e.n--;
        while (e.n && blank(e.p[e.n - 1]))
            e.n--;
        if (e.n != n0)
            RULE(l, UP_RULE_TRAILING_SPACE);
        if (e.n == 0) {
            RULE(l, UP_RULE_EMPTY_TAG);
            continue;
        }
        if (e.p[0] == ':') {
            RULE(l, UP_RULE_EMPTY_TAG_KEY);
            continue;
        }
        const uint8_t *colon = memchr(e.p, ':', e.n);
        bool bare = !colon || colon == e.p + e.n - 1; /* "canary" or "canary:" */
        if (bare && o->bare_tags != UP_BARE_KEEP) {
            RULE(l, UP_RULE_BARE_TAG);
            if (o->bare_tags == UP_BARE_DROP)
                continue;
            if (any)
                put(out, ",", 1);
            put(out, e.p, colon ? e.n - 1 : e.n);
            put_str(out, ":true");
            any = true;
            continue;
        }
        if (any)
            put(out, ",", 1);
        put(out, e.p, e.n);
        any = true;
    }
    if (!any && !out->full)
        out->len = mark; /* nothing left: no tag field */
}

/* One output line: name:value|type + the suffix. The suffix is written in
 * full the first time (*suffix_off == SIZE_MAX) and copied afterwards. */
static void put_line(const struct up_shape_opts *o, struct line *l, const uint8_t *v, size_t vn, struct out *out,
                     size_t *suffix_off, size_t *suffix_len, bool *first, struct up_shape_counts *c)
{
    size_t start = out->len;
    if (!*first)
        put(out, "\n", 1);
    put(out, l->name.p, l->name.n);
    put(out, ":", 1);
    put(out, v, vn);
    put(out, "|", 1);
    if (o->d_as_h && span_is(l->type, "d")) {
        RULE(l, UP_RULE_D_AS_H);
        put(out, "h", 1);
    } else {
        put(out, l->type.p, l->type.n);
    }
    if (*suffix_off == SIZE_MAX) {
        size_t s = out->len;
        if (l->rate.p) {
            put(out, "|@", 2);
            put(out, l->rate.p, l->rate.n);
        }
        put_tags(o, l, out);
        if (l->cid.p) {
            put(out, "|c:", 3);
            put(out, l->cid.p, l->cid.n);
        }
        if (l->ts.p) {
            put(out, "|T", 2);
            put(out, l->ts.p, l->ts.n);
        }
        *suffix_off = s;
        *suffix_len = out->len - s;
    } else if (!out->full) {
        put(out, out->buf + *suffix_off, *suffix_len); /* earlier bytes, no overlap */
    }
    size_t line_len = out->len - start - (*first ? 0 : 1);
    if (line_len > UP_SHAPE_LINE_MAX)
        out->full = true;
    *first = false;
    c->lines_out++;
}

/* Shape one trimmed, non-empty line into out. Returns the drop reason, or
 * UP_DROP_COUNT when the line was written. */
static int shape_line(const struct up_shape_opts *o, struct span s, uint32_t pre_rules, struct out *out, bool *first,
                      struct up_shape_counts *c)
{
    struct line l;
    memset(&l, 0, sizeof(l));
    l.rules = pre_rules;
    if (has_prefix(s, "_e{"))
        return UP_DROP_EVENT;
    if (has_prefix(s, "_sc")) /* as the agent: every line starting with _sc */
        return UP_DROP_SERVICE_CHECK;
    const uint8_t *colon = memchr(s.p, ':', s.n);
    const uint8_t *bar = memchr(s.p, '|', s.n);
    if (!colon || !bar || colon > bar || colon == s.p)
        return UP_DROP_MALFORMED;
    l.name = (struct span){s.p, (size_t)(colon - s.p)};
    l.values = (struct span){colon + 1, (size_t)(bar - colon - 1)};
    struct span rest = {bar + 1, s.n - (size_t)(bar + 1 - s.p)};
    const uint8_t *bar2 = memchr(rest.p, '|', rest.n);
    l.type = (struct span){rest.p, bar2 ? (size_t)(bar2 - rest.p) : rest.n};
    rest = bar2 ? (struct span){bar2 + 1, rest.n - l.type.n - 1} : (struct span){NULL, 0};
    if (bar2 && rest.n == 0)
        RULE(&l, UP_RULE_EMPTY_FIELD); /* "name:1|c|" */
    if (span_is(l.type, "s"))
        return UP_DROP_SET;
    bool gauge = span_is(l.type, "g");
    if (!gauge && !span_is(l.type, "c") && !span_is(l.type, "ms") && !span_is(l.type, "h") && !span_is(l.type, "d"))
        return l.type.n ? UP_DROP_UNKNOWN_TYPE : UP_DROP_MALFORMED;
    if (parse_fields(o, &l, rest) != 0)
        return UP_DROP_MALFORMED;

    /* Values: every one must be a finite number; empty entries are skipped. */
    size_t nvalues = 0;
    bool nan_inf = false;
    for (size_t i = 0; i < l.values.n;) {
        const uint8_t *e = memchr(l.values.p + i, ':', l.values.n - i);
        size_t vn = e ? (size_t)(e - (l.values.p + i)) : l.values.n - i;
        if (vn) {
            enum num k = check_number(l.values.p + i, vn, true);
            if (k == NUM_BAD)
                return UP_DROP_MALFORMED;
            nan_inf = nan_inf || k == NUM_NAN_INF;
            nvalues++;
        }
        i += vn + 1;
    }
    if (nvalues == 0)
        return UP_DROP_MALFORMED;
    if (nan_inf)
        return UP_DROP_NAN_INF;
    if (memchr(l.values.p, ':', l.values.n))
        RULE(&l, UP_RULE_PACKED);

    size_t suffix_off = SIZE_MAX, suffix_len = 0;
    uint64_t out_before = c->lines_out;
    for (size_t i = 0; i < l.values.n;) {
        const uint8_t *v = l.values.p + i;
        const uint8_t *e = memchr(v, ':', l.values.n - i);
        size_t vn = e ? (size_t)(e - v) : l.values.n - i;
        i += vn + 1;
        if (vn == 0)
            continue;
        if (gauge && v[0] == '+') {
            RULE(&l, UP_RULE_GAUGE_SIGN);
            v++, vn--;
        } else if (gauge && v[0] == '-') {
            /* Absolute, as at the agent: reset to 0, then subtract. */
            RULE(&l, UP_RULE_GAUGE_SIGN);
            put_line(o, &l, (const uint8_t *)"0", 1, out, &suffix_off, &suffix_len, first, c);
        }
        put_line(o, &l, v, vn, out, &suffix_off, &suffix_len, first, c);
    }
    if (out->full) {
        c->lines_out = out_before;
        return UP_DROP_OVERSIZE;
    }
    for (int r = 0; r < UP_RULE_COUNT; r++)
        if (l.rules & (1u << r))
            c->rewritten[r]++;
    return UP_DROP_COUNT;
}

size_t up_shape_datagram(const struct up_shape_opts *o, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                         struct up_shape_counts *c)
{
    if (o->dialect == UP_DIALECT_RAW) {
        size_t n = len < cap ? len : cap;
        if (n)
            memcpy(out, in, n);
        return n;
    }
    struct out w = {out, cap, 0, false};
    bool first = true;
    size_t pos = 0;
    while (pos < len) {
        const uint8_t *nl = memchr(in + pos, '\n', len - pos);
        struct span s = {in + pos, nl ? (size_t)(nl - (in + pos)) : len - pos};
        pos += s.n + 1;
        if (s.n == 0)
            continue; /* empty line (e.g. a trailing newline): nothing to count */
        uint32_t pre = 0;
        size_t n0 = s.n;
        while (s.n && blank(s.p[0]))
            s.p++, s.n--;
        while (s.n && blank(s.p[s.n - 1]))
            s.n--;
        if (s.n != n0)
            pre |= 1u << UP_RULE_TRAILING_SPACE;
        c->lines_in++;
        if (s.n == 0) {
            c->dropped[UP_DROP_MALFORMED]++; /* blanks only */
            continue;
        }
        size_t mark = w.len;
        bool was_first = first;
        int why = shape_line(o, s, pre, &w, &first, c);
        if (why != UP_DROP_COUNT) {
            w.len = mark; /* roll the whole line back */
            w.full = false;
            first = was_first;
            c->dropped[why]++;
        }
    }
    return w.len;
}

int up_shape_set_option(struct up_shape_opts *o, const char *name, const char *value)
{
    if (strcmp(name, "dialect") == 0) {
        if (strcmp(value, "raw") == 0)
            o->dialect = UP_DIALECT_RAW;
        else if (strcmp(value, "otel") == 0)
            o->dialect = UP_DIALECT_OTEL;
        else
            return -2;
        return 0;
    }
    if (strcmp(name, "container-id") == 0 || strcmp(name, "timestamp") == 0) {
        bool *b = name[0] == 'c' ? &o->keep_container_id : &o->keep_timestamp;
        if (strcmp(value, "strip") == 0)
            *b = false;
        else if (strcmp(value, "keep") == 0)
            *b = true;
        else
            return -2;
        return 0;
    }
    if (strcmp(name, "bare-tags") == 0) {
        if (strcmp(value, "true") == 0)
            o->bare_tags = UP_BARE_TRUE;
        else if (strcmp(value, "drop") == 0)
            o->bare_tags = UP_BARE_DROP;
        else if (strcmp(value, "keep") == 0)
            o->bare_tags = UP_BARE_KEEP;
        else
            return -2;
        return 0;
    }
    if (strcmp(name, "d-as-h") == 0) {
        if (strcmp(value, "true") == 0)
            o->d_as_h = true;
        else if (strcmp(value, "false") == 0)
            o->d_as_h = false;
        else
            return -2;
        return 0;
    }
    return -1;
}

/* ---- packing ----------------------------------------------------------- */

void up_pack_init(struct up_pack *pk, uint8_t *arena, size_t arena_cap, struct up_pack_out *outs, size_t outs_cap,
                  size_t max)
{
    memset(pk, 0, sizeof(*pk));
    pk->arena = arena;
    pk->arena_cap = arena_cap;
    pk->outs = outs;
    pk->outs_cap = outs_cap;
    pk->max = max;
}

void up_pack_reset(struct up_pack *pk)
{
    pk->used = 0;
    pk->nout = 0;
    pk->open = false;
}

/* Append bytes d[0..n) as (part of) a datagram: to the open one when it has
 * room, else as a new one. alone: close it after. Returns -1 when out of
 * arena or table. */
static int append(struct up_pack *pk, const uint8_t *d, size_t n, bool alone)
{
    struct up_pack_out *last = pk->nout ? &pk->outs[pk->nout - 1] : NULL;
    if (!alone && pk->open && last && last->len + 1 + n <= pk->max) {
        if (pk->used + 1 + n > pk->arena_cap)
            return -1;
        /* The open datagram is the arena's last bytes. */
        pk->arena[pk->used] = '\n';
        memcpy(pk->arena + pk->used + 1, d, n);
        pk->used += 1 + n;
        last->len += 1 + n;
        return 0;
    }
    if (pk->nout == pk->outs_cap || pk->used + n > pk->arena_cap)
        return -1;
    memcpy(pk->arena + pk->used, d, n);
    pk->outs[pk->nout].off = pk->used;
    pk->outs[pk->nout].len = n;
    pk->nout++;
    pk->used += n;
    pk->open = !alone;
    return 0;
}

int up_pack_add(struct up_pack *pk, const uint8_t *d, size_t len, size_t *first_out, struct up_shape_counts *c)
{
    size_t used = pk->used, nout = pk->nout, last_len = nout ? pk->outs[nout - 1].len : 0;
    bool open = pk->open;
    uint64_t oversize = 0;
    size_t first = SIZE_MAX;
    if (len == 0) {
        *first_out = pk->nout;
        return 0;
    }
    if (len <= pk->max) {
        /* Fits: never split. */
        bool joins = pk->open && pk->nout && pk->outs[pk->nout - 1].len + 1 + len <= pk->max;
        first = joins ? pk->nout - 1 : pk->nout;
        if (append(pk, d, len, false) != 0)
            goto full;
    } else {
        /* Too large: line by line, greedily; a line over max goes alone. */
        for (size_t pos = 0; pos < len;) {
            const uint8_t *nl = memchr(d + pos, '\n', len - pos);
            size_t n = nl ? (size_t)(nl - (d + pos)) : len - pos;
            const uint8_t *p = d + pos;
            pos += n + 1;
            if (n == 0)
                continue;
            if (n > UP_SHAPE_LINE_MAX) {
                oversize++;
                continue;
            }
            bool joins = n <= pk->max && pk->open && pk->nout && pk->outs[pk->nout - 1].len + 1 + n <= pk->max;
            if (first == SIZE_MAX)
                first = joins ? pk->nout - 1 : pk->nout;
            if (append(pk, p, n, n > pk->max) != 0)
                goto full;
        }
    }
    if (c)
        c->dropped[UP_DROP_OVERSIZE] += oversize;
    *first_out = first == SIZE_MAX ? pk->nout : first;
    return 0;
full:
    pk->used = used;
    pk->nout = nout;
    if (nout)
        pk->outs[nout - 1].len = last_len;
    pk->open = open;
    return -1;
}
