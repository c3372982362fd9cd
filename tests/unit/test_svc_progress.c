/* test_svc_progress.c - the Windows service's STOP_PENDING / START_PENDING
 * rules (src/win32/svc_progress.c), with a fake clock: the checkpoint rises
 * only with drain progress, and the wait hint covers --drain-timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "win32/svc_progress.h"

#define MS 1000000ull /* nanoseconds */

static void test_first_hint_covers_drain(void **state)
{
    (void)state;
    struct up_svc_stop s = {0};
    uint32_t hint = up_svc_stop_begin(&s, 5000 * MS, 10000, 42);
    assert_int_equal(s.checkpoint, 1);
    assert_true(hint >= 10000 + 1000); /* the whole drain, and time to stop the readers */
    assert_int_equal(hint, 10000 + UP_SVC_STOP_MARGIN_MS);
    struct up_svc_stop z = {0};
    assert_true(up_svc_stop_begin(&z, 0, 0, 0) >= UP_SVC_MIN_HINT_MS); /* --drain-timeout 0 */
}

static void test_checkpoint_only_with_progress(void **state)
{
    (void)state;
    struct up_svc_stop s = {0};
    uint32_t hint = 0;
    uint64_t t = 1000 * MS, work = 100;
    up_svc_stop_begin(&s, t, 10000, work);
    /* A hung drain: ticks every second, no work done: nothing reported. */
    for (int i = 0; i < 30; i++) {
        t += 1000 * MS;
        assert_false(up_svc_stop_tick(&s, t, work, &hint));
    }
    assert_int_equal(s.checkpoint, 1);
    /* Work moves on: one checkpoint per tick with progress. */
    struct up_svc_stop p = {0};
    t = 1000 * MS;
    up_svc_stop_begin(&p, t, 10000, work);
    t += 1000 * MS;
    work += 500;
    assert_true(up_svc_stop_tick(&p, t, work, &hint));
    assert_int_equal(p.checkpoint, 2);
    assert_int_equal(hint, 10000 + UP_SVC_STOP_MARGIN_MS - 1000); /* what is left, no more */
    t += 1000 * MS;
    assert_false(up_svc_stop_tick(&p, t, work, &hint)); /* stalled this second */
    assert_int_equal(p.checkpoint, 2);
    t += 1000 * MS;
    work += 1;
    assert_true(up_svc_stop_tick(&p, t, work, &hint));
    assert_int_equal(p.checkpoint, 3);
    assert_int_equal(hint, 10000 + UP_SVC_STOP_MARGIN_MS - 3000);
}

/* Past the deadline, progress still gets the minimum hint, never a wrap. */
static void test_past_deadline(void **state)
{
    (void)state;
    struct up_svc_stop s = {0};
    uint32_t hint = 0;
    up_svc_stop_begin(&s, 0, 2000, 0);
    assert_true(up_svc_stop_tick(&s, 60000 * MS, 7, &hint));
    assert_int_equal(hint, UP_SVC_MIN_HINT_MS);
}

/* A tick before the stop began reports nothing. */
static void test_not_begun(void **state)
{
    (void)state;
    struct up_svc_stop s = {0};
    uint32_t hint = 0;
    assert_false(up_svc_stop_tick(&s, 1000 * MS, 5, &hint));
    assert_int_equal(s.checkpoint, 0);
}

static void test_start_hint_covers_dns(void **state)
{
    (void)state;
    assert_int_equal(up_svc_start_hint_ms(0), UP_SVC_START_HINT_MS);
    assert_true(up_svc_start_hint_ms(3) >= UP_SVC_START_HINT_MS + 3 * 10000);
    assert_true(up_svc_start_hint_ms(1000) == up_svc_start_hint_ms(64)); /* bounded */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_hint_covers_drain), cmocka_unit_test(test_checkpoint_only_with_progress),
        cmocka_unit_test(test_past_deadline),           cmocka_unit_test(test_not_begun),
        cmocka_unit_test(test_start_hint_covers_dns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
