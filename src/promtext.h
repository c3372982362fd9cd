/*
 * promtext.h - a parser of the Prometheus text exposition format 0.0.4
 * (what /metrics serves), for `udp-proxy stats`.
 *
 * One line at a time: "# ..." comments (HELP, TYPE) and blank lines are
 * skipped; a sample is
 *
 *   name [ "{" label="value" { "," label="value" } [ "," ] "}" ] value [ timestamp ]
 *
 * with blanks (space, tab) allowed between the parts, label values escaped
 * with \\, \" and \n, and values as floats ("NaN", "+Inf", "-Inf" too).
 * Lines end in LF (a CR before it is allowed). The parser reads only
 * text[0..len), allocates nothing, and hands each sample to a callback.
 */
#ifndef UP_PROMTEXT_H
#define UP_PROMTEXT_H

#include <stddef.h>

#define UP_PROM_LABELS_MAX 16    /* labels on one sample */
#define UP_PROM_VALUES_ROOM 4096 /* bytes of all unescaped label values of one sample */

struct up_prom_label {
    const char *name; /* points into the text; not NUL-terminated */
    size_t name_len;
    const char *value; /* unescaped, NUL-terminated, in the sample's own room */
    size_t value_len;
};

/* One sample; valid only during the callback. */
struct up_prom_sample {
    const char *name; /* points into the text; not NUL-terminated */
    size_t name_len;
    struct up_prom_label labels[UP_PROM_LABELS_MAX];
    size_t nlabels;
    double value;
    char room[UP_PROM_VALUES_ROOM]; /* holds the label values */
};

/* Called for each sample in order; return 0 to go on, anything else stops
 * the parse and up_prom_parse() returns it. */
typedef int (*up_prom_fn)(void *ctx, const struct up_prom_sample *s);

/* Parse text[0..len) (need not end in NUL). `scratch` is the caller's
 * space for one sample (large: keep it off small stacks). Returns UP_OK
 * once every line is parsed, UP_EINVAL with "line N: reason" in err for a
 * malformed line, or what the callback returned. */
int up_prom_parse(const char *text, size_t len, struct up_prom_sample *scratch, up_prom_fn fn, void *ctx, char *err,
                  size_t errlen);

/* True when the name of s is `name` (NUL-terminated). */
int up_prom_name_is(const struct up_prom_sample *s, const char *name);

/* The value of label `name` on s, or NULL when s has none. */
const char *up_prom_label(const struct up_prom_sample *s, const char *name);

#endif
