/*
 * posix/io_mmsg.c - batched datagram I/O with recvmmsg/sendmmsg (Linux).
 *
 * One system call moves a whole batch. The mmsghdr array is per thread
 * scratch (struct up_io), allocated at start-up; each call only points its
 * entries at the caller's up_dgram buffers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "../alloc.h"
#include "../error.h"
#include "../platform.h"

struct up_io {
    size_t cap;          /* entries in mm */
    struct mmsghdr mm[]; /* scratch, one per datagram of a batch */
};

int up_io_new(size_t cap, struct up_io **out)
{
    struct up_io *io = up_calloc(1, sizeof(*io) + cap * sizeof(struct mmsghdr));
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

static void point(struct up_io *io, const struct up_dgram *dg, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct msghdr *h = &io->mm[i].msg_hdr;
        h->msg_name = NULL;
        h->msg_namelen = 0;
        h->msg_iov = (struct iovec *)dg[i].iov;
        h->msg_iovlen = dg[i].iovcnt;
        h->msg_control = NULL;
        h->msg_controllen = 0;
        h->msg_flags = 0;
    }
}

static int recv_batch(up_sock s, struct up_io *io, struct up_dgram *dg, size_t n, bool wait,
                      struct sockaddr_storage *from)
{
    if (n > io->cap)
        n = io->cap;
    point(io, dg, n);
    if (from)
        for (size_t i = 0; i < n; i++) {
            io->mm[i].msg_hdr.msg_name = &from[i];
            io->mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
    /* MSG_TRUNC: report the real length of a datagram larger than the
     * buffers, so oversize is detected (and never forwarded cut). */
    int flags = MSG_TRUNC | (wait ? MSG_WAITFORONE : MSG_DONTWAIT);
    int r;
    for (;;) {
        /* Blocking socket: MSG_WAITFORONE waits (up to SO_RCVTIMEO) for the
         * first datagram only. */
        r = recvmmsg(s, io->mm, (unsigned)n, flags, NULL);
        if (r > 0)
            break;
        if (r == 0)
            return UP_EAGAIN;
        if (errno == EINTR)
            continue;
        return up_last_error();
    }
    for (int i = 0; i < r; i++) {
        dg[i].len = io->mm[i].msg_len;
        dg[i].flags = (io->mm[i].msg_hdr.msg_flags & MSG_TRUNC) ? UP_DGRAM_TRUNC : 0;
        /* A Unix sender that never bound has no name (length 0): the old
         * one would remain. A Unix path ends where the kernel's name ends. */
        socklen_t nl = io->mm[i].msg_hdr.msg_namelen;
        if (from && nl == 0)
            from[i].ss_family = AF_UNSPEC;
        else if (from && from[i].ss_family == AF_UNIX && nl < sizeof(from[i]))
            ((char *)&from[i])[nl] = '\0';
    }
    return r;
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
    point(io, dg, n);
    for (;;) {
        int r = sendmmsg(s, io->mm, (unsigned)n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0)
            return r;
        if (r == 0)
            return UP_EAGAIN;
        if (errno == EINTR)
            continue;
        return up_last_error();
    }
}
