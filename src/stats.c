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

#define D(field) ((unsigned long long)(cur->field - (prev ? prev->field : 0)))
/* A target replaced on reload (its options changed) starts from zero. */
#define DT(field) ((unsigned long long)(p && t->field >= p->field ? t->field - p->field : t->field))

size_t up_stats_format_delta(const struct up_stats *cur, const struct up_stats *prev, char *buf, size_t size)
{
    size_t off = 0;
    if (size == 0)
        return 0;
    buf[0] = '\0';
    off = put(buf, size, off, "received=%llu received_bytes=%llu oversize=%llu no_buffer=%llu kernel_drops=%llu",
              D(received), D(received_bytes), D(oversize), D(no_buffer), D(kernel_drops));
    if (cur->recv_errors)
        off = put(buf, size, off, " recv_errors=%llu", D(recv_errors));
    if (cur->not_allowed)
        off = put(buf, size, off, " not_allowed=%llu", D(not_allowed));
    for (size_t i = 0; i < cur->ntargets; i++) {
        const struct up_stats_target *t = &cur->targets[i];
        const struct up_stats_target *p = prev ? match(prev, t->name, i) : NULL;
        off = put(buf, size, off,
                  " target=%s sent=%llu sent_bytes=%llu dropped_queue_full=%llu dropped_send_error=%llu"
                  " dropped_shutdown=%llu queue=%llu/%llu",
                  t->name, DT(sent), DT(sent_bytes), DT(dropped_queue_full), DT(dropped_send_error),
                  DT(dropped_shutdown), (unsigned long long)t->queue_depth, (unsigned long long)t->queue_capacity);
        if (t->resolve_failures)
            off = put(buf, size, off, " resolve_failures=%llu", DT(resolve_failures));
        if (t->shaped)
            off = put(buf, size, off, " sent_packets=%llu", DT(sent_packets));
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
