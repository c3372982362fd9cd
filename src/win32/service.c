/*
 * win32/service.c - the `udp-proxy service` subcommand: install and manage
 * the Windows service (see service.h).
 *
 * Management verbs (install, uninstall, start, stop, status, reload) talk to
 * the Service Control Manager (SCM) and exit. `install` validates the run
 * flags (and the --config file they name) as a console run reads them,
 * then stores them in the service's command line behind an explicit marker:
 *
 *   "C:\...\udp-proxy.exe" service run --name N -- --source :8125 --target ...
 *
 * so only a process started by the SCM ever calls the service dispatcher;
 * a console run never waits on the SCM.
 *
 * The service side (what `service run` does under the SCM) is in
 * service_run.c.
 */
#include <stdio.h>
#include <string.h>

#include "../config.h"
#include "../error.h"
#include "../options.h"
#include "../platform.h"
#include "../service.h"
#include "service_run.h"

#define DEFAULT_NAME "udp-proxy"
#define DEFAULT_DISPLAY "UDP Proxy" /* for --name udp-proxy; "UDP Proxy (NAME)" for others */
#define DEFAULT_DESCRIPTION "UDP proxy for dual-write metrics"
#define SERVICE_ACCOUNT "NT AUTHORITY\\LocalService"
#define NAME_MAX_LEN 256
#define CMDLINE_MAX 32767 /* CreateProcess' limit */
#define EVENTLOG_KEY "SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"

/* The subcommand's arguments. */
struct svc_args {
    const char *verb;
    const char *name;
    const char *display;
    const char *description;
    char display_used[NAME_MAX_LEN + 16]; /* the display name given to the SCM (install) */
    int run_argc;                         /* flags after "--" */
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
        fprintf(stderr,
                "udp-proxy: service %s: another service already uses the display name '%s' "
                "(choose another with --display-name)\n",
                a->verb, a->display_used);
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
            "       udp-proxy service uninstall|start|stop|status|reload [--name N]\n",
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
        strcmp(a->verb, "stop") != 0 && strcmp(a->verb, "status") != 0 && strcmp(a->verb, "reload") != 0)
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

/* C:\x, C:/x or \\server\share\x. */
static bool is_absolute(const char *path)
{
    if (path[0] == '\\' && path[1] == '\\')
        return true;
    return path[0] != '\0' && path[1] == ':' && (path[2] == '\\' || path[2] == '/');
}

/* Parse and resolve the run flags as a console run would. Returns 0, or 2
 * with the message in err. */
static int check_run_flags(const struct svc_args *a, struct up_options *o, char *err, size_t errlen)
{
    /* A service starts in C:\Windows\System32: a relative --config path
     * would not be found there. Checked before the file is read. */
    up_options_defaults(o);
    if (up_options_parse_lax(o, a->run_argc, a->run_argv, 0, err, errlen) == UP_OPTIONS_RUN && o->config[0] &&
        !is_absolute(o->config)) {
        snprintf(err, errlen,
                 "--config: '%s' must be an absolute path such as C:\\ProgramData\\udp-proxy\\udp-proxy.conf "
                 "(a service starts in C:\\Windows\\System32)",
                 o->config);
        return 2;
    }
    /* argv[-1] is "--": up_config_load skips argv[0], as main() does. */
    int action = up_config_load(o, a->run_argc + 1, a->run_argv - 1, err, errlen);
    if (action < 0)
        return 2;
    if (action != UP_OPTIONS_RUN) {
        snprintf(err, errlen, "--help and --version are not run flags");
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

/* Stop and wait (up to a minute) for STOPPED. */
static bool stop_and_wait(SC_HANDLE svc, SERVICE_STATUS_PROCESS *st)
{
    SERVICE_STATUS ss;
    /* Not running, or already stopping (STOP_PENDING refuses controls): wait all the same. */
    if (!ControlService(svc, SERVICE_CONTROL_STOP, &ss) && GetLastError() != ERROR_SERVICE_NOT_ACTIVE &&
        GetLastError() != ERROR_SERVICE_CANNOT_ACCEPT_CTRL)
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

static int install(struct svc_args *a)
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
    /* Display names must be unique too: a second instance gets its own. */
    if (a->display)
        snprintf(a->display_used, sizeof(a->display_used), "%s", a->display);
    else if (strcmp(a->name, DEFAULT_NAME) == 0)
        snprintf(a->display_used, sizeof(a->display_used), "%s", DEFAULT_DISPLAY);
    else
        snprintf(a->display_used, sizeof(a->display_used), "%s (%s)", DEFAULT_DISPLAY, a->name);
    const char *display = a->display_used;
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

static int uninstall(const struct svc_args *a, SC_HANDLE svc)
{
    SERVICE_STATUS_PROCESS st;
    char key[sizeof(EVENTLOG_KEY) + NAME_MAX_LEN];

    if (query(svc, &st) && st.dwCurrentState != SERVICE_STOPPED) {
        printf("udp-proxy: stopping service '%s'...\n", a->name);
        if (!stop_and_wait(svc, &st) || st.dwCurrentState != SERVICE_STOPPED)
            fprintf(stderr, "udp-proxy: warning: service '%s' did not stop (%s); removing it anyway\n", a->name,
                    state_name(st.dwCurrentState));
    }
    if (!DeleteService(svc))
        return fail(a, "cannot remove the service");
    snprintf(key, sizeof(key), "%s%s", EVENTLOG_KEY, a->name);
    RegDeleteKeyA(HKEY_LOCAL_MACHINE, key);
    printf("udp-proxy: removed service '%s'\n", a->name);
    return 0;
}

/* ---- start / stop / status -------------------------------------------------- */

static int start(const struct svc_args *a, SC_HANDLE svc)
{
    SERVICE_STATUS_PROCESS st;
    char why[400];

    if (!StartServiceA(svc, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
        return fail(a, "cannot start the service");
    /* START_PENDING lasts until the source socket is bound. */
    if (!wait_while(svc, SERVICE_START_PENDING, 30000, &st))
        return fail(a, "cannot query the service");
    if (st.dwCurrentState == SERVICE_RUNNING) {
        printf("udp-proxy: service '%s' is RUNNING (pid %lu)\n", a->name, (unsigned long)st.dwProcessId);
        return 0;
    }
    describe_exit(&st, why, sizeof(why));
    fprintf(stderr,
            "udp-proxy: service start: service '%s' did not start: %s, %s; its log (--log-file, or the "
            "Application event log, source '%s') says why\n",
            a->name, state_name(st.dwCurrentState), why, a->name);
    return 1;
}

static int stop(const struct svc_args *a, SC_HANDLE svc)
{
    SERVICE_STATUS_PROCESS st;
    char why[400];

    if (query(svc, &st) && st.dwCurrentState == SERVICE_STOPPED) {
        printf("udp-proxy: service '%s' is not running\n", a->name);
        return 0;
    }
    if (!stop_and_wait(svc, &st))
        return fail(a, "cannot stop the service");
    if (st.dwCurrentState != SERVICE_STOPPED) {
        fprintf(stderr, "udp-proxy: service stop: service '%s' is still %s\n", a->name, state_name(st.dwCurrentState));
        return 1;
    }
    describe_exit(&st, why, sizeof(why));
    printf("udp-proxy: service '%s' is STOPPED (%s)\n", a->name, why);
    return 0;
}

static int status_of(const struct svc_args *a, SC_HANDLE svc)
{
    SERVICE_STATUS_PROCESS st;
    char why[400];

    if (!query(svc, &st))
        return fail(a, "cannot query the service");
    if (st.dwCurrentState == SERVICE_RUNNING) {
        printf("service '%s': RUNNING (pid %lu)\n", a->name, (unsigned long)st.dwProcessId);
        return 0;
    }
    describe_exit(&st, why, sizeof(why));
    printf("service '%s': %s (%s)\n", a->name, state_name(st.dwCurrentState), why);
    return 3;
}

/* PARAMCHANGE: the service re-reads its --config file (as SIGHUP on Linux)
 * and logs "reload: done" or why it kept the running configuration. */
static int reload(const struct svc_args *a, SC_HANDLE svc)
{
    SERVICE_STATUS ss;
    SERVICE_STATUS_PROCESS st;
    if (query(svc, &st) && st.dwCurrentState != SERVICE_RUNNING) {
        fprintf(stderr, "udp-proxy: service reload: service '%s' is %s, not RUNNING\n", a->name,
                state_name(st.dwCurrentState));
        return 1;
    }
    if (!ControlService(svc, SERVICE_CONTROL_PARAMCHANGE, &ss))
        return fail(a, "cannot send the reload request (PARAMCHANGE)");
    printf("udp-proxy: service '%s': reload requested; its log (--log-file, or the Application event log) says "
           "'reload: done' or why the running configuration stays\n",
           a->name);
    return 0;
}

/* Open the installed service a->name with `access`, run verb on it, close. */
static int on_service(const struct svc_args *a, DWORD access, int (*verb)(const struct svc_args *, SC_HANDLE))
{
    SC_HANDLE scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CONNECT);
    if (!scm)
        return fail(a, "cannot open the Service Control Manager");
    SC_HANDLE svc = OpenServiceA(scm, a->name, access);
    int status = svc ? verb(a, svc) : fail(a, "cannot open the service");
    if (svc)
        CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return status;
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
        return on_service(&a, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE, uninstall);
    if (strcmp(a.verb, "start") == 0)
        return on_service(&a, SERVICE_START | SERVICE_QUERY_STATUS, start);
    if (strcmp(a.verb, "stop") == 0)
        return on_service(&a, SERVICE_STOP | SERVICE_QUERY_STATUS, stop);
    if (strcmp(a.verb, "status") == 0)
        return on_service(&a, SERVICE_QUERY_STATUS, status_of);
    if (strcmp(a.verb, "reload") == 0)
        return on_service(&a, SERVICE_PAUSE_CONTINUE | SERVICE_QUERY_STATUS, reload);
    return up_service_run(a.name, a.run_argc, a.run_argv);
}
