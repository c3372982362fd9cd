/*
 * win32/svc_progress.h - what the service reports to the Service Control
 * Manager while it starts and stops (checkpoint and wait hint), as pure
 * functions of a clock and a work counter, so they are unit-tested on any
 * system (tests/unit/test_svc_progress.c) with a fake clock.
 *
 * The SCM's rule: a pending service must raise its checkpoint before the
 * last wait hint runs out, or it is taken as hung. So the checkpoint may
 * only rise when something really moved on:
 *   - STOP_PENDING: the first report's hint covers the whole stop (readers
 *     stop, then up to --drain-timeout of draining, plus a margin). Later, a
 *     checkpoint is reported only when the writers made progress (datagrams
 *     sent or failed since the last tick), with a hint of what is left of
 *     that deadline. A hung drain or control thread stops the checkpoint,
 *     and the SCM sees it once the hint has passed.
 *   - START_PENDING: name resolution may wait on DNS (up to ~10 s per name
 *     on Windows' resolver); the hint before it covers every name.
 */
#ifndef UP_WIN32_SVC_PROGRESS_H
#define UP_WIN32_SVC_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UP_SVC_STOP_MARGIN_MS 3000u /* readers stop (~0.2 s), final totals, exit */
#define UP_SVC_MIN_HINT_MS 1000u    /* never hint less than a tick */
#define UP_SVC_RESOLVE_MS_PER_NAME 10000u
#define UP_SVC_START_HINT_MS 10000u /* start-up without name resolution */

struct up_svc_stop {
    uint32_t checkpoint;  /* last checkpoint reported (0: stop not begun) */
    uint64_t deadline_ns; /* when the stop should be over: begin + drain + margin */
    uint64_t work;        /* the work counter at the last report */
};

/* The stop was asked at now_ns, the work counter reads `work`. Returns the
 * wait hint of the first STOP_PENDING report (drain_ms + margin); the
 * checkpoint to report is then s->checkpoint (1). */
uint32_t up_svc_stop_begin(struct up_svc_stop *s, uint64_t now_ns, uint32_t drain_ms, uint64_t work);

/* A periodic tick while stopping. Returns true when a new STOP_PENDING
 * should be reported: the work counter moved since the last report; then
 * s->checkpoint is one higher and *hint_ms is what is left until the
 * deadline (at least UP_SVC_MIN_HINT_MS). Returns false (report nothing,
 * checkpoint unchanged) when nothing moved. */
bool up_svc_stop_tick(struct up_svc_stop *s, uint64_t now_ns, uint64_t work, uint32_t *hint_ms);

/* The wait hint for START_PENDING before resolving `names` host names. */
uint32_t up_svc_start_hint_ms(size_t names);

#endif
