/*
 * fz_distfile.c: reading the files of a .dist-info directory (RECORD,
 * METADATA, entry_points.txt, top_level.txt) and project names as PEP 503
 * normalizes them. Damaged input yields less, never an error.
 */
#include "fz_dist.h"

#include <stdlib.h>
#include <string.h>

/* A line of text: [s, s + n), without its line ending. */
typedef struct fz_line {
    const char *s;
    size_t n;
} fz_line;

/* Take the next line of text[*pos, end) into *line and advance *pos past
 * it; 0 when the text is used up. */
static int fz_next_line(const char *text, size_t end, size_t *pos,
                        fz_line *line)
{
    const char *nl;

    if (*pos >= end)
        return 0;
    line->s = text + *pos;
    nl = memchr(line->s, '\n', end - *pos);
    line->n = nl ? (size_t)(nl - line->s) : end - *pos;
    *pos += line->n + (nl != NULL);
    if (line->n > 0 && line->s[line->n - 1] == '\r')
        line->n--;
    return 1;
}

/* Drop spaces and tabs from both ends of line. */
static void fz_trim(fz_line *line)
{
    while (line->n > 0 && (line->s[0] == ' ' || line->s[0] == '\t')) {
        line->s++;
        line->n--;
    }
    while (line->n > 0 &&
           (line->s[line->n - 1] == ' ' || line->s[line->n - 1] == '\t'))
        line->n--;
}

/* True when c may appear in a Python identifier (ASCII only); digits
 * too when `digits`. */
static int fz_ident_char(char c, int digits)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (digits && c >= '0' && c <= '9');
}

int fz_dist_is_dotted(const char *s, size_t n)
{
    size_t i;
    int at_start = 1;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (at_start)
                return 0;
            at_start = 1;
        } else if (fz_ident_char(s[i], !at_start)) {
            at_start = 0;
        } else {
            return 0;
        }
    }
    return !at_start;
}

char *fz_dist_normalize(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    size_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '-' || c == '_' || c == '.') {
            if (o == out || o[-1] != '-')
                *o++ = '-';
        } else {
            *o++ = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
    }
    *o = '\0';
    return out;
}

/* qsort order of C strings. */
static int fz_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void fz_strv_sort_unique(kl_strv *l)
{
    size_t i, k = 0;

    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof *l->v, fz_strcmp_p);
    for (i = 0; i < l->n; i++) {
        if (k > 0 && strcmp(l->v[k - 1], l->v[i]) == 0)
            free(l->v[i]);
        else
            l->v[k++] = l->v[i];
    }
    l->n = k;
}

int fz_strv_has(const kl_strv *l, const char *s)
{
    return l->n > 0 &&
           bsearch(&s, l->v, l->n, sizeof *l->v, fz_strcmp_p) != NULL;
}

/* Append s[0, n) to out; -1 (err set) when out of memory. */
static int fz_push_n(kl_strv *out, const char *s, size_t n, kl_err *err)
{
    return kl_strv_take(out, strndup(s, n)) < 0 ? kl_err_oom(err) : 0;
}

/* True when relative path p[0, n) stays inside the directory it is
 * relative to: not absolute, no ".." component. */
static int fz_path_inside(const char *p, size_t n)
{
    size_t i = 0;

    if (n == 0 || p[0] == '/')
        return 0;
    while (i < n) {
        size_t k = i;

        while (k < n && p[k] != '/')
            k++;
        if (k - i == 2 && p[i] == '.' && p[i + 1] == '.')
            return 0;
        i = k + 1;
    }
    return 1;
}

int fz_dist_parse_record(const char *text, size_t n, kl_strv *out,
                         kl_err *err)
{
    kl_buf path = KL_BUF_INIT;
    size_t pos = 0, i;
    fz_line line;
    int r = 0;

    while (r == 0 && fz_next_line(text, n, &pos, &line)) {
        int ok = 1;

        path.len = 0;
        if (line.n > 0 && line.s[0] == '"') {
            /* A quoted field: "" stands for one quote. */
            for (i = 1; i < line.n; i++) {
                if (line.s[i] == '"' && i + 1 < line.n && line.s[i + 1] == '"')
                    i++;
                else if (line.s[i] == '"')
                    break;
                if (kl_buf_add(&path, line.s + i, 1) < 0)
                    r = kl_err_oom(err);
            }
            ok = i < line.n; /* the closing quote was there */
        } else {
            i = 0;
            while (i < line.n && line.s[i] != ',')
                i++;
            if (kl_buf_add(&path, line.s, i) < 0)
                r = kl_err_oom(err);
        }
        if (r == 0 && ok && path.len > 0 && fz_path_inside(path.s, path.len))
            r = fz_push_n(out, path.s, path.len, err);
    }
    kl_buf_free(&path);
    return r;
}

/* True when identifier `word` occurs in s[0, n) as a whole word. */
static int fz_has_word(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word), i;

    for (i = 0; i + w <= n; i++)
        if (memcmp(s + i, word, w) == 0 &&
            (i == 0 || !fz_ident_char(s[i - 1], 1)) &&
            (i + w == n || !fz_ident_char(s[i + w], 1)))
            return 1;
    return 0;
}

/* Handle one Requires-Dist value: its project name, normalized, joins
 * requires unless its marker mentions `extra`. */
static int fz_requirement(fz_line v, kl_strv *requires, kl_err *err)
{
    const char *semi = memchr(v.s, ';', v.n);
    size_t k = 0;
    char *key;

    if (semi != NULL &&
        fz_has_word(semi + 1, v.n - (size_t)(semi + 1 - v.s), "extra"))
        return 0;
    while (k < v.n && (fz_ident_char(v.s[k], 1) || v.s[k] == '-' ||
                       v.s[k] == '.'))
        k++;
    if (k == 0)
        return 0;
    key = fz_dist_normalize(v.s, k);
    if (kl_strv_take(requires, key) < 0)
        return kl_err_oom(err);
    return 0;
}

/* What fz_dist_parse_metadata keeps of the headers. */
typedef struct fz_metadata {
    char **name;
    kl_strv *requires;
    kl_err *err;
} fz_metadata;

/* fz_dist_headers' callback for fz_dist_parse_metadata. */
static int fz_metadata_header(void *ctx, const char *key, size_t klen,
                              const char *value, size_t vlen)
{
    fz_metadata *m = ctx;
    fz_line v = {value, vlen};

    fz_trim(&v);
    if (klen == 4 && strncmp(key, "Name", 4) == 0 && *m->name == NULL &&
        v.n > 0) {
        *m->name = strndup(v.s, v.n);
        return *m->name ? 0 : kl_err_oom(m->err);
    }
    if (klen == 13 && strncmp(key, "Requires-Dist", 13) == 0)
        return fz_requirement(v, m->requires, m->err);
    return 0;
}

int fz_dist_headers(const char *text, size_t n, const char *fold,
                    int (*each)(void *ctx, const char *key, size_t klen,
                                const char *value, size_t vlen),
                    void *ctx)
{
    kl_buf header = KL_BUF_INIT;
    size_t pos = 0;
    fz_line line;
    int r = 0, ended = 0;

    while (r == 0 && !ended) {
        int more = fz_next_line(text, n, &pos, &line);

        if (more && line.n > 0 && (line.s[0] == ' ' || line.s[0] == '\t')) {
            /* a folded header goes on */
            if (kl_buf_adds(&header, fold) < 0 ||
                kl_buf_add(&header, line.s, line.n) < 0)
                r = -1;
            continue;
        }
        if (header.len > 0) {
            const char *colon = memchr(header.s, ':', header.len);

            if (colon != NULL)
                r = each(ctx, header.s, (size_t)(colon - header.s),
                         colon + 1, header.len - (size_t)(colon - header.s) - 1);
        }
        header.len = 0;
        ended = !more || line.n == 0; /* the text or the headers end */
        if (r == 0 && !ended && kl_buf_add(&header, line.s, line.n) < 0)
            r = -1;
    }
    kl_buf_free(&header);
    return r;
}

int fz_dist_parse_metadata(const char *text, size_t n, char **name,
                           kl_strv *requires, kl_err *err)
{
    fz_metadata m = {name, requires, err};

    *name = NULL;
    if (fz_dist_headers(text, n, " ", fz_metadata_header, &m) == 0)
        return 0;
    free(*name);
    *name = NULL;
    return kl_err_oom(err); /* the only way it fails */
}

int fz_dist_parse_entry_points(const char *text, size_t n, kl_strv *out,
                               kl_err *err)
{
    kl_buf item = KL_BUF_INIT;
    size_t pos = 0, k;
    fz_line line, group = {"", 0};
    int r = 0;

    while (r == 0 && fz_next_line(text, n, &pos, &line)) {
        const char *eq;
        fz_line v;

        fz_trim(&line);
        if (line.n == 0 || line.s[0] == '#' || line.s[0] == ';')
            continue;
        if (line.s[0] == '[') {
            group.s = line.s + 1;
            group.n = memchr(line.s, ']', line.n)
                          ? (size_t)((const char *)memchr(line.s, ']',
                                                          line.n) - group.s)
                          : 0;
            fz_trim(&group);
            continue;
        }
        eq = memchr(line.s, '=', line.n);
        if (eq == NULL || group.n == 0 ||
            (group.n == 15 && memcmp(group.s, "console_scripts", 15) == 0) ||
            (group.n == 11 && memcmp(group.s, "gui_scripts", 11) == 0))
            continue;
        v.s = eq + 1;
        v.n = line.n - (size_t)(eq + 1 - line.s);
        fz_trim(&v);
        for (k = 0; k < v.n && v.s[k] != ':' && v.s[k] != '[' &&
                    v.s[k] != ' ' && v.s[k] != '\t';
             k++)
            ;
        if (!fz_dist_is_dotted(v.s, k))
            continue;
        item.len = 0;
        if (kl_buf_add(&item, v.s, k) < 0 || kl_buf_adds(&item, " ") < 0 ||
            kl_buf_add(&item, group.s, group.n) < 0)
            r = kl_err_oom(err);
        else
            r = fz_push_n(out, item.s, item.len, err);
    }
    kl_buf_free(&item);
    return r;
}

int fz_dist_parse_lines(const char *text, size_t n, kl_strv *out,
                        kl_err *err)
{
    size_t pos = 0;
    fz_line line;

    while (fz_next_line(text, n, &pos, &line)) {
        fz_trim(&line);
        if (line.n > 0 && fz_push_n(out, line.s, line.n, err) < 0)
            return -1;
    }
    return 0;
}
