/* win32/error.c - WSAGetLastError()/GetLastError() to the project-wide error set (see error.h). */
#include <stdio.h>

#include "../error.h"
#include "../platform.h"

int up_error_from_sys(int e)
{
    switch (e) {
    case 0: return UP_OK;
    case WSAEWOULDBLOCK:
    case WSAEINTR:
    case WSA_IO_PENDING: return UP_EAGAIN;
    case WSA_NOT_ENOUGH_MEMORY: /* = ERROR_NOT_ENOUGH_MEMORY */
    case ERROR_OUTOFMEMORY: return UP_ENOMEM;
    case WSAEINVAL:
    case WSAEFAULT:
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME: return UP_EINVAL;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return UP_ENOENT; /* a --config or --log-file path */
    case WSAEADDRINUSE: return UP_EADDRINUSE;
    case WSAEACCES:
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION: return UP_EACCES;
    case WSAEADDRNOTAVAIL: return UP_EADDRNOTAVAIL;
    /* A UDP socket reports an ICMP port unreachable as a "reset". */
    case WSAECONNREFUSED:
    case WSAECONNRESET: return UP_ECONNREFUSED;
    case WSAEHOSTUNREACH:
    case WSAEHOSTDOWN: return UP_EHOSTUNREACH;
    case WSAENETUNREACH:
    case WSAENETDOWN:
    case WSAENETRESET: return UP_ENETUNREACH;
    case WSAENOBUFS: return UP_ENOBUFS;
    case WSAEMSGSIZE: return UP_EMSGSIZE;
    case WSAHOST_NOT_FOUND:
    case WSANO_DATA: return UP_ENOTFOUND;
    case WSAEAFNOSUPPORT:
    case WSAEPFNOSUPPORT:
    case WSAEPROTONOSUPPORT: return UP_EAFNOSUPPORT;
    /* No peer (a target whose name has not resolved yet): every datagram
     * would fail alike, so the writer counts the whole batch at once. */
    case WSAENOTCONN:
    case WSAEDESTADDRREQ: return UP_ENOTCONN;
    case WSAENOTSOCK:
    case WSAESHUTDOWN:
    case ERROR_INVALID_HANDLE: return UP_ECLOSED;
    case WSAETIMEDOUT:
    case WAIT_TIMEOUT: return UP_ETIMEDOUT;
    default: {
        /* Anything else keeps the system's own text (never a catch-all). */
        char buf[128];
        DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)e, 0, buf,
                                 sizeof(buf), NULL);
        while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n' || buf[n - 1] == '.' || buf[n - 1] == ' '))
            n--;
        if (n == 0)
            snprintf(buf, sizeof(buf), "system error %d", e);
        else
            buf[n] = '\0';
        return up_error_sys(buf);
    }
    }
}

int up_last_error(void)
{
    /* WSAGetLastError() is GetLastError(): one slot per thread for both. */
    return up_error_from_sys((int)GetLastError());
}
