/*
 * test_log.c - unit tests of log.c: level names (logrus's, any case), the
 * log file reopened after a rename (log rotation), lines written by several
 * threads while the file is reopened (whole lines, none lost), and the
 * journald form of standard error ("<N>" priority, no timestamp) next to
 * the file's timestamped form. Also up_strerror() for system errors, and
 * up_log_limited_due() (would a rate-limited line be written now?).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "platform.h"

static char dir[64];

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* The whole file, NUL-terminated (static buffer). */
static const char *slurp(const char *path)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_levels(void **state)
{
    (void)state;
    assert_int_equal(up_log_level_parse("trace"), UP_LOG_DEBUG);
    assert_int_equal(up_log_level_parse("Info"), UP_LOG_INFO);
    assert_int_equal(up_log_level_parse("WARNING"), UP_LOG_WARN);
    assert_int_equal(up_log_level_parse("wArN"), UP_LOG_WARN);
    assert_int_equal(up_log_level_parse("Panic"), UP_LOG_FATAL);
    assert_int_equal(up_log_level_parse("fatal"), UP_LOG_FATAL);
    assert_int_equal(up_log_level_parse("ERROR"), UP_LOG_ERROR);
    assert_int_equal(up_log_level_parse("err"), UP_EINVAL);
    assert_int_equal(up_log_level_parse(""), UP_EINVAL);
    assert_string_equal(up_log_level_name(UP_LOG_WARN), "warn");
}

static void test_reopen_after_rename(void **state)
{
    char a[128], a1[128];
    (void)state;
    path_of(a, sizeof(a), "a.log");
    path_of(a1, sizeof(a1), "a.log.1");
    up_log_set_stderr(0);
    assert_int_equal(up_log_set_file(a), UP_OK);
    up_log(UP_LOG_INFO, "before rotation");
    assert_int_equal(rename(a, a1), 0);
    up_log(UP_LOG_INFO, "still the old file");
    assert_int_equal(up_log_reopen(), UP_OK);
    up_log(UP_LOG_INFO, "after rotation");
    const char *t = slurp(a1);
    assert_non_null(t);
    assert_non_null(strstr(t, "before rotation"));
    assert_non_null(strstr(t, "still the old file"));
    assert_null(strstr(t, "after rotation"));
    t = slurp(a);
    assert_non_null(t); /* created again at the same path */
    assert_non_null(strstr(t, "info  after rotation\n"));
    assert_null(strstr(t, "before"));
    /* The new file cannot be created: the old one stays in use. */
    char gone[128];
    path_of(gone, sizeof(gone), "sub");
    assert_int_equal(mkdir(gone, 0700), 0);
    path_of(gone, sizeof(gone), "sub/b.log");
    assert_int_equal(up_log_set_file(gone), UP_OK);
    path_of(a1, sizeof(a1), "sub");
    char moved[128];
    path_of(moved, sizeof(moved), "sub.moved");
    assert_int_equal(rename(a1, moved), 0); /* sub/ is gone: reopening sub/b.log fails */
    assert_int_equal(up_log_reopen(), UP_ENOENT);
    up_log(UP_LOG_WARN, "kept the old file");
    path_of(moved, sizeof(moved), "sub.moved/b.log");
    assert_non_null(strstr(slurp(moved), "kept the old file"));
    assert_int_equal(up_log_set_file(NULL), UP_OK);
    assert_int_equal(up_log_reopen(), UP_OK); /* no file: nothing to do */
    up_log_set_stderr(1);
}

/* Threads log while the main thread renames and reopens the file. */
#define WRITERS 4
#define LINES 3000

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < LINES; i++)
        up_log(UP_LOG_INFO, "writer %d line %d end", id, i);
    return NULL;
}

static void test_reopen_under_load(void **state)
{
    char a[128], old[160];
    pthread_t t[WRITERS];
    (void)state;
    path_of(a, sizeof(a), "load.log");
    up_log_set_stderr(0);
    assert_int_equal(up_log_set_file(a), UP_OK);
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
    int rotations = 0;
    for (; rotations < 20; rotations++) {
        snprintf(old, sizeof(old), "%s.%d", a, rotations);
        assert_int_equal(rename(a, old), 0);
        assert_int_equal(up_log_reopen(), UP_OK);
        usleep(1000);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(up_log_set_file(NULL), UP_OK);
    up_log_set_stderr(1);
    /* Every line is somewhere, whole, exactly once. */
    size_t lines = 0, ends = 0;
    for (int r = 0; r <= rotations; r++) {
        if (r < rotations)
            snprintf(old, sizeof(old), "%s.%d", a, r);
        else
            snprintf(old, sizeof(old), "%s", a);
        const char *text = slurp(old);
        assert_non_null(text);
        lines += count(text, "\n");
        ends += count(text, " end\n");
    }
    assert_int_equal(lines, WRITERS * LINES);
    assert_int_equal(ends, WRITERS * LINES);
}

/* Standard error for journald: "<N>level message", no timestamp; the file
 * keeps the timestamped form. */
static void test_journal_form(void **state)
{
    char f[128], e[128];
    (void)state;
    path_of(f, sizeof(f), "j.log");
    path_of(e, sizeof(e), "stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    assert_int_equal(up_log_set_file(f), UP_OK);
    up_log_set_level(UP_LOG_DEBUG);
    up_log_set_journal(1);
    up_log(UP_LOG_DEBUG, "d");
    up_log(UP_LOG_INFO, "i");
    up_log(UP_LOG_WARN, "w %d", 4);
    up_log(UP_LOG_ERROR, "e");
    up_log(UP_LOG_FATAL, "f");
    up_log_set_journal(0);
    up_log(UP_LOG_WARN, "plain again");
    up_log_set_level(UP_LOG_INFO);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(up_log_set_file(NULL), UP_OK);
    const char *t = slurp(e);
    assert_non_null(t);
    const char *want = "<7>debug d\n<6>info  i\n<4>warn  w 4\n<3>error e\n<2>fatal f\n";
    if (strncmp(t, want, strlen(want)) != 0)
        fail_msg("stderr was:\n%s\nwant:\n%s", t, want);
    const char *plain = t + strlen(want);
    assert_true(plain[0] >= '2' && plain[0] <= '9'); /* a timestamp, no "<" */
    assert_non_null(strstr(plain, "Z warn  plain again\n"));
    t = slurp(f);
    assert_non_null(t);
    assert_null(strchr(t, '<'));
    assert_int_equal(count(t, "Z "), 6);
}

static void test_system_error_text(void **state)
{
    (void)state;
    assert_string_equal(up_strerror(up_error_from_sys(EISDIR)), "Is a directory");
    assert_string_equal(up_strerror(up_error_from_sys(EROFS)), "Read-only file system");
    assert_string_equal(up_strerror(up_error_from_sys(ENOTDIR)), "Not a directory");
    assert_string_equal(up_strerror(up_error_from_sys(ENOSPC)), "No space left on device");
    assert_int_equal(up_error_from_sys(EMFILE), UP_EMFILE);
    /* No catch-all: an errno without its own code keeps the system's text. */
    int r = up_error_from_sys(ESTALE);
    assert_int_equal(r, UP_ESYS);
    assert_string_equal(up_strerror(r), strerror(ESTALE));
    assert_string_equal(up_strerror(up_error_from_sys(EXDEV)), strerror(EXDEV));
}

/* up_log_limited_due says whether up_log_limited would write now: the
 * reader formats a sender's address only then. */
static void test_limited_due(void **state)
{
    (void)state;
    struct up_ratelimit rl = {0};
    int old = up_log_get_level();
    up_log_set_level(UP_LOG_WARN);
    assert_false(up_log_limited_due(&rl, UP_LOG_INFO)); /* level off */
    assert_true(up_log_limited_due(&rl, UP_LOG_WARN));
    up_log_limited(&rl, UP_LOG_WARN, "first");
    assert_false(up_log_limited_due(&rl, UP_LOG_WARN)); /* within the second */
    assert_int_equal(rl.suppressed, 0);                 /* asking held nothing back */
    rl.next_ns = 0;                                     /* the second has passed */
    assert_true(up_log_limited_due(&rl, UP_LOG_WARN));
    up_log_set_level(old);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/up-test-log-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_reopen_after_rename),
        cmocka_unit_test(test_reopen_under_load),
        cmocka_unit_test(test_journal_form),
        cmocka_unit_test(test_system_error_text),
        cmocka_unit_test(test_limited_due),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return r;
}
