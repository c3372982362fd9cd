/* log.c - leveled logging (see log.h). */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "logfile.h"
#include "platform.h"

/* Read on every log call from every thread, set at start-up: relaxed. */
static atomic_int cur_level = UP_LOG_INFO;
static atomic_int to_stderr = 1;
/* Set at start-up before threads exist, read afterwards. */
static uint64_t log_max_size;
static void (*log_hook)(int, const char *);
/* --log-file, rotated past log_max_size; it has a lock of its own (logfile.h). */
static struct up_logfile log_file;

static const char *const names[] = {"debug", "info", "warn", "error", "fatal"};

int up_log_level_parse(const char *s)
{
    for (int i = 0; i <= UP_LOG_FATAL; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
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

int up_log_set_file(const char *path)
{
    up_logfile_close(&log_file);
    if (!path)
        return UP_OK;
    return up_logfile_open(&log_file, path, log_max_size);
}

void up_log_set_max_size(uint64_t bytes)
{
    log_max_size = bytes;
}

void up_log_set_stderr(int on)
{
    atomic_store_explicit(&to_stderr, on, memory_order_relaxed);
}

void up_log_set_hook(void (*hook)(int level, const char *line))
{
    log_hook = hook;
}

void up_logv(int level, const char *fmt, va_list ap)
{
    char line[1024];
    if (level < up_log_get_level())
        return;
    double now = up_wall_time();
    time_t secs = (time_t)now;
    struct tm tm;
#ifdef _WIN32
    gmtime_s(&tm, &secs);
#else
    gmtime_r(&secs, &tm);
#endif
    int n =
        snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((now - (double)secs) * 1000) % 1000, names[level]);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    line[len] = '\0';
    if (atomic_load_explicit(&to_stderr, memory_order_relaxed)) {
        fwrite(line, 1, len, stderr); /* one call: stdio locks the stream */
        fflush(stderr);               /* the Windows C runtime buffers stderr when it is a file or pipe */
    }
    up_logfile_write(&log_file, line, len);
    if (log_hook)
        log_hook(level, line);
}

void up_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    up_logv(level, fmt, ap);
    va_end(ap);
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
