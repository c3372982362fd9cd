/*
 * test_selfstats.c - DogStatsD formatting of the self-metrics: counters as
 * deltas, gauges as values, tags, sanitised tag values, the prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "selfstats.h"

struct lines {
    char text[16384];
    size_t len, count;
};

static void collect(void *ctx, const char *line, size_t len)
{
    struct lines *l = ctx;
    assert_null(memchr(line, '\n', len));
    assert_true(l->len + len + 1 < sizeof(l->text));
    memcpy(l->text + l->len, line, len);
    l->len += len;
    l->text[l->len++] = '\n';
    l->text[l->len] = '\0';
    l->count++;
}

static int has_line(const struct lines *l, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "\n%s\n", line);
    char all[sizeof(l->text) + 2];
    snprintf(all, sizeof(all), "\n%s", l->text);
    return strstr(all, want) != NULL;
}

static void test_deltas_gauges_tags(void **state)
{
    (void)state;
    struct up_stats_target pt[2], ct[2];
    uint64_t pd[1] = {5}, cd[1] = {9}, pr[1] = {100}, cr[1] = {250};
    struct up_stats prev, cur;
    memset(&prev, 0, sizeof(prev));
    memset(pt, 0, sizeof(pt));
    snprintf(pt[0].name, sizeof(pt[0].name), "127.0.0.1:8126");
    snprintf(pt[1].name, sizeof(pt[1].name), "a b|c,d#e");
    pt[0].sent = 100;
    pt[1].sent = 40;
    prev.received = 100;
    prev.targets = pt;
    prev.ntargets = 2;
    prev.reader_kernel_drops = pd;
    prev.reader_received = pr;
    prev.nreaders = 1;
    cur = prev;
    memcpy(ct, pt, sizeof(ct));
    cur.targets = ct;
    cur.reader_kernel_drops = cd;
    cur.reader_received = cr;
    cur.received = 250;
    cur.received_bytes = 999;
    cur.source_bound = 1;
    ct[0].sent = 250;
    ct[0].queue_depth = 3;
    ct[0].queue_capacity = 8192;
    ct[0].writer_alive = 1;
    ct[1].sent = 200;
    ct[1].dropped_queue_full = 50;

    struct lines l = {0};
    up_selfstats_format(&cur, &prev, "udp_proxy.", collect, &l);
    assert_true(has_line(&l, "udp_proxy.received_datagrams:150|c"));
    assert_true(has_line(&l, "udp_proxy.received_bytes:999|c"));
    assert_true(has_line(&l, "udp_proxy.kernel_receive_drops:4|c|#reader:0"));
    assert_true(has_line(&l, "udp_proxy.reader_received_datagrams:150|c|#reader:0"));
    assert_true(has_line(&l, "udp_proxy.source_bound:1|g"));
    assert_true(has_line(&l, "udp_proxy.sent_datagrams:150|c|#target:127.0.0.1:8126"));
    assert_true(has_line(&l, "udp_proxy.sent_datagrams:160|c|#target:a_b_c_d_e"));
    assert_true(has_line(&l, "udp_proxy.dropped_datagrams:50|c|#target:a_b_c_d_e,reason:queue_full"));
    assert_true(has_line(&l, "udp_proxy.dropped_datagrams:0|c|#target:127.0.0.1:8126,reason:shutdown"));
    assert_true(has_line(&l, "udp_proxy.queue_depth:3|g|#target:127.0.0.1:8126"));
    assert_true(has_line(&l, "udp_proxy.queue_capacity:8192|g|#target:127.0.0.1:8126"));
    assert_true(has_line(&l, "udp_proxy.writer_up:0|g|#target:a_b_c_d_e"));
    /* one line per value: 7 process-wide + 2 per reader + 9 per target */
    assert_int_equal(l.count, 7 + 2 + 2 * 9);

    /* No previous report: counters are totals; another prefix. */
    struct lines t = {0};
    up_selfstats_format(&cur, NULL, "p-", collect, &t);
    assert_true(has_line(&t, "p-received_datagrams:250|c"));
    assert_true(has_line(&t, "p-kernel_receive_drops:9|c|#reader:0"));
    assert_false(has_line(&t, "udp_proxy.received_datagrams:250|c"));

    /* A counter that went backwards (the kernel's 32-bit drop counter
     * wrapped) reports its new value, never a huge delta. */
    cd[0] = 2;
    struct lines w = {0};
    up_selfstats_format(&cur, &prev, "", collect, &w);
    assert_true(has_line(&w, "kernel_receive_drops:2|c|#reader:0"));
}

/* Every line is NAME:VALUE|c or |g, with optional |#tags. */
static void test_well_formed(void **state)
{
    (void)state;
    struct up_stats_target t[1];
    struct up_stats s;
    memset(&s, 0, sizeof(s));
    memset(t, 0, sizeof(t));
    snprintf(t[0].name, sizeof(t[0].name), "[::1]:8126");
    s.targets = t;
    s.ntargets = 1;
    struct lines l = {0};
    up_selfstats_format(&s, NULL, "udp_proxy.", collect, &l);
    for (char *line = strtok(l.text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[128], type[3];
        unsigned long long v;
        int used = 0;
        assert_int_equal(sscanf(line, "%127[a-z_.]:%llu|%2[cg]%n", name, &v, type, &used), 3);
        assert_true(line[used] == '\0' || strncmp(line + used, "|#", 2) == 0);
        assert_int_equal(strncmp(name, "udp_proxy.", 10), 0);
    }
}

/* Issue 11: a shaped target's line counters, with rule:/direction:/reason:
 * tags; a plain target has none of them. */
static void test_shaped_target(void **state)
{
    (void)state;
    struct up_stats_target t[2], pt[2];
    struct up_stats s, p;
    memset(&s, 0, sizeof(s));
    memset(t, 0, sizeof(t));
    snprintf(t[0].name, sizeof(t[0].name), "otel");
    snprintf(t[1].name, sizeof(t[1].name), "plain");
    t[0].shaped = 2;
    t[0].sent_packets = 30;
    t[0].lines_in = 100;
    t[0].lines_out = 120;
    t[0].lines_dropped[UP_DROP_SET] = 4;
    t[0].lines_rewritten[UP_RULE_PACKED] = 9;
    s.targets = t;
    s.ntargets = 2;
    p = s;
    memcpy(pt, t, sizeof(t));
    p.targets = pt;
    pt[0].lines_in = 60;
    pt[0].lines_rewritten[UP_RULE_PACKED] = 4;
    struct lines l = {0};
    up_selfstats_format(&s, &p, "u.", collect, &l);
    assert_true(has_line(&l, "u.lines:40|c|#target:otel,direction:in"));
    assert_true(has_line(&l, "u.lines:0|c|#target:otel,direction:out"));
    assert_true(has_line(&l, "u.lines_rewritten:5|c|#target:otel,rule:packed"));
    assert_true(has_line(&l, "u.lines_dropped:0|c|#target:otel,reason:set"));
    assert_true(has_line(&l, "u.sent_packets:0|c|#target:otel"));
    assert_null(strstr(l.text, "target:plain,rule:"));
    assert_null(strstr(l.text, "u.sent_packets:0|c|#target:plain"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deltas_gauges_tags),
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_shaped_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
