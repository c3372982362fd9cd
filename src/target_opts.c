/* target_opts.c - parsing of --target ADDR[,OPTION=VALUE...] (see target_opts.h). */
#include "target_opts.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"

static const char *const names[] = {"name",      "dialect",   "max-datagram", "container-id",
                                    "timestamp", "bare-tags", "d-as-h"};
#define NOPTS (sizeof(names) / sizeof(names[0]))
#define OPTION_LIST "name, dialect, max-datagram, container-id, timestamp, bare-tags, d-as-h"

static int find(const char *s, size_t n)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
            return (int)i;
    return -1;
}

/* Does s (just after a ',') start with a known "name="? */
static bool starts_option(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq && find(s, (size_t)(eq - s)) >= 0;
}

static bool label_char(char c)
{
    return c > ' ' && c < 0x7f && c != ',' && c != '"' && c != '\\' && c != '|' && c != '#' && c != '=';
}

static int set_one(struct up_target_opts *to, int which, const char *val, char *err, size_t errlen)
{
    const char *name = names[which];
    if (which == 0) {
        size_t n = strlen(val);
        bool ok = n > 0 && n < UP_LABEL_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = label_char(val[i]);
        if (!ok) {
            snprintf(err, errlen,
                     "name: '%.100s' is not a usable label (1..%d printable characters, no blank, ',', '=', '\"', "
                     "'\\', '|' or '#')",
                     val, UP_LABEL_MAX - 1);
            return -1;
        }
        memcpy(to->name, val, n + 1);
        return 0;
    }
    if (which == 2) {
        unsigned long v = 0;
        bool ok = val[0] != '\0';
        for (const char *c = val; ok && *c; c++) {
            ok = *c >= '0' && *c <= '9' && v <= 1000000;
            v = v * 10 + (unsigned long)(*c - '0');
        }
        if (!ok || (v != 0 && (v < 512 || v > UP_SHAPE_LINE_MAX))) {
            snprintf(err, errlen, "max-datagram: '%.40s' is not 0 (off) or a size of 512..%u bytes", val,
                     (unsigned)UP_SHAPE_LINE_MAX);
            return -1;
        }
        to->shape.max_datagram = (uint32_t)v;
        return 0;
    }
    int r = up_shape_set_option(&to->shape, name, val);
    if (r != 0) {
        const char *choices = which == 1   ? "raw or otel"
                              : which == 5 ? "true, drop or keep"
                              : which == 6 ? "true or false"
                                           : "strip or keep";
        snprintf(err, errlen, "%s: '%.60s' is not %s", name, val, choices);
        return -1;
    }
    return 0;
}

int up_target_opts_parse(const char *spec, char *addr, size_t addrlen, struct up_target_opts *to, char *err,
                         size_t errlen)
{
    char why[400];
    memset(to, 0, sizeof(*to));
    const char *comma = strchr(spec, ',');
    if (comma && up_addr_is_unix(spec))
        while (comma && !starts_option(comma + 1))
            comma = strchr(comma + 1, ',');
    size_t alen = comma ? (size_t)(comma - spec) : strlen(spec);
    if (alen >= addrlen) {
        snprintf(err, errlen, "--target: '%.60s...': the address is longer than %zu bytes", spec, addrlen - 1);
        return -1;
    }
    memcpy(addr, spec, alen);
    addr[alen] = '\0';
    bool seen[NOPTS] = {false};
    char opt[UP_ADDR_TEXT_MAX];
    while (comma) {
        const char *s = comma + 1;
        comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n >= sizeof(opt)) {
            snprintf(err, errlen, "--target '%s': an option is longer than %zu bytes", addr, sizeof(opt) - 1);
            return -1;
        }
        memcpy(opt, s, n);
        opt[n] = '\0';
        char *eq = strchr(opt, '=');
        int which = find(opt, eq ? (size_t)(eq - opt) : n);
        if (which < 0) {
            snprintf(err, errlen, "--target '%s': unknown option '%.*s' (options: " OPTION_LIST ")", addr,
                     (int)(eq ? (size_t)(eq - opt) : n), opt);
            return -1;
        }
        if (!eq) {
            snprintf(err, errlen, "--target '%s': option '%s' needs a value (%s=VALUE)", addr, opt, opt);
            return -1;
        }
        if (seen[which]) {
            snprintf(err, errlen, "--target '%s': option '%s' is given twice", addr, names[which]);
            return -1;
        }
        seen[which] = true;
        if (set_one(to, which, eq + 1, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "--target '%s': option %s", addr, why);
            return -1;
        }
    }
    /* The otel choices (container-id .. d-as-h) mean nothing to a raw target. */
    for (size_t i = 3; i < NOPTS; i++)
        if (seen[i] && to->shape.dialect != UP_DIALECT_OTEL) {
            snprintf(err, errlen, "--target '%s': option '%s' needs dialect=otel", addr, names[i]);
            return -1;
        }
    return 0;
}

bool up_target_opts_equal(const struct up_target_opts *a, const struct up_target_opts *b)
{
    const struct up_shape_opts *x = &a->shape, *y = &b->shape;
    return strcmp(a->name, b->name) == 0 && x->dialect == y->dialect && x->max_datagram == y->max_datagram &&
           x->keep_container_id == y->keep_container_id && x->keep_timestamp == y->keep_timestamp &&
           x->bare_tags == y->bare_tags && x->d_as_h == y->d_as_h;
}

bool up_target_opts_shaped(const struct up_target_opts *to)
{
    return to->shape.dialect != UP_DIALECT_RAW || to->shape.max_datagram != 0;
}

void up_target_opts_format(const struct up_target_opts *to, char *buf, size_t size)
{
    static const char *const bare[] = {"true", "drop", "keep"};
    const struct up_shape_opts *s = &to->shape;
    size_t off = 0;
    int n;
    buf[0] = '\0';
#define PUT(...)                                                                                                       \
    do {                                                                                                               \
        n = snprintf(buf + off, size - off, __VA_ARGS__);                                                              \
        if (n > 0)                                                                                                     \
            off = off + (size_t)n < size ? off + (size_t)n : size - 1;                                                 \
    } while (0)
    if (to->name[0])
        PUT(",name=%s", to->name);
    if (s->dialect == UP_DIALECT_OTEL)
        PUT(",dialect=otel");
    if (s->max_datagram)
        PUT(",max-datagram=%u", (unsigned)s->max_datagram);
    if (s->keep_container_id)
        PUT(",container-id=keep");
    if (s->keep_timestamp)
        PUT(",timestamp=keep");
    if (s->bare_tags != UP_BARE_TRUE)
        PUT(",bare-tags=%s", bare[s->bare_tags % 3]);
    if (s->d_as_h)
        PUT(",d-as-h=true");
#undef PUT
}
