/*
 * reexec.h - replace the running image with the executable at the same
 * path, keeping the process id and the source sockets (SIGUSR2, Linux).
 *
 * The path is fixed at start: the one the process was started with, made
 * absolute (argv[0] when it names a file, else what /proc/self/exe names
 * then). After a package upgrade has put a new file at that path, the exec
 * runs the new binary; /proc/self/exe would still name the old one.
 * The sockets travel through the environment (UP_INHERIT_FDS, handover.h).
 *
 * Windows cannot keep a socket across a new image: there every function
 * returns UP_EAFNOSUPPORT with a message saying so (src/win32/reexec.c).
 */
#ifndef UP_REEXEC_H
#define UP_REEXEC_H

#include <stddef.h>

#include "platform.h"

/* Remember the executable's absolute path and the arguments (argv must
 * stay valid: main's). Call once at start, before anything changes the
 * working directory. Returns UP_OK, or an error (then up_reexec_check
 * says why). */
int up_reexec_init(int argc, char **argv);

/* Whether a re-exec could start: the path is a regular file this process
 * may execute, and running it with the same arguments plus --check-config
 * succeeds (a program this system runs, that accepts the configuration;
 * at most 10 s). UP_OK, or an error with a message in err (the trial's
 * first output line). Blocks the calling (control) thread meanwhile. */
int up_reexec_check(char *err, size_t errlen);

/* The path a re-exec runs ("" before up_reexec_init). */
const char *up_reexec_path(void);

/* Replace the process image, passing socks[0..n) on (close-on-exec is
 * cleared on exactly these; everything else closes). Every other thread
 * must have ended. Returns only on failure: an error with a message in
 * err, the sockets close-on-exec again and still the caller's. */
int up_reexec(const up_sock *socks, size_t n, char *err, size_t errlen);

#endif
