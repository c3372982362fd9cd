/*
 * test_shape.c - unit tests of shape.c: every row of issue 11's otel table
 * (drops by reason, rewrites by rule), mixed datagrams, the packer, and a
 * property test: random and mutated input, shaped, always passes the
 * grammar checker written from the table (shape_grammar.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"
#include "shape_grammar.h"

static struct up_shape_opts otel;
static struct up_shape_counts cnt;
static uint8_t out[1 << 18];
static char text[1 << 18];

static int setup(void **state)
{
    (void)state;
    memset(&otel, 0, sizeof(otel));
    otel.dialect = UP_DIALECT_OTEL;
    memset(&cnt, 0, sizeof(cnt));
    return 0;
}

/* Shape `in` with o; return the output as a string (and check its grammar). */
static const char *shape_o(const struct up_shape_opts *o, const char *in)
{
    char why[512];
    size_t n = up_shape_datagram(o, (const uint8_t *)in, strlen(in), out, sizeof(out), &cnt);
    if (o->dialect == UP_DIALECT_OTEL && shape_grammar_check(o, out, n, why, sizeof(why)) != 0)
        fail_msg("grammar: %s", why);
    memcpy(text, out, n);
    text[n] = '\0';
    return text;
}

static const char *shape(const char *in)
{
    return shape_o(&otel, in);
}

static uint64_t dropped(enum up_shape_drop d)
{
    return cnt.dropped[d];
}

static uint64_t rule(enum up_shape_rule r)
{
    return cnt.rewritten[r];
}

/* Sum of drops and of rewrites (to check that nothing else was counted). */
static uint64_t all_dropped(void)
{
    uint64_t s = 0;
    for (int i = 0; i < UP_DROP_COUNT; i++)
        s += cnt.dropped[i];
    return s;
}

static uint64_t all_rules(void)
{
    uint64_t s = 0;
    for (int i = 0; i < UP_RULE_COUNT; i++)
        s += cnt.rewritten[i];
    return s;
}

static void test_pass_canonical(void **state)
{
    (void)state;
    const char *in = "a.b:1|c\nx:2.5|g|#env:prod,k:a:b\nt:3|ms|@0.5\nh:-4|h|@0.1|#a:b\nd:1e3|d";
    assert_string_equal(shape(in), in);
    assert_int_equal(cnt.lines_in, 5);
    assert_int_equal(cnt.lines_out, 5);
    assert_int_equal(all_dropped(), 0);
    assert_int_equal(all_rules(), 0);
}

static void test_raw_is_copy(void **state)
{
    (void)state;
    struct up_shape_opts raw = {0};
    const char *in = "_e{1,1}:a|b\nweird|||\r\n";
    assert_string_equal(shape_o(&raw, in), in);
    assert_int_equal(cnt.lines_in, 0); /* raw does not look at lines */
}

static void test_drop_event_service_check_set(void **state)
{
    (void)state;
    assert_string_equal(shape("_e{5,4}:title|text|#a:b"), "");
    assert_int_equal(dropped(UP_DROP_EVENT), 1);
    assert_string_equal(shape("_sc|my.check|2|#a:b|m:down"), "");
    assert_int_equal(dropped(UP_DROP_SERVICE_CHECK), 1);
    assert_string_equal(shape("_sc:1|c"), ""); /* the agent sees a service check too */
    assert_int_equal(dropped(UP_DROP_SERVICE_CHECK), 2);
    assert_string_equal(shape("users:alice|s|#a:b"), "");
    assert_int_equal(dropped(UP_DROP_SET), 1);
    assert_int_equal(cnt.lines_in, 4);
    assert_int_equal(cnt.lines_out, 0);
}

static void test_drop_nan_inf(void **state)
{
    (void)state;
    assert_string_equal(shape("a:NaN|g\nb:+Inf|c\nc:-infinity|ms\nd:1e999|h\ne:1:nan|d"), "");
    assert_int_equal(dropped(UP_DROP_NAN_INF), 5);
}

static void test_drop_unknown_type(void **state)
{
    (void)state;
    assert_string_equal(shape("a:1|x\nb:1|cc\nc:1|G"), "");
    assert_int_equal(dropped(UP_DROP_UNKNOWN_TYPE), 3);
}

static void test_drop_malformed(void **state)
{
    (void)state;
    /* no name, no value, no type, non-numeric, hex, '_', bad rate, blanks only */
    assert_string_equal(shape(":1|c\na:|c\na:1\na|c\na:abc|c\na:0x10|g\na:1_0|c\na:1|c|@x\na:1|c|@\n  \t\na:1:|c|@-1\n"
                              "a:1||c"),
                        "");
    assert_int_equal(dropped(UP_DROP_MALFORMED), 12);
    assert_int_equal(cnt.lines_in, 12);
    assert_int_equal(all_rules(), 0); /* a dropped line counts no rewrite */
}

static void test_packed(void **state)
{
    (void)state;
    assert_string_equal(shape("n:1:2:32|d|@0.5|#t:v"), "n:1|d|@0.5|#t:v\nn:2|d|@0.5|#t:v\nn:32|d|@0.5|#t:v");
    assert_int_equal(rule(UP_RULE_PACKED), 1);
    assert_int_equal(cnt.lines_in, 1);
    assert_int_equal(cnt.lines_out, 3);
    /* empty entries are skipped, as at the agent */
    assert_string_equal(shape("n:1::2:|c"), "n:1|c\nn:2|c");
}

static void test_strip_fields(void **state)
{
    (void)state;
    assert_string_equal(shape("a:1|c|#k:v|c:abc123"), "a:1|c|#k:v");
    assert_int_equal(rule(UP_RULE_CONTAINER_ID), 1);
    assert_string_equal(shape("a:1|c|e:it-false,cn-x|#k:v"), "a:1|c|#k:v");
    assert_int_equal(rule(UP_RULE_EXTERNAL_DATA), 1);
    assert_string_equal(shape("a:1|c|card:high"), "a:1|c");
    assert_int_equal(rule(UP_RULE_CARDINALITY), 1);
    assert_string_equal(shape("a:1|g|T1656581400"), "a:1|g");
    assert_int_equal(rule(UP_RULE_TIMESTAMP), 1);
    assert_string_equal(shape("a:1|h|x:whatever|#k:v|zzz"), "a:1|h|#k:v");
    assert_int_equal(rule(UP_RULE_UNKNOWN_FIELD), 1); /* once per line */
    assert_int_equal(all_dropped(), 0);
}

static void test_keep_container_id_timestamp(void **state)
{
    (void)state;
    struct up_shape_opts o = otel;
    o.keep_container_id = true;
    o.keep_timestamp = true;
    assert_string_equal(shape_o(&o, "a:1|c|T1656581400|#k:v|c:abc"), "a:1|c|#k:v|c:abc|T1656581400");
    assert_int_equal(all_rules(), 0);
    /* T on a timer, or not a number: still stripped */
    assert_string_equal(shape_o(&o, "a:1|ms|T1656581400\nb:1|c|Tnow"), "a:1|ms\nb:1|c");
    assert_int_equal(rule(UP_RULE_TIMESTAMP), 2);
}

static void test_empty_fields_and_tags(void **state)
{
    (void)state;
    assert_string_equal(shape("a:1|c||#env:prod|"), "a:1|c|#env:prod");
    assert_int_equal(rule(UP_RULE_EMPTY_FIELD), 1);
    assert_string_equal(shape("a:1|c|#"), "a:1|c");
    assert_int_equal(rule(UP_RULE_EMPTY_FIELD), 2);
    assert_string_equal(shape("a:1|c|#,a:b,,c:d,"), "a:1|c|#a:b,c:d");
    assert_int_equal(rule(UP_RULE_EMPTY_TAG), 1);
}

static void test_trailing_space(void **state)
{
    (void)state;
    assert_string_equal(shape("a:1|c\r\nb:2|g  \n\tc:3|ms\r"), "a:1|c\nb:2|g\nc:3|ms");
    assert_int_equal(rule(UP_RULE_TRAILING_SPACE), 3);
    assert_int_equal(cnt.lines_in, 3);
    /* blanks around a tag entry, which could end the line */
    assert_string_equal(shape("a:1|c|#k:v ,x:y\t"), "a:1|c|#k:v,x:y");
    assert_int_equal(rule(UP_RULE_TRAILING_SPACE), 4);
}

static void test_multiple_tags_rates(void **state)
{
    (void)state;
    assert_string_equal(shape("a:1|c|#a:1|@0.5|#b:2"), "a:1|c|@0.5|#b:2");
    assert_int_equal(rule(UP_RULE_MULTIPLE_TAGS), 1);
    assert_string_equal(shape("a:1|c|@0.5|@0.25"), "a:1|c|@0.25");
    assert_int_equal(rule(UP_RULE_MULTIPLE_RATES), 1);
}

static void test_gauge_sign(void **state)
{
    (void)state;
    assert_string_equal(shape("g:+5|g|#a:b"), "g:5|g|#a:b");
    assert_int_equal(rule(UP_RULE_GAUGE_SIGN), 1);
    assert_string_equal(shape("g:-5|g|#a:b"), "g:0|g|#a:b\ng:-5|g|#a:b");
    assert_int_equal(rule(UP_RULE_GAUGE_SIGN), 2);
    /* not a gauge: the sign stays */
    assert_string_equal(shape("c:-5|c\nc:+5|c"), "c:-5|c\nc:+5|c");
    assert_int_equal(rule(UP_RULE_GAUGE_SIGN), 2);
    /* packed gauges keep their order, so the last value wins */
    assert_string_equal(shape("g:1:-2:+3|g"), "g:1|g\ng:0|g\ng:-2|g\ng:3|g");
}

static void test_bare_tags(void **state)
{
    (void)state;
    assert_string_equal(shape("a:1|c|#canary,env:prod,k:"), "a:1|c|#canary:true,env:prod,k:true");
    assert_int_equal(rule(UP_RULE_BARE_TAG), 1);
    struct up_shape_opts o = otel;
    o.bare_tags = UP_BARE_DROP;
    assert_string_equal(shape_o(&o, "a:1|c|#canary,env:prod"), "a:1|c|#env:prod");
    assert_string_equal(shape_o(&o, "a:1|c|#canary"), "a:1|c");
    o.bare_tags = UP_BARE_KEEP;
    assert_string_equal(shape_o(&o, "a:1|c|#canary,env:prod"), "a:1|c|#canary,env:prod");
    assert_int_equal(rule(UP_RULE_BARE_TAG), 3);
}

static void test_empty_tag_key(void **state)
{
    (void)state;
    assert_string_equal(shape("a:1|c|#:v,k:v"), "a:1|c|#k:v");
    assert_int_equal(rule(UP_RULE_EMPTY_TAG_KEY), 1);
}

static void test_d_as_h(void **state)
{
    (void)state;
    struct up_shape_opts o = otel;
    o.d_as_h = true;
    assert_string_equal(shape_o(&o, "a:1:2|d|#k:v"), "a:1|h|#k:v\na:2|h|#k:v");
    assert_int_equal(rule(UP_RULE_D_AS_H), 1);
    assert_int_equal(rule(UP_RULE_PACKED), 1);
}

/* A bad line among good ones keeps the good ones. */
static void test_mixed(void **state)
{
    (void)state;
    const char *in = "ok.1:1|c|#a:b\n_e{1,1}:t|x\nbad:x|c\nok.2:2|g|c:abc\nset:1|s\n\nok.3:3|ms\n";
    assert_string_equal(shape(in), "ok.1:1|c|#a:b\nok.2:2|g\nok.3:3|ms");
    assert_int_equal(cnt.lines_in, 6);
    assert_int_equal(cnt.lines_out, 3);
    assert_int_equal(dropped(UP_DROP_EVENT), 1);
    assert_int_equal(dropped(UP_DROP_MALFORMED), 1);
    assert_int_equal(dropped(UP_DROP_SET), 1);
    assert_int_equal(rule(UP_RULE_CONTAINER_ID), 1);
}

/* A line that does not fit is dropped whole (oversize); the others stay. */
static void test_no_room(void **state)
{
    (void)state;
    const char *in = "a:1|c\nbb:1:2:3:4:5:6:7:8:9|c|#k:v\nc:1|c";
    size_t n = up_shape_datagram(&otel, (const uint8_t *)in, strlen(in), out, 20, &cnt);
    assert_int_equal(n, 11);
    assert_memory_equal(out, "a:1|c\nc:1|c", 11);
    assert_int_equal(dropped(UP_DROP_OVERSIZE), 1);
    assert_int_equal(cnt.lines_out, 2);
}

static void test_options_parse(void **state)
{
    (void)state;
    struct up_shape_opts o = {0};
    assert_int_equal(up_shape_set_option(&o, "dialect", "otel"), 0);
    assert_int_equal(o.dialect, UP_DIALECT_OTEL);
    assert_int_equal(up_shape_set_option(&o, "dialect", "x"), -2);
    assert_int_equal(up_shape_set_option(&o, "container-id", "keep"), 0);
    assert_true(o.keep_container_id);
    assert_int_equal(up_shape_set_option(&o, "timestamp", "keep"), 0);
    assert_true(o.keep_timestamp);
    assert_int_equal(up_shape_set_option(&o, "timestamp", "yes"), -2);
    assert_int_equal(up_shape_set_option(&o, "bare-tags", "drop"), 0);
    assert_int_equal(o.bare_tags, UP_BARE_DROP);
    assert_int_equal(up_shape_set_option(&o, "d-as-h", "true"), 0);
    assert_true(o.d_as_h);
    assert_int_equal(up_shape_set_option(&o, "nope", "true"), -1);
}

/* ---- packing ---- */

static uint8_t arena[4096];
static struct up_pack_out outs[16];

static const char *pk_out(struct up_pack *pk, size_t i)
{
    memcpy(text, pk->arena + pk->outs[i].off, pk->outs[i].len);
    text[pk->outs[i].len] = '\0';
    return text;
}

static void add(struct up_pack *pk, const char *d, size_t expect_first)
{
    size_t first = 99;
    assert_int_equal(up_pack_add(pk, (const uint8_t *)d, strlen(d), &first, &cnt), 0);
    assert_int_equal(first, expect_first);
}

static void test_pack_joins(void **state)
{
    (void)state;
    struct up_pack pk;
    up_pack_init(&pk, arena, sizeof(arena), outs, 16, 16);
    add(&pk, "a:1|c", 0);
    add(&pk, "b:2|c", 0);        /* 11 bytes */
    add(&pk, "cc:3|c", 1);       /* 11 + 1 + 6 > 16: a new one */
    add(&pk, "d:4|c\ne:5|c", 2); /* 11 bytes: fits alone, never split */
    assert_int_equal(pk.nout, 3);
    assert_string_equal(pk_out(&pk, 0), "a:1|c\nb:2|c");
    assert_string_equal(pk_out(&pk, 1), "cc:3|c");
    assert_string_equal(pk_out(&pk, 2), "d:4|c\ne:5|c");
    up_pack_reset(&pk);
    assert_int_equal(pk.nout, 0);
    add(&pk, "", 0);
    assert_int_equal(pk.nout, 0);
}

static void test_pack_splits(void **state)
{
    (void)state;
    struct up_pack pk;
    up_pack_init(&pk, arena, sizeof(arena), outs, 16, 12);
    add(&pk, "z:0|c", 0);
    /* 29 bytes > 12: split at lines; the first line joins the open one */
    add(&pk, "a:1|c\nb:2|c\nverylong:3|c\nc:4|c", 0);
    assert_int_equal(pk.nout, 4);
    assert_string_equal(pk_out(&pk, 0), "z:0|c\na:1|c");
    assert_string_equal(pk_out(&pk, 1), "b:2|c");
    assert_string_equal(pk_out(&pk, 2), "verylong:3|c"); /* 12: fits exactly */
    assert_string_equal(pk_out(&pk, 3), "c:4|c");
    /* a line longer than max goes alone */
    add(&pk, "x:1|c\nlonger.than.max:1|c", 3);
    assert_string_equal(pk_out(&pk, 3), "c:4|c\nx:1|c");
    assert_string_equal(pk_out(&pk, 4), "longer.than.max:1|c");
    add(&pk, "y:1|c", 5); /* nothing joins a line that went alone */
    assert_int_equal(dropped(UP_DROP_OVERSIZE), 0);
}

static void test_pack_full_rolls_back(void **state)
{
    (void)state;
    struct up_pack pk;
    struct up_pack_out few[2];
    up_pack_init(&pk, arena, sizeof(arena), few, 2, 8);
    add(&pk, "a:1|c", 0);
    size_t first;
    assert_int_equal(up_pack_add(&pk, (const uint8_t *)"b:22|c\nc:33|c\nd:44|c", 20, &first, &cnt), -1);
    assert_int_equal(pk.nout, 1);
    assert_string_equal(pk_out(&pk, 0), "a:1|c");
    up_pack_reset(&pk);
    assert_int_equal(up_pack_add(&pk, (const uint8_t *)"b:22|c\nc:33|c", 13, &first, &cnt), 0);
    assert_int_equal(pk.nout, 2);
    /* a small arena */
    up_pack_init(&pk, arena, 10, outs, 16, 100);
    add(&pk, "a:1|c", 0);
    assert_int_equal(up_pack_add(&pk, (const uint8_t *)"b:1|c", 5, &first, &cnt), -1);
    assert_string_equal(pk_out(&pk, 0), "a:1|c");
}

static void test_pack_oversize_line(void **state)
{
    (void)state;
    static uint8_t big[70000], ar[140000];
    struct up_pack pk;
    memset(big, 'x', sizeof(big));
    memcpy(big, "a:1|c\n", 6);
    big[sizeof(big) - 4] = ':';
    up_pack_init(&pk, ar, sizeof(ar), outs, 16, 8192);
    size_t first;
    assert_int_equal(up_pack_add(&pk, big, sizeof(big), &first, &cnt), 0);
    assert_int_equal(pk.nout, 1);
    assert_int_equal(pk.outs[0].len, 5);
    assert_int_equal(dropped(UP_DROP_OVERSIZE), 1);
}

/* ---- property test ---- */

static const char *seeds[] = {
    "a.b:1|c|@0.5|#env:prod,canary",
    "g:-1:+2|g|T123|c:abc|e:x|card:low",
    "_e{3,3}:abc|def|#x:y\n_sc|chk|0|#a",
    "d:1:2:3|d|#,:v,k:,a:b||\r\n",
    "s:v|s\nm:1|ms|@x\nh:NaN|h",
    " x:1e5|h|#a:b|#c:d|@0.1|@1 ",
    "n:.5|c|zz|#a:b:c",
};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void test_property_grammar(void **state)
{
    (void)state;
    static const char alphabet[] = "ab:|#@,.-+0123456789\n\r csgmhdTe_{}NaIf";
    uint8_t in[512];
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = 0;
        if (next() % 2) {
            /* a mutated seed */
            const char *s = seeds[next() % (sizeof(seeds) / sizeof(seeds[0]))];
            n = strlen(s);
            memcpy(in, s, n);
            for (uint32_t k = next() % 6; k > 0 && n > 0; k--) {
                size_t at = next() % n;
                switch (next() % 3) {
                case 0: in[at] = (uint8_t)alphabet[next() % (sizeof(alphabet) - 1)]; break;
                case 1:
                    if (n < sizeof(in)) {
                        memmove(in + at + 1, in + at, n - at);
                        in[at] = (uint8_t)alphabet[next() % (sizeof(alphabet) - 1)];
                        n++;
                    }
                    break;
                default: memmove(in + at, in + at + 1, n - at - 1); n--;
                }
            }
        } else {
            n = next() % 64;
            for (size_t i = 0; i < n; i++)
                in[i] = (uint8_t)alphabet[next() % (sizeof(alphabet) - 1)];
        }
        struct up_shape_opts o = otel;
        o.bare_tags = (int)(next() % 3);
        o.keep_container_id = next() % 2;
        o.keep_timestamp = next() % 2;
        o.d_as_h = next() % 2;
        struct up_shape_counts c = {0};
        size_t cap = next() % 2 ? sizeof(out) : next() % 64;
        size_t len = up_shape_datagram(&o, in, n, out, cap, &c);
        char why[512];
        assert_true(len <= cap);
        if (shape_grammar_check(&o, out, len, why, sizeof(why)) != 0)
            fail_msg("input '%.*s': %s", (int)n, (const char *)in, why);
        /* every line accounted: written or dropped */
        uint64_t d = 0;
        for (int i = 0; i < UP_DROP_COUNT; i++)
            d += c.dropped[i];
        assert_true(d <= c.lines_in);
        assert_true(c.lines_out >= c.lines_in - d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pass_canonical, setup),
        cmocka_unit_test_setup(test_raw_is_copy, setup),
        cmocka_unit_test_setup(test_drop_event_service_check_set, setup),
        cmocka_unit_test_setup(test_drop_nan_inf, setup),
        cmocka_unit_test_setup(test_drop_unknown_type, setup),
        cmocka_unit_test_setup(test_drop_malformed, setup),
        cmocka_unit_test_setup(test_packed, setup),
        cmocka_unit_test_setup(test_strip_fields, setup),
        cmocka_unit_test_setup(test_keep_container_id_timestamp, setup),
        cmocka_unit_test_setup(test_empty_fields_and_tags, setup),
        cmocka_unit_test_setup(test_trailing_space, setup),
        cmocka_unit_test_setup(test_multiple_tags_rates, setup),
        cmocka_unit_test_setup(test_gauge_sign, setup),
        cmocka_unit_test_setup(test_bare_tags, setup),
        cmocka_unit_test_setup(test_empty_tag_key, setup),
        cmocka_unit_test_setup(test_d_as_h, setup),
        cmocka_unit_test_setup(test_mixed, setup),
        cmocka_unit_test_setup(test_no_room, setup),
        cmocka_unit_test_setup(test_options_parse, setup),
        cmocka_unit_test_setup(test_pack_joins, setup),
        cmocka_unit_test_setup(test_pack_splits, setup),
        cmocka_unit_test_setup(test_pack_full_rolls_back, setup),
        cmocka_unit_test_setup(test_pack_oversize_line, setup),
        cmocka_unit_test_setup(test_property_grammar, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
