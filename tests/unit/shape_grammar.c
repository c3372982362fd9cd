/* shape_grammar.c - the otel output grammar checker (see shape_grammar.h). */
#include "shape_grammar.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t whylen, const char *what, const uint8_t *line, size_t n)
{
    snprintf(why, whylen, "%s in '%.*s'", what, (int)(n > 200 ? 200 : n), (const char *)line);
    return -1;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* decimal := digits ['.' digits*] | '.' digits, then [e [+-] digits]; finite. */
static bool decimal(const uint8_t *p, size_t n, bool sign)
{
    size_t i = 0, d = 0;
    if (sign && i < n && (p[i] == '-' || p[i] == '+'))
        i++;
    while (i < n && is_digit(p[i]))
        i++, d++;
    if (i < n && p[i] == '.')
        for (i++; i < n && is_digit(p[i]); i++)
            d++;
    if (!d)
        return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        while (i < n && is_digit(p[i]))
            i++, e++;
        if (!e)
            return false;
    }
    if (i != n || n >= 128)
        return false;
    char tmp[128];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return isfinite(strtod(tmp, NULL));
}

static int check_line(const struct up_shape_opts *o, const uint8_t *l, size_t n, char *why, size_t whylen)
{
    if (n > 65507)
        return fail(why, whylen, "line longer than 65507 bytes", l, n);
    size_t i = 0;
    while (i < n && l[i] != ':' && l[i] != '|')
        i++;
    if (i == 0 || i == n || l[i] != ':')
        return fail(why, whylen, "no name", l, n);
    if (l[0] == ' ' || l[0] == '\t' || l[0] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r')
        return fail(why, whylen, "blank at the line's ends", l, n);
    if ((n >= 3 && memcmp(l, "_e{", 3) == 0) || (n >= 3 && memcmp(l, "_sc", 3) == 0))
        return fail(why, whylen, "event or service check", l, n);
    size_t v0 = ++i;
    while (i < n && l[i] != '|')
        i++;
    if (i == n)
        return fail(why, whylen, "no type", l, n);
    const uint8_t *val = l + v0;
    size_t vn = i - v0;
    size_t t0 = ++i;
    while (i < n && l[i] != '|')
        i++;
    const uint8_t *type = l + t0;
    size_t tn = i - t0;
    bool c = tn == 1 && type[0] == 'c', g = tn == 1 && type[0] == 'g';
    bool h = tn == 1 && type[0] == 'h', d = tn == 1 && type[0] == 'd', ms = tn == 2 && !memcmp(type, "ms", 2);
    if (!(c || g || h || d || ms))
        return fail(why, whylen, "bad type", l, n);
    if (d && o->d_as_h)
        return fail(why, whylen, "type d with d-as-h", l, n);
    if (!decimal(val, vn, !g) && !(g && vn > 1 && val[0] == '-' && decimal(val + 1, vn - 1, false)))
        return fail(why, whylen, "bad value", l, n);
    /* Optional fields, in this order, each at most once. */
    int stage = 0; /* 1 @, 2 #, 3 c:, 4 T */
    while (i < n) {
        size_t f0 = ++i; /* after '|' */
        while (i < n && l[i] != '|')
            i++;
        const uint8_t *f = l + f0;
        size_t fn = i - f0;
        if (fn == 0)
            return fail(why, whylen, "empty field", l, n);
        if (f[0] == '@' && stage < 1) {
            if (!decimal(f + 1, fn - 1, false))
                return fail(why, whylen, "bad rate", l, n);
            stage = 1;
        } else if (f[0] == '#' && stage < 2) {
            if (fn == 1)
                return fail(why, whylen, "empty tag set", l, n);
            for (size_t a = 1; a < fn;) {
                size_t b = a;
                while (b < fn && f[b] != ',')
                    b++;
                const uint8_t *t = f + a;
                size_t tl = b - a;
                const uint8_t *colon = memchr(t, ':', tl);
                if (tl == 0)
                    return fail(why, whylen, "empty tag entry", l, n);
                if (colon == t)
                    return fail(why, whylen, "empty tag key", l, n);
                if ((!colon || colon == t + tl - 1) && o->bare_tags != UP_BARE_KEEP)
                    return fail(why, whylen, "bare tag", l, n);
                if (b == fn - 1)
                    return fail(why, whylen, "trailing comma", l, n);
                a = b + 1;
            }
            stage = 2;
        } else if (fn > 2 && f[0] == 'c' && f[1] == ':' && stage < 3 && o->keep_container_id) {
            stage = 3;
        } else if (f[0] == 'T' && stage < 4 && o->keep_timestamp && (c || g) && fn > 1) {
            for (size_t k = 1; k < fn; k++)
                if (!is_digit(f[k]))
                    return fail(why, whylen, "bad timestamp", l, n);
            stage = 4;
        } else {
            return fail(why, whylen, "field not allowed here", l, n);
        }
    }
    return 0;
}

int shape_grammar_check(const struct up_shape_opts *o, const uint8_t *out, size_t n, char *why, size_t whylen)
{
    if (n == 0)
        return 0;
    size_t pos = 0;
    for (;;) {
        const uint8_t *nl = memchr(out + pos, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - (out + pos)) : n - pos;
        if (len == 0)
            return fail(why, whylen, "empty line", out, n);
        if (check_line(o, out + pos, len, why, whylen) != 0)
            return -1;
        if (!nl)
            return 0;
        pos += len + 1;
    }
}
