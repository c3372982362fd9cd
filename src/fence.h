/*
 * fence.h - a full memory barrier that ThreadSanitizer understands.
 *
 * The writer wake-up handshake (target.c) needs StoreLoad ordering on both
 * sides: atomic_thread_fence(seq_cst). TSan does not model fences (GCC
 * refuses them under -fsanitize=thread), so sanitized builds use a seq_cst
 * read-modify-write on one shared variable instead: the later of two such
 * RMWs reads from the earlier one, which gives the same guarantee in the
 * C11 model, visibly to TSan. Production builds keep the plain fence.
 */
#ifndef UP_FENCE_H
#define UP_FENCE_H

#include <stdatomic.h>

#if defined(__SANITIZE_THREAD__)
#define UP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UP_TSAN 1
#endif
#endif

#ifdef UP_TSAN
extern atomic_int up_fence_word;
static inline void up_full_fence(void)
{
    atomic_fetch_add_explicit(&up_fence_word, 0, memory_order_seq_cst);
}
#else
static inline void up_full_fence(void)
{
    atomic_thread_fence(memory_order_seq_cst);
}
#endif

#endif
