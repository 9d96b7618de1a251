/*
 * test_json.c: the JSON string escaper (kl_json_str): escapes, UTF-8
 * kept or replaced, the HTML-safe form, and random bytes always giving a
 * literal that decodes back to the input (with bad UTF-8 replaced).
 */
#include "check.h"

/* kl_json_str(s[0, n)) with flags, as a new string (freed by the
 * caller). */
static char *json(const char *s, size_t n, unsigned flags)
{
    kl_buf b = KL_BUF_INIT;

    if (kl_json_str(&b, s, n, flags) < 0) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return kl_buf_detach(&b);
}

/* Check that escaping s[0, n) gives want. */
#define EXPECT(s, n, flags, want)                                              \
    do {                                                                       \
        char *got_ = json(s, n, flags);                                        \
        CHECKF(strcmp(got_, want) == 0, "got %s, want %s", got_, want);        \
        free(got_);                                                            \
    } while (0)
#define EXPECTS(s, want) EXPECT(s, sizeof(s) - 1, 0, want)

static void test_escapes(void)
{
    EXPECTS("", "\"\"");
    EXPECTS("plain text/1.0", "\"plain text/1.0\"");
    EXPECTS("say \"hi\"", "\"say \\\"hi\\\"\"");
    EXPECTS("back\\slash", "\"back\\\\slash\"");
    EXPECTS("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
    EXPECTS("\b\f\x01\x1f\x7f", "\"\\u0008\\u000c\\u0001\\u001f\\u007f\"");
    EXPECTS("nul\0in", "\"nul\\u0000in\"");
    EXPECT(NULL, 0, 0, "\"\"");
}

static void test_utf8(void)
{
    /* Well-formed sequences of 2, 3 and 4 bytes are kept as they are. */
    EXPECTS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    EXPECTS("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
    /* Every byte outside well-formed UTF-8 becomes U+FFFD. */
    EXPECTS("\x80", "\"\\ufffd\"");                 /* stray continuation */
    EXPECTS("\xc0\xaf", "\"\\ufffd\\ufffd\"");      /* overlong */
    EXPECTS("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
    EXPECTS("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    EXPECTS("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    EXPECTS("\xf5", "\"\\ufffd\"");
    EXPECTS("ab\xe2\x82", "\"ab\\ufffd\\ufffd\"");  /* cut at the end */
    EXPECTS("\xe2\x82x", "\"\\ufffd\\ufffdx\"");    /* cut in the middle */
    /* Line and paragraph separators are escaped for JavaScript. */
    EXPECTS("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
}

static void test_html(void)
{
    EXPECT("</script>&", 10, KL_JSON_HTML,
           "\"\\u003c/script\\u003e\\u0026\"");
    EXPECT("</script>&", 10, 0, "\"</script>&\"");
}

static void test_appends(void)
{
    kl_buf b = KL_BUF_INIT;

    CHECK(kl_buf_sets(&b, "{\"k\":") == 0);
    CHECK(kl_json_str(&b, "v", 1, 0) == 0);
    CHECK(kl_buf_adds(&b, "}") == 0);
    CHECKF(strcmp(b.s, "{\"k\":\"v\"}") == 0, "%s", b.s);
    kl_buf_free(&b);
}

/* Append code point cp to out as UTF-8. */
static void put_utf8(kl_buf *out, uint32_t cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    }
    kl_buf_add(out, u, n);
}

/* Decode the JSON string literal lit into out (bytes). 0, or -1 when lit
 * is not one: a raw control character, an unknown escape, a missing
 * quote. */
static int decode(const char *lit, kl_buf *out)
{
    const unsigned char *p = (const unsigned char *)lit;

    if (*p++ != '"')
        return -1;
    for (; *p != '"'; p++) {
        unsigned cp;

        if (*p == '\0' || *p < 0x20)
            return -1;
        if (*p != '\\') {
            kl_buf_add(out, p, 1);
            continue;
        }
        switch (*++p) {
        case '"': kl_buf_adds(out, "\""); break;
        case '\\': kl_buf_adds(out, "\\"); break;
        case 'n': kl_buf_adds(out, "\n"); break;
        case 'r': kl_buf_adds(out, "\r"); break;
        case 't': kl_buf_adds(out, "\t"); break;
        case 'u':
            if (sscanf((const char *)p + 1, "%4x", &cp) != 1)
                return -1;
            put_utf8(out, cp);
            p += 4;
            break;
        default:
            return -1;
        }
    }
    return p[1] == '\0' ? 0 : -1;
}

/* The input with every byte outside well-formed UTF-8 replaced by U+FFFD,
 * computed on its own terms: decode with a strict reader. */
static void expected_text(const uint8_t *s, size_t n, kl_buf *out)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp = 0;
        size_t len = 0, k;

        if (s[i] < 0x80)
            len = 1, cp = s[i];
        else if ((s[i] & 0xe0) == 0xc0)
            len = 2, cp = s[i] & 0x1f;
        else if ((s[i] & 0xf0) == 0xe0)
            len = 3, cp = s[i] & 0x0f;
        else if ((s[i] & 0xf8) == 0xf0)
            len = 4, cp = s[i] & 0x07;
        for (k = 1; len > 1 && k < len; k++) {
            if (i + k >= n || (s[i + k] & 0xc0) != 0x80) {
                len = 0;
                break;
            }
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (len == 0 || (len == 2 && cp < 0x80) ||
            (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            put_utf8(out, 0xfffd);
            i++;
            continue;
        }
        kl_buf_add(out, s + i, len);
        i += len;
    }
}

static void test_random_bytes_round_trip(void)
{
    uint8_t in[64];
    int round;

    for (round = 0; round < 20000; round++) {
        kl_buf got = KL_BUF_INIT, want = KL_BUF_INIT;
        size_t n = (size_t)round % sizeof in, i;
        char *lit;

        fill_random(in, n, (uint64_t)round);
        /* Bias towards the interesting bytes. */
        for (i = 0; i < n; i++)
            if (in[i] % 5 == 0)
                in[i] = (uint8_t)"\"\\\n\x01\x7f<\xc3\xa9\xe2\x80\xa8\xf0"[in[i] % 13];
        lit = json((const char *)in, n, round & 1 ? KL_JSON_HTML : 0);
        for (i = 0; lit[i]; i++)
            if ((unsigned char)lit[i] < 0x20 ||
                ((round & 1) && (lit[i] == '<' || lit[i] == '>')))
                break;
        CHECKF(lit[i] == '\0', "round %d: raw byte %#x in %s", round,
               (unsigned char)lit[i], lit);
        expected_text(in, n, &want);
        CHECKF(decode(lit, &got) == 0, "round %d: not a literal: %s", round,
               lit);
        CHECKF(got.len == want.len &&
                   memcmp(got.s ? got.s : "", want.s ? want.s : "",
                          got.len) == 0,
               "round %d: %s does not decode to the input", round, lit);
        free(lit);
        kl_buf_free(&got);
        kl_buf_free(&want);
        if (n_failed > 10)
            break;
    }
}

int main(void)
{
    test_escapes();
    test_utf8();
    test_html();
    test_appends();
    test_random_bytes_round_trip();
    return check_summary();
}
