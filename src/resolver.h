/*
 * resolver.h - one helper thread for the work that may block for long:
 * host name lookups (getaddrinfo can take 10-30 s per name while DNS is
 * down) and a reload's reading and resolving of the config file.
 *
 * The control thread also takes the signals (SIGTERM, SIGHUP) and the
 * stop event on Windows: it posts such work here and picks the results up
 * on its next turn, so a stop is never held up by DNS (review M6).
 *
 * A job is a function and its argument. The job reports completion
 * through its own argument (an atomic flag, release), which the control
 * thread polls (acquire): the resolver never touches the argument after
 * fn returns.
 */
#ifndef UP_RESOLVER_H
#define UP_RESOLVER_H

#include <stdbool.h>

struct up_resolver;

/* Start the helper thread. Returns UP_OK or an error. */
int up_resolver_new(struct up_resolver **out);

/* Queue fn(arg) to run on the helper thread, after those queued before.
 * Returns UP_OK, or UP_EAGAIN when the queue is full (try on a later turn).
 * arg must stay valid until fn has run, or until the process exits when
 * up_resolver_free() was called first (see there). */
int up_resolver_post(struct up_resolver *r, void (*fn)(void *arg), void *arg);

/* Stop the helper thread. Jobs not started are dropped. A job that is
 * running (a lookup that hangs) is not waited for: the thread and the
 * resolver's memory are left to it, and the caller must leave that job's
 * argument alive too (the process is exiting). Returns true when the
 * thread was idle and everything was released; false when a job was
 * still running. NULL is a no-op (true). */
bool up_resolver_free(struct up_resolver *r);

#endif
