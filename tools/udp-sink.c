/*
 * udp-sink.c - receive datagrams on an address and account for them: count,
 * bytes, unique sequence numbers, duplicates, corrupted payloads, and the
 * kernel's drops on this very socket (so a loss at the sink is never blamed
 * on the proxy in front of it).
 *
 * Receives in batches (recvmmsg through src/platform.h) into buffers of the
 * largest UDP datagram, so nothing is ever cut. Seen sequence numbers live in
 * a bitmap allocated once at start-up (one bit each: --expect N, or
 * SEQ_MAX_DEFAULT; its pages become resident only as numbers arrive).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "alloc.h"
#include "cli.h"
#include "error.h"
#include "payload.h"
#include "platform.h"

#define PROG "udp-sink"
#define BATCH 64
#define DGRAM_MAX 65536                     /* larger than any UDP datagram: nothing is cut */
#define SEQ_MAX_DEFAULT ((uint64_t)1 << 30) /* bitmap bits without --expect (128 MiB of address space) */
#define POLL_MS 100                         /* longest wait before looking at the clock and signals */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: " PROG " --listen ADDR [options]\n"
            "\n"
            "Receive datagrams sent by udp-loadgen (usually through a proxy) and print one\n"
            "key=value line when done:\n"
            "  datagrams, bytes   everything received\n"
            "  unique             distinct sequence numbers among intact datagrams\n"
            "  duplicates         intact datagrams whose sequence number came before\n"
            "  corrupt            datagrams that fail the integrity check or carry no\n"
            "                     sequence number (not udp-loadgen's, altered, or cut)\n"
            "  beyond             intact datagrams numbered past the bitmap (--expect)\n"
            "  missing            --expect minus unique (only with --expect)\n"
            "  kernel_drops       datagrams the kernel dropped on this socket because its\n"
            "                     receive buffer was full (a sink-side loss)\n"
            "  seconds, rate      first to last datagram, and datagrams/s over it\n"
            "A datagram of a packing proxy (udp-proxy --target ADDR,max-datagram=BYTES:\n"
            "several generated datagrams joined by newlines) counts as one in datagrams\n"
            "and each generated datagram in it is checked on its own.\n"
            "\n"
            "  --listen ADDR         where to receive: :PORT, HOST:PORT, [IPV6]:PORT\n"
            "  --rcvbuf BYTES        receive buffer, 4K..1G, K/M/G suffixes (default 32M;\n"
            "                        above net.core.rmem_max it needs CAP_NET_ADMIN)\n"
            "  --idle-timeout SECS   stop when nothing arrived for SECS (default 2)\n"
            "  --max-seconds T       stop after T seconds in any case (default 60)\n"
            "  --expect N            stop as soon as N unique sequence numbers (0..N-1)\n"
            "                        arrived; also sizes the bitmap (default: no early\n"
            "                        stop, bitmap of %llu numbers)\n"
            "  --help, -h            show this help and exit\n"
            "\n"
            "SIGINT/SIGTERM stop it early; the summary is printed in every case.\n"
            "Exit status: 0 done, 1 runtime error (e.g. address in use), 2 bad usage.\n",
            (unsigned long long)SEQ_MAX_DEFAULT);
}

struct tally {
    uint64_t datagrams, bytes, unique, duplicates, corrupt, beyond;
    uint64_t first_ns, last_ns; /* arrival of the first and the latest datagram */
};

static void account_one(struct tally *t, uint8_t *seen, uint64_t bits, const uint8_t *p, size_t len, bool trunc)
{
    uint64_t seq;
    if (trunc || !up_payload_check(p, len, &seq)) {
        t->corrupt++;
        return;
    }
    if (seq >= bits) {
        t->beyond++;
        return;
    }
    uint8_t bit = (uint8_t)(1u << (seq & 7));
    if (seen[seq >> 3] & bit) {
        t->duplicates++;
    } else {
        seen[seq >> 3] |= bit;
        t->unique++;
    }
}

/* Where the generated datagram starting at p[start] ends: just after the
 * 8 hex digits of its ",up_sum:" when a '\n' follows (a packing proxy,
 * --target ...,max-datagram=BYTES, joined the next one on), else len. */
static size_t packed_end(const uint8_t *p, size_t len, size_t start)
{
    static const char mark[] = ",up_sum:";
    const size_t m = sizeof(mark) - 1, tail = m + 8;
    for (size_t i = start; i + tail < len; i++) {
        const uint8_t *hit = memchr(p + i, ',', len - tail - i);
        if (!hit)
            break;
        i = (size_t)(hit - p);
        if (memcmp(hit, mark, m) == 0 && p[i + tail] == '\n')
            return i + tail;
    }
    return len;
}

/* One received datagram: one generated datagram, or several whose lines a
 * packing proxy joined with '\n' (each is checked and counted on its own). */
static void account(struct tally *t, uint8_t *seen, uint64_t bits, const struct up_dgram *d)
{
    const uint8_t *p = UP_BUF_BASE(d->iov[0]);
    bool trunc = (d->flags & UP_DGRAM_TRUNC) != 0;
    t->datagrams++;
    t->bytes += d->len;
    for (size_t start = 0;;) {
        size_t end = trunc ? d->len : packed_end(p, d->len, start);
        account_one(t, seen, bits, p + start, end - start, trunc);
        if (end >= d->len)
            return;
        start = end + 1;
    }
}

int main(int argc, char **argv)
{
    char listen[1][UP_ADDR_TEXT_MAX];
    uint64_t rcvbuf = 32 << 20, expect = 0;
    double idle = 2, max_seconds = 60;
    struct up_cli_flag flags[] = {
        {"listen", UP_CLI_ADDR, 0, 0, NULL, 0, true, 1, listen, 0},
        {"rcvbuf", UP_CLI_SIZE, 4096, 1 << 30, NULL, 0, false, 0, &rcvbuf, 0},
        {"idle-timeout", UP_CLI_SECS, 1, 86400000, NULL, 0, false, 0, &idle, 0},
        {"max-seconds", UP_CLI_SECS, 1, 86400000, NULL, 0, false, 0, &max_seconds, 0},
        {"expect", UP_CLI_COUNT, 1, (uint64_t)1 << 40, NULL, 0, false, 0, &expect, 0},
    };
    up_cli_parse(PROG, flags, sizeof(flags) / sizeof(flags[0]), argc, argv, usage);
    struct up_addr addr;
    up_cli_resolve(PROG, "listen", listen[0], true, &addr);

    uint64_t bits = expect ? expect : SEQ_MAX_DEFAULT;
    uint8_t *seen = up_calloc(1, (size_t)((bits + 7) / 8));
    uint8_t *bufs = up_calloc(BATCH, DGRAM_MAX);
    struct up_dgram *dg = up_calloc(BATCH, sizeof(*dg));
    struct up_io *io = NULL;
    up_sock s = UP_SOCK_INVALID;
    int status = 1;
    int r = up_net_init();
    if (r == UP_OK && (!seen || !bufs || !dg))
        r = UP_ENOMEM;
    if (r == UP_OK)
        r = up_io_new(BATCH, &io);
    if (r != UP_OK) {
        fprintf(stderr, PROG ": cannot start: %s\n", up_strerror(r));
        goto out;
    }
    r = up_udp_open(addr.ss.ss_family, false, &s);
    if (r == UP_OK) {
        int got = 0;
        if (up_sock_set_buffer(s, true, (int)rcvbuf, &got) == UP_ERANGE)
            fprintf(stderr, PROG ": warning: receive buffer capped at %d bytes (asked --rcvbuf %llu)\n", got,
                    (unsigned long long)rcvbuf);
        up_sock_set_rcvtimeo(s, POLL_MS);
        r = up_udp_bind(s, (const struct sockaddr *)&addr.ss, addr.len, false, false);
    }
    if (r != UP_OK) {
        fprintf(stderr, PROG ": cannot listen on %s: %s\n", listen[0], up_strerror(r));
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    for (size_t i = 0; i < BATCH; i++) {
        UP_BUF_SET(dg[i].iov[0], bufs + i * DGRAM_MAX, DGRAM_MAX);
        dg[i].iovcnt = 1;
    }
    struct tally t;
    memset(&t, 0, sizeof(t));
    const uint64_t start = up_now_ns();
    const uint64_t idle_ns = (uint64_t)(idle * 1e9), max_ns = (uint64_t)(max_seconds * 1e9);
    uint64_t last = start;
    while (!stop_requested) {
        r = up_udp_recv_batch(s, io, dg, BATCH, true);
        uint64_t now = up_now_ns();
        if (r > 0) {
            for (int i = 0; i < r; i++)
                account(&t, seen, bits, &dg[i]);
            if (!t.first_ns)
                t.first_ns = now;
            t.last_ns = last = now;
            if (expect && t.unique >= expect)
                break;
        } else if (r != UP_EAGAIN) {
            fprintf(stderr, PROG ": receive failed: %s\n", up_strerror(r));
            up_sleep_ms(10);
        }
        if (now - last >= idle_ns || now - start >= max_ns)
            break;
    }
    uint64_t drops = 0;
    up_sock_rx_drops(s, &drops);
    double secs = t.last_ns > t.first_ns ? (double)(t.last_ns - t.first_ns) / 1e9 : 0.0;
    printf("datagrams=%llu bytes=%llu unique=%llu duplicates=%llu corrupt=%llu beyond=%llu",
           (unsigned long long)t.datagrams, (unsigned long long)t.bytes, (unsigned long long)t.unique,
           (unsigned long long)t.duplicates, (unsigned long long)t.corrupt, (unsigned long long)t.beyond);
    if (expect)
        printf(" expect=%llu missing=%llu", (unsigned long long)expect, (unsigned long long)(expect - t.unique));
    printf(" kernel_drops=%llu seconds=%.3f rate=%.0f\n", (unsigned long long)drops, secs,
           secs > 0 ? (double)t.datagrams / secs : 0.0);
    fflush(stdout);
    status = 0;
out:
    up_sock_close(s);
    up_io_free(io);
    up_free(seen);
    up_free(bufs);
    up_free(dg);
    return status;
}
