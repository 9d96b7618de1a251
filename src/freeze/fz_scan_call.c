/*
 * fz_scan_call.c: what the scanner reads besides IMPORT_NAME: which
 * instructions lie in a try block (the code object's exception table),
 * and calls of importlib.import_module, __import__ and
 * importlib.util.find_spec, by the name they are called by. A literal
 * module name is an import; a computed one names the package whose
 * submodules it may import. Records only; the graph decides.
 */
#include "fz_graph.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Read one varint of an exception table at t[*i, n) into *out (6 bits a
 * byte, 0x40 says more follow); 0 when the table ends first. */
static int fz_scan_varint(const unsigned char *t, Py_ssize_t n,
                          Py_ssize_t *i, long *out)
{
    long v;

    if (*i >= n)
        return 0;
    v = t[*i] & 63;
    while (t[(*i)++] & 64) {
        if (*i >= n || v > (LONG_MAX >> 7))
            return 0;
        v = (v << 6) | (t[*i] & 63);
    }
    *out = v;
    return 1;
}

/* Read the ranges of code's exception table (co_exceptiontable) into
 * c->guard. A code object without one (or a table that does not parse)
 * guards nothing. */
int fz_scan_guards(PyObject *code, fz_code *c, kl_err *err)
{
    PyObject *table = PyObject_GetAttrString(code, "co_exceptiontable");
    const unsigned char *t;
    Py_ssize_t n, i = 0;
    long start, len, target, depth;
    size_t cap = 0;
    int r = 0;

    if (table == NULL || !PyBytes_Check(table)) {
        PyErr_Clear();
        Py_XDECREF(table);
        return 0;
    }
    t = (const unsigned char *)PyBytes_AS_STRING(table);
    n = PyBytes_GET_SIZE(table);
    while (r == 0 && fz_scan_varint(t, n, &i, &start) &&
           fz_scan_varint(t, n, &i, &len) &&
           fz_scan_varint(t, n, &i, &target) &&
           fz_scan_varint(t, n, &i, &depth)) {
        if (kl_room(&c->guard, &cap, c->n_guard + 1, sizeof *c->guard) < 0) {
            r = kl_err_oom(err);
            break;
        }
        c->guard[c->n_guard++] = start * 2;
        c->guard[c->n_guard++] = (start + len) * 2;
    }
    Py_DECREF(table);
    return r;
}

/* True when the instruction at byte offset off lies in a try block. */
int fz_scan_guarded(const fz_code *c, Py_ssize_t off)
{
    size_t i;

    for (i = 0; i + 1 < c->n_guard; i += 2)
        if (off >= c->guard[i] && off < c->guard[i + 1])
            return 1;
    return 0;
}

/* The str constant instruction x loads, or NULL. */
static const char *fz_scan_const_str(const fz_code *c, const fz_instr *x)
{
    PyObject *v;
    const char *s;

    if (x->role != FZ_OP_LOAD_CONST || x->arg >= PyTuple_GET_SIZE(c->consts))
        return NULL;
    v = PyTuple_GET_ITEM(c->consts, x->arg);
    s = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
    if (s == NULL)
        PyErr_Clear();
    return s;
}

/* The name (from co_names) that load instruction x looks up, or NULL. */
static const char *fz_scan_load_name(const fz_code *c, const fz_instr *x)
{
    long i = x->arg;
    const char *s;

    switch (x->role) {
    case FZ_OP_LOAD_GLOBAL: /* the low bit asks for a NULL too */
        if (PY_VERSION_HEX >= 0x030B0000)
            i >>= 1;
        break;
    case FZ_OP_LOAD_ATTR: /* the low bit says a method is loaded */
        if (PY_VERSION_HEX >= 0x030C0000)
            i >>= 1;
        break;
    case FZ_OP_LOAD_NAME:
    case FZ_OP_LOAD_METHOD:
        break;
    default:
        return NULL;
    }
    if (i < 0 || i >= PyTuple_GET_SIZE(c->names) ||
        !PyUnicode_Check(PyTuple_GET_ITEM(c->names, i)))
        return NULL;
    s = PyUnicode_AsUTF8(PyTuple_GET_ITEM(c->names, i));
    if (s == NULL)
        PyErr_Clear();
    return s;
}

/* The package a module-name string starts with ("pkg.sub" for
 * "pkg.sub.%s" or "pkg.sub." + x), or NULL (new malloc'd name in *out). */
static int fz_scan_prefix(const char *str, char **out, kl_err *err)
{
    size_t n = 0, dot = 0;

    *out = NULL;
    while (str[n] == '_' || str[n] == '.' || (str[n] >= 'a' && str[n] <= 'z') ||
           (str[n] >= 'A' && str[n] <= 'Z') || (str[n] >= '0' && str[n] <= '9')) {
        if (str[n] == '.')
            dot = n;
        n++;
    }
    if (dot == 0 || str[0] == '.')
        return 0;
    *out = strndup(str, dot);
    return *out ? 0 : kl_err_oom(err);
}

/* The package of the module c belongs to: itself when a package, else
 * its parent; NULL for a top-level module (new malloc'd name in *out). */
static int fz_scan_own_package(const fz_code *c, char **out, kl_err *err)
{
    const char *dot = strrchr(c->module, '.');

    *out = NULL;
    if (c->is_package)
        *out = strdup(c->module);
    else if (dot != NULL)
        *out = strndup(c->module, (size_t)(dot - c->module));
    else
        return 0;
    return *out ? 0 : kl_err_oom(err);
}

/* Instructions looked at between a call's callee and the call. */
#define FZ_SCAN_WINDOW 16

/* c->v[k] loads import_module, __import__ or find_spec (`what`): record
 * the call that follows, if it does. A literal first argument is an
 * import (a relative one with a literal package, __name__ or __package__
 * as second argument); a computed one marks a package for import_module
 * and __import__. */
static int fz_scan_call(const fz_code *c, size_t k, const char *what,
                        int lazy, fz_imports *out, kl_err *err)
{
    int probe = strcmp(what, "find_spec") == 0;
    int guarded = lazy || probe || fz_scan_guarded(c, c->v[k].off);
    const char *first, *pkg = NULL, *nm;
    char *own = NULL, *abs = NULL;
    int built = 0, called = 0;
    size_t j = k + 1, end;

    while (j < c->n && c->v[j].role == FZ_OP_PUSH_NULL)
        j++;
    if (j >= c->n)
        return 0;
    first = fz_scan_const_str(c, &c->v[j]);
    if (first == NULL && c->v[j].role != FZ_OP_LOAD_NAME &&
        c->v[j].role != FZ_OP_LOAD_GLOBAL && c->v[j].role != FZ_OP_LOAD)
        return 0; /* not a call with an argument: `f = import_module` */
    for (end = j + 1; end < c->n && end <= j + FZ_SCAN_WINDOW; end++) {
        const fz_instr *x = &c->v[end];

        if (x->role == FZ_OP_CALL) {
            called = 1;
            break;
        }
        built |= x->role == FZ_OP_BUILD || x->role == FZ_OP_LOAD_ATTR ||
                 x->role == FZ_OP_LOAD_METHOD;
        if (pkg == NULL && (pkg = fz_scan_const_str(c, x)) == NULL &&
            (nm = fz_scan_load_name(c, x)) != NULL &&
            (x->role == FZ_OP_LOAD_NAME || x->role == FZ_OP_LOAD_GLOBAL)) {
            if (strcmp(nm, "__name__") == 0) {
                pkg = c->module;
            } else if (strcmp(nm, "__package__") == 0) {
                if (fz_scan_own_package(c, &own, err) < 0)
                    return -1;
                pkg = own;
            }
        }
    }
    if (!called) {
        free(own);
        return 0;
    }
    if (first != NULL && !built) {
        size_t level = strspn(first, ".");
        int r = 0;

        if (level == 0)
            r = (abs = strdup(first)) != NULL ? 0 : kl_err_oom(err);
        else if (pkg != NULL && strcmp(what, "__import__") != 0)
            r = fz_name_resolve(pkg, 1, first + level, (long)level, &abs, err);
        free(own);
        if (r < 0)
            return -1;
        if (abs == NULL || !fz_dist_is_dotted(abs, strlen(abs))) {
            free(abs);
            return 0;
        }
        return fz_imports_add(out, abs, NULL, FZ_IMPORT_CALL, lazy,
                              guarded, err);
    }
    free(own);
    if (probe)
        return 0; /* probing for a computed name imports nothing */
    if ((first != NULL && fz_scan_prefix(first, &abs, err) < 0) ||
        (abs == NULL && fz_scan_own_package(c, &abs, err) < 0))
        return -1;
    if (abs == NULL)
        return 0; /* a top-level module: no package to look in */
    return fz_imports_add(out, abs, NULL, FZ_IMPORT_COMPUTED, lazy,
                          guarded, err);
}

/* True when name is one of the functions whose calls name modules. */
static int fz_scan_is_import_call(const char *name)
{
    return strcmp(name, "import_module") == 0 ||
           strcmp(name, "__import__") == 0 || strcmp(name, "find_spec") == 0;
}

int fz_scan_may_call(const fz_code *c)
{
    Py_ssize_t i;

    for (i = 0; i < PyTuple_GET_SIZE(c->names); i++) {
        PyObject *v = PyTuple_GET_ITEM(c->names, i);
        const char *s = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;

        if (s == NULL)
            PyErr_Clear();
        else if (fz_scan_is_import_call(s))
            return 1;
    }
    return 0;
}

int fz_scan_call_at(const fz_code *c, size_t k, int lazy, fz_imports *out,
                    kl_err *err)
{
    const char *nm = fz_scan_load_name(c, &c->v[k]);

    if (nm == NULL || !fz_scan_is_import_call(nm))
        return 0;
    return fz_scan_call(c, k, nm, lazy, out, err);
}
