/* stats.c - the key=value stats line (see stats.h). */
#include "stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static size_t put(char *buf, size_t size, size_t off, const char *fmt, ...)
{
    if (off >= size)
        return off;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + off, size - off, fmt, ap);
    va_end(ap);
    if (n < 0)
        return off;
    off += (size_t)n;
    return off < size ? off : size - 1;
}

size_t up_stats_target_index(const struct up_stats *s, const char *name, size_t hint)
{
    if (hint < s->ntargets && strcmp(s->targets[hint].name, name) == 0)
        return hint;
    for (size_t i = 0; i < s->ntargets; i++)
        if (strcmp(s->targets[i].name, name) == 0)
            return i;
    return s->ntargets;
}

/* The same target in prev, or NULL. */
static const struct up_stats_target *match(const struct up_stats *prev, const char *name, size_t hint)
{
    size_t i = up_stats_target_index(prev, name, hint);
    return i < prev->ntargets ? &prev->targets[i] : NULL;
}

/* A difference of two readings of a counter that only grows. A smaller
 * current value means the counter started again (a target removed and
 * re-added under the same name between two snapshots): then everything
 * it holds is new. Never a wrapped 1.8e19. */
static unsigned long long delta(uint64_t cur, uint64_t prev)
{
    return (unsigned long long)(cur >= prev ? cur - prev : cur);
}

#define D(field) delta(cur->field, prev ? prev->field : 0)
#define DT(field) delta(t->field, p ? p->field : 0)

static size_t format_globals(const struct up_stats *cur, const struct up_stats *prev, char *buf, size_t size,
                             size_t off)
{
    off = put(buf, size, off, "received=%llu received_bytes=%llu oversize=%llu no_buffer=%llu kernel_drops=%llu",
              D(received), D(received_bytes), D(oversize), D(no_buffer), D(kernel_drops));
    if (cur->recv_errors)
        off = put(buf, size, off, " recv_errors=%llu", D(recv_errors));
    if (cur->not_allowed)
        off = put(buf, size, off, " not_allowed=%llu", D(not_allowed));
    return off;
}

static size_t format_target(const struct up_stats *cur, const struct up_stats *prev, size_t i, char *buf, size_t size,
                            size_t off)
{
    const struct up_stats_target *t = &cur->targets[i];
    const struct up_stats_target *p = prev ? match(prev, t->name, i) : NULL;
    off = put(buf, size, off,
              " target=%s sent=%llu sent_bytes=%llu dropped_queue_full=%llu dropped_send_error=%llu"
              " dropped_shutdown=%llu queue=%llu/%llu",
              t->name, DT(sent), DT(sent_bytes), DT(dropped_queue_full), DT(dropped_send_error), DT(dropped_shutdown),
              (unsigned long long)t->queue_depth, (unsigned long long)t->queue_capacity);
    if (t->resolve_failures)
        off = put(buf, size, off, " resolve_failures=%llu", DT(resolve_failures));
    if (t->shaped)
        off = put(buf, size, off, " sent_packets=%llu", DT(sent_packets));
    return off;
}

size_t up_stats_format_delta(const struct up_stats *cur, const struct up_stats *prev, char *buf, size_t size)
{
    size_t off = 0;
    if (size == 0)
        return 0;
    buf[0] = '\0';
    off = format_globals(cur, prev, buf, size, off);
    for (size_t i = 0; i < cur->ntargets; i++)
        off = format_target(cur, prev, i, buf, size, off);
    return off;
}

size_t up_stats_format_part(const struct up_stats *cur, const struct up_stats *prev, size_t *next, char *buf,
                            size_t size)
{
    char one[UP_STATS_TARGET_TEXT_MAX + 1];
    size_t off = 0;
    if (size == 0)
        return 0;
    buf[0] = '\0';
    if (*next == 0)
        off = format_globals(cur, prev, buf, size, off);
    size_t first = *next;
    while (*next < cur->ntargets) {
        size_t n = format_target(cur, prev, *next, one, sizeof(one), 0);
        /* Whole entries only; the first one of a part always goes in. */
        if (off + n >= size && !(*next == first && off == 0))
            break;
        off = put(buf, size, off, "%s", one);
        (*next)++;
    }
    return off;
}

size_t up_stats_format_lines(const struct up_stats *cur, const struct up_stats *prev, size_t i, char *buf, size_t size)
{
    const struct up_stats_target *t = &cur->targets[i];
    const struct up_stats_target *p = prev ? match(prev, t->name, i) : NULL;
    size_t off = 0;
    if (size == 0)
        return 0;
    buf[0] = '\0';
    if (!t->shaped)
        return 0;
    off = put(buf, size, off, "target=%s", t->name);
    if (t->shaped == 2)
        off = put(buf, size, off, " lines_in=%llu lines_out=%llu", DT(lines_in), DT(lines_out));
    /* Each reason and rule seen so far (packing alone can only drop oversize lines). */
    for (int k = 0; k < UP_DROP_COUNT; k++)
        if (t->lines_dropped[k] || (t->shaped == 1 && k == UP_DROP_OVERSIZE))
            off = put(buf, size, off, " lines_dropped_%s=%llu", up_shape_drop_names[k], DT(lines_dropped[k]));
    for (int k = 0; k < UP_RULE_COUNT; k++)
        if (t->lines_rewritten[k])
            off = put(buf, size, off, " lines_rewritten_%s=%llu", up_shape_rule_names[k], DT(lines_rewritten[k]));
    return off;
}
