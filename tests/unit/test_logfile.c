/* test_logfile.c - --log-file rotation by size (logfile.c): which file gets
 * each line, how many old files are kept, and what happens when a rename
 * fails. Works in a fresh temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "logfile.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/up-logfile-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/up.log", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    for (int i = 0; i <= UP_LOGFILE_KEEP + 1; i++) {
        if (i == 0)
            snprintf(p, sizeof(p), "%s", path);
        else
            snprintf(p, sizeof(p), "%s.%d", path, i);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

/* The whole content of path.N (N = 0: path itself); "" when missing. */
static const char *slurp(int n)
{
    static char buf[4096];
    char p[160];
    if (n == 0)
        snprintf(p, sizeof(p), "%s", path);
    else
        snprintf(p, sizeof(p), "%s.%d", path, n);
    buf[0] = '\0';
    FILE *f = fopen(p, "rb");
    if (!f)
        return buf;
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static bool exists(int n)
{
    char p[160];
    struct stat st;
    snprintf(p, sizeof(p), "%s.%d", path, n);
    return stat(p, &st) == 0;
}

static void put(struct up_logfile *lf, const char *line)
{
    up_logfile_write(lf, line, strlen(line));
}

/* 10-byte lines, max 25 bytes: two lines per file; the third rotates. */
static void test_rotates_and_keeps_three(void **state)
{
    (void)state;
    static struct up_logfile lf;
    assert_int_equal(up_logfile_open(&lf, path, 25), UP_OK);
    put(&lf, "line-0001\n");
    put(&lf, "line-0002\n");
    assert_string_equal(slurp(0), "line-0001\nline-0002\n");
    assert_false(exists(1));
    put(&lf, "line-0003\n"); /* 20 + 10 > 25: rotate first */
    assert_string_equal(slurp(0), "line-0003\n");
    assert_string_equal(slurp(1), "line-0001\nline-0002\n");
    for (int i = 4; i <= 12; i++) {
        char l[16];
        snprintf(l, sizeof(l), "line-%04d\n", i);
        put(&lf, l);
    }
    /* 12 lines, two per file: 11-12 current, 9-10 .1, 7-8 .2, 5-6 .3; 1-4 gone. */
    assert_string_equal(slurp(0), "line-0011\nline-0012\n");
    assert_string_equal(slurp(1), "line-0009\nline-0010\n");
    assert_string_equal(slurp(2), "line-0007\nline-0008\n");
    assert_string_equal(slurp(3), "line-0005\nline-0006\n");
    assert_false(exists(4));
    up_logfile_close(&lf);
}

/* An existing file counts: reopening a 20-byte file, the next line rotates. */
static void test_existing_size_counts(void **state)
{
    (void)state;
    static struct up_logfile lf;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old-00001\nold-00002\n", f);
    fclose(f);
    assert_int_equal(up_logfile_open(&lf, path, 25), UP_OK);
    put(&lf, "line-0001\n");
    assert_string_equal(slurp(0), "line-0001\n");
    assert_string_equal(slurp(1), "old-00001\nold-00002\n");
    up_logfile_close(&lf);
}

/* max 0 never rotates; a line longer than max goes whole into an empty
 * file (no endless rotation of empty files). */
static void test_never_and_long_line(void **state)
{
    (void)state;
    static struct up_logfile lf;
    assert_int_equal(up_logfile_open(&lf, path, 0), UP_OK);
    for (int i = 0; i < 50; i++)
        put(&lf, "0123456789\n");
    assert_int_equal(strlen(slurp(0)), 550);
    assert_false(exists(1));
    up_logfile_close(&lf);
    unlink(path);
    assert_int_equal(up_logfile_open(&lf, path, 5), UP_OK);
    put(&lf, "a line longer than five\n");
    assert_string_equal(slurp(0), "a line longer than five\n");
    assert_false(exists(1));
    put(&lf, "next\n");
    assert_string_equal(slurp(0), "next\n");
    assert_string_equal(slurp(1), "a line longer than five\n");
    up_logfile_close(&lf);
}

/* The rename fails (here: PATH.1 .. PATH.3 are non-empty directories, so
 * no rename or remove can replace them): lines keep going to the file, a
 * note says why, and the next try waits for another max_size bytes. */
static void test_rename_fails(void **state)
{
    (void)state;
    static struct up_logfile lf;
    char d[UP_LOGFILE_KEEP][160], inner[UP_LOGFILE_KEEP][200];
    for (int i = 0; i < UP_LOGFILE_KEEP; i++) {
        snprintf(d[i], sizeof(d[i]), "%s.%d", path, i + 1);
        snprintf(inner[i], sizeof(inner[i]), "%s.%d/x", path, i + 1);
        assert_int_equal(mkdir(d[i], 0700), 0);
        FILE *f = fopen(inner[i], "w");
        assert_non_null(f);
        fclose(f);
    }
    assert_int_equal(up_logfile_open(&lf, path, 25), UP_OK);
    put(&lf, "line-0001\n");
    put(&lf, "line-0002\n");
    put(&lf, "line-0003\n"); /* rotation fails */
    const char *s = slurp(0);
    assert_non_null(strstr(s, "line-0001\nline-0002\nlog file: cannot rotate "));
    assert_non_null(strstr(s, "line-0003\n"));
    assert_int_equal(lf.rotate_failures, 1);
    put(&lf, "line-0004\n"); /* 20 bytes since the failure: no new try yet */
    assert_int_equal(lf.rotate_failures, 1);
    put(&lf, "line-0005\n"); /* 30 > 25: tries again, fails again */
    assert_int_equal(lf.rotate_failures, 2);
    assert_non_null(strstr(slurp(0), "line-0005\n"));
    up_logfile_close(&lf);
    for (int i = 0; i < UP_LOGFILE_KEEP; i++) {
        unlink(inner[i]);
        rmdir(d[i]);
    }
}

/* up_logfile_rotate alone: missing middle files are no error; a missing
 * PATH is. */
static void test_rotate_names(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("cur\n", f);
    fclose(f);
    assert_int_equal(up_logfile_rotate(path, 3), UP_OK);
    assert_string_equal(slurp(1), "cur\n");
    assert_true(up_logfile_rotate(path, 3) != UP_OK); /* PATH is gone now */
    assert_string_equal(slurp(2), "cur\n");
    assert_int_equal(up_logfile_rotate(path, 0), UP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotates_and_keeps_three, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_size_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_and_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
