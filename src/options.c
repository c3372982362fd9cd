/* options.c - command-line parsing and validation (see options.h). */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "loops.h"

enum kind { K_FLAG, K_ADDR, K_TARGET, K_LEVEL, K_U32, K_SIZE, K_MS, K_PATH, K_PREFIX, K_BOOL, K_MODE, K_CIDR };

struct spec {
    const char *name;
    enum kind kind;
    uint64_t min, max; /* for numbers */
    size_t offset;     /* field in struct up_options */
};

#define F(field) offsetof(struct up_options, field)
static const struct spec specs[] = {
    {"source", K_ADDR, 0, 0, F(source)},
    {"target", K_TARGET, 0, 0, F(targets)},
    {"log-level", K_LEVEL, 0, 0, F(log_level)},
    {"quiet", K_FLAG, 0, 0, F(log_level)},
    {"buffer", K_U32, 1, 65535, F(buffer)},
    {"channel-size", K_U32, 1, 1u << 20, F(channel_size)},
    {"rcvbuf", K_SIZE, 4096, 1u << 30, F(rcvbuf)},
    {"sndbuf", K_SIZE, 4096, 1u << 30, F(sndbuf)},
    {"readers", K_U32, 1, UP_READERS_MAX, F(readers)},
    {"stats-interval", K_U32, 0, 86400, F(stats_interval)},
    {"drain-timeout", K_MS, 0, 3600000, F(drain_ms)},
    {"log-file", K_PATH, 0, 0, F(log_file)},
    {"log-max-size", K_SIZE, 0, 1u << 30, F(log_max_size)},
    {"metrics-listen", K_ADDR, 0, 0, F(metrics_listen)},
    {"statsd-self", K_ADDR, 0, 0, F(statsd_self)},
    {"statsd-self-interval", K_MS, 100, 3600000, F(statsd_self_interval_ms)},
    {"statsd-self-prefix", K_PREFIX, 0, UP_PREFIX_MAX - 1, F(statsd_self_prefix)},
    {"config", K_PATH, 0, 0, F(config)},
    {"check-config", K_BOOL, 0, 0, F(check_config)},
    {"resolve-interval", K_U32, 0, 86400, F(resolve_interval)},
    {"allow-unresolved", K_BOOL, 0, 0, F(allow_unresolved)},
    {"source-mode", K_MODE, 0, 0777, F(source_mode)},
    {"allow", K_CIDR, 0, 0, F(allow)},
    {"health-stall", K_MS, 0, 86400000, F(health_stall_ms)},
};
#undef F

void up_options_defaults(struct up_options *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->source, sizeof(o->source), "%s", UP_DEFAULT_SOURCE);
    o->log_level = UP_LOG_INFO;
    o->buffer = UP_DEFAULT_BUFFER;
    o->channel_size = UP_DEFAULT_CHANNEL;
    o->rcvbuf = UP_DEFAULT_RCVBUF;
    o->sndbuf = UP_DEFAULT_SNDBUF;
    o->readers = 1;
    o->stats_interval = UP_DEFAULT_STATS_INTERVAL;
    o->drain_ms = UP_DEFAULT_DRAIN_MS;
    o->statsd_self_interval_ms = UP_DEFAULT_STATSD_SELF_INTERVAL_MS;
    snprintf(o->statsd_self_prefix, sizeof(o->statsd_self_prefix), "%s", UP_DEFAULT_STATSD_SELF_PREFIX);
    o->resolve_interval = UP_DEFAULT_RESOLVE_INTERVAL;
    o->source_mode = UP_DEFAULT_SOURCE_MODE;
}

/* Decimal digits only; returns UP_EINVAL for anything else, UP_ERANGE past max. */
static int parse_uint(const char *s, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return UP_EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > ((uint64_t)1 << 40))
            return UP_ERANGE;
    }
    *end = s;
    *out = v;
    return UP_OK;
}

/* "123", "64K", "16M", "1G", also "16Mi" and "16MiB": binary multiples.
 * "16MB" (and KB, GB) could mean decimal or binary: refused with
 * *ambiguous set, rather than guessed. */
static int parse_size(const char *s, uint64_t *out, bool *ambiguous)
{
    const char *e;
    uint64_t v;
    *ambiguous = false;
    int r = parse_uint(s, &e, &v);
    if (r != UP_OK)
        return r;
    uint64_t mul = 1;
    if (*e == 'k' || *e == 'K')
        mul = 1024, e++;
    else if (*e == 'm' || *e == 'M')
        mul = 1024 * 1024, e++;
    else if (*e == 'g' || *e == 'G')
        mul = 1024 * 1024 * 1024, e++;
    if (*e == 'i' && mul > 1) {
        e++; /* KiB-style "16Mi" or "16MiB" */
        if (*e == 'B')
            e++;
    } else if (*e == 'B' && e[1] == '\0' && mul > 1) {
        *ambiguous = true;
        return UP_EINVAL;
    }
    if (*e != '\0')
        return UP_EINVAL;
    if (v > UINT64_MAX / mul)
        return UP_ERANGE; /* "17179869185G" must not wrap to 1G */
    *out = v * mul;
    return UP_OK;
}

/* "2", "2s", "1.5", "500ms" -> milliseconds. */
static int parse_ms(const char *s, uint64_t *out)
{
    const char *e;
    uint64_t whole, frac = 0, scale = 1;
    int r = parse_uint(s, &e, &whole);
    if (r != UP_OK)
        return r;
    if (*e == '.') {
        e++;
        if (*e < '0' || *e > '9')
            return UP_EINVAL;
        for (; *e >= '0' && *e <= '9'; e++)
            if (scale < 1000000) {
                frac = frac * 10 + (uint64_t)(*e - '0');
                scale *= 10;
            }
    }
    if (strcmp(e, "ms") == 0) {
        if (scale != 1)
            return UP_EINVAL;
        *out = whole;
        return UP_OK;
    }
    if (*e != '\0' && strcmp(e, "s") != 0)
        return UP_EINVAL;
    *out = whole * 1000 + frac * 1000 / scale;
    return UP_OK;
}

/* A switch's value, the same on the command line (--quiet=false) and in a
 * file (quiet = false): NULL (bare name), true, yes, 1 -> 1; false, no,
 * 0 -> 0; anything else -> -1. */
static int switch_value(const char *val)
{
    if (!val || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0 || strcmp(val, "1") == 0)
        return 1;
    if (strcmp(val, "false") == 0 || strcmp(val, "no") == 0 || strcmp(val, "0") == 0)
        return 0;
    return -1;
}

static const struct spec *find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0)
            return &specs[i];
    return NULL;
}

static int apply(struct up_options *o, const struct spec *sp, const char *val, char *err, size_t errlen)
{
    char *base = (char *)o + sp->offset;
    char host[UP_HOST_MAX];
    char spec_addr[UP_ADDR_TEXT_MAX];
    struct up_target_opts topts;
    uint16_t port;
    uint64_t v = 0;
    int r;

    switch (sp->kind) {
    case K_FLAG: /* --quiet; "quiet = false" leaves the level alone */
    case K_BOOL: /* no value (command line, bare name in a file) means on */
        if ((r = switch_value(val)) < 0) {
            snprintf(err, errlen, "--%s: '%s' is not true or false", sp->name, val);
            return UP_EINVAL;
        }
        if (sp->kind == K_BOOL)
            *(bool *)(void *)base = r == 1;
        else if (r == 1)
            *(int *)(void *)base = UP_LOG_WARN;
        return UP_OK;
    case K_ADDR:
    case K_TARGET:
        if (sp->kind == K_TARGET) {
            /* ADDR[,OPTION=VALUE...]: the options apart (target_opts.c). */
            if (o->ntargets >= UP_TARGETS_MAX) {
                snprintf(err, errlen, "--target: '%s': at most %d targets", val, UP_TARGETS_MAX);
                return UP_ERANGE;
            }
            if (up_target_opts_parse(val, spec_addr, sizeof(spec_addr), &topts, err, errlen) != 0)
                return UP_EINVAL;
            val = spec_addr;
        }
        if (up_addr_is_unix(val) && (sp->kind == K_TARGET || strcmp(sp->name, "source") == 0)) {
            r = up_addr_check_unix(val);
            if (r == UP_EAFNOSUPPORT) {
                snprintf(err, errlen, "--%s: '%s': unix: sockets are not supported on Windows", sp->name, val);
                return r;
            }
            if (r != UP_OK) {
                snprintf(err, errlen, "--%s: '%s': a Unix socket needs an absolute path of at most 107 bytes", sp->name,
                         val);
                return r;
            }
        } else if (up_addr_is_unix(val)) {
            /* --metrics-listen (TCP) and --statsd-self: no Unix sockets. */
            snprintf(err, errlen, "--%s: '%s': unix: is not supported here (use HOST:PORT)", sp->name, val);
            return UP_EINVAL;
        } else {
            r = up_addr_split(val, host, sizeof(host), &port);
        }
        if (r == UP_ERANGE) {
            snprintf(err, errlen, "--%s: '%s': port must be 1..65535", sp->name, val);
            return r;
        }
        if (r != UP_OK) {
            snprintf(err, errlen, "--%s: '%s' is not an address (use :PORT, HOST:PORT or [IPV6]:PORT)", sp->name, val);
            return r;
        }
        if (sp->kind == K_ADDR) {
            snprintf(base, UP_ADDR_TEXT_MAX, "%s", val);
            return UP_OK;
        }
        for (size_t i = 0; i < o->ntargets; i++)
            if (strcmp(o->targets[i], val) == 0) {
                snprintf(err, errlen, "--target: '%s' is given twice", val);
                return UP_EDUPLICATE;
            }
        o->target_opts[o->ntargets] = topts;
        snprintf(o->targets[o->ntargets++], UP_ADDR_TEXT_MAX, "%s", val);
        return UP_OK;
    case K_LEVEL:
        r = up_log_level_parse(val);
        if (r < 0) {
            snprintf(err, errlen,
                     "--log-level: '%s' is not one of trace, debug, info, warn, warning, error, fatal, panic", val);
            return UP_EINVAL;
        }
        *(int *)(void *)base = r;
        return UP_OK;
    case K_U32:
    case K_SIZE:
    case K_MS:
        if (sp->kind == K_MS)
            r = parse_ms(val, &v);
        else if (sp->kind == K_SIZE) {
            bool ambiguous;
            r = parse_size(val, &v, &ambiguous);
            if (ambiguous) {
                int digits = (int)strspn(val, "0123456789");
                char unit = (char)(val[digits] & ~0x20); /* K, M or G */
                unsigned bytes = unit == 'K' ? 1024u : unit == 'M' ? 1048576u : 1073741824u;
                snprintf(err, errlen, "--%s: '%s': %s is ambiguous, write %.*s%c or %.*s%ciB (binary: 1%c = %u bytes)",
                         sp->name, val, val + digits, digits, val, unit, digits, val, unit, unit, bytes);
                return r;
            }
        } else {
            const char *e;
            r = parse_uint(val, &e, &v);
            if (r == UP_OK && *e != '\0')
                r = UP_EINVAL;
        }
        if (r == UP_EINVAL) {
            snprintf(err, errlen, "--%s: '%s' is not a %s", sp->name, val,
                     sp->kind == K_MS     ? "duration (seconds, e.g. 2, 1.5s or 500ms)"
                     : sp->kind == K_SIZE ? "size in bytes (e.g. 65536, 64K, 16M)"
                                          : "whole number");
            return r;
        }
        if (r != UP_OK || v < sp->min || v > sp->max) {
            snprintf(err, errlen, "--%s: '%s' is out of range (%llu..%llu%s)", sp->name, val,
                     (unsigned long long)sp->min, (unsigned long long)sp->max, sp->kind == K_MS ? " ms" : "");
            return UP_ERANGE;
        }
        if (sp->kind == K_SIZE)
            *(int *)(void *)base = (int)v;
        else
            *(uint32_t *)(void *)base = (uint32_t)v;
        return UP_OK;
    case K_PATH:
        if (val[0] == '\0' || strlen(val) >= UP_PATH_MAX) {
            snprintf(err, errlen, "--%s: '%s' is not a usable path", sp->name, val);
            return UP_EINVAL;
        }
        snprintf(base, UP_PATH_MAX, "%s", val);
        return UP_OK;
    case K_PREFIX:
        if (strlen(val) > sp->max ||
            strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(val)) {
            snprintf(err, errlen, "--%s: '%s': use at most %llu letters, digits, '_', '.' or '-'", sp->name, val,
                     (unsigned long long)sp->max);
            return UP_EINVAL;
        }
        snprintf(base, sp->max + 1, "%s", val);
        return UP_OK;
    case K_MODE:
        v = 0;
        for (const char *c = val; *c; c++) {
            if (*c < '0' || *c > '7' || v > 0777) {
                v = 01000;
                break;
            }
            v = v * 8 + (uint64_t)(*c - '0');
        }
        if (val[0] == '\0' || v > sp->max) {
            snprintf(err, errlen, "--%s: '%s' is not a file mode in octal (e.g. 0660)", sp->name, val);
            return UP_EINVAL;
        }
        *(unsigned *)(void *)base = (unsigned)v;
        return UP_OK;
    case K_CIDR:
        if (o->nallow >= UP_ALLOW_MAX) {
            snprintf(err, errlen, "--allow: '%s': at most %d networks", val, UP_ALLOW_MAX);
            return UP_ERANGE;
        }
        if (strlen(val) >= sizeof(o->allow_text[0]) || up_cidr_parse(val, &o->allow[o->nallow]) != UP_OK) {
            snprintf(err, errlen,
                     "--allow: '%s' is not a network (use ADDRESS/PREFIX with no host bits set, e.g. 10.0.0.0/8, "
                     "fd00::/8, or one address)",
                     val);
            return UP_EINVAL;
        }
        snprintf(o->allow_text[o->nallow++], sizeof(o->allow_text[0]), "%s", val);
        return UP_OK;
    }
    return UP_EINVAL;
}

int up_options_set(struct up_options *o, const char *name, const char *value, char *err, size_t errlen)
{
    const struct spec *sp = find(name, strlen(name));
    if (!sp) {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return UP_EINVAL;
    }
    if (strcmp(name, "config") == 0 || strcmp(name, "check-config") == 0) {
        snprintf(err, errlen, "'%s' is a command-line flag only", name);
        return UP_EINVAL;
    }
    if (!value && sp->kind != K_BOOL && sp->kind != K_FLAG) {
        snprintf(err, errlen, "'%s' needs a value ('%s = VALUE')", name, name);
        return UP_EINVAL;
    }
    return apply(o, sp, value, err, errlen);
}

const char *up_options_target_name(const struct up_options *o, size_t i)
{
    return o->target_opts[i].name[0] ? o->target_opts[i].name : o->targets[i];
}

int up_options_check(const struct up_options *o, char *err, size_t errlen)
{
    if (o->ntargets == 0) {
        snprintf(err, errlen, "no --target given (at least one is needed)");
        return UP_EINVAL;
    }
    if (!UP_HAVE_REUSEPORT && o->readers > 1) {
        snprintf(err, errlen, "--readers %u: Windows has no SO_REUSEPORT, so one reader receives (use --readers 1)",
                 o->readers);
        return UP_EINVAL;
    }
    for (size_t i = 0; i < o->ntargets; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(up_options_target_name(o, i), up_options_target_name(o, j)) == 0) {
                snprintf(err, errlen, "--target: two targets are named '%s' (names label the metrics: use name=)",
                         up_options_target_name(o, i));
                return UP_EDUPLICATE;
            }
    if (up_addr_is_unix(o->source) && o->readers > 1) {
        snprintf(err, errlen, "--readers %u: a unix: source is read by one reader (SO_REUSEPORT is UDP only)",
                 o->readers);
        return UP_EINVAL;
    }
    if (up_addr_is_unix(o->source) && o->nallow) {
        snprintf(err, errlen, "--allow: a unix: source has no sender addresses to check (use --source-mode)");
        return UP_EINVAL;
    }
    return UP_OK;
}

static int parse_args(struct up_options *o, int argc, char *const *argv, int first, bool check, char *err,
                      size_t errlen)
{
    int action = UP_OPTIONS_RUN;
    bool targets_reset = false, allow_reset = false;

    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            snprintf(err, errlen, "unexpected argument '%s' (flags start with --)", a);
            return UP_EINVAL;
        }
        const char *name = a + 1 + (a[1] == '-');
        if (strcmp(a, "-h") == 0 || strcmp(name, "help") == 0) {
            action = UP_OPTIONS_HELP;
            continue;
        }
        if (strcmp(a, "-V") == 0 || strcmp(name, "version") == 0) {
            if (action == UP_OPTIONS_RUN)
                action = UP_OPTIONS_VERSION;
            continue;
        }
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct spec *sp = find(name, nlen);
        if (!sp) {
            snprintf(err, errlen, "unknown flag '%.*s'", (int)(nlen + (size_t)(name - a)), a);
            return UP_EINVAL;
        }
        const char *val = NULL;
        if (sp->kind == K_FLAG || sp->kind == K_BOOL) {
            if (eq)
                val = eq + 1; /* --quiet=false, as "quiet = false" in a file */
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            snprintf(err, errlen, "--%s needs a value", sp->name);
            return UP_EINVAL;
        }
        if (sp->kind == K_TARGET && !targets_reset) {
            /* Targets given here replace any set before (a config file). */
            o->ntargets = 0;
            targets_reset = true;
            o->cli_targets = true;
        }
        if (sp->kind == K_CIDR && !allow_reset) {
            o->nallow = 0; /* likewise for --allow */
            allow_reset = true;
        }
        int r = apply(o, sp, val, err, errlen);
        if (r != UP_OK)
            return r;
    }
    o->argc = argc;
    o->argv = argv;
    if (check && action == UP_OPTIONS_RUN) {
        int r = up_options_check(o, err, errlen);
        if (r != UP_OK)
            return r;
    }
    return action;
}

int up_options_parse(struct up_options *o, int argc, char *const *argv, int first, char *err, size_t errlen)
{
    return parse_args(o, argc, argv, first, true, err, errlen);
}

int up_options_parse_lax(struct up_options *o, int argc, char *const *argv, int first, char *err, size_t errlen)
{
    return parse_args(o, argc, argv, first, false, err, errlen);
}

static int resolve_one(const char *flag, const char *text, bool passive, struct up_addr *out, char *err, size_t errlen)
{
    int r = up_addr_resolve(text, passive, out);
    if (r != UP_OK)
        snprintf(err, errlen, "--%s: cannot resolve '%s': %s", flag, text, up_strerror(r));
    return r;
}

int up_options_resolve(struct up_options *o, char *err, size_t errlen)
{
    int r = resolve_one("source", o->source, true, &o->source_addr, err, errlen);
    if (r != UP_OK)
        return r;
    if (o->metrics_listen[0] &&
        (r = resolve_one("metrics-listen", o->metrics_listen, true, &o->metrics_addr, err, errlen)) != UP_OK)
        return r;
    if (o->statsd_self[0] &&
        (r = resolve_one("statsd-self", o->statsd_self, false, &o->statsd_self_addr, err, errlen)) != UP_OK)
        return r;
    for (size_t i = 0; i < o->ntargets; i++) {
        r = resolve_one("target", o->targets[i], false, &o->target_addrs[i], err, errlen);
        if ((r == UP_ENOTFOUND || r == UP_ETIMEDOUT) && o->allow_unresolved) {
            /* Kept by name: the target counts its datagrams as send errors
             * until the name resolves (retried every --resolve-interval). */
            up_log(UP_LOG_WARN, "%s (--allow-unresolved: the target waits for its name)", err);
            struct up_addr *a = &o->target_addrs[i];
            memset(a, 0, sizeof(*a));
            snprintf(a->text, sizeof(a->text), "%s", o->targets[i]);
            a->named = true;
            continue;
        }
        if (r != UP_OK)
            return r;
        for (size_t j = 0; j < i; j++)
            if (o->target_addrs[j].len && up_addr_equal(&o->target_addrs[i], &o->target_addrs[j])) {
                char a[64];
                up_addr_format((struct sockaddr *)&o->target_addrs[i].ss, a, sizeof(a));
                snprintf(err, errlen, "--target: '%s' and '%s' are the same target (%s)", o->targets[j], o->targets[i],
                         a);
                return UP_EDUPLICATE;
            }
    }
    return up_loops_check(o, err, errlen);
}

/* The parts of --help that differ per system: Windows shows only what works
 * there (no unix: sockets, one reader, no signals). */
#ifdef _WIN32
#define USAGE_UNIX ""
#define USAGE_RCVBUF "  --rcvbuf BYTES         source socket receive buffer (default 16M)\n"
#define USAGE_READERS ""
#define USAGE_RELOAD                                                                                                   \
    "                         'udp-proxy service reload' re-reads it and applies\n"                                    \
    "                         it without a restart (service only)\n"
#define USAGE_SOURCE_MODE ""
#define USAGE_STOP                                                                                                     \
    "Stop: Ctrl+C, Ctrl+Break, console close or service stop end receiving, drain\n"                                   \
    "the queues, log the final counters and exit 0; a second one ends the drain at\n"                                  \
    "once (the rest is counted in dropped_shutdown).\n"
#else
#define USAGE_UNIX "           unix:/PATH is a Unix datagram socket (source or target).\n"
#define USAGE_RCVBUF                                                                                                   \
    "  --rcvbuf BYTES         source socket receive buffer (default 16M); raise\n"                                     \
    "                         net.core.rmem_max if the kernel caps it\n"
#define USAGE_READERS                                                                                                  \
    "  --readers N            reader threads, each with its own SO_REUSEPORT socket\n"                                 \
    "                         (default 1, at most 64)\n"
#define USAGE_RELOAD "                         SIGHUP re-reads it and applies it without a restart\n"
#define USAGE_SOURCE_MODE                                                                                              \
    "  --source-mode MODE     file mode of a unix: source socket, octal (default\n"                                    \
    "                         0660: owner and group may send)\n"
#define USAGE_STOP                                                                                                     \
    "Signals: SIGINT/SIGTERM stop receiving, drain the queues, log the final\n"                                        \
    "counters and exit 0; a second one ends the drain at once (the rest is counted\n"                                  \
    "in dropped_shutdown). SIGHUP re-reads the --config file and reopens --log-file;\n"                                \
    "SIGUSR1 reopens --log-file (log rotation).\n"
#endif

void up_options_usage(FILE *out)
{
    fprintf(out,
            "Usage: udp-proxy [--source ADDR] --target ADDR [--target ADDR ...] [options]\n"
            "\n"
            "Receive UDP datagrams on one address and send each one, unchanged, to every\n"
            "target. A slow or dead target never slows the others; every drop is counted.\n"
            "\n"
            "Addresses: :PORT (source: all interfaces; target: 127.0.0.1), HOST:PORT,\n"
            "           1.2.3.4:PORT, [::1]:PORT, [::]:PORT. Host names are resolved.\n" USAGE_UNIX "\n"
            "  --source ADDR          address to receive on (default %s)\n"
            "  --target ADDR[,OPTION=VALUE...]\n"
            "                         where to send every datagram; repeat for each target\n"
            "                         (at least one, at most %d). Options (see the README):\n"
            "                           name=LABEL        its name in logs and metrics\n"
            "                           dialect=raw|otel  otel: only lines an OpenTelemetry\n"
            "                                             statsd receiver parses (default\n"
            "                                             raw)\n"
            "                           max-datagram=N    pack queued lines into datagrams\n"
            "                                             of up to N bytes (512..65507;\n"
            "                                             default 0: off)\n"
            "                           otel only: container-id=strip|keep,\n"
            "                           timestamp=strip|keep, bare-tags=true|drop|keep,\n"
            "                           d-as-h=false|true\n"
            "  --buffer BYTES         largest datagram accepted, 1..65535 (default %u: nothing\n"
            "                         the kernel delivers is cut); larger ones are counted and\n"
            "                         dropped, never forwarded cut\n"
            "  --channel-size N       queue capacity per target, in datagrams (default %u)\n" USAGE_RCVBUF
            "  --sndbuf BYTES         target socket send buffer (default 4M)\n" USAGE_READERS
            "  --stats-interval SECS  log a key=value line of counter deltas every SECS\n"
            "                         (default %u; 0 = off)\n"
            "  --drain-timeout SECS   on a stop request, time to finish sending what is\n"
            "                         queued (default 2; e.g. 1.5 or 500ms)\n"
            "  --log-level LEVEL      debug, info, warn, error or fatal (default info); any\n"
            "                         case; trace = debug, warning = warn, panic = fatal\n"
            "  --quiet                same as --log-level warn\n"
            "  --log-file PATH        also append log lines to PATH (Linux: SIGUSR1 reopens it)\n"
            "  --log-max-size BYTES   rotate --log-file when it grows past BYTES (e.g. 10M):\n"
            "                         PATH.1 .. PATH.3 keep the last ones (default 0: never)\n"
            "  --metrics-listen ADDR  serve Prometheus /metrics and /healthz over HTTP on\n"
            "                         ADDR, e.g. 127.0.0.1:9102 (default off; :PORT means\n"
            "                         every interface)\n"
            "  --health-stall SECS    /healthz answers 503 naming a target that has sent\n"
            "                         nothing for SECS while datagrams were queued for it\n"
            "                         (default 0 = off)\n"
            "  --statsd-self ADDR     send our own counters as DogStatsD to ADDR, e.g.\n"
            "                         127.0.0.1:8125 (default off)\n"
            "  --statsd-self-interval SECS\n"
            "                         how often to send them (default 10; e.g. 500ms)\n"
            "  --statsd-self-prefix P name prefix of our own metrics (default %s)\n"
            "  --config PATH          read settings from PATH (name = value lines, named\n"
            "                         like these flags; flags given here override it);\n" USAGE_RELOAD
            "  --check-config         validate the settings (and resolve the addresses),\n"
            "                         then exit 0 (valid) or 2, binding nothing\n"
            "  --resolve-interval SECS  re-resolve target names every SECS and follow\n"
            "                         address changes (default %u; 0 = only at start)\n"
            "  --allow-unresolved     start even if a target name does not resolve yet\n"
            "                         (its datagrams count as dropped_send_error meanwhile)\n" USAGE_SOURCE_MODE
            "  --allow CIDR           accept datagrams only from this network (repeatable,\n"
            "                         IPv4 or IPv6); others are dropped, counted in\n"
            "                         not_allowed\n"
            "  --help, -h             show this help and exit\n"
            "  --version, -V          show the version and exit\n"
            "\n"
            "Flags take --flag VALUE or --flag=VALUE (a single dash works too).\n"
            "Sizes accept K, M and G suffixes (binary).\n"
            "\n" USAGE_STOP "Live view: udp-proxy stats [--metrics-url URL] [--interval SECS] [--count N]\n"
            "                 reads a running proxy's /metrics and prints rates per target\n"
            "                 (udp-proxy stats --help).\n"
            "Windows service: udp-proxy service install|uninstall|start|stop|status|reload\n"
            "                 (see docs/WINDOWS.md).\n"
            "Set the source and targets in a config file (installers use it):\n"
            "  udp-proxy config-write --file PATH [--source ADDR] [--targets \"ADDR ADDR ...\"]\n"
            "Exit status: 0 success, 1 runtime error (e.g. address in use), 2 bad usage.\n"
            "\n"
            "Example (dual-write DogStatsD to the Datadog agent and an OpenTelemetry\n"
            "collector):\n"
            "  udp-proxy --source 127.0.0.1:8125 --target 127.0.0.1:8126 --target 127.0.0.1:8127\n",
            UP_DEFAULT_SOURCE, UP_TARGETS_MAX, UP_DEFAULT_BUFFER, UP_DEFAULT_CHANNEL, UP_DEFAULT_STATS_INTERVAL,
            UP_DEFAULT_STATSD_SELF_PREFIX, UP_DEFAULT_RESOLVE_INTERVAL);
}
