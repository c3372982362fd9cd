/*
 * addr.h - socket addresses as operators write them.
 *
 * Accepted forms: ":PORT" (all interfaces as a source, this host as a
 * target), "HOST:PORT" (HOST: a name or an IPv4 literal), "[IPV6]:PORT".
 * PORT is 1..65535. Names are resolved with the system resolver.
 */
#ifndef UP_ADDR_H
#define UP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define UP_ADDR_TEXT_MAX 300 /* longest address text accepted, with NUL */
#define UP_HOST_MAX 256      /* longest host part, with NUL */

struct up_addr {
    struct sockaddr_storage ss;  /* resolved address */
    up_socklen len;              /* bytes of ss in use */
    bool any_host;               /* written as ":PORT" (no host) */
    char text[UP_ADDR_TEXT_MAX]; /* as the operator wrote it */
};

/* Split text into host and port without resolving anything.
 * host receives the host part without brackets ("" for ":PORT").
 * Returns UP_OK; UP_EINVAL (no port, bad brackets, bad characters, too long);
 * UP_ERANGE (port 0, > 65535, or not a number). Never reads past the NUL. */
int up_addr_split(const char *text, char *host, size_t host_size, uint16_t *port);

/* Parse and resolve. passive: the address is to be bound (":PORT" means all
 * interfaces, IPv6 and IPv4); otherwise it is a target (":PORT" means this
 * host, 127.0.0.1). Returns the codes of up_addr_split, UP_ENOTFOUND for a
 * name that does not resolve. */
int up_addr_resolve(const char *text, bool passive, struct up_addr *out);

/* Format a socket address as "1.2.3.4:80" or "[::1]:80" into buf. */
void up_addr_format(const struct sockaddr *sa, char *buf, size_t size);

/* True when both hold the same family, address and port. */
bool up_addr_equal(const struct up_addr *a, const struct up_addr *b);

#endif
