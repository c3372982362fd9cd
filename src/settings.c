/* settings.c - the settings in effect and where each came from (see settings.h). */
#include "settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "log.h"

/* Was --name (or -name, with "=value" or not) on the command line? */
static bool flag_given(const struct up_options *o, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < o->argc && o->argv; i++) {
        const char *a = o->argv[i];
        if (a[0] != '-')
            continue;
        a += 1 + (a[1] == '-');
        if (strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '='))
            return true;
    }
    return false;
}

struct ctx {
    const struct up_options *o;
    const struct up_options *file; /* defaults + the file (NULL: no file) */
    const struct up_options *def;  /* defaults */
    void (*emit)(void *, const char *);
    void *arg;
};

static const char *origin(const struct ctx *c, const char *name, bool file_differs)
{
    if (flag_given(c->o, name))
        return "flag";
    if (c->file && file_differs)
        return "file";
    return "default";
}

static void line(const struct ctx *c, const char *fmt, ...) UP_PRINTF(2, 3);
static void line(const struct ctx *c, const char *fmt, ...)
{
    char buf[UP_ADDR_TEXT_MAX + 200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    c->emit(c->arg, buf);
}

#define FROM(name, field) origin(&c, name, c.file &&c.file->field != c.def->field)
#define FROM_S(name, field) origin(&c, name, c.file &&strcmp(c.file->field, c.def->field) != 0)

size_t up_settings_queue_capacity(uint32_t n)
{
    size_t cap = 1;
    while (cap < n)
        cap <<= 1;
    return cap;
}

static void addr_text(const struct up_addr *a, char *buf, size_t size)
{
    if (!a->len)
        snprintf(buf, size, "not resolved yet");
    else if (a->ss.ss_family == AF_UNIX)
        snprintf(buf, size, "unix socket");
    else
        up_addr_format((const struct sockaddr *)&a->ss, buf, size);
}

void up_settings_describe(const struct up_options *o, void (*emit)(void *ctx, const char *line), void *arg)
{
    static struct up_options def, file; /* large: off the stack; control thread only */
    char err[600], a[80];
    up_options_defaults(&def);
    bool have_file = false;
    if (o->config[0]) {
        up_options_defaults(&file);
        have_file = up_config_read(&file, o->config, err, sizeof(err)) == 0;
    }
    struct ctx c = {o, have_file ? &file : NULL, &def, emit, arg};

    if (o->config[0])
        line(&c, "config = %s (flag)", o->config);
    addr_text(&o->source_addr, a, sizeof(a));
    line(&c, "source = %s -> %s (%s)", o->source, a, FROM_S("source", source));
    const char *tfrom = o->cli_targets ? "flag" : have_file && file.ntargets ? "file" : "flag";
    for (size_t i = 0; i < o->ntargets; i++) {
        addr_text(&o->target_addrs[i], a, sizeof(a));
        line(&c, "target = %s -> %s (%s)", o->targets[i], a, tfrom);
    }
    if (o->cli_targets && have_file && file.ntargets)
        line(&c, "warning: the %zu --target flag(s) replace the %zu target(s) of %s", o->ntargets, file.ntargets,
             o->config);
    line(&c, "buffer = %u (%s)", (unsigned)o->buffer, FROM("buffer", buffer));
    size_t cap = up_settings_queue_capacity(o->channel_size);
    line(&c, "channel-size = %u: queues of %zu datagrams, %zu per target with %u reader(s) (%s)",
         (unsigned)o->channel_size, cap, cap * o->readers, o->readers, FROM("channel-size", channel_size));
    line(&c, "readers = %u (%s)", o->readers, FROM("readers", readers));
    line(&c, "rcvbuf = %d (%s)", o->rcvbuf, FROM("rcvbuf", rcvbuf));
    line(&c, "sndbuf = %d (%s)", o->sndbuf, FROM("sndbuf", sndbuf));
    if (o->nallow == 0)
        line(&c, "allow = every sender (default)");
    for (size_t i = 0; i < o->nallow; i++)
        line(&c, "allow = %s (%s)", o->allow_text[i], flag_given(o, "allow") ? "flag" : "file");
    line(&c, "stats-interval = %u s (%s)", o->stats_interval, FROM("stats-interval", stats_interval));
    line(&c, "drain-timeout = %u ms (%s)", o->drain_ms, FROM("drain-timeout", drain_ms));
    line(&c, "resolve-interval = %u s (%s)", o->resolve_interval, FROM("resolve-interval", resolve_interval));
    line(&c, "allow-unresolved = %s (%s)", o->allow_unresolved ? "true" : "false",
         FROM("allow-unresolved", allow_unresolved));
    if (o->source_addr.ss.ss_family == AF_UNIX)
        line(&c, "source-mode = %04o (%s)", o->source_mode, FROM("source-mode", source_mode));
    line(&c, "log-level = %s (%s)", up_log_level_name(o->log_level),
         flag_given(o, "quiet") ? "flag" : FROM("log-level", log_level));
    line(&c, "log-file = %s (%s)", o->log_file[0] ? o->log_file : "none", FROM_S("log-file", log_file));
    if (o->metrics_listen[0]) {
        addr_text(&o->metrics_addr, a, sizeof(a));
        line(&c, "metrics-listen = %s -> %s: /metrics and /healthz (%s)", o->metrics_listen, a,
             FROM_S("metrics-listen", metrics_listen));
    } else {
        line(&c, "metrics-listen = off (default)");
    }
    if (o->statsd_self[0]) {
        addr_text(&o->statsd_self_addr, a, sizeof(a));
        line(&c, "statsd-self = %s -> %s, every %u ms, prefix '%s' (%s)", o->statsd_self, a, o->statsd_self_interval_ms,
             o->statsd_self_prefix, FROM_S("statsd-self", statsd_self));
    } else {
        line(&c, "statsd-self = off (default)");
    }
}
