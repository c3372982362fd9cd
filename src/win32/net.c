/*
 * win32/net.c - socket set-up with Winsock2 (see platform.h).
 *
 * Every socket is non-blocking underneath. A "blocking" source socket only
 * differs in that up_udp_recv_batch(wait=true) waits for it in select(), up
 * to the time given to up_sock_set_rcvtimeo(): that lets one batch read
 * the whole queue without a blocking call at its end.
 */
#include "../error.h"
#include "../log.h"
#include "../platform.h"

#include <mstcpip.h> /* after winsock2.h (platform.h) */

#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif

int up_net_init(void)
{
    WSADATA wsa;
    int r = WSAStartup(MAKEWORD(2, 2), &wsa);
    return r == 0 ? UP_OK : up_error_from_sys(r);
}

int up_udp_open(int family, bool nonblocking, up_sock *out)
{
    (void)nonblocking; /* all sockets are non-blocking: see the top of this file */
    SOCKET s = WSASocketW(family, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) /* flag unknown before Windows 7 SP1 */
        s = WSASocketW(family, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, 0);
    if (s == INVALID_SOCKET)
        return up_last_error();
    u_long on = 1;
    if (ioctlsocket(s, FIONBIO, &on) != 0) {
        int r = up_last_error();
        closesocket(s);
        return r;
    }
    *out = s;
    return UP_OK;
}

int up_udp_bind(up_sock s, const struct sockaddr *sa, up_socklen len, bool reuseport, bool v6only)
{
    DWORD v6 = v6only ? 1 : 0, off = 0, one = 1, got = 0;
    if (reuseport) {
        up_log(UP_LOG_ERROR, "--readers above 1 needs SO_REUSEPORT, which Windows lacks: use --readers 1");
        return UP_EAFNOSUPPORT;
    }
    /* Nobody else may bind the same port later and steal datagrams
     * (SO_REUSEADDR on Windows would allow it). */
    setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof(one));
    if (sa->sa_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&v6, sizeof(v6)) != 0)
        return up_last_error();
    /* A socket that receives must not fail its next receive with
     * WSAECONNRESET because an ICMP "port unreachable" came back for
     * something it sent. The source never sends, but an ICMP error aimed
     * at its port would still break a receive: switch that off. Target
     * sockets keep the default: there the error is an honest "nothing
     * listening" (counted as a send error, as ECONNREFUSED on Linux). */
    WSAIoctl(s, SIO_UDP_CONNRESET, &off, sizeof(off), NULL, 0, &got, NULL, NULL);
    if (bind(s, sa, len) != 0)
        return up_last_error();
    return UP_OK;
}

int up_udp_connect(up_sock s, const struct sockaddr *sa, up_socklen len)
{
    if (connect(s, sa, len) != 0)
        return up_last_error();
    return UP_OK;
}

int up_sock_set_buffer(up_sock s, bool rcv, int bytes, int *actual)
{
    int opt = rcv ? SO_RCVBUF : SO_SNDBUF;
    int got = 0, glen = sizeof(got);
    if (setsockopt(s, SOL_SOCKET, opt, (const char *)&bytes, sizeof(bytes)) != 0)
        return up_last_error();
    if (getsockopt(s, SOL_SOCKET, opt, (char *)&got, &glen) != 0)
        return up_last_error();
    if (actual)
        *actual = got;
    return got < bytes ? UP_ERANGE : UP_OK;
}

void up_sock_close(up_sock s)
{
    if (s != UP_SOCK_INVALID)
        closesocket(s);
}

int up_sock_set_rcvtimeo(up_sock s, int timeout_ms)
{
    /* Also a Windows option in its own right (DWORD milliseconds), read
     * back by up_udp_recv_batch() when it has to wait. */
    DWORD ms = (DWORD)timeout_ms;
    if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&ms, sizeof(ms)) != 0)
        return up_last_error();
    return UP_OK;
}

int up_sock_wait(up_sock s, bool write, int timeout_ms)
{
    fd_set set;
    FD_ZERO(&set);
    FD_SET(s, &set);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int r = select(0, write ? NULL : &set, write ? &set : NULL, NULL, timeout_ms < 0 ? NULL : &tv);
    if (r == SOCKET_ERROR)
        return up_last_error();
    return r > 0 ? 1 : 0;
}

int up_sock_rx_drops(up_sock s, uint64_t *drops)
{
    (void)s;
    (void)drops;
    return UP_EAFNOSUPPORT; /* Windows does not count them per socket */
}

int up_sock_local_addr(up_sock s, struct sockaddr_storage *ss, up_socklen *len)
{
    *len = sizeof(*ss);
    if (getsockname(s, (struct sockaddr *)ss, len) != 0)
        return up_last_error();
    return UP_OK;
}

/* ---- not on Windows: Unix datagram sockets, fd replacement, steering ---- */

int up_sock_replace(up_sock old, up_sock fresh)
{
    /* A SOCKET cannot be put in another's place: a target whose name moves
     * to the other address family keeps its old address (logged). */
    (void)old;
    closesocket(fresh);
    return UP_EAFNOSUPPORT;
}

int up_unix_addr(const char *path, struct sockaddr_storage *ss, up_socklen *len)
{
    (void)path;
    (void)ss;
    (void)len;
    return UP_EAFNOSUPPORT;
}

const char *up_unix_path(const struct sockaddr_storage *ss)
{
    (void)ss;
    return "";
}

int up_unix_bind(up_sock s, const struct sockaddr_storage *ss, up_socklen len, unsigned mode)
{
    (void)s;
    (void)ss;
    (void)len;
    (void)mode;
    return UP_EAFNOSUPPORT;
}

void up_unix_unlink(const struct sockaddr_storage *ss)
{
    (void)ss;
}

int up_udp_steer_slots(up_sock s, const unsigned *slots, unsigned n)
{
    (void)s;
    (void)slots;
    (void)n;
    return UP_EAFNOSUPPORT;
}

void up_sock_shutdown_read(up_sock s)
{
    /* Winsock's SD_RECEIVE makes later receives fail (WSAESHUTDOWN), which
     * the reader would count as errors: nothing here; a blocked receive
     * returns within its SO_RCVTIMEO (200 ms). */
    (void)s;
}

void up_udp_steer_clear(up_sock s)
{
    (void)s;
}
