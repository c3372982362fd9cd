/*
 * test_pool.c - unit tests of pool.c: get/put, exhaustion, each packet's own
 * continuation area (review M1), descriptors untouched at init (P5),
 * reference counting (a packet shared by N holders goes back to its pool
 * exactly once, when the last one lets go), and a threaded test in which
 * writer threads drop references concurrently while the owner keeps taking
 * packets: at the end every packet is free exactly once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "alloc.h"
#include "error.h"
#include "platform.h"
#include "pool.h"
#include "queue.h"

#define LARGE_SIZE (65535u - UP_SLOT_SIZE) /* what --buffer 65535 needs */

/* Take every free packet; check that each is a distinct packet of p, free
 * (refs 0, its own continuation area, not linked) and appears once. Returns the count
 * and leaves them in taken[] (at least p->count + 1 entries). */
static size_t take_all(struct up_pool *p, struct up_packet **taken)
{
    size_t n = 0;
    struct up_packet *pkt;
    while ((pkt = up_pool_get(p)) != NULL) {
        if (n > p->count)
            fail_msg("more than %zu packets came out of a pool of %zu", n, p->count);
        size_t idx = (size_t)(pkt - p->packets);
        assert_true(pkt >= p->packets && idx < p->count);
        assert_int_equal(atomic_load(&pkt->refs), 0);
        if (p->large_size)
            assert_ptr_equal(pkt->large, p->large_mem + idx * p->large_size);
        else
            assert_null(pkt->large);
        assert_null(pkt->next);
        assert_ptr_equal(pkt->pool, p);
        for (size_t i = 0; i < n; i++)
            if (taken[i] == pkt)
                fail_msg("packet %zu came out twice", idx);
        taken[n++] = pkt;
    }
    return n;
}

static void test_get_put(void **state)
{
    struct up_pool p;
    struct up_packet *taken[9];
    (void)state;
    long live = up_alloc_live();
    assert_int_equal(up_pool_init(&p, 8, 0), UP_OK);
    assert_int_equal(take_all(&p, taken), 8);
    /* Distinct slots of UP_SLOT_SIZE bytes, all writable. */
    for (size_t i = 0; i < 8; i++) {
        memset(taken[i]->data, (int)i, UP_SLOT_SIZE);
        for (size_t j = 0; j < i; j++) {
            uint8_t *a = taken[i]->data, *b = taken[j]->data;
            assert_true(a >= b + UP_SLOT_SIZE || b >= a + UP_SLOT_SIZE);
        }
    }
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(taken[i]->data[UP_SLOT_SIZE - 1], (uint8_t)i);

    /* Exhausted: NULL, and it stays so. */
    assert_null(up_pool_get(&p));
    assert_null(up_pool_get(&p));

    /* LIFO: the packet put back last comes out first (hot in cache). */
    up_pool_put(&p, taken[3]);
    up_pool_put(&p, taken[5]);
    assert_ptr_equal(up_pool_get(&p), taken[5]);
    assert_ptr_equal(up_pool_get(&p), taken[3]);
    assert_null(up_pool_get(&p));

    for (size_t i = 0; i < 8; i++)
        up_pool_put(&p, taken[i]);
    assert_int_equal(take_all(&p, taken), 8);
    up_pool_destroy(&p);
    assert_int_equal(up_alloc_live(), live);
}

static void test_empty_pool(void **state)
{
    struct up_pool p;
    struct up_packet *taken[3];
    (void)state;
    long live = up_alloc_live();
    assert_int_equal(up_pool_init(&p, 0, 0), UP_OK);
    assert_null(up_pool_get(&p));
    up_pool_destroy(&p);
    /* No continuation areas when --buffer fits a slot. */
    assert_int_equal(up_pool_init(&p, 2, 0), UP_OK);
    assert_null(p.large_mem);
    assert_int_equal(take_all(&p, taken), 2);
    up_pool_destroy(&p);
    /* A size that cannot be reserved: ENOMEM, nothing left behind. */
    assert_int_equal(up_pool_init(&p, SIZE_MAX / 64, 0), UP_ENOMEM);
    assert_int_equal(up_pool_init(&p, 4, SIZE_MAX / 2), UP_ENOMEM);
    assert_int_equal(up_alloc_live(), live);
}

static void test_large_buffers(void **state)
{
    struct up_pool p;
    struct up_packet *taken[5];
    struct up_dgram dg;
    (void)state;
    long live = up_alloc_live();
    assert_int_equal(up_pool_init(&p, 4, LARGE_SIZE), UP_OK);
    assert_int_equal(take_all(&p, taken), 4);
    /* Every packet has its own area, all of it ours (ASan checks). */
    for (size_t i = 0; i < 4; i++) {
        memset(taken[i]->large, 0xa0 + (int)i, LARGE_SIZE);
        for (size_t j = 0; j < i; j++) {
            uint8_t *a = taken[i]->large, *b = taken[j]->large;
            assert_true(a >= b + LARGE_SIZE || b >= a + LARGE_SIZE);
        }
    }
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(taken[i]->large[LARGE_SIZE - 1], 0xa0 + i);

    /* A 65535-byte datagram: slot + continuation, gathered by two iovecs. */
    struct up_packet *pkt = taken[0];
    pkt->len = 65535;
    up_packet_to_dgram(pkt, &dg);
    assert_int_equal(dg.iovcnt, 2);
    assert_int_equal(dg.len, 65535);
    assert_ptr_equal(UP_BUF_BASE(dg.iov[0]), pkt->data);
    assert_int_equal(UP_BUF_LEN(dg.iov[0]), UP_SLOT_SIZE);
    assert_ptr_equal(UP_BUF_BASE(dg.iov[1]), pkt->large);
    assert_int_equal(UP_BUF_LEN(dg.iov[1]), 65535 - UP_SLOT_SIZE);

    /* A small one: the slot alone. */
    struct up_packet *small = taken[1];
    small->len = UP_SLOT_SIZE;
    up_packet_to_dgram(small, &dg);
    assert_int_equal(dg.iovcnt, 1);
    assert_int_equal(UP_BUF_LEN(dg.iov[0]), UP_SLOT_SIZE);
    small->len = 0;
    up_packet_to_dgram(small, &dg);
    assert_int_equal(dg.iovcnt, 1);
    assert_int_equal(dg.len, 0);

    /* Released by another holder, a packet comes back with its own area. */
    atomic_store(&pkt->refs, 2);
    up_packet_release(pkt, 1);
    assert_null(up_pool_get(&p));
    up_packet_release(pkt, 1);
    assert_ptr_equal(up_pool_get(&p), pkt);
    assert_ptr_equal(pkt->large, p.large_mem);
    for (size_t i = 0; i < 4; i++)
        up_pool_put(&p, taken[i]);
    assert_int_equal(take_all(&p, taken), 4);
    up_pool_destroy(&p);
    assert_int_equal(up_alloc_live(), live);
}

/* Review M1: large datagrams had a shared stack of 264 buffers per reader
 * (16 MiB / (65535 - 2048)); a target that held them in its queue left none
 * for the datagrams of every other target (no_buffer). Now every packet the
 * pool sizing promises (all queues full) can hold a datagram of --buffer
 * bytes at once: 16,512 packets, as the reader makes for two targets at the
 * default --channel-size 8192. */
static void test_every_packet_can_be_large(void **state)
{
    struct up_pool p;
    (void)state;
    const size_t count = 2 * 8192 + 2 * 64;
    assert_int_equal(up_pool_init(&p, count, LARGE_SIZE), UP_OK);
    struct up_packet **taken = calloc(count + 1, sizeof(*taken));
    assert_non_null(taken);
    size_t n = 0;
    struct up_packet *pkt;
    while ((pkt = up_pool_get(&p)) != NULL) {
        assert_true(n < count);
        assert_non_null(pkt->large);
        /* Touch both ends of its area: one page each, freed below. */
        pkt->large[0] = (uint8_t)n;
        pkt->large[LARGE_SIZE - 1] = (uint8_t)n;
        taken[n++] = pkt;
    }
    assert_int_equal(n, count);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(taken[i]->large[0], (uint8_t)i);
        assert_int_equal(taken[i]->large[LARGE_SIZE - 1], (uint8_t)i);
    }
    free(taken);
    up_pool_destroy(&p);
}

/* Review P5: making a pool writes none of its memory, not even the
 * descriptors (a pool for the option maxima must be able to start). */
static void test_init_touches_nothing(void **state)
{
    (void)state;
#if defined(__linux__)
    struct up_pool p;
    const size_t count = (size_t)1 << 16; /* 4 MiB of descriptors */
    assert_int_equal(up_pool_init(&p, count, 0), UP_OK);
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p.packets + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)(p.packets + count)) & ~(uintptr_t)(page - 1);
    size_t pages = (hi - lo) / (size_t)page;
    unsigned char *vec = calloc(pages, 1);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)lo, hi - lo, vec), 0);
    size_t resident = 0;
    for (size_t i = 0; i < pages; i++)
        resident += vec[i] & 1;
    print_message("pool of %zu packets: %zu of %zu descriptor pages resident after init\n", count, resident, pages);
    assert_true(resident <= 2);
    /* Using a few makes only their pages resident. */
    for (int i = 0; i < 200; i++)
        assert_non_null(up_pool_get(&p));
    assert_int_equal(mincore((void *)lo, hi - lo, vec), 0);
    resident = 0;
    for (size_t i = 0; i < pages; i++)
        resident += vec[i] & 1;
    assert_true(resident >= 1 && resident <= 2 + (200 * sizeof(struct up_packet)) / (size_t)page + 1);
    free(vec);
    up_pool_destroy(&p);
#else
    skip();
#endif
}

/* Memory is committed on first use, a run of UP_POOL_CHUNK packets at a
 * time, never when a used packet is reused; a refused commit hands out no
 * packet (and no crash), is counted, and is retried on the next need. */
static void test_commit_on_first_use(void **state)
{
    struct up_pool p;
    (void)state;
    const size_t count = 3 * UP_POOL_CHUNK + 8; /* the last run is short */
    struct up_packet *taken[3 * UP_POOL_CHUNK + 9];
    long live = up_alloc_live();
    assert_int_equal(up_pool_init(&p, count, LARGE_SIZE), UP_OK);
    assert_int_equal(p.committed, 0);

    /* The first get commits the first run; the rest of it costs nothing. */
    taken[0] = up_pool_get(&p);
    assert_non_null(taken[0]);
    assert_int_equal(p.committed, UP_POOL_CHUNK);
#if defined(__linux__)
    /* Committed is not resident: no page of any area is, yet. */
    {
        size_t len = count * LARGE_SIZE, page = (size_t)sysconf(_SC_PAGESIZE);
        size_t pages = (len + page - 1) / page;
        unsigned char *vec = calloc(pages, 1);
        assert_non_null(vec);
        assert_int_equal(mincore(p.large_mem, pages * page, vec), 0);
        for (size_t i = 0; i < pages; i++)
            assert_int_equal(vec[i] & 1, 0);
        free(vec);
    }
#endif
    /* Every byte of every packet of the run is usable. */
    up_commit_fail_after(0); /* from here on, any commit fails */
    for (size_t i = 1; i < UP_POOL_CHUNK; i++) {
        taken[i] = up_pool_get(&p);
        assert_non_null(taken[i]);
    }
    for (size_t i = 0; i < UP_POOL_CHUNK; i++) {
        memset(taken[i]->data, 0xa5, UP_SLOT_SIZE);
        memset(taken[i]->large, 0x5a, LARGE_SIZE);
    }
    assert_int_equal(p.commit_failures, 0);

    /* The next never-used packet needs a commit: refused, nothing handed
     * out, counted; again on the next try. */
    assert_null(up_pool_get(&p));
    assert_int_equal(p.commit_failures, 1);
    assert_null(up_pool_get(&p));
    assert_int_equal(p.commit_failures, 2);
    assert_int_equal(p.fresh_next, UP_POOL_CHUNK);
    assert_int_equal(p.committed, UP_POOL_CHUNK);

    /* A used packet comes back: reused without any commit (steady state). */
    up_pool_put(&p, taken[7]);
    assert_ptr_equal(up_pool_get(&p), taken[7]);
    assert_int_equal(p.commit_failures, 2);

    /* The system gives memory again: the pool goes on where it was. */
    up_commit_fail_after(-1);
    size_t n = UP_POOL_CHUNK;
    while ((taken[n] = up_pool_get(&p)) != NULL) {
        assert_true(n < count);
        assert_ptr_equal(taken[n], &p.packets[n]);
        taken[n]->data[UP_SLOT_SIZE - 1] = 1;
        taken[n]->large[0] = 1;
        taken[n]->large[LARGE_SIZE - 1] = 1;
        n++;
    }
    assert_int_equal(n, count);
    assert_int_equal(p.committed, count);
    assert_int_equal(p.commit_failures, 2);

    /* All in flight, all used once: a get tries no commit. */
    up_commit_fail_after(0);
    assert_null(up_pool_get(&p));
    assert_int_equal(p.commit_failures, 2);
    up_commit_fail_after(-1);
    up_pool_destroy(&p);
    assert_int_equal(up_alloc_live(), live);
}

/* Descriptors are one cache line each (review P2). */
static void test_descriptor_lines(void **state)
{
    struct up_pool p;
    struct up_packet *taken[4];
    (void)state;
    assert_int_equal(sizeof(struct up_packet), 64);
    assert_int_equal(up_pool_init(&p, 3, 0), UP_OK);
    assert_int_equal(take_all(&p, taken), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal((uintptr_t)taken[i] % 64, 0);
    up_pool_destroy(&p);
}

/* N holders, released one by one in every position: back exactly once. */
static void test_refcount_returns_once(void **state)
{
    struct up_pool p;
    struct up_packet *taken[5];
    (void)state;
    assert_int_equal(up_pool_init(&p, 4, 0), UP_OK);
    for (unsigned holders = 1; holders <= 8; holders++) {
        assert_int_equal(take_all(&p, taken), 4);
        struct up_packet *pkt = taken[0];
        atomic_store(&pkt->refs, holders);
        for (unsigned h = 1; h < holders; h++) {
            up_packet_release(pkt, 1);
            assert_null(up_pool_get(&p)); /* not back while anyone holds it */
            assert_int_equal(atomic_load(&pkt->refs), holders - h);
        }
        up_packet_release(pkt, 1);
        assert_ptr_equal(up_pool_get(&p), pkt); /* back after the last */
        assert_null(up_pool_get(&p));           /* and only once */
        for (size_t i = 0; i < 4; i++)
            up_pool_put(&p, taken[i]);
    }

    /* Several references dropped in one call (a target that held a packet
     * in two queues, or the reader giving back unused ones). */
    assert_int_equal(take_all(&p, taken), 4);
    atomic_store(&taken[1]->refs, 5);
    up_packet_release(taken[1], 2);
    assert_null(up_pool_get(&p));
    up_packet_release(taken[1], 3);
    assert_ptr_equal(up_pool_get(&p), taken[1]);
    assert_null(up_pool_get(&p));
    for (size_t i = 0; i < 4; i++)
        up_pool_put(&p, taken[i]);
    up_pool_destroy(&p);
}

static void test_return_chain(void **state)
{
    struct up_pool p;
    struct up_packet *taken[7];
    (void)state;
    assert_int_equal(up_pool_init(&p, 6, 0), UP_OK);
    assert_int_equal(take_all(&p, taken), 6);
    /* Two chains, [0,1,2] and [3,4]; packet 5 stays out. */
    taken[0]->next = taken[1];
    taken[1]->next = taken[2];
    up_pool_return_chain(&p, taken[0], taken[2]);
    taken[3]->next = taken[4];
    up_pool_return_chain(&p, taken[3], taken[4]);
    struct up_packet *back[7];
    assert_int_equal(take_all(&p, back), 5);
    for (size_t i = 0; i < 5; i++)
        assert_ptr_not_equal(back[i], taken[5]);
    for (size_t i = 0; i < 5; i++)
        up_pool_put(&p, back[i]);
    up_pool_put(&p, taken[5]);
    assert_int_equal(take_all(&p, back), 6);
    up_pool_destroy(&p);
}

/* ---- threads: one owner, several writers ------------------------------- */

#define WRITERS 3
#define POOL_PACKETS 24 /* fewer than the queues hold: the owner runs dry */
#define ROUNDS 500000u

struct shared {
    struct up_pool pool;
    struct up_queue q[WRITERS]; /* owner -> writer w */
    atomic_bool done;           /* the owner has pushed its last packet */
    /* Results of each writer, read after the join. */
    uint64_t released[WRITERS];
    uint64_t bad[WRITERS]; /* packets whose bytes were not what the owner wrote */
};

/* Bytes of pkt in its small slot (at least 1 here). */
static size_t slot_bytes(const struct up_packet *pkt)
{
    return pkt->len < UP_SLOT_SIZE ? pkt->len : UP_SLOT_SIZE;
}

static void *writer_main(void *arg)
{
    struct shared *s = ((void **)arg)[0];
    size_t w = (size_t)(uintptr_t)((void **)arg)[1];
    void *batch[16];
    for (;;) {
        size_t n = up_queue_peek(&s->q[w], batch, 16);
        if (n == 0) {
            /* Acquire: pairs with the owner's release store of done, after
             * its last push; check the queue once more before leaving. */
            if (atomic_load_explicit(&s->done, memory_order_acquire) && up_queue_peek(&s->q[w], batch, 16) == 0)
                break;
            sched_yield();
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            struct up_packet *pkt = batch[i];
            /* Read the bytes like a send would: first and last byte carry
             * the same stamp, and so does the large buffer when present. */
            uint8_t stamp = pkt->data[0];
            if (pkt->data[slot_bytes(pkt) - 1] != stamp ||
                (pkt->len > UP_SLOT_SIZE && pkt->large[LARGE_SIZE - 1] != stamp))
                s->bad[w]++;
        }
        up_queue_consume(&s->q[w], n);
        for (size_t i = 0; i < n; i++)
            up_packet_release(batch[i], 1);
        s->released[w] += n;
    }
    return NULL;
}

static void test_threaded_release(void **state)
{
    static struct shared s;
    up_thread th[WRITERS];
    void *args[WRITERS][2];
    struct up_packet *taken[POOL_PACKETS + 1];
    uint64_t pushed[WRITERS] = {0}, empty_gets = 0, put_back = 0, shared = 0;
    (void)state;
    memset(&s, 0, sizeof(s));
    long live = up_alloc_live();
    assert_int_equal(up_pool_init(&s.pool, POOL_PACKETS, LARGE_SIZE), UP_OK);
    for (size_t w = 0; w < WRITERS; w++) {
        assert_int_equal(up_queue_init(&s.q[w], 16), UP_OK);
        args[w][0] = &s;
        args[w][1] = (void *)(uintptr_t)w;
        assert_int_equal(up_thread_start(&th[w], writer_main, args[w], "test-writer"), UP_OK);
    }

    for (uint32_t round = 0; round < ROUNDS;) {
        struct up_packet *pkt = up_pool_get(&s.pool);
        if (!pkt) {
            /* All in flight: the writers are behind; try again. */
            empty_gets++;
            sched_yield();
            continue;
        }
        /* Every 7th datagram is large. */
        uint8_t stamp = (uint8_t)round;
        pkt->len = round % 7 == 0 ? UP_SLOT_SIZE + LARGE_SIZE : 1 + round % UP_SLOT_SIZE;
        pkt->data[0] = stamp;
        pkt->data[slot_bytes(pkt) - 1] = stamp;
        if (pkt->len > UP_SLOT_SIZE)
            pkt->large[LARGE_SIZE - 1] = stamp;

        /* Offer it to a varying subset of writers (every non-empty one in
         * turn), as the reader does; every 11th goes to nobody (all queues
         * full). Refs: one per writer offered, plus the owner's own, set
         * before any writer can see the packet. */
        unsigned mask = round % 11 == 0 ? 0 : 1u + round % ((1u << WRITERS) - 1u);
        unsigned holders = 0;
        for (size_t w = 0; w < WRITERS; w++)
            holders += (mask >> w) & 1u;
        atomic_store_explicit(&pkt->refs, holders + 1, memory_order_relaxed);
        unsigned kept = 0;
        for (size_t w = 0; w < WRITERS; w++) {
            void *item = pkt;
            if (((mask >> w) & 1u) && up_queue_push(&s.q[w], &item, 1) == 1) {
                kept++;
                pushed[w]++;
            }
        }
        if (kept > 1)
            shared++;
        if (kept < holders)
            sched_yield(); /* a queue was full: let the writers catch up */
        if (kept == 0) {
            /* No other thread ever saw it. */
            atomic_store_explicit(&pkt->refs, 0, memory_order_relaxed);
            up_pool_put(&s.pool, pkt);
            put_back++;
        } else {
            /* The owner's reference and those of full queues, in one go. */
            up_packet_release(pkt, 1 + holders - kept);
        }
        round++;
    }
    atomic_store_explicit(&s.done, true, memory_order_release);
    for (size_t w = 0; w < WRITERS; w++)
        up_thread_join(th[w]);

    uint64_t bad = 0;
    for (size_t w = 0; w < WRITERS; w++) {
        assert_int_equal(s.released[w], pushed[w]);
        bad += s.bad[w];
    }
    assert_int_equal(bad, 0);
    assert_true(put_back > 0);
    assert_true(shared > 0);
    /* Every packet is free exactly once. */
    assert_int_equal(take_all(&s.pool, taken), POOL_PACKETS);
    print_message("pool: %u rounds, %lu shared by 2+ writers, %lu put back unseen, %lu gets found the pool empty\n",
                  ROUNDS, (unsigned long)shared, (unsigned long)put_back, (unsigned long)empty_gets);
    for (size_t w = 0; w < WRITERS; w++)
        up_queue_destroy(&s.q[w]);
    up_pool_destroy(&s.pool);
    assert_int_equal(up_alloc_live(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put),
        cmocka_unit_test(test_empty_pool),
        cmocka_unit_test(test_large_buffers),
        cmocka_unit_test(test_every_packet_can_be_large),
        cmocka_unit_test(test_init_touches_nothing),
        cmocka_unit_test(test_commit_on_first_use),
        cmocka_unit_test(test_descriptor_lines),
        cmocka_unit_test(test_refcount_returns_once),
        cmocka_unit_test(test_return_chain),
        cmocka_unit_test(test_threaded_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
