/*
 * options.h - the command line: parsing, validation, usage text.
 *
 * Parsing is pure (no I/O, no name resolution) so it can be unit tested and
 * fuzzed; up_options_resolve() then resolves the addresses.
 * Long flags take one or two dashes, like the Go tool this replaces:
 * --flag value, --flag=value, -flag value, -flag=value.
 */
#ifndef UP_OPTIONS_H
#define UP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "target_opts.h"

#define UP_TARGETS_MAX 64
#define UP_READERS_MAX 64 /* --readers at most */
#define UP_ALLOW_MAX 64
#define UP_PATH_MAX 1024

/* Defaults (see the README for the reasoning). */
#define UP_DEFAULT_SOURCE ":2203"
#define UP_DEFAULT_BUFFER 65535u        /* no datagram the kernel delivers is cut */
#define UP_DEFAULT_CHANNEL 8192u        /* datagrams per target queue */
#define UP_DEFAULT_RCVBUF (16 << 20)    /* source socket receive buffer */
#define UP_DEFAULT_SNDBUF (4 << 20)     /* target socket send buffer */
#define UP_DEFAULT_STATS_INTERVAL 60u   /* seconds */
#define UP_DEFAULT_DRAIN_MS 2000u       /* milliseconds */
#define UP_DEFAULT_RESOLVE_INTERVAL 30u /* seconds */
#define UP_DEFAULT_SOURCE_MODE 0660u    /* unix: source: owner and group may send */

/* The exporters (--metrics-listen, --statsd-self): see docs/METRICS.md. */
#define UP_DEFAULT_STATSD_SELF_INTERVAL_MS 10000u
#define UP_DEFAULT_STATSD_SELF_PREFIX "udp_proxy."
#define UP_PREFIX_MAX 64 /* longest --statsd-self-prefix, with NUL */

struct up_options {
    char source[UP_ADDR_TEXT_MAX];                     /* --source */
    char targets[UP_TARGETS_MAX][UP_ADDR_TEXT_MAX];    /* --target, in order: the address part */
    struct up_target_opts target_opts[UP_TARGETS_MAX]; /* --target ADDR,OPTION=VALUE...: the options */
    size_t ntargets;
    int log_level;                      /* UP_LOG_* */
    uint32_t buffer;                    /* --buffer: largest datagram, bytes */
    uint32_t channel_size;              /* --channel-size: queue capacity per target, datagrams */
    int rcvbuf;                         /* --rcvbuf, bytes */
    int sndbuf;                         /* --sndbuf, bytes */
    unsigned readers;                   /* --readers */
    unsigned stats_interval;            /* --stats-interval, seconds, 0 = off */
    unsigned drain_ms;                  /* --drain-timeout, milliseconds */
    char log_file[UP_PATH_MAX];         /* --log-file, "" = none */
    int log_max_size;                   /* --log-max-size, bytes: rotate --log-file past it, 0 = never */
    char config[UP_PATH_MAX];           /* --config, "" = none */
    bool check_config;                  /* --check-config: validate, do not run */
    bool allow_unresolved;              /* --allow-unresolved: targets may wait for their name */
    unsigned resolve_interval;          /* --resolve-interval, seconds, 0 = resolve once */
    unsigned source_mode;               /* --source-mode: file mode of a unix: source */
    struct up_cidr allow[UP_ALLOW_MAX]; /* --allow, parsed */
    char allow_text[UP_ALLOW_MAX][64];  /* --allow, as written */
    size_t nallow;                      /* 0: every sender is accepted */
    bool cli_targets;                   /* --target given on the command line (a file's targets are replaced) */
    /* The command line the options came from (config.c keeps it to re-read
     * the file on reload: flags there still override the file). */
    int argc;
    char *const *argv;

    /* Exporters ("" = off). */
    char metrics_listen[UP_ADDR_TEXT_MAX];  /* --metrics-listen: HTTP /metrics, /healthz */
    char statsd_self[UP_ADDR_TEXT_MAX];     /* --statsd-self: DogStatsD destination */
    unsigned statsd_self_interval_ms;       /* --statsd-self-interval */
    char statsd_self_prefix[UP_PREFIX_MAX]; /* --statsd-self-prefix */
    unsigned health_stall_ms;               /* --health-stall: /healthz 503 for a target stalled this long; 0 = off */

    /* Resolved by up_options_resolve(). */
    struct up_addr source_addr;
    struct up_addr target_addrs[UP_TARGETS_MAX];
    struct up_addr metrics_addr;     /* when metrics_listen is set */
    struct up_addr statsd_self_addr; /* when statsd_self is set */
};

enum up_options_action {
    UP_OPTIONS_RUN = 0,
    UP_OPTIONS_HELP = 1,
    UP_OPTIONS_VERSION = 2,
};

/* Fill o with the defaults. */
void up_options_defaults(struct up_options *o);

/* Parse argv[first..argc) over the current contents of o. Returns an
 * up_options_action (>= 0), or a negative error code with a one-line
 * message naming the flag and the value in err (the caller adds the usage
 * hint and exits 2). */
int up_options_parse(struct up_options *o, int argc, char *const *argv, int first, char *err, size_t errlen);

/* As up_options_parse, but no check that a target was given (the first
 * pass over the command line, before a --config file is read). */
int up_options_parse_lax(struct up_options *o, int argc, char *const *argv, int first, char *err, size_t errlen);

/* Apply one setting by its long flag name (no dashes), as a config file
 * line does: value NULL for a bare name (a switch). Repeatable settings
 * (target, allow) append. Returns UP_OK or a negative error with a message
 * in err; UP_EINVAL also for names a file may not set (config,
 * check-config, help, version). */
int up_options_set(struct up_options *o, const char *name, const char *value, char *err, size_t errlen);

/* Checks across settings (e.g. a unix: source takes one reader), at least
 * one target, and no two targets with the same name. Returns UP_OK or UP_EINVAL with a message in err. */
int up_options_check(const struct up_options *o, char *err, size_t errlen);

/* Resolve source and targets; rejects the same target twice. With
 * allow_unresolved a target name that does not resolve is left unresolved
 * (its address len is 0, a warning is logged) instead of failing.
 * Returns UP_OK or an error with a message in err. */
int up_options_resolve(struct up_options *o, char *err, size_t errlen);

/* A target's name: its name= option, else its address as written. */
const char *up_options_target_name(const struct up_options *o, size_t i);

/* The --help text. */
void up_options_usage(FILE *out);

#endif
