/* selfstats.c - DogStatsD self-metrics sender (see selfstats.h). */
#include "selfstats.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "platform.h"

#define MAX_PACKETS 64 /* datagrams per report sent in one batch; more go in further batches */

struct up_selfstats {
    struct up_proxy *proxy;
    char prefix[UP_SELFSTATS_PREFIX_MAX];
    unsigned interval_ms;
    up_sock sock; /* connected to the agent, non-blocking */
    struct up_io *io;
    struct up_stats snap[2]; /* current and previous, used by the thread (and stop, after join) */
    int cur;                 /* index of the previous report's snapshot in snap */
    up_sem wake;             /* posted by stop */
    up_thread thread;
    bool sem_ok, started;
    atomic_int stop;
    /* The report being packed: packets of up to UP_SELFSTATS_PAYLOAD bytes. */
    char (*pkt)[UP_SELFSTATS_PAYLOAD];
    size_t pkt_len[MAX_PACKETS];
    size_t npkt;
    struct up_ratelimit rl;
};

static void put_tag_value(char *buf, size_t size, size_t *off, const char *v)
{
    for (; *v && *off + 1 < size; v++) {
        unsigned char ch = (unsigned char)*v;
        buf[(*off)++] = (ch <= ' ' || ch == ',' || ch == '|' || ch == '#' || ch == 0x7f) ? '_' : (char)ch;
    }
    buf[*off] = '\0';
}

void up_selfstats_format(const struct up_stats *cur, const struct up_stats *prev, const char *prefix,
                         up_selfstats_emit emit, void *ctx)
{
    char line[UP_SELFSTATS_PREFIX_MAX + 2 * UP_NAME_MAX + 128];
    for (size_t k = 0; k < up_metrics_count; k++) {
        const struct up_metric *m = &up_metrics[k];
        size_t n = m->scope == UP_METRIC_TARGET ? cur->ntargets : m->scope == UP_METRIC_READER ? cur->nreaders : 1;
        for (size_t i = 0; i < n; i++) {
            if (!up_metric_applies(m, cur, i))
                continue; /* line counters: shaped targets only */
            uint64_t v = m->get(cur, i);
            if (m->type == UP_METRIC_COUNTER && prev) {
                /* A reader array the previous snapshot lacks counts as zero;
                 * targets are matched by name (a reload adds and removes
                 * them), a new one counts from zero. */
                size_t pi = i;
                bool have = true;
                if (m->scope == UP_METRIC_READER)
                    have = i < prev->nreaders;
                else if (m->scope == UP_METRIC_TARGET)
                    have = (pi = up_stats_target_index(prev, cur->targets[i].name, i)) < prev->ntargets;
                uint64_t p = have ? m->get(prev, pi) : 0;
                v = v >= p ? v - p : v; /* the kernel's 32-bit drop counter may wrap */
            }
            int w = snprintf(line, sizeof(line), "%s%s:%" PRIu64 "|%s", prefix, m->name, v,
                             m->type == UP_METRIC_COUNTER ? "c" : "g");
            if (w < 0 || (size_t)w >= sizeof(line))
                continue;
            size_t off = (size_t)w;
            const char *sep = "|#";
            if (m->scope == UP_METRIC_TARGET) {
                off += (size_t)snprintf(line + off, sizeof(line) - off, "%starget:", sep);
                put_tag_value(line, sizeof(line), &off, cur->targets[i].name);
                sep = ",";
            } else if (m->scope == UP_METRIC_READER) {
                off += (size_t)snprintf(line + off, sizeof(line) - off, "%sreader:%llu", sep, (unsigned long long)i);
                sep = ",";
            }
            if (m->reason)
                off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s:%s", sep, up_metric_label(m), m->reason);
            if (off >= sizeof(line))
                continue;
            emit(ctx, line, off);
        }
    }
}

/* Send the packed packets and start a new report. */
static void flush(struct up_selfstats *s)
{
    struct up_dgram dg[MAX_PACKETS];
    size_t done = 0;
    for (size_t i = 0; i < s->npkt; i++) {
        UP_BUF_SET(dg[i].iov[0], s->pkt[i], s->pkt_len[i]);
        dg[i].iovcnt = 1;
        dg[i].len = (uint32_t)s->pkt_len[i];
        dg[i].flags = 0;
    }
    while (done < s->npkt) {
        int r = up_udp_send_batch(s->sock, s->io, dg + done, s->npkt - done);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == UP_EAGAIN && up_sock_wait(s->sock, true, 100) == 1)
            continue;
        up_log_limited(&s->rl, UP_LOG_WARN, "statsd-self: cannot send self-metrics: %s", up_strerror(r));
        done++; /* skip that datagram: the report goes on */
    }
    s->npkt = 0;
}

static void emit_line(void *ctx, const char *line, size_t len)
{
    struct up_selfstats *s = ctx;
    if (s->npkt > 0 && s->pkt_len[s->npkt - 1] + 1 + len <= UP_SELFSTATS_PAYLOAD) {
        char *p = s->pkt[s->npkt - 1] + s->pkt_len[s->npkt - 1];
        *p = '\n';
        memcpy(p + 1, line, len);
        s->pkt_len[s->npkt - 1] += 1 + len;
        return;
    }
    if (len > UP_SELFSTATS_PAYLOAD)
        return; /* cannot happen: lines are shorter than a datagram */
    if (s->npkt == MAX_PACKETS)
        flush(s);
    memcpy(s->pkt[s->npkt], line, len);
    s->pkt_len[s->npkt++] = len;
}

/* One report: what changed since the previous snapshot. */
static void report(struct up_selfstats *s)
{
    struct up_stats *prev = &s->snap[s->cur], *cur = &s->snap[1 - s->cur];
    up_proxy_snapshot(s->proxy, cur);
    up_selfstats_format(cur, prev, s->prefix, emit_line, s);
    flush(s);
    s->cur = 1 - s->cur;
}

static void *selfstats_main(void *arg)
{
    struct up_selfstats *s = arg;
    /* Acquire: pairs with the release store in up_selfstats_stop(). */
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        if (up_sem_wait(&s->wake, (int)s->interval_ms) == UP_OK)
            continue; /* posted: stopping */
        report(s);
    }
    return NULL;
}

int up_selfstats_new(struct up_proxy *p, const struct up_addr *addr, unsigned interval_ms, const char *prefix,
                     struct up_selfstats **out, char *err, size_t errlen)
{
    int r = UP_ENOMEM;
    struct up_selfstats *s = up_calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return UP_ENOMEM;
    }
    s->proxy = p;
    s->sock = UP_SOCK_INVALID;
    s->interval_ms = interval_ms ? interval_ms : 1;
    snprintf(s->prefix, sizeof(s->prefix), "%s", prefix);
    atomic_init(&s->stop, 0);
    size_t nt = up_proxy_target_count(p), nr = up_proxy_reader_count(p);
    for (int i = 0; i < 2; i++) {
        s->snap[i].targets = up_calloc(nt, sizeof(*s->snap[i].targets));
        s->snap[i].reader_kernel_drops = up_calloc(nr, sizeof(uint64_t));
        s->snap[i].reader_received = up_calloc(nr, sizeof(uint64_t));
        if (!s->snap[i].targets || !s->snap[i].reader_kernel_drops || !s->snap[i].reader_received)
            goto nomem;
    }
    s->pkt = up_calloc(MAX_PACKETS, sizeof(*s->pkt));
    if (!s->pkt || up_io_new(MAX_PACKETS, &s->io) != UP_OK)
        goto nomem;
    if ((r = up_sem_init(&s->wake)) != UP_OK)
        goto nomem;
    s->sem_ok = true;
    r = up_udp_open(addr->ss.ss_family, true, &s->sock);
    if (r == UP_OK)
        r = up_udp_connect(s->sock, (const struct sockaddr *)&addr->ss, addr->len);
    if (r != UP_OK) {
        snprintf(err, errlen, "--statsd-self: cannot send to %s: %s", addr->text, up_strerror(r));
        up_selfstats_free(s);
        return r;
    }
    /* Counters report what happened since start: the first delta is taken
     * against this zero-time snapshot. */
    up_proxy_snapshot(p, &s->snap[0]);
    s->cur = 0;
    *out = s;
    return UP_OK;
nomem:
    snprintf(err, errlen, "out of memory");
    up_selfstats_free(s);
    return UP_ENOMEM;
}

int up_selfstats_start(struct up_selfstats *s)
{
    int r = up_thread_start(&s->thread, selfstats_main, s, "up-selfstats");
    if (r == UP_OK)
        s->started = true;
    return r;
}

void up_selfstats_stop(struct up_selfstats *s)
{
    if (!s->started)
        return;
    atomic_store_explicit(&s->stop, 1, memory_order_release);
    up_sem_post(&s->wake);
    up_thread_join(s->thread);
    s->started = false;
    report(s); /* the last deltas: the sums now equal the final totals */
}

void up_selfstats_free(struct up_selfstats *s)
{
    if (!s)
        return;
    up_selfstats_stop(s);
    up_sock_close(s->sock);
    if (s->io)
        up_io_free(s->io);
    if (s->sem_ok)
        up_sem_destroy(&s->wake);
    for (int i = 0; i < 2; i++) {
        up_free(s->snap[i].targets);
        up_free(s->snap[i].reader_kernel_drops);
        up_free(s->snap[i].reader_received);
    }
    up_free(s->pkt);
    up_free(s);
}
