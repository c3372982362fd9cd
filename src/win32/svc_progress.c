/* win32/svc_progress.c - checkpoint and wait-hint rules of the service (see
 * svc_progress.h). Pure: no system calls, so it builds and is tested on
 * Linux too. */
#include "svc_progress.h"

uint32_t up_svc_stop_begin(struct up_svc_stop *s, uint64_t now_ns, uint32_t drain_ms, uint64_t work)
{
    uint32_t hint = drain_ms + UP_SVC_STOP_MARGIN_MS;
    s->checkpoint = 1;
    s->deadline_ns = now_ns + (uint64_t)hint * 1000000u;
    s->work = work;
    return hint;
}

bool up_svc_stop_tick(struct up_svc_stop *s, uint64_t now_ns, uint64_t work, uint32_t *hint_ms)
{
    if (s->checkpoint == 0 || work == s->work)
        return false;
    s->work = work;
    s->checkpoint++;
    uint64_t left_ms = now_ns < s->deadline_ns ? (s->deadline_ns - now_ns) / 1000000u : 0;
    *hint_ms = left_ms < UP_SVC_MIN_HINT_MS ? UP_SVC_MIN_HINT_MS : (uint32_t)left_ms;
    return true;
}

uint32_t up_svc_start_hint_ms(size_t names)
{
    if (names > 64)
        names = 64;
    return UP_SVC_START_HINT_MS + (uint32_t)names * UP_SVC_RESOLVE_MS_PER_NAME;
}
