/* loops.c - refuse settings that would make the proxy send to itself (see loops.h). */
#include "loops.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "error.h"
#include "platform.h"

/* The IPv4 address inside an IPv4-mapped IPv6 address, or the address
 * itself, as family + bytes. */
struct host {
    int family;
    uint8_t bytes[16];
    uint16_t port; /* host order */
};

static bool host_of(const struct sockaddr_storage *ss, struct host *h)
{
    memset(h, 0, sizeof(*h));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        h->family = AF_INET;
        memcpy(h->bytes, &s4->sin_addr, 4);
        h->port = ntohs(s4->sin_port);
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        h->port = ntohs(s6->sin6_port);
        if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
            h->family = AF_INET;
            memcpy(h->bytes, (const uint8_t *)&s6->sin6_addr + 12, 4);
        } else {
            h->family = AF_INET6;
            memcpy(h->bytes, &s6->sin6_addr, 16);
        }
        return true;
    }
    return false;
}

static bool is_any(const struct host *h)
{
    static const uint8_t zero[16];
    return memcmp(h->bytes, zero, h->family == AF_INET ? 4 : 16) == 0;
}

/* Does this host own the address? A probe socket bound to it with port 0
 * tells (UP_EADDRNOTAVAIL when it is not ours). The wildcard counts as
 * ours: datagrams sent to it arrive here. */
static bool is_local(const struct host *h)
{
    if (is_any(h))
        return true;
    struct sockaddr_storage ss;
    up_socklen len;
    memset(&ss, 0, sizeof(ss));
    if (h->family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, h->bytes, 4);
        len = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, h->bytes, 16);
        len = sizeof(*s6);
    }
    up_sock s;
    if (up_udp_open(h->family, true, &s) != UP_OK)
        return false;
    int r = up_udp_bind(s, (const struct sockaddr *)&ss, len, false, h->family == AF_INET6);
    up_sock_close(s);
    return r == UP_OK;
}

/* Would a datagram sent to target t arrive on listener l? */
static bool loops_into(const struct up_addr *t, const struct up_addr *l)
{
    if (!t->len || !l->len)
        return false;
    if (t->ss.ss_family == AF_UNIX || l->ss.ss_family == AF_UNIX)
        return t->ss.ss_family == l->ss.ss_family && up_addr_equal(t, l);
    struct host th, lh;
    if (!host_of(&t->ss, &th) || !host_of(&l->ss, &lh) || th.port != lh.port)
        return false;
    if (is_any(&lh)) {
        /* [::] (the default ":PORT" source) takes IPv4 too; 0.0.0.0 only IPv4. */
        if (lh.family == AF_INET && th.family != AF_INET)
            return false;
        return is_local(&th);
    }
    if (th.family != lh.family)
        return false;
    if (is_any(&th)) /* a target 0.0.0.0 / [::] means this host */
        return true;
    return memcmp(th.bytes, lh.bytes, th.family == AF_INET ? 4 : 16) == 0;
}

const char *up_loops_into(const struct up_options *o, const struct up_addr *a)
{
    if (loops_into(a, &o->source_addr))
        return "--source";
    if (o->metrics_listen[0] && loops_into(a, &o->metrics_addr))
        return "--metrics-listen";
    return NULL;
}

int up_loops_check(const struct up_options *o, char *err, size_t errlen)
{
    for (size_t i = 0; i < o->ntargets; i++) {
        const struct up_addr *t = &o->target_addrs[i];
        const char *what = up_loops_into(o, t);
        if (!what)
            continue;
        const char *text = strcmp(what, "--source") == 0 ? o->source : o->metrics_listen;
        char a[80] = "";
        if (t->ss.ss_family != AF_UNIX)
            up_addr_format((const struct sockaddr *)&t->ss, a, sizeof(a));
        snprintf(err, errlen,
                 "--target '%s'%s%s%s is the proxy's own %s '%s': every datagram would come back and be sent again "
                 "(a loop); point the target elsewhere",
                 o->targets[i], a[0] ? " (" : "", a, a[0] ? ")" : "", what, text);
        return UP_EINVAL;
    }
    /* --statsd-self sends too: into the source, the proxy's own counters
     * would come back through it and be counted and sent again. */
    if (o->statsd_self[0] && loops_into(&o->statsd_self_addr, &o->source_addr)) {
        snprintf(err, errlen,
                 "--statsd-self '%s' is the proxy's own --source '%s': its own metrics would come back through it "
                 "(a loop); send them to the agent instead",
                 o->statsd_self, o->source);
        return UP_EINVAL;
    }
    return UP_OK;
}
