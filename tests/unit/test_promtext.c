/*
 * test_promtext.c - the Prometheus text-format parser used by `udp-proxy
 * stats`: a real /metrics text, escapes, blanks, timestamps and special
 * values, malformed lines (each an error naming the line), a callback that
 * stops the parse, and inputs that end exactly at an unreadable page.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "metrics.h"
#include "page_edge.h"
#include "promtext.h"

static struct up_prom_sample scratch;

struct seen {
    int n;
    char names[32][128];
    char labels[32][256]; /* "k=v;k=v;" */
    double values[32];
};

static int collect(void *ctx, const struct up_prom_sample *s)
{
    struct seen *z = ctx;
    if (z->n < 32) {
        snprintf(z->names[z->n], sizeof(z->names[0]), "%.*s", (int)s->name_len, s->name);
        size_t off = 0;
        z->labels[z->n][0] = '\0';
        for (size_t i = 0; i < s->nlabels; i++)
            off += (size_t)snprintf(z->labels[z->n] + off, sizeof(z->labels[0]) - off, "%.*s=%s;",
                                    (int)s->labels[i].name_len, s->labels[i].name, s->labels[i].value);
        z->values[z->n] = s->value;
    }
    z->n++;
    return 0;
}

static int parse(const char *text, struct seen *z, char *err, size_t errlen)
{
    memset(z, 0, sizeof(*z));
    return up_prom_parse(text, strlen(text), &scratch, collect, z, err, errlen);
}

static void test_samples(void **state)
{
    (void)state;
    struct seen z;
    char err[128];
    const char *text = "# HELP a_total A counter.\n"
                       "# TYPE a_total counter\n"
                       "a_total 12\n"
                       "\n"
                       "b{target=\"127.0.0.1:8126\",reason=\"queue_full\"} 3.5\r\n"
                       "  c { x = \"q\\\"u\\\\o\\nte\" , } -Inf 1700000000000\n"
                       "d:sub{} NaN\n"
                       "e\t+Inf\n"
                       "f 1e3";
    assert_int_equal(parse(text, &z, err, sizeof(err)), UP_OK);
    assert_int_equal(z.n, 6);
    assert_string_equal(z.names[0], "a_total");
    assert_true(z.values[0] == 12);
    assert_string_equal(z.names[1], "b");
    assert_string_equal(z.labels[1], "target=127.0.0.1:8126;reason=queue_full;");
    assert_true(z.values[1] == 3.5);
    assert_string_equal(z.names[2], "c");
    assert_string_equal(z.labels[2], "x=q\"u\\o\nte;");
    assert_true(isinf(z.values[2]) && z.values[2] < 0);
    assert_string_equal(z.names[3], "d:sub");
    assert_true(isnan(z.values[3]));
    assert_true(isinf(z.values[4]) && z.values[4] > 0);
    assert_true(z.values[5] == 1000);
}

/* Each malformed input fails with "line N: ..." naming the right line. */
static void test_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "x\n",                    /* no value */
        "x 1 2 3\n",              /* junk after the timestamp */
        "x{a=\"1\"\n",            /* unterminated */
        "x{a=1} 1\n",             /* unquoted value */
        "x{a=\"1} 1\n",           /* no closing quote */
        "x{a=\"\\t\"} 1\n",       /* bad escape */
        "x{=\"1\"} 1\n",          /* no label name */
        "x{a \"1\"} 1\n",         /* no '=' */
        "x{a=\"1\" b=\"2\"} 1\n", /* no ',' */
        "x abc\n",                /* not a number */
        "x 0x10\n",               /* hex is not the format */
        "x infinity\n",           /* nor is this */
        "1x 1\n",                 /* name starts with a digit */
        "{a=\"1\"} 1\n",          /* no name */
        "x{a=\"1\\",              /* escape at the end */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[128], err[128];
        struct seen z;
        snprintf(text, sizeof(text), "ok 1\n%s", bad[i]);
        err[0] = '\0';
        assert_int_equal(parse(text, &z, err, sizeof(err)), UP_EINVAL);
        assert_int_equal(z.n, 1);
        assert_memory_equal(err, "line 2: ", 8);
    }
    /* Too many labels, and label values over the room. */
    char text[UP_PROM_VALUES_ROOM + 64], err[128];
    struct seen z;
    size_t off = (size_t)snprintf(text, sizeof(text), "x{");
    for (int i = 0; i <= UP_PROM_LABELS_MAX; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "l%d=\"v\",", i);
    snprintf(text + off, sizeof(text) - off, "} 1\n");
    assert_int_equal(parse(text, &z, err, sizeof(err)), UP_EINVAL);
    assert_non_null(strstr(err, "too many labels"));
    memset(text, 'v', sizeof(text));
    memcpy(text, "x{a=\"", 5);
    memcpy(text + sizeof(text) - 6, "\"} 1\n", 6);
    assert_int_equal(parse(text, &z, err, sizeof(err)), UP_EINVAL);
    assert_non_null(strstr(err, "too long"));
}

static int stop_at_second(void *ctx, const struct up_prom_sample *s)
{
    (void)s;
    return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
    (void)state;
    int n = 0;
    char err[64];
    const char *text = "a 1\nb 2\nc 3\n";
    assert_int_equal(up_prom_parse(text, strlen(text), &scratch, stop_at_second, &n, err, sizeof(err)), 42);
    assert_int_equal(n, 2);
}

/* What udp-proxy itself renders parses back to the same values. */
static void test_own_output(void **state)
{
    (void)state;
    struct up_stats_target t[1];
    uint64_t kd[1] = {4}, rr[1] = {77};
    struct up_stats s;
    memset(&s, 0, sizeof(s));
    memset(t, 0, sizeof(t));
    snprintf(t[0].name, sizeof(t[0].name), "we\"ird\\name\n:1");
    t[0].sent = 70;
    t[0].dropped_queue_full = 7;
    t[0].queue_capacity = 8192;
    s.targets = t;
    s.ntargets = 1;
    s.received = 77;
    s.reader_kernel_drops = kd;
    s.reader_received = rr;
    s.nreaders = 1;
    struct up_metrics_info info = {"1.0", 1.5, 0};
    char buf[16384], err[128];
    size_t n = up_metrics_render(&s, &info, buf, sizeof(buf));
    assert_true(n < sizeof(buf));
    struct seen z;
    assert_int_equal(parse(buf, &z, err, sizeof(err)), UP_OK);
    int found = 0;
    for (int i = 0; i < z.n && i < 32; i++) {
        if (strcmp(z.names[i], "udp_proxy_dropped_datagrams_total") == 0 &&
            strcmp(z.labels[i], "target=we\"ird\\name\n:1;reason=queue_full;") == 0) {
            assert_true(z.values[i] == 7);
            found++;
        }
        if (strcmp(z.names[i], "udp_proxy_reader_received_datagrams_total") == 0) {
            assert_string_equal(z.labels[i], "reader=0;");
            assert_true(z.values[i] == 77);
            found++;
        }
    }
    assert_int_equal(found, 2);
}

/* Every prefix of a valid text, placed so its last byte is the last
 * readable one: the parser never reads past len. */
static void test_page_edge(void **state)
{
    (void)state;
    struct page_edge pe;
    assert_int_equal(page_edge_open(&pe), 0);
    const char *text = "# HELP x y\nb{target=\"a\\\"b\",reason=\"q\"} 3.5 17\nc 1\n";
    size_t len = strlen(text);
    for (size_t k = 0; k <= len; k++) {
        char *p = pe.base + pe.page - k;
        memcpy(p, text, k);
        struct seen z;
        char err[128];
        memset(&z, 0, sizeof(z));
        int r = up_prom_parse(p, k, &scratch, collect, &z, err, sizeof(err));
        assert_true(r == UP_OK || r == UP_EINVAL);
    }
    page_edge_close(&pe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),    cmocka_unit_test(test_malformed), cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_own_output), cmocka_unit_test(test_page_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
