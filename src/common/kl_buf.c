/*
 * kl_buf.c: growable strings, path joining, string lists and room in
 * growable arrays.
 */
#include "kl_common.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Drop the text, keep the memory. */
static void kl_buf_reset(kl_buf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

/* Make room for n more bytes and the NUL. -1 when out of memory. */
static int kl_buf_grow(kl_buf *b, size_t n)
{
    size_t want, cap;
    char *s;

    if (n > SIZE_MAX - b->len - 1)
        return -1;
    want = b->len + n + 1;
    if (want <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    s = realloc(b->s, cap);
    if (s == NULL)
        return -1;
    b->s = s;
    b->cap = cap;
    return 0;
}

int kl_buf_add(kl_buf *b, const void *p, size_t n)
{
    if (kl_buf_grow(b, n) < 0)
        return -1;
    if (n > 0)
        memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

int kl_buf_adds(kl_buf *b, const char *s)
{
    return kl_buf_add(b, s, strlen(s));
}

/* Append formatted text given as a va_list. */
static int kl_buf_vaddf(kl_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || kl_buf_grow(b, (size_t)n) < 0) {
        va_end(again);
        return -1;
    }
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
    va_end(again);
    b->len += (size_t)n;
    return 0;
}

int kl_buf_setf(kl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int r;

    kl_buf_reset(b);
    va_start(ap, fmt);
    r = kl_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return r;
}

int kl_buf_addf(kl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = kl_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return r;
}

int kl_buf_sets(kl_buf *b, const char *s)
{
    kl_buf_reset(b);
    return kl_buf_adds(b, s);
}

int kl_path_join(kl_buf *b, const char *dir, const char *name)
{
    if (dir[0] == '\0')
        return kl_buf_sets(b, name);
    return kl_buf_setf(b, "%s/%s", dir, name);
}

void kl_buf_free(kl_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

char *kl_buf_detach(kl_buf *b)
{
    char *s = b->s ? b->s : strdup("");

    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

int kl_room(void *v, size_t *cap, size_t n, size_t size)
{
    void **pv = v;
    size_t want = *cap ? *cap * 2 : 16;
    void *grown;

    if (n < *cap)
        return 0;
    if (want > SIZE_MAX / size)
        return -1;
    grown = realloc(*pv, want * size);
    if (grown == NULL)
        return -1;
    *pv = grown;
    *cap = want;
    return 0;
}

int kl_strv_take(kl_strv *l, char *s)
{
    if (s == NULL)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof *v);

        if (v == NULL) {
            free(s);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

int kl_strv_push(kl_strv *l, const char *s)
{
    assert(s != NULL);
    return kl_strv_take(l, strdup(s));
}

void kl_strv_free(kl_strv *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

char *kl_str_join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}
