/*
 * http.h - a small HTTP/1.x server on its own thread (for /metrics and
 * /healthz), far from the data path.
 *
 * One thread polls the listening socket and every connection (non-blocking,
 * up_sock_poll). Each connection: read one request head (at most
 * max_request bytes within request_timeout_ms of being accepted), answer
 * it, close ("Connection: close"). Bounds that keep a bad client harmless:
 *   - at most max_conns connections; when full, a new one evicts the one
 *     that has been open longest (closing ones first);
 *   - a head larger than max_request: 431; a syntax error: 400;
 *     HTTP/0.x, 2.x...: 505; a slow client is cut at the deadline;
 *   - a client that does not read the answer is cut at the deadline too;
 *   - after answering, the server half-closes and reads (discards) what the
 *     client still sends for up to a second, so the answer is not lost to a
 *     TCP reset.
 * Buffers for every connection are allocated at start-up.
 */
#ifndef UP_HTTP_H
#define UP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "http_parse.h"

#define UP_HTTP_DEFAULT_MAX_CONNS 16
#define UP_HTTP_MAX_CONNS 64 /* upper limit of max_conns */
#define UP_HTTP_DEFAULT_MAX_REQUEST 8192
#define UP_HTTP_DEFAULT_TIMEOUT_MS 5000

/* The answer a handler gives. The server points body at the connection's
 * buffer (body_cap bytes); the handler writes at most body_cap bytes there
 * and sets the rest. The server adds Content-Length, Connection: close and
 * leaves the body out for HEAD. */
struct up_http_reply {
    int status;               /* 200, 404, 405, 503... */
    const char *content_type; /* static string; NULL: text/plain */
    const char *allow;        /* static string for an Allow header (405), or NULL */
    char *body;               /* set by the server: where to write the body */
    size_t body_cap;          /* set by the server: room at body */
    size_t body_len;          /* set by the handler: bytes written */
};

/* Called on the server thread for every well-formed HTTP/1.x request. */
typedef void (*up_http_handler)(void *ctx, const struct up_http_request *req, struct up_http_reply *reply);

struct up_http_config {
    struct up_addr listen; /* where to listen (resolved) */
    size_t max_conns;      /* 1..UP_HTTP_MAX_CONNS */
    size_t max_request;    /* bytes of a request head */
    int timeout_ms;        /* to receive a request, and again to send the answer */
    size_t max_body;       /* room for a reply body */
    up_http_handler handler;
    void *ctx; /* passed to handler */
};

struct up_http_server;

/* Fill c with the defaults above (listen, max_body, handler left zero). */
void up_http_config_defaults(struct up_http_config *c);

/* Bind and listen (no thread yet), allocate every buffer. Returns UP_OK,
 * UP_EINVAL for a bad config, UP_ENOMEM, or the listen error with a message
 * a person can act on in err. The caller owns *out (up_http_free). */
int up_http_new(const struct up_http_config *cfg, struct up_http_server **out, char *err, size_t errlen);

/* Start the server thread. */
int up_http_start(struct up_http_server *s);

/* Stop the thread (within a fraction of a second) and close every
 * connection. Idempotent. */
void up_http_stop(struct up_http_server *s);

/* The address actually bound (useful with port 0), as "127.0.0.1:9102". */
int up_http_local_addr(struct up_http_server *s, char *buf, size_t size);

/* Stop, close the listener, free. NULL is fine. */
void up_http_free(struct up_http_server *s);

/* Helper for handlers: a short text/plain body (cut to body_cap). */
void up_http_reply_text(struct up_http_reply *r, int status, const char *text);

#endif
