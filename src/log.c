/* log.c - leveled logging (see log.h). */
#include "log.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "platform.h"

/* Read on every log call from every thread, set at start-up: relaxed. */
static atomic_int cur_level = UP_LOG_INFO;
static atomic_int to_stderr = 1;
/* Set at start-up before threads exist, read afterwards. */
static FILE *log_file;
static void (*log_hook)(int, const char *);

static const char *const names[] = {"debug", "info", "warn", "error", "fatal"};

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

int up_log_set_file(const char *path)
{
    if (log_file) {
        fclose(log_file);
        log_file = NULL;
    }
    if (!path)
        return UP_OK;
    log_file = fopen(path, "a");
    if (!log_file)
        return up_last_error();
    return UP_OK;
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
    if (log_file) {
        fwrite(line, 1, len, log_file);
        fflush(log_file);
    }
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
