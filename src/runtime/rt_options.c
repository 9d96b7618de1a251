/*
 * rt_options.c: the interpreter options a program was built with, read
 * from its bundle's options text (docs/format.md): how the interpreter
 * starts, and the runtime hooks that run before the app.
 */
#include "rt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* True when s is a decimal number no greater than max; *out gets it. */
static int rt_options_number(const char *s, unsigned long max,
                             unsigned long *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *out <= max;
}

/* Apply one line, "name" or "name value" (value NULL when absent). 0, or
 * -1 when the line is not an option this runtime knows or its value is
 * not one the build writes. */
static int rt_options_line(rt_options *o, const char *name,
                           const char *value)
{
    unsigned long n;

    if (strcmp(name, "optimize") == 0 && value != NULL &&
        rt_options_number(value, 2, &n))
        o->optimize = (int)n;
    else if (strcmp(name, "unbuffered") == 0 && value == NULL)
        o->unbuffered = 1;
    else if (strcmp(name, "environment") == 0 && value == NULL)
        o->environment = 1;
    else if (strcmp(name, "meipass") == 0 && value == NULL)
        o->meipass = 1;
    else if (strcmp(name, "full-finalize") == 0 && value == NULL)
        o->full_finalize = 1;
    else if (strcmp(name, "dependencies") == 0 && value != NULL &&
             strcmp(value, "host") == 0)
        o->deps_host = 1;
    else if (strcmp(name, "hash-seed") == 0 && value != NULL &&
             rt_options_number(value, 4294967295ul, &n)) {
        o->hash_seed_set = 1;
        o->hash_seed = n;
    } else if (strcmp(name, "runtime-hook") == 0 && value != NULL)
        return kl_strv_push(&o->hooks, value);
    else if (strcmp(name, "warn") == 0 && value != NULL)
        return kl_strv_push(&o->warnings, value);
    else if (strcmp(name, "xoption") == 0 && value != NULL) {
        if (strcmp(value, "utf8") == 0 || strcmp(value, "utf8=1") == 0)
            o->utf8_mode = 1;
        else if (strcmp(value, "utf8=0") == 0)
            o->utf8_mode = 0;
        else if (strcmp(value, "dev") == 0 || strncmp(value, "dev=", 4) == 0)
            o->dev_mode = 1;

        return kl_strv_push(&o->xoptions, value);
    } else
        return -1;
    return 0;
}

int rt_options_read(rt_options *o, const char *text, kl_err *err)
{
    kl_buf line = KL_BUF_INIT;
    const char *p = text;

    memset(o, 0, sizeof *o);
    o->utf8_mode = -1;
    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        char *space;

        if (kl_buf_setf(&line, "%.*s", (int)n, p) < 0) {
            kl_buf_free(&line);
            return kl_err_oom(err);
        }
        space = strchr(line.s, ' ');
        if (space != NULL)
            *space = '\0';
        if (rt_options_line(o, line.s, space ? space + 1 : NULL) < 0) {
            if (space != NULL)
                *space = ' ';
            kl_err_set(err, "the program is damaged or was built by another "
                            "kiln: bad interpreter option '%s'", line.s);
            kl_buf_free(&line);
            rt_options_free(o);
            return -1;
        }
        p += n + (p[n] == '\n');
    }
    kl_buf_free(&line);
    return 0;
}

void rt_options_free(rt_options *o)
{
    kl_strv_free(&o->warnings);
    kl_strv_free(&o->xoptions);
    kl_strv_free(&o->hooks);
}
