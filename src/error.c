/* error.c - texts for the project-wide error codes (see error.h).
 * The file-system codes use the C library's own words (strerror), which is
 * what an operator searches for. */
#include "error.h"

#include <stdio.h>

/* The system's text of this thread's last UP_ESYS. */
static _Thread_local char sys_text[128];

int up_error_sys(const char *text)
{
    snprintf(sys_text, sizeof(sys_text), "%s", text && text[0] ? text : "unknown system error");
    return UP_ESYS;
}

const char *up_strerror(int err)
{
    switch (err) {
    case UP_OK: return "success";
    case UP_EAGAIN: return "resource temporarily unavailable";
    case UP_ENOMEM: return "out of memory";
    case UP_EINVAL: return "invalid argument";
    case UP_ERANGE: return "value out of range";
    case UP_EADDRINUSE: return "address already in use";
    case UP_EACCES: return "permission denied";
    case UP_EADDRNOTAVAIL: return "address not available";
    case UP_ECONNREFUSED: return "connection refused";
    case UP_EHOSTUNREACH: return "no route to host";
    case UP_ENETUNREACH: return "network unreachable";
    case UP_ENOBUFS: return "no buffer space available";
    case UP_EMSGSIZE: return "message too long";
    case UP_ENOTFOUND: return "name does not resolve";
    case UP_EAFNOSUPPORT: return "address family not supported";
    case UP_ECLOSED: return "socket closed";
    case UP_ETIMEDOUT: return "timed out";
    case UP_EIO: return "input/output error";
    case UP_EDUPLICATE: return "given twice";
    case UP_ENOTCONN: return "not connected (no address or no socket at the target)";
    case UP_ENOTSOCK: return "exists and is not a socket (not removed)";
    case UP_ENOENT: return "no such file or directory";
    case UP_EISDIR: return "Is a directory";
    case UP_EROFS: return "Read-only file system";
    case UP_ENOSPC: return "No space left on device";
    case UP_ELOOP: return "Too many levels of symbolic links";
    case UP_ENAMETOOLONG: return "File name too long";
    case UP_ENOTDIR: return "Not a directory";
    case UP_EMFILE: return "Too many open files";
    case UP_EEXIST: return "File exists";
    case UP_EBUSY: return "Device or resource busy";
    case UP_ESYS: return sys_text[0] ? sys_text : "unknown system error";
    default: return "unknown error";
    }
}
