/*
 * addr.h - socket addresses as operators write them.
 *
 * Accepted forms: ":PORT" (all interfaces as a source, this host as a
 * target), "HOST:PORT" (HOST: a name or an IPv4 literal), "[IPV6]:PORT".
 * PORT is 1..65535. Names are resolved with the system resolver.
 * "unix:/path/to/socket" names a Unix datagram socket (POSIX only).
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
    bool named;                  /* host is a name, not a literal: worth re-resolving */
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
 * name that does not resolve, UP_ETIMEDOUT when the lookup failed for now
 * (EAI_AGAIN: no resolver reachable, or no answer): worth trying again. */
int up_addr_resolve(const char *text, bool passive, struct up_addr *out);

/* True when text starts with "unix:" (a Unix datagram socket path). */
bool up_addr_is_unix(const char *text);

/* Check "unix:PATH" without touching the file system: UP_OK, or UP_EINVAL
 * (empty or relative path, or longer than a socket address holds). */
int up_addr_check_unix(const char *text);

/* Format a socket address as "1.2.3.4:80" or "[::1]:80" into buf. */
void up_addr_format(const struct sockaddr *sa, char *buf, size_t size);

/* A network in CIDR notation: "10.0.0.0/8", "2001:db8::/32"; a bare
 * address means the one host (/32, /128). */
struct up_cidr {
    int family;        /* AF_INET or AF_INET6 */
    unsigned prefix;   /* leading bits that must match */
    uint8_t bytes[16]; /* network address (4 used for IPv4) */
};

/* Parse text into out. Returns UP_OK or UP_EINVAL (not an address, prefix
 * out of range, bits set past the prefix). Never reads past the NUL. */
int up_cidr_parse(const char *text, struct up_cidr *out);

/* True when sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * IPv4) lies in one of list[0..n). No allocation, no system call. */
bool up_cidr_match(const struct up_cidr *list, size_t n, const struct sockaddr *sa);

/* True when both hold the same family, address and port. */
bool up_addr_equal(const struct up_addr *a, const struct up_addr *b);

#endif
