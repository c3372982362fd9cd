/*
 * win32/tcp.c - non-blocking TCP streams and WSAPoll() for the metrics HTTP
 * server on Windows (see platform.h). WSAPoll exists from Vista on.
 * Errors come from WSAGetLastError() through up_last_error().
 */
#include <limits.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include "../error.h"
#include "../platform.h"

static int set_nonblocking(SOCKET s)
{
    u_long on = 1;
    if (ioctlsocket(s, FIONBIO, &on) != 0)
        return up_last_error();
    return UP_OK;
}

int up_tcp_listen(const struct sockaddr *sa, up_socklen len, int backlog, up_sock *out)
{
    DWORD off = 0;
    BOOL excl = TRUE;
    SOCKET s = WSASocketW(sa->sa_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET)
        return up_last_error();
    int r;
    /* Windows' SO_REUSEADDR would let another process steal the port;
     * exclusive use is the safe equivalent of the POSIX behaviour. */
    if (setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&excl, sizeof(excl)) != 0)
        goto fail;
    if (sa->sa_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&off, sizeof(off)) != 0)
        goto fail;
    if (bind(s, sa, len) != 0 || listen(s, backlog) != 0)
        goto fail;
    if ((r = set_nonblocking(s)) != UP_OK) {
        closesocket(s);
        return r;
    }
    *out = s;
    return UP_OK;
fail:
    r = up_last_error();
    closesocket(s);
    return r;
}

int up_tcp_accept(up_sock l, up_sock *out)
{
    SOCKET s = accept(l, NULL, NULL);
    if (s == INVALID_SOCKET) {
        if (WSAGetLastError() == WSAECONNRESET)
            return UP_EAGAIN; /* reset while waiting in the backlog */
        return up_last_error();
    }
    int r = set_nonblocking(s);
    if (r != UP_OK) {
        closesocket(s);
        return r;
    }
    *out = s;
    return UP_OK;
}

int up_tcp_recv(up_sock s, void *buf, size_t size)
{
    int n = recv(s, (char *)buf, size > INT_MAX ? INT_MAX : (int)size, 0);
    if (n > 0)
        return n;
    if (n == 0)
        return UP_ECLOSED;
    return up_last_error();
}

int up_tcp_send(up_sock s, const void *buf, size_t size)
{
    int n = send(s, (const char *)buf, size > INT_MAX ? INT_MAX : (int)size, 0);
    if (n >= 0)
        return n;
    return up_last_error();
}

int up_tcp_connect(const struct sockaddr *sa, up_socklen len, int timeout_ms, up_sock *out)
{
    SOCKET s = WSASocketW(sa->sa_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET)
        return up_last_error();
    int r = set_nonblocking(s);
    if (r != UP_OK)
        goto out;
    if (connect(s, sa, len) != 0) {
        if (WSAGetLastError() != WSAEWOULDBLOCK) {
            r = up_last_error();
            goto out;
        }
        /* select(), not WSAPoll(): older WSAPoll never reports a refused
         * connect. A failed connect shows in the except set. */
        fd_set w, e;
        FD_ZERO(&w);
        FD_ZERO(&e);
        FD_SET(s, &w);
        FD_SET(s, &e);
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        int n = select(0, NULL, &w, &e, &tv);
        if (n == SOCKET_ERROR) {
            r = up_last_error();
            goto out;
        }
        if (n == 0) {
            r = UP_ETIMEDOUT;
            goto out;
        }
        int soerr = 0, sl = sizeof(soerr);
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&soerr, &sl) != 0) {
            r = up_last_error();
            goto out;
        }
        if (soerr || FD_ISSET(s, &e)) {
            r = soerr ? up_error_from_sys(soerr) : UP_ECONNREFUSED;
            goto out;
        }
    }
    *out = s;
    return UP_OK;
out:
    closesocket(s);
    return r;
}

int up_tcp_shutdown_write(up_sock s)
{
    if (shutdown(s, SD_SEND) != 0)
        return up_last_error();
    return UP_OK;
}

int up_sock_poll(struct up_pollsock *p, size_t n, int timeout_ms)
{
    WSAPOLLFD fds[UP_POLL_MAX];
    if (n > UP_POLL_MAX)
        return UP_EINVAL;
    if (n == 0) {
        /* WSAPoll rejects an empty set: just wait. */
        if (timeout_ms > 0)
            Sleep((DWORD)timeout_ms);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        /* WSAPoll ignores entries whose fd is INVALID_SOCKET, as poll()
         * ignores negative ones (callers pass compact sets anyway). */
        fds[i].fd = p[i].sock;
        fds[i].events =
            (SHORT)(((p[i].events & UP_POLL_IN) ? POLLRDNORM : 0) | ((p[i].events & UP_POLL_OUT) ? POLLWRNORM : 0));
        fds[i].revents = 0;
    }
    int r = WSAPoll(fds, (ULONG)n, timeout_ms);
    if (r == SOCKET_ERROR)
        return up_last_error();
    for (size_t i = 0; i < n; i++) {
        SHORT e = fds[i].revents;
        p[i].revents = ((e & (POLLRDNORM | POLLRDBAND)) ? UP_POLL_IN : 0u) | ((e & POLLWRNORM) ? UP_POLL_OUT : 0u) |
                       ((e & (POLLERR | POLLHUP | POLLNVAL)) ? UP_POLL_ERR : 0u);
    }
    return r;
}
