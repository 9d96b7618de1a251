/*
 * fz_native.c: module names that native code imports, read from the
 * strings of an extension module's file: what PyImport_ImportModule and
 * its kin are handed is a C string constant, which no bytecode shows.
 */
#include "fz_native.h"

#include "fz_dist.h"

#include <stdlib.h>
#include <string.h>

/* Longest string taken for a module name. */
#define FZ_NATIVE_MAX 200

/* True when c may appear in a dotted module name. */
static int fz_native_name_char(uint8_t c)
{
    return c == '_' || c == '.' || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int fz_native_scan(const uint8_t *p, size_t n, const kl_strv *tops,
                   kl_strv *out, kl_err *err)
{
    size_t i = 0;

    while (i < n) {
        size_t start, len, top;
        int whole, dotted;
        char *name;

        if (!fz_native_name_char(p[i])) {
            i++;
            continue;
        }
        start = i;
        while (i < n && fz_native_name_char(p[i]))
            i++;
        len = i - start;
        if (len > FZ_NATIVE_MAX || !fz_dist_is_dotted((const char *)p + start,
                                                      len))
            continue;
        /* A whole C string, or a dotted name standing alone: a plain word
         * inside a longer text is English, not an import. */
        whole = (start == 0 || p[start - 1] == 0) && (i == n || p[i] == 0);
        dotted = memchr(p + start, '.', len) != NULL;
        if (!whole && !dotted)
            continue;
        for (top = 0; top < len && p[start + top] != '.'; top++)
            ;
        name = strndup((const char *)p + start, top);
        if (name == NULL)
            return kl_err_oom(err);
        if (fz_strv_has(tops, name)) {
            free(name);
            name = strndup((const char *)p + start, len);
            if (kl_strv_take(out, name) < 0)
                return kl_err_oom(err);
        } else {
            free(name);
        }
    }
    fz_strv_sort_unique(out);
    return 0;
}

int fz_native_names(const char *path, const kl_strv *tops, kl_strv *out,
                    kl_err *err)
{
    kl_map m;
    int r;

    if (kl_map_file(path, &m, err) < 0)
        return -1;
    r = fz_native_scan(m.data, (size_t)m.size, tops, out, err);
    kl_unmap(&m);
    return r;
}
