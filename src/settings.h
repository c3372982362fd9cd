/*
 * settings.h - the settings in effect, one per line, with where each
 * value came from: a flag, the --config file, or the default.
 *
 * --check-config prints them (after "configuration ok"); the start-up log
 * shows the same lines. Each line reads "NAME = VALUE (flag|file|default)";
 * targets also show their resolved address ("-> 10.0.0.5:8125"), the
 * channel size the queue capacity really used (a power of two, per reader
 * and per target), and a line starting "warning:" says when command-line
 * targets replace the file's.
 */
#ifndef UP_SETTINGS_H
#define UP_SETTINGS_H

#include "options.h"

/* Call emit(ctx, line) for every line (no newline in line). o: resolved
 * options as up_config_load() and up_options_resolve() left them (argv
 * tells which were flags; the file, read again here, which came from it). */
void up_settings_describe(const struct up_options *o, void (*emit)(void *ctx, const char *line), void *ctx);

/* The capacity of one target queue for --channel-size n (queue.c rounds
 * up to a power of two). */
size_t up_settings_queue_capacity(uint32_t n);

#endif
