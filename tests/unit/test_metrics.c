/*
 * test_metrics.c - the Prometheus text exposition of a snapshot: exact
 * output, label escaping, families grouped with one HELP/TYPE each, the
 * size bound, and cutting at the buffer size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static struct up_stats_target targets[2];
static uint64_t reader_drops[2] = {7, 0};
static uint64_t reader_received[2] = {600, 400};

static void fill(struct up_stats *s)
{
    memset(s, 0, sizeof(*s));
    memset(targets, 0, sizeof(targets));
    s->received = 1000;
    s->received_bytes = 143000;
    s->oversize = 3;
    s->no_buffer = 0;
    s->recv_errors = 1;
    s->kernel_drops = 7;
    s->source_bound = 1;
    s->nreaders = 2;
    s->reader_kernel_drops = reader_drops;
    s->reader_received = reader_received;
    s->ntargets = 2;
    s->targets = targets;
    snprintf(targets[0].name, sizeof(targets[0].name), "127.0.0.1:8126");
    targets[0].sent = 990;
    targets[0].sent_bytes = 141570;
    targets[0].dropped_queue_full = 6;
    targets[0].dropped_send_error = 4;
    targets[0].queue_depth = 2;
    targets[0].queue_capacity = 8192;
    targets[0].writer_alive = 1;
    snprintf(targets[1].name, sizeof(targets[1].name), "we\"ird\\na\nme:1");
    targets[1].sent = 1000;
    targets[1].sent_bytes = 143000;
    targets[1].dropped_shutdown = 18446744073709551615u;
    targets[1].queue_capacity = 8192;
}

static const char expected[] =
    "# HELP udp_proxy_received_datagrams_total Datagrams received on the source and accepted for forwarding.\n"
    "# TYPE udp_proxy_received_datagrams_total counter\n"
    "udp_proxy_received_datagrams_total 1000\n"
    "# HELP udp_proxy_received_bytes_total Bytes of the datagrams received and accepted for forwarding.\n"
    "# TYPE udp_proxy_received_bytes_total counter\n"
    "udp_proxy_received_bytes_total 143000\n"
    "# HELP udp_proxy_oversize_datagrams_total Datagrams larger than --buffer: dropped, never forwarded cut.\n"
    "# TYPE udp_proxy_oversize_datagrams_total counter\n"
    "udp_proxy_oversize_datagrams_total 3\n"
    "# HELP udp_proxy_no_buffer_datagrams_total Datagrams dropped because no buffer was free (should stay 0).\n"
    "# TYPE udp_proxy_no_buffer_datagrams_total counter\n"
    "udp_proxy_no_buffer_datagrams_total 0\n"
    "# HELP udp_proxy_receive_errors_total Failed receive calls on the source socket(s).\n"
    "# TYPE udp_proxy_receive_errors_total counter\n"
    "udp_proxy_receive_errors_total 1\n"
    "# HELP udp_proxy_not_allowed_datagrams_total Datagrams from senders outside --allow: dropped, not forwarded.\n"
    "# TYPE udp_proxy_not_allowed_datagrams_total counter\n"
    "udp_proxy_not_allowed_datagrams_total 0\n"
    "# HELP udp_proxy_kernel_receive_drops_total Datagrams the kernel dropped because a source socket's receive "
    "buffer was full.\n"
    "# TYPE udp_proxy_kernel_receive_drops_total counter\n"
    "udp_proxy_kernel_receive_drops_total{reader=\"0\"} 7\n"
    "udp_proxy_kernel_receive_drops_total{reader=\"1\"} 0\n"
    "# HELP udp_proxy_reader_received_datagrams_total Datagrams each reader (source socket) received and accepted: "
    "how SO_REUSEPORT spreads the load.\n"
    "# TYPE udp_proxy_reader_received_datagrams_total counter\n"
    "udp_proxy_reader_received_datagrams_total{reader=\"0\"} 600\n"
    "udp_proxy_reader_received_datagrams_total{reader=\"1\"} 400\n"
    "# HELP udp_proxy_source_bound 1 while the source is bound and receiving, 0 while stopping.\n"
    "# TYPE udp_proxy_source_bound gauge\n"
    "udp_proxy_source_bound 1\n"
    "# HELP udp_proxy_sent_datagrams_total Datagrams sent to the target (accepted by the kernel).\n"
    "# TYPE udp_proxy_sent_datagrams_total counter\n"
    "udp_proxy_sent_datagrams_total{target=\"127.0.0.1:8126\"} 990\n"
    "udp_proxy_sent_datagrams_total{target=\"we\\\"ird\\\\na\\nme:1\"} 1000\n"
    "# HELP udp_proxy_sent_bytes_total Bytes of the datagrams sent to the target.\n"
    "# TYPE udp_proxy_sent_bytes_total counter\n"
    "udp_proxy_sent_bytes_total{target=\"127.0.0.1:8126\"} 141570\n"
    "udp_proxy_sent_bytes_total{target=\"we\\\"ird\\\\na\\nme:1\"} 143000\n"
    "# HELP udp_proxy_dropped_datagrams_total Datagrams not sent to the target, by reason.\n"
    "# TYPE udp_proxy_dropped_datagrams_total counter\n"
    "udp_proxy_dropped_datagrams_total{target=\"127.0.0.1:8126\",reason=\"queue_full\"} 6\n"
    "udp_proxy_dropped_datagrams_total{target=\"127.0.0.1:8126\",reason=\"send_error\"} 4\n"
    "udp_proxy_dropped_datagrams_total{target=\"127.0.0.1:8126\",reason=\"shutdown\"} 0\n"
    "udp_proxy_dropped_datagrams_total{target=\"we\\\"ird\\\\na\\nme:1\",reason=\"queue_full\"} 0\n"
    "udp_proxy_dropped_datagrams_total{target=\"we\\\"ird\\\\na\\nme:1\",reason=\"send_error\"} 0\n"
    "udp_proxy_dropped_datagrams_total{target=\"we\\\"ird\\\\na\\nme:1\",reason=\"shutdown\"} "
    "18446744073709551615\n"
    "# HELP udp_proxy_queue_depth Datagrams waiting in the target's queues now.\n"
    "# TYPE udp_proxy_queue_depth gauge\n"
    "udp_proxy_queue_depth{target=\"127.0.0.1:8126\"} 2\n"
    "udp_proxy_queue_depth{target=\"we\\\"ird\\\\na\\nme:1\"} 0\n"
    "# HELP udp_proxy_queue_capacity Datagrams the target's queues can hold.\n"
    "# TYPE udp_proxy_queue_capacity gauge\n"
    "udp_proxy_queue_capacity{target=\"127.0.0.1:8126\"} 8192\n"
    "udp_proxy_queue_capacity{target=\"we\\\"ird\\\\na\\nme:1\"} 8192\n"
    "# HELP udp_proxy_writer_up 1 while the target's writer thread runs.\n"
    "# TYPE udp_proxy_writer_up gauge\n"
    "udp_proxy_writer_up{target=\"127.0.0.1:8126\"} 1\n"
    "udp_proxy_writer_up{target=\"we\\\"ird\\\\na\\nme:1\"} 0\n"
    "# HELP udp_proxy_resolve_failures_total Failed lookups of the target's host name (the last good address is "
    "kept).\n"
    "# TYPE udp_proxy_resolve_failures_total counter\n"
    "udp_proxy_resolve_failures_total{target=\"127.0.0.1:8126\"} 0\n"
    "udp_proxy_resolve_failures_total{target=\"we\\\"ird\\\\na\\nme:1\"} 0\n"
    "# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.\n"
    "# TYPE process_start_time_seconds gauge\n"
    "process_start_time_seconds 1700000000.250\n"
    "# HELP udp_proxy_build_info Always 1; the version label tells the build.\n"
    "# TYPE udp_proxy_build_info gauge\n"
    "udp_proxy_build_info{version=\"1.2.3\"} 1\n";

static const struct up_metrics_info info = {"1.2.3", 1700000000.25, 0};

static void test_exact_output(void **state)
{
    (void)state;
    struct up_stats s;
    char buf[16384];
    fill(&s);
    size_t n = up_metrics_render(&s, &info, buf, sizeof(buf));
    assert_string_equal(buf, expected);
    assert_int_equal(n, strlen(expected));
}

/* Each family has exactly one HELP and one TYPE, before its samples, and
 * every sample line belongs to the family announced last. */
static void test_families_grouped(void **state)
{
    (void)state;
    struct up_stats s;
    char buf[16384], family[128] = "";
    fill(&s);
    up_metrics_render(&s, &info, buf, sizeof(buf));
    size_t helps = 0, types = 0, samples = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            helps++;
            sscanf(line + 7, "%127s", family);
            assert_true(strstr(expected, family) != NULL);
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            types++;
            assert_memory_equal(line + 7, family, strlen(family));
        } else {
            samples++;
            size_t fl = strlen(family);
            assert_memory_equal(line, family, fl);
            assert_true(line[fl] == ' ' || line[fl] == '{');
        }
    }
    assert_int_equal(helps, 18); /* 16 udp_proxy families, start time, build info */
    assert_int_equal(types, helps);
    assert_int_equal(samples, 1 + 1 + 1 + 1 + 1 + 1 + 2 + 2 + 1 + 2 + 2 + 6 + 2 + 2 + 2 + 2 + 1 + 1);
}

static void test_bound_and_cut(void **state)
{
    (void)state;
    struct up_stats s;
    char buf[16384];
    fill(&s);
    size_t bound = up_metrics_render_bound(&s, &info);
    /* Any counter values fit in the bound: try the largest. */
    s.received = s.received_bytes = s.oversize = s.no_buffer = s.recv_errors = UINT64_MAX;
    for (size_t i = 0; i < 2; i++) {
        reader_drops[i] = UINT64_MAX;
        targets[i].sent = targets[i].sent_bytes = targets[i].dropped_queue_full = UINT64_MAX;
        targets[i].dropped_send_error = targets[i].dropped_shutdown = UINT64_MAX;
        targets[i].queue_depth = targets[i].queue_capacity = UINT64_MAX;
    }
    size_t n = up_metrics_render(&s, &info, buf, sizeof(buf));
    assert_true(n + 1 <= bound);
    assert_true(bound < sizeof(buf));
    /* A small buffer: the full length is still returned, the text is cut
     * and NUL-terminated, nothing is written past the size. */
    char small[64];
    memset(small, 'Z', sizeof(small));
    size_t m = up_metrics_render(&s, &info, small, 40);
    assert_int_equal(m, n);
    assert_int_equal(small[39], '\0');
    assert_memory_equal(small, buf, 39);
    assert_int_equal(small[40], 'Z');
    assert_int_equal(up_metrics_render(&s, &info, NULL, 0), n);
    reader_drops[0] = 7;
    reader_drops[1] = 0;
}

static void test_no_targets_no_readers(void **state)
{
    (void)state;
    struct up_stats s;
    char buf[8192];
    memset(&s, 0, sizeof(s));
    up_metrics_render(&s, &info, buf, sizeof(buf));
    /* Families without samples still announce themselves; no sample line
     * carries an empty label. */
    assert_non_null(strstr(buf, "# TYPE udp_proxy_sent_datagrams_total counter\n"));
    assert_null(strstr(buf, "target=\"\""));
    assert_null(strstr(buf, "reader="));
}

static void test_escape_label(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(up_metrics_escape_label("plain:80", buf, sizeof(buf)), 8);
    assert_string_equal(buf, "plain:80");
    assert_int_equal(up_metrics_escape_label("a\\b\"c\nd", buf, sizeof(buf)), 10);
    assert_string_equal(buf, "a\\\\b\\\"c\\nd");
    assert_int_equal(up_metrics_escape_label("\"\"\"", buf, 4), 6);
    assert_string_equal(buf, "\\\"\\");
}

/* Issue 11: a shaped target exports sent_packets and the line families
 * (rule= and direction= labels); a plain one none of them; the bound still
 * holds when a target becomes shaped. */
static void test_shaped_target(void **state)
{
    (void)state;
    struct up_stats s;
    static char buf[65536];
    fill(&s);
    size_t bound_plain = up_metrics_render_bound(&s, &info);
    targets[1].shaped = 2;
    targets[1].sent_packets = 12;
    targets[1].lines_in = 40;
    targets[1].lines_out = 50;
    targets[1].lines_dropped[UP_DROP_EVENT] = 3;
    targets[1].lines_rewritten[UP_RULE_PACKED] = 5;
    size_t n = up_metrics_render(&s, &info, buf, sizeof(buf));
    assert_true(n < sizeof(buf));
    assert_true(n < bound_plain); /* the bound assumed every target shaped */
    assert_non_null(strstr(buf, "udp_proxy_sent_packets_total{target=\"we\\\"ird\\\\na\\nme:1\"} 12\n"));
    assert_non_null(strstr(buf, "udp_proxy_lines_total{target=\"we\\\"ird\\\\na\\nme:1\",direction=\"in\"} 40\n"));
    assert_non_null(strstr(buf, "udp_proxy_lines_total{target=\"we\\\"ird\\\\na\\nme:1\",direction=\"out\"} 50\n"));
    assert_non_null(
        strstr(buf, "udp_proxy_lines_dropped_total{target=\"we\\\"ird\\\\na\\nme:1\",reason=\"event\"} 3\n"));
    assert_non_null(
        strstr(buf, "udp_proxy_lines_rewritten_total{target=\"we\\\"ird\\\\na\\nme:1\",rule=\"packed\"} 5\n"));
    assert_non_null(strstr(buf, "# TYPE udp_proxy_lines_rewritten_total counter\n"));
    assert_null(strstr(buf, "{target=\"127.0.0.1:8126\",rule="));
    assert_null(strstr(buf, "udp_proxy_sent_packets_total{target=\"127.0.0.1:8126\"}"));
    /* packed raw: sent_packets and lines_dropped, no lines/rewrites */
    targets[1].shaped = 1;
    up_metrics_render(&s, &info, buf, sizeof(buf));
    assert_non_null(strstr(buf, "udp_proxy_sent_packets_total{target="));
    assert_non_null(strstr(buf, "udp_proxy_lines_dropped_total{target="));
    assert_null(strstr(buf, "udp_proxy_lines_rewritten_total"));
    assert_null(strstr(buf, "udp_proxy_lines_total"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shaped_target),         cmocka_unit_test(test_exact_output),
        cmocka_unit_test(test_families_grouped),      cmocka_unit_test(test_bound_and_cut),
        cmocka_unit_test(test_no_targets_no_readers), cmocka_unit_test(test_escape_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
