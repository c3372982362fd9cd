/*
 * run.h - run the daemon until asked to stop: the control thread's loop.
 *
 * Shared by the console entry point (main.c) and the Windows service.
 * It builds the proxy, reports readiness, logs the stats line every
 * --stats-interval, and on a stop request drains and logs the final totals.
 */
#ifndef UP_RUN_H
#define UP_RUN_H

#include "options.h"

/* Called once the source is bound and every thread runs (service: report
 * RUNNING; systemd: READY=1). May be NULL. */
typedef void (*up_ready_fn)(void *ctx);

/* Run with options o (parsed and resolved: up_options_resolve). Returns the
 * process exit status: 0 after a clean stop, 1 on a runtime failure
 * (address in use...). Errors are logged. */
int up_run(struct up_options *o, up_ready_fn ready, void *ctx);

#endif
