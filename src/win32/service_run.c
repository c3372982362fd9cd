/*
 * win32/service_run.c - udp-proxy under the Service Control Manager (SCM).
 *
 * `udp-proxy service run --name N -- <run flags>` is the command line that
 * `service install` stores (service.c); only the SCM starts it.
 *
 *   dispatcher thread (main)            service thread (service_main)
 *   StartServiceCtrlDispatcher  ----->  register control handler
 *                                       START_PENDING
 *                                       up_run(): bind, threads
 *                                       ready()  -> RUNNING
 *   control_handler(STOP/SHUTDOWN)
 *     STOP_PENDING + wait hint,         ...
 *     a checkpoint each second
 *     up_ctrl_request_stop()  ------->  up_run() drains, returns
 *                                       STOPPED (+ exit code on failure)
 *
 * A start-up failure reports STOPPED with ERROR_SERVICE_SPECIFIC_ERROR and
 * the process exit status as the service-specific code (1 runtime, e.g. the
 * port is taken; 2 bad configuration). Log lines go to --log-file and to the
 * Application event log (source = the service name, registered at install;
 * one message, "%1", from messages.mc).
 */
#include "service_run.h"

#include <stdio.h>
#include <string.h>

#include "../config.h"
#include "../error.h"
#include "../log.h"
#include "../options.h"
#include "../platform.h"
#include "../run.h"

#define MSG_LINE 1 /* the one message of the table (messages.mc): "%1" */

/* Set by up_service_run() before the dispatcher starts. */
static struct {
    const char *name;
    int argc; /* run flags */
    char *const *argv;
} run_args;
static SERVICE_STATUS_HANDLE status_handle;
static CRITICAL_SECTION status_lock; /* the control handler and service_main both report */
static SERVICE_STATUS cur_status;
static unsigned drain_ms = UP_DEFAULT_DRAIN_MS;
static HANDLE event_source;
static HANDLE stop_ticker; /* timer that reports STOP_PENDING progress while draining */

/* Report `state` to the SCM. exit_status != 0: failed, with that code. */
static void report(DWORD state, int exit_status, DWORD wait_hint_ms)
{
    EnterCriticalSection(&status_lock);
    cur_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    cur_status.dwCurrentState = state;
    cur_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    cur_status.dwWin32ExitCode = exit_status ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
    cur_status.dwServiceSpecificExitCode = (DWORD)exit_status;
    cur_status.dwWaitHint = wait_hint_ms;
    if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
        cur_status.dwCheckPoint++;
    else
        cur_status.dwCheckPoint = 0;
    SetServiceStatus(status_handle, &cur_status);
    LeaveCriticalSection(&status_lock);
}

/* Each second while draining: STOP_PENDING again, next checkpoint. */
static void CALLBACK stop_tick(void *ctx, BOOLEAN fired)
{
    (void)ctx;
    (void)fired;
    EnterCriticalSection(&status_lock); /* recursive: report() takes it again */
    if (cur_status.dwCurrentState == SERVICE_STOP_PENDING)
        report(SERVICE_STOP_PENDING, 0, 3000);
    LeaveCriticalSection(&status_lock);
}

static DWORD WINAPI control_handler(DWORD control, DWORD type, void *data, void *ctx)
{
    (void)type;
    (void)data;
    (void)ctx;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        /* Readers stop (up to ~0.2 s), then the queues drain (up to
         * --drain-timeout): hint that, plus a margin, and tick the
         * checkpoint each second until STOPPED. */
        report(SERVICE_STOP_PENDING, 0, drain_ms + 3000);
        if (!stop_ticker)
            CreateTimerQueueTimer(&stop_ticker, NULL, stop_tick, NULL, 1000, 1000, WT_EXECUTEDEFAULT);
        up_ctrl_request_stop();
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        EnterCriticalSection(&status_lock);
        SetServiceStatus(status_handle, &cur_status);
        LeaveCriticalSection(&status_lock);
        return NO_ERROR;
    default: return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

/* up_log hook: each line also goes to the Application event log. */
static void event_log_line(int level, const char *line)
{
    char msg[1024];
    if (!event_source || level < UP_LOG_INFO)
        return;
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    if (n >= sizeof(msg))
        n = sizeof(msg) - 1;
    memcpy(msg, line, n);
    msg[n] = '\0';
    const char *strings[1] = {msg};
    WORD type = level >= UP_LOG_ERROR  ? EVENTLOG_ERROR_TYPE
                : level == UP_LOG_WARN ? EVENTLOG_WARNING_TYPE
                                       : EVENTLOG_INFORMATION_TYPE;
    ReportEventA(event_source, type, 0, MSG_LINE, NULL, 1, 0, strings, NULL);
}

static void on_ready(void *ctx)
{
    (void)ctx;
    report(SERVICE_RUNNING, 0, 0);
    up_log(UP_LOG_INFO, "service '%s' is running", run_args.name);
}

/* Parse, set up logging, run until stopped. Returns the exit status. */
static int run_service(void)
{
    static struct up_options o;
    char err[600];

    event_source = RegisterEventSourceA(NULL, run_args.name);
    up_log_set_stderr(0); /* no console */
    up_log_set_hook(event_log_line);
    /* Defaults, a --config file, the run flags over it; argv[-1] is the "--"
     * marker, which up_config_load() skips as a program name. */
    int action = up_config_load(&o, run_args.argc + 1, run_args.argv - 1, err, sizeof(err));
    if (action != UP_OPTIONS_RUN) {
        up_log(UP_LOG_FATAL, "service '%s': bad run flags: %s", run_args.name, action < 0 ? err : "--help/--version");
        return 2;
    }
    up_log_set_level(o.log_level);
    drain_ms = o.drain_ms;
    if (o.log_file[0]) {
        int r = up_log_set_file(o.log_file);
        if (r != UP_OK) {
            up_log(UP_LOG_FATAL, "service '%s': --log-file: cannot open '%s': %s", run_args.name, o.log_file,
                   up_strerror(r));
            return 2;
        }
    }
    if (up_net_init() != UP_OK) {
        up_log(UP_LOG_FATAL, "service '%s': cannot initialise Winsock", run_args.name);
        return 1;
    }
    if (up_options_resolve(&o, err, sizeof(err)) != UP_OK) {
        up_log(UP_LOG_FATAL, "service '%s': %s", run_args.name, err);
        return 2;
    }
    up_log(UP_LOG_INFO, "service '%s' starting", run_args.name);
    int status = up_run(&o, on_ready, NULL);
    if (status == 0)
        up_log(UP_LOG_INFO, "service '%s' stopped", run_args.name);
    else
        up_log(UP_LOG_ERROR, "service '%s' failed (service-specific exit code %d)", run_args.name, status);
    return status;
}

static void WINAPI service_main(DWORD argc, LPSTR *argv)
{
    (void)argc;
    (void)argv;
    /* Before the handler exists, so no stop request can be lost. */
    if (up_ctrl_init() != UP_OK)
        return;
    status_handle = RegisterServiceCtrlHandlerExA(run_args.name, control_handler, NULL);
    if (!status_handle)
        return;
    report(SERVICE_START_PENDING, 0, 10000);
    int status = run_service();
    /* The handler set the ticker before the stop request that ended
     * up_run(): visible here. Deleting waits for a running tick. */
    if (stop_ticker)
        DeleteTimerQueueTimer(NULL, stop_ticker, INVALID_HANDLE_VALUE);
    stop_ticker = NULL;
    up_log_set_hook(NULL);
    up_log_set_file(NULL);
    if (event_source)
        DeregisterEventSource(event_source);
    event_source = NULL;
    report(SERVICE_STOPPED, status, 0);
}

int up_service_run(const char *name, int argc, char *const *argv)
{
    run_args.name = name;
    run_args.argc = argc;
    run_args.argv = argv;
    InitializeCriticalSection(&status_lock);
    SERVICE_TABLE_ENTRYA table[] = {{(char *)name, service_main}, {NULL, NULL}};
    if (StartServiceCtrlDispatcherA(table))
        return 0;
    DWORD e = GetLastError();
    if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
        fprintf(stderr, "udp-proxy: 'service run' is what the Service Control Manager starts; in a console, run\n"
                        "udp-proxy with the run flags alone (udp-proxy --target ...)\n");
        return 2;
    }
    fprintf(stderr, "udp-proxy: service run: cannot connect to the Service Control Manager (system error %lu)\n",
            (unsigned long)e);
    return 1;
}
