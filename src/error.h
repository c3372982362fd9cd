/*
 * error.h - the one error-code set of udp-proxy.
 *
 * Every function that can fail returns 0 (UP_OK) or one of the negative codes
 * below. The platform layer translates errno / WSAGetLastError() into this set
 * (up_error_from_sys), so shared code never looks at errno.
 * "Would block" is a state, not an error: UP_EAGAIN tells the caller to retry
 * later; it is never counted as a failure.
 */
#ifndef UP_ERROR_H
#define UP_ERROR_H

enum up_error {
    UP_OK = 0,
    UP_EAGAIN = -1,        /* would block: try again later (a state, not an error) */
    UP_ENOMEM = -2,        /* out of memory */
    UP_EINVAL = -3,        /* invalid argument or value */
    UP_ERANGE = -4,        /* number out of range */
    UP_EADDRINUSE = -5,    /* address already in use */
    UP_EACCES = -6,        /* permission denied */
    UP_EADDRNOTAVAIL = -7, /* address not available on this host */
    UP_ECONNREFUSED = -8,  /* nothing listening at the target */
    UP_EHOSTUNREACH = -9,  /* no route to host */
    UP_ENETUNREACH = -10,  /* network unreachable */
    UP_ENOBUFS = -11,      /* kernel out of buffer space */
    UP_EMSGSIZE = -12,     /* datagram too large */
    UP_ENOTFOUND = -13,    /* host name does not resolve */
    UP_EAFNOSUPPORT = -14, /* address family not supported */
    UP_ECLOSED = -15,      /* socket shut down / closed */
    UP_ETIMEDOUT = -16,    /* timed out */
    UP_EIO = -17,          /* input/output error (EIO), or a failure with no system error behind it */
    UP_EDUPLICATE = -18,   /* the same item given twice */
    UP_ENOTCONN = -19,     /* no peer: target address unknown or its socket missing */
    UP_ENOTSOCK = -20,     /* a path exists and is not a socket (never removed) */
    UP_ENOENT = -21,       /* no such file (a Unix socket path that is not there) */
    /* File and descriptor errors (--log-file, --config, Unix socket paths). */
    UP_EISDIR = -22,       /* a directory where a file was expected */
    UP_EROFS = -23,        /* read-only file system */
    UP_ENOSPC = -24,       /* no space left on the device (or the disk quota is used up) */
    UP_ELOOP = -25,        /* too many symbolic links */
    UP_ENAMETOOLONG = -26, /* file name too long */
    UP_ENOTDIR = -27,      /* a path component is not a directory */
    UP_EMFILE = -28,       /* too many open files (process or system limit) */
    UP_EEXIST = -29,       /* file exists */
    UP_EBUSY = -30,        /* device or resource busy */
    UP_ESYS = -31,         /* another system error: up_strerror() gives the system's own text */
};

/* A short human-readable text for an error code; never NULL. For UP_ESYS
 * it is the system's text of the last error this thread translated into
 * UP_ESYS (so "cannot open x: Stale file handle", never a catch-all). */
const char *up_strerror(int err);

/* For the platform layer: remember `text` (the system's words) as this
 * thread's UP_ESYS text, and return UP_ESYS. */
int up_error_sys(const char *text);

/* Translate a platform error number (errno on POSIX, WSAGetLastError() on
 * Windows) into the set above. Implemented in the platform layer. */
int up_error_from_sys(int sys_err);

#endif
