/*
 * handover.c - adopting inherited source sockets (see handover.h).
 *
 * The descriptors are matched to sources by the address the socket is bound
 * to (getsockname), so the order in which they were passed does not matter
 * and a socket unit whose ListenDatagram= differs from --source is noticed
 * (its socket is closed, the source is bound as usual).
 */
#include "handover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"

static up_sock pool[UP_HANDOVER_MAX]; /* inherited, not taken yet: UP_SOCK_INVALID */
static size_t npool;

/* A decimal number in [0, max], ending at *end. */
static bool number(const char *s, long max, long *out, const char **end)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *e;
    long v = strtol(s, &e, 10);
    if (errno || v < 0 || v > max)
        return false;
    *out = v;
    *end = e;
    return true;
}

int up_handover_parse_inherit(const char *text, long pid, int *fds, size_t max)
{
    const char *p = text;
    long v, owner;
    size_t n = 0;
    if (!number(p, 0x7fffffffL, &owner, &p) || *p != ':')
        return UP_EINVAL;
    p++;
    for (;;) {
        if (!number(p, 0x7fffffffL, &v, &p) || n >= max)
            return UP_EINVAL;
        fds[n++] = (int)v;
        if (*p == '\0')
            break;
        if (*p++ != ',')
            return UP_EINVAL;
    }
    return owner == pid ? (int)n : 0;
}

int up_handover_parse_listen(const char *listen_pid, const char *listen_fds, long pid, size_t max)
{
    long owner, n;
    const char *end;
    if (!listen_pid || !listen_fds)
        return 0;
    if (!number(listen_pid, 0x7fffffffL, &owner, &end) || *end)
        return UP_EINVAL;
    if (!number(listen_fds, 0x7fffffffL, &n, &end) || *end || (size_t)n > max)
        return UP_EINVAL;
    return owner == pid ? (int)n : 0;
}

static void keep(up_sock s)
{
    char what[80] = "?";
    struct sockaddr_storage ss;
    up_socklen len;
    if (up_sock_is_dgram(s) && npool < UP_HANDOVER_MAX) {
        up_sock_cloexec(s);
        pool[npool++] = s;
        return;
    }
    if (up_sock_local_addr(s, &ss, &len) == UP_OK)
        up_addr_format((struct sockaddr *)&ss, what, sizeof(what));
    up_log(UP_LOG_WARN, "inherited descriptor %d is not a datagram socket (%s): closing it", (int)s, what);
    up_sock_close(s);
}

enum up_handover_from up_handover_collect(size_t *count)
{
    int fds[UP_HANDOVER_MAX];
    enum up_handover_from from = UP_HANDOVER_NONE;
    long pid = up_process_id();
    if (!UP_HAVE_REEXEC) { /* Windows: no descriptors are inherited this way */
        *count = 0;
        return UP_HANDOVER_NONE;
    }
    const char *inherit = getenv(UP_HANDOVER_ENV);
    int n = 0;
    if (inherit) {
        n = up_handover_parse_inherit(inherit, pid, fds, UP_HANDOVER_MAX);
        if (n < 0)
            up_log(UP_LOG_WARN, "ignoring malformed %s='%s'", UP_HANDOVER_ENV, inherit);
        for (int i = 0; i < n; i++)
            keep((up_sock)fds[i]);
        if (n > 0)
            from = UP_HANDOVER_REEXEC;
        up_env_unset(UP_HANDOVER_ENV);
    }
    const char *lpid = getenv("LISTEN_PID"), *lfds = getenv("LISTEN_FDS");
    if (lpid || lfds) {
        int m = up_handover_parse_listen(lpid, lfds, pid, UP_HANDOVER_MAX);
        if (m < 0)
            up_log(UP_LOG_WARN, "ignoring malformed LISTEN_PID='%s' LISTEN_FDS='%s'", lpid ? lpid : "",
                   lfds ? lfds : "");
        /* After a re-exec the old image's sockets arrive through
         * UP_INHERIT_FDS; LISTEN_* were removed at the first start. */
        for (int i = 0; i < m; i++)
            keep((up_sock)(3 + i));
        if (m > 0 && from == UP_HANDOVER_NONE)
            from = UP_HANDOVER_SYSTEMD;
        up_env_unset("LISTEN_PID");
        up_env_unset("LISTEN_FDS");
        up_env_unset("LISTEN_FDNAMES");
    }
    *count = npool;
    return npool ? from : UP_HANDOVER_NONE;
}

void up_handover_give(const up_sock *socks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (npool < UP_HANDOVER_MAX)
            pool[npool++] = socks[i];
        else
            up_sock_close(socks[i]);
    }
}

static bool bound_to(up_sock s, const struct up_addr *a)
{
    struct up_addr got;
    memset(&got, 0, sizeof(got));
    if (up_sock_local_addr(s, &got.ss, &got.len) != UP_OK)
        return false;
    if (up_addr_equal(&got, a))
        return true;
    /* ":PORT" without IPv6 falls back to 0.0.0.0 (proxy.c open_source). */
    if (a->any_host && a->ss.ss_family == AF_INET6 && got.ss.ss_family == AF_INET) {
        const struct sockaddr_in *g = (const struct sockaddr_in *)&got.ss;
        const struct sockaddr_in6 *w = (const struct sockaddr_in6 *)&a->ss;
        return g->sin_addr.s_addr == htonl(INADDR_ANY) && g->sin_port == w->sin6_port;
    }
    return false;
}

up_sock up_handover_take(const struct up_addr *a)
{
    for (size_t i = 0; i < npool; i++) {
        if (bound_to(pool[i], a)) {
            up_sock s = pool[i];
            pool[i] = pool[--npool];
            return s;
        }
    }
    return UP_SOCK_INVALID;
}

size_t up_handover_pending(void)
{
    return npool;
}

void up_handover_close_rest(void)
{
    for (size_t i = 0; i < npool; i++) {
        char what[80] = "an unbound socket";
        struct sockaddr_storage ss;
        up_socklen len;
        if (up_sock_local_addr(pool[i], &ss, &len) == UP_OK)
            up_addr_format((struct sockaddr *)&ss, what, sizeof(what));
        up_log(UP_LOG_WARN, "inherited socket %d bound to %s matches no --source: closing it", (int)pool[i], what);
        up_sock_close(pool[i]);
    }
    npool = 0;
}
