/*
 * kl_json.c: JSON strings: any bytes written as a valid, escaped JSON
 * string literal.
 */
#include "kl_common.h"

#include <assert.h>
#include <stdio.h>

/* Length of the well-formed UTF-8 sequence at s[0, n) (2 to 4 bytes), or
 * 0 when s does not start one: a stray continuation byte, a truncated or
 * overlong sequence, a surrogate or a code point above U+10FFFF. *cp gets
 * the code point. */
static size_t kl_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    uint32_t c, min;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, c = s[0] & 0x1fu, min = 0x80;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, c = s[0] & 0x0fu, min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, c = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

int kl_json_str(kl_buf *b, const char *s, size_t n, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t i = 0, run = 0;
    char esc[8];

    assert(s != NULL || n == 0);
    if (kl_buf_add(b, "\"", 1) < 0)
        return -1;
    /* Copy runs of bytes that need no escape in one go. */
    while (i < n) {
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t len = 1;
        uint32_t cp = 0;

        if (c >= 0x80) {
            len = kl_utf8_seq(p + i, n - i, &cp);
            if (len == 0) {
                rep = "\\ufffd"; /* not UTF-8: the replacement character */
                len = 1;
            } else if (cp == 0x2028 || cp == 0x2029) {
                /* Valid JSON, but line ends to older JavaScript. */
                rep = cp == 0x2028 ? "\\u2028" : "\\u2029";
            }
        } else if (c == '"') {
            rep = "\\\"";
        } else if (c == '\\') {
            rep = "\\\\";
        } else if (c == '\n') {
            rep = "\\n";
        } else if (c == '\r') {
            rep = "\\r";
        } else if (c == '\t') {
            rep = "\\t";
        } else if (c < 0x20 || c == 0x7f ||
                   ((flags & KL_JSON_HTML) &&
                    (c == '<' || c == '>' || c == '&'))) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            rep = esc;
        }
        if (rep == NULL) {
            run += len;
            i += len;
            continue;
        }
        if (kl_buf_add(b, p + i - run, run) < 0 || kl_buf_adds(b, rep) < 0)
            return -1;
        run = 0;
        i += len;
    }
    if (kl_buf_add(b, p + i - run, run) < 0 || kl_buf_add(b, "\"", 1) < 0)
        return -1;
    return 0;
}
