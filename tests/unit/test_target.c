/*
 * test_target.c - unit tests of the writer in target.c, against a real
 * loopback UDP socket:
 *   - fairness between a target's queues (review m7): a queue that always
 *     holds a full batch does not keep the other readers' queues waiting;
 *   - the shutdown race (review m1): a datagram queued just before the
 *     drain starts is sent, never counted as dropped_shutdown.
 * Packets come from a real pool, as the reader's do.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "error.h"
#include "platform.h"
#include "pool.h"
#include "stats.h"
#include "target.h"

/* A bound loopback UDP socket with a big receive buffer; its address goes
 * into *addr. */
static int receiver(struct up_addr *addr)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    int big = 8 << 20;
    (void)setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)); /* root only */
    (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
    socklen_t len = sizeof(sin);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
    char text[64];
    snprintf(text, sizeof(text), "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
    assert_int_equal(up_addr_resolve(text, false, addr), UP_OK);
    return s;
}

/* Receive one datagram (waits up to 5 s); returns its length or -1. */
static int recv_one(int s, char *buf, size_t cap)
{
    struct pollfd pfd = {.fd = s, .events = POLLIN};
    if (poll(&pfd, 1, 5000) != 1)
        return -1;
    return (int)recv(s, buf, cap, 0);
}

/* A packet holding "text", one reference (the target's). */
static struct up_packet *packet(struct up_pool *pool, const char *text)
{
    struct up_packet *p = up_pool_get(pool);
    assert_non_null(p);
    size_t n = strlen(text);
    memcpy(p->data, text, n);
    p->len = (uint32_t)n;
    atomic_store(&p->refs, 1);
    return p;
}

static void push(struct up_target *t, size_t q, struct up_packet *p)
{
    void *item = p;
    assert_int_equal(up_queue_push(&t->queues[q], &item, 1), 1);
}

static void test_writer_fairness(void **state)
{
    struct up_target t;
    struct up_pool pool;
    struct up_addr addr;
    struct up_stats_target st;
    char buf[64];
    (void)state;
    assert_int_equal(up_net_init(), UP_OK);
    int rx = receiver(&addr);
    const size_t busy = 10 * UP_BATCH;
    assert_int_equal(up_pool_init(&pool, busy + 1, 0), UP_OK);
    assert_int_equal(up_target_init(&t, &addr, 2, 1024, 0), UP_OK);
    /* Reader 0's queue holds ten batches, reader 1's a single datagram. */
    for (size_t i = 0; i < busy; i++) {
        snprintf(buf, sizeof(buf), "q0:%zu", i);
        push(&t, 0, packet(&pool, buf));
    }
    push(&t, 1, packet(&pool, "q1:only"));
    assert_int_equal(up_target_start(&t), UP_OK);
    size_t pos = 0, next0 = 0;
    for (size_t i = 0; i <= busy; i++) {
        int n = recv_one(rx, buf, sizeof(buf) - 1);
        if (n < 0)
            fail_msg("received only %zu of %zu datagrams", i, busy + 1);
        buf[n] = '\0';
        if (strcmp(buf, "q1:only") == 0) {
            pos = i + 1;
            continue;
        }
        /* Each queue's own order is kept. */
        char expect[64];
        snprintf(expect, sizeof(expect), "q0:%zu", next0++);
        if (strcmp(buf, expect) != 0)
            fail_msg("datagram %zu is %s, want %s", i, buf, expect);
    }
    /* Queue 1's datagram goes out with the first or the second batch; it
     * used to wait until queue 0 was empty (position 641). */
    print_message("queue 1's datagram was number %zu of %zu\n", pos, busy + 1);
    if (pos == 0 || pos > 2 * UP_BATCH)
        fail_msg("queue 1's datagram came as number %zu, want <= %d", pos, 2 * UP_BATCH);
    up_target_drain(&t, up_now_ns() + 5000000000ull);
    up_target_join(&t);
    up_target_snapshot(&t, &st);
    assert_int_equal(st.sent, busy + 1);
    assert_int_equal(st.dropped_shutdown, 0);
    up_target_destroy(&t);
    up_pool_destroy(&pool);
    close(rx);
}

/* The reader's last push, then the drain (as the stop and a reload's removal
 * do): the writer must send that datagram. Before the fix the writer could
 * peek an empty queue, then see DRAIN and count the just-pushed datagram as
 * dropped_shutdown without trying. Probabilistic (the window is between two
 * adjacent loads), so many rounds; 64 queues widen the window (the writer
 * peeks each of them between the two loads). */
#define RACE_ROUNDS 2000
#define RACE_QUEUES 64

static void test_drain_sends_last_push(void **state)
{
    struct up_pool pool;
    struct up_addr addr;
    struct up_stats_target st;
    static struct up_target t;
    char buf[64];
    (void)state;
    assert_int_equal(up_net_init(), UP_OK);
    int rx = receiver(&addr);
    assert_int_equal(up_pool_init(&pool, 4, 0), UP_OK);
    uint64_t spurious = 0, received = 0;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        assert_int_equal(up_target_init(&t, &addr, RACE_QUEUES, 4, 0), UP_OK);
        assert_int_equal(up_target_start(&t), UP_OK);
        /* Sometimes let the writer go to sleep first, sometimes not. */
        if (round % 4 == 0)
            up_sleep_ms(0);
        push(&t, (size_t)round % RACE_QUEUES, packet(&pool, "last"));
        up_target_wake(&t);
        up_target_drain(&t, up_now_ns() + 10000000000ull);
        up_target_join(&t);
        up_target_snapshot(&t, &st);
        spurious += st.dropped_shutdown;
        if (st.sent + st.dropped_shutdown != 1)
            fail_msg("round %d: sent %lu, dropped_shutdown %lu", round, (unsigned long)st.sent,
                     (unsigned long)st.dropped_shutdown);
        up_target_destroy(&t);
        /* The packet is back in the pool (its one reference was released). */
        while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
            received++;
    }
    while (recv_one(rx, buf, sizeof(buf)) > 0 && received < RACE_ROUNDS - spurious)
        received++;
    print_message("drain race: %d rounds, %lu counted as dropped_shutdown, %lu received\n", RACE_ROUNDS,
                  (unsigned long)spurious, (unsigned long)received);
    assert_int_equal(spurious, 0);
    assert_int_equal(received, RACE_ROUNDS);
    up_pool_destroy(&pool);
    close(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_fairness),
        cmocka_unit_test(test_drain_sends_last_push),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
