/* posix/net.c - socket set-up for POSIX systems, UDP and Unix datagram
 * sockets (see platform.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/filter.h>
#include <linux/sock_diag.h>
#endif

#include "../error.h"
#include "../log.h"
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

int up_udp_steer_slots(up_sock s, const unsigned *slots, unsigned n)
{
#if defined(__linux__) && defined(SO_ATTACH_REUSEPORT_CBPF)
    /* A = cpu % n; then one compare per entry: return slots[A]. */
    struct sock_filter code[3 + 2 * 64];
    unsigned k = 0;
    if (n == 0 || n > 64)
        return UP_EINVAL;
    code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU));
    code[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n);
    for (unsigned i = 0; i + 1 < n; i++) {
        code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, i, 0, 1);
        code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, slots[i]);
    }
    code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, slots[n - 1]);
    struct sock_fprog prog = {.len = (unsigned short)k, .filter = code};
    if (setsockopt(s, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0)
        return up_last_error();
    return UP_OK;
#else
    (void)s;
    (void)slots;
    (void)n;
    return UP_EAFNOSUPPORT;
#endif
}

void up_udp_steer_clear(up_sock s)
{
#if defined(__linux__)
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68
#endif
    int zero = 0;
    (void)setsockopt(s, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &zero, sizeof(zero));
#else
    (void)s;
#endif
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
     * that CAP_NET_ADMIN allows. In 64 bits: bytes may be up to 1 GiB, and
     * the kernel itself stops at INT_MAX / 2 * 2. */
    int64_t want = (int64_t)bytes * 2;
    if (want > INT_MAX / 2 * 2)
        want = INT_MAX / 2 * 2;
    if (got < want) {
        int force = rcv ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
        if (setsockopt(s, SOL_SOCKET, force, &bytes, sizeof(bytes)) == 0) {
            glen = sizeof(got);
            getsockopt(s, SOL_SOCKET, opt, &got, &glen);
        }
    }
    if (actual)
        *actual = got / 2;
    return got < want ? UP_ERANGE : UP_OK;
#else
    if (actual)
        *actual = got;
    return got < bytes ? UP_ERANGE : UP_OK;
#endif
}

void up_sock_shutdown_read(up_sock s)
{
    if (s != UP_SOCK_INVALID)
        (void)shutdown(s, SHUT_RD); /* ENOTCONN on UDP, but it wakes receivers */
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

int up_sock_replace(up_sock old, up_sock fresh)
{
    int r = UP_OK;
    /* dup2 swaps the file behind `old` in one step: a writer or reader in
     * another thread sends either on the old socket or on the new one. */
    while (dup2(fresh, old) < 0) {
        if (errno != EINTR) {
            r = up_last_error();
            break;
        }
    }
    if (r == UP_OK) {
        int fl = fcntl(old, F_GETFD);
        if (fl >= 0)
            fcntl(old, F_SETFD, fl | FD_CLOEXEC); /* dup2 clears it */
    }
    close(fresh);
    return r;
}

int up_unix_addr(const char *path, struct sockaddr_storage *ss, up_socklen *len)
{
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(un->sun_path))
        return UP_EINVAL;
    memset(ss, 0, sizeof(*ss));
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n + 1);
    *len = (up_socklen)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return UP_OK;
}

const char *up_unix_path(const struct sockaddr_storage *ss)
{
    return ((const struct sockaddr_un *)ss)->sun_path;
}

/* Is somebody receiving on the socket file at ss? */
static bool unix_alive(const struct sockaddr_storage *ss, up_socklen len)
{
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return true; /* cannot tell: do not remove */
    int r = connect(s, (const struct sockaddr *)ss, len);
    int e = errno;
    close(s);
    return r == 0 || e != ECONNREFUSED;
}

int up_unix_bind(up_sock s, const struct sockaddr_storage *ss, up_socklen len, unsigned mode)
{
    const char *path = up_unix_path(ss);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return UP_ENOTSOCK;
        if (unix_alive(ss, len))
            return UP_EADDRINUSE;
        if (unlink(path) < 0 && errno != ENOENT)
            return up_last_error();
        up_log(UP_LOG_INFO, "removed the stale socket file %s (left by a process that is gone: nobody receives on it)",
               path);
    }
    /* bind() makes the file with 0777 & ~umask: under UMask=0000 anybody
     * could connect before the chmod below, and stay connected. So the
     * file is born with no permission at all (umask 0777; only the control
     * thread creates files) and gets the operator's mode right after. */
    mode_t old_mask = umask(0777);
    int b = bind(s, (const struct sockaddr *)ss, len);
    int r = b < 0 ? up_last_error() : UP_OK;
    umask(old_mask);
    if (b < 0)
        return r;
    if (chmod(path, (mode_t)mode) < 0) {
        r = up_last_error();
        unlink(path);
        return r;
    }
    return UP_OK;
}

void up_unix_unlink(const struct sockaddr_storage *ss)
{
    struct stat st;
    const char *path = up_unix_path(ss);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
}
