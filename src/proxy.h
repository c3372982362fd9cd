/*
 * proxy.h - the whole forwarder: readers, targets, their lifecycle.
 *
 * Threads: the caller's (control: signals, stats), one per reader, one
 * writer per target. Start-up binds and connects everything before any
 * thread starts, so configuration errors surface before traffic flows.
 */
#ifndef UP_PROXY_H
#define UP_PROXY_H

#include "options.h"
#include "stats.h"

struct up_proxy;

/* Most readers (--readers, options.c). */
#define UP_READERS_MAX 64

/* Build the proxy from resolved options: bind the source socket(s),
 * connect the targets, preallocate every buffer. On failure returns the
 * error and writes a message a person can act on into err. The caller owns
 * the proxy and releases it with up_proxy_free(). */
int up_proxy_new(const struct up_options *opt, struct up_proxy **out, char *err, size_t errlen);

/* Start the writer threads, then the reader threads. */
int up_proxy_start(struct up_proxy *p);

/* Stop receiving, let the writers send what is queued until drain_ms have
 * passed, join every thread. Idempotent. */
void up_proxy_stop(struct up_proxy *p);

/* The same stop in steps, so the control thread can still take signals
 * during the drain: up_proxy_stop_begin() stops and joins the readers and
 * starts the drain; up_proxy_drained() tells whether every writer has
 * finished; up_proxy_stop_now() ends the drain at once (a second stop
 * request): writers drop what is left, counted in dropped_shutdown, within
 * about 100 ms. up_proxy_stop() then joins the writers. */
void up_proxy_stop_begin(struct up_proxy *p);
bool up_proxy_drained(struct up_proxy *p);
void up_proxy_stop_now(struct up_proxy *p);

/* Room a snapshot needs in s->targets: the number of targets, or
 * UP_TARGETS_MAX when a config file is in use (a reload may add some). */
size_t up_proxy_target_count(const struct up_proxy *p);

/* Number of readers, i.e. source sockets (fixed for the proxy's life). */
size_t up_proxy_reader_count(const struct up_proxy *p);

/* Sum every counter into s; s->targets must have room for
 * up_proxy_target_count() entries. s->ntargets receives the number of
 * targets now (after a reload they may differ from the last snapshot's:
 * match them by name). Safe while running, from any thread (each caller
 * its own s). Also fills source_bound, and, when s->reader_kernel_drops is
 * not NULL, the drops of each source socket, and when s->reader_received is
 * not NULL, what each reader received. */
void up_proxy_snapshot(struct up_proxy *p, struct up_stats *s);

/* Apply a new configuration (parsed and resolved) without losing
 * datagrams: see proxy.c for the steps. Settings that need a restart are
 * logged and keep their running value. Every change is logged. Control
 * thread only, between up_proxy_start() and up_proxy_stop(). Returns UP_OK,
 * or an error with a message in err, and then nothing has changed. */
int up_proxy_reload(struct up_proxy *p, const struct up_options *next, char *err, size_t errlen);

/* Periodic work off the data path, about once a second (control thread):
 * re-resolve target names every --resolve-interval and follow a changed
 * address; connect Unix targets whose socket was missing or re-created.
 * The lookups run on the resolver thread (resolver.h): a result is applied
 * on the tick after it came, so a hanging DNS server never holds up the
 * control thread. */
void up_proxy_tick(struct up_proxy *p);

/* The helper thread for blocking work (resolver.h): lookups, and reload's
 * reading of the config file (run.c). Owned by the proxy. */
struct up_resolver *up_proxy_resolver(struct up_proxy *p);

/* The receive buffer the kernel granted the source socket(s), bytes (as
 * the kernel reports it, without its bookkeeping share). */
int up_proxy_source_rcvbuf(const struct up_proxy *p);

/* After up_proxy_stop(): take the source sockets out of the proxy (a
 * re-exec passes them on): up_proxy_free() will neither close them nor
 * remove a unix: source's file. Stores up to max into out; returns how
 * many. The caller owns them. */
size_t up_proxy_detach_sources(struct up_proxy *p, up_sock *out, size_t max);

/* Before up_proxy_stop(): a re-exec follows. At the stop the readers
 * forward what the kernel holds, then receive nothing more (the kernel keeps
 * queueing for the next image), and the source sockets stay open for
 * up_proxy_detach_sources(). */
void up_proxy_keep_sources(struct up_proxy *p);

/* The address the (first) source socket is bound to. */
int up_proxy_source_addr(struct up_proxy *p, char *buf, size_t size);

void up_proxy_free(struct up_proxy *p);

#endif
