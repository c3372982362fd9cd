/* logfile.c - the --log-file, rotated by size (see logfile.h). */
#include "logfile.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "platform.h"

static void take(struct up_logfile *lf)
{
    /* Acquire: the file state written by the last holder is visible. */
    while (atomic_flag_test_and_set_explicit(&lf->lock, memory_order_acquire))
        up_sleep_ms(0);
}

static void give(struct up_logfile *lf)
{
    atomic_flag_clear_explicit(&lf->lock, memory_order_release);
}

/* The current size of an open file (its end), or 0 when unknown. */
static uint64_t file_size(FILE *f)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return 0;
    long n = ftell(f);
    return n > 0 ? (uint64_t)n : 0;
}

int up_logfile_rotate(const char *path, int keep)
{
    char from[UP_PATH_MAX + 16], to[UP_PATH_MAX + 16];
    int r = UP_OK;
    if (keep < 1)
        return UP_EINVAL;
    snprintf(to, sizeof(to), "%s.%d", path, keep);
    remove(to); /* Windows' rename() never replaces a file */
    for (int i = keep - 1; i >= 0; i--) {
        if (i == 0)
            snprintf(from, sizeof(from), "%s", path);
        else
            snprintf(from, sizeof(from), "%s.%d", path, i);
        snprintf(to, sizeof(to), "%s.%d", path, i + 1);
        if (rename(from, to) != 0)
            r = i == 0 ? up_last_error() : UP_OK; /* a gap in .1 .. .keep-1 is no error */
    }
    return r;
}

static int open_append(struct up_logfile *lf)
{
    lf->f = fopen(lf->path, "a");
    if (!lf->f)
        return up_last_error();
    lf->size = file_size(lf->f);
    lf->base = 0;
    return UP_OK;
}

int up_logfile_open(struct up_logfile *lf, const char *path, uint64_t max_size)
{
    take(lf);
    if (lf->f)
        fclose(lf->f);
    lf->f = NULL;
    snprintf(lf->path, sizeof(lf->path), "%s", path);
    lf->max_size = max_size;
    lf->rotate_failures = 0;
    int r = open_append(lf);
    give(lf);
    return r;
}

void up_logfile_close(struct up_logfile *lf)
{
    take(lf);
    if (lf->f)
        fclose(lf->f);
    lf->f = NULL;
    give(lf);
}

/* Called with the lock held and lf->f open. */
static void rotate(struct up_logfile *lf)
{
    fclose(lf->f);
    lf->f = NULL;
    int r = up_logfile_rotate(lf->path, UP_LOGFILE_KEEP);
    if (open_append(lf) != UP_OK)
        return; /* cannot reopen: log lines go to stderr / the event log only */
    if (r != UP_OK) {
        lf->rotate_failures++;
        fprintf(lf->f, "log file: cannot rotate %s: %s; writing on, next try after --log-max-size more bytes\n",
                lf->path, up_strerror(r));
        lf->base = file_size(lf->f); /* the next try comes after max_size more bytes */
        lf->size = 0;
    }
}

void up_logfile_write(struct up_logfile *lf, const char *line, size_t len)
{
    take(lf);
    if (lf->f) {
        if (lf->max_size && lf->size > 0 && lf->size + len > lf->max_size)
            rotate(lf);
        if (lf->f) {
            fwrite(line, 1, len, lf->f);
            fflush(lf->f);
            long n = ftell(lf->f); /* counts the CR that Windows' text mode adds */
            lf->size = n > 0 && (uint64_t)n >= lf->base ? (uint64_t)n - lf->base : lf->size + len;
        }
    }
    give(lf);
}
