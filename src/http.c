/*
 * http.c - the metrics HTTP server (see http.h).
 *
 *   listener --accept--> conn READ --head complete/bad--> WRITE --sent--> LINGER --EOF/1 s--> closed
 *                          |  deadline: closed              | deadline: closed
 *
 * One thread, one poll set: the listener plus every open connection. The
 * thread never touches forwarding state except through the handler (which
 * takes a snapshot of relaxed counters). Wakes at least every STOP_POLL_MS
 * to notice up_http_stop(); idle, that is a few wake-ups a second.
 */
#include "http.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "platform.h"

#define STOP_POLL_MS 250
#define LINGER_MS 1000
#define HEAD_ROOM 512       /* bytes before the body for the status line and headers */
#define ACCEPT_BURST 64     /* connections taken per wake-up at most */
#define ACCEPT_PAUSE_MS 100 /* after an accept error (out of descriptors...) */

enum conn_state { C_FREE = 0, C_READ, C_WRITE, C_LINGER };

struct conn {
    enum conn_state state;
    up_sock sock;
    uint64_t opened_ns;   /* accept time: eviction picks the oldest */
    uint64_t deadline_ns; /* the current state ends by then */
    char *in;             /* [max_request] request bytes */
    size_t in_len;
    char *out; /* [HEAD_ROOM + max_body] answer */
    size_t out_off, out_end;
};

struct up_http_server {
    struct up_http_config cfg;
    up_sock listener;
    struct conn *conns; /* [cfg.max_conns] */
    atomic_int stop;    /* 1: the thread exits */
    up_thread thread;
    bool started;
    uint64_t accept_pause_until_ns;
    struct up_ratelimit rl;
    char *slab; /* every connection's buffers, one allocation */
};

void up_http_config_defaults(struct up_http_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_conns = UP_HTTP_DEFAULT_MAX_CONNS;
    c->max_request = UP_HTTP_DEFAULT_MAX_REQUEST;
    c->timeout_ms = UP_HTTP_DEFAULT_TIMEOUT_MS;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void up_http_reply_text(struct up_http_reply *r, int status, const char *text)
{
    size_t n = strlen(text);
    if (n > r->body_cap)
        n = r->body_cap;
    memcpy(r->body, text, n);
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    r->body_len = n;
}

static void conn_close(struct conn *c)
{
    up_sock_close(c->sock);
    c->sock = UP_SOCK_INVALID;
    c->state = C_FREE;
    c->in_len = c->out_off = c->out_end = 0;
}

/* Put the status line and headers right before the body and start sending. */
static void conn_answer(struct up_http_server *s, struct conn *c, struct up_http_reply *r, bool head_only, uint64_t now)
{
    char hdr[HEAD_ROOM];
    if (r->body_len > r->body_cap) /* a handler bug: never send past the buffer */
        up_http_reply_text(r, 500, "internal error\n");
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %llu\r\n%s%s%sConnection: close\r\n\r\n",
                     r->status, reason_phrase(r->status), r->content_type ? r->content_type : "text/plain",
                     (unsigned long long)r->body_len, r->allow ? "Allow: " : "", r->allow ? r->allow : "",
                     r->allow ? "\r\n" : "");
    if (n < 0 || n >= (int)sizeof(hdr))
        n = 0; /* cannot happen with our static strings; send nothing */
    c->out_off = HEAD_ROOM - (size_t)n;
    memcpy(c->out + c->out_off, hdr, (size_t)n);
    c->out_end = HEAD_ROOM + (head_only ? 0 : r->body_len);
    c->state = C_WRITE;
    c->deadline_ns = now + (uint64_t)s->cfg.timeout_ms * 1000000u;
}

static void conn_error(struct up_http_server *s, struct conn *c, int status, const char *text, uint64_t now)
{
    struct up_http_reply r = {0};
    r.body = c->out + HEAD_ROOM;
    r.body_cap = s->cfg.max_body;
    up_http_reply_text(&r, status, text);
    conn_answer(s, c, &r, false, now);
}

/* The head so far is in c->in: answer when it is complete or bad. */
static void conn_parse(struct up_http_server *s, struct conn *c, uint64_t now)
{
    struct up_http_request req;
    int r = up_http_parse_request(c->in, c->in_len, &req);
    if (r == UP_EAGAIN) {
        if (c->in_len >= s->cfg.max_request)
            conn_error(s, c, 431, "request head too large\n", now);
        return;
    }
    if (r == UP_ERANGE) {
        conn_error(s, c, 431, "too many header fields\n", now);
        return;
    }
    if (r < 0) {
        conn_error(s, c, 400, "bad request\n", now);
        return;
    }
    if (req.version_major != 1) {
        conn_error(s, c, 505, "only HTTP/1.x is served\n", now);
        return;
    }
    /* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one otherwise. */
    if (req.host_count > 1 || (req.version_minor >= 1 && req.host_count != 1)) {
        conn_error(s, c, 400, "bad request: one Host header field needed\n", now);
        return;
    }
    struct up_http_reply rep = {0};
    rep.body = c->out + HEAD_ROOM;
    rep.body_cap = s->cfg.max_body;
    s->cfg.handler(s->cfg.ctx, &req, &rep);
    bool head = req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0;
    conn_answer(s, c, &rep, head, now);
}

static void conn_read(struct up_http_server *s, struct conn *c, uint64_t now)
{
    if (c->state == C_LINGER) {
        /* Discard what the client still sends, a bounded amount per wake-up
         * so a client that streams cannot hold the thread. */
        char sink[4096];
        int n = 0;
        for (int i = 0; i < 16 && (n = up_tcp_recv(c->sock, sink, sizeof(sink))) > 0; i++)
            ;
        if (n <= 0 && n != UP_EAGAIN)
            conn_close(c); /* end of stream or error: done */
        return;
    }
    int n = up_tcp_recv(c->sock, c->in + c->in_len, s->cfg.max_request - c->in_len);
    if (n == UP_EAGAIN)
        return;
    if (n <= 0) {
        conn_close(c); /* closed or reset before a complete request */
        return;
    }
    c->in_len += (size_t)n;
    conn_parse(s, c, now);
}

static void conn_write(struct up_http_server *s, struct conn *c, uint64_t now)
{
    (void)s;
    while (c->out_off < c->out_end) {
        int n = up_tcp_send(c->sock, c->out + c->out_off, c->out_end - c->out_off);
        if (n == UP_EAGAIN)
            return;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    if (up_tcp_shutdown_write(c->sock) != UP_OK) {
        conn_close(c);
        return;
    }
    c->state = C_LINGER;
    c->deadline_ns = now + (uint64_t)LINGER_MS * 1000000u;
}

/* Which connection to cut first when all are taken: closing ones, then
 * idle ones (nothing received), then slow senders; answers in flight last.
 * Among equals the one open longest goes. */
static int evict_rank(const struct conn *c)
{
    switch (c->state) {
    case C_LINGER: return 3;
    case C_READ: return c->in_len == 0 ? 2 : 1;
    default: return 0;
    }
}

/* A free slot, evicting a connection when all are taken. */
static struct conn *conn_slot(struct up_http_server *s)
{
    struct conn *victim = NULL;
    for (size_t i = 0; i < s->cfg.max_conns; i++) {
        struct conn *c = &s->conns[i];
        if (c->state == C_FREE)
            return c;
        if (!victim || evict_rank(c) > evict_rank(victim) ||
            (evict_rank(c) == evict_rank(victim) && c->opened_ns < victim->opened_ns))
            victim = c;
    }
    conn_close(victim);
    return victim;
}

static void accept_some(struct up_http_server *s, uint64_t now)
{
    /* At most half the table per wake-up: a connection accepted in one
     * round is read in the next before a burst of newer ones can evict it. */
    size_t burst = s->cfg.max_conns / 2 ? s->cfg.max_conns / 2 : 1;
    for (size_t i = 0; i < burst; i++) {
        up_sock ns;
        int r = up_tcp_accept(s->listener, &ns);
        if (r == UP_EAGAIN)
            return;
        if (r != UP_OK) {
            up_log_limited(&s->rl, UP_LOG_WARN, "metrics: cannot accept a connection: %s", up_strerror(r));
            s->accept_pause_until_ns = now + (uint64_t)ACCEPT_PAUSE_MS * 1000000u;
            return;
        }
        struct conn *c = conn_slot(s);
        c->sock = ns;
        c->state = C_READ;
        c->opened_ns = now;
        c->deadline_ns = now + (uint64_t)s->cfg.timeout_ms * 1000000u;
        c->in_len = 0;
        /* Clients send at once: read now, so a flood of new connections
         * cannot evict this one before its request is seen. */
        conn_read(s, c, now);
        if (c->state == C_WRITE)
            conn_write(s, c, now);
    }
}

static void *http_main(void *arg)
{
    struct up_http_server *s = arg;
    struct up_pollsock ps[UP_HTTP_MAX_CONNS + 1];
    struct conn *which[UP_HTTP_MAX_CONNS + 1];

    /* Acquire: pairs with the release store in up_http_stop(). */
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        uint64_t now = up_now_ns();
        size_t n = 0;
        int timeout = STOP_POLL_MS;
        if (now >= s->accept_pause_until_ns) {
            ps[n] = (struct up_pollsock){s->listener, UP_POLL_IN, 0};
            which[n++] = NULL;
        } else {
            int left = (int)((s->accept_pause_until_ns - now) / 1000000u) + 1;
            timeout = left < timeout ? left : timeout;
        }
        for (size_t i = 0; i < s->cfg.max_conns; i++) {
            struct conn *c = &s->conns[i];
            if (c->state == C_FREE)
                continue;
            ps[n] = (struct up_pollsock){c->sock, c->state == C_WRITE ? UP_POLL_OUT : UP_POLL_IN, 0};
            which[n++] = c;
            int left = c->deadline_ns > now ? (int)((c->deadline_ns - now) / 1000000u) + 1 : 0;
            timeout = left < timeout ? left : timeout;
        }
        int r = up_sock_poll(ps, n, timeout);
        if (r < 0) {
            up_log_limited(&s->rl, UP_LOG_WARN, "metrics: poll failed: %s", up_strerror(r));
            up_sleep_ms(ACCEPT_PAUSE_MS);
            continue;
        }
        now = up_now_ns();
        for (size_t i = 0; i < n; i++) {
            struct conn *c = which[i];
            if (!c || ps[i].revents == 0 || c->state == C_FREE)
                continue;
            if (c->state == C_WRITE)
                conn_write(s, c, now);
            else
                conn_read(s, c, now);
            /* An answer made while reading goes out at once. */
            if (c->state == C_WRITE)
                conn_write(s, c, now);
        }
        /* Accept after serving, so a new connection never evicts one whose
         * answer is ready in this round. */
        if (n > 0 && which[0] == NULL && (ps[0].revents & (UP_POLL_IN | UP_POLL_ERR)))
            accept_some(s, now);
        for (size_t i = 0; i < s->cfg.max_conns; i++) {
            struct conn *c = &s->conns[i];
            if (c->state != C_FREE && now >= c->deadline_ns)
                conn_close(c); /* too slow to send, to read, or to close */
        }
    }
    for (size_t i = 0; i < s->cfg.max_conns; i++)
        if (s->conns[i].state != C_FREE)
            conn_close(&s->conns[i]);
    return NULL;
}

int up_http_new(const struct up_http_config *cfg, struct up_http_server **out, char *err, size_t errlen)
{
    if (cfg->max_conns < 1 || cfg->max_conns > UP_HTTP_MAX_CONNS || cfg->max_request < 16 || cfg->timeout_ms < 1 ||
        !cfg->handler) {
        snprintf(err, errlen, "metrics: bad server configuration");
        return UP_EINVAL;
    }
    struct up_http_server *s = up_calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return UP_ENOMEM;
    }
    s->cfg = *cfg;
    s->listener = UP_SOCK_INVALID;
    atomic_init(&s->stop, 0);
    size_t per = cfg->max_request + HEAD_ROOM + cfg->max_body;
    s->conns = up_calloc(cfg->max_conns, sizeof(*s->conns));
    s->slab = up_calloc(cfg->max_conns, per);
    if (!s->conns || !s->slab) {
        snprintf(err, errlen, "out of memory");
        up_http_free(s);
        return UP_ENOMEM;
    }
    for (size_t i = 0; i < cfg->max_conns; i++) {
        s->conns[i].sock = UP_SOCK_INVALID;
        s->conns[i].in = s->slab + i * per;
        s->conns[i].out = s->conns[i].in + cfg->max_request;
    }
    int r = up_tcp_listen((const struct sockaddr *)&cfg->listen.ss, cfg->listen.len, 64, &s->listener);
    if (r != UP_OK) {
        snprintf(err, errlen, "cannot listen on --metrics-listen %s: %s", cfg->listen.text, up_strerror(r));
        up_http_free(s);
        return r;
    }
    *out = s;
    return UP_OK;
}

int up_http_start(struct up_http_server *s)
{
    int r = up_thread_start(&s->thread, http_main, s, "up-http");
    if (r == UP_OK)
        s->started = true;
    return r;
}

void up_http_stop(struct up_http_server *s)
{
    if (!s->started)
        return;
    atomic_store_explicit(&s->stop, 1, memory_order_release);
    up_thread_join(s->thread);
    s->started = false;
}

int up_http_local_addr(struct up_http_server *s, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    up_socklen len;
    int r = up_sock_local_addr(s->listener, &ss, &len);
    if (r == UP_OK)
        up_addr_format((struct sockaddr *)&ss, buf, size);
    return r;
}

void up_http_free(struct up_http_server *s)
{
    if (!s)
        return;
    up_http_stop(s);
    up_sock_close(s->listener);
    up_free(s->slab);
    up_free(s->conns);
    up_free(s);
}
