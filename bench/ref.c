/* ref.c - command line, source socket and stop signal of the bench references (see ref.h). */
#define _GNU_SOURCE
#include "ref.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "platform.h"

static const char *usage_prog, *usage_what;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s --source ADDR --target ADDR [--target ADDR ...] [--rcvbuf BYTES]\n"
            "\n"
            "Benchmark reference forwarder (one thread): %s.\n"
            "\n"
            "  --source ADDR    address to receive on (HOST:PORT, :PORT, [IPV6]:PORT)\n"
            "  --target ADDR    where to send every datagram; repeat, at most %d\n"
            "  --rcvbuf BYTES   source socket receive buffer, 4K..1G (default 4M)\n"
            "  --help, -h       show this help and exit\n"
            "\n"
            "SIGINT/SIGTERM: print received=, sent=, send_errors= and kernel_drops= on\n"
            "standard error, exit 0.\n",
            usage_prog, usage_what, UP_REF_TARGETS_MAX);
}

void up_ref_parse(struct up_ref_config *c, const char *prog, const char *what, int argc, char **argv)
{
    static char source[1][UP_ADDR_TEXT_MAX], targets[UP_REF_TARGETS_MAX][UP_ADDR_TEXT_MAX];
    memset(c, 0, sizeof(*c));
    c->rcvbuf = 4 << 20;
    usage_prog = prog;
    usage_what = what;
    struct up_cli_flag flags[] = {
        {"source", UP_CLI_ADDR, 0, 0, NULL, 0, true, 1, source, 0},
        {"target", UP_CLI_ADDR, 0, 0, NULL, 0, true, UP_REF_TARGETS_MAX, targets, 0},
        {"rcvbuf", UP_CLI_SIZE, 4096, 1 << 30, NULL, 0, false, 0, &c->rcvbuf, 0},
    };
    up_cli_parse(prog, flags, sizeof(flags) / sizeof(flags[0]), argc, argv, usage);
    up_cli_resolve(prog, "source", source[0], true, &c->source);
    c->ntargets = flags[1].given;
    for (size_t i = 0; i < c->ntargets; i++)
        up_cli_resolve(prog, "target", targets[i], false, &c->targets[i]);
}

int up_ref_open_source(const struct up_ref_config *c, up_sock *out)
{
    up_sock s;
    int r = up_net_init();
    if (r == UP_OK)
        r = up_udp_open(c->source.ss.ss_family, false, &s);
    if (r != UP_OK) {
        fprintf(stderr, "cannot open a socket for %s: %s\n", c->source.text, up_strerror(r));
        return r;
    }
    int got = 0;
    if (up_sock_set_buffer(s, true, (int)c->rcvbuf, &got) == UP_ERANGE)
        fprintf(stderr, "warning: receive buffer capped at %d bytes (asked %llu)\n", got,
                (unsigned long long)c->rcvbuf);
    up_sock_set_rcvtimeo(s, 200);
    r = up_udp_bind(s, (const struct sockaddr *)&c->source.ss, c->source.len, false, false);
    if (r != UP_OK) {
        fprintf(stderr, "cannot listen on %s: %s\n", c->source.text, up_strerror(r));
        up_sock_close(s);
        return r;
    }
    *out = s;
    return UP_OK;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void up_ref_on_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked receive returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool up_ref_stopping(void)
{
    return stop_requested != 0;
}

void up_ref_report(const char *prog, up_sock src, uint64_t received, uint64_t sent, uint64_t send_errors)
{
    uint64_t drops = 0;
    up_sock_rx_drops(src, &drops);
    fprintf(stderr, "%s: received=%llu sent=%llu send_errors=%llu kernel_drops=%llu\n", prog,
            (unsigned long long)received, (unsigned long long)sent, (unsigned long long)send_errors,
            (unsigned long long)drops);
}
