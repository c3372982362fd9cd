/*
 * test_stats.c - unit tests of stats.c: the key=value stats line, as
 * totals (no previous snapshot) and as deltas, with targets added since the
 * previous snapshot, and cut to small buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "stats.h"

static struct up_stats_target cur_t[2], prev_t[2];
static struct up_stats cur, prev;

static int setup(void **state)
{
    (void)state;
    memset(cur_t, 0, sizeof(cur_t));
    memset(prev_t, 0, sizeof(prev_t));
    memset(&cur, 0, sizeof(cur));
    memset(&prev, 0, sizeof(prev));
    cur = (struct up_stats){.received = 1000,
                            .received_bytes = 143000,
                            .oversize = 3,
                            .no_buffer = 0,
                            .recv_errors = 0,
                            .kernel_drops = 7,
                            .ntargets = 2,
                            .targets = cur_t};
    snprintf(cur_t[0].name, sizeof(cur_t[0].name), "127.0.0.1:8126");
    cur_t[0].sent = 990;
    cur_t[0].sent_bytes = 141570;
    cur_t[0].dropped_queue_full = 10;
    cur_t[0].queue_depth = 5;
    cur_t[0].queue_capacity = 8192;
    snprintf(cur_t[1].name, sizeof(cur_t[1].name), "[::1]:8127");
    cur_t[1].sent = 1000;
    cur_t[1].sent_bytes = 143000;
    cur_t[1].dropped_send_error = 2;
    cur_t[1].dropped_shutdown = 1;
    cur_t[1].queue_capacity = 8192;

    prev = cur;
    prev.targets = prev_t;
    memcpy(prev_t, cur_t, sizeof(prev_t));
    prev.received = 400;
    prev.received_bytes = 57200;
    prev.oversize = 1;
    prev.kernel_drops = 7;
    prev_t[0].sent = 395;
    prev_t[0].sent_bytes = 56485;
    prev_t[0].dropped_queue_full = 5;
    prev_t[1].sent = 400;
    prev_t[1].sent_bytes = 57200;
    prev_t[1].dropped_send_error = 0;
    prev_t[1].dropped_shutdown = 0;
    return 0;
}

static void test_totals_without_prev(void **state)
{
    char buf[1024];
    (void)state;
    size_t n = up_stats_format_delta(&cur, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "received=1000 received_bytes=143000 oversize=3 no_buffer=0 kernel_drops=7"
                             " target=127.0.0.1:8126 sent=990 sent_bytes=141570 dropped_queue_full=10"
                             " dropped_send_error=0 dropped_shutdown=0 queue=5/8192"
                             " target=[::1]:8127 sent=1000 sent_bytes=143000 dropped_queue_full=0"
                             " dropped_send_error=2 dropped_shutdown=1 queue=0/8192");
    assert_int_equal(n, strlen(buf));
}

static void test_delta_with_prev(void **state)
{
    char buf[1024];
    (void)state;
    size_t n = up_stats_format_delta(&cur, &prev, buf, sizeof(buf));
    /* Counters are differences; the queue depth and capacity are levels. */
    assert_string_equal(buf, "received=600 received_bytes=85800 oversize=2 no_buffer=0 kernel_drops=0"
                             " target=127.0.0.1:8126 sent=595 sent_bytes=85085 dropped_queue_full=5"
                             " dropped_send_error=0 dropped_shutdown=0 queue=5/8192"
                             " target=[::1]:8127 sent=600 sent_bytes=85800 dropped_queue_full=0"
                             " dropped_send_error=2 dropped_shutdown=1 queue=0/8192");
    assert_int_equal(n, strlen(buf));

    /* Nothing happened: all zero. */
    n = up_stats_format_delta(&cur, &cur, buf, sizeof(buf));
    assert_non_null(strstr(buf, "received=0 received_bytes=0 oversize=0"));
    assert_non_null(strstr(buf, "target=[::1]:8127 sent=0 sent_bytes=0 dropped_queue_full=0"
                                " dropped_send_error=0 dropped_shutdown=0 queue=0/8192"));
    assert_int_equal(n, strlen(buf));
}

static void test_recv_errors_only_when_any(void **state)
{
    char buf[1024];
    (void)state;
    up_stats_format_delta(&cur, NULL, buf, sizeof(buf));
    assert_null(strstr(buf, "recv_errors"));
    cur.recv_errors = 9;
    prev.recv_errors = 4;
    up_stats_format_delta(&cur, &prev, buf, sizeof(buf));
    assert_non_null(strstr(buf, "kernel_drops=0 recv_errors=5 target="));
    up_stats_format_delta(&cur, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, " recv_errors=9 "));
}

static void test_target_added_since_prev(void **state)
{
    char buf[1024];
    (void)state;
    prev.ntargets = 1; /* the second target is new: its totals are its delta */
    up_stats_format_delta(&cur, &prev, buf, sizeof(buf));
    assert_non_null(strstr(buf, "target=127.0.0.1:8126 sent=595 "));
    assert_non_null(strstr(buf, "target=[::1]:8127 sent=1000 sent_bytes=143000 "));

    cur.ntargets = 0;
    up_stats_format_delta(&cur, &prev, buf, sizeof(buf));
    assert_null(strstr(buf, "target="));
}

static void test_small_buffers(void **state)
{
    char full[1024], buf[64];
    (void)state;
    size_t whole = up_stats_format_delta(&cur, &prev, full, sizeof(full));
    assert_true(whole > sizeof(buf));
    /* Cut, terminated, never past the end, and the length says so. */
    for (size_t size = 1; size <= sizeof(buf); size++) {
        memset(buf, 'z', sizeof(buf));
        size_t n = up_stats_format_delta(&cur, &prev, buf, size);
        assert_int_equal(n, size - 1);
        assert_int_equal(buf[size - 1], '\0');
        assert_memory_equal(buf, full, size - 1);
        if (size < sizeof(buf))
            assert_int_equal(buf[size], 'z');
    }
    buf[0] = 'z';
    assert_int_equal(up_stats_format_delta(&cur, &prev, buf, 0), 0);
    assert_int_equal(buf[0], 'z');
    /* Exactly enough room. */
    char exact[sizeof(full)];
    assert_int_equal(up_stats_format_delta(&cur, &prev, exact, whole + 1), whole);
    assert_memory_equal(exact, full, whole + 1);
}

/* Issue 11: the line counters of a shaped target, on a line of their own. */
static void test_lines_line(void **state)
{
    (void)state;
    char buf[1024];
    assert_int_equal(up_stats_format_lines(&cur, &prev, 0, buf, sizeof(buf)), 0); /* plain */
    cur_t[1].shaped = prev_t[1].shaped = 2;
    cur_t[1].lines_in = 100;
    prev_t[1].lines_in = 40;
    cur_t[1].lines_out = 120;
    prev_t[1].lines_out = 50;
    cur_t[1].lines_dropped[UP_DROP_SET] = 7;
    prev_t[1].lines_dropped[UP_DROP_SET] = 2;
    cur_t[1].lines_rewritten[UP_RULE_GAUGE_SIGN] = 4;
    size_t n = up_stats_format_lines(&cur, &prev, 1, buf, sizeof(buf));
    assert_string_equal(buf,
                        "target=[::1]:8127 lines_in=60 lines_out=70 lines_dropped_set=5 lines_rewritten_gauge_sign=4");
    assert_int_equal(n, strlen(buf));
    /* a target replaced on reload starts from zero: no wrap-around */
    prev_t[1].lines_in = 500;
    up_stats_format_lines(&cur, &prev, 1, buf, sizeof(buf));
    assert_non_null(strstr(buf, " lines_in=100 "));
}

/* m6: a counter smaller than in prev (a target removed and re-added under
 * the same name between two stats lines; a kernel counter that went back)
 * counts from zero: its delta is its value, never a wrapped 1.8e19. */
static void test_counter_went_back(void **state)
{
    char buf[1024];
    (void)state;
    prev_t[1].sent = 5000;
    cur_t[1].sent = 1000;
    prev.kernel_drops = 90;
    cur.kernel_drops = 7;
    up_stats_format_delta(&cur, &prev, buf, sizeof(buf));
    assert_non_null(strstr(buf, "target=[::1]:8127 sent=1000 "));
    assert_non_null(strstr(buf, " kernel_drops=7"));
    assert_null(strstr(buf, "18446744"));
}

/* The kernel's drop counter is 32 bits: the total keeps growing across
 * its wrap. */
static void test_counter32_wrap(void **state)
{
    uint64_t total = 0;
    uint32_t last = 0;
    (void)state;
    up_counter32_advance(&total, &last, 10);
    assert_int_equal(total, 10);
    up_counter32_advance(&total, &last, 0xfffffff0u);
    assert_int_equal(total, 0xfffffff0u);
    up_counter32_advance(&total, &last, 5); /* wrapped: 0x15 more */
    assert_int_equal(total, 0xfffffff0ull + 0x15);
    up_counter32_advance(&total, &last, 5);
    assert_int_equal(total, 0xfffffff0ull + 0x15);
}

/* m8: the text in parts: every part fits, no target is cut or lost, the
 * parts joined are the whole text. 64 targets with the longest names. */
static void test_parts_never_cut(void **state)
{
    static struct up_stats_target many[64];
    static char whole[64 * UP_STATS_TARGET_TEXT_MAX + 1024], joined[sizeof(whole)];
    char part[900];
    (void)state;
    memset(many, 0, sizeof(many));
    for (size_t i = 0; i < 64; i++) {
        memset(many[i].name, 'a' + (int)(i % 26), UP_NAME_MAX - 1);
        snprintf(many[i].name + UP_NAME_MAX - 4, 4, "%02zu", i);
        many[i].sent = many[i].sent_bytes = many[i].dropped_queue_full = UINT64_MAX;
        many[i].dropped_send_error = many[i].dropped_shutdown = many[i].resolve_failures = UINT64_MAX;
        many[i].queue_depth = many[i].queue_capacity = UINT64_MAX;
    }
    cur.targets = many;
    cur.ntargets = 64;
    cur.received = cur.recv_errors = cur.not_allowed = UINT64_MAX;
    size_t n = up_stats_format_delta(&cur, NULL, whole, sizeof(whole));
    assert_true(n < sizeof(whole) - 1);
    size_t next = 0, parts = 0, off = 0;
    joined[0] = '\0';
    do {
        size_t before = next;
        size_t len = up_stats_format_part(&cur, NULL, &next, part, sizeof(part));
        assert_true(len < sizeof(part));
        assert_int_equal(len, strlen(part));
        assert_true(next > before); /* progress: at least one target */
        memcpy(joined + off, part, len + 1);
        off += len;
        parts++;
    } while (next < cur.ntargets);
    assert_string_equal(joined, whole);
    assert_true(parts >= 32);
    /* A few short targets: one part, the same text as before. */
    setup(NULL);
    next = 0;
    char one[1024];
    up_stats_format_part(&cur, &prev, &next, part, sizeof(part));
    up_stats_format_delta(&cur, &prev, one, sizeof(one));
    assert_int_equal(next, 2);
    assert_string_equal(part, one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_totals_without_prev, setup),
        cmocka_unit_test_setup(test_lines_line, setup),
        cmocka_unit_test_setup(test_delta_with_prev, setup),
        cmocka_unit_test_setup(test_recv_errors_only_when_any, setup),
        cmocka_unit_test_setup(test_target_added_since_prev, setup),
        cmocka_unit_test_setup(test_small_buffers, setup),
        cmocka_unit_test_setup(test_counter_went_back, setup),
        cmocka_unit_test_setup(test_counter32_wrap, setup),
        cmocka_unit_test_setup(test_parts_never_cut, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
