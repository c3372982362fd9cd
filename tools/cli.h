/*
 * cli.h - command-line parsing shared by the load-test tools (udp-loadgen,
 * udp-sink) and the benchmark's reference forwarders (bench/).
 *
 * The tools validate their arguments the way udp-proxy does: a bad value
 * gets one line on standard error that names the flag and the value, a usage
 * hint, and exit status 2. Flags take "--flag VALUE" or "--flag=VALUE".
 * Addresses use the proxy's own parser (src/addr.h).
 */
#ifndef UP_CLI_H
#define UP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

enum up_cli_kind {
    UP_CLI_COUNT, /* whole number, min..max (optionally a word, see below) */
    UP_CLI_SIZE,  /* bytes: 65536, 64K, 4M, 1G (binary), min..max */
    UP_CLI_SECS,  /* seconds, with a fraction: 2, 1.5 (min..max in milliseconds) */
    UP_CLI_ADDR,  /* an address; repeatable when max_repeat > 1 */
};

struct up_cli_flag {
    const char *name;      /* without the dashes */
    enum up_cli_kind kind; /* what the value is */
    uint64_t min, max;     /* numbers: accepted range (UP_CLI_SECS: milliseconds) */
    const char *word;      /* UP_CLI_COUNT: a word accepted instead of a number ("max"), or NULL */
    uint64_t word_value;   /* what the word stands for */
    bool required;         /* an error when not given */
    size_t max_repeat;     /* UP_CLI_ADDR: how many may be given (0 or 1: once) */
    /* Where the value goes (set by the caller before parsing):
     * COUNT/SIZE: uint64_t; SECS: double (seconds); ADDR: char[max_repeat][UP_ADDR_TEXT_MAX]. */
    void *dest;
    size_t given; /* out: times the flag was given */
};

/* Print "PROG: MESSAGE" and the usage hint on standard error, exit 2. */
void up_cli_fail(const char *prog, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;

/* Parse argv[1..argc) against flags[0..n). "--help"/"-h" calls usage(stdout)
 * and exits 0. Any error (unknown flag, missing value, bad number or
 * address text, a flag given twice, a required flag missing) exits 2
 * through up_cli_fail(). Returns only when every flag parsed. */
void up_cli_parse(const char *prog, struct up_cli_flag *flags, size_t n, int argc, char **argv,
                  void (*usage)(FILE *out));

/* Resolve an address text given with --flag (passive: to bind). Exits 2
 * naming the flag when it does not resolve. */
void up_cli_resolve(const char *prog, const char *flag, const char *text, bool passive, struct up_addr *out);

#endif
