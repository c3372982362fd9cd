/*
 * win32/ctrl.c - stop requests from the console (Win32).
 *
 * Ctrl+C, Ctrl+Break and closing the console window arrive in a handler
 * that Windows runs on a thread of its own (SetConsoleCtrlHandler). The
 * handler only sets an auto-reset stop event; the main thread waits on it in
 * up_ctrl_wait() and drains as after SIGTERM on POSIX. Each wait takes one
 * request, so a second Ctrl+C during the drain ends it at once (run.c). The
 * service control handler (service_run.c) sets the same event through
 * up_ctrl_request_stop().
 *
 * Reload (SIGHUP on POSIX): the service control handler takes
 * SERVICE_CONTROL_PARAMCHANGE (`sc control NAME paramchange`, or
 * `udp-proxy service reload`) and sets a second, auto-reset event through
 * up_ctrl_request_reload(); up_ctrl_wait() returns UP_CTRL_RELOAD for it.
 * A stop request wins when both are set.
 *
 * Console close, log-off and shutdown terminate the process as soon as the
 * handler returns, so for those the handler keeps its thread waiting: the
 * process then ends when main() returns after the drain (or when Windows'
 * own deadline for console close, about 5 s, runs out).
 * CTRL_LOGOFF_EVENT is taken and ignored: a service receives it whenever
 * any user logs off and must keep running (the default handler would end
 * the process); a console program gets CTRL_CLOSE_EVENT then anyway.
 */
#include "ctrl.h"

#include "../error.h"
#include "../platform.h"

static HANDLE stop_event;   /* manual-reset: stays set once asked to stop */
static HANDLE reload_event; /* auto-reset: one reload per request */

static BOOL WINAPI on_console_event(DWORD type)
{
    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT: SetEvent(stop_event); return TRUE;
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        SetEvent(stop_event);
        Sleep(INFINITE); /* see the top of this file */
        return TRUE;
    case CTRL_LOGOFF_EVENT: return TRUE; /* see the top of this file */
    default: return FALSE;
    }
}

int up_ctrl_init(void)
{
    if (!stop_event) {
        stop_event = CreateEventA(NULL, FALSE, FALSE, NULL); /* auto-reset */
        if (!stop_event)
            return up_last_error();
    }
    if (!reload_event) {
        reload_event = CreateEventA(NULL, FALSE, FALSE, NULL);
        if (!reload_event)
            return up_last_error();
    }
    /* Fails only without a console in some Windows versions; a service has
     * none and stops through up_ctrl_request_stop(), so go on. */
    SetConsoleCtrlHandler(on_console_event, TRUE);
    return UP_OK;
}

int up_ctrl_wait(int timeout_ms)
{
    HANDLE h[2] = {stop_event, reload_event}; /* the lowest index wins: stop first */
    DWORD r = WaitForMultipleObjects(2, h, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    if (r == WAIT_OBJECT_0)
        return UP_CTRL_STOP;
    return r == WAIT_OBJECT_0 + 1 ? UP_CTRL_RELOAD : UP_CTRL_NONE;
}

void up_ctrl_request_reload(void)
{
    if (reload_event)
        SetEvent(reload_event);
}

void up_ctrl_request_stop(void)
{
    if (stop_event)
        SetEvent(stop_event);
}
