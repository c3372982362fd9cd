/*
 * posix/vmem.c - reserved memory (POSIX): see platform.h.
 *
 * A reservation is an anonymous private mapping with no access
 * (PROT_NONE): Linux charges no commit for it, so it fits even under
 * vm.overcommit_memory=2, where MAP_NORESERVE is ignored and a writable
 * mapping (or calloc) of the same size is charged in full. A commit makes
 * pages writable with mprotect(); only then are they charged, and they
 * become resident only when written. Neighbouring committed pages merge
 * into one mapping, so committing a pool front to back keeps it at two.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0 /* PROT_NONE is what keeps it uncharged */
#endif

#include "../error.h"
#include "../platform.h"

size_t up_vmem_page(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

void *up_vmem_reserve(size_t size)
{
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int up_vmem_commit(void *addr, size_t size)
{
    /* ENOMEM: over the commit limit or the count of mappings. */
    return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0 ? UP_OK : UP_ENOMEM;
}

void up_vmem_release(void *addr, size_t size)
{
    munmap(addr, size);
}
