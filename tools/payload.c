/*
 * payload.c - DogStatsD templates, numbered tails and their check
 * (see payload.h for the format).
 */
#include "payload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

#define NORMAL_TEMPLATES 2048
#define LARGE_TEMPLATES 128
#define NORMAL_MAX 1432 /* a DogStatsD client's usual packet limit */
#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

struct template
{
    uint32_t offset; /* body start in text */
    uint32_t len;    /* body bytes */
    uint32_t hash;   /* FNV-1a state after the body */
};

struct up_payload {
    uint64_t seed;
    unsigned large_pct; /* percent of sequence numbers that get a large template */
    struct template normal[NORMAL_TEMPLATES];
    struct template large[LARGE_TEMPLATES];
    char *text; /* every body, back to back */
};

/* ---- random numbers: splitmix64, deterministic for a seed --------------- */

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return mix(*state);
}

static unsigned below(uint64_t *state, unsigned n)
{
    return (unsigned)(rnd(state) % n);
}

static uint32_t fnv(uint32_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

/* ---- a bounded text builder ----------------------------------------------- */

struct text {
    char buf[UP_PAYLOAD_MAX];
    size_t len;
};

static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < sizeof(t->buf) - t->len ? (size_t)n : sizeof(t->buf) - t->len - 1;
}

#define PICK(st, arr) (arr)[below((st), sizeof(arr) / sizeof((arr)[0]))]

static const char *const areas[] = {"api",      "web",   "db",    "cache", "queue", "payments",   "auth",  "search",
                                    "checkout", "kafka", "redis", "nginx", "jvm",   "kubernetes", "lambda"};
static const char *const things[] = {"request", "query", "consumer", "connection", "session", "job",   "gc",
                                     "heap",    "cpu",   "memory",   "http",       "disk",    "worker"};
static const char *const measures[] = {"count", "latency", "duration", "errors", "hits", "misses",
                                       "size",  "lag",     "bytes",    "active", "time", "retries"};
static const char *const envs[] = {"prod", "staging", "dev"};
static const char *const services[] = {"web-frontend",   "checkout-api",   "orders",
                                       "billing-worker", "search-indexer", "auth-gateway"};
static const char *const regions[] = {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"};
static const char *const endpoints[] = {"/api/v1/orders", "/api/v1/users/{id}", "/health", "/api/v2/cart/items",
                                        "/login",         "/api/v1/search"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const codes[] = {"200", "201", "204", "301", "400", "404", "429", "500", "503"};

static void hex(struct text *t, uint64_t *st, int digits)
{
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < digits && t->len + 1 < sizeof(t->buf); i++)
        t->buf[t->len++] = h[below(st, 16)];
    t->buf[t->len] = '\0';
}

/* A tag section "|#a:b,c" of up to max tags; returns how many were written.
 * keep_empty: leave "|#" even with no tag (the tail will follow). */
static unsigned tags(struct text *t, uint64_t *st, unsigned max, bool keep_empty)
{
    unsigned n = below(st, max + 1);
    put(t, "|#");
    if (n == 0 && !keep_empty)
        t->len -= 2;
    for (unsigned i = 0; i < n; i++) {
        if (i)
            put(t, ",");
        switch (below(st, 11)) {
        case 0: put(t, "env:%s", PICK(st, envs)); break;
        case 1: put(t, "service:%s", PICK(st, services)); break;
        case 2: put(t, "region:%s", PICK(st, regions)); break;
        case 3: put(t, "host:i-0"), hex(t, st, 16); break;
        case 4: put(t, "version:%u.%u.%u", below(st, 4), below(st, 20), below(st, 40)); break;
        case 5: put(t, "endpoint:%s", PICK(st, endpoints)); break;
        case 6: put(t, "method:%s", PICK(st, methods)); break;
        case 7: put(t, "status_code:%s", PICK(st, codes)); break;
        case 8: put(t, "pod_name:%s-", PICK(st, services)), hex(t, st, 10), put(t, "-"), hex(t, st, 5); break;
        case 9: put(t, "kube_namespace:%s", PICK(st, envs)); break;
        default: put(t, "canary"); break;
        }
    }
    return n;
}

static void metric_name(struct text *t, uint64_t *st)
{
    put(t, "%s.%s.%s", PICK(st, areas), PICK(st, things), PICK(st, measures));
}

/* One line. last: it will carry the tail, so it must end inside its tags
 * (no field may follow them) and ends with "|#...," or "|#". */
static void line(struct text *t, uint64_t *st, bool last)
{
    unsigned kind = below(st, 100);
    bool tagged;
    if (kind < 4) { /* tiny */
        put(t, "hits:1|c");
        tagged = false;
    } else if (kind < 88) {
        metric_name(t, st);
        if (kind < 30)
            put(t, ":%u|c", 1 + below(st, 1000));
        else if (kind < 48)
            put(t, ":%u.%03u|g", below(st, 100000), below(st, 1000));
        else if (kind < 58)
            put(t, ":%u.%u|ms", below(st, 2000), below(st, 10));
        else if (kind < 68)
            put(t, ":%u|h", below(st, 5000));
        else if (kind < 81) {
            put(t, ":%u.%u", below(st, 900), below(st, 10));
            for (unsigned v = below(st, 4); v > 0; v--) /* DogStatsD 1.1 packed values */
                put(t, ":%u.%u", below(st, 900), below(st, 10));
            put(t, "|d");
        } else
            put(t, ":user-%u|s", below(st, 1000000));
        if ((kind < 30 || (kind >= 48 && kind < 81)) && kind % 5 == 0) /* c, ms, h, d */
            put(t, "|@%s", below(st, 2) ? "0.5" : "0.1");
        tagged = tags(t, st, 8, last) > 0;
        if (!last && below(st, 20) == 0)
            put(t, "|c:"), hex(t, st, 64); /* container id */
        if (!last && below(st, 20) == 0)
            put(t, "|T%u", 1700000000u + below(st, 100000000));
    } else if (kind < 94) {
        char title[96], text[200];
        snprintf(title, sizeof(title), "Deployed %s %u.%u", PICK(st, services), below(st, 4), below(st, 20));
        snprintf(text, sizeof(text), "Rolled out to %u pods in %s\\nby ci-bot, change %u", 1 + below(st, 40),
                 PICK(st, regions), below(st, 100000));
        put(t, "_e{%zu,%zu}:%s|%s|d:%u|h:%s|p:%s|t:%s", strlen(title), strlen(text), title, text,
            1700000000u + below(st, 100000000), PICK(st, regions), below(st, 2) ? "normal" : "low",
            below(st, 2) ? "info" : "success");
        tagged = tags(t, st, 6, last) > 0;
    } else {
        put(t, "_sc|%s.%s.can_connect|%u|d:%u|h:node-%u", PICK(st, areas), PICK(st, things), below(st, 4),
            1700000000u + below(st, 100000000), below(st, 500));
        tagged = tags(t, st, 6, last) > 0;
        if (!last)
            put(t, "|m:check took %u ms", below(st, 3000));
    }
    if (!last)
        return;
    if (t->buf[t->len - 1] != '#')
        put(t, tagged ? "," : "|#");
}

/* A body of about `target` bytes: lines joined by '\n', the last one ready
 * for the tail. Never longer than limit. */
static void body(struct text *t, uint64_t *st, size_t target, size_t limit)
{
    t->len = 0;
    t->buf[0] = '\0';
    for (;;) {
        struct text one;
        one.len = 0;
        line(&one, st, false);
        if (t->len + one.len + 1 + 300 > target || t->len + one.len + 1 + 300 > limit)
            break;
        memcpy(t->buf + t->len, one.buf, one.len);
        t->len += one.len;
        t->buf[t->len++] = '\n';
    }
    size_t keep = t->len;
    for (int tries = 0;; tries++) {
        t->len = keep;
        line(t, st, true);
        if (t->len <= limit)
            break;
        if (tries == 20) { /* cannot happen with these vocabularies; stay within limit anyway */
            t->len = keep;
            put(t, "hits:1|c|#");
            break;
        }
    }
}

int up_payload_new(uint64_t seed, unsigned large_pct, struct up_payload **out)
{
    struct up_payload *p = up_calloc(1, sizeof(*p));
    struct text *t = up_calloc(1, sizeof(*t));
    size_t cap = (size_t)NORMAL_TEMPLATES * NORMAL_MAX + (size_t)LARGE_TEMPLATES * UP_PAYLOAD_MAX;
    if (p)
        p->text = up_calloc(1, cap);
    if (!p || !t || !p->text) {
        up_free(t);
        up_payload_free(p);
        return UP_ENOMEM;
    }
    p->seed = seed;
    p->large_pct = large_pct > 100 ? 100 : large_pct;
    uint64_t st = mix(seed);
    size_t off = 0;
    for (size_t i = 0; i < NORMAL_TEMPLATES + LARGE_TEMPLATES; i++) {
        bool large = i >= NORMAL_TEMPLATES;
        struct template *tp = large ? &p->large[i - NORMAL_TEMPLATES] : &p->normal[i];
        size_t limit = (large ? UP_PAYLOAD_MAX : NORMAL_MAX) - (UP_PAYLOAD_TAIL_MAX - 1);
        size_t target;
        if (large)
            target = 1500 + below(&st, UP_PAYLOAD_MAX - 1500);
        else
            target = below(&st, 100) < 80 ? 0 : 300 + below(&st, NORMAL_MAX - 300); /* 80%: one line */
        body(t, &st, target, limit);
        memcpy(p->text + off, t->buf, t->len);
        tp->offset = (uint32_t)off;
        tp->len = (uint32_t)t->len;
        tp->hash = fnv(FNV_OFFSET, t->buf, t->len);
        off += t->len;
    }
    up_free(t);
    *out = p;
    return UP_OK;
}

void up_payload_free(struct up_payload *p)
{
    if (!p)
        return;
    up_free(p->text);
    up_free(p);
}

/* Decimal digits of v into buf (no NUL); returns the count. */
static size_t put_dec(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

size_t up_payload_get(const struct up_payload *p, uint64_t seq, const char **body_out, size_t *body_len, char *tail)
{
    static const char hexd[] = "0123456789abcdef";
    uint64_t h = mix(p->seed ^ mix(seq));
    const struct template *tp =
        (h % 100) < p->large_pct ? &p->large[(h >> 32) % LARGE_TEMPLATES] : &p->normal[(h >> 32) % NORMAL_TEMPLATES];
    size_t n = 0;
    memcpy(tail, "up_seq:", 7);
    n = 7;
    n += put_dec(tail + n, seq);
    uint32_t sum = fnv(tp->hash, tail, n);
    memcpy(tail + n, ",up_sum:", 8);
    n += 8;
    for (int i = 7; i >= 0; i--)
        tail[n++] = hexd[(sum >> (4 * i)) & 15];
    tail[n] = '\0';
    *body_out = p->text + tp->offset;
    *body_len = tp->len;
    return n;
}

bool up_payload_check(const uint8_t *data, size_t len, uint64_t *seq)
{
    static const char tag[] = "up_seq:";
    if (len < UP_PAYLOAD_SUM_BYTES + sizeof(tag))
        return false;
    size_t end = len - UP_PAYLOAD_SUM_BYTES; /* hashed bytes */
    if (memcmp(data + end, ",up_sum:", 8) != 0)
        return false;
    uint32_t want = 0;
    for (size_t i = end + 8; i < len; i++) {
        uint8_t c = data[i];
        uint32_t d = (c >= '0' && c <= '9')   ? (uint32_t)(c - '0')
                     : (c >= 'a' && c <= 'f') ? (uint32_t)(c - 'a' + 10)
                                              : 16;
        if (d == 16)
            return false;
        want = want << 4 | d;
    }
    if (fnv(FNV_OFFSET, data, end) != want)
        return false;
    /* The digits before ",up_sum:" are the sequence number, after "up_seq:"
     * which starts a tag (follows '#' or ','). */
    size_t d = end;
    while (d > 0 && data[d - 1] >= '0' && data[d - 1] <= '9')
        d--;
    size_t digits = end - d;
    if (digits == 0 || digits > 19 || d < sizeof(tag) ||
        memcmp(data + d - (sizeof(tag) - 1), tag, sizeof(tag) - 1) != 0)
        return false;
    char before = (char)data[d - sizeof(tag)];
    if (before != '#' && before != ',')
        return false;
    uint64_t v = 0;
    for (size_t i = d; i < end; i++)
        v = v * 10 + (uint64_t)(data[i] - '0');
    *seq = v;
    return true;
}
