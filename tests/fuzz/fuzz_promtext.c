/*
 * fuzz_promtext.c - libFuzzer target for the Prometheus text parser of
 * `udp-proxy stats` (src/promtext.c).
 *
 * Checks on every input: the parser reads only the given bytes (the input
 * is copied to an exactly sized heap block: ASan sees any overread), the
 * result is UP_OK or UP_EINVAL, every name points inside the input, every
 * label value is NUL-terminated at its length inside the sample's room, and
 * parsing is deterministic (same result and sample count twice).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
    const char *buf;
    size_t size;
    size_t count;
};

static int check(void *p, const struct up_prom_sample *s)
{
    struct ctx *c = p;
    if (s->name_len == 0 || s->name < c->buf || s->name + s->name_len > c->buf + c->size)
        abort();
    if (s->nlabels > UP_PROM_LABELS_MAX)
        abort();
    for (size_t i = 0; i < s->nlabels; i++) {
        const struct up_prom_label *l = &s->labels[i];
        if (l->name_len == 0 || l->name < c->buf || l->name + l->name_len > c->buf + c->size)
            abort();
        if (l->value < s->room || l->value + l->value_len >= s->room + UP_PROM_VALUES_ROOM)
            abort();
        if (l->value[l->value_len] != '\0')
            abort();
    }
    c->count++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct up_prom_sample scratch;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    char err[160];
    struct ctx a = {buf, size, 0}, b = {buf, size, 0};
    int r = up_prom_parse(buf, size, &scratch, check, &a, err, sizeof(err));
    if (r != UP_OK && r != UP_EINVAL)
        abort();
    if (r == UP_EINVAL && strncmp(err, "line ", 5) != 0)
        abort();
    if (up_prom_parse(buf, size, &scratch, check, &b, err, sizeof(err)) != r || a.count != b.count)
        abort();
    free(buf);
    return 0;
}
