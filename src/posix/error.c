/* posix/error.c - errno to the project-wide error set (see error.h). */
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <string.h>

#include "../error.h"
#include "../platform.h"

/* The system's text for errno e, in buf. strerror_r comes in two flavours
 * (XSI returns int and fills buf, GNU returns the text): take either. */
static const char *sys_text(int e, char *buf, size_t len)
{
    buf[0] = '\0';
    __typeof__(strerror_r(e, buf, len)) r = strerror_r(e, buf, len);
    const char *t = _Generic(r, int : buf, default : (const char *)(uintptr_t)r);
    return t && t[0] ? t : "unknown system error";
}

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
    case EISDIR: return UP_EISDIR;
    case EROFS: return UP_EROFS;
    case ENOSPC:
    case EDQUOT: return UP_ENOSPC;
    case ELOOP: return UP_ELOOP;
    case ENAMETOOLONG: return UP_ENAMETOOLONG;
    case ENOTDIR: return UP_ENOTDIR;
    case EMFILE:
    case ENFILE: return UP_EMFILE;
    case EEXIST: return UP_EEXIST;
    case EBUSY: return UP_EBUSY;
    case EIO: return UP_EIO;
    default: {
        /* Anything else keeps the system's own text (never a catch-all). */
        char buf[128];
        return up_error_sys(sys_text(e, buf, sizeof(buf)));
    }
    }
}

int up_last_error(void)
{
    return up_error_from_sys(errno);
}
