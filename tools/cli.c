/* cli.c - flag parsing for the tools and bench references (see cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void up_cli_fail(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
    exit(2);
}

/* Digits with an optional fraction; *scaled = value * scale (truncated).
 * Returns the rest of the text, or NULL when no digit starts it or the
 * value passes limit. */
static const char *parse_scaled(const char *s, uint64_t scale, uint64_t limit, uint64_t *scaled)
{
    uint64_t whole = 0, frac = 0, div = 1;
    if (*s < '0' || *s > '9')
        return NULL;
    for (; *s >= '0' && *s <= '9'; s++) {
        whole = whole * 10 + (uint64_t)(*s - '0');
        if (whole > limit)
            return NULL;
    }
    if (*s == '.' && scale > 1) {
        s++;
        if (*s < '0' || *s > '9')
            return NULL;
        for (; *s >= '0' && *s <= '9'; s++)
            if (div < scale) {
                frac = frac * 10 + (uint64_t)(*s - '0');
                div *= 10;
            }
    }
    if (whole > limit / scale)
        return NULL;
    *scaled = whole * scale + frac * scale / div;
    return s;
}

/* Suffix multiplier of a size ("K", "M", "G", optionally "i" and "B"). */
static uint64_t size_suffix(const char **s)
{
    static const char units[] = "KMG";
    const char *u = **s ? strchr(units, (**s >= 'a' && **s <= 'z') ? **s - 32 : **s) : NULL;
    if (!u)
        return 1;
    (*s)++;
    if (**s == 'i')
        (*s)++;
    if (**s == 'B')
        (*s)++;
    return (uint64_t)1 << (10 * (u - units + 1));
}

static void parse_value(const char *prog, struct up_cli_flag *f, const char *val)
{
    const uint64_t limit = (uint64_t)1 << 50;
    uint64_t v = 0;
    const char *end;
    char host[UP_HOST_MAX];
    uint16_t port;

    switch (f->kind) {
    case UP_CLI_ADDR: {
        int r = up_addr_split(val, host, sizeof(host), &port);
        if (r == UP_ERANGE)
            up_cli_fail(prog, "--%s: '%s': port must be 1..65535", f->name, val);
        if (r != UP_OK)
            up_cli_fail(prog, "--%s: '%s' is not an address (use :PORT, HOST:PORT or [IPV6]:PORT)", f->name, val);
        size_t cap = f->max_repeat > 1 ? f->max_repeat : 1;
        if (f->given > cap)
            up_cli_fail(prog, "--%s: '%s': at most %zu may be given", f->name, val, cap);
        snprintf((char *)f->dest + (f->given - 1) * UP_ADDR_TEXT_MAX, UP_ADDR_TEXT_MAX, "%s", val);
        return;
    }
    case UP_CLI_COUNT:
        if (f->word && strcmp(val, f->word) == 0) {
            *(uint64_t *)f->dest = f->word_value;
            return;
        }
        end = parse_scaled(val, 1, limit, &v);
        if (!end || *end)
            up_cli_fail(prog, "--%s: '%s' is not a whole number%s%s%s", f->name, val, f->word ? " or '" : "",
                        f->word ? f->word : "", f->word ? "'" : "");
        break;
    case UP_CLI_SIZE:
        end = parse_scaled(val, 1, limit, &v);
        if (end) {
            uint64_t mul = size_suffix(&end);
            v = v > limit / mul ? limit + 1 : v * mul;
        }
        if (!end || *end)
            up_cli_fail(prog, "--%s: '%s' is not a size in bytes (e.g. 65536, 64K, 4M)", f->name, val);
        break;
    case UP_CLI_SECS:
        end = parse_scaled(val, 1000, limit, &v);
        if (end && *end == 's')
            end++;
        if (!end || *end)
            up_cli_fail(prog, "--%s: '%s' is not a number of seconds (e.g. 2 or 1.5)", f->name, val);
        break;
    }
    if (v < f->min || v > f->max) {
        if (f->kind == UP_CLI_SECS)
            up_cli_fail(prog, "--%s: '%s' is out of range (%g..%g seconds)", f->name, val, (double)f->min / 1000.0,
                        (double)f->max / 1000.0);
        up_cli_fail(prog, "--%s: '%s' is out of range (%llu..%llu)", f->name, val, (unsigned long long)f->min,
                    (unsigned long long)f->max);
    }
    if (f->kind == UP_CLI_SECS)
        *(double *)f->dest = (double)v / 1000.0;
    else
        *(uint64_t *)f->dest = v;
}

void up_cli_parse(const char *prog, struct up_cli_flag *flags, size_t n, int argc, char **argv,
                  void (*usage)(FILE *out))
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (a[0] != '-' || a[1] == '\0')
            up_cli_fail(prog, "unexpected argument '%s' (flags start with --)", a);
        const char *name = a + 1 + (a[1] == '-');
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        struct up_cli_flag *f = NULL;
        for (size_t k = 0; k < n && !f; k++)
            if (strlen(flags[k].name) == len && strncmp(flags[k].name, name, len) == 0)
                f = &flags[k];
        if (!f)
            up_cli_fail(prog, "unknown flag '%.*s'", (int)(len + (size_t)(name - a)), a);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            up_cli_fail(prog, "--%s needs a value", f->name);
        f->given++;
        if (f->given > 1 && !(f->kind == UP_CLI_ADDR && f->max_repeat > 1))
            up_cli_fail(prog, "--%s: '%s': given more than once", f->name, val);
        parse_value(prog, f, val);
    }
    for (size_t k = 0; k < n; k++)
        if (flags[k].required && !flags[k].given)
            up_cli_fail(prog, "--%s is required", flags[k].name);
}

void up_cli_resolve(const char *prog, const char *flag, const char *text, bool passive, struct up_addr *out)
{
    int r = up_addr_resolve(text, passive, out);
    if (r != UP_OK)
        up_cli_fail(prog, "--%s: cannot resolve '%s': %s", flag, text, up_strerror(r));
}
