/*
 * win32/ctrl.h - what the Windows service adds to the control requests of
 * platform.h (ctrl.c).
 */
#ifndef UP_WIN32_CTRL_H
#define UP_WIN32_CTRL_H

#include <stdint.h>

/* Ask the control loop to re-read the --config file, as SIGHUP does on
 * POSIX (SERVICE_CONTROL_PARAMCHANGE): up_ctrl_wait() returns
 * UP_CTRL_RELOAD once per request (requests made before it runs merge).
 * Safe from any thread after up_ctrl_init(). */
void up_ctrl_request_reload(void);

/* Datagram sends the writers have tried so far (sent or failed; io_loop.c):
 * how the service tells a drain that moves on from one that hangs. */
uint64_t up_win_send_work(void);

#endif
