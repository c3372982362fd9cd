/*
 * test_resolver.c - unit tests of resolver.c: the helper thread runs the
 * posted jobs in order, off the calling thread; a full queue says so; free
 * joins an idle helper, and leaves a helper stuck in a job (a lookup that
 * hangs) to finish and release everything itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>

#include "error.h"
#include "platform.h"
#include "resolver.h"

static atomic_int order[256];
static atomic_int next_seq;

struct job {
    int id;
    atomic_int done;
};

static void run_job(void *arg)
{
    struct job *j = arg;
    atomic_store(&order[atomic_fetch_add(&next_seq, 1)], j->id);
    atomic_store_explicit(&j->done, 1, memory_order_release);
}

static void wait_done(struct job *j)
{
    for (int i = 0; i < 5000 && !atomic_load_explicit(&j->done, memory_order_acquire); i++)
        up_sleep_ms(1);
    assert_int_equal(atomic_load_explicit(&j->done, memory_order_acquire), 1);
}

static void test_runs_in_order(void **state)
{
    static struct job jobs[100];
    struct up_resolver *r = NULL;
    (void)state;
    atomic_store(&next_seq, 0);
    assert_int_equal(up_resolver_new(&r), UP_OK);
    for (int i = 0; i < 100; i++) {
        jobs[i].id = i;
        atomic_init(&jobs[i].done, 0);
        assert_int_equal(up_resolver_post(r, run_job, &jobs[i]), UP_OK);
    }
    for (int i = 0; i < 100; i++)
        wait_done(&jobs[i]);
    for (int i = 0; i < 100; i++)
        assert_int_equal(atomic_load(&order[i]), i);
    assert_true(up_resolver_free(r)); /* idle: joined and released */
    assert_true(up_resolver_free(NULL));
}

/* A job that blocks until released: a DNS server that never answers. */
static atomic_int gate;
static atomic_int entered;
static void blocking_job(void *arg)
{
    (void)arg;
    atomic_store(&entered, 1);
    while (!atomic_load(&gate))
        up_sleep_ms(1);
}

static void test_full_queue_and_stuck_helper(void **state)
{
    static struct job after;
    struct up_resolver *r = NULL;
    (void)state;
    atomic_store(&gate, 0);
    atomic_store(&entered, 0);
    assert_int_equal(up_resolver_new(&r), UP_OK);
    assert_int_equal(up_resolver_post(r, blocking_job, NULL), UP_OK);
    for (int i = 0; i < 5000 && !atomic_load(&entered); i++)
        up_sleep_ms(1);
    assert_int_equal(atomic_load(&entered), 1);
    /* The helper is stuck: the queue fills, and then says so. */
    int posted = 0, r2 = UP_OK;
    while ((r2 = up_resolver_post(r, run_job, &after)) == UP_OK)
        posted++;
    assert_int_equal(r2, UP_EAGAIN);
    assert_true(posted >= 64);
    /* Free does not wait for the stuck job (a stop must not wait for DNS);
     * the queued jobs never run. */
    atomic_init(&after.done, 0);
    assert_false(up_resolver_free(r));
    atomic_store(&gate, 1); /* the lookup returns: the helper releases r */
    up_sleep_ms(50);
    assert_int_equal(atomic_load(&after.done), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_in_order),
        cmocka_unit_test(test_full_queue_and_stuck_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
