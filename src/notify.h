/*
 * notify.h - tell the service manager how the daemon is doing.
 *
 * On Linux this speaks systemd's notification protocol (sd_notify(3))
 * directly, without libsystemd: a service started with Type=notify finds a
 * Unix datagram socket named in $NOTIFY_SOCKET (a path, or an abstract
 * socket written with a leading '@') and sends it one datagram of
 * newline-separated KEY=VALUE assignments per state change:
 *
 *   READY=1                    start-up finished (the source is bound, the
 *                              threads run): `systemctl start` returns
 *   RELOADING=1                a reload began (SIGHUP); READY=1 ends it
 *   MONOTONIC_USEC=N           sent with RELOADING=1 (CLOCK_MONOTONIC, in
 *                              microseconds), as Type=notify-reload wants
 *   STOPPING=1                 a stop request arrived: draining
 *
 * When $NOTIFY_SOCKET is unset (not started by systemd, or not Type=notify)
 * and on Windows (the service control manager is driven elsewhere), every
 * function does nothing and returns UP_OK. The datagrams come from the
 * main process, which systemd's default NotifyAccess=main requires.
 *
 * Failures never stop the daemon: the first one is logged as a warning
 * (later ones are not, so a broken socket cannot flood the log) and its
 * code returned; callers may ignore it.
 *
 * Returns (every function): UP_OK when sent or when there is nothing to
 * notify; UP_EINVAL when $NOTIFY_SOCKET is neither an absolute path nor
 * '@'-abstract or is too long; otherwise the socket error (error.h).
 */
#ifndef UP_NOTIFY_H
#define UP_NOTIFY_H

/* READY=1 (also ends a reload). */
int up_notify_ready(void);

/* STOPPING=1. */
int up_notify_stopping(void);

/* RELOADING=1 with MONOTONIC_USEC; follow it with up_notify_ready(). */
int up_notify_reloading(void);

/* 1 when standard error is connected to systemd's journal: $JOURNAL_STREAM
 * ("DEVICE:INODE", set by systemd for StandardError=journal) names the
 * very file standard error is (a redirection, e.g. `2>file`, breaks the
 * match). 0 otherwise, and always on Windows. See systemd.exec(5). */
int up_notify_journal_stderr(void);

#endif
