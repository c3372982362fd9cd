/*
 * win32/service_run.h - run udp-proxy as a service under the Service Control
 * Manager (service_run.c); `udp-proxy service run` calls it.
 */
#ifndef UP_WIN32_SERVICE_RUN_H
#define UP_WIN32_SERVICE_RUN_H

/* Connect to the SCM as the service `name` and run with the run flags
 * argv[0..argc) until the SCM stops it. Returns the process exit status:
 * 0 once the service has stopped (its own failure, if any, went to the SCM
 * as the service-specific exit code), 2 when not started by the SCM (from
 * a console), 1 on another failure to reach the SCM. */
int up_service_run(const char *name, int argc, char *const *argv);

#endif
