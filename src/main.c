/* main.c - command-line entry point: parse flags, run until stopped. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_write.h"
#include "error.h"
#include "handover.h"
#include "log.h"
#include "notify.h"
#include "options.h"
#include "platform.h"
#include "reexec.h"
#include "run.h"
#include "settings.h"
#include "service.h"
#include "statscmd.h"

#ifndef UP_VERSION
#define UP_VERSION "dev"
#endif

/* up_run()'s ready callback: the source is bound and the threads run. */
static void notify_ready(void *ctx)
{
    (void)ctx;
    up_notify_ready(); /* systemd Type=notify; a no-op elsewhere */
}

/* --check-config: one setting per line. */
static void print_setting(void *ctx, const char *line)
{
    fprintf(ctx, "  %s\n", line);
}

int main(int argc, char **argv)
{
    static struct up_options o; /* large: keep it off the stack */
    char err[600];

    if (argc > 1 && strcmp(argv[1], "service") == 0)
        return up_service_main(argc, argv); /* Windows service; elsewhere an error */
    if (argc > 1 && strcmp(argv[1], "stats") == 0)
        return up_statscmd_main(argc, argv); /* live view of a running proxy's /metrics */
    if (argc > 1 && strcmp(argv[1], "config-write") == 0)
        return up_config_write_main(argc, argv); /* set source and targets in a file (installers) */
    up_reexec_init(argc, argv);                  /* the path SIGUSR2 executes (a failure is reported then) */
    /* Defaults, then the --config file, then the command line over it. */
    int action = up_config_load(&o, argc, argv, err, sizeof(err));
    if (action < 0) {
        fprintf(stderr, "udp-proxy: %s\nTry 'udp-proxy --help' for more information.\n", err);
        return 2;
    }
    if (action == UP_OPTIONS_HELP) {
        up_options_usage(stdout);
        return 0;
    }
    if (action == UP_OPTIONS_VERSION) {
        printf("udp-proxy %s\n", UP_VERSION);
        return 0;
    }
    up_log_set_level(o.log_level);
    up_log_set_max_size((uint64_t)o.log_max_size);
    up_log_set_journal(up_notify_journal_stderr()); /* under systemd: "<N>" priorities */
    if (o.log_file[0] && !o.check_config) {         /* a dry run creates no file */
        int r = up_log_set_file(o.log_file);
        if (r != UP_OK) {
            fprintf(stderr, "udp-proxy: --log-file: cannot open '%s': %s\n", o.log_file, up_strerror(r));
            return 2;
        }
    }
    if (up_net_init() != UP_OK || up_ctrl_init() != UP_OK) {
        fprintf(stderr, "udp-proxy: cannot initialise the platform layer\n");
        return 1;
    }
    int rr = up_options_resolve(&o, err, sizeof(err));
    if (rr == UP_ETIMEDOUT) {
        /* The resolver could not be asked (yet): not a configuration
         * error. Exit 1, which a service manager restarts (exit 2 it does
         * not: docs/SYSTEMD.md). */
        fprintf(stderr,
                "udp-proxy: %s (a temporary failure of name resolution: exit status 1, try again later, or "
                "--allow-unresolved to start without the name)\n",
                err);
        return 1;
    }
    if (rr != UP_OK) {
        fprintf(stderr, "udp-proxy: %s\nTry 'udp-proxy --help' for more information.\n", err);
        return 2;
    }
    if (o.check_config) {
        printf("udp-proxy: configuration ok%s%s%s (%zu target(s))\n", o.config[0] ? " (" : "", o.config,
               o.config[0] ? ")" : "", o.ntargets);
        up_settings_describe(&o, print_setting, stdout);
        return 0;
    }
    /* Sockets from our previous image (SIGUSR2) or from systemd: the proxy
     * takes them instead of binding (handover.h). */
    size_t inherited = 0;
    enum up_handover_from from = up_handover_collect(&inherited);
    if (from != UP_HANDOVER_NONE)
        up_log(UP_LOG_INFO, "udp-proxy %s starting (%s, %zu sockets inherited)", UP_VERSION,
               from == UP_HANDOVER_REEXEC ? "re-exec" : "socket activation", inherited);
    return up_run(&o, notify_ready, NULL);
}
