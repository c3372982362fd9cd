/*
 * win32/ctrl.c - stop requests from the console (Win32).
 *
 * Ctrl+C, Ctrl+Break and closing the console window arrive in a handler
 * that Windows runs on a thread of its own (SetConsoleCtrlHandler). The
 * handler only sets an auto-reset event; the main thread waits on it in
 * up_ctrl_wait() and drains as after SIGTERM on POSIX. Each wait takes one
 * request, so a second Ctrl+C during the drain ends it at once (run.c). The service control
 * handler (service.c) sets the same event through up_ctrl_request_stop().
 *
 * Console close, log-off and shutdown terminate the process as soon as the
 * handler returns, so for those the handler keeps its thread waiting: the
 * process then ends when main() returns after the drain (or when Windows'
 * own deadline for console close, about 5 s, runs out).
 * CTRL_LOGOFF_EVENT is taken and ignored: a service receives it whenever
 * any user logs off and must keep running (the default handler would end
 * the process); a console program gets CTRL_CLOSE_EVENT then anyway.
 */
#include "../error.h"
#include "../platform.h"

static HANDLE stop_event;

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
    /* Fails only without a console in some Windows versions; a service has
     * none and stops through up_ctrl_request_stop(), so go on. */
    SetConsoleCtrlHandler(on_console_event, TRUE);
    return UP_OK;
}

int up_ctrl_wait(int timeout_ms)
{
    DWORD r = WaitForSingleObject(stop_event, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    return r == WAIT_OBJECT_0 ? UP_CTRL_STOP : UP_CTRL_NONE;
}

void up_ctrl_request_stop(void)
{
    if (stop_event)
        SetEvent(stop_event);
}
