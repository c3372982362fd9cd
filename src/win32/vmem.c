/*
 * win32/vmem.c - reserved memory (Windows): see platform.h.
 *
 * A reservation is VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS): address space
 * only, not charged to the commit limit (RAM + pagefile), where calloc of a
 * large block would commit all of it. A commit is VirtualAlloc(MEM_COMMIT,
 * PAGE_READWRITE) on pages of the reservation: charged from then on, zero
 * and not resident until written.
 */
#include "../error.h"
#include "../platform.h"

size_t up_vmem_page(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize ? (size_t)si.dwPageSize : 4096;
}

void *up_vmem_reserve(size_t size)
{
    return VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS);
}

int up_vmem_commit(void *addr, size_t size)
{
    /* Fails when the commit limit is reached (ERROR_COMMITMENT_LIMIT). */
    return VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE) ? UP_OK : UP_ENOMEM;
}

void up_vmem_release(void *addr, size_t size)
{
    (void)size; /* MEM_RELEASE frees the whole reservation: size must be 0 */
    VirtualFree(addr, 0, MEM_RELEASE);
}
