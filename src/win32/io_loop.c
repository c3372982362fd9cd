/*
 * win32/io_loop.c - batched datagram I/O by single calls (Winsock2).
 *
 * Windows has no recvmmsg/sendmmsg: a batch is a loop of WSARecvFrom or
 * WSASend calls, one per datagram, each with the datagram's two buffers
 * (WSABUF). The sockets are non-blocking (see net.c): a batch reads until
 * the queue is empty, and only a waiting receive with nothing queued
 * sleeps, in select(), for at most the socket's SO_RCVTIMEO.
 */
#include <stdatomic.h>

#include "../alloc.h"
#include "../error.h"
#include "../platform.h"
#include "ctrl.h"

/* Send calls made by all writers (each datagram sent or failed): the
 * service's stop progress (up_win_send_work). One relaxed add per batch;
 * only the count matters, no order with anything else. */
static atomic_uint_least64_t send_work;

uint64_t up_win_send_work(void)
{
    return atomic_load_explicit(&send_work, memory_order_relaxed);
}

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

/* Receive one datagram (and its sender into from, unless NULL). Returns 1,
 * UP_EAGAIN when none is queued, or an error. */
static int recv_one(up_sock s, struct up_dgram *d, struct sockaddr_storage *from)
{
    DWORD got = 0, flags = 0;
    INT fromlen = sizeof(*from);
    uint32_t cap = 0;
    for (uint32_t i = 0; i < d->iovcnt; i++)
        cap += (uint32_t)UP_BUF_LEN(d->iov[i]);
    for (;;) {
        if (WSARecvFrom(s, d->iov, d->iovcnt, &got, &flags, (struct sockaddr *)from, from ? &fromlen : NULL, NULL,
                        NULL) == 0) {
            d->len = (uint32_t)got;
            d->flags = (flags & MSG_PARTIAL) ? UP_DGRAM_TRUNC : 0;
            return 1;
        }
        int e = WSAGetLastError();
        if (e == WSAEMSGSIZE) {
            /* Larger than the buffers: Windows filled them and dropped the
             * rest. The real size is not told; report what arrived. */
            d->len = cap;
            d->flags = UP_DGRAM_TRUNC;
            return 1;
        }
        /* An ICMP error for an earlier send (SIO_UDP_CONNRESET could not be
         * switched off): not a datagram, try the next one. */
        if (e == WSAECONNRESET || e == WSAENETRESET)
            continue;
        return up_error_from_sys(e);
    }
}

static int recv_batch(up_sock s, struct up_io *io, struct up_dgram *dg, size_t n, bool wait,
                      struct sockaddr_storage *from)
{
    if (n > io->cap)
        n = io->cap;
    size_t i = 0;
    while (i < n) {
        int r = recv_one(s, &dg[i], from ? &from[i] : NULL);
        if (r == 1) {
            i++;
            continue;
        }
        if (r != UP_EAGAIN || i > 0 || !wait)
            return i > 0 ? (int)i : r;
        /* Nothing queued: sleep until a datagram comes or the timeout. */
        DWORD ms = 0;
        int len = sizeof(ms);
        if (getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (char *)&ms, &len) != 0 || ms == 0)
            ms = 1000;
        r = up_sock_wait(s, false, (int)ms);
        if (r <= 0)
            return r == 0 ? UP_EAGAIN : r;
        wait = false; /* one wait per batch, as MSG_WAITFORONE */
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

/* True when the socket has no peer (a target whose name has not resolved
 * yet). Asked only after a send failed. */
static bool no_peer(up_sock s)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    return getpeername(s, (struct sockaddr *)&ss, &len) != 0;
}

int up_udp_send_batch(up_sock s, struct up_io *io, const struct up_dgram *dg, size_t n)
{
    if (n > io->cap)
        n = io->cap;
    for (size_t i = 0; i < n; i++) {
        DWORD sent = 0;
        /* WSASend only reads the buffers; its prototype lacks the const. */
        if (WSASend(s, (WSABUF *)dg[i].iov, dg[i].iovcnt, &sent, 0, NULL, NULL) != 0) {
            int r = up_last_error();
            if (r == UP_EINVAL && no_peer(s))
                r = UP_ENOTCONN; /* Wine says WSAEINVAL where Windows says WSAENOTCONN */
            /* A failed send is work done (counted as a drop); a full buffer is not. */
            atomic_fetch_add_explicit(&send_work, i + (r != UP_EAGAIN), memory_order_relaxed);
            if (i > 0)
                return (int)i; /* the caller retries the rest and sees the error then */
            return r;
        }
    }
    atomic_fetch_add_explicit(&send_work, n, memory_order_relaxed);
    return (int)n;
}
