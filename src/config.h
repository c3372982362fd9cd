/*
 * config.h - the configuration file, and building the options from the
 * command line and that file.
 *
 * The file holds the same settings as the long flags, one per line:
 *
 *   # the DogStatsD dual-write
 *   source = 127.0.0.1:8125
 *   target = 127.0.0.1:8126      # the Datadog agent
 *   target = otel-collector:8125
 *   allow-unresolved             # a switch: bare name, or "= true" / "= false"
 *
 * Blank lines and lines starting with '#' are skipped; a '#' after blank
 * space ends a value (quote a value with "..." to keep a '#'). Repeatable
 * settings (target, allow) repeat. Order of precedence: defaults, then the
 * file, then the command line (targets or allow networks given there
 * replace the file's list).
 */
#ifndef UP_CONFIG_H
#define UP_CONFIG_H

#include <stddef.h>

#include "options.h"

#define UP_CONFIG_LINE_MAX 4096      /* longest line, bytes */
#define UP_CONFIG_FILE_MAX (1 << 20) /* largest file, bytes */

/* Apply the settings in text[0..len) (need not end in NUL; never read past
 * len) to o. fname names the file in messages. Returns UP_OK, or a negative
 * error with "FNAME:LINE: reason" in err. */
int up_config_parse(struct up_options *o, const char *text, size_t len, const char *fname, char *err, size_t errlen);

/* Read the file at path and apply it as up_config_parse does. A file that
 * cannot be read: "cannot read config file 'PATH': reason". */
int up_config_read(struct up_options *o, const char *path, char *err, size_t errlen);

/* Build o from scratch: defaults, then the --config file if argv names
 * one, then argv[1..argc) again on top. Pure apart from reading the file
 * (no resolving). Returns an up_options_action (>= 0) or a negative error
 * with a message in err (the caller exits 2). argv must outlive o (reload
 * reads it again). */
int up_config_load(struct up_options *o, int argc, char *const *argv, char *err, size_t errlen);

#endif
