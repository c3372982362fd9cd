/* promtext.c - Prometheus text format 0.0.4 parser (see promtext.h). */
#include "promtext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* A cursor over one line: [p, end). */
struct cur {
    const char *p, *end;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_blanks(struct cur *c)
{
    while (c->p < c->end && is_blank(*c->p))
        c->p++;
}

static int name_char(char ch, int first, int colon)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (colon && ch == ':'))
        return 1;
    return !first && ch >= '0' && ch <= '9';
}

/* A metric name (colon: ':' allowed) or a label name. Returns its length, 0 if none. */
static size_t take_name(struct cur *c, int colon)
{
    const char *s = c->p;
    while (c->p < c->end && name_char(*c->p, c->p == s, colon))
        c->p++;
    return (size_t)(c->p - s);
}

static int fail(char *err, size_t errlen, size_t line, const char *why)
{
    snprintf(err, errlen, "line %zu: %s", line, why);
    return UP_EINVAL;
}

/* The quoted label value at c (after the opening quote), unescaped into
 * room[*used..]. Returns UP_OK or an error text in *why. */
static int take_value(struct cur *c, struct up_prom_sample *s, size_t *used, struct up_prom_label *l, const char **why)
{
    char *out = s->room + *used;
    size_t n = 0, room = UP_PROM_VALUES_ROOM - *used;
    for (;;) {
        if (c->p >= c->end) {
            *why = "label value without its closing quote";
            return UP_EINVAL;
        }
        char ch = *c->p++;
        if (ch == '"')
            break;
        if (ch == '\\') {
            if (c->p >= c->end) {
                *why = "label value without its closing quote";
                return UP_EINVAL;
            }
            char e = *c->p++;
            if (e == 'n')
                ch = '\n';
            else if (e == '\\' || e == '"')
                ch = e;
            else {
                *why = "bad escape in a label value (only \\\\, \\\" and \\n)";
                return UP_EINVAL;
            }
        }
        if (n + 1 >= room) {
            *why = "label values too long";
            return UP_EINVAL;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    l->value = out;
    l->value_len = n;
    *used += n + 1;
    return UP_OK;
}

/* A float token: digits, sign, '.', exponent, or NaN / +Inf / -Inf. */
static int take_number(struct cur *c, double *v)
{
    char tmp[64];
    size_t n = 0;
    while (c->p < c->end && !is_blank(*c->p)) {
        if (n + 1 >= sizeof(tmp))
            return UP_EINVAL;
        tmp[n++] = *c->p++;
    }
    tmp[n] = '\0';
    if (n == 0)
        return UP_EINVAL;
    if (strcmp(tmp, "NaN") == 0 || strcmp(tmp, "+Inf") == 0 || strcmp(tmp, "-Inf") == 0 || strcmp(tmp, "Inf") == 0) {
        *v = strtod(tmp[0] == 'N' ? "nan" : tmp[0] == '-' ? "-inf" : "inf", NULL);
        return UP_OK;
    }
    /* Only what the format allows: no hex, no "infinity", no blanks. */
    for (size_t i = 0; i < n; i++) {
        char ch = tmp[i];
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-'))
            return UP_EINVAL;
    }
    char *end = NULL;
    *v = strtod(tmp, &end);
    return end == tmp + n ? UP_OK : UP_EINVAL;
}

static int parse_sample(struct cur *c, struct up_prom_sample *s, const char **why)
{
    s->nlabels = 0;
    s->name = c->p;
    s->name_len = take_name(c, 1);
    if (s->name_len == 0) {
        *why = "expected a metric name";
        return UP_EINVAL;
    }
    skip_blanks(c);
    if (c->p < c->end && *c->p == '{') {
        size_t used = 0;
        c->p++;
        for (;;) {
            skip_blanks(c);
            if (c->p < c->end && *c->p == '}') {
                c->p++;
                break;
            }
            if (s->nlabels == UP_PROM_LABELS_MAX) {
                *why = "too many labels";
                return UP_EINVAL;
            }
            struct up_prom_label *l = &s->labels[s->nlabels];
            l->name = c->p;
            l->name_len = take_name(c, 0);
            if (l->name_len == 0) {
                *why = "expected a label name or '}'";
                return UP_EINVAL;
            }
            skip_blanks(c);
            if (c->p >= c->end || *c->p != '=') {
                *why = "expected '=' after a label name";
                return UP_EINVAL;
            }
            c->p++;
            skip_blanks(c);
            if (c->p >= c->end || *c->p != '"') {
                *why = "expected a quoted label value";
                return UP_EINVAL;
            }
            c->p++;
            if (take_value(c, s, &used, l, why) != UP_OK)
                return UP_EINVAL;
            s->nlabels++;
            skip_blanks(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == '}') {
                c->p++;
                break;
            }
            *why = "expected ',' or '}' after a label";
            return UP_EINVAL;
        }
    }
    skip_blanks(c);
    if (take_number(c, &s->value) != UP_OK) {
        *why = "expected a number as the value";
        return UP_EINVAL;
    }
    skip_blanks(c);
    if (c->p < c->end) {
        double ts;
        if (take_number(c, &ts) != UP_OK) {
            *why = "expected a timestamp or the end of the line after the value";
            return UP_EINVAL;
        }
        skip_blanks(c);
        if (c->p < c->end) {
            *why = "unexpected text after the timestamp";
            return UP_EINVAL;
        }
    }
    return UP_OK;
}

int up_prom_parse(const char *text, size_t len, struct up_prom_sample *scratch, up_prom_fn fn, void *ctx, char *err,
                  size_t errlen)
{
    size_t pos = 0, line = 0;
    while (pos < len) {
        line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct cur c = {text + pos, text + end};
        if (c.end > c.p && c.end[-1] == '\r')
            c.end--;
        pos = nl ? end + 1 : len;
        skip_blanks(&c);
        if (c.p == c.end || *c.p == '#')
            continue;
        const char *why = "malformed";
        if (parse_sample(&c, scratch, &why) != UP_OK)
            return fail(err, errlen, line, why);
        int r = fn(ctx, scratch);
        if (r != 0)
            return r;
    }
    return UP_OK;
}

int up_prom_name_is(const struct up_prom_sample *s, const char *name)
{
    size_t n = strlen(name);
    return s->name_len == n && memcmp(s->name, name, n) == 0;
}

const char *up_prom_label(const struct up_prom_sample *s, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < s->nlabels; i++)
        if (s->labels[i].name_len == n && memcmp(s->labels[i].name, name, n) == 0)
            return s->labels[i].value;
    return NULL;
}
