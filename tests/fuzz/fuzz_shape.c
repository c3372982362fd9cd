/*
 * fuzz_shape.c - libFuzzer target for the shaper and the packer (shape.c).
 *
 * Input: byte 0 picks the options (bare-tags, container-id, timestamp,
 * d-as-h), byte 1 the output room and the packing size; the rest is one
 * datagram, in a heap buffer of exactly its size (ASan catches any read
 * past it), shaped into a heap buffer of exactly the output room. Checked,
 * besides not crashing:
 *   - the output fits the room and passes the grammar checker written from
 *     issue 11's table (tests/unit/shape_grammar.c);
 *   - every input line is accounted: dropped (one reason) or written;
 *   - packed datagrams lie inside the arena, are at most max bytes unless
 *     they hold one line, and hold exactly the bytes given (lines in order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"
#include "shape_grammar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_shape: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t arena[1 << 18];
    static struct up_pack_out outs[512];
    char why[512];
    if (size < 2)
        return 0;
    struct up_shape_opts o = {0};
    o.dialect = UP_DIALECT_OTEL;
    o.bare_tags = data[0] % 3;
    o.keep_container_id = (data[0] >> 2) & 1;
    o.keep_timestamp = (data[0] >> 3) & 1;
    o.d_as_h = (data[0] >> 4) & 1;
    size_t cap = (data[1] & 0x80) ? (size_t)(data[1] & 0x7f) : 4 * (size - 2) + 64;
    size_t max = 16 + (size_t)(data[1] & 0x3f) * 8;
    size_t n = size - 2;
    uint8_t *in = malloc(n ? n : 1);
    uint8_t *out = malloc(cap ? cap : 1);
    check(in && out, "out of memory");
    memcpy(in, data + 2, n);

    struct up_shape_counts c = {0};
    size_t len = up_shape_datagram(&o, in, n, out, cap, &c);
    check(len <= cap, "output longer than its room");
    if (shape_grammar_check(&o, out, len, why, sizeof(why)) != 0) {
        fprintf(stderr, "fuzz_shape: grammar: %s\n", why);
        abort();
    }
    uint64_t dropped = 0;
    for (int i = 0; i < UP_DROP_COUNT; i++)
        dropped += c.dropped[i];
    check(dropped <= c.lines_in, "more drops than lines");
    check(c.lines_out >= c.lines_in - dropped, "a line neither written nor dropped");

    /* Pack the shaped output, then the raw input (any dialect packs). */
    struct up_pack pk;
    up_pack_init(&pk, arena, sizeof(arena), outs, sizeof(outs) / sizeof(outs[0]), max);
    size_t first;
    for (int round = 0; round < 2; round++) {
        const uint8_t *d = round ? in : out;
        size_t dn = round ? n : len;
        size_t before = pk.nout;
        if (up_pack_add(&pk, d, dn, &first, NULL) != 0) {
            check(pk.nout == before, "a failed add changed the pack");
            continue;
        }
        check(first <= pk.nout, "first datagram out of range");
    }
    size_t used = 0;
    for (size_t i = 0; i < pk.nout; i++) {
        const struct up_pack_out *p = &pk.outs[i];
        check(p->off + p->len <= pk.used && p->off == used, "datagram outside the arena");
        used += p->len;
        check(p->len > 0, "empty datagram");
        check(p->len <= max || !memchr(arena + p->off, '\n', p->len), "datagram over max with several lines");
        check(p->len <= UP_SHAPE_LINE_MAX, "datagram over 65507 bytes");
    }
    free(in);
    free(out);
    return 0;
}
