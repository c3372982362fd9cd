/* addr.c - parsing, resolving and formatting socket addresses (see addr.h). */
#include "addr.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

static int parse_port(const char *p, uint16_t *port)
{
    unsigned long v = 0;
    if (*p == '\0')
        return UP_EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return UP_ERANGE;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return UP_ERANGE;
    }
    if (v == 0)
        return UP_ERANGE;
    *port = (uint16_t)v;
    return UP_OK;
}

static bool host_char_ok(char c, bool bracketed)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (c == '.' || c == '-' || c == '_')
        return true;
    if (bracketed && (c == ':' || c == '%'))
        return true;
    return false;
}

int up_addr_split(const char *text, char *host, size_t host_size, uint16_t *port)
{
    const char *colon, *h, *hend;
    bool bracketed = false;

    if (!text || host_size == 0)
        return UP_EINVAL;
    size_t n = strnlen(text, UP_ADDR_TEXT_MAX);
    if (n == 0 || n >= UP_ADDR_TEXT_MAX)
        return UP_EINVAL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return UP_EINVAL;
        bracketed = true;
        h = text + 1;
        hend = close;
        colon = close + 1;
        if (hend == h)
            return UP_EINVAL;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return UP_EINVAL;
        if (memchr(text, ':', (size_t)(colon - text)))
            return UP_EINVAL; /* IPv6 literal without brackets */
        h = text;
        hend = colon;
    }
    if ((size_t)(hend - h) >= host_size || (size_t)(hend - h) >= UP_HOST_MAX)
        return UP_EINVAL;
    for (const char *c = h; c < hend; c++)
        if (!host_char_ok(*c, bracketed))
            return UP_EINVAL;
    int r = parse_port(colon + 1, port);
    if (r != UP_OK)
        return r;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    return UP_OK;
}

#define UNIX_PREFIX "unix:"
#define UNIX_PREFIX_LEN (sizeof(UNIX_PREFIX) - 1)

bool up_addr_is_unix(const char *text)
{
    return strncmp(text, UNIX_PREFIX, UNIX_PREFIX_LEN) == 0;
}

int up_addr_check_unix(const char *text)
{
    struct sockaddr_storage ss;
    up_socklen len;
    if (!up_addr_is_unix(text) || text[UNIX_PREFIX_LEN] != '/')
        return UP_EINVAL;
    return up_unix_addr(text + UNIX_PREFIX_LEN, &ss, &len);
}

/* A host written as an IPv4 or IPv6 literal needs no resolver. */
static bool host_is_literal(const char *host)
{
    uint8_t buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int up_addr_resolve(const char *text, bool passive, struct up_addr *out)
{
    char host[UP_HOST_MAX], portstr[8];
    uint16_t port;
    struct addrinfo hints, *res = NULL;
    int r;

    if (up_addr_is_unix(text)) {
        r = up_addr_check_unix(text);
        if (r != UP_OK)
            return r;
        memset(out, 0, sizeof(*out));
        snprintf(out->text, sizeof(out->text), "%s", text);
        return up_unix_addr(text + UNIX_PREFIX_LEN, &out->ss, &out->len);
    }
    r = up_addr_split(text, host, sizeof(host), &port);
    if (r != UP_OK)
        return r;

    memset(out, 0, sizeof(*out));
    snprintf(out->text, sizeof(out->text), "%s", text);
    out->named = host[0] != '\0' && !host_is_literal(host);
    out->any_host = host[0] == '\0';
    if (out->any_host) {
        if (passive) {
            /* All interfaces: [::] with IPv4 mapped in; the caller falls back
             * to 0.0.0.0 where IPv6 is off. */
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
            s6->sin6_family = AF_INET6;
            s6->sin6_addr = in6addr_any;
            s6->sin6_port = htons(port);
            out->len = sizeof(*s6);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
            s4->sin_family = AF_INET;
            s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            s4->sin_port = htons(port);
            out->len = sizeof(*s4);
        }
        return UP_OK;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0 || !res) {
        if (res)
            freeaddrinfo(res);
        /* "Temporary failure in name resolution": no resolver reachable
         * (yet), or it did not answer. Not a verdict on the name. */
        return gai == EAI_AGAIN ? UP_ETIMEDOUT : UP_ENOTFOUND;
    }
    /* Prefer IPv4 when a name has both (as Go's resolver does for UDP). */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    if (pick->ai_addrlen > sizeof(out->ss)) {
        freeaddrinfo(res);
        return UP_EAFNOSUPPORT;
    }
    memcpy(&out->ss, pick->ai_addr, pick->ai_addrlen);
    out->len = (up_socklen)pick->ai_addrlen;
    freeaddrinfo(res);
    return UP_OK;
}

void up_addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
    char host[64] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        port = ntohs(s4->sin_port);
        snprintf(buf, size, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        port = ntohs(s6->sin6_port);
        snprintf(buf, size, "[%s]:%u", host, port);
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(buf, size, UNIX_PREFIX "%s", up_unix_path((const struct sockaddr_storage *)(const void *)sa));
    } else {
        snprintf(buf, size, "unknown");
    }
}

bool up_addr_equal(const struct up_addr *a, const struct up_addr *b)
{
    if (a->ss.ss_family != b->ss.ss_family)
        return false;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)&a->ss, *y = (const struct sockaddr_in *)&b->ss;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->ss, *y = (const struct sockaddr_in6 *)&b->ss;
        /* The scope matters: fe80::1%eth0 and fe80::1%eth1 are two hosts. */
        return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    if (a->ss.ss_family == AF_UNIX)
        return strcmp(up_unix_path(&a->ss), up_unix_path(&b->ss)) == 0;
    return false;
}

int up_cidr_parse(const char *text, struct up_cidr *out)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strnlen(text, sizeof(host));
    if (hlen == 0 || hlen >= sizeof(host))
        return UP_EINVAL;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, host, out->bytes) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, host, out->bytes) == 1)
        out->family = AF_INET6;
    else
        return UP_EINVAL;
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (slash) {
        const char *p = slash + 1;
        unsigned v = 0;
        if (*p == '\0')
            return UP_EINVAL;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return UP_EINVAL;
            v = v * 10 + (unsigned)(*p - '0');
            if (v > max)
                return UP_EINVAL;
        }
        out->prefix = v;
    }
    /* Host bits set past the prefix are most likely a typo (10.1.2.3/8):
     * refuse rather than guess. */
    for (unsigned bit = out->prefix; bit < max; bit++)
        if (out->bytes[bit / 8] & (0x80u >> (bit % 8)))
            return UP_EINVAL;
    return UP_OK;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool up_cidr_match(const struct up_cidr *list, size_t n, const struct sockaddr *sa)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *bytes;
    int family = sa->sa_family;
    if (family == AF_INET) {
        bytes = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        bytes = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (memcmp(bytes, mapped, sizeof(mapped)) == 0) {
            family = AF_INET; /* a dual-stack socket's view of an IPv4 sender */
            bytes += sizeof(mapped);
        }
    } else {
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (list[i].family == family && prefix_equal(bytes, list[i].bytes, list[i].prefix))
            return true;
    return false;
}
