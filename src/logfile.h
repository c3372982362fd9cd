/*
 * logfile.h - the --log-file: append, and rotate by size (--log-max-size).
 *
 * Windows has no logrotate, and a service's log file would grow without
 * limit. With a maximum size, a line that would take the file past it first
 * rotates: PATH.2 -> PATH.3, PATH.1 -> PATH.2, PATH -> PATH.1 (the oldest,
 * PATH.3, is removed), then a new PATH is opened. Works the same on Linux.
 *
 * Any thread may write a line; a spin lock (an atomic_flag) serialises the
 * writes with a rotation. Log lines are rare (rate-limited on the packet
 * path), so the lock is never contended for long.
 */
#ifndef UP_LOGFILE_H
#define UP_LOGFILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "options.h"

#define UP_LOGFILE_KEEP 3 /* rotated files kept: PATH.1 (newest) .. PATH.3 */

struct up_logfile {
    FILE *f;                  /* NULL: closed (writes are dropped) */
    char path[UP_PATH_MAX];   /* the file being written */
    uint64_t max_size;        /* rotate before passing this many bytes; 0 = never */
    uint64_t size;            /* bytes in the file now, counted from base */
    uint64_t base;            /* 0; after a failed rotation, the size the file had then */
    atomic_flag lock;         /* held while writing or rotating */
    unsigned rotate_failures; /* rotations that could not rename (file held open elsewhere) */
};

/* Open path for appending (created if missing) with max_size (0 = never
 * rotate); closes what lf had open first. lf must be zeroed before its first
 * use (static storage is). Returns UP_OK or the error of fopen. */
int up_logfile_open(struct up_logfile *lf, const char *path, uint64_t max_size);

/* Close the file (safe when closed). */
void up_logfile_close(struct up_logfile *lf);

/* Append line[0..len) and flush; rotates first when the line would take the
 * file past max_size (a file that is still empty never rotates). If the
 * rename fails (Windows: another process holds the file without sharing
 * delete), the line goes to the old file, a note says so, and the next
 * rotation is tried after another max_size bytes. */
void up_logfile_write(struct up_logfile *lf, const char *line, size_t len);

/* Shift the rotated files of path by one (PATH.keep-1 -> PATH.keep ...
 * PATH -> PATH.1), removing PATH.keep first. The file must be closed.
 * Returns UP_OK, or the error of the last rename (PATH -> PATH.1). */
int up_logfile_rotate(const char *path, int keep);

#endif
