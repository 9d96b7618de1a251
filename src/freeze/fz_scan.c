/*
 * fz_scan.c: find the imports in compiled code. Each IMPORT_NAME
 * instruction names a module; the two LOAD_CONST instructions before it
 * give the relative level and the fromlist, whose items may be submodules.
 * Calls of importlib.import_module, __import__ and importlib.util.find_spec
 * name a module too: a literal name is an import, a computed one says
 * that a package's submodules may be imported by name. An instruction
 * that an exception table entry covers (a try block) or that lies in a
 * function is guarded: the module copes when the import fails. Opcode
 * numbers come from the embedded interpreter's `opcode` module, so the
 * scanner reads whatever CPython version kiln embeds. The scanner only
 * reports what it finds, as import records; the graph decides what to
 * follow.
 */
#include "fz_graph.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

void fz_imports_free(fz_imports *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].name);
        kl_strv_free(&l->v[i].from);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Append a record of `kind` for module `name` (absolute, taken over by
 * the list) with `fromlist` (a tuple, or anything else for none). */
static int fz_scan_record(fz_imports *out, char *name, PyObject *fromlist,
                          unsigned kind, int lazy, int guarded, kl_err *err)
{
    fz_import *rec;
    Py_ssize_t i;

    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        fz_import *v = realloc(out->v, cap * sizeof *v);

        if (v == NULL) {
            free(name);
            return kl_err_oom(err);
        }
        out->v = v;
        out->cap = cap;
    }
    rec = &out->v[out->n++];
    memset(rec, 0, sizeof *rec);
    rec->name = name;
    rec->kind = kind;
    rec->lazy = lazy;
    rec->guarded = guarded;
    if (fromlist == NULL || !PyTuple_Check(fromlist))
        return 0;
    for (i = 0; i < PyTuple_GET_SIZE(fromlist); i++) {
        PyObject *item = PyTuple_GET_ITEM(fromlist, i);
        const char *s = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;

        if (s == NULL) {
            PyErr_Clear();
            continue;
        }
        if (kl_strv_push(&rec->from, s) < 0)
            return kl_err_oom(err);
    }
    return 0;
}

/* Line ranges of top-level `if __name__ == "__main__":` blocks. */
typedef struct fz_lines {
    long start[8];
    long end[8];
    int n;
} fz_lines;

/* True when AST node `test` is `__name__ == "__main__"`. */
static int fz_scan_is_main_test(PyObject *test)
{
    PyObject *left = NULL, *comps = NULL, *id = NULL, *value = NULL;
    int r = 0;

    if (strcmp(Py_TYPE(test)->tp_name, "Compare") != 0)
        return 0;
    left = PyObject_GetAttrString(test, "left");
    comps = PyObject_GetAttrString(test, "comparators");
    if (left == NULL || comps == NULL || !PyList_Check(comps) ||
        PyList_GET_SIZE(comps) != 1 ||
        strcmp(Py_TYPE(left)->tp_name, "Name") != 0)
        goto done;
    id = PyObject_GetAttrString(left, "id");
    value = PyObject_GetAttrString(PyList_GET_ITEM(comps, 0), "value");
    r = id && value && PyUnicode_Check(id) && PyUnicode_Check(value) &&
        PyUnicode_CompareWithASCIIString(id, "__name__") == 0 &&
        PyUnicode_CompareWithASCIIString(value, "__main__") == 0;
done:
    PyErr_Clear();
    Py_XDECREF(left);
    Py_XDECREF(comps);
    Py_XDECREF(id);
    Py_XDECREF(value);
    return r;
}

/* Find the main blocks of module source `source` (UTF-8 bytes). Imports
 * there run only when the module is the program itself, so another
 * module's main block is not followed. Best effort: on any failure the
 * result is empty. */
static void fz_scan_main_blocks(PyObject *code, PyObject *source,
                              fz_lines *out)
{
    PyObject *consts, *ast = NULL, *tree = NULL, *body = NULL;
    Py_ssize_t i;
    int has_main = 0;

    out->n = 0;
    consts = PyObject_GetAttrString(code, "co_consts");
    for (i = 0; consts && PyTuple_Check(consts) && i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);

        if (PyUnicode_Check(c) && PyUnicode_CompareWithASCIIString(c, "__main__") == 0)
            has_main = 1;
    }
    Py_XDECREF(consts);
    if (!has_main || source == NULL)
        goto done;
    ast = PyImport_ImportModule("ast");
    tree = ast ? PyObject_CallMethod(ast, "parse", "O", source) : NULL;
    body = tree ? PyObject_GetAttrString(tree, "body") : NULL;
    for (i = 0; body && PyList_Check(body) && i < PyList_GET_SIZE(body) && out->n < 8; i++) {
        PyObject *node = PyList_GET_ITEM(body, i), *test, *a, *b;

        if (strcmp(Py_TYPE(node)->tp_name, "If") != 0)
            continue;
        test = PyObject_GetAttrString(node, "test");
        if (test != NULL && fz_scan_is_main_test(test)) {
            a = PyObject_GetAttrString(node, "lineno");
            b = PyObject_GetAttrString(node, "end_lineno");
            if (a && b && PyLong_Check(a) && PyLong_Check(b)) {
                out->start[out->n] = PyLong_AsLong(a);
                out->end[out->n] = PyLong_AsLong(b);
                out->n++;
            }
            Py_XDECREF(a);
            Py_XDECREF(b);
        }
        Py_XDECREF(test);
    }
done:
    PyErr_Clear();
    Py_XDECREF(ast);
    Py_XDECREF(tree);
    Py_XDECREF(body);
}

/* True when `line` lies in one of the ranges r holds. */
static int fz_scan_in_ranges(const fz_lines *r, long line)
{
    int i;

    for (i = 0; r != NULL && i < r->n; i++)
        if (line >= r->start[i] && line <= r->end[i])
            return 1;
    return 0;
}

/* Fill lines[k] with the source line of instruction k (2-byte units) of
 * code, from co_lines(); -1 where unknown. */
static void fz_scan_code_lines(PyObject *code, long *lines, Py_ssize_t count)
{
    PyObject *it = PyObject_CallMethod(code, "co_lines", NULL);
    PyObject *item;
    Py_ssize_t k;

    for (k = 0; k < count; k++)
        lines[k] = -1;
    while (it && (item = PyIter_Next(it)) != NULL) {
        long start, end, line;

        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 3 &&
            PyLong_Check(PyTuple_GET_ITEM(item, 2))) {
            start = PyLong_AsLong(PyTuple_GET_ITEM(item, 0));
            end = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
            line = PyLong_AsLong(PyTuple_GET_ITEM(item, 2));
            for (k = start / 2; k < end / 2 && k < count; k++)
                lines[k] = line;
        }
        Py_DECREF(item);
    }
    PyErr_Clear();
    Py_XDECREF(it);
}

/* One instruction, with its EXTENDED_ARG prefixes folded into arg. */
typedef struct fz_insn {
    Py_ssize_t off;        /* byte offset in co_code */
    unsigned char role;    /* enum fz_op_role */
    long arg;
} fz_insn;

/* A code object as the scanner reads it. */
typedef struct fz_code {
    fz_insn *v;            /* its instructions, inline caches left out */
    size_t n;
    long *guard;           /* [start, end) byte ranges exception table
                              entries cover, in pairs */
    size_t n_guard;
    PyObject *consts;      /* co_consts and co_names (borrowed) */
    PyObject *names;
} fz_code;

/* What a scan needs besides the code object at hand. */
typedef struct fz_scan {
    const fz_opcodes *ops;
    const char *name;      /* the module scanned */
    int is_package;
    const fz_lines *skip;  /* lines whose imports are left out */
    fz_imports *out;
} fz_scan;

/* Decode co_code `bytes` into c->v. */
static int fz_scan_decode(const fz_opcodes *ops, PyObject *bytes, fz_code *c,
                          kl_err *err)
{
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
    Py_ssize_t n = PyBytes_GET_SIZE(bytes), i;
    long ext = 0;

    c->v = malloc(((size_t)n / 2 + 1) * sizeof *c->v);
    if (c->v == NULL)
        return kl_err_oom(err);
    for (i = 0; i + 1 < n; i += 2) {
        unsigned char role = ops->role[b[i]];
        long arg = b[i + 1] | (ext << 8);

        if (role == FZ_OP_CACHE)
            continue;
        if (role == FZ_OP_EXTENDED_ARG) {
            ext = arg;
            continue;
        }
        ext = 0;
        c->v[c->n].off = i;
        c->v[c->n].role = role;
        c->v[c->n].arg = arg;
        c->n++;
    }
    return 0;
}

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
static int fz_scan_guards(PyObject *code, fz_code *c, kl_err *err)
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
        if (c->n_guard + 2 > cap) {
            long *g;

            cap = cap ? cap * 2 : 16;
            g = realloc(c->guard, cap * sizeof *g);
            if (g == NULL) {
                r = kl_err_oom(err);
                break;
            }
            c->guard = g;
        }
        c->guard[c->n_guard++] = start * 2;
        c->guard[c->n_guard++] = (start + len) * 2;
    }
    Py_DECREF(table);
    return r;
}

/* True when the instruction at byte offset off lies in a try block. */
static int fz_scan_guarded(const fz_code *c, Py_ssize_t off)
{
    size_t i;

    for (i = 0; i + 1 < c->n_guard; i += 2)
        if (off >= c->guard[i] && off < c->guard[i + 1])
            return 1;
    return 0;
}

/* The str constant instruction x loads, or NULL. */
static const char *fz_scan_const_str(const fz_code *c, const fz_insn *x)
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
static const char *fz_scan_load_name(const fz_code *c, const fz_insn *x)
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

/* Record the IMPORT_NAME of `target` (a str) with level and fromlist
 * constants, unless it cannot be resolved. */
static int fz_scan_import(fz_scan *s, const char *t, long level,
                          PyObject *fromlist, int lazy, int guarded,
                          kl_err *err)
{
    char *abs;

    if (fz_name_resolve(s->name, s->is_package, t, level, &abs, err) < 0)
        return -1;
    if (abs == NULL)
        return 0;
    return fz_scan_record(s->out, abs, fromlist, FZ_IMPORT_STATEMENT, lazy,
                          guarded, err);
}

/* The IMPORT_NAME instruction c->v[k]. */
static int fz_scan_import_name(fz_scan *s, const fz_code *c, size_t k,
                               int lazy, kl_err *err)
{
    const fz_insn *x = &c->v[k];
    PyObject *fromlist = NULL;
    const char *t;
    long level = 0;

    if (x->arg >= PyTuple_GET_SIZE(c->names))
        return 0;
    t = PyUnicode_AsUTF8(PyTuple_GET_ITEM(c->names, x->arg));
    if (t == NULL)
        return fz_python_error(s->name, err);
    if (k >= 2 && c->v[k - 2].role == FZ_OP_LOAD_CONST &&
        c->v[k - 1].role == FZ_OP_LOAD_CONST &&
        c->v[k - 2].arg < PyTuple_GET_SIZE(c->consts) &&
        c->v[k - 1].arg < PyTuple_GET_SIZE(c->consts)) {
        PyObject *lv = PyTuple_GET_ITEM(c->consts, c->v[k - 2].arg);

        level = PyLong_Check(lv) ? PyLong_AsLong(lv) : 0;
        fromlist = PyTuple_GET_ITEM(c->consts, c->v[k - 1].arg);
    }
    return fz_scan_import(s, t, level, fromlist, lazy,
                          lazy || fz_scan_guarded(c, x->off), err);
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

/* The package of the module scanned: itself when a package, else its
 * parent; NULL for a top-level module (new malloc'd name in *out). */
static int fz_scan_own_package(const fz_scan *s, char **out, kl_err *err)
{
    const char *dot = strrchr(s->name, '.');

    *out = NULL;
    if (s->is_package)
        *out = strdup(s->name);
    else if (dot != NULL)
        *out = strndup(s->name, (size_t)(dot - s->name));
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
static int fz_scan_call(fz_scan *s, const fz_code *c, size_t k,
                        const char *what, int lazy, kl_err *err)
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
        const fz_insn *x = &c->v[end];

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
                pkg = s->name;
            } else if (strcmp(nm, "__package__") == 0) {
                if (fz_scan_own_package(s, &own, err) < 0)
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
        return fz_scan_record(s->out, abs, NULL, FZ_IMPORT_CALL, lazy,
                              guarded, err);
    }
    free(own);
    if (probe)
        return 0; /* probing for a computed name imports nothing */
    if ((first != NULL && fz_scan_prefix(first, &abs, err) < 0) ||
        (abs == NULL && fz_scan_own_package(s, &abs, err) < 0))
        return -1;
    if (abs == NULL)
        return 0; /* a top-level module: no package to look in */
    return fz_scan_record(s->out, abs, NULL, FZ_IMPORT_COMPUTED, lazy,
                          guarded, err);
}

/* Scan code object `code` (and nested ones) for imports. `lazy` is true
 * when the code runs only when called (a function body), not when the
 * module is imported. */
static int fz_scan_code(fz_scan *s, PyObject *code, int lazy, kl_err *err)
{
    long *lines = NULL;
    PyObject *bytes = PyObject_GetAttrString(code, "co_code");
    fz_code c = {NULL, 0, NULL, 0, NULL, NULL};
    Py_ssize_t i;
    size_t k;
    int r = -1;

    c.consts = PyObject_GetAttrString(code, "co_consts");
    c.names = PyObject_GetAttrString(code, "co_names");
    if (bytes == NULL || c.consts == NULL || c.names == NULL ||
        !PyBytes_Check(bytes) || !PyTuple_Check(c.consts) ||
        !PyTuple_Check(c.names)) {
        fz_python_error(s->name, err);
        goto done;
    }
    if (fz_scan_decode(s->ops, bytes, &c, err) < 0 ||
        fz_scan_guards(code, &c, err) < 0)
        goto done;
    if (s->skip->n > 0) {
        Py_ssize_t units = PyBytes_GET_SIZE(bytes) / 2;

        lines = malloc(((size_t)units + 1) * sizeof *lines);
        if (lines == NULL) {
            kl_err_oom(err);
            goto done;
        }
        fz_scan_code_lines(code, lines, units);
    }
    for (k = 0; k < c.n; k++) {
        const fz_insn *x = &c.v[k];
        const char *nm;

        if (lines != NULL && fz_scan_in_ranges(s->skip, lines[x->off / 2]))
            continue;
        if (x->role == FZ_OP_IMPORT_NAME) {
            if (fz_scan_import_name(s, &c, k, lazy, err) < 0)
                goto done;
        } else if ((nm = fz_scan_load_name(&c, x)) != NULL &&
                   (strcmp(nm, "import_module") == 0 ||
                    strcmp(nm, "__import__") == 0 ||
                    strcmp(nm, "find_spec") == 0)) {
            if (fz_scan_call(s, &c, k, nm, lazy, err) < 0)
                goto done;
        }
    }
    for (i = 0; i < PyTuple_GET_SIZE(c.consts); i++) {
        PyObject *sub = PyTuple_GET_ITEM(c.consts, i);

        if (!PyCode_Check(sub) ||
            fz_scan_in_ranges(s->skip, ((PyCodeObject *)sub)->co_firstlineno))
            continue;
        if (fz_scan_code(s, sub,
                         lazy || (((PyCodeObject *)sub)->co_flags & CO_NEWLOCALS),
                         err) < 0)
            goto done;
    }
    r = 0;
done:
    free(lines);
    free(c.v);
    free(c.guard);
    Py_XDECREF(bytes);
    Py_XDECREF(c.consts);
    Py_XDECREF(c.names);
    return r;
}

int fz_scan_imports(const fz_opcodes *ops, const char *name, int is_package,
                    int runs_as_main, PyObject *code, PyObject *source,
                    fz_imports *out, kl_err *err)
{
    fz_lines skip = {{0}, {0}, 0};
    fz_scan s = {ops, name, is_package, &skip, out};

    if (!runs_as_main)
        fz_scan_main_blocks(code, source, &skip);
    return fz_scan_code(&s, code, 0, err);
}

/* Append the identifier strings in constant c (a str, or a tuple or
 * frozenset of them, nested) to out. */
static int fz_scan_star_const(PyObject *c, kl_strv *out, kl_err *err)
{
    PyObject *it, *item;
    int r = 0;

    if (PyUnicode_Check(c)) {
        if (PyUnicode_IsIdentifier(c) != 1)
            return 0;
        return kl_strv_push(out, PyUnicode_AsUTF8(c)) < 0 ? kl_err_oom(err) : 0;
    }
    if (!PyTuple_Check(c) && !PyFrozenSet_Check(c))
        return 0;
    it = PyObject_GetIter(c);
    while (it != NULL && r == 0 && (item = PyIter_Next(it)) != NULL) {
        r = fz_scan_star_const(item, out, err);
        Py_DECREF(item);
    }
    Py_XDECREF(it);
    PyErr_Clear();
    return r;
}

int fz_scan_star_names(PyObject *code, kl_strv *out, kl_err *err)
{
    PyObject *consts = PyObject_GetAttrString(code, "co_consts");
    int r;

    if (consts == NULL) {
        PyErr_Clear();
        return 0;
    }
    r = fz_scan_star_const(consts, out, err);
    Py_DECREF(consts);
    return r;
}
