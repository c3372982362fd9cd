/*
 * win32/service.c - udp-proxy as a Windows service (see service.h).
 *
 * Management verbs (install, uninstall, start, stop, status) talk to the
 * Service Control Manager (SCM) and exit. `install` validates the run flags
 * with the same parser as a console run, then stores them in the service's
 * command line behind an explicit marker:
 *
 *   "C:\...\udp-proxy.exe" service run --name N -- --source :8125 --target ...
 *
 * so only a process started by the SCM ever calls the service dispatcher;
 * a console run never waits on the SCM.
 *
 * Under the SCM (`service run`):
 *
 *   dispatcher thread (main)            service thread (service_main)
 *   StartServiceCtrlDispatcher  ----->  register control handler
 *                                       START_PENDING
 *                                       up_run(): bind, threads
 *                                       ready()  -> RUNNING
 *   control_handler(STOP/SHUTDOWN)
 *     STOP_PENDING + wait hint          ...
 *     up_ctrl_request_stop()  ------->  up_run() drains, returns
 *                                       STOPPED (+ exit code on failure)
 *
 * A start-up failure reports STOPPED with ERROR_SERVICE_SPECIFIC_ERROR and
 * the process exit status as the service-specific code (1 runtime, e.g. the
 * port is taken; 2 bad configuration). Log lines go to --log-file and to the
 * Application event log (source = the service name, registered at install).
 */
#include <stdio.h>
#include <string.h>

#include "../error.h"
#include "../log.h"
#include "../options.h"
#include "../platform.h"
#include "../run.h"
#include "../service.h"

#define DEFAULT_NAME "udp-proxy"
#define DEFAULT_DISPLAY "UDP Proxy"
#define DEFAULT_DESCRIPTION "UDP proxy for dual-write metrics"
#define SERVICE_ACCOUNT "NT AUTHORITY\\LocalService"
#define NAME_MAX_LEN 256
#define CMDLINE_MAX 32767 /* CreateProcess' limit */
#define EVENTLOG_KEY "SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"
#define MSG_LINE 1 /* the one message of the table (messages.mc): "%1" */

/* The subcommand's arguments. */
struct svc_args {
    const char *verb;
    const char *name;
    const char *display;
    const char *description;
    int run_argc; /* flags after "--" */
    char *const *run_argv;
    bool has_run; /* "--" was given */
};

/* ---- messages -------------------------------------------------------------- */

static const char *win_error_text(DWORD e, char *buf, size_t size)
{
    DWORD n =
        FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e, 0, buf, (DWORD)size, NULL);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.'))
        buf[--n] = '\0';
    if (n == 0)
        snprintf(buf, size, "system error %lu", (unsigned long)e);
    return buf;
}

/* Report the last Win32 error of `what`, with the usual causes spelled out. */
static int fail(const struct svc_args *a, const char *what)
{
    DWORD e = GetLastError();
    char text[256];
    switch (e) {
    case ERROR_ACCESS_DENIED:
        fprintf(stderr,
                "udp-proxy: service %s: access denied: run this from an elevated prompt "
                "(right-click the Command Prompt or PowerShell, 'Run as administrator')\n",
                a->verb);
        break;
    case ERROR_SERVICE_EXISTS:
        fprintf(stderr,
                "udp-proxy: service %s: a service named '%s' is already installed "
                "(remove it with 'udp-proxy service uninstall --name %s', or choose another --name)\n",
                a->verb, a->name, a->name);
        break;
    case ERROR_DUPLICATE_SERVICE_NAME:
        fprintf(stderr, "udp-proxy: service %s: another service already uses the name or display name '%s'\n", a->verb,
                a->display ? a->display : a->name);
        break;
    case ERROR_SERVICE_DOES_NOT_EXIST:
        fprintf(stderr, "udp-proxy: service %s: no service named '%s' is installed\n", a->verb, a->name);
        break;
    case ERROR_SERVICE_MARKED_FOR_DELETE:
        fprintf(stderr,
                "udp-proxy: service %s: service '%s' is being removed; close the Services console "
                "and any 'sc' windows, then try again\n",
                a->verb, a->name);
        break;
    default: fprintf(stderr, "udp-proxy: service %s: %s: %s\n", a->verb, what, win_error_text(e, text, sizeof(text)));
    }
    return 1;
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr,
            "udp-proxy: %s%s%s\n"
            "Usage: udp-proxy service install [--name N] [--display-name D] [--description T] -- <run flags>\n"
            "       udp-proxy service uninstall|start|stop|status [--name N]\n",
            msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* ---- arguments ------------------------------------------------------------- */

/* Take "--flag value" or "--flag=value" at argv[*i] if it is `flag`. */
static bool take(int argc, char **argv, int *i, const char *flag, const char **out, bool *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(flag);
    if (strncmp(a, flag, n) != 0)
        return false;
    if (a[n] == '=') {
        *out = a + n + 1;
        return true;
    }
    if (a[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        *missing = true;
        return true;
    }
    *out = argv[++*i];
    return true;
}

static int parse_args(int argc, char **argv, struct svc_args *a)
{
    memset(a, 0, sizeof(*a));
    a->name = DEFAULT_NAME;
    if (argc < 3)
        return usage_error("service: missing subcommand", NULL);
    a->verb = argv[2];
    bool install = strcmp(a->verb, "install") == 0, run = strcmp(a->verb, "run") == 0;
    if (!install && !run && strcmp(a->verb, "uninstall") != 0 && strcmp(a->verb, "start") != 0 &&
        strcmp(a->verb, "stop") != 0 && strcmp(a->verb, "status") != 0)
        return usage_error("service: unknown subcommand", a->verb);
    for (int i = 3; i < argc; i++) {
        bool missing = false;
        if (strcmp(argv[i], "--") == 0) {
            if (!install && !run)
                return usage_error("service: run flags after '--' belong to 'service install'", NULL);
            a->has_run = true;
            a->run_argc = argc - i - 1;
            a->run_argv = argv + i + 1;
            break;
        }
        if (take(argc, argv, &i, "--name", &a->name, &missing) ||
            (install && take(argc, argv, &i, "--display-name", &a->display, &missing)) ||
            (install && take(argc, argv, &i, "--description", &a->description, &missing))) {
            if (missing)
                return usage_error("service: flag needs a value", argv[i]);
            continue;
        }
        return usage_error(
            install ? "service install: unknown flag (run flags go after '--')" : "service: unknown flag", argv[i]);
    }
    size_t n = strlen(a->name);
    if (n == 0 || n > NAME_MAX_LEN || strpbrk(a->name, "/\\") != NULL)
        return usage_error("service: --name must be 1-256 characters without / or \\", a->name);
    if ((install || run) && !a->has_run)
        return usage_error("service: give the run flags after '--', e.g. -- --source :8125 --target 127.0.0.1:8126",
                           NULL);
    return 0;
}

/* Parse and resolve the run flags as a console run would. Returns 0, or 2
 * with the message in err. */
static int check_run_flags(const struct svc_args *a, struct up_options *o, char *err, size_t errlen)
{
    up_options_defaults(o);
    int action = up_options_parse(o, a->run_argc, a->run_argv, 0, err, errlen);
    if (action < 0)
        return 2;
    if (action != UP_OPTIONS_RUN) {
        snprintf(err, errlen, "--help and --version are not run flags");
        return 2;
    }
    if (o->readers > 1) {
        snprintf(err, errlen, "--readers: '%u': Windows has no SO_REUSEPORT; use --readers 1", o->readers);
        return 2;
    }
    if (up_options_resolve(o, err, errlen) != UP_OK)
        return 2;
    return 0;
}

/* Append arg to the command line, quoted as CommandLineToArgvW and the C
 * runtime read it back. Returns false when it does not fit. */
static bool append_arg(char *cmd, size_t size, const char *arg)
{
    size_t n = strlen(cmd);
    bool quote = arg[0] == '\0' || strpbrk(arg, " \t\"") != NULL;
#define PUT(c)                                                                                                         \
    do {                                                                                                               \
        if (n + 2 >= size)                                                                                             \
            return false;                                                                                              \
        cmd[n++] = (c);                                                                                                \
    } while (0)
    if (n > 0)
        PUT(' ');
    if (quote)
        PUT('"');
    for (const char *p = arg;; p++) {
        size_t slashes = 0;
        while (*p == '\\') {
            slashes++;
            p++;
        }
        /* Backslashes double before a quote (ours at the end, or one in arg). */
        size_t k = (*p == '"' || (*p == '\0' && quote)) ? slashes * 2 : slashes;
        for (size_t j = 0; j < k; j++)
            PUT('\\');
        if (*p == '\0')
            break;
        if (*p == '"')
            PUT('\\');
        PUT(*p);
    }
    if (quote)
        PUT('"');
#undef PUT
    cmd[n] = '\0';
    return true;
}

/* ---- SCM helpers ----------------------------------------------------------- */

static const char *state_name(DWORD s)
{
    switch (s) {
    case SERVICE_STOPPED: return "STOPPED";
    case SERVICE_START_PENDING: return "START_PENDING";
    case SERVICE_STOP_PENDING: return "STOP_PENDING";
    case SERVICE_RUNNING: return "RUNNING";
    case SERVICE_CONTINUE_PENDING: return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING: return "PAUSE_PENDING";
    case SERVICE_PAUSED: return "PAUSED";
    default: return "UNKNOWN";
    }
}

static bool query(SC_HANDLE svc, SERVICE_STATUS_PROCESS *st)
{
    DWORD need = 0;
    return QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)st, sizeof(*st), &need) != 0;
}

/* Poll until the service leaves `pending` or timeout_ms passes. */
static bool wait_while(SC_HANDLE svc, DWORD pending, DWORD timeout_ms, SERVICE_STATUS_PROCESS *st)
{
    uint64_t deadline = up_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        if (!query(svc, st))
            return false;
        if (st->dwCurrentState != pending || up_now_ns() >= deadline)
            return true;
        Sleep(200);
    }
}

/* "exit code 0" or the failure the service reported when it stopped. */
static void describe_exit(const SERVICE_STATUS_PROCESS *st, char *buf, size_t size)
{
    char text[256];
    if (st->dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR)
        snprintf(buf, size, "service-specific exit code %lu (%s)", (unsigned long)st->dwServiceSpecificExitCode,
                 st->dwServiceSpecificExitCode == 2 ? "bad configuration" : "runtime error, e.g. the port is taken");
    else if (st->dwWin32ExitCode != 0)
        snprintf(buf, size, "exit code %lu (%s)", (unsigned long)st->dwWin32ExitCode,
                 win_error_text(st->dwWin32ExitCode, text, sizeof(text)));
    else
        snprintf(buf, size, "exit code 0");
}

static SC_HANDLE open_service(const struct svc_args *a, DWORD scm_access, DWORD access, SC_HANDLE *scm)
{
    *scm = OpenSCManagerA(NULL, NULL, scm_access);
    if (!*scm)
        return NULL;
    return OpenServiceA(*scm, a->name, access);
}

/* Stop and wait (up to a minute) for STOPPED. */
static bool stop_and_wait(SC_HANDLE svc, SERVICE_STATUS_PROCESS *st)
{
    SERVICE_STATUS ss;
    if (!ControlService(svc, SERVICE_CONTROL_STOP, &ss) && GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
        return false;
    if (!wait_while(svc, SERVICE_STOP_PENDING, 60000, st))
        return false;
    if (st->dwCurrentState == SERVICE_RUNNING) { /* the stop may not have been seen yet */
        if (!wait_while(svc, SERVICE_RUNNING, 5000, st))
            return false;
        return wait_while(svc, SERVICE_STOP_PENDING, 60000, st);
    }
    return true;
}

/* ---- install / uninstall ---------------------------------------------------- */

static void register_event_source(const char *name, const char *exe)
{
    char key[sizeof(EVENTLOG_KEY) + NAME_MAX_LEN];
    HKEY h;
    DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    snprintf(key, sizeof(key), "%s%s", EVENTLOG_KEY, name);
    if (RegCreateKeyExA(HKEY_LOCAL_MACHINE, key, 0, NULL, 0, KEY_SET_VALUE, NULL, &h, NULL) != ERROR_SUCCESS) {
        fprintf(stderr, "udp-proxy: warning: cannot register the event log source '%s'\n", name);
        return;
    }
    RegSetValueExA(h, "EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)exe, (DWORD)strlen(exe) + 1);
    RegSetValueExA(h, "TypesSupported", 0, REG_DWORD, (const BYTE *)&types, sizeof(types));
    RegCloseKey(h);
}

static void warn_config(const char *what)
{
    char text[256];
    fprintf(stderr, "udp-proxy: warning: cannot set the %s: %s\n", what,
            win_error_text(GetLastError(), text, sizeof(text)));
}

/* C:\x, C:/x or \\server\share\x. */
static bool is_absolute(const char *path)
{
    if (path[0] == '\\' && path[1] == '\\')
        return true;
    return path[0] != '\0' && path[1] == ':' && (path[2] == '\\' || path[2] == '/');
}

static int install(const struct svc_args *a)
{
    static struct up_options o; /* large: keep it off the stack */
    static char cmd[CMDLINE_MAX];
    char err[600], exe[MAX_PATH + 1];
    int status = 1;
    SC_HANDLE scm = NULL, svc = NULL;

    if (check_run_flags(a, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "udp-proxy: service install: %s\nTry 'udp-proxy --help' for the run flags.\n", err);
        return 2;
    }
    if (o.log_file[0] && !is_absolute(o.log_file)) {
        fprintf(stderr,
                "udp-proxy: service install: --log-file: '%s' must be an absolute path such as "
                "C:\\ProgramData\\udp-proxy\\udp-proxy.log (a service starts in C:\\Windows\\System32)\n",
                o.log_file);
        return 2;
    }
    DWORD n = GetModuleFileNameA(NULL, exe, sizeof(exe));
    if (n == 0 || n >= sizeof(exe)) {
        fprintf(stderr, "udp-proxy: service install: cannot find the path of this program\n");
        return 1;
    }
    cmd[0] = '\0';
    bool fits = append_arg(cmd, sizeof(cmd), exe) && append_arg(cmd, sizeof(cmd), "service") &&
                append_arg(cmd, sizeof(cmd), "run") && append_arg(cmd, sizeof(cmd), "--name") &&
                append_arg(cmd, sizeof(cmd), a->name) && append_arg(cmd, sizeof(cmd), "--");
    for (int i = 0; fits && i < a->run_argc; i++)
        fits = append_arg(cmd, sizeof(cmd), a->run_argv[i]);
    if (!fits) {
        fprintf(stderr, "udp-proxy: service install: the command line is too long\n");
        return 2;
    }

    scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
    if (!scm) {
        status = fail(a, "cannot open the Service Control Manager");
        goto out;
    }
    const char *display = a->display ? a->display : DEFAULT_DISPLAY;
    svc = CreateServiceA(scm, a->name, display, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                         SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL, SERVICE_ACCOUNT, "");
    if (!svc) {
        status = fail(a, "cannot create the service");
        goto out;
    }
    SERVICE_DESCRIPTIONA desc = {(char *)(a->description ? a->description : DEFAULT_DESCRIPTION)};
    if (!ChangeServiceConfig2A(svc, SERVICE_CONFIG_DESCRIPTION, &desc))
        warn_config("description");
    SERVICE_DELAYED_AUTO_START_INFO delayed = {TRUE};
    if (!ChangeServiceConfig2A(svc, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed))
        warn_config("delayed automatic start");
    /* After a crash: restart in 5 s, then 10 s, then every 30 s; the count
     * starts over after a day without failures. */
    SC_ACTION actions[3] = {{SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 10000}, {SC_ACTION_RESTART, 30000}};
    SERVICE_FAILURE_ACTIONSA fa = {86400, NULL, NULL, 3, actions};
    if (!ChangeServiceConfig2A(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa))
        warn_config("recovery actions");
    register_event_source(a->name, exe);
    printf("udp-proxy: installed service '%s' (%s), account %s, start automatic (delayed)\n"
           "  command line: %s\n"
           "  start it now: udp-proxy service start --name %s\n",
           a->name, display, SERVICE_ACCOUNT, cmd, a->name);
    status = 0;
out:
    if (svc)
        CloseServiceHandle(svc);
    if (scm)
        CloseServiceHandle(scm);
    return status;
}

static int uninstall(const struct svc_args *a)
{
    SC_HANDLE scm, svc;
    SERVICE_STATUS_PROCESS st;
    char key[sizeof(EVENTLOG_KEY) + NAME_MAX_LEN];
    int status = 1;

    svc = open_service(a, SC_MANAGER_CONNECT, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE, &scm);
    if (!svc) {
        status = fail(a, scm ? "cannot open the service" : "cannot open the Service Control Manager");
        goto out;
    }
    if (query(svc, &st) && st.dwCurrentState != SERVICE_STOPPED) {
        printf("udp-proxy: stopping service '%s'...\n", a->name);
        if (!stop_and_wait(svc, &st) || st.dwCurrentState != SERVICE_STOPPED)
            fprintf(stderr, "udp-proxy: warning: service '%s' did not stop (%s); removing it anyway\n", a->name,
                    state_name(st.dwCurrentState));
    }
    if (!DeleteService(svc)) {
        status = fail(a, "cannot remove the service");
        goto out;
    }
    snprintf(key, sizeof(key), "%s%s", EVENTLOG_KEY, a->name);
    RegDeleteKeyA(HKEY_LOCAL_MACHINE, key);
    printf("udp-proxy: removed service '%s'\n", a->name);
    status = 0;
out:
    if (svc)
        CloseServiceHandle(svc);
    if (scm)
        CloseServiceHandle(scm);
    return status;
}

/* ---- start / stop / status -------------------------------------------------- */

static int start(const struct svc_args *a)
{
    SC_HANDLE scm, svc;
    SERVICE_STATUS_PROCESS st;
    char why[400];
    int status = 1;

    svc = open_service(a, SC_MANAGER_CONNECT, SERVICE_START | SERVICE_QUERY_STATUS, &scm);
    if (!svc) {
        status = fail(a, scm ? "cannot open the service" : "cannot open the Service Control Manager");
        goto out;
    }
    if (!StartServiceA(svc, 0, NULL)) {
        if (GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
            status = fail(a, "cannot start the service");
            goto out;
        }
    }
    /* START_PENDING lasts until the source socket is bound. */
    if (!wait_while(svc, SERVICE_START_PENDING, 30000, &st)) {
        status = fail(a, "cannot query the service");
        goto out;
    }
    if (st.dwCurrentState == SERVICE_RUNNING) {
        printf("udp-proxy: service '%s' is RUNNING (pid %lu)\n", a->name, (unsigned long)st.dwProcessId);
        status = 0;
    } else {
        describe_exit(&st, why, sizeof(why));
        fprintf(stderr,
                "udp-proxy: service start: service '%s' did not start: %s, %s; its log (--log-file, or the "
                "Application event log, source '%s') says why\n",
                a->name, state_name(st.dwCurrentState), why, a->name);
    }
out:
    if (svc)
        CloseServiceHandle(svc);
    if (scm)
        CloseServiceHandle(scm);
    return status;
}

static int stop(const struct svc_args *a)
{
    SC_HANDLE scm, svc;
    SERVICE_STATUS_PROCESS st;
    char why[400];
    int status = 1;

    svc = open_service(a, SC_MANAGER_CONNECT, SERVICE_STOP | SERVICE_QUERY_STATUS, &scm);
    if (!svc) {
        status = fail(a, scm ? "cannot open the service" : "cannot open the Service Control Manager");
        goto out;
    }
    if (query(svc, &st) && st.dwCurrentState == SERVICE_STOPPED) {
        printf("udp-proxy: service '%s' is not running\n", a->name);
        status = 0;
        goto out;
    }
    if (!stop_and_wait(svc, &st)) {
        status = fail(a, "cannot stop the service");
        goto out;
    }
    describe_exit(&st, why, sizeof(why));
    if (st.dwCurrentState == SERVICE_STOPPED) {
        printf("udp-proxy: service '%s' is STOPPED (%s)\n", a->name, why);
        status = 0;
    } else {
        fprintf(stderr, "udp-proxy: service stop: service '%s' is still %s\n", a->name, state_name(st.dwCurrentState));
    }
out:
    if (svc)
        CloseServiceHandle(svc);
    if (scm)
        CloseServiceHandle(scm);
    return status;
}

static int status_of(const struct svc_args *a)
{
    SC_HANDLE scm, svc;
    SERVICE_STATUS_PROCESS st;
    char why[400];
    int status = 1;

    svc = open_service(a, SC_MANAGER_CONNECT, SERVICE_QUERY_STATUS, &scm);
    if (!svc) {
        status = fail(a, scm ? "cannot open the service" : "cannot open the Service Control Manager");
        goto out;
    }
    if (!query(svc, &st)) {
        status = fail(a, "cannot query the service");
        goto out;
    }
    if (st.dwCurrentState == SERVICE_RUNNING) {
        printf("service '%s': RUNNING (pid %lu)\n", a->name, (unsigned long)st.dwProcessId);
        status = 0;
    } else {
        describe_exit(&st, why, sizeof(why));
        printf("service '%s': %s (%s)\n", a->name, state_name(st.dwCurrentState), why);
        status = 3;
    }
out:
    if (svc)
        CloseServiceHandle(svc);
    if (scm)
        CloseServiceHandle(scm);
    return status;
}

/* ---- running under the SCM -------------------------------------------------- */

/* Set by `service run` before the dispatcher starts. */
static struct svc_args run_args;
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
    up_options_defaults(&o);
    int action = up_options_parse(&o, run_args.run_argc, run_args.run_argv, 0, err, sizeof(err));
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

static int run_dispatcher(const struct svc_args *a)
{
    run_args = *a;
    InitializeCriticalSection(&status_lock);
    SERVICE_TABLE_ENTRYA table[] = {{(char *)a->name, service_main}, {NULL, NULL}};
    if (StartServiceCtrlDispatcherA(table))
        return 0;
    if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
        fprintf(stderr, "udp-proxy: 'service run' is what the Service Control Manager starts; in a console, run\n"
                        "udp-proxy with the run flags alone (udp-proxy --target ...)\n");
        return 2;
    }
    return fail(a, "cannot connect to the Service Control Manager");
}

int up_service_main(int argc, char **argv)
{
    struct svc_args a;
    int r = parse_args(argc, argv, &a);
    if (r != 0)
        return r;
    if (strcmp(a.verb, "install") == 0)
        return install(&a);
    if (strcmp(a.verb, "uninstall") == 0)
        return uninstall(&a);
    if (strcmp(a.verb, "start") == 0)
        return start(&a);
    if (strcmp(a.verb, "stop") == 0)
        return stop(&a);
    if (strcmp(a.verb, "status") == 0)
        return status_of(&a);
    return run_dispatcher(&a);
}
