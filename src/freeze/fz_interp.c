/*
 * fz_interp.c: the interpreter options a program is built with (-O, -u,
 * -W, -X, the hash seed, PYTHON* variables, sys._MEIPASS): each checked
 * the way the program's Python would read it, then written as the
 * bundle's options text (docs/format.md), one "NAME" or "NAME VALUE" per
 * line.
 */
#include "fz_graph.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* How an -X option takes a value. */
enum fz_xvalue {
    FZ_X_NONE,      /* -X name only (a value is ignored by python) */
    FZ_X_BOOL,      /* -X name, -X name=0, -X name=1 */
    FZ_X_ONOFF,     /* -X name=on, -X name=off */
    FZ_X_COUNT,     /* -X name or -X name=N, N >= 1 */
    FZ_X_DIGITS,    /* -X name=N, N 0 or >= 640 */
    FZ_X_CPUS,      /* -X name=N (N >= 1) or -X name=default */
    FZ_X_ARGV_ONLY, /* read by CPython from its command line only */
    FZ_X_BIT,       /* -X name=0 or -X name=1, the value required */
    FZ_X_IMPORTTIME /* -X importtime, and from 3.14 =1 or =2 */
};

/* The -X options of CPython 3.11 and later that change what a program
 * does, with the first minor version that has each. */
static const struct fz_xopt {
    const char *name;
    enum fz_xvalue value;
    int since_minor;
} fz_xopts[] = {
    {"utf8", FZ_X_BOOL, 11},
    {"dev", FZ_X_NONE, 11},
    {"faulthandler", FZ_X_NONE, 11},
    {"importtime", FZ_X_IMPORTTIME, 11},
    {"tracemalloc", FZ_X_COUNT, 11},
    {"frozen_modules", FZ_X_ONOFF, 11},
    {"int_max_str_digits", FZ_X_DIGITS, 11},
    {"warn_default_encoding", FZ_X_ARGV_ONLY, 11},
    {"no_debug_ranges", FZ_X_NONE, 11},
    {"perf", FZ_X_NONE, 12},
    {"cpu_count", FZ_X_CPUS, 13},
    {"context_aware_warnings", FZ_X_BIT, 14},
    {"thread_inherit_context", FZ_X_BIT, 14},
    {"disable-remote-debug", FZ_X_NONE, 14},
    {"perf_jit", FZ_X_NONE, 14},
};

/* True when s is a decimal number in [min, max]; *out gets it. */
static int fz_interp_number(const char *s, unsigned long long min,
                            unsigned long long max, unsigned long long *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

/* True when value (NULL: none) is one of the strings given, a list ended
 * by NULL. */
static int fz_interp_among(const char *value, ...)
{
    const char *s;
    va_list ap;
    int found = 0;

    va_start(ap, value);
    while (!found && (s = va_arg(ap, const char *)) != NULL)
        found = value != NULL && strcmp(value, s) == 0;
    va_end(ap);
    return found;
}

/* The names fz_xopts holds for this Python, ", "-separated, into b. */
static int fz_interp_xnames(kl_buf *b)
{
    size_t i;

    for (i = 0; i < sizeof fz_xopts / sizeof fz_xopts[0]; i++)
        if (fz_xopts[i].since_minor <= PY_MINOR_VERSION &&
            kl_buf_addf(b, "%s%s", b->len ? ", " : "", fz_xopts[i].name) < 0)
            return -1;
    return 0;
}

/* Check one -X option ("name" or "name=value") as CPython would take it. */
static int fz_interp_check_xoption(const char *x, kl_err *err)
{
    size_t n = strcspn(x, "=");
    const char *value = x[n] == '=' ? x + n + 1 : NULL;
    const struct fz_xopt *o = NULL;
    unsigned long long v;
    kl_buf names = KL_BUF_INIT;
    const char *want = NULL;
    size_t i;

    for (i = 0; i < sizeof fz_xopts / sizeof fz_xopts[0]; i++)
        if (strlen(fz_xopts[i].name) == n &&
            memcmp(fz_xopts[i].name, x, n) == 0 &&
            fz_xopts[i].since_minor <= PY_MINOR_VERSION)
            o = &fz_xopts[i];
    if (o == NULL) {
        if (fz_interp_xnames(&names) < 0)
            return kl_err_oom(err);
        kl_err_set(err, "-X %s: not an option of Python %d.%d's -X; the "
                        "options are %s", x, PY_MAJOR_VERSION,
                   PY_MINOR_VERSION, names.s);
        kl_buf_free(&names);
        return -1;
    }
    switch (o->value) {
    case FZ_X_NONE:
        return 0;
    case FZ_X_ARGV_ONLY:
        return kl_err_set(err, "-X %s: Python reads this option only from "
                               "its own command line, so a program cannot "
                               "be built with it; build with --python-env "
                               "and set PYTHONWARNDEFAULTENCODING=1 when "
                               "running it", x);
    case FZ_X_BOOL:
        if (value == NULL || fz_interp_among(value, "0", "1", NULL))
            return 0;
        want = "0 or 1";
        break;
    case FZ_X_BIT:
        if (fz_interp_among(value, "0", "1", NULL))
            return 0;
        want = "0 or 1 (given with =)";
        break;
    case FZ_X_IMPORTTIME:
        /* Before 3.14 any value means on; 3.14 stops at start-up on any
         * value but 1 and 2 (and takes 0 as off). */
        if (value == NULL || PY_MINOR_VERSION < 14 ||
            fz_interp_among(value, "0", "1", "2", NULL))
            return 0;
        want = "1 or 2";
        break;
    case FZ_X_ONOFF:
        if (fz_interp_among(value, "on", "off", NULL))
            return 0;
        want = "on or off";
        break;
    case FZ_X_COUNT:
        if (value == NULL || fz_interp_number(value, 1, 65535, &v))
            return 0;
        want = "a number from 1 to 65535";
        break;
    case FZ_X_DIGITS:
        if (value != NULL && fz_interp_number(value, 0, INT32_MAX, &v) &&
            (v == 0 || v >= 640))
            return 0;
        want = "0 (no limit) or a number of at least 640";
        break;
    case FZ_X_CPUS:
        if (value != NULL && (strcmp(value, "default") == 0 ||
                              fz_interp_number(value, 1, INT32_MAX, &v)))
            return 0;
        want = "a number of at least 1, or default";
        break;
    }
    return kl_err_set(err, "-X %s: the value of %s must be %s", x, o->name,
                      want);
}

/* Check one -W filter ("action:message:category:module:lineno", fields
 * from the right optional) with the warnings module's own parsers. A
 * category from a module other than builtins is only checked to be a
 * dotted name: the app's modules cannot be imported here. */
static int fz_interp_check_warning(const char *spec, kl_err *err)
{
    static const char syntax[] =
        "(python's -W syntax: action:message:category:module:lineno)";
    char *copy = strdup(spec), *field[5] = {0}, *p;
    PyObject *warnings = NULL, *r = NULL;
    unsigned long long line;
    size_t n = 0;
    int ok = -1;

    if (copy == NULL)
        return kl_err_oom(err);
    for (p = copy; n < 5; n++) {
        field[n] = p;
        if ((p = strchr(p, ':')) == NULL) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (p != NULL) {
        kl_err_set(err, "-W %s: too many fields %s", spec, syntax);
        goto done;
    }
    if (n == 5 && field[4][strspn(field[4], " \t")] != '\0' &&
        !fz_interp_number(field[4] + strspn(field[4], " \t"), 0, INT32_MAX,
                          &line)) {
        kl_err_set(err, "-W %s: the line number '%s' is not a number %s",
                   spec, field[4], syntax);
        goto done;
    }
    warnings = PyImport_ImportModule("warnings");
    if (warnings == NULL) {
        fz_python_error("warnings", err);
        goto done;
    }
    r = PyObject_CallMethod(warnings, "_getaction", "s", field[0]);
    if (r != NULL && n >= 3 && strchr(field[2], '.') == NULL) {
        Py_DECREF(r);
        r = PyObject_CallMethod(warnings, "_getcategory", "s", field[2]);
    }
    if (r == NULL) {
        PyObject *type, *value, *tb, *msg;

        PyErr_Fetch(&type, &value, &tb);
        msg = value ? PyObject_Str(value) : NULL;
        kl_err_set(err, "-W %s: %s %s", spec,
                   msg ? PyUnicode_AsUTF8(msg) : "not a warning filter",
                   syntax);
        PyErr_Clear();
        Py_XDECREF(msg);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        goto done;
    }
    ok = 0;
done:
    Py_XDECREF(r);
    Py_XDECREF(warnings);
    free(copy);
    return ok;
}

/* Append a line "<line> VALUE" to b for each of values[0, n), the
 * option `flag` given n times, after check(value) accepted it. -1 with
 * err set (one line naming the option) when one is refused. */
static int fz_interp_lines(kl_buf *b, const char *line, const char *flag,
                           const char *const *values, size_t n,
                           int (*check)(const char *, kl_err *), kl_err *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strchr(values[i], '\n') != NULL)
            return kl_err_set(err, "%s: an option value cannot hold a line "
                                   "break", flag);
        if (check(values[i], err) < 0)
            return -1;
        if (kl_buf_addf(b, "%s %s\n", line, values[i]) < 0)
            return kl_err_oom(err);
    }
    return 0;
}

int fz_interp_frozen_used(const fz_options *opt, const char *name)
{
    static const char *const bootstrap[] = {
        "_frozen_importlib", "_frozen_importlib_external", "zipimport"};
    int off = 0;
    size_t i;

    for (i = 0; i < opt->n_xoptions; i++)
        if (strcmp(opt->xoptions[i], "frozen_modules=off") == 0)
            off = 1;
        else if (strcmp(opt->xoptions[i], "frozen_modules=on") == 0)
            off = 0;
    for (i = 0; off && i < sizeof bootstrap / sizeof bootstrap[0]; i++)
        if (strcmp(name, bootstrap[i]) == 0)
            return 1;
    return !off;
}

int fz_interp_options(const fz_options *opt, char **text, kl_err *err)
{
    kl_buf b = KL_BUF_INIT;
    unsigned long long seed;
    int r = 0;

    *text = NULL;
    if (opt->optimize > 0)
        r |= kl_buf_addf(&b, "optimize %d\n", opt->optimize);
    if (opt->unbuffered)
        r |= kl_buf_addf(&b, "unbuffered\n");
    if (r < 0) {
        kl_buf_free(&b);
        return kl_err_oom(err);
    }
    if (fz_interp_lines(&b, "warn", "-W", opt->warnings, opt->n_warnings,
                        fz_interp_check_warning, err) < 0 ||
        fz_interp_lines(&b, "xoption", "-X", opt->xoptions, opt->n_xoptions,
                        fz_interp_check_xoption, err) < 0)
        goto fail;
    if (opt->hash_seed != NULL && strcmp(opt->hash_seed, "random") != 0) {
        if (!fz_interp_number(opt->hash_seed, 0, 4294967295u, &seed)) {
            kl_err_set(err, "--hash-seed %s: not a number from 0 to "
                            "4294967295, or random", opt->hash_seed);
            goto fail;
        }
        r |= kl_buf_addf(&b, "hash-seed %llu\n", seed);
    }
    if (opt->python_env)
        r |= kl_buf_addf(&b, "environment\n");
    if (opt->meipass)
        r |= kl_buf_addf(&b, "meipass\n");
    if (opt->full_finalize)
        r |= kl_buf_addf(&b, "full-finalize\n");
    if (opt->deps_host)
        r |= kl_buf_addf(&b, "dependencies host\n");
    if (r < 0) {
        kl_buf_free(&b);
        return kl_err_oom(err);
    }
    *text = b.len ? kl_buf_detach(&b) : NULL;
    kl_buf_free(&b);
    return 0;

fail:
    kl_buf_free(&b);
    return -1;
}
