/* alloc.c - allocation wrapper with failure injection (see alloc.h). */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

/* Both only touched at start-up/shutdown and from tests; atomics keep TSan
 * quiet should a test allocate from several threads. Relaxed is enough: they
 * order nothing else. */
static atomic_long fail_after = -1;
static atomic_long live;

static int injected_failure(void)
{
    long n = atomic_load_explicit(&fail_after, memory_order_relaxed);
    if (n < 0)
        return 0;
    if (n == 0)
        return 1;
    atomic_store_explicit(&fail_after, n - 1, memory_order_relaxed);
    return 0;
}

void *up_calloc(size_t count, size_t size)
{
    if (injected_failure())
        return NULL;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void *up_calloc_aligned(size_t align, size_t size)
{
    if (injected_failure())
        return NULL;
    void *p = up_aligned_alloc(align, size ? size : 1);
    if (!p)
        return NULL;
    memset(p, 0, size);
    atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void up_free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    free(ptr);
}

void up_free_aligned(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    up_aligned_free(ptr);
}

void up_alloc_fail_after(long n)
{
    atomic_store_explicit(&fail_after, n, memory_order_relaxed);
}

long up_alloc_live(void)
{
    return atomic_load_explicit(&live, memory_order_relaxed);
}
