/*
 * posix/tcp.c - non-blocking TCP streams and poll() for the metrics HTTP
 * server (see platform.h). Nothing here is on the datagram path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../error.h"
#include "../platform.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SIGPIPE is ignored process-wide (ctrl.c) */
#endif

int up_tcp_listen(const struct sockaddr *sa, up_socklen len, int backlog, up_sock *out)
{
    int one = 1, zero = 0;
    int s = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return up_last_error();
    int r = UP_OK;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto fail;
    if (sa->sa_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
        goto fail;
    if (bind(s, sa, len) < 0 || listen(s, backlog) < 0)
        goto fail;
    *out = s;
    return UP_OK;
fail:
    r = up_last_error();
    close(s);
    return r;
}

int up_tcp_accept(up_sock l, up_sock *out)
{
    int s = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (s < 0) {
        /* A connection reset while it waited in the backlog is not an
         * error of the listener: try the next one later. */
        if (errno == ECONNABORTED || errno == EPROTO)
            return UP_EAGAIN;
        return up_last_error();
    }
    *out = s;
    return UP_OK;
}

int up_tcp_recv(up_sock s, void *buf, size_t size)
{
    ssize_t n = recv(s, buf, size, MSG_DONTWAIT);
    if (n > 0)
        return n > INT32_MAX ? INT32_MAX : (int)n;
    if (n == 0)
        return UP_ECLOSED;
    return up_last_error();
}

int up_tcp_send(up_sock s, const void *buf, size_t size)
{
    if (size > INT32_MAX)
        size = INT32_MAX;
    ssize_t n = send(s, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    return up_last_error();
}

int up_tcp_connect(const struct sockaddr *sa, up_socklen len, int timeout_ms, up_sock *out)
{
    int s = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return up_last_error();
    int r = UP_OK;
    if (connect(s, sa, len) < 0) {
        if (errno != EINPROGRESS) {
            r = up_last_error();
            goto fail;
        }
        struct pollfd pfd = {s, POLLOUT, 0};
        int n;
        do
            n = poll(&pfd, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            r = up_last_error();
            goto fail;
        }
        if (n == 0) {
            r = UP_ETIMEDOUT;
            goto fail;
        }
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
            r = up_last_error();
            goto fail;
        }
        if (soerr) {
            r = up_error_from_sys(soerr);
            goto fail;
        }
    }
    *out = s;
    return UP_OK;
fail:
    close(s);
    return r;
}

int up_tcp_shutdown_write(up_sock s)
{
    if (shutdown(s, SHUT_WR) < 0)
        return up_last_error();
    return UP_OK;
}

int up_sock_poll(struct up_pollsock *p, size_t n, int timeout_ms)
{
    struct pollfd fds[UP_POLL_MAX];
    if (n > UP_POLL_MAX)
        return UP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        fds[i].fd = p[i].sock; /* a negative fd (UP_SOCK_INVALID) is ignored by poll() */
        fds[i].events =
            (short)(((p[i].events & UP_POLL_IN) ? POLLIN : 0) | ((p[i].events & UP_POLL_OUT) ? POLLOUT : 0));
        fds[i].revents = 0;
    }
    int r = poll(fds, (nfds_t)n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : up_last_error();
    for (size_t i = 0; i < n; i++) {
        short e = fds[i].revents;
        p[i].revents = ((e & POLLIN) ? UP_POLL_IN : 0u) | ((e & POLLOUT) ? UP_POLL_OUT : 0u) |
                       ((e & (POLLERR | POLLHUP | POLLNVAL)) ? UP_POLL_ERR : 0u);
    }
    return r;
}
