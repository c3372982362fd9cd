/*
 * handover.h - source sockets handed to this process at start, instead of
 * bound by it: by the previous image of the same process (SIGUSR2 re-exec,
 * src/posix/reexec.c) or by systemd socket activation.
 *
 * Two ways in, one adoption path:
 *   UP_INHERIT_FDS=PID:FD[,FD...]   set by udp-proxy itself just before
 *                                   execve (PID: its own, unchanged by exec)
 *   LISTEN_PID=PID LISTEN_FDS=N     systemd (sd_listen_fds(3)): descriptors
 *                                   3 .. 3+N-1
 * Either is used only when PID is this process (a variable inherited by some
 * other program is ignored); both are removed from the environment once read.
 *
 * The proxy then asks, for each source socket it would bind, whether an
 * inherited datagram socket is already bound to that address
 * (up_handover_take: getsockname decides, not the order). What nobody took
 * is closed with a log line (up_handover_close_rest).
 *
 * Control thread only, at start-up (and after a failed re-exec); the state
 * is process-wide, like the environment it comes from.
 */
#ifndef UP_HANDOVER_H
#define UP_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "platform.h"

#define UP_HANDOVER_MAX 64 /* most descriptors taken over */
#define UP_HANDOVER_ENV "UP_INHERIT_FDS"

enum up_handover_from {
    UP_HANDOVER_NONE = 0,
    UP_HANDOVER_REEXEC = 1,  /* UP_INHERIT_FDS: our own previous image */
    UP_HANDOVER_SYSTEMD = 2, /* LISTEN_FDS: socket activation */
};

/* Parse the text of UP_INHERIT_FDS ("PID:FD,FD,...") into fds[0..max).
 * Returns the number of descriptors (>= 0) when the PID is `pid`, 0 when it
 * names another process, UP_EINVAL when the text is malformed (a negative
 * or huge number, more than max descriptors, junk). Pure: no system call. */
int up_handover_parse_inherit(const char *text, long pid, int *fds, size_t max);

/* Parse LISTEN_PID / LISTEN_FDS (either may be NULL: nothing passed).
 * Returns N (descriptors 3..3+N-1) when LISTEN_PID is `pid`, 0 when it is
 * another process or a variable is missing, UP_EINVAL when malformed or
 * N > max. Pure. */
int up_handover_parse_listen(const char *listen_pid, const char *listen_fds, long pid, size_t max);

/* Read both variables from the environment, remove them, and keep the
 * datagram sockets among the descriptors (anything else is closed with a
 * log line). Returns where they came from (UP_HANDOVER_NONE: nothing), and
 * the number kept in *count. A malformed variable is logged and ignored. */
enum up_handover_from up_handover_collect(size_t *count);

/* Hand sockets back to the pool (a failed re-exec: the next start adopts
 * them again). Takes ownership. */
void up_handover_give(const up_sock *socks, size_t n);

/* The inherited datagram socket bound to a (for an all-interfaces IPv6
 * address, also the IPv4 wildcard of the same port): the caller owns it
 * now. UP_SOCK_INVALID when there is none. */
up_sock up_handover_take(const struct up_addr *a);

/* How many inherited sockets are waiting to be taken. */
size_t up_handover_pending(void);

/* Close the inherited sockets no source took, one log line each. */
void up_handover_close_rest(void);

/* ---- platform side (src/posix/reexec.c; src/win32/reexec.c: stubs) ---- */

/* This process's id. */
long up_process_id(void);

/* Remove an environment variable (no-op when unset). */
void up_env_unset(const char *name);

/* True when s is an open datagram socket. */
bool up_sock_is_dgram(up_sock s);

/* Mark s close-on-exec (an adopted socket leaks into nothing else). */
void up_sock_cloexec(up_sock s);

/* The receive buffer the kernel gives s now, as up_sock_set_buffer reports
 * it (bytes asked), or 0 when it cannot tell. */
int up_sock_rcvbuf(up_sock s);

#endif
