/*
 * target_opts.h - the per-target options of --target ADDR[,OPTION=VALUE...]
 * (issue 11), parsed apart from the address.
 *
 * Where the options start: at the first ',' of a network address (host
 * names, IP literals and ports never hold one); in a unix:/path address at
 * the first ',' followed by a known option name and '=' (so a path with a
 * comma keeps working). Options: name=LABEL, dialect=raw|otel,
 * max-datagram=BYTES (0, or 512..65507), container-id=strip|keep,
 * timestamp=strip|keep, bare-tags=true|drop|keep, d-as-h=false|true (these
 * four need dialect=otel).
 * Pure: no I/O, fuzzed through up_options_parse (fuzz_options).
 */
#ifndef UP_TARGET_OPTS_H
#define UP_TARGET_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "shape.h"

#define UP_LABEL_MAX 128 /* longest name=LABEL, with NUL */

struct up_target_opts {
    char name[UP_LABEL_MAX];    /* name=LABEL; "" = the address as written */
    struct up_shape_opts shape; /* dialect, max-datagram and the otel choices */
};

/* Split spec "ADDR[,OPTION=VALUE...]": the address into addr[0..addrlen),
 * the options into *to (defaults first). Returns 0, or -1 with a message
 * naming the option in err (unknown option, bad value, given twice, or an
 * address too long). */
int up_target_opts_parse(const char *spec, char *addr, size_t addrlen, struct up_target_opts *to, char *err,
                         size_t errlen);

/* The same options (a reload keeps a target only when they are). */
bool up_target_opts_equal(const struct up_target_opts *a, const struct up_target_opts *b);

/* The target needs its writer to shape or pack (no zero-copy path). */
bool up_target_opts_shaped(const struct up_target_opts *to);

/* Write the options back as ",a=b,c=d" (only those not at their default)
 * into buf; "" when none. For logs. */
void up_target_opts_format(const struct up_target_opts *to, char *buf, size_t size);

#endif
