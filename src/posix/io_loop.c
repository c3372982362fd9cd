/*
 * posix/io_loop.c - batched datagram I/O by single calls (POSIX without
 * recvmmsg/sendmmsg: macOS, the BSDs).
 *
 * A batch is a loop of recvmsg or sendmsg calls, one per datagram, each
 * with the datagram's two buffers (iovecs). The source socket blocks with
 * SO_RCVTIMEO (see net.c): a waiting batch blocks in its first receive only,
 * the rest are MSG_DONTWAIT, as MSG_WAITFORONE does. Linux uses io_mmsg.c;
 * configure with -DUP_IO_LOOP=ON to build this file there (to test it).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "../alloc.h"
#include "../error.h"
#include "../platform.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SIGPIPE is blocked in every thread anyway */
#endif

struct up_io {
    size_t cap; /* largest batch */
};

int up_io_new(size_t cap, struct up_io **out)
{
    struct up_io *io = up_calloc(1, sizeof(*io));
    if (!io)
        return UP_ENOMEM;
    io->cap = cap;
    *out = io;
    return UP_OK;
}

void up_io_free(struct up_io *io)
{
    up_free(io);
}

/* Receive one datagram (its sender into from, unless NULL). Returns 1,
 * UP_EAGAIN when none came, or an error. */
static int recv_one(up_sock s, struct up_dgram *d, struct sockaddr_storage *from, bool wait)
{
    struct msghdr h;
    memset(&h, 0, sizeof(h));
    h.msg_name = from;
    h.msg_namelen = from ? sizeof(*from) : 0;
    h.msg_iov = (struct iovec *)d->iov;
    h.msg_iovlen = d->iovcnt;
    for (;;) {
        ssize_t r = recvmsg(s, &h, wait ? 0 : MSG_DONTWAIT);
        if (r >= 0) {
            /* Larger than the buffers: the kernel cut it and says so. The
             * flag alone makes the reader count it as oversize. */
            d->len = (uint32_t)r;
            d->flags = (h.msg_flags & MSG_TRUNC) ? UP_DGRAM_TRUNC : 0;
            return 1;
        }
        if (errno == EINTR)
            continue;
        return up_last_error();
    }
}

static int recv_batch(up_sock s, struct up_io *io, struct up_dgram *dg, size_t n, bool wait,
                      struct sockaddr_storage *from)
{
    if (n > io->cap)
        n = io->cap;
    size_t i = 0;
    while (i < n) {
        int r = recv_one(s, &dg[i], from ? &from[i] : NULL, wait && i == 0);
        if (r != 1)
            return i > 0 ? (int)i : r;
        i++;
    }
    return (int)i;
}

int up_udp_recv_batch(up_sock s, struct up_io *io, struct up_dgram *dg, size_t n, bool wait)
{
    return recv_batch(s, io, dg, n, wait, NULL);
}

int up_udp_recv_batch_from(up_sock s, struct up_io *io, struct up_dgram *dg, size_t n, bool wait,
                           struct sockaddr_storage *from)
{
    return recv_batch(s, io, dg, n, wait, from);
}

int up_udp_send_batch(up_sock s, struct up_io *io, const struct up_dgram *dg, size_t n)
{
    if (n > io->cap)
        n = io->cap;
    for (size_t i = 0; i < n; i++) {
        struct msghdr h;
        memset(&h, 0, sizeof(h));
        h.msg_iov = (struct iovec *)dg[i].iov;
        h.msg_iovlen = dg[i].iovcnt;
        ssize_t r;
        do
            r = sendmsg(s, &h, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            if (i > 0)
                return (int)i; /* the caller retries the rest and sees the error then */
            return up_last_error();
        }
    }
    return (int)n;
}
