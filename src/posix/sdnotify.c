/*
 * posix/sdnotify.c - systemd's notification protocol, spoken directly
 * (see notify.h; the protocol is described in sd_notify(3)).
 *
 * Each message is one datagram on a short-lived AF_UNIX socket: notifications
 * are rare (start, reload, stop), so nothing stays open between them and no
 * descriptor can leak. $NOTIFY_SOCKET is read each time; udp-proxy never
 * changes its environment, so getenv() is safe here. The send waits at most
 * NOTIFY_SEND_TIMEOUT_MS for room in systemd's queue, so a wedged manager
 * cannot hold up a stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../error.h"
#include "../log.h"
#include "../notify.h"
#include "../platform.h"

#define NOTIFY_SEND_TIMEOUT_MS 2000

static atomic_bool warned; /* the first failure has been logged */

/* $NOTIFY_SOCKET text to a socket address: "/path" or "@abstract". */
static int notify_address(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
    size_t n = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof(sun->sun_path))
        return UP_EINVAL;
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, name, n);
    if (name[0] == '@')
        sun->sun_path[0] = '\0'; /* abstract: the name is exactly the bytes after the NUL */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
    return UP_OK;
}

static int notify_send(const char *msg)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !name[0])
        return UP_OK; /* not under a service manager that listens */

    struct sockaddr_un sun;
    socklen_t len;
    size_t n = strlen(msg);
    int sys = 0; /* errno of a failed call, for the log */
    int r = notify_address(name, &sun, &len);
    if (r == UP_OK) {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            sys = errno;
        } else {
            struct timeval tv = {.tv_sec = NOTIFY_SEND_TIMEOUT_MS / 1000,
                                 .tv_usec = (NOTIFY_SEND_TIMEOUT_MS % 1000) * 1000};
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            ssize_t sent = sendto(fd, msg, n, MSG_NOSIGNAL, (const struct sockaddr *)&sun, len);
            if (sent < 0)
                sys = errno;
            else if ((size_t)sent != n)
                r = UP_EIO;
            close(fd);
        }
        if (sys)
            r = up_error_from_sys(sys);
    }
    if (r != UP_OK && !atomic_exchange(&warned, true)) {
        char buf[128];
        const char *why = sys              ? strerror_r(sys, buf, sizeof(buf))
                          : r == UP_EINVAL ? "not an absolute path or an @abstract name"
                                           : up_strerror(r);
        up_log(UP_LOG_WARN, "cannot notify the service manager at NOTIFY_SOCKET=%s: %s", name, why);
    }
    return r;
}

int up_notify_ready(void)
{
    return notify_send("READY=1");
}

int up_notify_stopping(void)
{
    return notify_send("STOPPING=1");
}

int up_notify_reloading(void)
{
    struct timespec ts;
    char msg[64];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long usec = (unsigned long long)ts.tv_sec * 1000000u + (unsigned long long)ts.tv_nsec / 1000u;
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
    return notify_send(msg);
}

int up_notify_journal_stderr(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char end;
    struct stat st;
    if (!v || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
