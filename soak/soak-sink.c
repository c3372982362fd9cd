/*
 * soak-sink.c - the soak's receiver: one per target (a UDP address or a Unix
 * datagram path), counting and checking every datagram for as long as the
 * soak runs, and telling the driver (soak/soak.py) what it got while it runs.
 *
 * Linux only (the soak runs in Linux namespaces), so it uses the socket API
 * directly: recvmmsg into buffers of the largest datagram (nothing is cut),
 * SO_MEMINFO for this socket's own kernel drops.
 *
 * Output, on stdout, one key=value line each:
 *   every --progress seconds:  progress t=<unix time> datagrams= unique= duplicates= corrupt= kernel_drops=
 *   on SIGTERM/SIGINT:         final t=... (the same fields)
 * and, on SIGTERM/SIGINT, the sequence numbers seen, as inclusive ranges
 * "FIRST LAST" one a line, in --seen FILE (the driver unions them over the
 * sink's restarts and maps the gaps to the time they were sent).
 *
 * Payloads are udp-loadgen's (tools/payload.h): each one carries a sequence
 * number and a checksum. --raw counts datagrams and their non-empty lines
 * only (for a target that rewrites the lines, such as dialect=otel).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "payload.h"

#define PROG "soak-sink"
#define BATCH 64
#define DGRAM_MAX 65536
#define SEQ_BITS ((uint64_t)1 << 31) /* bitmap: 256 MiB of address space, resident only where used */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct tally {
    uint64_t datagrams, unique, duplicates, corrupt, beyond;
    uint64_t lines; /* --raw only: newline-separated lines, empty ones not counted */
};

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t kernel_drops(int fd)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mem);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
        len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)))
        return 0;
    return mem[SK_MEMINFO_DROPS];
}

static void report(const char *what, const struct tally *t, int fd)
{
    printf(
        "%s t=%.3f datagrams=%llu unique=%llu duplicates=%llu corrupt=%llu beyond=%llu lines=%llu kernel_drops=%llu\n",
        what, wall(), (unsigned long long)t->datagrams, (unsigned long long)t->unique,
        (unsigned long long)t->duplicates, (unsigned long long)t->corrupt, (unsigned long long)t->beyond,
        (unsigned long long)t->lines, (unsigned long long)kernel_drops(fd));
    fflush(stdout);
}

static void account(struct tally *t, uint64_t *seen, uint64_t *max_seq, const uint8_t *data, size_t len, int flags,
                    int raw)
{
    uint64_t seq;
    t->datagrams++;
    if (raw) {
        size_t start = 0;
        for (size_t i = 0; i <= len; i++)
            if (i == len || data[i] == '\n') {
                if (i > start)
                    t->lines++;
                start = i + 1;
            }
        return;
    }
    if ((flags & MSG_TRUNC) || !up_payload_check(data, len, &seq)) {
        t->corrupt++;
        return;
    }
    if (seq >= SEQ_BITS) {
        t->beyond++;
        return;
    }
    uint64_t bit = (uint64_t)1 << (seq & 63);
    if (seen[seq >> 6] & bit) {
        t->duplicates++;
    } else {
        seen[seq >> 6] |= bit;
        t->unique++;
        if (seq > *max_seq)
            *max_seq = seq;
    }
}

/* Write the seen sequence numbers as ranges; returns 0 or -1. */
static int write_seen(const char *path, const uint64_t *seen, uint64_t max_seq)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int64_t first = -1;
    for (uint64_t w = 0; w <= max_seq >> 6; w++) {
        uint64_t v = seen[w];
        if ((v == 0 && first < 0) || (v == ~(uint64_t)0 && first >= 0))
            continue;
        for (unsigned b = 0; b < 64; b++) {
            bool on = (v >> b) & 1;
            uint64_t seq = w * 64 + b;
            if (on && first < 0)
                first = (int64_t)seq;
            else if (!on && first >= 0) {
                fprintf(f, "%lld %llu\n", (long long)first, (unsigned long long)(seq - 1));
                first = -1;
            }
        }
    }
    if (first >= 0)
        fprintf(f, "%lld %llu\n", (long long)first, (unsigned long long)(((max_seq >> 6) + 1) * 64 - 1));
    return fclose(f) == 0 ? 0 : -1;
}

/* Receive what is queued now (at most `rounds` batches); returns how many. */
static uint64_t drain(int fd, struct mmsghdr *msgs, struct iovec *iov, uint8_t *bufs, struct tally *t, uint64_t *seen,
                      uint64_t *max_seq, int raw, int rounds)
{
    uint64_t got = 0;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs + (size_t)i * DGRAM_MAX;
            iov[i].iov_len = DGRAM_MAX;
            memset(&msgs[i], 0, sizeof(msgs[i]));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            account(t, seen, max_seq, bufs + (size_t)i * DGRAM_MAX, msgs[i].msg_len, msgs[i].msg_hdr.msg_flags, raw);
        got += (uint64_t)n;
    }
    return got;
}

static int open_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        if (strlen(spec + 5) >= sizeof(un->sun_path))
            return -1;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, spec + 5);
        *len = sizeof(*un);
        unlink(un->sun_path);
        return socket(AF_UNIX, SOCK_DGRAM, 0);
    }
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof(host))
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
        return -1;
    *len = sizeof(*in);
    return socket(AF_INET, SOCK_DGRAM, 0);
}

int main(int argc, char **argv)
{
    const char *listen_at = NULL, *seen_path = NULL;
    double progress = 0.5;
    int raw = 0, rcvbuf = 32 << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc)
            listen_at = argv[++i];
        else if (!strcmp(argv[i], "--seen") && i + 1 < argc)
            seen_path = argv[++i];
        else if (!strcmp(argv[i], "--progress") && i + 1 < argc)
            progress = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rcvbuf") && i + 1 < argc)
            rcvbuf = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--raw"))
            raw = 1;
        else {
            fprintf(stderr,
                    "Usage: " PROG " --listen HOST:PORT|unix:PATH [--seen FILE] [--progress SECS] [--rcvbuf BYTES]"
                    " [--raw]\n");
            return 2;
        }
    }
    if (!listen_at || progress <= 0 || rcvbuf <= 0) {
        fprintf(stderr, PROG ": --listen is required; --progress and --rcvbuf must be positive\n");
        return 2;
    }
    struct sockaddr_storage ss;
    socklen_t sslen;
    int fd = open_listen(listen_at, &ss, &sslen);
    uint64_t *seen = calloc(SEQ_BITS / 64, sizeof(uint64_t));
    uint8_t *bufs = malloc((size_t)BATCH * DGRAM_MAX);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    if (fd < 0 || !seen || !bufs) {
        fprintf(stderr, PROG ": cannot start on %s: %s\n", listen_at, strerror(errno));
        return 1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
        fprintf(stderr, PROG ": cannot listen on %s: %s\n", listen_at, strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct tally t;
    memset(&t, 0, sizeof(t));
    uint64_t max_seq = 0;
    double next = wall() + progress;
    report("ready", &t, fd);
    while (!stop_requested) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 100);
        if (pr > 0)
            drain(fd, msgs, iov, bufs, &t, seen, &max_seq, raw, 64);
        double now = wall();
        if (now >= next) {
            report("progress", &t, fd);
            next = now + progress;
        }
    }
    /* Stop taking datagrams before the last read, so that each one the
     * sender's kernel accepted is either counted here or counted by the
     * kernel: a Unix socket shut for reading fails the sender's next send
     * (EPIPE); a UDP socket connected elsewhere no longer matches the
     * sender, whose datagrams then count in the namespace's Udp NoPorts. */
    if (ss.ss_family == AF_UNIX) {
        shutdown(fd, SHUT_RD);
    } else {
        struct sockaddr_in away = {.sin_family = AF_INET, .sin_port = htons(9)};
        away.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connect(fd, (struct sockaddr *)&away, sizeof(away));
    }
    while (drain(fd, msgs, iov, bufs, &t, seen, &max_seq, raw, 64) > 0) /* what was queued before that */
        ;
    report("final", &t, fd);
    int status = 0;
    if (seen_path && write_seen(seen_path, seen, max_seq) != 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", seen_path, strerror(errno));
        status = 1;
    }
    if (ss.ss_family == AF_UNIX)
        unlink(((struct sockaddr_un *)&ss)->sun_path);
    close(fd);
    free(seen);
    free(bufs);
    return status;
}
