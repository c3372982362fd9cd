/* log.c - leveled logging (see log.h). */
#include "log.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "logfile.h"
#include "platform.h"

/* Read on every log call from every thread, set at start-up: relaxed. */
static atomic_int cur_level = UP_LOG_INFO;
static atomic_int to_stderr = 1;
static atomic_int journal; /* stderr is systemd's journal: "<N>" prefixes, no timestamp */
/* Set at start-up before threads exist, read afterwards. */
static void (*log_hook)(int, const char *);

/* The log file can be reopened (SIGUSR1, reload) while other threads log:
 * the file and its path are used only under this lock. Log lines are rare
 * (never per datagram: rate-limited), so the lock is never contended long. */
#ifdef _WIN32
static SRWLOCK file_lock = SRWLOCK_INIT;
static void lock(void)
{
    AcquireSRWLockExclusive(&file_lock);
}
static void unlock(void)
{
    ReleaseSRWLockExclusive(&file_lock);
}
#else
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static void lock(void)
{
    pthread_mutex_lock(&file_lock);
}
static void unlock(void)
{
    pthread_mutex_unlock(&file_lock);
}
#endif
/* --log-file, rotated past log_max_size (logfile.h); under file_lock. */
static struct up_logfile log_file;
static char log_path[1024];   /* under file_lock; "" = no file */
static uint64_t log_max_size; /* --log-max-size; set at start-up */

static const char *const names[] = {"debug", "info", "warn", "error", "fatal"};
/* syslog(3) priorities, as journald reads them from a "<N>" prefix. */
static const char prio[] = {'7', '6', '4', '3', '2'};

/* Every name logrus (the Go tool's logger) accepts, and the level it maps
 * to here: trace is debug (there is nothing finer), panic is fatal. */
static const struct {
    const char *name;
    int level;
} aliases[] = {
    {"trace", UP_LOG_DEBUG},  {"debug", UP_LOG_DEBUG}, {"info", UP_LOG_INFO},   {"warn", UP_LOG_WARN},
    {"warning", UP_LOG_WARN}, {"error", UP_LOG_ERROR}, {"fatal", UP_LOG_FATAL}, {"panic", UP_LOG_FATAL},
};

/* ASCII case-insensitive equality (no locale). */
static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b)
            return false;
    }
    return *a == *b;
}

int up_log_level_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (same_name(s, aliases[i].name))
            return aliases[i].level;
    return UP_EINVAL;
}

const char *up_log_level_name(int level)
{
    return level >= 0 && level <= UP_LOG_FATAL ? names[level] : "?";
}

void up_log_set_level(int level)
{
    atomic_store_explicit(&cur_level, level, memory_order_relaxed);
}

int up_log_get_level(void)
{
    return atomic_load_explicit(&cur_level, memory_order_relaxed);
}

/* Open path under the lock, after a trial open outside it: on failure the
 * previous file stays in use (the caller logs why). */
static int open_file(const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return up_last_error();
    fclose(f);
    lock();
    int r = up_logfile_open(&log_file, path, log_max_size);
    unlock();
    return r;
}

int up_log_set_file(const char *path)
{
    if (path && strlen(path) >= sizeof(log_path))
        return UP_ENAMETOOLONG;
    if (path) {
        int r = open_file(path);
        if (r != UP_OK)
            return r;
    } else {
        lock();
        up_logfile_close(&log_file);
        unlock();
    }
    lock();
    snprintf(log_path, sizeof(log_path), "%s", path ? path : "");
    unlock();
    return UP_OK;
}

void up_log_set_max_size(uint64_t bytes)
{
    log_max_size = bytes;
}

int up_log_reopen(void)
{
    char path[sizeof(log_path)];
    lock();
    snprintf(path, sizeof(path), "%s", log_path);
    unlock();
    if (!path[0])
        return UP_OK;
    return open_file(path);
}

void up_log_set_journal(int on)
{
    atomic_store_explicit(&journal, on, memory_order_relaxed);
}

void up_log_set_stderr(int on)
{
    atomic_store_explicit(&to_stderr, on, memory_order_relaxed);
}

void up_log_set_hook(void (*hook)(int level, const char *line))
{
    log_hook = hook;
}

/* Room for "<N>" before the timestamp, which has a fixed width. */
#define PRIO_LEN 3
#define STAMP_LEN 25 /* "2026-12-01T08:00:03.123Z " */

void up_logv(int level, const char *fmt, va_list ap)
{
    char buf[PRIO_LEN + 1024];
    char *line = buf + PRIO_LEN; /* the timestamped line */
    const size_t cap = sizeof(buf) - PRIO_LEN;
    if (level < up_log_get_level())
        return;
    if (level < UP_LOG_DEBUG || level > UP_LOG_FATAL)
        level = UP_LOG_ERROR;
    double now = up_wall_time();
    time_t secs = (time_t)now;
    struct tm tm;
#ifdef _WIN32
    gmtime_s(&tm, &secs);
#else
    gmtime_r(&secs, &tm);
#endif
    int n =
        snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((now - (double)secs) * 1000) % 1000, names[level]);
    int m = vsnprintf(line + n, cap - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > cap - 2)
        len = cap - 2;
    line[len++] = '\n';
    line[len] = '\0';
    bool jr = atomic_load_explicit(&journal, memory_order_relaxed) != 0 && n == STAMP_LEN + 6;
    lock();
    up_logfile_write(&log_file, line, len);
    if (log_hook)
        log_hook(level, line);
    if (atomic_load_explicit(&to_stderr, memory_order_relaxed)) {
        if (jr) {
            /* journald: the priority replaces our timestamp (it keeps its own). */
            char *j = line + STAMP_LEN - PRIO_LEN;
            j[0] = '<', j[1] = prio[level], j[2] = '>';
            fwrite(j, 1, len - (STAMP_LEN - PRIO_LEN), stderr);
        } else {
            fwrite(line, 1, len, stderr);
        }
        fflush(stderr); /* the Windows C runtime buffers stderr when it is a file or pipe */
    }
    unlock();
}

void up_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    up_logv(level, fmt, ap);
    va_end(ap);
}

bool up_log_limited_due(const struct up_ratelimit *rl, int level)
{
    return level >= up_log_get_level() && up_now_ns() >= rl->next_ns;
}

void up_log_limited(struct up_ratelimit *rl, int level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    if (level < up_log_get_level())
        return;
    uint64_t now = up_now_ns();
    if (now < rl->next_ns) {
        rl->suppressed++;
        return;
    }
    rl->next_ns = now + 1000000000u;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (rl->suppressed)
        up_log(level, "%s (%llu similar messages suppressed)", msg, (unsigned long long)rl->suppressed);
    else
        up_log(level, "%s", msg);
    rl->suppressed = 0;
}
