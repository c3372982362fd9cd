/*
 * test_http_parse.c - the HTTP request-head parser: valid heads, every
 * prefix of them (incomplete, never an error), malformed heads (400/431),
 * and inputs that end exactly at an unreadable page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "http_parse.h"
#include "page_edge.h"

static int parse(const char *s, struct up_http_request *req)
{
    return up_http_parse_request(s, strlen(s), req);
}

static void test_simple_get(void **state)
{
    (void)state;
    struct up_http_request r;
    const char *s = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9102\r\nUser-Agent: test\r\n\r\n";
    assert_int_equal(parse(s, &r), (int)strlen(s));
    assert_int_equal(r.head_len, strlen(s));
    assert_int_equal(r.method_len, 3);
    assert_memory_equal(r.method, "GET", 3);
    assert_int_equal(r.target_len, 8);
    assert_memory_equal(r.target, "/metrics", 8);
    assert_int_equal(r.version_major, 1);
    assert_int_equal(r.version_minor, 1);
    assert_int_equal(r.nheaders, 2);
    assert_int_equal(r.host_count, 1);
}

static void test_valid_variants(void **state)
{
    (void)state;
    struct up_http_request r;
    /* HTTP/1.0 without headers */
    assert_int_equal(parse("HEAD / HTTP/1.0\r\n\r\n", &r), 19);
    assert_int_equal(r.version_minor, 0);
    assert_int_equal(r.nheaders, 0);
    assert_int_equal(r.host_count, 0);
    /* empty lines before the request line are skipped */
    assert_int_equal(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 31);
    assert_memory_equal(r.method, "GET", 3);
    /* OWS, empty values, obs-text, tabs, any case of Host, several Host */
    const char *s = "GET /a?b=c HTTP/1.1\r\nhOsT:x\r\nX-Empty:\r\nX-T:\t v \t\r\nX-8: caf\xc3\xa9\r\nHOST: y\r\n\r\n";
    assert_int_equal(parse(s, &r), (int)strlen(s));
    assert_int_equal(r.host_count, 2);
    assert_int_equal(r.nheaders, 5);
    /* any version is parsed; the server decides what it serves */
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &r), 18);
    assert_int_equal(r.version_major, 2);
    assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n", &r), 18);
    assert_int_equal(r.version_major, 0);
    /* other methods are tokens too */
    assert_int_equal(parse("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", &r), 32);
    assert_int_equal(r.method_len, 8);
    /* absolute-form target */
    assert_true(parse("GET http://h:1/metrics HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
    /* bytes after the head (a body, a pipelined request) are not ours */
    s = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\x01\x02";
    assert_int_equal(parse(s, &r), 27);
}

/* Every proper prefix of a valid head is incomplete, never an error. */
static void test_every_prefix_incomplete(void **state)
{
    (void)state;
    static const char *const heads[] = {
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n",
        "\r\nHEAD /healthz HTTP/1.0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nX:\r\n\r\n",
    };
    struct up_http_request r;
    for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
        size_t n = strlen(heads[h]);
        for (size_t len = 0; len < n; len++)
            assert_int_equal(up_http_parse_request(heads[h], len, &r), UP_EAGAIN);
        assert_int_equal(up_http_parse_request(heads[h], n, &r), (int)n);
    }
    assert_int_equal(up_http_parse_request(NULL, 0, &r), UP_EAGAIN);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        " GET / HTTP/1.1\r\n\r\n",                                    /* leading space */
        "GET  / HTTP/1.1\r\n\r\n",                                    /* two spaces */
        "GET /  HTTP/1.1\r\n\r\n",                                    /* two spaces before the version */
        "GET\t/ HTTP/1.1\r\n\r\n",                                    /* tab as separator */
        "GET /\tx HTTP/1.1\r\n\r\n",                                  /* tab in the target */
        "GET / HTTP/1.1\n\n",                                         /* bare LF */
        "GET / HTTP/1.1\r\r\n\r\n",                                   /* CR CR */
        "GET / HTTP/1.1\rX\n\r\n",                                    /* CR not followed by LF */
        "GET / http/1.1\r\n\r\n",                                     /* protocol name is case-sensitive */
        "GET / HTTP/1.10\r\n\r\n",                                    /* two-digit minor */
        "GET / HTTP/11\r\n\r\n",                                      /* no dot */
        "GET / HTTP/1.\r\n\r\n",                                      /* no minor */
        "GET / HTTP/x.1\r\n\r\n",                                     /* not a digit */
        "GET / HTTP/1.1 \r\n\r\n",                                    /* trailing space */
        "GET / HTTPS/1.1\r\n\r\n",                                    /* not HTTP */
        "GET / \r\n\r\n",                                             /* no version */
        "GET /\r\n\r\n",                                              /* HTTP/0.9 style: no version */
        "GET HTTP/1.1\r\n\r\n",                                       /* no target */
        " / HTTP/1.1\r\n\r\n",                                        /* no method */
        "G(T / HTTP/1.1\r\n\r\n",                                     /* non-token method */
        "GETGETGETGETGETGET / HTTP/1.1\r\n",                          /* method too long */
        "GET /a\x01 HTTP/1.1\r\n\r\n",                                /* control byte in target */
        "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",                          /* non-ASCII target */
        "GET /\x7f HTTP/1.1\r\n\r\n",                                 /* DEL */
        "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", /* too many empty lines */
        "\n\nGET / HTTP/1.1\r\n\r\n",                                 /* bare LF empty lines */
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",                         /* space before colon */
        "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",                        /* tab before colon */
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",               /* obs-fold */
        "GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n",              /* obs-fold with tab */
        "GET / HTTP/1.1\r\n: empty name\r\n\r\n",                     /* empty name */
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",                    /* no colon */
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",                          /* no colon, token only */
        "GET / HTTP/1.1\r\nHost: a\x01z\r\n\r\n",                     /* control byte in value */
        "GET / HTTP/1.1\r\nHost: a\x7fz\r\n\r\n",                     /* DEL in value */
        "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",                    /* bare LF in headers */
        "GET / HTTP/1.1\r\nHost: a\r\n\n",                            /* bare LF at the end */
        "GET / HTTP/1.1\r\nHost: a\r\n\rX",                           /* CR then junk at the end */
        "GET / HTTP/1.1\r\nX(y): a\r\n\r\n",                          /* non-token name */
        "GET / HTTP/1.1\r\nX\x80: a\r\n\r\n",                         /* non-ASCII name */
    };
    struct up_http_request r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int got = parse(bad[i], &r);
        if (got != UP_EINVAL)
            fail_msg("case %zu '%s': got %d, want UP_EINVAL", i, bad[i], got);
    }
    /* a NUL byte anywhere (strlen would stop at it: pass lengths) */
    static const char nul1[] = "GET /\0 HTTP/1.1\r\n\r\n";
    static const char nul2[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    static const char nul3[] = "\0GET / HTTP/1.1\r\n\r\n";
    assert_int_equal(up_http_parse_request(nul1, sizeof(nul1) - 1, &r), UP_EINVAL);
    assert_int_equal(up_http_parse_request(nul2, sizeof(nul2) - 1, &r), UP_EINVAL);
    assert_int_equal(up_http_parse_request(nul3, sizeof(nul3) - 1, &r), UP_EINVAL);
}

/* An error is reported as soon as the bytes prove it, not at the end. */
static void test_early_error(void **state)
{
    (void)state;
    struct up_http_request r;
    assert_int_equal(parse("GE\x01", &r), UP_EINVAL);
    assert_int_equal(parse("GET /x HTTP/1.1\r\nBad Name", &r), UP_EINVAL);
    assert_int_equal(parse("GET /x HTTP/2", &r), UP_EAGAIN); /* still valid so far */
    assert_int_equal(parse("GET /x HTTP/2.", &r), UP_EAGAIN);
    assert_int_equal(parse("GET /x HTTP/2.x", &r), UP_EINVAL);
    assert_int_equal(parse("POST", &r), UP_EAGAIN);
    assert_int_equal(parse("PUTPUTPUTPUTPUTPUT", &r), UP_EINVAL); /* long method, no space yet */
}

static void test_header_count(void **state)
{
    (void)state;
    char buf[4096];
    struct up_http_request r;
    size_t off = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < UP_HTTP_MAX_HEADERS; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "X-%d: v\r\n", i);
    memcpy(buf + off, "\r\n", 3);
    assert_int_equal(parse(buf, &r), (int)(off + 2));
    assert_int_equal(r.nheaders, UP_HTTP_MAX_HEADERS);
    off += (size_t)snprintf(buf + off, sizeof(buf) - off, "X-last: v\r\n\r\n");
    assert_int_equal(parse(buf, &r), UP_ERANGE);
}

/* Inputs that end exactly where an unreadable page begins: any read past
 * the length faults. Every prefix of every case is parsed there. */
static void test_guard_page(void **state)
{
    (void)state;
    struct page_edge pe;
    assert_int_equal(page_edge_open(&pe), 0);
    char *end = pe.base + pe.page; /* the first unreadable byte */
    static const char *const cases[] = {
        "GET /metrics HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "GET / HTTP/1.1\r\nHost: a\r\n\r",
        "GET / HTTP/1.1\r\nHost: a\r",
        "GET / HTTP/1.1\r",
        "GET / HTTP/1",
        "GET / HTTP/",
        "\r",
    };
    struct up_http_request r;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t n = strlen(cases[c]);
        for (size_t len = 0; len <= n; len++) {
            memcpy(end - len, cases[c], len);
            int got = up_http_parse_request(end - len, len, &r);
            assert_true(got == UP_EAGAIN || got == UP_EINVAL || got == UP_ERANGE || (got > 0 && (size_t)got <= len));
            if (got > 0) {
                assert_true(r.target >= end - len && r.target + r.target_len <= end);
                assert_true(r.method >= end - len && r.method + r.method_len <= end);
            }
        }
    }
    /* A valid request: every strict prefix needs more (UP_EAGAIN), the whole
     * parses to its full length, also when it ends at the page. */
    static const char *const valid[] = {
        "GET /metrics HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n",
        "GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "HEAD /healthz HTTP/1.0\r\n\r\n",
    };
    for (size_t c = 0; c < sizeof(valid) / sizeof(valid[0]); c++) {
        size_t n = strlen(valid[c]);
        for (size_t len = 0; len <= n; len++) {
            memcpy(end - len, valid[c], len);
            int got = up_http_parse_request(end - len, len, &r);
            int want = len < n ? UP_EAGAIN : (int)n;
            if (got != want)
                fail_msg("valid request %zu, first %zu of %zu bytes: got %d, want %d", c, len, n, got, want);
        }
    }
    /* target matching on a target that ends at the page too */
    memcpy(end - 8, "/metrics", 8);
    assert_true(up_http_target_is(end - 8, 8, "/metrics"));
    memcpy(end - 7, "http://", 7);
    assert_false(up_http_target_is(end - 7, 7, "/metrics"));
    page_edge_close(&pe);
}

static void test_target_is(void **state)
{
    (void)state;
#define IS(t, p) up_http_target_is(t, strlen(t), p)
    assert_true(IS("/metrics", "/metrics"));
    assert_true(IS("/metrics?x=1", "/metrics"));
    assert_true(IS("/metrics?", "/metrics"));
    assert_true(IS("http://127.0.0.1:9102/metrics", "/metrics"));
    assert_true(IS("HTTP://host/metrics?a", "/metrics"));
    assert_false(IS("/metrics/", "/metrics"));
    assert_false(IS("/metric", "/metrics"));
    assert_false(IS("/metricsx", "/metrics"));
    assert_false(IS("/Metrics", "/metrics"));
    assert_false(IS("metrics", "/metrics"));
    assert_false(IS("http://host", "/metrics"));
    assert_false(IS("*", "/metrics"));
    assert_false(IS("", "/metrics"));
#undef IS
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_valid_variants),
        cmocka_unit_test(test_every_prefix_incomplete),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_early_error),
        cmocka_unit_test(test_header_count),
        cmocka_unit_test(test_guard_page),
        cmocka_unit_test(test_target_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
