/*
 * config.c - the configuration file parser (see config.h).
 *
 * A line-by-line scanner over a length-bounded buffer: it never reads past
 * len (fuzzed with libFuzzer, tests/fuzz/fuzz_config.c), copies one line at
 * a time into a fixed buffer, and hands name and value to up_options_set(),
 * so the file and the command line share every check and message.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Trim blanks at both ends of s[0..*n) in place; returns the new start. */
static char *trim(char *s, size_t *n)
{
    while (*n && is_blank(*s))
        s++, (*n)--;
    while (*n && is_blank(s[*n - 1]))
        (*n)--;
    s[*n] = '\0';
    return s;
}

/* One line (NUL-terminated, no newline). Returns UP_OK or an error with
 * the reason (without file and line) in err. */
static int parse_line(struct up_options *o, char *line, size_t n, char *err, size_t errlen)
{
    char *s = trim(line, &n);
    if (n == 0 || s[0] == '#')
        return UP_OK;
    /* A '#' after blank space before any '=' starts a comment: a bare
     * switch may carry one ("allow-unresolved   # a switch, or = true"). */
    for (size_t i = 1; i < n && s[i] != '='; i++)
        if (s[i] == '#' && is_blank(s[i - 1])) {
            n = i;
            s = trim(s, &n);
            break;
        }
    char *eq = memchr(s, '=', n);
    size_t nlen = eq ? (size_t)(eq - s) : n;
    char *name = s;
    while (nlen && is_blank(name[nlen - 1]))
        nlen--;
    for (size_t i = 0; i < nlen; i++)
        if (!name_char(name[i])) {
            snprintf(err, errlen, "expected 'name = value', got '%s'", s);
            return UP_EINVAL;
        }
    if (nlen == 0) {
        snprintf(err, errlen, "a setting name is missing before '='");
        return UP_EINVAL;
    }
    const char *value = NULL;
    if (eq) {
        size_t vlen = n - (size_t)(eq + 1 - s);
        char *v = eq + 1;
        while (vlen && is_blank(*v))
            v++, vlen--;
        if (vlen && v[0] == '"') {
            char *close = memchr(v + 1, '"', vlen - 1);
            if (!close) {
                snprintf(err, errlen, "%.*s: the value's closing '\"' is missing", (int)nlen, name);
                return UP_EINVAL;
            }
            for (char *c = close + 1; c < v + vlen; c++)
                if (*c == '#' && is_blank(c[-1]))
                    break;
                else if (!is_blank(*c)) {
                    snprintf(err, errlen, "%.*s: text after the quoted value", (int)nlen, name);
                    return UP_EINVAL;
                }
            *close = '\0';
            value = v + 1;
        } else {
            /* A '#' after blank space starts a comment. */
            for (size_t i = 1; i < vlen; i++)
                if (v[i] == '#' && is_blank(v[i - 1])) {
                    vlen = i;
                    break;
                }
            v = trim(v, &vlen);
            if (vlen == 0) {
                snprintf(err, errlen, "%.*s: the value is missing after '='", (int)nlen, name);
                return UP_EINVAL;
            }
            value = v;
        }
    }
    name[nlen] = '\0';
    return up_options_set(o, name, value, err, errlen);
}

int up_config_parse(struct up_options *o, const char *text, size_t len, const char *fname, char *err, size_t errlen)
{
    char line[UP_CONFIG_LINE_MAX + 1];
    char why[512];
    size_t lineno = 0, pos = 0;

    /* A UTF-8 byte order mark, as Windows editors (Notepad) may write. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        int r = UP_OK;
        if (n > UP_CONFIG_LINE_MAX) {
            snprintf(why, sizeof(why), "line longer than %d bytes", UP_CONFIG_LINE_MAX);
            r = UP_EINVAL;
        } else if (memchr(text + pos, '\0', n)) {
            snprintf(why, sizeof(why), "a NUL byte (is this a text file?)");
            r = UP_EINVAL;
        } else {
            memcpy(line, text + pos, n);
            line[n] = '\0';
            r = parse_line(o, line, n, why, sizeof(why));
        }
        if (r != UP_OK) {
            snprintf(err, errlen, "%s:%zu: %s", fname, lineno, why);
            return r;
        }
        pos += n + (nl ? 1 : 0);
    }
    return UP_OK;
}

int up_config_read(struct up_options *o, const char *path, char *err, size_t errlen)
{
    int r = UP_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        r = up_last_error();
        snprintf(err, errlen, "cannot read config file '%s': %s", path, up_strerror(r));
        return r;
    }
    buf = up_calloc(1, UP_CONFIG_FILE_MAX + 1);
    if (!buf) {
        r = UP_ENOMEM;
        snprintf(err, errlen, "cannot read config file '%s': %s", path, up_strerror(r));
        goto out;
    }
    size_t n = fread(buf, 1, UP_CONFIG_FILE_MAX + 1, f);
    if (ferror(f)) {
        r = up_last_error(); /* a directory: EISDIR */
        if (r == UP_OK || r == UP_EAGAIN)
            r = UP_EIO;
        snprintf(err, errlen, "cannot read config file '%s': %s", path, up_strerror(r));
        goto out;
    }
    if (n > UP_CONFIG_FILE_MAX) {
        r = UP_ERANGE;
        snprintf(err, errlen, "config file '%s' is larger than %d bytes", path, UP_CONFIG_FILE_MAX);
        goto out;
    }
    r = up_config_parse(o, buf, n, path, err, errlen);
out:
    up_free(buf);
    fclose(f);
    return r;
}

int up_config_load(struct up_options *o, int argc, char *const *argv, char *err, size_t errlen)
{
    char path[UP_PATH_MAX];

    up_options_defaults(o);
    int action = up_options_parse_lax(o, argc, argv, 1, err, errlen);
    if (action != UP_OPTIONS_RUN)
        return action;
    if (!o->config[0]) {
        int r = up_options_check(o, err, errlen);
        return r != UP_OK ? r : action;
    }
    /* Again from scratch: the file first, the command line over it. */
    snprintf(path, sizeof(path), "%s", o->config);
    up_options_defaults(o);
    int r = up_config_read(o, path, err, errlen);
    if (r != UP_OK)
        return r;
    return up_options_parse(o, argc, argv, 1, err, errlen);
}
