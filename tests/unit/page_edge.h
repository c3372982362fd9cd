/*
 * page_edge.h - strings that end exactly at an unreadable page.
 *
 * page_edge_put() copies a string so that its NUL is the last readable byte
 * before a PROT_NONE page: a parser that reads even one byte past the end
 * crashes at once, with or without a sanitizer (the picohttpparser test).
 * POSIX only (mmap/mprotect), like the unit tests.
 */
#ifndef UP_TEST_PAGE_EDGE_H
#define UP_TEST_PAGE_EDGE_H

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct page_edge {
    char *base;  /* two pages: readable, then PROT_NONE */
    size_t page; /* page size, bytes */
};

/* Map the two pages. Returns 0, or -1 when mmap/mprotect fail. */
static inline int page_edge_open(struct page_edge *e)
{
    e->base = NULL;
    e->page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, 2 * e->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    e->base = p;
    if (mprotect(e->base + e->page, e->page, PROT_NONE) != 0) {
        munmap(e->base, 2 * e->page);
        return -1;
    }
    return 0;
}

/* Copy s (shorter than a page) to the end of the readable page; returns the
 * copy, valid until the next put or page_edge_close(). */
static inline char *page_edge_put(struct page_edge *e, const char *s)
{
    size_t n = strlen(s) + 1;
    char *dst = e->base + e->page - n;
    memcpy(dst, s, n);
    return dst;
}

static inline void page_edge_close(struct page_edge *e)
{
    munmap(e->base, 2 * e->page);
    e->base = NULL;
}

#endif
