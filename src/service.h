/*
 * service.h - the `udp-proxy service ...` subcommand: run as, and manage,
 * a Windows service.
 *
 *   udp-proxy service install [--name N] [--display-name D] [--description T] -- <run flags>
 *   udp-proxy service uninstall|start|stop|status [--name N]
 *   udp-proxy service run --name N -- <run flags>      (what the SCM starts)
 *
 * Windows: src/win32/service.c. Elsewhere (src/posix/service.c) every form
 * prints that services exist only on Windows and returns 2.
 */
#ifndef UP_SERVICE_H
#define UP_SERVICE_H

/* argv[1] is "service". Returns the process exit status: 0 success, 1 a
 * runtime error (not elevated, already installed, not installed, failed to
 * start...), 2 bad usage; `status` returns 3 when the service is installed
 * but not running. Messages go to standard error (standard output for
 * `status` and success notes). */
int up_service_main(int argc, char **argv);

#endif
