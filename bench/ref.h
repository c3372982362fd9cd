/*
 * ref.h - what the benchmark's two reference forwarders (naive.c, batched.c)
 * share: their command line, the source socket, the stop signal and the
 * final report. Linux only; built only for `make bench`.
 */
#ifndef UP_REF_H
#define UP_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define UP_REF_TARGETS_MAX 16

struct up_ref_config {
    struct up_addr source;                      /* --source (bound) */
    struct up_addr targets[UP_REF_TARGETS_MAX]; /* --target, in order */
    size_t ntargets;
    uint64_t rcvbuf; /* --rcvbuf, bytes */
};

/* Parse --source ADDR, --target ADDR (repeated), --rcvbuf BYTES, --help;
 * exits 2 with a one-line message on bad input (like udp-proxy). */
void up_ref_parse(struct up_ref_config *c, const char *prog, const char *what, int argc, char **argv);

/* Open, size and bind the blocking source socket; receives wait at most
 * 200 ms so a stop request is seen. Prints the reason and returns an
 * error code on failure. */
int up_ref_open_source(const struct up_ref_config *c, up_sock *out);

/* Catch SIGINT/SIGTERM: a blocked receive returns, up_ref_stopping()
 * becomes true. */
void up_ref_on_stop(void);
bool up_ref_stopping(void);

/* One key=value line on standard error at exit, with the kernel's drops
 * on the source socket (its receive buffer was full). */
void up_ref_report(const char *prog, up_sock src, uint64_t received, uint64_t sent, uint64_t send_errors);

#endif
