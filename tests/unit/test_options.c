/*
 * test_options.c - unit tests of options.c: defaults, the flag syntaxes,
 * every flag's range limits and its error message (which must name the flag
 * and the value), unknown flags, missing values, targets (none, the same one
 * twice by text or after resolution), --quiet, --help/--version, size
 * suffixes and durations. Resolution uses loopback names only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "options.h"
#include "page_edge.h"

#define MAX_WORDS (2 * UP_TARGETS_MAX + 8)

static struct up_options opt;
static char err[512];

/* Parse the NULL-terminated words after a program name, over the defaults. */
static int parse_words(const char *first, ...)
{
    char *argv[MAX_WORDS];
    int argc = 0;
    va_list ap;
    argv[argc++] = (char *)"udp-proxy";
    va_start(ap, first);
    for (const char *w = first; w; w = va_arg(ap, const char *)) {
        assert_true(argc < MAX_WORDS);
        argv[argc++] = (char *)w;
    }
    va_end(ap);
    up_options_defaults(&opt);
    err[0] = '\0';
    return up_options_parse(&opt, argc, argv, 1, err, sizeof(err));
}

#define PARSE(...) parse_words(__VA_ARGS__, (const char *)NULL)

/* The message names `a` and `b` (either may be NULL). */
static void assert_err_names(const char *a, const char *b)
{
    if (a && !strstr(err, a))
        fail_msg("error message \"%s\" does not name \"%s\"", err, a);
    if (b && !strstr(err, b))
        fail_msg("error message \"%s\" does not name \"%s\"", err, b);
    assert_null(strchr(err, '\n')); /* one line; the caller adds the usage hint */
}

static void test_defaults(void **state)
{
    (void)state;
    up_options_defaults(&opt);
    assert_string_equal(opt.source, ":2203");
    assert_int_equal(opt.ntargets, 0);
    assert_int_equal(opt.log_level, UP_LOG_INFO);
    /* No datagram the kernel can deliver (65,507 bytes over IPv4) is cut. */
    assert_true(opt.buffer >= 65507);
    assert_int_equal(opt.buffer, UP_DEFAULT_BUFFER);
    /* Far deeper than the Go tool's 100. */
    assert_true(opt.channel_size >= 1024);
    assert_int_equal(opt.channel_size, UP_DEFAULT_CHANNEL);
    assert_int_equal(opt.rcvbuf, 16 << 20);
    assert_int_equal(opt.sndbuf, UP_DEFAULT_SNDBUF);
    assert_int_equal(opt.readers, 1);
    assert_int_equal(opt.stats_interval, 60);
    assert_int_equal(opt.drain_ms, 2000);
    assert_string_equal(opt.log_file, "");
}

static void test_flag_syntaxes(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", ":9"), UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, 1);
    assert_string_equal(opt.targets[0], ":9");
    assert_string_equal(opt.source, ":2203");

    assert_int_equal(PARSE("--source=127.0.0.1:1000", "--target=[::1]:9"), UP_OPTIONS_RUN);
    assert_string_equal(opt.source, "127.0.0.1:1000");
    assert_string_equal(opt.targets[0], "[::1]:9");

    assert_int_equal(PARSE("-source", ":1001", "-target", ":9", "-buffer=1500"), UP_OPTIONS_RUN);
    assert_string_equal(opt.source, ":1001");
    assert_int_equal(opt.buffer, 1500);

    /* The value may itself contain '=' or start with '-' when separate. */
    assert_int_equal(PARSE("--target", ":9", "--log-file", "-odd=name"), UP_OPTIONS_RUN);
    assert_string_equal(opt.log_file, "-odd=name");
    assert_int_equal(PARSE("--target", ":9", "--log-file=a=b"), UP_OPTIONS_RUN);
    assert_string_equal(opt.log_file, "a=b");

    /* Later flags win. */
    assert_int_equal(PARSE("--target", ":9", "--buffer", "100", "--buffer=200"), UP_OPTIONS_RUN);
    assert_int_equal(opt.buffer, 200);
}

static void test_targets_in_order(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", ":1", "--target", "localhost:2", "--target=[::1]:3"), UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, 3);
    assert_string_equal(opt.targets[0], ":1");
    assert_string_equal(opt.targets[1], "localhost:2");
    assert_string_equal(opt.targets[2], "[::1]:3");
}

struct num_case {
    const char *flag; /* without dashes */
    const char *value;
    int want;          /* up_options_parse's return */
    unsigned long got; /* the field's value when want == RUN */
};

static unsigned long field_of(const char *flag)
{
    if (strcmp(flag, "buffer") == 0)
        return opt.buffer;
    if (strcmp(flag, "channel-size") == 0)
        return opt.channel_size;
    if (strcmp(flag, "rcvbuf") == 0)
        return (unsigned long)opt.rcvbuf;
    if (strcmp(flag, "sndbuf") == 0)
        return (unsigned long)opt.sndbuf;
    if (strcmp(flag, "readers") == 0)
        return opt.readers;
    if (strcmp(flag, "stats-interval") == 0)
        return opt.stats_interval;
    if (strcmp(flag, "drain-timeout") == 0)
        return opt.drain_ms;
    if (strcmp(flag, "log-max-size") == 0)
        return (unsigned long)opt.log_max_size;
    fail_msg("no field for --%s", flag);
    return 0;
}

static const struct num_case numbers[] = {
    {"buffer", "1", UP_OPTIONS_RUN, 1},
    {"buffer", "65535", UP_OPTIONS_RUN, 65535},
    {"buffer", "0", UP_ERANGE, 0},
    {"buffer", "65536", UP_ERANGE, 0},
    {"buffer", "99999999999999999999999", UP_ERANGE, 0},
    {"buffer", "abc", UP_EINVAL, 0},
    {"buffer", "", UP_EINVAL, 0},
    {"buffer", "-1", UP_EINVAL, 0},
    {"buffer", "1.5", UP_EINVAL, 0},
    {"buffer", "64K", UP_EINVAL, 0}, /* a count, not a size: no suffix */
    {"buffer", " 1", UP_EINVAL, 0},
    {"buffer", "1 ", UP_EINVAL, 0},
    {"channel-size", "1", UP_OPTIONS_RUN, 1},
    {"channel-size", "1048576", UP_OPTIONS_RUN, 1048576},
    {"channel-size", "0", UP_ERANGE, 0},
    {"channel-size", "1048577", UP_ERANGE, 0},
    {"channel-size", "x", UP_EINVAL, 0},
    {"readers", "1", UP_OPTIONS_RUN, 1},
    {"readers", "64", UP_OPTIONS_RUN, 64},
    {"readers", "0", UP_ERANGE, 0},
    {"readers", "65", UP_ERANGE, 0},
    {"readers", "two", UP_EINVAL, 0},
    {"stats-interval", "0", UP_OPTIONS_RUN, 0},
    {"stats-interval", "86400", UP_OPTIONS_RUN, 86400},
    {"stats-interval", "86401", UP_ERANGE, 0},
    {"stats-interval", "1m", UP_EINVAL, 0},
    /* sizes: bytes with binary K/M/G suffixes */
    {"rcvbuf", "4096", UP_OPTIONS_RUN, 4096},
    {"rcvbuf", "4095", UP_ERANGE, 0},
    {"rcvbuf", "4K", UP_OPTIONS_RUN, 4096},
    {"rcvbuf", "64k", UP_OPTIONS_RUN, 65536},
    {"rcvbuf", "16M", UP_OPTIONS_RUN, 16u << 20},
    {"rcvbuf", "16m", UP_OPTIONS_RUN, 16u << 20},
    {"rcvbuf", "16Mi", UP_OPTIONS_RUN, 16u << 20},
    {"rcvbuf", "16MiB", UP_OPTIONS_RUN, 16u << 20},
    {"rcvbuf", "16MB", UP_EINVAL, 0}, /* decimal or binary? refused, never guessed (finding 28) */
    {"rcvbuf", "64KB", UP_EINVAL, 0},
    {"rcvbuf", "64kB", UP_EINVAL, 0},
    {"rcvbuf", "1GB", UP_EINVAL, 0},
    {"rcvbuf", "64KiB", UP_OPTIONS_RUN, 65536},
    {"rcvbuf", "1GiB", UP_OPTIONS_RUN, 1u << 30},
    {"rcvbuf", "1G", UP_OPTIONS_RUN, 1u << 30},
    {"rcvbuf", "1073741824", UP_OPTIONS_RUN, 1u << 30},
    {"rcvbuf", "1073741825", UP_ERANGE, 0},
    {"rcvbuf", "2G", UP_ERANGE, 0},
    {"rcvbuf", "1025M", UP_ERANGE, 0},
    {"rcvbuf", "1099511627776K", UP_ERANGE, 0},
    {"rcvbuf", "17179869185G", UP_ERANGE, 0}, /* (2^34 + 1) G wraps to 1 G in 64 bits */
    {"rcvbuf", "18014398509481985M", UP_ERANGE, 0},
    {"rcvbuf", "1T", UP_EINVAL, 0},
    {"rcvbuf", "16MiBs", UP_EINVAL, 0},
    {"rcvbuf", "16B", UP_EINVAL, 0},
    {"rcvbuf", "16iB", UP_EINVAL, 0},
    {"rcvbuf", "M", UP_EINVAL, 0},
    {"rcvbuf", "", UP_EINVAL, 0},
    {"sndbuf", "4K", UP_OPTIONS_RUN, 4096},
    {"sndbuf", "1G", UP_OPTIONS_RUN, 1u << 30},
    {"sndbuf", "4000", UP_ERANGE, 0},
    {"sndbuf", "1.5M", UP_EINVAL, 0},
    {"log-max-size", "0", UP_OPTIONS_RUN, 0}, /* never rotate */
    {"log-max-size", "10M", UP_OPTIONS_RUN, 10u << 20},
    {"log-max-size", "200", UP_OPTIONS_RUN, 200},
    {"log-max-size", "2G", UP_ERANGE, 0},
    {"log-max-size", "ten", UP_EINVAL, 0},
    /* durations: seconds (with a fraction) or milliseconds */
    {"drain-timeout", "2", UP_OPTIONS_RUN, 2000},
    {"drain-timeout", "0", UP_OPTIONS_RUN, 0},
    {"drain-timeout", "2s", UP_OPTIONS_RUN, 2000},
    {"drain-timeout", "1.5", UP_OPTIONS_RUN, 1500},
    {"drain-timeout", "1.5s", UP_OPTIONS_RUN, 1500},
    {"drain-timeout", "0.25", UP_OPTIONS_RUN, 250},
    {"drain-timeout", "0.0005", UP_OPTIONS_RUN, 0},
    {"drain-timeout", "500ms", UP_OPTIONS_RUN, 500},
    {"drain-timeout", "0ms", UP_OPTIONS_RUN, 0},
    {"drain-timeout", "3600", UP_OPTIONS_RUN, 3600000},
    {"drain-timeout", "3600000ms", UP_OPTIONS_RUN, 3600000},
    {"drain-timeout", "3600.001", UP_ERANGE, 0},
    {"drain-timeout", "3601", UP_ERANGE, 0},
    {"drain-timeout", "3600001ms", UP_ERANGE, 0},
    {"drain-timeout", "1.5ms", UP_EINVAL, 0},
    {"drain-timeout", "1.", UP_EINVAL, 0},
    {"drain-timeout", ".5", UP_EINVAL, 0},
    {"drain-timeout", "2m", UP_EINVAL, 0},
    {"drain-timeout", "2 s", UP_EINVAL, 0},
    {"drain-timeout", "-1", UP_EINVAL, 0},
    {"drain-timeout", "", UP_EINVAL, 0},
};

static void test_numbers_and_messages(void **state)
{
    char flag[64];
    (void)state;
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        const struct num_case *c = &numbers[i];
        snprintf(flag, sizeof(flag), "--%s", c->flag);
        /* Both syntaxes give the same result. */
        for (int form = 0; form < 2; form++) {
            char joined[128];
            int r;
            if (form == 0) {
                r = PARSE("--target", ":9", flag, c->value);
            } else {
                snprintf(joined, sizeof(joined), "%s=%s", flag, c->value);
                r = PARSE("--target", ":9", joined);
            }
            if (r != c->want)
                fail_msg("%s '%s' (form %d): got %d, want %d (%s)", flag, c->value, form, r, c->want, err);
            if (r == UP_OPTIONS_RUN) {
                if (field_of(c->flag) != c->got)
                    fail_msg("%s '%s': field is %lu, want %lu", flag, c->value, field_of(c->flag), c->got);
            } else {
                char quoted[128];
                snprintf(quoted, sizeof(quoted), "'%s'", c->value);
                assert_err_names(flag, quoted);
            }
        }
    }
}

static void test_range_messages(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", ":9", "--buffer", "65536"), UP_ERANGE);
    assert_string_equal(err, "--buffer: '65536' is out of range (1..65535)");
    assert_int_equal(PARSE("--target", ":9", "--drain-timeout", "3601"), UP_ERANGE);
    assert_string_equal(err, "--drain-timeout: '3601' is out of range (0..3600000 ms)");
    assert_int_equal(PARSE("--target", ":9", "--readers", "two"), UP_EINVAL);
    assert_string_equal(err, "--readers: 'two' is not a whole number");
    assert_int_equal(PARSE("--target", ":9", "--rcvbuf", "16MB"), UP_EINVAL);
    assert_string_equal(err, "--rcvbuf: '16MB': MB is ambiguous, write 16M or 16MiB (binary: 1M = 1048576 bytes)");
}

static void test_log_level_and_quiet(void **state)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "fatal"};
    static const int levels[] = {UP_LOG_DEBUG, UP_LOG_INFO, UP_LOG_WARN, UP_LOG_ERROR, UP_LOG_FATAL};
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(PARSE("--target", ":9", "--log-level", names[i]), UP_OPTIONS_RUN);
        assert_int_equal(opt.log_level, levels[i]);
    }
    /* What logrus (the Go tool) accepts, in any case (issue 9 item 3). */
    static const struct {
        const char *name;
        int level;
    } go[] = {
        {"trace", UP_LOG_DEBUG}, {"TRACE", UP_LOG_DEBUG}, {"Debug", UP_LOG_DEBUG},  {"Info", UP_LOG_INFO},
        {"INFO", UP_LOG_INFO},   {"WARN", UP_LOG_WARN},   {"warning", UP_LOG_WARN}, {"Warning", UP_LOG_WARN},
        {"ERROR", UP_LOG_ERROR}, {"Fatal", UP_LOG_FATAL}, {"panic", UP_LOG_FATAL},  {"PANIC", UP_LOG_FATAL},
    };
    for (size_t i = 0; i < sizeof(go) / sizeof(go[0]); i++) {
        if (PARSE("--target", ":9", "--log-level", go[i].name) != UP_OPTIONS_RUN || opt.log_level != go[i].level)
            fail_msg("--log-level %s: got level %d (%s), want %d", go[i].name, opt.log_level, err, go[i].level);
        assert_int_equal(up_log_level_parse(go[i].name), go[i].level);
    }
    static const char *const bad[] = {"verbose", "warnings", "war", "", "info ", "infO\x01", "tracex"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(up_log_level_parse(bad[i]), UP_EINVAL);
    assert_int_equal(PARSE("--target", ":9", "--log-level", "verbose"), UP_EINVAL);
    assert_err_names("--log-level", "'verbose'");
    assert_err_names("warning", "panic");
    assert_int_equal(PARSE("--target", ":9", "--log-level="), UP_EINVAL);
    assert_err_names("--log-level", "''");

    assert_int_equal(PARSE("--target", ":9", "--quiet"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_WARN);
    assert_int_equal(PARSE("-quiet", "--target", ":9"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_WARN);
    /* The last of --quiet and --log-level wins. */
    assert_int_equal(PARSE("--target", ":9", "--quiet", "--log-level", "debug"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_DEBUG);
    assert_int_equal(PARSE("--target", ":9", "--log-level", "error", "--quiet"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_WARN);
    /* --quiet does not swallow the next word; --quiet=VALUE takes what a
     * file's "quiet = VALUE" takes (walkthrough finding 28). */
    assert_int_equal(PARSE("--quiet", "--target", ":9"), UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, 1);
    assert_int_equal(PARSE("--target", ":9", "--quiet=1"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_WARN);
    assert_int_equal(PARSE("--target", ":9", "--quiet=true"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_WARN);
    assert_int_equal(PARSE("--target", ":9", "--log-level", "error", "--quiet=false"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_ERROR);
    assert_int_equal(PARSE("--target", ":9", "--quiet=0"), UP_OPTIONS_RUN);
    assert_int_equal(opt.log_level, UP_LOG_INFO);
    assert_int_equal(PARSE("--target", ":9", "--quiet=maybe"), UP_EINVAL);
    assert_err_names("--quiet", "'maybe'");
    /* Likewise the other switches. */
    assert_int_equal(PARSE("--target", ":9", "--allow-unresolved=false"), UP_OPTIONS_RUN);
    assert_false(opt.allow_unresolved);
    assert_int_equal(PARSE("--target", ":9", "--allow-unresolved=yes"), UP_OPTIONS_RUN);
    assert_true(opt.allow_unresolved);
    assert_int_equal(PARSE("--target", ":9", "--allow-unresolved=2"), UP_EINVAL);
    assert_err_names("--allow-unresolved", "'2'");
    /* A switch never takes the next word as its value. */
    assert_int_equal(PARSE("--allow-unresolved", "false", "--target", ":9"), UP_EINVAL);
    assert_err_names("'false'", NULL);
}

static void test_log_file(void **state)
{
    char longpath[UP_PATH_MAX + 1];
    (void)state;
    assert_int_equal(PARSE("--target", ":9", "--log-file", "/var/log/udp-proxy.log"), UP_OPTIONS_RUN);
    assert_string_equal(opt.log_file, "/var/log/udp-proxy.log");
    assert_int_equal(PARSE("--target", ":9", "--log-file="), UP_EINVAL);
    assert_err_names("--log-file", "''");
    memset(longpath, 'p', UP_PATH_MAX - 1);
    longpath[UP_PATH_MAX - 1] = '\0';
    assert_int_equal(PARSE("--target", ":9", "--log-file", longpath), UP_OPTIONS_RUN);
    assert_int_equal(strlen(opt.log_file), UP_PATH_MAX - 1);
    longpath[UP_PATH_MAX - 1] = 'p';
    longpath[UP_PATH_MAX] = '\0';
    assert_int_equal(PARSE("--target", ":9", "--log-file", longpath), UP_EINVAL);
    assert_err_names("--log-file", NULL);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", ":9", "--source", "1.2.3.4:0"), UP_ERANGE);
    assert_err_names("--source", "'1.2.3.4:0'");
    assert_int_equal(PARSE("--target", ":65536"), UP_ERANGE);
    assert_err_names("--target", "':65536'");
    assert_int_equal(PARSE("--target", "::1:80"), UP_EINVAL);
    assert_err_names("--target", "'::1:80'");
    assert_int_equal(PARSE("--target", ":9", "--source=localhost"), UP_EINVAL);
    assert_err_names("--source", "'localhost'");
    assert_int_equal(PARSE("--target", "[::1:80"), UP_EINVAL);
    assert_err_names("--target", "'[::1:80'");
    /* The exporters take no unix: address, and say so (finding 28). */
    assert_int_equal(PARSE("--target", ":9", "--metrics-listen", "unix:/run/m.sock"), UP_EINVAL);
    assert_err_names("--metrics-listen", "unix: is not supported here");
    assert_int_equal(PARSE("--target", ":9", "--statsd-self", "unix:/run/dsd.sock"), UP_EINVAL);
    assert_err_names("--statsd-self", "unix: is not supported here");
}

static void test_unknown_and_stray_words(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", ":9", "--nope"), UP_EINVAL);
    assert_err_names("'--nope'", NULL);
    assert_int_equal(PARSE("--target", ":9", "--nope=3"), UP_EINVAL);
    assert_err_names("'--nope'", NULL);
    assert_int_equal(PARSE("-x", "--target", ":9"), UP_EINVAL);
    assert_err_names("'-x'", NULL);
    assert_int_equal(PARSE("--target", ":9", "--"), UP_EINVAL);
    assert_err_names("'--'", NULL);
    assert_int_equal(PARSE("--target", ":9", "---target", ":8"), UP_EINVAL);
    assert_err_names("---target", NULL);
    assert_int_equal(PARSE("--Target", ":9"), UP_EINVAL); /* names are case-sensitive */
    assert_err_names("--Target", NULL);
    assert_int_equal(PARSE("--targets", ":9"), UP_EINVAL); /* no prefix matching */
    assert_int_equal(PARSE("--target", ":9", "extra"), UP_EINVAL);
    assert_err_names("'extra'", NULL);
    assert_int_equal(PARSE("--target", ":9", "-"), UP_EINVAL);
    assert_int_equal(PARSE("--target", ":9", ""), UP_EINVAL);
}

static void test_missing_value(void **state)
{
    static const char *const flags[] = {"--source",   "--target",         "--log-level",    "--buffer",
                                        "--rcvbuf",   "--sndbuf",         "--channel-size", "--readers",
                                        "--log-file", "--stats-interval", "--drain-timeout"};
    (void)state;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (PARSE("--target", ":9", flags[i]) != UP_EINVAL)
            fail_msg("%s without a value was accepted", flags[i]);
        assert_err_names(flags[i], "needs a value");
    }
}

static void test_no_target(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--source", ":2203"), UP_EINVAL);
    assert_err_names("--target", NULL);
    assert_int_equal(parse_words(NULL), UP_EINVAL);
    assert_err_names("--target", NULL);
}

static void test_duplicate_target_text(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", "127.0.0.1:9", "--target", ":8", "--target=127.0.0.1:9"), UP_EDUPLICATE);
    assert_err_names("--target", "'127.0.0.1:9'");
}

static void test_duplicate_target_resolved(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", "localhost:9", "--target", ":8", "--target", "127.0.0.1:9"), UP_OPTIONS_RUN);
    err[0] = '\0';
    assert_int_equal(up_options_resolve(&opt, err, sizeof(err)), UP_EDUPLICATE);
    assert_err_names("'localhost:9'", "'127.0.0.1:9'");
    assert_err_names("--target", "127.0.0.1:9");

    /* ":9" as a target is this host too. */
    assert_int_equal(PARSE("--target", ":9", "--target", "127.0.0.1:9"), UP_OPTIONS_RUN);
    assert_int_equal(up_options_resolve(&opt, err, sizeof(err)), UP_EDUPLICATE);

    /* Same port on another family or address is another target. */
    assert_int_equal(PARSE("--target", "127.0.0.1:9", "--target", "[::1]:9", "--target", "127.0.0.2:9"),
                     UP_OPTIONS_RUN);
    assert_int_equal(up_options_resolve(&opt, err, sizeof(err)), UP_OK);
}

static void test_resolve(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target", "localhost:8126", "--target", "[::1]:8127"), UP_OPTIONS_RUN);
    assert_int_equal(up_options_resolve(&opt, err, sizeof(err)), UP_OK);
    assert_true(opt.source_addr.any_host);
    assert_int_equal(opt.source_addr.ss.ss_family, AF_INET6);
    assert_int_equal(opt.target_addrs[0].ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&opt.target_addrs[0].ss)->sin_port), 8126);
    assert_int_equal(opt.target_addrs[1].ss.ss_family, AF_INET6);
    assert_string_equal(opt.target_addrs[1].text, "[::1]:8127");
}

static void test_too_many_targets(void **state)
{
    char *argv[2 * UP_TARGETS_MAX + 3];
    char addrs[UP_TARGETS_MAX + 1][16];
    int argc = 0;
    (void)state;
    argv[argc++] = (char *)"udp-proxy";
    for (int i = 0; i <= UP_TARGETS_MAX; i++) {
        snprintf(addrs[i], sizeof(addrs[i]), ":%d", 1000 + i);
        argv[argc++] = (char *)"--target";
        argv[argc++] = addrs[i];
    }
    up_options_defaults(&opt);
    /* All but the last: exactly the maximum. */
    assert_int_equal(up_options_parse(&opt, argc - 2, argv, 1, err, sizeof(err)), UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, UP_TARGETS_MAX);
    up_options_defaults(&opt);
    assert_int_equal(up_options_parse(&opt, argc, argv, 1, err, sizeof(err)), UP_ERANGE);
    assert_err_names("--target", addrs[UP_TARGETS_MAX]);
}

static void test_help_and_version(void **state)
{
    (void)state;
    /* Neither needs a target. */
    assert_int_equal(PARSE("--help"), UP_OPTIONS_HELP);
    assert_int_equal(PARSE("-h"), UP_OPTIONS_HELP);
    assert_int_equal(PARSE("-help"), UP_OPTIONS_HELP);
    assert_int_equal(PARSE("--version"), UP_OPTIONS_VERSION);
    assert_int_equal(PARSE("-V"), UP_OPTIONS_VERSION);
    assert_int_equal(PARSE("-version"), UP_OPTIONS_VERSION);
    /* Help wins over version, whatever the order. */
    assert_int_equal(PARSE("--version", "--help"), UP_OPTIONS_HELP);
    assert_int_equal(PARSE("--help", "--version"), UP_OPTIONS_HELP);
    assert_int_equal(PARSE("--target", ":9", "--version"), UP_OPTIONS_VERSION);
    /* A bad flag is still an error. */
    assert_int_equal(PARSE("--help", "--nope"), UP_EINVAL);
    assert_int_equal(PARSE("--version", "--buffer", "0"), UP_ERANGE);
}

static void test_parse_again_replaces_targets(void **state)
{
    char *first[] = {(char *)"p", (char *)"--target", (char *)":1", (char *)"--target", (char *)":2"};
    char *second[] = {(char *)"p", (char *)"--target", (char *)":3"};
    char *third[] = {(char *)"p", (char *)"--buffer", (char *)"100"};
    (void)state;
    up_options_defaults(&opt);
    assert_int_equal(up_options_parse(&opt, 5, first, 1, err, sizeof(err)), UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, 2);
    /* Targets given again replace the earlier ones, not add to them. */
    assert_int_equal(up_options_parse(&opt, 3, second, 1, err, sizeof(err)), UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, 1);
    assert_string_equal(opt.targets[0], ":3");
    /* No --target this time: the earlier ones stay. */
    assert_int_equal(up_options_parse(&opt, 3, third, 1, err, sizeof(err)), UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, 1);
    assert_int_equal(opt.buffer, 100);
}

static void test_small_error_buffer(void **state)
{
    char *argv[] = {(char *)"p", (char *)"--target", (char *)":9", (char *)"--buffer", (char *)"65536"};
    char small[8];
    (void)state;
    memset(small, 'z', sizeof(small));
    up_options_defaults(&opt);
    assert_int_equal(up_options_parse(&opt, 5, argv, 1, small, sizeof(small)), UP_ERANGE);
    assert_int_equal(small[sizeof(small) - 1], '\0');
    assert_string_equal(small, "--buffe");
    up_options_defaults(&opt);
    assert_int_equal(up_options_parse(&opt, 5, argv, 1, NULL, 0), UP_ERANGE);
}

/* Every word of a few command lines ends at an unreadable page. */
static void test_parse_at_page_end(void **state)
{
    static const char *const lines[][8] = {
        {"--source", ":2203", "--target", "[::1]:9", "--rcvbuf", "16MiB", NULL},
        {"--target=localhost:9", "--drain-timeout=1.5s", "--quiet", NULL},
        {"-target", ":9", "--buffer", "65536", NULL},
        {"--target", ":9", "--log-level", "warn", "--log-file", "x", "--", NULL},
        {"--target", ":9", "--stats-interval", NULL},
        {"--help", "-V", "--channel-size=7", NULL},
    };
    struct page_edge pages[8];
    (void)state;
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(page_edge_open(&pages[i]), 0);
    for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
        char *argv[9] = {(char *)"udp-proxy"};
        char *plain[9] = {(char *)"udp-proxy"};
        int argc = 1;
        for (size_t w = 0; lines[l][w]; w++, argc++) {
            argv[argc] = page_edge_put(&pages[w], lines[l][w]);
            plain[argc] = (char *)lines[l][w];
        }
        /* Same answer, message and options as from ordinary memory, and no read past any end. */
        static struct up_options want_opt;
        static char want_err[sizeof(err)];
        up_options_defaults(&want_opt);
        want_err[0] = '\0';
        int want = up_options_parse(&want_opt, argc, plain, 1, want_err, sizeof(want_err));
        up_options_defaults(&opt);
        err[0] = '\0';
        assert_int_equal(up_options_parse(&opt, argc, argv, 1, err, sizeof(err)), want);
        assert_string_equal(err, want_err);
        want_opt.argv = opt.argv = NULL; /* the only field that points into argv */
        assert_memory_equal(&opt, &want_opt, sizeof(opt));
    }
    for (size_t i = 0; i < 8; i++)
        page_edge_close(&pages[i]);
}

/* --target ADDR[,OPTION=VALUE...] (issue 11): the options apart from the
 * address, every choice, and unknown, bad or repeated options (exit 2,
 * naming the option). */
static void test_target_options(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--target",
                           "127.0.0.1:8127,dialect=otel,max-datagram=8192,name=otel,container-id=keep,"
                           "timestamp=keep,bare-tags=drop,d-as-h=true",
                           "--target", "[::1]:8126", "--target", "unix:/run/a,b.sock,name=uds"),
                     UP_OPTIONS_RUN);
    assert_int_equal(opt.ntargets, 3);
    assert_string_equal(opt.targets[0], "127.0.0.1:8127");
    const struct up_target_opts *t = &opt.target_opts[0];
    assert_string_equal(t->name, "otel");
    assert_int_equal(t->shape.dialect, UP_DIALECT_OTEL);
    assert_int_equal(t->shape.max_datagram, 8192);
    assert_true(t->shape.keep_container_id);
    assert_true(t->shape.keep_timestamp);
    assert_int_equal(t->shape.bare_tags, UP_BARE_DROP);
    assert_true(t->shape.d_as_h);
    assert_true(up_target_opts_shaped(t));
    assert_string_equal(opt.targets[1], "[::1]:8126"); /* IPv6: the colons are not options */
    assert_string_equal(opt.target_opts[1].name, "");
    assert_false(up_target_opts_shaped(&opt.target_opts[1]));
    assert_string_equal(up_options_target_name(&opt, 1), "[::1]:8126");
    /* a unix path keeps its comma: options start at ",known-name=" */
    assert_string_equal(opt.targets[2], "unix:/run/a,b.sock");
    assert_string_equal(up_options_target_name(&opt, 2), "uds");

    assert_int_equal(PARSE("--target", "127.0.0.1:1,max-datagram=0,dialect=raw"), UP_OPTIONS_RUN);
    assert_false(up_target_opts_shaped(&opt.target_opts[0]));

    static const struct {
        const char *spec, *names;
    } bad[] = {
        {"127.0.0.1:1,dialect=x", "dialect"},
        {"127.0.0.1:1,foo=1", "foo"},
        {"127.0.0.1:1,dialect", "dialect"},
        {"127.0.0.1:1,dialect=otel,dialect=raw", "dialect"},
        {"127.0.0.1:1,max-datagram=100", "max-datagram"},
        {"127.0.0.1:1,max-datagram=65508", "max-datagram"},
        {"127.0.0.1:1,max-datagram=8k", "max-datagram"},
        {"127.0.0.1:1,dialect=otel,container-id=maybe", "container-id"},
        {"127.0.0.1:1,dialect=otel,timestamp=", "timestamp"},
        {"127.0.0.1:1,dialect=otel,bare-tags=false", "bare-tags"},
        {"127.0.0.1:1,dialect=otel,d-as-h=1", "d-as-h"},
        {"127.0.0.1:1,container-id=keep", "container-id"}, /* an otel choice on a raw target */
        {"127.0.0.1:1,dialect=raw,d-as-h=true", "d-as-h"},
        {"127.0.0.1:1,name=", "name"},
        {"127.0.0.1:1,name=a b", "name"},
        {"127.0.0.1:1,", "''"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(PARSE("--target", bad[i].spec), UP_EINVAL);
        assert_err_names(bad[i].names, "127.0.0.1:1");
    }
    /* two targets with one name */
    assert_int_equal(PARSE("--target", "127.0.0.1:1,name=a", "--target", "127.0.0.1:2,name=a"), UP_EDUPLICATE);
    assert_err_names("'a'", NULL);
    assert_int_equal(PARSE("--target", "127.0.0.1:1", "--target", "127.0.0.1:2,name=127.0.0.1:1"), UP_EDUPLICATE);
    /* a config file line is the same string */
    up_options_defaults(&opt);
    assert_int_equal(up_options_set(&opt, "target", "127.0.0.1:8127,dialect=otel", err, sizeof(err)), UP_OK);
    assert_int_equal(opt.target_opts[0].shape.dialect, UP_DIALECT_OTEL);
    assert_int_equal(up_options_set(&opt, "target", "127.0.0.1:8128,dialect=otel,bare-tags=no", err, sizeof(err)),
                     UP_EINVAL);
    assert_err_names("bare-tags", NULL);
}

static void test_usage_names_every_flag(void **state)
{
    static const char *const flags[] = {"--source",        "--target",    "--buffer",         "--channel-size",
                                        "--rcvbuf",        "--sndbuf",    "--readers",        "--stats-interval",
                                        "--drain-timeout", "--log-level", "--quiet",          "--log-file",
                                        "--help",          "--version",   "net.core.rmem_max"};
    char *text = NULL;
    size_t len = 0;
    (void)state;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    up_options_usage(f);
    fclose(f);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (!strstr(text, flags[i]))
            fail_msg("the usage text does not mention %s", flags[i]);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flag_syntaxes),
        cmocka_unit_test(test_targets_in_order),
        cmocka_unit_test(test_numbers_and_messages),
        cmocka_unit_test(test_range_messages),
        cmocka_unit_test(test_log_level_and_quiet),
        cmocka_unit_test(test_log_file),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_unknown_and_stray_words),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_no_target),
        cmocka_unit_test(test_duplicate_target_text),
        cmocka_unit_test(test_duplicate_target_resolved),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_too_many_targets),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_parse_again_replaces_targets),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_parse_at_page_end),
        cmocka_unit_test(test_target_options),
        cmocka_unit_test(test_usage_names_every_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
