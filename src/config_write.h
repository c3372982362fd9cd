/*
 * config_write.h - the `udp-proxy config-write` subcommand: set the source
 * and the targets in a configuration file, keeping every other line.
 *
 *   udp-proxy config-write --file PATH [--source ADDR] [--targets "ADDR ADDR ..."]
 *
 * The Windows installer (packaging/msi/udp-proxy.wxs) runs it with its
 * SOURCE and TARGETS properties; an operator or a deployment script may run
 * it on any platform.
 */
#ifndef UP_CONFIG_WRITE_H
#define UP_CONFIG_WRITE_H

/* argv[1] is "config-write". Active "source" lines (when --source is given)
 * and "target" lines (when --targets is given) are replaced by the new
 * values, at the place of the first such line, or appended at the end;
 * comments and every other setting stay as they were. A missing file is
 * created. The result is checked with the configuration parser before it
 * is written: nothing is written when a value is wrong. Returns the exit
 * status: 0 written, 1 the file could not be read or written, 2 bad usage
 * or a value the parser refuses. Messages go to standard error, a one-line
 * summary to standard output. */
int up_config_write_main(int argc, char **argv);

#endif
