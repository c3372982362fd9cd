/* posix/error.c - errno to the project-wide error set (see error.h). */
#include <errno.h>
#include <netdb.h>

#include "../error.h"
#include "../platform.h"

int up_error_from_sys(int e)
{
    switch (e) {
    case 0: return UP_OK;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR: return UP_EAGAIN;
    case ENOMEM: return UP_ENOMEM;
    case EINVAL: return UP_EINVAL;
    case ERANGE: return UP_ERANGE;
    case EADDRINUSE: return UP_EADDRINUSE;
    case EACCES:
    case EPERM: return UP_EACCES;
    case EADDRNOTAVAIL: return UP_EADDRNOTAVAIL;
    case ECONNREFUSED: return UP_ECONNREFUSED;
    case EHOSTUNREACH:
    case EHOSTDOWN: return UP_EHOSTUNREACH;
    case ENETUNREACH:
    case ENETDOWN: return UP_ENETUNREACH;
    case ENOBUFS: return UP_ENOBUFS;
    case EMSGSIZE: return UP_EMSGSIZE;
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT: return UP_EAFNOSUPPORT;
    case EBADF:
    case ENOTSOCK:
    case ESHUTDOWN: return UP_ECLOSED;
    case ETIMEDOUT: return UP_ETIMEDOUT;
    case ENOTCONN:
    case EDESTADDRREQ: return UP_ENOTCONN;
    case ENOENT: return UP_ENOENT;
    default: return UP_EIO;
    }
}

int up_last_error(void)
{
    return up_error_from_sys(errno);
}
