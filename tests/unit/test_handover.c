/*
 * test_handover.c - unit tests of handover.c: the two environment formats
 * (UP_INHERIT_FDS, LISTEN_PID/LISTEN_FDS), every rejection, strings ending
 * exactly at an unreadable page; matching inherited sockets to sources by
 * their bound address (real loopback sockets), the all-interfaces fallback,
 * and closing what no source took.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "error.h"
#include "handover.h"
#include "page_edge.h"

static void inherit_formats(void **state)
{
    (void)state;
    int fds[4];
    assert_int_equal(up_handover_parse_inherit("42:3", 42, fds, 4), 1);
    assert_int_equal(fds[0], 3);
    assert_int_equal(up_handover_parse_inherit("42:7,3,12", 42, fds, 4), 3);
    assert_int_equal(fds[0], 7);
    assert_int_equal(fds[1], 3);
    assert_int_equal(fds[2], 12);
    assert_int_equal(up_handover_parse_inherit("43:3", 42, fds, 4), 0); /* another process's */
    static const char *bad[] = {"",    "42",    "42:",   ":3",    "42:3,",        "42:,3", "42:3;4",
                                "x:3", "42:-3", "42:3x", "-42:3", "42:3,4,5,6,7", "42: 3", "42:99999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(up_handover_parse_inherit(bad[i], 42, fds, 4), UP_EINVAL);
}

static void listen_formats(void **state)
{
    (void)state;
    assert_int_equal(up_handover_parse_listen("42", "2", 42, 8), 2);
    assert_int_equal(up_handover_parse_listen("42", "0", 42, 8), 0);
    assert_int_equal(up_handover_parse_listen("1", "2", 42, 8), 0); /* for another process */
    assert_int_equal(up_handover_parse_listen(NULL, "2", 42, 8), 0);
    assert_int_equal(up_handover_parse_listen("42", NULL, 42, 8), 0);
    assert_int_equal(up_handover_parse_listen("42", "9", 42, 8), UP_EINVAL);
    assert_int_equal(up_handover_parse_listen("42", "-1", 42, 8), UP_EINVAL);
    assert_int_equal(up_handover_parse_listen("42", "2x", 42, 8), UP_EINVAL);
    assert_int_equal(up_handover_parse_listen("4 2", "2", 42, 8), UP_EINVAL);
    assert_int_equal(up_handover_parse_listen("", "2", 42, 8), UP_EINVAL);
}

static void page_edge_inputs(void **state)
{
    (void)state;
    struct page_edge e;
    int fds[4];
    assert_int_equal(page_edge_open(&e), 0);
    assert_int_equal(up_handover_parse_inherit(page_edge_put(&e, "42:3,4"), 42, fds, 4), 2);
    assert_int_equal(up_handover_parse_inherit(page_edge_put(&e, "42:3,"), 42, fds, 4), UP_EINVAL);
    assert_int_equal(up_handover_parse_inherit(page_edge_put(&e, "42"), 42, fds, 4), UP_EINVAL);
    assert_int_equal(up_handover_parse_listen(page_edge_put(&e, "42"), "1", 42, 4), 1);
    page_edge_close(&e);
}

/* A UDP socket bound to 127.0.0.1 (loopback) or 0.0.0.0, on a port the
 * kernel picks; its address in a. */
static up_sock bound(bool loopback, struct up_addr *a)
{
    struct sockaddr_in sin;
    up_sock s;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(loopback ? INADDR_LOOPBACK : INADDR_ANY);
    assert_int_equal(up_udp_open(AF_INET, false, &s), UP_OK);
    assert_int_equal(up_udp_bind(s, (struct sockaddr *)&sin, sizeof(sin), false, false), UP_OK);
    memset(a, 0, sizeof(*a));
    assert_int_equal(up_sock_local_addr(s, &a->ss, &a->len), UP_OK);
    return s;
}

static bool is_open(up_sock s)
{
    return fcntl(s, F_GETFD) >= 0;
}

static void take_by_address(void **state)
{
    (void)state;
    struct up_addr a1, a2, other;
    up_sock s1 = bound(true, &a1), s2 = bound(true, &a2);
    up_sock give[2] = {s1, s2};
    up_handover_give(give, 2);
    /* Order does not matter: the address decides. */
    assert_int_equal(up_handover_take(&a2), s2);
    assert_int_equal(up_handover_take(&a2), UP_SOCK_INVALID); /* taken once */
    up_sock_close(bound(true, &other));
    assert_int_equal(up_handover_take(&other), UP_SOCK_INVALID);
    /* What nobody took is closed. */
    up_handover_close_rest();
    assert_false(is_open(s1));
    assert_true(is_open(s2));
    assert_int_equal(up_handover_take(&a1), UP_SOCK_INVALID);
    up_sock_close(s2);
}

static void wildcard_fallback(void **state)
{
    (void)state;
    struct up_addr got, want;
    up_sock s = bound(false, &got);
    char text[32];
    snprintf(text, sizeof(text), ":%u", (unsigned)ntohs(((struct sockaddr_in *)&got.ss)->sin_port));
    /* ":PORT" resolves to [::]:PORT; a host without IPv6 bound 0.0.0.0:PORT. */
    assert_int_equal(up_addr_resolve(text, true, &want), UP_OK);
    if (want.ss.ss_family != AF_INET6) {
        up_sock_close(s);
        skip();
    }
    up_handover_give(&s, 1);
    assert_int_equal(up_handover_take(&want), s);
    up_sock_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inherit_formats), cmocka_unit_test(listen_formats),    cmocka_unit_test(page_edge_inputs),
        cmocka_unit_test(take_by_address), cmocka_unit_test(wildcard_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
