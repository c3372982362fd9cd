/*
 * naive.c - the benchmark's naive reference forwarder: the design that failed
 * in production. One thread receives one datagram with recvfrom(), then
 * sends it with sendto() to each target in turn, and only then receives the
 * next one. Every datagram costs 1 + T system calls; while it sends, nobody
 * reads the source socket.
 *
 * Not part of udp-proxy: built only for `make bench` (build/bench/naive).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "error.h"
#include "platform.h"
#include "ref.h"

int main(int argc, char **argv)
{
    static struct up_ref_config c;
    static uint8_t buf[65536];
    up_sock out[UP_REF_TARGETS_MAX];

    up_ref_parse(&c, "naive", "receive one datagram, send it to each target in turn", argc, argv);
    up_sock src;
    if (up_ref_open_source(&c, &src) != UP_OK)
        return 1;
    for (size_t t = 0; t < c.ntargets; t++)
        if (up_udp_open(c.targets[t].ss.ss_family, false, &out[t]) != UP_OK) {
            fprintf(stderr, "naive: cannot open a socket for %s\n", c.targets[t].text);
            return 1;
        }
    up_ref_on_stop();

    uint64_t received = 0, sent = 0, errors = 0;
    while (!up_ref_stopping()) {
        ssize_t n = recvfrom(src, buf, sizeof(buf), 0, NULL, NULL);
        if (n < 0)
            continue; /* EINTR (a stop signal) or the idle timeout: look at the flag */
        received++;
        for (size_t t = 0; t < c.ntargets; t++) {
            if (sendto(out[t], buf, (size_t)n, 0, (const struct sockaddr *)&c.targets[t].ss, c.targets[t].len) < 0)
                errors++;
            else
                sent++;
        }
    }
    up_ref_report("naive", src, received, sent, errors);
    for (size_t t = 0; t < c.ntargets; t++)
        up_sock_close(out[t]);
    up_sock_close(src);
    return 0;
}
