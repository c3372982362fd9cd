/*
 * log.h - leveled, thread-safe logging with rate limiting.
 *
 * One line per message, written with a single call so lines from several
 * threads never interleave. Per-datagram events never log directly: they go
 * through a rate limiter (at most one line per second per limiter, with the
 * count of the ones held back).
 */
#ifndef UP_LOG_H
#define UP_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum up_log_level { UP_LOG_DEBUG = 0, UP_LOG_INFO, UP_LOG_WARN, UP_LOG_ERROR, UP_LOG_FATAL };

/* Parse a level name as logrus does, in any case ("Info", "WARN"):
 * trace, debug -> UP_LOG_DEBUG; info -> UP_LOG_INFO; warn, warning ->
 * UP_LOG_WARN; error -> UP_LOG_ERROR; fatal, panic -> UP_LOG_FATAL.
 * Returns the level or UP_EINVAL. */
int up_log_level_parse(const char *s);
const char *up_log_level_name(int level);

void up_log_set_level(int level);
int up_log_get_level(void);

/* Also append log lines to `path` (kept open; up_log_reopen() opens it
 * again). NULL: stop. Returns UP_OK or the open error (then the previous
 * file stays). */
int up_log_set_file(const char *path);
/* --log-max-size: rotate the log file past `bytes` (0 = never; logfile.h).
 * Takes effect at the next up_log_set_file(). */
void up_log_set_max_size(uint64_t bytes);
/* Close and open again the file given to up_log_set_file() (log rotation:
 * SIGUSR1, reload). Thread-safe. On failure the old file stays in use and
 * the open error is returned; UP_OK when there is no log file. */
int up_log_reopen(void);
/* Standard error is systemd's journal (see up_notify_journal_stderr()):
 * lines there carry a syslog priority prefix "<N>" instead of a timestamp,
 * so `journalctl -p warning` finds warnings. The log file is unchanged. */
void up_log_set_journal(int on);
/* Whether lines also go to standard error (default yes). */
void up_log_set_stderr(int on);
/* Extra sink for each line (the Windows event log); NULL for none. */
void up_log_set_hook(void (*hook)(int level, const char *line));

#if defined(__MINGW32__)
/* mingw: "printf" would mean the old msvcrt dialect (no %zu); the build uses
 * mingw's C99 printf (__USE_MINGW_ANSI_STDIO, cmake/mingw-common.cmake). */
#define UP_PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__)
#define UP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define UP_PRINTF(a, b)
#endif

void up_log(int level, const char *fmt, ...) UP_PRINTF(2, 3);
void up_logv(int level, const char *fmt, va_list ap);

#define up_log_enabled(level) ((level) >= up_log_get_level())

/* A limiter owned by one thread (no locking). */
struct up_ratelimit {
    uint64_t next_ns;    /* earliest time of the next line */
    uint64_t suppressed; /* lines held back since the last one */
};

/* Log at most once a second per limiter; says how many were held back. */
void up_log_limited(struct up_ratelimit *rl, int level, const char *fmt, ...) UP_PRINTF(3, 4);

/* True when up_log_limited(rl, level, ...) would write a line now (not held
 * back, level enabled): lets a caller format costly details, such as an
 * address, only for the lines that are written. Changes nothing. */
bool up_log_limited_due(const struct up_ratelimit *rl, int level);

#endif
