/*
 * config_write.c - `udp-proxy config-write`: put a source and targets into a
 * configuration file (see config_write.h).
 *
 * The old file is read whole (at most UP_CONFIG_FILE_MAX bytes), the new
 * text is built in a second buffer line by line, parsed with
 * up_config_parse() exactly as the daemon will read it, and only then
 * written over the file. Each new value is first checked alone with
 * up_options_set(), so a bad address is reported by name.
 */
#include "config_write.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "options.h"
#include "platform.h"

#define OUT_MAX (UP_CONFIG_FILE_MAX + 64 * 1024) /* new text: the old one plus the new lines */

/* What to write. */
struct cw_args {
    const char *file;
    const char *source;  /* NULL: keep the file's */
    const char *targets; /* NULL: keep the file's; space-separated */
};

/* The new text, bounded. */
struct out_buf {
    char *p;
    size_t len;
    bool full;
};

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr,
            "udp-proxy: config-write: %s%s%s\n"
            "Usage: udp-proxy config-write --file PATH [--source ADDR] [--targets \"ADDR ADDR ...\"]\n",
            msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static void put(struct out_buf *b, const char *s, size_t n)
{
    if (b->full || b->len + n > OUT_MAX) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_setting(struct out_buf *b, const char *name, const char *value, size_t vlen)
{
    put(b, name, strlen(name));
    put(b, " = ", 3);
    put(b, value, vlen);
    put(b, "\n", 1);
}

/* The targets, one "target = X" line each. */
static void put_targets(struct out_buf *b, const char *targets)
{
    const char *p = targets;
    for (;;) {
        p += strspn(p, " \t");
        if (*p == '\0')
            return;
        size_t n = strcspn(p, " \t");
        put_setting(b, "target", p, n);
        p += n;
    }
}

/* The setting a line sets ("source", "target"...): its name, or "" for a
 * blank line or a comment. */
static size_t line_name(const char *line, size_t n, const char **name)
{
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    *name = line + i;
    size_t k = i;
    while (k < n && ((line[k] >= 'a' && line[k] <= 'z') || (line[k] >= '0' && line[k] <= '9') || line[k] == '-'))
        k++;
    return k - i;
}

static bool is_setting(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(name, want, n) == 0;
}

static int parse_args(int argc, char **argv, struct cw_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 2; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--file") == 0      ? &a->file
                            : strcmp(argv[i], "--source") == 0  ? &a->source
                            : strcmp(argv[i], "--targets") == 0 ? &a->targets
                                                                : NULL;
        if (!slot)
            return usage("unknown flag", argv[i]);
        if (i + 1 >= argc)
            return usage("flag needs a value", argv[i]);
        *slot = argv[++i];
    }
    if (!a->file || !a->file[0])
        return usage("--file PATH is required", NULL);
    if (!a->source && !a->targets)
        return usage("nothing to write: give --source, --targets or both", NULL);
    return 0;
}

/* Check each new value alone, so a message names the bad one. */
static int check_values(const struct cw_args *a)
{
    static struct up_options o; /* large: keep it off the stack */
    char err[600], one[UP_ADDR_TEXT_MAX + 1];
    size_t count = 0;

    up_options_defaults(&o);
    if (a->source && up_options_set(&o, "source", a->source, err, sizeof(err)) != UP_OK) {
        fprintf(stderr, "udp-proxy: config-write: --source: %s\n", err);
        return 2;
    }
    for (const char *p = a->targets ? a->targets : ""; *(p += strspn(p, " \t"));) {
        size_t n = strcspn(p, " \t");
        if (n >= sizeof(one)) {
            fprintf(stderr, "udp-proxy: config-write: --targets: '%.*s' is too long\n", (int)n, p);
            return 2;
        }
        memcpy(one, p, n);
        one[n] = '\0';
        if (up_options_set(&o, "target", one, err, sizeof(err)) != UP_OK) {
            fprintf(stderr, "udp-proxy: config-write: --targets: %s\n", err);
            return 2;
        }
        count++;
        p += n;
    }
    if (a->targets && count == 0) {
        fprintf(stderr, "udp-proxy: config-write: --targets: no address given\n");
        return 2;
    }
    return 0;
}

/* Read path into buf (UP_CONFIG_FILE_MAX + 1 bytes); a missing file reads
 * as empty. Returns 0, or 1 with a message. */
static int read_old(const char *path, char *buf, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int r = up_last_error();
        if (errno == ENOENT) /* C's own code: the same on both platforms */
            return 0;
        fprintf(stderr, "udp-proxy: config-write: cannot read '%s': %s\n", path, up_strerror(r));
        return 1;
    }
    *len = fread(buf, 1, UP_CONFIG_FILE_MAX + 1, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || *len > UP_CONFIG_FILE_MAX) {
        fprintf(stderr, "udp-proxy: config-write: cannot read '%s': %s\n", path,
                bad ? "read error" : "larger than 1 MiB");
        return 1;
    }
    return 0;
}

/* The old text with the source and target lines replaced. */
static void rewrite(const struct cw_args *a, const char *old, size_t len, struct out_buf *b)
{
    bool source_done = !a->source, targets_done = !a->targets;
    size_t pos = 0;
    while (pos < len) {
        const char *line = old + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) + 1 : len - pos;
        const char *name;
        size_t nlen = line_name(line, n, &name);
        pos += n;
        if (a->source && is_setting(name, nlen, "source")) {
            if (!source_done)
                put_setting(b, "source", a->source, strlen(a->source));
            source_done = true;
            continue;
        }
        if (a->targets && is_setting(name, nlen, "target")) {
            if (!targets_done)
                put_targets(b, a->targets);
            targets_done = true;
            continue;
        }
        put(b, line, n);
        if (!nl)
            put(b, "\n", 1); /* the last line had no newline */
    }
    if ((!source_done || !targets_done) && b->len > 0)
        put(b, "\n", 1);
    if (!source_done || !targets_done)
        put(b, "# Set by udp-proxy config-write.\n", 33);
    if (!source_done)
        put_setting(b, "source", a->source, strlen(a->source));
    if (!targets_done)
        put_targets(b, a->targets);
}

int up_config_write_main(int argc, char **argv)
{
    static struct up_options check; /* large: keep it off the stack */
    struct cw_args a;
    struct out_buf b = {0};
    char err[1200];
    char *old = NULL;
    size_t old_len = 0;
    int status = parse_args(argc, argv, &a);
    if (status != 0)
        return status;
    status = check_values(&a);
    if (status != 0)
        return status;

    status = 1;
    old = up_calloc(1, UP_CONFIG_FILE_MAX + 1);
    b.p = up_calloc(1, OUT_MAX);
    if (!old || !b.p) {
        fprintf(stderr, "udp-proxy: config-write: out of memory\n");
        goto out;
    }
    if (read_old(a.file, old, &old_len) != 0)
        goto out;
    rewrite(&a, old, old_len, &b);
    if (b.full) {
        fprintf(stderr, "udp-proxy: config-write: '%s' would grow beyond %d bytes\n", a.file, OUT_MAX);
        goto out;
    }
    up_options_defaults(&check);
    if (up_config_parse(&check, b.p, b.len, a.file, err, sizeof(err)) != UP_OK) {
        fprintf(stderr, "udp-proxy: config-write: the result would not load, nothing written: %s\n", err);
        status = 2;
        goto out;
    }
    FILE *f = fopen(a.file, "wb");
    if (!f) {
        fprintf(stderr, "udp-proxy: config-write: cannot write '%s': %s\n", a.file, up_strerror(up_last_error()));
        goto out;
    }
    bool ok = fwrite(b.p, 1, b.len, f) == b.len;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "udp-proxy: config-write: cannot write '%s'\n", a.file);
        goto out;
    }
    printf("udp-proxy: wrote %s: source %s, %zu target(s)\n", a.file, check.source, check.ntargets);
    status = 0;
out:
    up_free(old);
    up_free(b.p);
    return status;
}
