/*
 * statscmd.h - `udp-proxy stats`: a live view of a running proxy, read from
 * its Prometheus /metrics endpoint (see statscmd.c).
 */
#ifndef UP_STATSCMD_H
#define UP_STATSCMD_H

/* Where the stats command looks for the proxy's config file (its
 * metrics-listen gives the URL) when neither --metrics-url nor --config is
 * given. */
#ifdef _WIN32
#define UP_STATS_DEFAULT_CONFIG "C:\\ProgramData\\udp-proxy\\udp-proxy.conf"
#else
#define UP_STATS_DEFAULT_CONFIG "/etc/udp-proxy/udp-proxy.conf"
#endif

/* Run `udp-proxy stats ...` (argv[1] is "stats"). Returns the exit status:
 * 0 after --count refreshes (or help), 1 when the endpoint cannot be
 * reached or its answer cannot be parsed, 2 for bad usage or a config file
 * without metrics-listen. */
int up_statscmd_main(int argc, char **argv);

#endif
