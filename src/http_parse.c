/*
 * http_parse.c - strict HTTP/1.x request-head parser (see http_parse.h).
 *
 * A cursor walks buf[0..len); every read goes through peek(), which says
 * "need more" at the end of the bytes instead of reading past them. Each
 * step either advances, fails (400/431) or stops with UP_EAGAIN.
 */
#include "http_parse.h"

#include <string.h>

#include "error.h"

struct cur {
    const unsigned char *p;
    size_t len, off;
};

/* The byte at the cursor, or -1 at the end of the bytes received so far. */
static int peek(const struct cur *c)
{
    return c->off < c->len ? c->p[c->off] : -1;
}

/* RFC 9110 tchar. */
static int is_tchar(int ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch > 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int is_vchar(int ch)
{
    return ch >= 0x21 && ch <= 0x7e;
}

/* field-value bytes: VCHAR, obs-text, SP, HTAB. */
static int is_field_char(int ch)
{
    return is_vchar(ch) || ch >= 0x80 || ch == ' ' || ch == '\t';
}

/* Expect CRLF at the cursor. */
static int eat_crlf(struct cur *c)
{
    int ch = peek(c);
    if (ch < 0)
        return UP_EAGAIN;
    if (ch != '\r')
        return UP_EINVAL;
    c->off++;
    ch = peek(c);
    if (ch < 0)
        return UP_EAGAIN;
    if (ch != '\n')
        return UP_EINVAL;
    c->off++;
    return UP_OK;
}

static int parse_request_line(struct cur *c, struct up_http_request *req)
{
    int ch, r;
    /* Empty lines before the request line. */
    for (int i = 0; (ch = peek(c)) == '\r'; i++) {
        if (i >= UP_HTTP_MAX_LEADING_CRLF)
            return UP_EINVAL;
        if ((r = eat_crlf(c)) != UP_OK)
            return r;
    }
    /* method */
    size_t start = c->off;
    while ((ch = peek(c)) >= 0 && is_tchar(ch)) {
        c->off++;
        if (c->off - start > UP_HTTP_MAX_METHOD)
            return UP_EINVAL;
    }
    if (ch < 0)
        return UP_EAGAIN;
    if (ch != ' ' || c->off == start)
        return UP_EINVAL;
    req->method = (const char *)c->p + start;
    req->method_len = c->off - start;
    c->off++;
    /* request-target */
    start = c->off;
    while ((ch = peek(c)) >= 0 && is_vchar(ch))
        c->off++;
    if (ch < 0)
        return UP_EAGAIN;
    if (ch != ' ' || c->off == start)
        return UP_EINVAL;
    req->target = (const char *)c->p + start;
    req->target_len = c->off - start;
    c->off++;
    /* "HTTP/" DIGIT "." DIGIT */
    static const char proto[] = "HTTP/";
    for (size_t i = 0; i < sizeof(proto) - 1; i++, c->off++) {
        if ((ch = peek(c)) < 0)
            return UP_EAGAIN;
        if (ch != proto[i])
            return UP_EINVAL;
    }
    if ((ch = peek(c)) < 0)
        return UP_EAGAIN;
    if (ch < '0' || ch > '9')
        return UP_EINVAL;
    req->version_major = ch - '0';
    c->off++;
    if ((ch = peek(c)) < 0)
        return UP_EAGAIN;
    if (ch != '.')
        return UP_EINVAL;
    c->off++;
    if ((ch = peek(c)) < 0)
        return UP_EAGAIN;
    if (ch < '0' || ch > '9')
        return UP_EINVAL;
    req->version_minor = ch - '0';
    c->off++;
    return eat_crlf(c);
}

/* Case-insensitive comparison of a field name with a lower-case word. */
static int name_is(const unsigned char *name, size_t len, const char *word)
{
    if (strlen(word) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ch = name[i];
        if (ch >= 'A' && ch <= 'Z')
            ch += 'a' - 'A';
        if (ch != word[i])
            return 0;
    }
    return 1;
}

/* One header field, the cursor at its first byte (not CR). */
static int parse_header(struct cur *c, struct up_http_request *req)
{
    int ch;
    size_t start = c->off;
    while ((ch = peek(c)) >= 0 && is_tchar(ch))
        c->off++;
    if (ch < 0)
        return UP_EAGAIN;
    /* An empty name is a line starting with SP/HTAB (obs-fold) or junk;
     * whitespace between name and colon is forbidden (RFC 9112 5.1). */
    if (ch != ':' || c->off == start)
        return UP_EINVAL;
    if (name_is(c->p + start, c->off - start, "host"))
        req->host_count++;
    c->off++;
    while ((ch = peek(c)) >= 0 && is_field_char(ch))
        c->off++;
    if (ch < 0)
        return UP_EAGAIN;
    return eat_crlf(c);
}

int up_http_parse_request(const char *buf, size_t len, struct up_http_request *req)
{
    struct cur c = {(const unsigned char *)buf, len, 0};
    memset(req, 0, sizeof(*req));
    int r = parse_request_line(&c, req);
    if (r != UP_OK)
        return r;
    for (;;) {
        int ch = peek(&c);
        if (ch < 0)
            return UP_EAGAIN;
        if (ch == '\r') {
            if ((r = eat_crlf(&c)) != UP_OK)
                return r;
            break;
        }
        if (req->nheaders >= UP_HTTP_MAX_HEADERS)
            return UP_ERANGE;
        if ((r = parse_header(&c, req)) != UP_OK)
            return r;
        req->nheaders++;
    }
    if (c.off > (size_t)0x7fffffff)
        return UP_ERANGE;
    req->head_len = c.off;
    return (int)c.off;
}

int up_http_target_is(const char *target, size_t target_len, const char *path)
{
    size_t i = 0;
    /* absolute-form: scheme "://" authority, then the path */
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t s = 0; s < 2; s++) {
        size_t n = strlen(schemes[s]);
        if (target_len >= n && name_is((const unsigned char *)target, n, schemes[s])) {
            i = n;
            while (i < target_len && target[i] != '/' && target[i] != '?')
                i++;
            break;
        }
    }
    size_t end = i;
    while (end < target_len && target[end] != '?')
        end++;
    size_t plen = strlen(path);
    return end - i == plen && memcmp(target + i, path, plen) == 0;
}
