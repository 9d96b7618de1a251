/*
 * fz_names.c: module names: their form, containment and relative-import
 * resolution.
 */
#include "fz_names.h"

#include <stdlib.h>
#include <string.h>

int fz_name_within(const char *name, const char *x)
{
    size_t n = strlen(x);

    return strncmp(name, x, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

int fz_name_is_dotted(const char *s, size_t n)
{
    size_t i;
    int at_start = 1;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (at_start)
                return 0;
            at_start = 1;
            continue;
        }
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (!at_start && c >= '0' && c <= '9') || (unsigned char)c >= 0x80))
            return 0;
        at_start = 0;
    }
    return !at_start;
}

int fz_name_resolve(const char *from, int from_is_package, const char *name,
                    long level, char **out, kl_err *err)
{
    size_t base;
    char *s;

    *out = NULL;
    if (level <= 0) {
        *out = strdup(name);
        return *out ? 0 : kl_err_oom(err);
    }
    if (strcmp(from, "__main__") == 0)
        return 0;
    base = strlen(from);
    /* A module's own package is its parent; a package is its own. */
    if (!from_is_package)
        level++;
    while (--level > 0) {
        while (base > 0 && from[base - 1] != '.')
            base--;
        if (base == 0)
            return 0; /* beyond the top-level package */
        base--;
    }
    if (name[0] == '\0') {
        s = strndup(from, base);
    } else {
        s = malloc(base + 1 + strlen(name) + 1);
        if (s != NULL) {
            memcpy(s, from, base);
            s[base] = '.';
            strcpy(s + base + 1, name);
        }
    }
    if (s == NULL)
        return kl_err_oom(err);
    *out = s;
    return 0;
}
