/*
 * batched.c - the benchmark's minimal batched reference forwarder: a rough
 * physical limit for this machine. One thread receives a batch with
 * recvmmsg(), then sends the whole batch with sendmmsg() on each target's
 * connected socket. No queues, no counters per target, no threads: a
 * datagram the target's socket cannot take right now is simply dropped.
 *
 * Not part of udp-proxy: built only for `make bench` (build/bench/batched).
 */
#include <stdio.h>

#include "addr.h"
#include "alloc.h"
#include "error.h"
#include "platform.h"
#include "ref.h"

#define BATCH 64 /* the same batch size as udp-proxy (UP_BATCH) */
#define DGRAM_MAX 65536

int main(int argc, char **argv)
{
    static struct up_ref_config c;
    static struct up_dgram dg[BATCH];
    up_sock out[UP_REF_TARGETS_MAX];
    struct up_io *io = NULL;

    up_ref_parse(&c, "batched", "receive a batch (recvmmsg), send it to each target (sendmmsg)", argc, argv);
    up_sock src;
    uint8_t *bufs = up_calloc(BATCH, DGRAM_MAX);
    if (!bufs || up_io_new(BATCH, &io) != UP_OK || up_ref_open_source(&c, &src) != UP_OK)
        return 1;
    for (size_t t = 0; t < c.ntargets; t++)
        if (up_udp_open(c.targets[t].ss.ss_family, true, &out[t]) != UP_OK ||
            up_udp_connect(out[t], (const struct sockaddr *)&c.targets[t].ss, c.targets[t].len) != UP_OK) {
            fprintf(stderr, "batched: cannot open a socket to %s\n", c.targets[t].text);
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
            continue; /* idle timeout or a stop signal: look at the flag */
        received += (uint64_t)r;
        for (int i = 0; i < r; i++)
            UP_BUF_SET(dg[i].iov[0], UP_BUF_BASE(dg[i].iov[0]), dg[i].len);
        for (size_t t = 0; t < c.ntargets; t++) {
            size_t done = 0;
            while (done < (size_t)r) {
                int k = up_udp_send_batch(out[t], io, dg + done, (size_t)r - done);
                if (k > 0) {
                    done += (size_t)k;
                    sent += (uint64_t)k;
                } else if (k == UP_EAGAIN) {
                    break; /* socket full: the rest is dropped for this target */
                } else {
                    errors++; /* this datagram failed; go on with the next */
                    done++;
                }
            }
        }
    }
    up_ref_report("batched", src, received, sent, errors);
    for (size_t t = 0; t < c.ntargets; t++)
        up_sock_close(out[t]);
    up_sock_close(src);
    up_io_free(io);
    up_free(bufs);
    return 0;
}
