/*
 * fuzz_http_parse.c - libFuzzer target for the HTTP request-head parser.
 *
 * Checks on every input: the parser reads only the given bytes (ASan sees
 * any overread, the input is copied to an exactly sized heap block), the
 * result is one of the documented values, a complete head's pointers lie
 * inside the input, parsing is deterministic, and a complete head stays
 * complete with the same length when more bytes follow it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct up_http_request req, again;
    int r = up_http_parse_request(buf, size, &req);
    if (!(r == UP_EAGAIN || r == UP_EINVAL || r == UP_ERANGE || (r > 0 && (size_t)r <= size)))
        abort();
    if (up_http_parse_request(buf, size, &again) != r)
        abort();
    if (r > 0) {
        if (req.head_len != (size_t)r || req.method_len == 0 || req.target_len == 0)
            abort();
        if (req.method < buf || req.method + req.method_len > buf + size)
            abort();
        if (req.target < buf || req.target + req.target_len > buf + size)
            abort();
        if (req.nheaders > UP_HTTP_MAX_HEADERS || req.host_count > req.nheaders)
            abort();
        if (up_http_parse_request(buf, (size_t)r, &again) != r)
            abort();
        (void)up_http_target_is(req.target, req.target_len, "/metrics");
    } else if (r == UP_EINVAL || r == UP_ERANGE) {
        /* An error stays an error whatever follows. */
        char *more = malloc(size + 4);
        if (more) {
            memcpy(more, buf, size);
            memcpy(more + size, "\r\n\r\n", 4);
            int r2 = up_http_parse_request(more, size + 4, &again);
            free(more);
            if (r2 != r)
                abort();
        }
    }
    free(buf);
    return 0;
}
