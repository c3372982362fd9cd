/*
 * test_queue.c - unit tests of queue.c, the SPSC ring: capacity rounding,
 * push/peek/consume, a partial push onto a full queue, wrap-around,
 * up_queue_drained, and a two-thread stress test that moves millions of
 * sequence-numbered items through a small queue and checks order, loss and
 * duplication (and, under TSan, that the item's payload is published with
 * the push).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "platform.h"
#include "queue.h"

/* Items are small integers disguised as pointers (never dereferenced). */
#define ITEM(n) ((void *)(uintptr_t)(n))
#define NUM(p) ((uintptr_t)(p))

static void test_capacity_rounding(void **state)
{
    /* Up to --channel-size's maximum. (The queue takes up to 2^30, but that
     * is 8 GiB of slots: too much to map under the sanitizers.) */
    static const size_t asked[] = {1, 2, 3, 4, 5, 7, 8, 9, 100, 1000, 1024, 1025, 8192, (size_t)1 << 20};
    static const size_t got[] = {1, 2, 4, 4, 8, 8, 8, 16, 128, 1024, 1024, 2048, 8192, (size_t)1 << 20};
    struct up_queue q;
    (void)state;
    long live = up_alloc_live();
    for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
        assert_int_equal(up_queue_init(&q, asked[i]), UP_OK);
        if (up_queue_capacity(&q) != got[i])
            fail_msg("asked %zu, got capacity %zu, want %zu", asked[i], up_queue_capacity(&q), got[i]);
        assert_int_equal(up_queue_depth(&q), 0);
        assert_true(up_queue_drained(&q));
        up_queue_destroy(&q);
        assert_null(q.slots);
    }
    assert_int_equal(up_queue_init(&q, 0), UP_EINVAL);
    assert_int_equal(up_queue_init(&q, ((size_t)1 << 30) + 1), UP_EINVAL);
    assert_int_equal(up_queue_init(&q, SIZE_MAX), UP_EINVAL);
    assert_int_equal(up_alloc_live(), live);
}

static void test_push_peek_consume(void **state)
{
    struct up_queue q;
    void *in[3] = {ITEM(10), ITEM(11), ITEM(12)};
    void *out[8];
    (void)state;
    assert_int_equal(up_queue_init(&q, 4), UP_OK);
    assert_int_equal(up_queue_peek(&q, out, 8), 0);

    assert_int_equal(up_queue_push(&q, in, 3), 3);
    assert_int_equal(up_queue_depth(&q), 3);

    /* Peek copies without removing, as often as asked. */
    memset(out, 0, sizeof(out));
    assert_int_equal(up_queue_peek(&q, out, 2), 2);
    assert_ptr_equal(out[0], ITEM(10));
    assert_ptr_equal(out[1], ITEM(11));
    assert_int_equal(up_queue_peek(&q, out, 8), 3);
    assert_ptr_equal(out[0], ITEM(10));
    assert_ptr_equal(out[2], ITEM(12));
    assert_int_equal(up_queue_depth(&q), 3);

    up_queue_consume(&q, 2);
    assert_int_equal(up_queue_depth(&q), 1);
    assert_int_equal(up_queue_peek(&q, out, 8), 1);
    assert_ptr_equal(out[0], ITEM(12));
    up_queue_consume(&q, 1);
    assert_int_equal(up_queue_depth(&q), 0);
    assert_int_equal(up_queue_peek(&q, out, 8), 0);

    /* Zero-sized operations change nothing. */
    assert_int_equal(up_queue_push(&q, in, 0), 0);
    assert_int_equal(up_queue_peek(&q, out, 0), 0);
    up_queue_consume(&q, 0);
    assert_int_equal(up_queue_depth(&q), 0);
    up_queue_destroy(&q);
}

static void test_full_queue_partial_push(void **state)
{
    struct up_queue q;
    void *in[10], *out[16];
    (void)state;
    for (size_t i = 0; i < 10; i++)
        in[i] = ITEM(100 + i);
    assert_int_equal(up_queue_init(&q, 8), UP_OK);

    /* Ten offered, eight fit: the first eight, in order. */
    assert_int_equal(up_queue_push(&q, in, 10), 8);
    assert_int_equal(up_queue_depth(&q), 8);
    assert_int_equal(up_queue_push(&q, in, 1), 0);

    /* A peek alone frees nothing. */
    assert_int_equal(up_queue_peek(&q, out, 3), 3);
    assert_int_equal(up_queue_push(&q, in + 8, 2), 0);

    up_queue_consume(&q, 3);
    assert_int_equal(up_queue_push(&q, in + 8, 2), 2);
    assert_int_equal(up_queue_push(&q, in, 5), 1); /* one slot left */
    assert_int_equal(up_queue_depth(&q), 8);

    assert_int_equal(up_queue_peek(&q, out, 16), 8);
    for (size_t i = 0; i < 5; i++)
        assert_ptr_equal(out[i], ITEM(103 + i));
    assert_ptr_equal(out[5], ITEM(108));
    assert_ptr_equal(out[6], ITEM(109));
    assert_ptr_equal(out[7], ITEM(100));
    up_queue_destroy(&q);
}

static void test_wrap_around(void **state)
{
    struct up_queue q;
    void *in[3], *out[4];
    uintptr_t next_in = 1, next_out = 1;
    (void)state;
    assert_int_equal(up_queue_init(&q, 4), UP_OK);
    /* Batches of 3 through 4 slots: every batch after the first straddles
     * the end of the array at a different place. */
    for (int round = 0; round < 1000; round++) {
        for (size_t i = 0; i < 3; i++)
            in[i] = ITEM(next_in++);
        assert_int_equal(up_queue_push(&q, in, 3), 3);
        size_t n = up_queue_peek(&q, out, 4);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++)
            if (NUM(out[i]) != next_out++)
                fail_msg("round %d: item %zu is %lu", round, i, (unsigned long)NUM(out[i]));
        /* Consume in two steps, to move head and tail out of step. */
        up_queue_consume(&q, 1);
        up_queue_consume(&q, 2);
    }
    assert_int_equal(up_queue_depth(&q), 0);
    up_queue_destroy(&q);
}

static void test_counters_wrap(void **state)
{
    struct up_queue q;
    void *in[5] = {ITEM(1), ITEM(2), ITEM(3), ITEM(4), ITEM(5)}, *out[8];
    (void)state;
    /* head and tail count forever; start them just below SIZE_MAX. */
    assert_int_equal(up_queue_init(&q, 8), UP_OK);
    size_t start = SIZE_MAX - 2;
    atomic_store(&q.head, start);
    atomic_store(&q.tail, start);
    q.head_cache = start;
    q.tail_cache = start;
    for (int round = 0; round < 4; round++) {
        assert_int_equal(up_queue_push(&q, in, 5), 5);
        assert_int_equal(up_queue_depth(&q), 5);
        assert_int_equal(up_queue_push(&q, in, 5), 3); /* full at 8 */
        assert_int_equal(up_queue_peek(&q, out, 8), 8);
        assert_ptr_equal(out[0], ITEM(1));
        assert_ptr_equal(out[4], ITEM(5));
        assert_ptr_equal(out[7], ITEM(3));
        up_queue_consume(&q, 8);
        assert_true(up_queue_drained(&q));
    }
    up_queue_destroy(&q);
}

static void test_drained(void **state)
{
    struct up_queue q;
    void *in[2] = {ITEM(1), ITEM(2)}, *out[2];
    (void)state;
    assert_int_equal(up_queue_init(&q, 2), UP_OK);
    assert_true(up_queue_drained(&q));
    assert_int_equal(up_queue_push(&q, in, 2), 2);
    assert_false(up_queue_drained(&q));
    /* Taken but not yet handled: not drained. */
    assert_int_equal(up_queue_peek(&q, out, 2), 2);
    assert_false(up_queue_drained(&q));
    up_queue_consume(&q, 1);
    assert_false(up_queue_drained(&q));
    up_queue_consume(&q, 1);
    assert_true(up_queue_drained(&q));
    up_queue_destroy(&q);
}

/* ---- two threads ------------------------------------------------------- */

#define STRESS_ITEMS 4000000u /* ~0.1 s normally, ~2 s under TSan */
#define STRESS_CAP 64
#define STRESS_PAYLOADS (2 * STRESS_CAP)

struct stress {
    struct up_queue q;
    /* Each item points at payload[seq % STRESS_PAYLOADS], written by the
     * producer just before the push, read by the consumer before the
     * consume: the queue's release/acquire must order both. A payload slot
     * is rewritten only STRESS_PAYLOADS items later, when the producer has
     * seen its item consumed. */
    uint64_t payload[STRESS_PAYLOADS];
    atomic_bool consumer_done;
    /* Results, read by the main thread after the joins. */
    uint64_t received;
    uint64_t bad_order; /* items out of sequence */
    uint64_t bad_payload;
    uint64_t first_bad;            /* sequence number of the first bad item, +1 */
    uint64_t producer_full_pushes; /* pushes that did not take the whole batch */
    uint64_t consumer_empty_peeks; /* peeks that found nothing */
    int producer_saw_drained;
    /* The observer: a third thread reading the depth, as the stats do. */
    uint64_t depth_reads;
    uint64_t depth_over; /* readings above the capacity */
    size_t depth_worst;
};

static void *producer_main(void *arg)
{
    struct stress *s = arg;
    void *batch[17];
    uint64_t seq = 0;
    uint32_t rnd = 12345;
    while (seq < STRESS_ITEMS) {
        rnd = rnd * 1103515245u + 12345u;
        size_t n = 1 + (rnd >> 16) % 17;
        if (n > STRESS_ITEMS - seq)
            n = (size_t)(STRESS_ITEMS - seq);
        for (size_t i = 0; i < n; i++) {
            uint64_t *p = &s->payload[(seq + i) % STRESS_PAYLOADS];
            *p = (seq + i) * 2654435761u;
            batch[i] = p;
        }
        /* Offer the batch until all of it fits (the reader would drop the
         * rest; here every item must get through). */
        size_t done = 0;
        while (done < n) {
            size_t k = up_queue_push(&s->q, batch + done, n - done);
            done += k;
            if (done < n) {
                s->producer_full_pushes++;
                sched_yield();
            }
        }
        seq += n;
    }
    /* Wait until the consumer has handled everything. */
    while (!up_queue_drained(&s->q))
        sched_yield();
    s->producer_saw_drained = 1;
    return NULL;
}

static void *consumer_main(void *arg)
{
    struct stress *s = arg;
    void *out[32];
    uint64_t expect = 0;
    while (expect < STRESS_ITEMS) {
        size_t n = up_queue_peek(&s->q, out, 1 + expect % 32);
        if (n == 0) {
            s->consumer_empty_peeks++;
            sched_yield();
            continue;
        }
        for (size_t i = 0; i < n; i++, expect++) {
            uint64_t *p = out[i];
            if (p != &s->payload[expect % STRESS_PAYLOADS]) {
                if (!s->first_bad)
                    s->first_bad = expect + 1;
                s->bad_order++;
            } else if (*p != expect * 2654435761u) {
                if (!s->first_bad)
                    s->first_bad = expect + 1;
                s->bad_payload++;
            }
        }
        up_queue_consume(&s->q, n);
    }
    s->received = expect;
    atomic_store(&s->consumer_done, true);
    return NULL;
}

/* A third thread reads the depth while both sides run (the stats line and
 * /metrics do): it must never exceed the capacity (review m3: tail read
 * before head could give tail - head < 0, i.e. ~1.8e19). */
static void *observer_main(void *arg)
{
    struct stress *s = arg;
    while (!atomic_load(&s->consumer_done)) {
        size_t d = up_queue_depth(&s->q);
        s->depth_reads++;
        if (d > up_queue_capacity(&s->q)) {
            s->depth_over++;
            if (d > s->depth_worst)
                s->depth_worst = d;
        }
    }
    return NULL;
}

static void test_two_thread_stress(void **state)
{
    static struct stress s;
    up_thread prod, cons, obs;
    void *out[1];
    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(up_queue_init(&s.q, STRESS_CAP), UP_OK);
    assert_int_equal(up_thread_start(&cons, consumer_main, &s, "test-consumer"), UP_OK);
    assert_int_equal(up_thread_start(&obs, observer_main, &s, "test-observer"), UP_OK);
    assert_int_equal(up_thread_start(&prod, producer_main, &s, "test-producer"), UP_OK);
    up_thread_join(prod);
    up_thread_join(cons);
    up_thread_join(obs);
    if (s.depth_over)
        fail_msg("%lu of %lu depth readings above the capacity %zu, worst %zu", (unsigned long)s.depth_over,
                 (unsigned long)s.depth_reads, up_queue_capacity(&s.q), s.depth_worst);

    assert_true(atomic_load(&s.consumer_done));
    assert_int_equal(s.received, STRESS_ITEMS);
    if (s.bad_order || s.bad_payload)
        fail_msg("%lu out of order, %lu bad payloads, first at item %lu", (unsigned long)s.bad_order,
                 (unsigned long)s.bad_payload, (unsigned long)(s.first_bad - 1));
    assert_true(s.producer_saw_drained);
    print_message("queue stress: %u items, %lu partial pushes, %lu empty peeks\n", STRESS_ITEMS,
                  (unsigned long)s.producer_full_pushes, (unsigned long)s.consumer_empty_peeks);
    /* Nothing left over, nothing extra. */
    assert_int_equal(up_queue_depth(&s.q), 0);
    assert_int_equal(up_queue_peek(&s.q, out, 1), 0);
    up_queue_destroy(&s.q);
}

/* Review m3, deterministically: a head seen past the tail read earlier (the
 * consumer moved on between the two loads) must not wrap the depth. */
static void test_depth_never_wraps(void **state)
{
    struct up_queue q;
    void *items[3] = {ITEM(1), ITEM(2), ITEM(3)};
    (void)state;
    assert_int_equal(up_queue_init(&q, 8), UP_OK);
    assert_int_equal(up_queue_push(&q, items, 3), 3);
    assert_int_equal(up_queue_depth(&q), 3);
    size_t tail = atomic_load(&q.tail);
    atomic_store(&q.head, tail + 5);
    assert_true(up_queue_depth(&q) <= up_queue_capacity(&q));
    /* And a tail too far ahead (stale head): clamped to the capacity. */
    atomic_store(&q.head, 0);
    atomic_store(&q.tail, 100);
    assert_int_equal(up_queue_depth(&q), up_queue_capacity(&q));
    up_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_rounding),       cmocka_unit_test(test_push_peek_consume),
        cmocka_unit_test(test_full_queue_partial_push), cmocka_unit_test(test_wrap_around),
        cmocka_unit_test(test_counters_wrap),           cmocka_unit_test(test_drained),
        cmocka_unit_test(test_two_thread_stress),       cmocka_unit_test(test_depth_never_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
