/*
 * udp-loadgen.c - send N numbered DogStatsD datagrams to a UDP address, at a
 * fixed rate or as fast as possible, bounded in count and time.
 *
 * Usable against any UDP proxy; pair it with udp-sink on the proxy's targets.
 * The datagrams come from tools/payload.c: a template (shared, generated at
 * start-up) plus a short numbered, checksummed tail, sent with sendmmsg from
 * two iovecs each, so the generator itself costs little per datagram.
 *
 * Pacing: datagram i is due at start + i / rate. The sender sleeps until a
 * chunk of datagrams is due (about half a millisecond of traffic, at most
 * --batch) and sends everything due in one call, so a paced run follows the
 * clock closely without a system call per datagram.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "alloc.h"
#include "cli.h"
#include "error.h"
#include "payload.h"
#include "platform.h"

#define PROG "udp-loadgen"
#define BATCH_MAX 1024 /* sendmmsg takes at most UIO_MAXIOV messages */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: " PROG " --target ADDR [--count N] [--rate PER_SEC|max] [options]\n"
            "\n"
            "Send N numbered DogStatsD datagrams to ADDR (a proxy under test) and print one\n"
            "key=value line: sent, bytes, seconds, rate (achieved, datagrams/s), send_errors.\n"
            "Check what arrives with udp-sink on the proxy's targets.\n"
            "\n"
            "  --target ADDR       where to send: HOST:PORT, :PORT (this host), [IPV6]:PORT\n"
            "  --count N           datagrams to send, sequence numbers 0..N-1 (default 100000)\n"
            "  --rate R            datagrams per second, paced by the clock, 1..100000000;\n"
            "                      'max' sends as fast as possible (default 10000)\n"
            "  --seed S            payload seed: the same seed sends the same bytes (default 1)\n"
            "  --large-share PCT   percent of datagrams that are large packets of ~1.5 to 8 KiB,\n"
            "                      0..100 (default 1); the rest are ~30 to ~1,400 bytes\n"
            "  --max-seconds T     stop after T seconds even if N were not sent (default 60)\n"
            "  --batch N           datagrams per sendmmsg call, 1..%d (default 64); at a paced\n"
            "                      rate a call carries about 0.5 ms of traffic, at most N\n"
            "  --first-seq S       number the datagrams S..S+N-1 (default 0), so that two\n"
            "                      senders to the same sinks never share a number\n"
            "  --progress SECS     every SECS, print 'progress t=<unix time> seq=<next>' on\n"
            "                      stderr (when each number was sent; default off)\n"
            "  --help, -h          show this help and exit\n"
            "\n"
            "Every datagram's last line ends with the tags up_seq:<n>,up_sum:<hex>: the\n"
            "sequence number and a 32-bit FNV-1a hash of the bytes before ',up_sum:'.\n"
            "Exit status: 0 sent (send errors are counted, not fatal), 1 runtime error,\n"
            "2 bad usage.\n",
            BATCH_MAX);
}

static void sleep_until(uint64_t due_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(due_ns / 1000000000u), .tv_nsec = (long)(due_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

int main(int argc, char **argv)
{
    char target[1][UP_ADDR_TEXT_MAX];
    uint64_t count = 100000, rate = 10000, seed = 1, large = 1, batch = 64, first = 0;
    double max_seconds = 60, progress = 0;
    struct up_cli_flag flags[] = {
        {"target", UP_CLI_ADDR, 0, 0, NULL, 0, true, 1, target, 0},
        {"count", UP_CLI_COUNT, 1, (uint64_t)1 << 40, NULL, 0, false, 0, &count, 0},
        {"rate", UP_CLI_COUNT, 1, 100000000, "max", 0, false, 0, &rate, 0},
        {"seed", UP_CLI_COUNT, 0, (uint64_t)1 << 50, NULL, 0, false, 0, &seed, 0},
        {"large-share", UP_CLI_COUNT, 0, 100, NULL, 0, false, 0, &large, 0},
        {"max-seconds", UP_CLI_SECS, 1, 86400000, NULL, 0, false, 0, &max_seconds, 0},
        {"batch", UP_CLI_COUNT, 1, BATCH_MAX, NULL, 0, false, 0, &batch, 0},
        {"first-seq", UP_CLI_COUNT, 0, (uint64_t)1 << 40, NULL, 0, false, 0, &first, 0},
        {"progress", UP_CLI_SECS, 0, 86400000, NULL, 0, false, 0, &progress, 0},
    };
    up_cli_parse(PROG, flags, sizeof(flags) / sizeof(flags[0]), argc, argv, usage);
    struct up_addr addr;
    up_cli_resolve(PROG, "target", target[0], false, &addr);

    struct up_payload *pl = NULL;
    struct up_io *io = NULL;
    struct up_dgram *dg = up_calloc(batch, sizeof(*dg));
    char(*tails)[UP_PAYLOAD_TAIL_MAX] = up_calloc(batch, UP_PAYLOAD_TAIL_MAX);
    up_sock s = UP_SOCK_INVALID;
    int status = 1;
    int r = up_net_init();
    if (r == UP_OK && (!dg || !tails))
        r = UP_ENOMEM;
    if (r == UP_OK)
        r = up_payload_new(seed, (unsigned)large, &pl);
    if (r == UP_OK)
        r = up_io_new(batch, &io);
    if (r != UP_OK) {
        fprintf(stderr, PROG ": cannot start: %s\n", up_strerror(r));
        goto out;
    }
    r = up_udp_open(addr.ss.ss_family, true, &s);
    if (r == UP_OK)
        up_sock_set_buffer(s, false, 4 << 20, NULL); /* bursts of large datagrams */
    if (r == UP_OK)
        r = up_udp_connect(s, (const struct sockaddr *)&addr.ss, addr.len);
    if (r != UP_OK) {
        fprintf(stderr, PROG ": cannot send to %s: %s\n", target[0], up_strerror(r));
        goto out;
    }

    /* rate 0 stands for "max". chunk: datagrams per wake-up when paced. */
    uint64_t chunk = rate ? rate / 2000 : batch;
    if (chunk < 1)
        chunk = 1;
    if (chunk > batch)
        chunk = batch;
    uint64_t sent = 0, bytes = 0, errors = 0, seq = 0;
    const uint64_t start = up_now_ns();
    const uint64_t deadline = start + (uint64_t)(max_seconds * 1e9);
    uint64_t now = start;
    const uint64_t progress_ns = (uint64_t)(progress * 1e9);
    uint64_t progress_due = start;
    while (seq < count && now < deadline) {
        if (progress_ns && now >= progress_due) {
            struct timespec wall;
            clock_gettime(CLOCK_REALTIME, &wall);
            fprintf(stderr, "progress t=%lld.%03ld seq=%llu\n", (long long)wall.tv_sec, wall.tv_nsec / 1000000,
                    (unsigned long long)(first + seq));
            progress_due = now + progress_ns;
        }
        uint64_t n = batch;
        if (rate) {
            /* Due by now: floor(elapsed * rate); wait for a chunk if fewer. */
            uint64_t due = (uint64_t)((double)(now - start) * (double)rate / 1e9);
            if (due < seq + chunk && due < count) {
                uint64_t want = seq + chunk < count ? seq + chunk : count;
                sleep_until(start + (uint64_t)((double)want * 1e9 / (double)rate));
                now = up_now_ns();
                continue;
            }
            n = due - seq;
        }
        if (n > batch)
            n = batch;
        if (n > count - seq)
            n = count - seq;
        for (uint64_t i = 0; i < n; i++) {
            const char *b;
            size_t blen;
            size_t tlen = up_payload_get(pl, first + seq + i, &b, &blen, tails[i]);
            UP_BUF_SET(dg[i].iov[0], b, blen);
            UP_BUF_SET(dg[i].iov[1], tails[i], tlen);
            dg[i].iovcnt = 2;
            dg[i].len = (uint32_t)(blen + tlen);
        }
        uint64_t done = 0;
        while (done < n) {
            r = up_udp_send_batch(s, io, dg + done, n - done);
            if (r > 0) {
                for (int i = 0; i < r; i++)
                    bytes += dg[done + (uint64_t)i].len;
                done += (uint64_t)r;
                sent += (uint64_t)r;
            } else if (r == UP_EAGAIN) {
                up_sock_wait(s, true, 100); /* send buffer full: wait for room */
            } else {
                errors++; /* e.g. ECONNREFUSED: nothing listening; counted, go on */
                done++;
            }
            if (up_now_ns() >= deadline)
                break;
        }
        seq += done;
        now = up_now_ns();
    }
    double secs = (double)(up_now_ns() - start) / 1e9;
    char offered[24] = "max";
    if (rate)
        snprintf(offered, sizeof(offered), "%llu", (unsigned long long)rate);
    printf("sent=%llu bytes=%llu seconds=%.3f rate=%.0f send_errors=%llu offered_rate=%s count=%llu seed=%llu\n",
           (unsigned long long)sent, (unsigned long long)bytes, secs, secs > 0 ? (double)sent / secs : 0.0,
           (unsigned long long)errors, offered, (unsigned long long)count, (unsigned long long)seed);
    fflush(stdout);
    status = 0;
out:
    up_sock_close(s);
    up_io_free(io);
    up_payload_free(pl);
    up_free(dg);
    up_free(tails);
    return status;
}
