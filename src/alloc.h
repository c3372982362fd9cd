/*
 * alloc.h - the one allocation wrapper.
 *
 * All heap memory of udp-proxy is taken at start-up through these functions
 * (never on the per-datagram path). Tests can make the n-th allocation fail
 * with up_alloc_fail_after() to exercise every error path.
 */
#ifndef UP_ALLOC_H
#define UP_ALLOC_H

#include <stddef.h>

/* Like calloc(): zeroed memory, or NULL on failure (or injected failure).
 * The caller owns the memory and releases it with up_free(). */
void *up_calloc(size_t count, size_t size);

/* Aligned, zeroed memory (align: power of two, multiple of sizeof(void *)).
 * Returns NULL on failure. Release with up_free_aligned(). */
void *up_calloc_aligned(size_t align, size_t size);

void up_free(void *ptr);
void up_free_aligned(void *ptr);

/* Reserve `size` bytes of address space (platform.h, up_vmem_reserve),
 * rounded up to whole pages: inaccessible and charged to nothing until
 * committed. Counts as one live allocation and fails like up_calloc under
 * up_alloc_fail_after(). NULL on failure. The caller owns it and gives it
 * back with up_unreserve(ptr, the same size). */
void *up_reserve(size_t size);
void up_unreserve(void *ptr, size_t size);

/* Make [addr, addr + size) inside a reservation usable (zeroed), rounded
 * out to whole pages; committing again is harmless. Returns UP_OK, or
 * UP_ENOMEM when the system refuses (commit limit) or a failure is injected
 * with up_commit_fail_after(). Meant for first use only, never per datagram. */
int up_commit(void *addr, size_t size);

/* Test hook: the commit after `n` more successful ones fails; -1 turns
 * injection off (the default). Separate from up_alloc_fail_after(): commits
 * happen after start-up. */
void up_commit_fail_after(long n);

/* Test hook: the allocation after `n` more successful ones fails; -1 turns
 * injection off (the default). */
void up_alloc_fail_after(long n);

/* Number of live allocations (for leak checks in tests). */
long up_alloc_live(void);

#endif
