/*
 * http_parse.h - a small, strict parser of HTTP/1.x request heads.
 *
 * Pure: no I/O, no allocation, no global state. It reads only buf[0..len)
 * (never a byte past it, never a NUL terminator) and can be called again on
 * the same buffer as more bytes arrive: it re-parses from the start (heads
 * are at most a few KiB) and reports a syntax error as soon as the bytes
 * seen so far prove one, without waiting for the end of the head.
 *
 * Accepted (RFC 9112, strictly):
 *   request-line = method SP request-target SP "HTTP/" DIGIT "." DIGIT CRLF
 *   header-field = field-name ":" OWS field-value OWS CRLF
 *   end of head  = CRLF
 * method and field-name are tokens; request-target is visible ASCII
 * (0x21-0x7e); field-value is visible ASCII, obs-text (0x80-0xff), SP and
 * HTAB. Empty lines (CRLF) before the request line are skipped, as RFC 9112
 * 2.2 advises. Rejected: bare LF or CR, NUL and other control bytes,
 * whitespace around the request-line parts or before a colon, obsolete line
 * folding, empty names, and more than UP_HTTP_MAX_HEADERS fields. The
 * version is only parsed: the caller decides which versions it serves.
 */
#ifndef UP_HTTP_PARSE_H
#define UP_HTTP_PARSE_H

#include <stddef.h>

#define UP_HTTP_MAX_METHOD 16      /* longest method accepted */
#define UP_HTTP_MAX_HEADERS 64     /* most header fields accepted */
#define UP_HTTP_MAX_LEADING_CRLF 8 /* most empty lines skipped before the request line */

/* What a complete head holds. Pointers point into the caller's buffer. */
struct up_http_request {
    const char *method; /* e.g. "GET", not NUL-terminated */
    size_t method_len;
    const char *target; /* request-target as sent, e.g. "/metrics?x=1" */
    size_t target_len;
    int version_major; /* 0..9 */
    int version_minor; /* 0..9 */
    size_t nheaders;   /* header fields seen */
    size_t host_count; /* "Host" fields seen (HTTP/1.1 needs exactly one) */
    size_t head_len;   /* bytes of the head, final CRLF included */
};

/* Parse the head at buf[0..len). On completion fills *req.
 * Returns:
 *   > 0        the head is complete: its length in bytes (req->head_len)
 *   UP_EAGAIN  no error in the bytes so far, but the head is not complete:
 *              read more (and give up when the buffer is full: 431)
 *   UP_EINVAL  malformed (a method longer than UP_HTTP_MAX_METHOD too):
 *              answer 400 Bad Request
 *   UP_ERANGE  more than UP_HTTP_MAX_HEADERS header fields: answer 431
 * *req is only meaningful when the return value is > 0. buf may be NULL
 * when len is 0. */
int up_http_parse_request(const char *buf, size_t len, struct up_http_request *req);

/* Whether the request-target's path (before any '?') equals `path`:
 * "/metrics" matches "/metrics" and "/metrics?x=1", not "/metrics/". An
 * absolute-form target ("http://host:port/metrics") is matched by its path. */
int up_http_target_is(const char *target, size_t target_len, const char *path);

#endif
