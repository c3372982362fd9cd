/* alloc.c - allocation wrapper with failure injection (see alloc.h). */
#include "alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "platform.h"

/* Both only touched at start-up/shutdown and from tests; atomics keep TSan
 * quiet should a test allocate from several threads. Relaxed is enough: they
 * order nothing else. */
static atomic_long fail_after = -1;
static atomic_long commit_fail_after = -1;
static atomic_long live;

/* True when the countdown `c` says this call fails. */
static int countdown_failure(atomic_long *c)
{
    long n = atomic_load_explicit(c, memory_order_relaxed);
    if (n < 0)
        return 0;
    if (n == 0)
        return 1;
    atomic_store_explicit(c, n - 1, memory_order_relaxed);
    return 0;
}

static int injected_failure(void)
{
    return countdown_failure(&fail_after);
}

/* size rounded up to whole pages (at least one); 0 if that overflows. */
static size_t page_round(size_t size)
{
    size_t page = up_vmem_page();
    if (size == 0)
        return page;
    if (size > SIZE_MAX - (page - 1))
        return 0;
    return (size + page - 1) & ~(page - 1);
}

void *up_reserve(size_t size)
{
    size_t len = page_round(size);
    if (len == 0 || injected_failure())
        return NULL;
    void *p = up_vmem_reserve(len);
    if (p)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void up_unreserve(void *ptr, size_t size)
{
    if (!ptr)
        return;
    atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    up_vmem_release(ptr, page_round(size));
}

int up_commit(void *addr, size_t size)
{
    if (countdown_failure(&commit_fail_after))
        return UP_ENOMEM;
    if (size == 0)
        return UP_OK;
    uintptr_t page = (uintptr_t)up_vmem_page();
    uintptr_t lo = (uintptr_t)addr & ~(page - 1);
    uintptr_t hi = ((uintptr_t)addr + size + page - 1) & ~(page - 1);
    return up_vmem_commit((void *)lo, (size_t)(hi - lo));
}

void up_commit_fail_after(long n)
{
    atomic_store_explicit(&commit_fail_after, n, memory_order_relaxed);
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
