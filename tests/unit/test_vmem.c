/*
 * test_vmem.c - unit tests of reserved memory (platform.h up_vmem_*, and
 * the alloc.h wrappers up_reserve / up_commit / up_unreserve): a
 * reservation is address space only (no page resident, more than RAM + swap
 * fits), a commit makes exactly its whole pages usable and zero, a touched
 * page is the only resident one, failures can be injected, and nothing is
 * left live after release.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "alloc.h"
#include "error.h"
#include "platform.h"

static int teardown(void **state)
{
    (void)state;
    up_alloc_fail_after(-1);
    up_commit_fail_after(-1);
    return 0;
}

#ifdef __linux__
/* Resident pages of [base, base + len) (page aligned), by mincore. */
static size_t resident_pages(void *base, size_t len)
{
    size_t page = up_vmem_page();
    size_t pages = len / page;
    unsigned char *vec = calloc(pages, 1);
    assert_non_null(vec);
    assert_int_equal(mincore(base, len, vec), 0);
    size_t n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    free(vec);
    return n;
}
#endif

static void test_page_size(void **state)
{
    (void)state;
    size_t page = up_vmem_page();
    assert_true(page >= 4096);
    assert_int_equal(page & (page - 1), 0);
}

/* Reserve 256 MiB, commit and touch a few bytes in the middle: only that
 * page becomes resident, and it reads zero before the write. */
static void test_reserve_commit_touch(void **state)
{
    (void)state;
    const size_t len = (size_t)256 << 20;
    size_t page = up_vmem_page();
    long live = up_alloc_live();
    uint8_t *base = up_reserve(len);
    assert_non_null(base);
    assert_int_equal((uintptr_t)base % page, 0);
    assert_int_equal(up_alloc_live(), live + 1);
#ifdef __linux__
    assert_int_equal(resident_pages(base, len), 0);
#endif
    /* 20 bytes that straddle no boundary: rounded out to their page. */
    uint8_t *at = base + 1000 * page + 10;
    assert_int_equal(up_commit(at, 20), UP_OK);
    uint8_t *pg = base + 1000 * page;
    for (size_t i = 0; i < page; i += 512)
        assert_int_equal(pg[i], 0);
    pg[0] = 1;
    pg[page - 1] = 2;
    /* Committing again keeps the bytes. */
    assert_int_equal(up_commit(pg, page), UP_OK);
    assert_int_equal(pg[0], 1);
    assert_int_equal(pg[page - 1], 2);
    /* A range across a page boundary commits both pages. */
    assert_int_equal(up_commit(base + 2000 * page - 1, 2), UP_OK);
    base[2000 * page - 1] = 3;
    base[2000 * page] = 4;
#ifdef __linux__
    size_t res = resident_pages(base, len);
    print_message("256 MiB reserved, 3 pages committed and written: %zu pages resident\n", res);
    assert_int_equal(res, 3);
#endif
    up_unreserve(base, len);
    assert_int_equal(up_alloc_live(), live);
}

/* A reservation is charged to nothing: 64 GiB (more than this machine's
 * RAM + swap, and more than Linux's heuristic overcommit lets one writable
 * mapping have) can be reserved, and a page of it used. 64-bit only. */
static void test_reserve_more_than_memory(void **state)
{
    (void)state;
    if (sizeof(void *) < 8) {
        print_message("skipped: 32-bit address space\n");
        skip();
    }
    const size_t len = (size_t)64 << 30;
#ifdef __linux__
    long pages = sysconf(_SC_PHYS_PAGES);
    if (pages > 0 && (double)pages * (double)up_vmem_page() >= (double)len) {
        print_message("skipped: this machine has 64 GiB of RAM or more\n");
        skip();
    }
#endif
    uint8_t *base = up_reserve(len);
    assert_non_null(base);
    uint8_t *last = base + len - up_vmem_page();
    assert_int_equal(up_commit(last, 1), UP_OK);
    last[0] = 7;
    assert_int_equal(last[0], 7);
    up_unreserve(base, len);
}

/* up_reserve fails like up_calloc under up_alloc_fail_after; up_commit has
 * its own countdown; neither leaves anything live. */
static void test_injected_failures(void **state)
{
    (void)state;
    long live = up_alloc_live();
    up_alloc_fail_after(0);
    assert_null(up_reserve(1 << 20));
    up_alloc_fail_after(-1);
    assert_int_equal(up_alloc_live(), live);

    uint8_t *base = up_reserve(1 << 20);
    assert_non_null(base);
    up_commit_fail_after(1);
    assert_int_equal(up_commit(base, 100), UP_OK);
    assert_int_equal(up_commit(base + 8192, 100), UP_ENOMEM);
    assert_int_equal(up_commit(base + 8192, 100), UP_ENOMEM); /* stays failing until turned off */
    up_commit_fail_after(-1);
    assert_int_equal(up_commit(base + 8192, 100), UP_OK);
    base[0] = 1;
    base[8192] = 1;
    up_unreserve(base, 1 << 20);
    up_unreserve(NULL, 0); /* like free(NULL) */
    assert_int_equal(up_alloc_live(), live);
}

/* The largest sizes overflow cleanly to NULL. */
static void test_absurd_size(void **state)
{
    (void)state;
    long live = up_alloc_live();
    assert_null(up_reserve(SIZE_MAX));
    assert_null(up_reserve(SIZE_MAX - 10));
    assert_int_equal(up_alloc_live(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_size),
        cmocka_unit_test_teardown(test_reserve_commit_touch, teardown),
        cmocka_unit_test_teardown(test_reserve_more_than_memory, teardown),
        cmocka_unit_test_teardown(test_injected_failures, teardown),
        cmocka_unit_test_teardown(test_absurd_size, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
