/*
 * loops.h - refuse settings that would make the proxy send to itself.
 *
 * A target that is the proxy's own source (or any address:port it listens
 * on) returns every datagram to the proxy, which sends it again: one
 * datagram becomes an endless stream. Checked wherever settings are
 * accepted: at start, by --check-config and at reload.
 */
#ifndef UP_LOOPS_H
#define UP_LOOPS_H

#include <stddef.h>

#include "options.h"

/* UP_OK, or UP_EINVAL with a message naming the target and the listener
 * it loops into. Checks every resolved target (a name still waiting for
 * its address is checked when it resolves: not here) against the source
 * and --metrics-listen, and --statsd-self against the source. A wildcard listener (":PORT", 0.0.0.0, [::])
 * receives on every local address: a target on any address of this host
 * with that port loops too (found by binding a probe socket to the
 * target's address with port 0: nothing is bound on the port itself). */
int up_loops_check(const struct up_options *o, char *err, size_t errlen);

/* Would a datagram sent to `a` come back to one of o's listeners (the
 * source, --metrics-listen)? For a target's new address after a lookup:
 * NULL when not, else the flag it loops into ("--source"...). */
const char *up_loops_into(const struct up_options *o, const struct up_addr *a);

#endif
