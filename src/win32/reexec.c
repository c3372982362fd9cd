/*
 * win32/reexec.c - Windows has no in-place re-exec that keeps a socket
 * (see reexec.h, handover.h): a service restart closes the source; the
 * restart window is measured in docs/WINDOWS.md.
 */
#include <process.h>
#include <stdio.h>
#include <stdlib.h>

#include "../error.h"
#include "../handover.h"
#include "../reexec.h"

int up_reexec_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return UP_OK;
}

const char *up_reexec_path(void)
{
    return "";
}

int up_reexec_check(char *err, size_t errlen)
{
    snprintf(err, errlen, "re-exec is not available on Windows: restart the service");
    return UP_EAFNOSUPPORT;
}

int up_reexec(const up_sock *socks, size_t n, char *err, size_t errlen)
{
    (void)socks;
    (void)n;
    return up_reexec_check(err, errlen);
}

long up_process_id(void)
{
    return (long)_getpid();
}

void up_env_unset(const char *name)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s=", name);
    _putenv(buf);
}

bool up_sock_is_dgram(up_sock s)
{
    int type = 0;
    int len = sizeof(type);
    return getsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&type, &len) == 0 && type == SOCK_DGRAM;
}

void up_sock_cloexec(up_sock s)
{
    (void)s;
}

int up_sock_rcvbuf(up_sock s)
{
    int got = 0;
    int len = sizeof(got);
    if (getsockopt(s, SOL_SOCKET, SO_RCVBUF, (char *)&got, &len) != 0)
        return 0;
    return got;
}
