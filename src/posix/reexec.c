/*
 * posix/reexec.c - execve in place with the source sockets (see reexec.h),
 * and the platform side of handover.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../error.h"
#include "../handover.h"
#include "../platform.h"
#include "../reexec.h"

extern char **environ;

static char exe_path[PATH_MAX]; /* absolute path, fixed at start */
static char **exe_argv;
static int exe_errno; /* why exe_path could not be found at start */

int up_reexec_init(int argc, char **argv)
{
    (void)argc;
    exe_argv = argv;
    exe_errno = 0;
    if (argv[0] && strchr(argv[0], '/')) {
        if (argv[0][0] == '/') {
            snprintf(exe_path, sizeof(exe_path), "%s", argv[0]);
            return UP_OK;
        }
        char cwd[PATH_MAX];
        const char *rel = argv[0];
        while (rel[0] == '.' && rel[1] == '/')
            rel += 2; /* "./udp-proxy": the log says /dir/udp-proxy */
        if (getcwd(cwd, sizeof(cwd)) &&
            (size_t)snprintf(exe_path, sizeof(exe_path), "%s/%s", cwd, rel) < sizeof(exe_path))
            return UP_OK;
    }
    /* Found through $PATH: the file the kernel ran (now, before any upgrade). */
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
    if (n <= 0) {
        exe_errno = errno ? errno : ENOENT;
        exe_path[0] = '\0';
        return up_error_from_sys(exe_errno);
    }
    exe_path[n] = '\0';
    return UP_OK;
}

const char *up_reexec_path(void)
{
    return exe_path;
}

/* The file at the path: a regular file we may execute. */
static int file_check(char *err, size_t errlen)
{
    struct stat st;
    int e = 0;
    if (!exe_path[0])
        e = exe_errno ? exe_errno : ENOENT;
    else if (stat(exe_path, &st) < 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = EACCES;
    else if (access(exe_path, X_OK) < 0)
        e = errno;
    if (!e)
        return UP_OK;
    char buf[128];
    snprintf(err, errlen, "cannot execute %s: %s", exe_path[0] ? exe_path : "(path unknown)",
             strerror_r(e, buf, sizeof(buf)));
    return up_error_from_sys(e);
}

/* Run the file with our arguments plus --check-config, as the new image
 * would start: it must be a program this system can run (not truncated, its
 * libraries present) and accept the configuration. Its first output line
 * goes into err when it does not. Bounded by TRIAL_TIMEOUT_MS. */
#define TRIAL_TIMEOUT_MS 10000
#define TRIAL_ARGS_MAX 1024

static int trial_run(char *err, size_t errlen)
{
    char *args[TRIAL_ARGS_MAX + 2];
    size_t n = 0;
    while (exe_argv[n] && n < TRIAL_ARGS_MAX) {
        args[n] = exe_argv[n];
        n++;
    }
    args[n++] = (char *)"--check-config";
    args[n] = NULL;

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot try %s: pipe: %s", exe_path, strerror(errno));
        return up_last_error();
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none;
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigmask(&at, &none); /* ours blocks the stop signals */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int e = posix_spawn(&pid, exe_path, &fa, &at, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[1]);
    if (e != 0) {
        close(fds[0]);
        char buf[128];
        snprintf(err, errlen, "cannot execute %s: %s", exe_path, strerror_r(e, buf, sizeof(buf)));
        return up_error_from_sys(e);
    }
    char out[512];
    size_t got = 0;
    bool timed_out = false;
    uint64_t end = up_now_ns() + (uint64_t)TRIAL_TIMEOUT_MS * 1000000u;
    for (;;) {
        uint64_t now = up_now_ns();
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        if (now >= end || poll(&pfd, 1, (int)((end - now) / 1000000u) + 1) == 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        char chunk[256];
        ssize_t r = read(fds[0], chunk, sizeof(chunk));
        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
            break; /* end of output: the trial has exited (or closed it) */
        for (ssize_t i = 0; i < r && got < sizeof(out) - 1; i++)
            out[got++] = chunk[i];
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    out[got] = '\0';
    out[strcspn(out, "\n")] = '\0';
    if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return UP_OK;
    if (timed_out)
        snprintf(err, errlen, "%s --check-config did not finish within %d s", exe_path, TRIAL_TIMEOUT_MS / 1000);
    else if (WIFEXITED(status))
        snprintf(err, errlen, "%s --check-config failed (exit %d): %s", exe_path, WEXITSTATUS(status),
                 got ? out : "(no output)");
    else
        snprintf(err, errlen, "%s --check-config was killed by signal %d: %s", exe_path,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0, got ? out : "(no output)");
    return UP_EINVAL;
}

int up_reexec_check(char *err, size_t errlen)
{
    int r = file_check(err, errlen);
    return r == UP_OK ? trial_run(err, errlen) : r;
}

/* Everything but stdin/stdout/stderr closes at the exec (a descriptor
 * opened without O_CLOEXEC, such as the --log-file, must not pile up over
 * re-execs); the caller then clears the flag on the sockets to pass. */
static void all_cloexec(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return; /* no /proc: only what was opened close-on-exec closes */
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != self) {
            int fl = fcntl(fd, F_GETFD);
            if (fl >= 0 && !(fl & FD_CLOEXEC))
                fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
        }
    }
    closedir(d);
}

static void set_cloexec(const up_sock *socks, size_t n, bool on)
{
    for (size_t i = 0; i < n; i++) {
        int fl = fcntl(socks[i], F_GETFD);
        if (fl >= 0)
            fcntl(socks[i], F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
    }
}

int up_reexec(const up_sock *socks, size_t n, char *err, size_t errlen)
{
    char list[16 + UP_HANDOVER_MAX * 12];
    size_t used = (size_t)snprintf(list, sizeof(list), "%ld:", (long)getpid());
    int r = file_check(err, errlen);
    if (r != UP_OK)
        return r;
    for (size_t i = 0; i < n && i < UP_HANDOVER_MAX; i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%d", i ? "," : "", socks[i]);
    if (setenv(UP_HANDOVER_ENV, list, 1) < 0) {
        snprintf(err, errlen, "cannot set %s: out of memory", UP_HANDOVER_ENV);
        return UP_ENOMEM;
    }
    all_cloexec();
    set_cloexec(socks, n, false);
    execve(exe_path, exe_argv, environ);
    int e = errno; /* still here: the exec failed */
    set_cloexec(socks, n, true);
    unsetenv(UP_HANDOVER_ENV);
    char buf[128];
    snprintf(err, errlen, "execve %s: %s", exe_path, strerror_r(e, buf, sizeof(buf)));
    return up_error_from_sys(e);
}

/* ---- handover.h, platform side ------------------------------------------ */

long up_process_id(void)
{
    return (long)getpid();
}

void up_env_unset(const char *name)
{
    unsetenv(name);
}

bool up_sock_is_dgram(up_sock s)
{
    int type = 0;
    socklen_t len = sizeof(type);
    return getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM;
}

void up_sock_cloexec(up_sock s)
{
    set_cloexec(&s, 1, true);
}

int up_sock_rcvbuf(up_sock s)
{
    int got = 0;
    socklen_t len = sizeof(got);
    if (getsockopt(s, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
        return 0;
    return got / 2; /* Linux reports twice the size asked (see up_sock_set_buffer) */
}
