/*
 * shape_grammar.h - an independent checker of the otel dialect's output,
 * written from issue 11's table (not from shape.c): used by the property
 * test (test_shape.c) and the fuzzer (tests/fuzz/fuzz_shape.c).
 *
 *   output := line ('\n' line)*          (no empty line, no trailing '\n')
 *   line   := name ':' number '|' type ['|@' rate] ['|#' tags] ['|c:' id] ['|T' digits]
 *   name   := 1+ bytes, none of ':' '|' '\n', not starting with "_e{" or "_sc"
 *   number := ['+'|'-'] decimal, finite (a gauge: no '+')
 *   type   := c | g | ms | h | d   (no d with d-as-h=true)
 *   tags   := tag (',' tag)*, tag := key ':' value with key and value non-empty
 *             (with bare-tags=keep also a bare key)
 *   c: and T only with container-id=keep / timestamp=keep; T only on c and g.
 * No line starts or ends with a blank (space, tab, '\r').
 */
#ifndef UP_SHAPE_GRAMMAR_H
#define UP_SHAPE_GRAMMAR_H

#include <stddef.h>
#include <stdint.h>

#include "shape.h"

/* 0 when out[0..n) matches, else -1 with the reason in why. */
int shape_grammar_check(const struct up_shape_opts *o, const uint8_t *out, size_t n, char *why, size_t whylen);

#endif
