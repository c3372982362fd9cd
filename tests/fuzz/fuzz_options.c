/*
 * fuzz_options.c - libFuzzer target for up_options_parse().
 *
 * The input is split into argv words at '\n' and NUL bytes; each word is a
 * heap string of exactly its length plus the NUL (ASan catches reads past
 * it), and so is the error buffer, whose size comes from the input too.
 * Nothing is resolved (no DNS). Checked, besides not crashing:
 *   - an error return comes with a one-line, terminated message;
 *   - a RUN return has 1..UP_TARGETS_MAX distinct targets that all split,
 *     a source that splits, and every number inside its documented range.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "error.h"
#include "log.h"
#include "options.h"

#define MAX_WORDS (2 * UP_TARGETS_MAX + 16)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_options: %s\n", what);
        abort();
    }
}

static int splits(const char *text)
{
    char host[UP_HOST_MAX];
    uint16_t port;
    if (up_addr_is_unix(text)) /* unix:/path: a Unix datagram socket */
        return up_addr_check_unix(text) == UP_OK;
    return up_addr_split(text, host, sizeof(host), &port) == UP_OK;
}

static void check_options(const struct up_options *o, int action)
{
    check(o->ntargets <= UP_TARGETS_MAX, "too many targets");
    if (action == UP_OPTIONS_RUN)
        check(o->ntargets >= 1, "RUN without a target");
    check(splits(o->source), "source does not split");
    for (size_t i = 0; i < o->ntargets; i++) {
        check(splits(o->targets[i]), "target does not split");
        for (size_t j = 0; j < i; j++)
            check(strcmp(o->targets[i], o->targets[j]) != 0, "the same target twice");
    }
    check(o->log_level >= UP_LOG_DEBUG && o->log_level <= UP_LOG_FATAL, "log level out of range");
    check(o->buffer >= 1 && o->buffer <= 65535, "buffer out of range");
    check(o->channel_size >= 1 && o->channel_size <= (1u << 20), "channel size out of range");
    check(o->rcvbuf >= 4096 && o->rcvbuf <= (1 << 30), "rcvbuf out of range");
    check(o->sndbuf >= 4096 && o->sndbuf <= (1 << 30), "sndbuf out of range");
    check(o->readers >= 1 && o->readers <= 64, "readers out of range");
    check(o->stats_interval <= 86400, "stats interval out of range");
    check(o->drain_ms <= 3600000, "drain timeout out of range");
    check(strnlen(o->log_file, UP_PATH_MAX) < UP_PATH_MAX, "log file not terminated");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct up_options o; /* large: keep it off the stack */
    char *argv[MAX_WORDS];
    int argc = 0;
    size_t start = 0;

    if (size == 0)
        return 0;
    /* First byte: the error buffer size, 1..256. */
    size_t errlen = 1 + data[0];
    data++;
    size--;
    for (size_t i = 0; i <= size && argc < MAX_WORDS; i++) {
        if (i < size && data[i] != '\n' && data[i] != '\0')
            continue;
        char *w = malloc(i - start + 1);
        if (!w)
            break;
        memcpy(w, data + start, i - start);
        w[i - start] = '\0';
        argv[argc++] = w;
        start = i + 1;
    }
    char *err = malloc(errlen);
    if (err) {
        memset(err, 0x5a, errlen);
        up_options_defaults(&o);
        int r = up_options_parse(&o, argc, argv, 0, err, errlen);
        if (r < 0) {
            size_t len = strnlen(err, errlen);
            check(len < errlen, "error message not terminated");
            check(len > 0 || errlen == 1, "error without a message");
            check(memchr(err, '\n', len) == NULL, "error message spans lines");
        } else {
            check(r == UP_OPTIONS_RUN || r == UP_OPTIONS_HELP || r == UP_OPTIONS_VERSION, "unknown action");
            check_options(&o, r);
        }
        free(err);
    }
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
