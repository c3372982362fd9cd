/*
 * posix/ctrl.c - stop and reload requests through signals (POSIX).
 *
 * SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 (re-exec) are blocked in every thread (the mask is
 * inherited by threads started later) and taken synchronously by the main
 * thread in up_ctrl_wait() with sigtimedwait(): no asynchronous handler, no
 * async-signal-safety traps. SIGPIPE is ignored. SIGUSR1 asks for the log
 * file to be reopened (logrotate's convention); by default it would kill
 * the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "../error.h"
#include "../platform.h"

static sigset_t ctrl_set;

int up_ctrl_init(void)
{
    sigemptyset(&ctrl_set);
    sigaddset(&ctrl_set, SIGINT);
    sigaddset(&ctrl_set, SIGTERM);
    sigaddset(&ctrl_set, SIGHUP);
    sigaddset(&ctrl_set, SIGUSR1);
    sigaddset(&ctrl_set, SIGUSR2);
    signal(SIGPIPE, SIG_IGN);
    if (pthread_sigmask(SIG_BLOCK, &ctrl_set, NULL) != 0)
        return UP_EIO;
    return UP_OK;
}

int up_ctrl_wait(int timeout_ms)
{
    struct timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
    int sig = timeout_ms < 0 ? sigwaitinfo(&ctrl_set, NULL) : sigtimedwait(&ctrl_set, NULL, &ts);
    if (sig < 0)
        return UP_CTRL_NONE; /* timeout or EINTR */
    if (sig == SIGUSR2)
        return UP_CTRL_REEXEC;
    return sig == SIGHUP ? UP_CTRL_RELOAD : sig == SIGUSR1 ? UP_CTRL_REOPEN : UP_CTRL_STOP;
}

void up_ctrl_request_stop(void)
{
    kill(getpid(), SIGTERM);
}
