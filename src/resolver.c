/* resolver.c - a helper thread for work that may block for long (see resolver.h). */
#include "resolver.h"

#include <stdatomic.h>

#include "alloc.h"
#include "error.h"
#include "platform.h"

#define QUEUE_MAX 128 /* jobs waiting: a lookup per target (64) and a reload fit */

struct job {
    void (*fn)(void *arg);
    void *arg;
};

struct up_resolver {
    up_thread thread;
    up_sem wake;      /* one post per queued job, and one to stop */
    atomic_flag lock; /* guards everything below; short sections only */
    struct job queue[QUEUE_MAX];
    size_t head, count;
    bool stop; /* the control thread wants the helper gone */
    bool busy; /* the helper is inside a job */
};

static void lock(struct up_resolver *r)
{
    /* Taken for a few instructions by two threads: spin with a sleep. */
    while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
        up_sleep_ms(1);
}

static void unlock(struct up_resolver *r)
{
    atomic_flag_clear_explicit(&r->lock, memory_order_release);
}

static void *resolver_main(void *arg)
{
    struct up_resolver *r = arg;
    for (;;) {
        up_sem_wait(&r->wake, -1);
        lock(r);
        if (r->stop) {
            unlock(r);
            break;
        }
        if (r->count == 0) {
            unlock(r);
            continue;
        }
        struct job j = r->queue[r->head];
        r->head = (r->head + 1) % QUEUE_MAX;
        r->count--;
        r->busy = true;
        unlock(r);
        j.fn(j.arg);
        lock(r);
        r->busy = false;
        bool orphan = r->stop;
        unlock(r);
        if (orphan) {
            /* up_resolver_free() left while we were busy: ours to release. */
            up_sem_destroy(&r->wake);
            up_free(r);
            return NULL;
        }
    }
    return NULL;
}

int up_resolver_new(struct up_resolver **out)
{
    struct up_resolver *r = up_calloc(1, sizeof(*r));
    if (!r)
        return UP_ENOMEM;
    atomic_flag_clear(&r->lock);
    int e = up_sem_init(&r->wake);
    if (e != UP_OK) {
        up_free(r);
        return e;
    }
    e = up_thread_start(&r->thread, resolver_main, r, "up-resolver");
    if (e != UP_OK) {
        up_sem_destroy(&r->wake);
        up_free(r);
        return e;
    }
    *out = r;
    return UP_OK;
}

int up_resolver_post(struct up_resolver *r, void (*fn)(void *arg), void *arg)
{
    lock(r);
    if (r->count == QUEUE_MAX) {
        unlock(r);
        return UP_EAGAIN;
    }
    r->queue[(r->head + r->count) % QUEUE_MAX] = (struct job){fn, arg};
    r->count++;
    unlock(r);
    up_sem_post(&r->wake);
    return UP_OK;
}

bool up_resolver_free(struct up_resolver *r)
{
    if (!r)
        return true;
    lock(r);
    r->stop = true;
    r->count = 0;
    bool busy = r->busy;
    up_thread t = r->thread; /* once unlocked, a busy helper may free r */
    unlock(r);
    if (busy) {
        up_thread_detach(t); /* nobody joins it: it ends by itself */
        return false;        /* and releases r when its job returns */
    }
    up_sem_post(&r->wake);
    up_thread_join(r->thread);
    up_sem_destroy(&r->wake);
    up_free(r);
    return true;
}
