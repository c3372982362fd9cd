/* test_config.c - the config file parser (config.c) and the settings it
 * shares with the command line (up_options_set, precedence, CIDR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "alloc.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "options.h"

static struct up_options o;
static char err[700];

static int parse(const char *text)
{
    up_options_defaults(&o);
    err[0] = '\0';
    return up_config_parse(&o, text, strlen(text), "t.conf", err, sizeof(err));
}

static void test_good_file(void **state)
{
    (void)state;
    const char *text = "# comment\n"
                       "\n"
                       "   source =  127.0.0.1:8125  \r\n"
                       "target = 127.0.0.1:8126   # the agent\n"
                       "target=\"127.0.0.1:8127\"\n"
                       "\ttarget = unix:/run/dsd.sock\n"
                       "quiet\n"
                       "allow-unresolved = true\n"
                       "allow = 10.0.0.0/8\n"
                       "allow = ::1\n"
                       "resolve-interval = 5\n"
                       "source-mode = 0600\n"
                       "drain-timeout = 500ms\n"
                       "buffer = 8192"; /* no newline at the end */
    assert_int_equal(parse(text), UP_OK);
    assert_string_equal(o.source, "127.0.0.1:8125");
    assert_int_equal(o.ntargets, 3);
    assert_string_equal(o.targets[0], "127.0.0.1:8126");
    assert_string_equal(o.targets[1], "127.0.0.1:8127");
    assert_string_equal(o.targets[2], "unix:/run/dsd.sock");
    assert_int_equal(o.log_level, UP_LOG_WARN);
    assert_true(o.allow_unresolved);
    assert_int_equal(o.nallow, 2);
    assert_int_equal(o.allow[0].prefix, 8);
    assert_int_equal(o.allow[1].prefix, 128);
    assert_int_equal(o.resolve_interval, 5);
    assert_int_equal(o.source_mode, 0600);
    assert_int_equal(o.drain_ms, 500);
    assert_int_equal(o.buffer, 8192);
}

static void test_switch_false(void **state)
{
    (void)state;
    /* A bare switch followed by a comment (OPERATIONS.md's example,
     * walkthrough finding 10). */
    assert_int_equal(parse("allow-unresolved                     # a switch: bare name, or \"= true\"\n"
                           "quiet\t# quieter\n"),
                     UP_OK);
    assert_true(o.allow_unresolved);
    assert_int_equal(o.log_level, UP_LOG_WARN);
    /* Every level name logrus accepts, in any case, as on the command line. */
    assert_int_equal(parse("log-level = WARNING\n"), UP_OK);
    assert_int_equal(o.log_level, UP_LOG_WARN);
    assert_int_equal(parse("log-level = Trace # the Go tool's name\n"), UP_OK);
    assert_int_equal(o.log_level, UP_LOG_DEBUG);
    assert_int_equal(parse("log-level = panic\n"), UP_OK);
    assert_int_equal(o.log_level, UP_LOG_FATAL);
    /* Sizes: the same rule as the command line. */
    assert_int_equal(parse("rcvbuf = 16MiB\n"), UP_OK);
    assert_int_equal(o.rcvbuf, 16 << 20);
    assert_int_equal(parse("rcvbuf = 16MB\n"), UP_EINVAL);
    assert_non_null(strstr(err, "t.conf:1: --rcvbuf: '16MB': MB is ambiguous"));
    assert_int_equal(parse("allow-unresolved = false\nquiet = false\n"), UP_OK);
    assert_false(o.allow_unresolved);
    assert_int_equal(o.log_level, UP_LOG_INFO);
}

/* Each malformed file fails with "t.conf:LINE:" and a reason. */
static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"frob = 1\n", "t.conf:1: unknown setting 'frob'"},
        {"\n\ntarget =\n", "t.conf:3: target: the value is missing"},
        {"target = 127.0.0.1:0\n", "t.conf:1: --target: '127.0.0.1:0': port must be 1..65535"},
        {"target = a:1\ntarget = a:1\n", "t.conf:2: --target: 'a:1' is given twice"},
        {"target 1.2.3.4:5\n", "t.conf:1: expected 'name = value'"},
        /* The whole line is quoted, not its first 60 bytes. */
        {"allow-unresolved yes please, and the rest of this long line too  # c\n",
         "t.conf:1: expected 'name = value', got 'allow-unresolved yes please, and the rest of this long line too'"},
        {"quiet # c\nbuffer # c\n", "t.conf:2: 'buffer' needs a value"},
        {"= x\n", "t.conf:1: a setting name is missing"},
        {"Target = a:1\n", "t.conf:1: expected 'name = value'"},
        {"target = \"a:1\n", "t.conf:1: target: the value's closing '\"' is missing"},
        {"target = \"a:1\" b\n", "t.conf:1: target: text after the quoted value"},
        {"config = x\n", "t.conf:1: 'config' is a command-line flag only"},
        {"check-config\n", "t.conf:1: 'check-config' is a command-line flag only"},
        {"buffer\n", "t.conf:1: 'buffer' needs a value"},
        {"buffer = 0\n", "t.conf:1: --buffer: '0' is out of range"},
        {"readers = 1x\n", "t.conf:1: --readers: '1x' is not a whole number"},
        {"quiet = maybe\n", "t.conf:1: --quiet: 'maybe' is not true or false"},
        {"source-mode = 1777\n", "t.conf:1: --source-mode: '1777' is not a file mode"},
        {"source-mode = 8\n", "t.conf:1: --source-mode: '8' is not a file mode"},
        {"allow = 10.0.0.1/8\n", "t.conf:1: --allow: '10.0.0.1/8' is not a network"},
        {"allow = 10.0.0.0/33\n", "t.conf:1: --allow: '10.0.0.0/33' is not a network"},
        {"allow = ::/129\n", "t.conf:1: --allow: '::/129' is not a network"},
        {"allow = nonsense\n", "t.conf:1: --allow: 'nonsense' is not a network"},
        {"target = unix:relative\n", "t.conf:1: --target: 'unix:relative': a Unix socket needs an absolute path"},
        {"log-level = loud\n", "t.conf:1: --log-level: 'loud' is not one of"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = parse(bad[i].text);
        if (r == UP_OK || strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("file %zu %s: got %d '%s', want '%s'", i, bad[i].text, r, err, bad[i].want);
    }
}

static void test_nul_and_long_lines(void **state)
{
    (void)state;
    const char text[] = "target = a:1\nsource = b\0c:1\n";
    up_options_defaults(&o);
    assert_int_not_equal(up_config_parse(&o, text, sizeof(text) - 1, "t.conf", err, sizeof(err)), UP_OK);
    assert_string_equal(err, "t.conf:2: a NUL byte (is this a text file?)");

    size_t n = UP_CONFIG_LINE_MAX + 10;
    char *big = up_calloc(1, n + 1);
    assert_non_null(big);
    memset(big, '#', n);
    assert_int_not_equal(parse(big), UP_OK);
    assert_non_null(strstr(err, "t.conf:1: line longer than"));
    /* Exactly the limit is fine (a comment). */
    big[UP_CONFIG_LINE_MAX] = '\0';
    assert_int_equal(parse(big), UP_OK);
    up_free(big);
}

/* The parser never reads past len: the text is not NUL-terminated and
 * ends exactly at the end of a heap block (ASan sees any overread); each
 * text still gets its own answer (ok, or an error naming t.conf:1). */
static void test_bounded(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *error; /* NULL: parses; else words of the message */
    } cases[] = {
        {"target = a:1", NULL},
        {"target", "needs a value"},
        {"#", NULL},
        {"target = \"a:1", "closing '\"' is missing"},
        {"target = a:1 #", NULL},
        {" ", NULL},
        {"=", "name is missing"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].text);
        char *buf = malloc(n);
        assert_non_null(buf);
        memcpy(buf, cases[i].text, n);
        up_options_defaults(&o);
        err[0] = '\0';
        int rc = up_config_parse(&o, buf, n, "t.conf", err, sizeof(err));
        free(buf);
        if (cases[i].error == NULL) {
            if (rc != UP_OK)
                fail_msg("%s: rc %d, want UP_OK (%s)", cases[i].text, rc, err);
        } else {
            if (rc >= 0 || strstr(err, "t.conf:1:") == NULL || strstr(err, cases[i].error) == NULL)
                fail_msg("%s: rc %d, message \"%s\", want an error with t.conf:1: and \"%s\"", cases[i].text, rc, err,
                         cases[i].error);
        }
    }
    /* The text "target = a:1" set the target. */
    up_options_defaults(&o);
    char *buf = malloc(12);
    assert_non_null(buf);
    memcpy(buf, "target = a:1", 12);
    assert_int_equal(up_config_parse(&o, buf, 12, "t.conf", err, sizeof(err)), UP_OK);
    free(buf);
    assert_int_equal(o.ntargets, 1);
    assert_string_equal(o.targets[0], "a:1");
}

/* Command line over the file; targets on the command line replace the
 * file's; --check-config. */
static void test_load_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/up-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "source = 127.0.0.1:1000\ntarget = 127.0.0.1:1001\ntarget = 127.0.0.1:1002\n"
                       "allow = 10.0.0.0/8\nbuffer = 1000\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    char *a1[] = {"udp-proxy", "--config", path, "--buffer", "2000", NULL};
    assert_int_equal(up_config_load(&o, 5, a1, err, sizeof(err)), UP_OPTIONS_RUN);
    assert_string_equal(o.config, path);
    assert_int_equal(o.buffer, 2000);
    assert_int_equal(o.ntargets, 2);
    assert_int_equal(o.nallow, 1);

    char *a2[] = {"udp-proxy",
                  "--config="
                  "",
                  NULL};
    assert_int_not_equal(up_config_load(&o, 2, a2, err, sizeof(err)), UP_OPTIONS_RUN);

    char *a3[] = {"udp-proxy", "-config", path, "--target", "127.0.0.1:2000", "--allow", "::1", "--check-config", NULL};
    assert_int_equal(up_config_load(&o, 8, a3, err, sizeof(err)), UP_OPTIONS_RUN);
    assert_int_equal(o.ntargets, 1);
    assert_string_equal(o.targets[0], "127.0.0.1:2000");
    assert_string_equal(o.source, "127.0.0.1:1000");
    assert_int_equal(o.nallow, 1);
    assert_int_equal(o.allow[0].family, AF_INET6);
    assert_true(o.check_config);

    /* A unix: source takes one reader. */
    char *a4[] = {"udp-proxy", "--config", path, "--source", "unix:/tmp/x.sock", "--readers", "2", NULL};
    assert_int_equal(up_config_load(&o, 7, a4, err, sizeof(err)), UP_EINVAL);
    assert_non_null(strstr(err, "--readers"));

    unlink(path);
    char *a5[] = {"udp-proxy", "--config", path, NULL};
    assert_int_not_equal(up_config_load(&o, 3, a5, err, sizeof(err)), UP_OPTIONS_RUN);
    assert_non_null(strstr(err, "cannot read config file"));
}

/* A UTF-8 byte order mark at the start (Notepad writes one) is skipped;
 * anywhere else it is still an error, reported on its line. */
static void test_bom(void **state)
{
    (void)state;
    assert_int_equal(parse("\xef\xbb\xbftarget = 127.0.0.1:8126\r\nsource = 127.0.0.1:8125\r\n"), UP_OK);
    assert_int_equal(o.ntargets, 1);
    assert_string_equal(o.targets[0], "127.0.0.1:8126");
    assert_string_equal(o.source, "127.0.0.1:8125");
    assert_int_equal(parse("\xef\xbb\xbf"), UP_OK); /* a BOM and nothing else: an empty file */
    assert_int_equal(o.ntargets, 0);
    assert_int_equal(parse("\xef\xbb\xbf# comment\n\xef\xbb\xbftarget = 127.0.0.1:8126\n"), UP_EINVAL);
    assert_non_null(strstr(err, "t.conf:2: "));
    assert_int_equal(parse("\xef\xbbtarget = 127.0.0.1:8126\n"), UP_EINVAL); /* cut BOM: not skipped */
    assert_non_null(strstr(err, "t.conf:1: "));
}

static void test_cidr_match(void **state)
{
    (void)state;
    struct up_cidr list[3];
    assert_int_equal(up_cidr_parse("10.1.0.0/16", &list[0]), UP_OK);
    assert_int_equal(up_cidr_parse("fd00::/8", &list[1]), UP_OK);
    assert_int_equal(up_cidr_parse("192.0.2.7", &list[2]), UP_OK);
    assert_int_equal(up_cidr_parse("0.0.0.0/0", &(struct up_cidr){0}), UP_OK);
    assert_int_equal(up_cidr_parse("10.1.0.0/", &(struct up_cidr){0}), UP_EINVAL);
    assert_int_equal(up_cidr_parse("/8", &(struct up_cidr){0}), UP_EINVAL);

    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET, "10.1.255.3", &s4.sin_addr);
    assert_true(up_cidr_match(list, 3, (struct sockaddr *)&s4));
    inet_pton(AF_INET, "10.2.0.1", &s4.sin_addr);
    assert_false(up_cidr_match(list, 3, (struct sockaddr *)&s4));
    inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
    assert_true(up_cidr_match(list, 3, (struct sockaddr *)&s4));
    inet_pton(AF_INET, "192.0.2.8", &s4.sin_addr);
    assert_false(up_cidr_match(list, 3, (struct sockaddr *)&s4));
    inet_pton(AF_INET6, "fdab::1", &s6.sin6_addr);
    assert_true(up_cidr_match(list, 3, (struct sockaddr *)&s6));
    inet_pton(AF_INET6, "fe80::1", &s6.sin6_addr);
    assert_false(up_cidr_match(list, 3, (struct sockaddr *)&s6));
    /* An IPv4 sender seen through a dual-stack socket. */
    inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr);
    assert_true(up_cidr_match(list, 3, (struct sockaddr *)&s6));
    inet_pton(AF_INET6, "::ffff:10.9.2.3", &s6.sin6_addr);
    assert_false(up_cidr_match(list, 3, (struct sockaddr *)&s6));
    assert_false(up_cidr_match(list, 0, (struct sockaddr *)&s6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),  cmocka_unit_test(test_switch_false),
        cmocka_unit_test(test_malformed),  cmocka_unit_test(test_nul_and_long_lines),
        cmocka_unit_test(test_bounded),    cmocka_unit_test(test_load_precedence),
        cmocka_unit_test(test_cidr_match), cmocka_unit_test(test_bom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
