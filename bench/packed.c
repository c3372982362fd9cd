/*
 * packed.c - the benchmark's minimal packing reference forwarder: batched.c
 * plus line packing as udp-proxy's max-datagram does it. One thread
 * receives a batch with recvmmsg(), joins the datagrams with '\n' into
 * datagrams of at most --max-datagram bytes (one that fits is never split,
 * a larger one only at line boundaries, a longer line alone), and sends the
 * packed datagrams with sendmmsg() to each target. Packed once, sent to
 * every target; no queues, no threads: what a socket cannot take right now
 * is dropped. A floor for what packing can cost on this machine.
 *
 * Not part of udp-proxy: built only for `make bench` (build/bench/packed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "alloc.h"
#include "error.h"
#include "platform.h"
#include "ref.h"

#define BATCH 64
#define DGRAM_MAX 65536
#define PACK_MAX 8192 /* udp-proxy's --target ADDR,max-datagram=8192 */

struct pack {
    uint8_t *buf; /* BATCH * DGRAM_MAX + BATCH: never full for one batch */
    size_t used;
    struct up_dgram out[2 * BATCH + DGRAM_MAX / 2]; /* lines of a batch can need this many */
    size_t nout;
    bool open;
};

/* Append bytes as a line of the open datagram, or start one. */
static void put(struct pack *k, const uint8_t *d, size_t n, bool alone)
{
    struct up_dgram *last = k->nout ? &k->out[k->nout - 1] : NULL;
    if (!alone && k->open && last && last->len + 1 + n <= PACK_MAX) {
        k->buf[k->used] = '\n';
        memcpy(k->buf + k->used + 1, d, n);
        k->used += 1 + n;
        last->len += (uint32_t)(1 + n);
        UP_BUF_SET(last->iov[0], UP_BUF_BASE(last->iov[0]), last->len);
        return;
    }
    memcpy(k->buf + k->used, d, n);
    struct up_dgram *o = &k->out[k->nout++];
    UP_BUF_SET(o->iov[0], k->buf + k->used, n);
    o->iovcnt = 1;
    o->len = (uint32_t)n;
    o->flags = 0;
    k->used += n;
    k->open = !alone;
}

static void add(struct pack *k, const uint8_t *d, size_t n)
{
    if (n <= PACK_MAX) {
        put(k, d, n, false);
        return;
    }
    for (size_t pos = 0; pos < n;) {
        const uint8_t *nl = memchr(d + pos, '\n', n - pos);
        size_t l = nl ? (size_t)(nl - (d + pos)) : n - pos;
        if (l)
            put(k, d + pos, l, l > PACK_MAX);
        pos += l + 1;
    }
}

int main(int argc, char **argv)
{
    static struct up_ref_config c;
    static struct up_dgram dg[BATCH];
    static struct pack k;
    up_sock out[UP_REF_TARGETS_MAX];
    struct up_io *io = NULL;

    up_ref_parse(&c, "packed", "receive a batch (recvmmsg), pack its lines into 8 KiB datagrams, send to each target",
                 argc, argv);
    up_sock src;
    uint8_t *bufs = up_calloc(BATCH, DGRAM_MAX);
    k.buf = up_calloc(BATCH + 1, DGRAM_MAX);
    if (!bufs || !k.buf || up_io_new(BATCH, &io) != UP_OK || up_ref_open_source(&c, &src) != UP_OK)
        return 1;
    for (size_t t = 0; t < c.ntargets; t++)
        if (up_udp_open(c.targets[t].ss.ss_family, true, &out[t]) != UP_OK ||
            up_udp_connect(out[t], (const struct sockaddr *)&c.targets[t].ss, c.targets[t].len) != UP_OK) {
            fprintf(stderr, "packed: cannot open a socket to %s\n", c.targets[t].text);
            return 1;
        }
    up_ref_on_stop();

    uint64_t received = 0, sent = 0, errors = 0;
    while (!up_ref_stopping()) {
        for (size_t i = 0; i < BATCH; i++) {
            UP_BUF_SET(dg[i].iov[0], bufs + i * DGRAM_MAX, DGRAM_MAX);
            dg[i].iovcnt = 1;
        }
        int r = up_udp_recv_batch(src, io, dg, BATCH, true);
        if (r <= 0)
            continue;
        received += (uint64_t)r;
        k.used = k.nout = 0;
        k.open = false;
        for (int i = 0; i < r; i++)
            add(&k, UP_BUF_BASE(dg[i].iov[0]), dg[i].len);
        for (size_t t = 0; t < c.ntargets; t++) {
            size_t done = 0;
            while (done < k.nout) {
                size_t chunk = k.nout - done < BATCH ? k.nout - done : BATCH;
                int s = up_udp_send_batch(out[t], io, k.out + done, chunk);
                if (s > 0) {
                    done += (size_t)s;
                    sent += (uint64_t)s;
                } else if (s == UP_EAGAIN) {
                    break; /* socket full: the rest is dropped for this target */
                } else {
                    errors++;
                    done++;
                }
            }
        }
    }
    up_ref_report("packed", src, received, sent, errors);
    for (size_t t = 0; t < c.ntargets; t++)
        up_sock_close(out[t]);
    up_sock_close(src);
    up_io_free(io);
    up_free(bufs);
    up_free(k.buf);
    return 0;
}
