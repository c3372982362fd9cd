/*
 * test_addr.c - unit tests of addr.c: splitting address text into host and
 * port (every accepted form and every rejection), resolving (loopback and
 * numeric addresses only: nothing here asks a DNS server), formatting and
 * comparing. The split is also run on strings that end exactly at an
 * unreadable page, so a read past the NUL crashes the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "error.h"
#include "page_edge.h"

struct split_case {
    const char *text;
    int want;         /* up_addr_split's return */
    const char *host; /* expected host when want == UP_OK */
    uint16_t port;    /* expected port when want == UP_OK */
};

static const struct split_case accepted[] = {
    {":2203", UP_OK, "", 2203},
    {":1", UP_OK, "", 1},
    {":65535", UP_OK, "", 65535},
    {":00080", UP_OK, "", 80}, /* leading zeros are still port 80 */
    {"localhost:8125", UP_OK, "localhost", 8125},
    {"statsd-agent_1.example.com:8125", UP_OK, "statsd-agent_1.example.com", 8125},
    {"1.2.3.4:80", UP_OK, "1.2.3.4", 80},
    {"127.0.0.1:65535", UP_OK, "127.0.0.1", 65535},
    {"[::1]:8125", UP_OK, "::1", 8125},
    {"[::]:2203", UP_OK, "::", 2203},
    {"[2001:db8::1]:1", UP_OK, "2001:db8::1", 1},
    {"[fe80::1%lo]:53", UP_OK, "fe80::1%lo", 53},
    {"[::ffff:127.0.0.1]:9", UP_OK, "::ffff:127.0.0.1", 9},
};

static const struct split_case rejected[] = {
    /* empty, no port */
    {"", UP_EINVAL, NULL, 0},
    {":", UP_EINVAL, NULL, 0},
    {"localhost", UP_EINVAL, NULL, 0},
    {"localhost:", UP_EINVAL, NULL, 0},
    {"1.2.3.4", UP_EINVAL, NULL, 0},
    {"[::1]", UP_EINVAL, NULL, 0},
    {"[::1]:", UP_EINVAL, NULL, 0},
    {"[::1]8125", UP_EINVAL, NULL, 0},
    /* port out of range or not a number */
    {":0", UP_ERANGE, NULL, 0},
    {"1.2.3.4:0", UP_ERANGE, NULL, 0},
    {"[::1]:0", UP_ERANGE, NULL, 0},
    {":00000", UP_ERANGE, NULL, 0},
    {":65536", UP_ERANGE, NULL, 0},
    {":99999", UP_ERANGE, NULL, 0},
    {"host:4294967297", UP_ERANGE, NULL, 0},       /* 2^32 + 1: no wrap to 1 */
    {":18446744073709551617", UP_ERANGE, NULL, 0}, /* 2^64 + 1 */
    {":8o", UP_ERANGE, NULL, 0},
    {":-1", UP_ERANGE, NULL, 0},
    {":+80", UP_ERANGE, NULL, 0},
    {": 80", UP_ERANGE, NULL, 0},
    {":80 ", UP_ERANGE, NULL, 0},
    {":0x50", UP_ERANGE, NULL, 0},
    {"[::1]:80]", UP_ERANGE, NULL, 0},
    {"[::1]:80:", UP_ERANGE, NULL, 0},
    /* IPv6 without brackets, bad brackets */
    {"::1:80", UP_EINVAL, NULL, 0},
    {"::80", UP_EINVAL, NULL, 0},
    {"2001:db8::1:80", UP_EINVAL, NULL, 0},
    {"[::1:80", UP_EINVAL, NULL, 0},
    {"[::1", UP_EINVAL, NULL, 0},
    {"[]:80", UP_EINVAL, NULL, 0},
    {"[", UP_EINVAL, NULL, 0},
    {"]:80", UP_EINVAL, NULL, 0},
    {"::1]:80", UP_EINVAL, NULL, 0},
    {"[::1]]:80", UP_EINVAL, NULL, 0},
    {"x[::1]:80", UP_EINVAL, NULL, 0},
    /* bad characters in the host */
    {"ho st:80", UP_EINVAL, NULL, 0},
    {"host/x:80", UP_EINVAL, NULL, 0},
    {"host;rm:80", UP_EINVAL, NULL, 0},
    {"a%b:80", UP_EINVAL, NULL, 0},
    {"user@host:80", UP_EINVAL, NULL, 0},
    {"\thost:80", UP_EINVAL, NULL, 0},
    {"h\xc3\xa9te:80", UP_EINVAL, NULL, 0},
    {"[::1 ]:80", UP_EINVAL, NULL, 0},
    {"[::1/64]:80", UP_EINVAL, NULL, 0},
};

static void check_split(const struct split_case *c)
{
    char host[UP_HOST_MAX];
    uint16_t port = 0;
    memset(host, 'x', sizeof(host));
    int r = up_addr_split(c->text, host, sizeof(host), &port);
    if (r != c->want)
        fail_msg("up_addr_split(\"%s\") = %d, want %d", c->text, r, c->want);
    if (c->want == UP_OK) {
        assert_string_equal(host, c->host);
        assert_int_equal(port, c->port);
    }
}

static void test_split_accepts_every_form(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
        check_split(&accepted[i]);
}

static void test_split_rejects_bad_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
        check_split(&rejected[i]);
}

static void test_split_bad_arguments(void **state)
{
    char host[16];
    uint16_t port;
    (void)state;
    assert_int_equal(up_addr_split(NULL, host, sizeof(host), &port), UP_EINVAL);
    assert_int_equal(up_addr_split(":80", host, 0, &port), UP_EINVAL);
    /* The host must fit the caller's buffer with its NUL. */
    assert_int_equal(up_addr_split("abcd:80", host, 4, &port), UP_EINVAL);
    assert_int_equal(up_addr_split("abc:80", host, 4, &port), UP_OK);
    assert_string_equal(host, "abc");
    assert_int_equal(up_addr_split("[::1]:80", host, 3, &port), UP_EINVAL);
    assert_int_equal(up_addr_split("[::1]:80", host, 4, &port), UP_OK);
    assert_string_equal(host, "::1");
}

static void test_split_length_limits(void **state)
{
    char text[2 * UP_ADDR_TEXT_MAX], host[UP_HOST_MAX];
    uint16_t port;
    (void)state;

    /* The longest host accepted: UP_HOST_MAX - 1 characters. */
    memset(text, 'a', UP_HOST_MAX - 1);
    strcpy(text + UP_HOST_MAX - 1, ":80");
    assert_int_equal(up_addr_split(text, host, sizeof(host), &port), UP_OK);
    assert_int_equal(strlen(host), UP_HOST_MAX - 1);

    /* One more is too long, bracketed or not. */
    memset(text, 'a', UP_HOST_MAX);
    strcpy(text + UP_HOST_MAX, ":80");
    assert_int_equal(up_addr_split(text, host, sizeof(host), &port), UP_EINVAL);
    text[0] = '[';
    memset(text + 1, ':', UP_HOST_MAX);
    strcpy(text + 1 + UP_HOST_MAX, "]:80");
    assert_int_equal(up_addr_split(text, host, sizeof(host), &port), UP_EINVAL);

    /* Whole text at and past UP_ADDR_TEXT_MAX - 1 characters: a long port. */
    for (size_t len = UP_ADDR_TEXT_MAX - 2; len < UP_ADDR_TEXT_MAX + 2; len++) {
        text[0] = ':';
        memset(text + 1, '0', len - 2);
        text[len - 1] = '1';
        text[len] = '\0';
        int want = len < UP_ADDR_TEXT_MAX ? UP_OK : UP_EINVAL;
        if (up_addr_split(text, host, sizeof(host), &port) != want)
            fail_msg("length %zu: want %d", len, want);
        if (want == UP_OK)
            assert_int_equal(port, 1);
    }
}

/* Every case again, each string ending at an unreadable page. */
static void test_split_at_page_end(void **state)
{
    struct page_edge e;
    char host[UP_HOST_MAX], longest[UP_HOST_MAX + 8];
    uint16_t port;
    (void)state;
    assert_int_equal(page_edge_open(&e), 0);
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        struct split_case c = accepted[i];
        c.text = page_edge_put(&e, accepted[i].text);
        check_split(&c);
    }
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
        struct split_case c = rejected[i];
        c.text = page_edge_put(&e, rejected[i].text);
        check_split(&c);
    }
    /* Every prefix of a few tricky strings (cut anywhere, the NUL is last). */
    static const char *const whole[] = {"[2001:db8::1]:65535", "statsd.example.com:8125", ":2203"};
    for (size_t w = 0; w < sizeof(whole) / sizeof(whole[0]); w++) {
        char buf[64];
        for (size_t n = 0; n <= strlen(whole[w]); n++) {
            memcpy(buf, whole[w], n);
            buf[n] = '\0';
            (void)up_addr_split(page_edge_put(&e, buf), host, sizeof(host), &port);
        }
    }
    /* Longest host, and too long text, ending at the page. */
    memset(longest, 'h', UP_HOST_MAX - 1);
    strcpy(longest + UP_HOST_MAX - 1, ":9");
    assert_int_equal(up_addr_split(page_edge_put(&e, longest), host, sizeof(host), &port), UP_OK);
    char toolong[UP_ADDR_TEXT_MAX + 1];
    memset(toolong, '1', UP_ADDR_TEXT_MAX);
    toolong[0] = ':';
    toolong[UP_ADDR_TEXT_MAX] = '\0';
    assert_int_equal(up_addr_split(page_edge_put(&e, toolong), host, sizeof(host), &port), UP_EINVAL);
    page_edge_close(&e);
}

static void test_resolve_ipv4_literal(void **state)
{
    struct up_addr a;
    (void)state;
    assert_int_equal(up_addr_resolve("127.0.0.1:9", false, &a), UP_OK);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(a.len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a.ss;
    assert_int_equal(ntohl(s4->sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(ntohs(s4->sin_port), 9);
    assert_false(a.any_host);
    assert_string_equal(a.text, "127.0.0.1:9");
}

static void test_resolve_ipv6_literal(void **state)
{
    struct up_addr a;
    (void)state;
    assert_int_equal(up_addr_resolve("[::1]:65535", false, &a), UP_OK);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a.ss;
    assert_memory_equal(&s6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback));
    assert_int_equal(ntohs(s6->sin6_port), 65535);
    assert_false(a.any_host);

    assert_int_equal(up_addr_resolve("[::]:2203", true, &a), UP_OK);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    s6 = (const struct sockaddr_in6 *)&a.ss;
    assert_memory_equal(&s6->sin6_addr, &in6addr_any, sizeof(in6addr_any));
    assert_int_equal(ntohs(s6->sin6_port), 2203);
}

static void test_resolve_localhost(void **state)
{
    struct up_addr a;
    (void)state;
    /* localhost comes from /etc/hosts; IPv4 is preferred when it has both. */
    assert_int_equal(up_addr_resolve("localhost:8125", false, &a), UP_OK);
    assert_int_equal(a.ss.ss_family, AF_INET);
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a.ss;
    assert_int_equal(ntohl(s4->sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(ntohs(s4->sin_port), 8125);
    assert_string_equal(a.text, "localhost:8125");
}

static void test_resolve_any_host(void **state)
{
    struct up_addr a;
    (void)state;
    /* Source: all interfaces, IPv6 with IPv4 mapped in. */
    assert_int_equal(up_addr_resolve(":2203", true, &a), UP_OK);
    assert_true(a.any_host);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a.ss;
    assert_memory_equal(&s6->sin6_addr, &in6addr_any, sizeof(in6addr_any));
    assert_int_equal(ntohs(s6->sin6_port), 2203);

    /* Target: this host. */
    assert_int_equal(up_addr_resolve(":2203", false, &a), UP_OK);
    assert_true(a.any_host);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(a.len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a.ss;
    assert_int_equal(ntohl(s4->sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(ntohs(s4->sin_port), 2203);
    assert_string_equal(a.text, ":2203");
}

/* A host written out means that host, whether bound or sent to. */
static void test_resolve_host_same_passive_or_not(void **state)
{
    static const char *const texts[] = {"127.0.0.1:9", "[::1]:9", "localhost:9", "[::]:9", "0.0.0.0:9"};
    struct up_addr bound, sent;
    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        assert_int_equal(up_addr_resolve(texts[i], true, &bound), UP_OK);
        assert_int_equal(up_addr_resolve(texts[i], false, &sent), UP_OK);
        if (!up_addr_equal(&bound, &sent) || bound.len != sent.len)
            fail_msg("%s resolves differently when passive", texts[i]);
        assert_false(bound.any_host);
    }
}

static void test_resolve_passes_split_errors(void **state)
{
    struct up_addr a;
    (void)state;
    assert_int_equal(up_addr_resolve("127.0.0.1:0", false, &a), UP_ERANGE);
    assert_int_equal(up_addr_resolve("::1:80", false, &a), UP_EINVAL);
    assert_int_equal(up_addr_resolve("", true, &a), UP_EINVAL);
}

static void test_format(void **state)
{
    struct up_addr a;
    char buf[64];
    (void)state;
    assert_int_equal(up_addr_resolve("127.0.0.1:8125", false, &a), UP_OK);
    up_addr_format((const struct sockaddr *)&a.ss, buf, sizeof(buf));
    assert_string_equal(buf, "127.0.0.1:8125");

    assert_int_equal(up_addr_resolve("[::1]:9", false, &a), UP_OK);
    up_addr_format((const struct sockaddr *)&a.ss, buf, sizeof(buf));
    assert_string_equal(buf, "[::1]:9");

    assert_int_equal(up_addr_resolve(":2203", true, &a), UP_OK);
    up_addr_format((const struct sockaddr *)&a.ss, buf, sizeof(buf));
    assert_string_equal(buf, "[::]:2203");

    /* The longest IPv6 text fits. */
    assert_int_equal(up_addr_resolve("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", false, &a), UP_OK);
    up_addr_format((const struct sockaddr *)&a.ss, buf, sizeof(buf));
    assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

    /* A small buffer is cut, never overrun, and stays terminated. */
    assert_int_equal(up_addr_resolve("127.0.0.1:8125", false, &a), UP_OK);
    memset(buf, 'z', sizeof(buf));
    up_addr_format((const struct sockaddr *)&a.ss, buf, 5);
    assert_string_equal(buf, "127.");
    assert_int_equal(buf[5], 'z');

    struct sockaddr_storage other;
    memset(&other, 0, sizeof(other));
    other.ss_family = AF_UNSPEC;
    up_addr_format((const struct sockaddr *)&other, buf, sizeof(buf));
    assert_string_equal(buf, "unknown");

    /* A Unix datagram socket (unix:/path) formats as it was written. */
    assert_int_equal(up_addr_resolve("unix:/run/dsd.sock", false, &a), UP_OK);
    up_addr_format((const struct sockaddr *)&a.ss, buf, sizeof(buf));
    assert_string_equal(buf, "unix:/run/dsd.sock");
}

static void test_equal(void **state)
{
    struct up_addr a, b;
    (void)state;
    assert_int_equal(up_addr_resolve("127.0.0.1:9", false, &a), UP_OK);
    assert_int_equal(up_addr_resolve("localhost:9", false, &b), UP_OK);
    assert_true(up_addr_equal(&a, &b));
    assert_true(up_addr_equal(&a, &a));
    assert_int_equal(up_addr_resolve(":9", false, &b), UP_OK); /* target ":9" is 127.0.0.1:9 */
    assert_true(up_addr_equal(&a, &b));

    assert_int_equal(up_addr_resolve("127.0.0.1:10", false, &b), UP_OK);
    assert_false(up_addr_equal(&a, &b)); /* port differs */
    assert_int_equal(up_addr_resolve("127.0.0.2:9", false, &b), UP_OK);
    assert_false(up_addr_equal(&a, &b)); /* address differs */
    assert_int_equal(up_addr_resolve("[::1]:9", false, &b), UP_OK);
    assert_false(up_addr_equal(&a, &b)); /* family differs */

    assert_int_equal(up_addr_resolve("[::1]:9", false, &a), UP_OK);
    assert_true(up_addr_equal(&a, &b));
    assert_int_equal(up_addr_resolve("[::1]:10", false, &a), UP_OK);
    assert_false(up_addr_equal(&a, &b));
    assert_int_equal(up_addr_resolve("[::2]:9", false, &a), UP_OK);
    assert_false(up_addr_equal(&a, &b));

    /* Link-local addresses on different interfaces are different hosts.
     * (Numeric scopes resolve without the interface existing; %lo is 1.) */
    assert_int_equal(up_addr_resolve("[fe80::1%1]:9", false, &a), UP_OK);
    assert_int_equal(up_addr_resolve("[fe80::1%2]:9", false, &b), UP_OK);
    assert_false(up_addr_equal(&a, &b));
    assert_int_equal(up_addr_resolve("[fe80::1%lo]:9", false, &b), UP_OK);
    assert_true(up_addr_equal(&a, &b));

    /* Neither IPv4 nor IPv6: never equal, not even to itself. */
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_false(up_addr_equal(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_accepts_every_form),
        cmocka_unit_test(test_split_rejects_bad_text),
        cmocka_unit_test(test_split_bad_arguments),
        cmocka_unit_test(test_split_length_limits),
        cmocka_unit_test(test_split_at_page_end),
        cmocka_unit_test(test_resolve_ipv4_literal),
        cmocka_unit_test(test_resolve_ipv6_literal),
        cmocka_unit_test(test_resolve_localhost),
        cmocka_unit_test(test_resolve_any_host),
        cmocka_unit_test(test_resolve_host_same_passive_or_not),
        cmocka_unit_test(test_resolve_passes_split_errors),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
