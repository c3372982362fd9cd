/* posix/net.c - socket set-up for POSIX systems (see platform.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sock_diag.h>
#endif

#include "../error.h"
#include "../platform.h"

int up_net_init(void)
{
    return UP_OK;
}

int up_udp_open(int family, bool nonblocking, up_sock *out)
{
    int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (s < 0)
        return up_last_error();
    *out = s;
    return UP_OK;
}

int up_udp_bind(up_sock s, const struct sockaddr *sa, up_socklen len, bool reuseport, bool v6only)
{
    int one = 1, v6 = v6only ? 1 : 0;
    if (reuseport) {
#ifdef SO_REUSEPORT
        if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
            return up_last_error();
#else
        return UP_EAFNOSUPPORT;
#endif
    }
    if (sa->sa_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6)) < 0)
        return up_last_error();
    if (bind(s, sa, len) < 0)
        return up_last_error();
    return UP_OK;
}

int up_udp_connect(up_sock s, const struct sockaddr *sa, up_socklen len)
{
    if (connect(s, sa, len) < 0)
        return up_last_error();
    return UP_OK;
}

int up_sock_set_buffer(up_sock s, bool rcv, int bytes, int *actual)
{
    int opt = rcv ? SO_RCVBUF : SO_SNDBUF;
    int got = 0;
    socklen_t glen = sizeof(got);

    if (setsockopt(s, SOL_SOCKET, opt, &bytes, sizeof(bytes)) < 0)
        return up_last_error();
    if (getsockopt(s, SOL_SOCKET, opt, &got, &glen) < 0)
        return up_last_error();
#ifdef SO_RCVBUFFORCE
    /* Linux reports twice the value set (bookkeeping overhead); a grant of
     * less than that was capped by net.core.[rw]mem_max: try the override
     * that CAP_NET_ADMIN allows. */
    if (got < bytes * 2) {
        int force = rcv ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
        if (setsockopt(s, SOL_SOCKET, force, &bytes, sizeof(bytes)) == 0) {
            glen = sizeof(got);
            getsockopt(s, SOL_SOCKET, opt, &got, &glen);
        }
    }
    if (actual)
        *actual = got / 2;
    return got < bytes * 2 ? UP_ERANGE : UP_OK;
#else
    if (actual)
        *actual = got;
    return got < bytes ? UP_ERANGE : UP_OK;
#endif
}

void up_sock_close(up_sock s)
{
    if (s != UP_SOCK_INVALID)
        close(s);
}

int up_sock_set_rcvtimeo(up_sock s, int timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
        return up_last_error();
    return UP_OK;
}

int up_sock_wait(up_sock s, bool write, int timeout_ms)
{
    struct pollfd p = {.fd = s, .events = write ? POLLOUT : POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : up_last_error();
    return r > 0 ? 1 : 0;
}

int up_sock_rx_drops(up_sock s, uint64_t *drops)
{
#if defined(__linux__) && defined(SO_MEMINFO)
    /* SK_MEMINFO_DROPS is sk_drops: the same cumulative counter that
     * SO_RXQ_OVFL attaches to received datagrams, read here without any
     * per-datagram cost and exact even when no datagram follows the drops. */
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mem);
    memset(mem, 0, sizeof(mem));
    if (getsockopt(s, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
        return up_last_error();
    if (len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)))
        return UP_EAFNOSUPPORT;
    *drops = mem[SK_MEMINFO_DROPS];
    return UP_OK;
#else
    (void)s;
    (void)drops;
    return UP_EAFNOSUPPORT;
#endif
}

int up_sock_local_addr(up_sock s, struct sockaddr_storage *ss, up_socklen *len)
{
    *len = sizeof(*ss);
    if (getsockname(s, (struct sockaddr *)ss, len) < 0)
        return up_last_error();
    return UP_OK;
}
