/* error.c - texts for the project-wide error codes (see error.h). */
#include "error.h"

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
    default: return "unknown error";
    }
}
