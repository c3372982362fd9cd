/*
 * statscmd.c - `udp-proxy stats [--metrics-url URL] [--interval SECS]
 * [--count N] [--config FILE]`: a live view of a running proxy.
 *
 * It reads the proxy's /metrics (a tiny HTTP/1.0 GET over the platform's
 * TCP layer), parses the text format (promtext.c) and, every --interval,
 * prints a table of rates computed from two scrapes:
 *
 *   scrape -> sleep SECS -> scrape -> table 1 -> sleep SECS -> scrape -> table 2 ...
 *
 * per target: datagrams/s sent, drops/s by reason, queue depth and
 * capacity, writer state; for the process: received/s, kernel drops/s and
 * received/s of each reader. Targets are matched by name between scrapes
 * (a reload adds and removes them); a counter that went back (the proxy
 * restarted) counts from zero.
 *
 * Without --metrics-url the URL comes from the config file's
 * metrics-listen (":PORT" or a wildcard host means this host).
 * Nothing here runs in the daemon.
 */
#include "statscmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "alloc.h"
#include "config.h"
#include "error.h"
#include "options.h"
#include "platform.h"
#include "promtext.h"
#include "stats.h"

#define BODY_MAX (4u << 20)   /* largest /metrics answer read */
#define TIMEOUT_MS 5000       /* to connect, and again to read the answer */
#define READERS_MAX 64        /* as --readers */
#define COUNT_MAX 1000000000u /* --count upper bound */

struct url {
    char text[UP_ADDR_TEXT_MAX + 320]; /* as shown: http://HOST:PORT/PATH */
    char hostport[UP_ADDR_TEXT_MAX];   /* for Host: and resolving */
    char path[256];
    struct up_addr addr;
};

struct target_view {
    char name[UP_NAME_MAX];
    double sent, queue_full, send_error, shutdown; /* counters */
    double depth, capacity, writer_up;             /* gauges */
};

/* What one scrape holds. */
struct view {
    double received, kernel_drops, oversize, not_allowed, no_buffer, receive_errors;
    double reader_received[READERS_MAX], reader_kernel[READERS_MAX];
    size_t nreaders;
    struct target_view targets[UP_TARGETS_MAX];
    size_t ntargets;
    double start_time;
    char version[64];
    int have_received; /* the answer really was udp-proxy's */
    uint64_t taken_ns; /* up_now_ns() of the scrape */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: udp-proxy stats [--metrics-url URL] [--interval SECS] [--count N]\n"
            "                       [--config FILE]\n"
            "\n"
            "Show a running udp-proxy's rates, read from its /metrics: per target the\n"
            "datagrams sent per second, drops per second by reason, queue depth and\n"
            "capacity; the received rate, kernel drops per second and each reader's share.\n"
            "\n"
            "  --metrics-url URL  the proxy's metrics, e.g. http://127.0.0.1:9102/metrics\n"
            "                     (default: from the metrics-listen of the config file)\n"
            "  --config FILE      the proxy's config file (default %s)\n"
            "  --interval SECS    seconds between refreshes (default 2; e.g. 0.5 or 500ms)\n"
            "  --count N          exit 0 after N refreshes (default 0: until stopped)\n"
            "  --help, -h         show this help and exit\n"
            "\n"
            "Exit status: 0 after N refreshes, 1 when the proxy cannot be reached or its\n"
            "answer cannot be read, 2 bad usage.\n",
            UP_STATS_DEFAULT_CONFIG);
}

/* ---- the URL ------------------------------------------------------------- */

/* "http://HOST:PORT[/PATH]" or "HOST:PORT[/PATH]"; HOST may be [IPV6]. */
static int parse_url(const char *text, struct url *u, char *err, size_t errlen)
{
    const char *p = text;
    if (strncmp(p, "https://", 8) == 0) {
        snprintf(err, errlen, "--metrics-url '%s': https is not supported (udp-proxy serves plain http)", text);
        return UP_EINVAL;
    }
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    if (hl == 0 || hl >= sizeof(u->hostport)) {
        snprintf(err, errlen, "--metrics-url '%s': expected http://HOST:PORT/metrics", text);
        return UP_EINVAL;
    }
    memcpy(u->hostport, p, hl);
    u->hostport[hl] = '\0';
    /* No path, or just "/": the proxy serves its metrics at /metrics. */
    snprintf(u->path, sizeof(u->path), "%s", slash && strcmp(slash, "/") != 0 ? slash : "/metrics");
    if (strlen(slash ? slash : "") >= sizeof(u->path)) {
        snprintf(err, errlen, "--metrics-url '%s': path too long", text);
        return UP_EINVAL;
    }
    for (const char *c = u->path; *c; c++)
        if (*c <= ' ' || *c == 0x7f) {
            snprintf(err, errlen, "--metrics-url '%s': blank or control character in the path", text);
            return UP_EINVAL;
        }
    int r = up_addr_resolve(u->hostport, false, &u->addr);
    if (r != UP_OK) {
        if (r == UP_ENOTFOUND)
            snprintf(err, errlen, "--metrics-url '%s': cannot resolve '%s'", text, u->hostport);
        else
            snprintf(err, errlen, "--metrics-url '%s': expected http://HOST:PORT/metrics (%s)", text, up_strerror(r));
        return r;
    }
    snprintf(u->text, sizeof(u->text), "http://%s%s", u->hostport, u->path);
    return UP_OK;
}

/* The URL from a config file's metrics-listen. */
static int url_from_config(const char *path, struct url *u, char *err, size_t errlen)
{
    static struct up_options o; /* large: off the stack */
    char e[700];
    up_options_defaults(&o);
    if (up_config_read(&o, path, e, sizeof(e)) != UP_OK) {
        snprintf(err, errlen, "%s; give --metrics-url http://HOST:PORT/metrics or --config FILE", e);
        return UP_EINVAL;
    }
    if (!o.metrics_listen[0]) {
        snprintf(err, errlen,
                 "config file '%s' sets no metrics-listen: the proxy serves no /metrics to read "
                 "(set metrics-listen = 127.0.0.1:9102 there, or give --metrics-url)",
                 path);
        return UP_EINVAL;
    }
    char host[UP_HOST_MAX], hp[UP_ADDR_TEXT_MAX + 8];
    uint16_t port;
    if (up_addr_split(o.metrics_listen, host, sizeof(host), &port) != UP_OK) {
        snprintf(err, errlen, "config file '%s': metrics-listen '%s' is not HOST:PORT", path, o.metrics_listen);
        return UP_EINVAL;
    }
    /* Every interface: this host answers on loopback. */
    if (!host[0] || strcmp(host, "0.0.0.0") == 0)
        snprintf(hp, sizeof(hp), "127.0.0.1:%u", (unsigned)port);
    else if (strcmp(host, "::") == 0)
        snprintf(hp, sizeof(hp), "[::1]:%u", (unsigned)port);
    else if (strchr(host, ':'))
        snprintf(hp, sizeof(hp), "[%s]:%u", host, (unsigned)port);
    else
        snprintf(hp, sizeof(hp), "%s:%u", host, (unsigned)port);
    return parse_url(hp, u, err, errlen);
}

/* ---- HTTP ---------------------------------------------------------------- */

/* Wait until s is ready for `events` or the deadline passes. */
static int wait_sock(up_sock s, unsigned events, uint64_t deadline_ns)
{
    uint64_t now = up_now_ns();
    if (now >= deadline_ns)
        return UP_ETIMEDOUT;
    struct up_pollsock ps = {s, events, 0};
    int r = up_sock_poll(&ps, 1, (int)((deadline_ns - now) / 1000000u) + 1);
    return r < 0 ? r : UP_OK;
}

/* GET the URL; on success body/len point into buf (the answer's body). */
static int fetch(const struct url *u, char *buf, size_t cap, const char **body, size_t *len, char *err, size_t errlen)
{
    up_sock s = UP_SOCK_INVALID;
    int r = up_tcp_connect((const struct sockaddr *)&u->addr.ss, u->addr.len, TIMEOUT_MS, &s);
    if (r != UP_OK) {
        snprintf(err, errlen, "cannot connect to %s: %s (is udp-proxy running with --metrics-listen %s?)", u->text,
                 up_strerror(r), u->hostport);
        return r;
    }
    char req[sizeof(u->path) + sizeof(u->hostport) + 128];
    int rl = snprintf(req, sizeof(req),
                      "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: udp-proxy-stats\r\nAccept: text/plain\r\n\r\n",
                      u->path, u->hostport);
    size_t sent = 0, got = 0;
    uint64_t deadline = up_now_ns() + (uint64_t)TIMEOUT_MS * 1000000u;
    while (sent < (size_t)rl) {
        int n = up_tcp_send(s, req + sent, (size_t)rl - sent);
        if (n > 0)
            sent += (size_t)n;
        else if (n == UP_EAGAIN)
            r = wait_sock(s, UP_POLL_OUT, deadline);
        else
            r = n;
        if (r != UP_OK)
            goto io_fail;
    }
    for (;;) {
        if (got + 1 >= cap) {
            snprintf(err, errlen, "%s: the answer is larger than %u bytes", u->text, BODY_MAX);
            r = UP_ERANGE;
            goto out;
        }
        int n = up_tcp_recv(s, buf + got, cap - 1 - got);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == UP_ECLOSED)
            break;
        r = n == UP_EAGAIN ? wait_sock(s, UP_POLL_IN, deadline) : n;
        if (r != UP_OK)
            goto io_fail;
    }
    buf[got] = '\0';
    /* "HTTP/1.x NNN reason" CRLF headers CRLF CRLF body */
    const char *head_end = strstr(buf, "\r\n\r\n");
    if (got < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || !head_end) {
        snprintf(err, errlen, "%s: not an HTTP answer", u->text);
        r = UP_EINVAL;
        goto out;
    }
    int status = atoi(buf + 9);
    if (status != 200) {
        const char *eol = strstr(buf, "\r\n");
        snprintf(err, errlen, "%s answered '%.*s'", u->text, (int)(eol - buf), buf);
        r = UP_EINVAL;
        goto out;
    }
    *body = head_end + 4;
    *len = got - (size_t)(*body - buf);
    r = UP_OK;
    goto out;
io_fail:
    snprintf(err, errlen, "reading %s: %s", u->text, up_strerror(r));
out:
    up_sock_close(s);
    return r;
}

/* ---- the samples --------------------------------------------------------- */

static struct target_view *target_of(struct view *v, const struct up_prom_sample *s)
{
    const char *name = up_prom_label(s, "target");
    if (!name)
        return NULL;
    for (size_t i = 0; i < v->ntargets; i++)
        if (strcmp(v->targets[i].name, name) == 0)
            return &v->targets[i];
    if (v->ntargets == UP_TARGETS_MAX)
        return NULL;
    struct target_view *t = &v->targets[v->ntargets++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    return t;
}

static int reader_of(struct view *v, const struct up_prom_sample *s)
{
    const char *r = up_prom_label(s, "reader");
    if (!r || r[0] < '0' || r[0] > '9')
        return -1;
    long i = strtol(r, NULL, 10);
    if (i < 0 || i >= READERS_MAX)
        return -1;
    if ((size_t)i + 1 > v->nreaders)
        v->nreaders = (size_t)i + 1;
    return (int)i;
}

static int on_sample(void *ctx, const struct up_prom_sample *s)
{
    struct view *v = ctx;
    struct target_view *t;
    int r;
    if (up_prom_name_is(s, "udp_proxy_received_datagrams_total")) {
        v->received = s->value;
        v->have_received = 1;
    } else if (up_prom_name_is(s, "udp_proxy_oversize_datagrams_total")) {
        v->oversize = s->value;
    } else if (up_prom_name_is(s, "udp_proxy_not_allowed_datagrams_total")) {
        v->not_allowed = s->value;
    } else if (up_prom_name_is(s, "udp_proxy_no_buffer_datagrams_total")) {
        v->no_buffer = s->value;
    } else if (up_prom_name_is(s, "udp_proxy_receive_errors_total")) {
        v->receive_errors = s->value;
    } else if (up_prom_name_is(s, "udp_proxy_kernel_receive_drops_total")) {
        v->kernel_drops += s->value;
        if ((r = reader_of(v, s)) >= 0)
            v->reader_kernel[r] = s->value;
    } else if (up_prom_name_is(s, "udp_proxy_reader_received_datagrams_total")) {
        if ((r = reader_of(v, s)) >= 0)
            v->reader_received[r] = s->value;
    } else if (up_prom_name_is(s, "process_start_time_seconds")) {
        v->start_time = s->value;
    } else if (up_prom_name_is(s, "udp_proxy_build_info")) {
        const char *ver = up_prom_label(s, "version");
        snprintf(v->version, sizeof(v->version), "%s", ver ? ver : "?");
    } else if (s->name_len > 10 && memcmp(s->name, "udp_proxy_", 10) == 0 && (t = target_of(v, s)) != NULL) {
        const char *reason = up_prom_label(s, "reason");
        if (up_prom_name_is(s, "udp_proxy_sent_datagrams_total"))
            t->sent = s->value;
        else if (up_prom_name_is(s, "udp_proxy_queue_depth"))
            t->depth = s->value;
        else if (up_prom_name_is(s, "udp_proxy_queue_capacity"))
            t->capacity = s->value;
        else if (up_prom_name_is(s, "udp_proxy_writer_up"))
            t->writer_up = s->value;
        else if (up_prom_name_is(s, "udp_proxy_dropped_datagrams_total") && reason) {
            if (strcmp(reason, "queue_full") == 0)
                t->queue_full = s->value;
            else if (strcmp(reason, "send_error") == 0)
                t->send_error = s->value;
            else if (strcmp(reason, "shutdown") == 0)
                t->shutdown = s->value;
        }
    }
    return 0;
}

static int scrape(const struct url *u, char *buf, struct up_prom_sample *scratch, struct view *v, char *err,
                  size_t errlen)
{
    const char *body = NULL;
    size_t len = 0;
    int r = fetch(u, buf, BODY_MAX, &body, &len, err, errlen);
    if (r != UP_OK)
        return r;
    memset(v, 0, sizeof(*v));
    v->taken_ns = up_now_ns();
    char perr[160];
    r = up_prom_parse(body, len, scratch, on_sample, v, perr, sizeof(perr));
    if (r != UP_OK) {
        snprintf(err, errlen, "%s: cannot parse the metrics: %s", u->text, perr);
        return r;
    }
    if (!v->have_received) {
        snprintf(err, errlen, "%s: no udp_proxy_received_datagrams_total: is this udp-proxy's /metrics?", u->text);
        return UP_EINVAL;
    }
    return UP_OK;
}

/* ---- the table ----------------------------------------------------------- */

/* Per second from two readings of a counter; one that went back (a
 * restart) counts from zero. */
static double rate(double cur, double prev, double secs)
{
    double d = cur >= prev ? cur - prev : cur;
    return secs > 0 ? d / secs : 0;
}

static const struct target_view *find_target(const struct view *v, const char *name)
{
    for (size_t i = 0; i < v->ntargets; i++)
        if (strcmp(v->targets[i].name, name) == 0)
            return &v->targets[i];
    return NULL;
}

static void print_table(const struct url *u, const struct view *cur, const struct view *prev, unsigned n,
                        unsigned count, bool clear)
{
    double secs = (double)(cur->taken_ns - prev->taken_ns) / 1e9;
    if (clear)
        fputs("\033[H\033[2J", stdout);
    double up = cur->start_time > 0 ? up_wall_time() - cur->start_time : 0;
    if (up < 0)
        up = 0;
    printf("udp-proxy %s at %s, up %.0fh%02.0fm%02.0fs; rates over the last %.1f s", cur->version, u->text,
           (double)((long long)up / 3600), (double)(((long long)up / 60) % 60), (double)((long long)up % 60), secs);
    if (count)
        printf(" (%u/%u)", n, count);
    printf("\n\n");
    printf("received %12.1f/s   kernel drops %.1f/s   oversize %.1f/s   not allowed %.1f/s   no buffer %.1f/s   "
           "receive errors %.1f/s\n",
           rate(cur->received, prev->received, secs), rate(cur->kernel_drops, prev->kernel_drops, secs),
           rate(cur->oversize, prev->oversize, secs), rate(cur->not_allowed, prev->not_allowed, secs),
           rate(cur->no_buffer, prev->no_buffer, secs), rate(cur->receive_errors, prev->receive_errors, secs));
    for (size_t i = 0; i < cur->nreaders; i++) {
        double pr = i < prev->nreaders ? prev->reader_received[i] : 0,
               pk = i < prev->nreaders ? prev->reader_kernel[i] : 0;
        printf("reader %-2zu %11.1f/s   kernel drops %.1f/s\n", i, rate(cur->reader_received[i], pr, secs),
               rate(cur->reader_kernel[i], pk, secs));
    }
    int w = 6;
    for (size_t i = 0; i < cur->ntargets; i++) {
        int l = (int)strlen(cur->targets[i].name);
        if (l > w)
            w = l < 48 ? l : 48;
    }
    printf("\n%-*s %12s %13s %13s %11s %19s %7s\n", w, "TARGET", "SENT/S", "QUEUE_FULL/S", "SEND_ERROR/S", "SHUTDOWN/S",
           "QUEUE/CAPACITY", "WRITER");
    for (size_t i = 0; i < cur->ntargets; i++) {
        const struct target_view *t = &cur->targets[i];
        const struct target_view *p = find_target(prev, t->name);
        struct target_view zero;
        if (!p) { /* added since the last scrape (reload): counts from zero */
            memset(&zero, 0, sizeof(zero));
            p = &zero;
        }
        char q[48];
        snprintf(q, sizeof(q), "%.0f/%.0f", t->depth, t->capacity);
        printf("%-*s %12.1f %13.1f %13.1f %11.1f %19s %7s\n", w, t->name, rate(t->sent, p->sent, secs),
               rate(t->queue_full, p->queue_full, secs), rate(t->send_error, p->send_error, secs),
               rate(t->shutdown, p->shutdown, secs), q, t->writer_up > 0 ? "up" : "DOWN");
    }
    if (!clear)
        printf("\n");
    fflush(stdout);
}

/* ---- the command --------------------------------------------------------- */

/* "--name=value" or "--name value" (one or two dashes). Returns the value,
 * NULL when argv[*i] is not this flag; *missing when the value is absent. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    const char *a = argv[*i];
    if (a[0] != '-')
        return NULL;
    a += a[1] == '-' ? 2 : 1;
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return "";
    }
    return argv[++*i];
}

static int bad_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "udp-proxy stats: %s%s%s%s\nTry 'udp-proxy stats --help' for more information.\n", msg,
            arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return 2;
}

int up_statscmd_main(int argc, char **argv)
{
    static struct url u;
    static struct view views[2];
    static struct up_prom_sample scratch;
    const char *url = NULL, *config = NULL;
    double interval = 2;
    unsigned long count = 0;
    char err[1200];

    for (int i = 2; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "-help") == 0) {
            usage(stdout);
            return 0;
        } else if ((v = flag_value(argc, argv, &i, "metrics-url", &missing)) != NULL) {
            url = v;
        } else if ((v = flag_value(argc, argv, &i, "config", &missing)) != NULL) {
            config = v;
        } else if ((v = flag_value(argc, argv, &i, "interval", &missing)) != NULL) {
            char *end = NULL;
            interval = strtod(v, &end);
            if (end != v && strcmp(end, "ms") == 0) /* the duration syntax of the other flags */
                interval /= 1000;
            else if (end != v && strcmp(end, "s") == 0)
                end++;
            if (!missing &&
                (end == v || (*end != '\0' && strcmp(end, "ms") != 0) || !(interval >= 0.1 && interval <= 3600)))
                return bad_usage("--interval: expected seconds from 0.1 to 3600 (e.g. 2, 0.5, 500ms), got", v);
        } else if ((v = flag_value(argc, argv, &i, "count", &missing)) != NULL) {
            char *end = NULL;
            count = strtoul(v, &end, 10);
            if (!missing && (end == v || *end != '\0' || v[0] == '-' || count > COUNT_MAX))
                return bad_usage("--count: expected a number of refreshes (0: until stopped), got", v);
        } else {
            return bad_usage("unknown argument", argv[i]);
        }
        if (missing)
            return bad_usage("this flag needs a value:", argv[i]);
    }
    if (up_net_init() != UP_OK) {
        fprintf(stderr, "udp-proxy stats: cannot initialise the network layer\n");
        return 1;
    }
    int r = url ? parse_url(url, &u, err, sizeof(err))
                : url_from_config(config ? config : UP_STATS_DEFAULT_CONFIG, &u, err, sizeof(err));
    if (r != UP_OK) {
        fprintf(stderr, "udp-proxy stats: %s\n", err);
        return 2;
    }
    char *buf = up_calloc(1, BODY_MAX);
    if (!buf) {
        fprintf(stderr, "udp-proxy stats: out of memory\n");
        return 1;
    }
    bool clear = isatty(1) && getenv("TERM") && getenv("TERM")[0] && strcmp(getenv("TERM"), "dumb") != 0;
    int status = 1;
    struct view *prev = &views[0], *cur = &views[1];
    if (scrape(&u, buf, &scratch, prev, err, sizeof(err)) != UP_OK)
        goto fail;
    for (unsigned n = 1; count == 0 || n <= count; n++) {
        up_sleep_ms((int)(interval * 1000));
        if (scrape(&u, buf, &scratch, cur, err, sizeof(err)) != UP_OK)
            goto fail;
        print_table(&u, cur, prev, n, (unsigned)count, clear);
        struct view *t = prev;
        prev = cur;
        cur = t;
    }
    status = 0;
    goto out;
fail:
    fprintf(stderr, "udp-proxy stats: %s\n", err);
out:
    up_free(buf);
    return status;
}
