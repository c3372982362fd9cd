/*
 * fuzz_addr.c - libFuzzer target for up_addr_split().
 *
 * The input bytes become a heap string of exactly their length plus the
 * NUL, so ASan catches a read past the end. Besides not crashing, the split
 * must keep its promises (any broken one aborts):
 *   - it returns UP_OK, UP_EINVAL or UP_ERANGE;
 *   - on UP_OK: the port is 1..65535, the host is terminated inside the
 *     caller's buffer and holds only host characters (':' and '%' only when
 *     bracketed), and writing host and port back as text splits to the same
 *     host and port;
 *   - a smaller host buffer is never overrun: the split fails, or succeeds
 *     with the same host when it fits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *text)
{
    if (!ok) {
        fprintf(stderr, "fuzz_addr: %s for \"%s\"\n", what, text);
        abort();
    }
}

static int host_char(char c, int bracketed)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    if (c == '.' || c == '-' || c == '_')
        return 1;
    return bracketed && (c == ':' || c == '%');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char host[UP_HOST_MAX], again[UP_HOST_MAX], rebuilt[UP_ADDR_TEXT_MAX + 16];
    uint16_t port = 0, port2 = 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    memset(host, 0x5a, sizeof(host));
    int r = up_addr_split(text, host, sizeof(host), &port);
    check(r == UP_OK || r == UP_EINVAL || r == UP_ERANGE, "unexpected return code", text);
    if (r == UP_OK) {
        size_t hlen = strnlen(host, sizeof(host));
        check(hlen < sizeof(host), "host not terminated", text);
        check(port != 0, "port 0 accepted", text);
        check(strlen(text) < UP_ADDR_TEXT_MAX, "too long text accepted", text);
        int bracketed = text[0] == '[';
        check(!bracketed || hlen > 0, "empty brackets accepted", text);
        for (size_t i = 0; i < hlen; i++)
            check(host_char(host[i], bracketed), "bad host character accepted", text);

        /* Round trip through the canonical spelling. */
        if (strchr(host, ':') || strchr(host, '%'))
            snprintf(rebuilt, sizeof(rebuilt), "[%s]:%u", host, (unsigned)port);
        else
            snprintf(rebuilt, sizeof(rebuilt), "%s:%u", host, (unsigned)port);
        check(up_addr_split(rebuilt, again, sizeof(again), &port2) == UP_OK, "canonical form rejected", text);
        check(strcmp(again, host) == 0 && port2 == port, "canonical form differs", text);
    }

    /* A host buffer of 1..8 bytes, on the heap so ASan sees its end. */
    size_t small = 1 + size % 8;
    char *tiny = malloc(small);
    if (tiny) {
        int r2 = up_addr_split(text, tiny, small, &port2);
        if (r2 == UP_OK)
            check(strlen(tiny) < small && r == UP_OK && strcmp(tiny, host) == 0, "small buffer result differs", text);
        else if (r == UP_OK && strlen(host) < small)
            check(0, "fits a small buffer but was rejected", text);
        free(tiny);
    }
    free(text);
    return 0;
}
