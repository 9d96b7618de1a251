/*
 * fz_scan.c: find the imports in compiled code. Each IMPORT_NAME
 * instruction names a module; the two LOAD_CONST instructions before it
 * give the relative level and the fromlist, whose items may be submodules.
 * Opcode numbers come from the embedded interpreter's `opcode` module, so
 * the scanner reads whatever CPython version kiln embeds. The scanner only
 * reports what it finds, as import records; the graph decides what to
 * follow.
 */
#include "fz_graph.h"

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

/* Append a record for `import name` (absolute, taken over by the list)
 * with `fromlist` (a tuple, or anything else for none). */
static int fz_scan_record(fz_imports *out, char *name, PyObject *fromlist,
                          int lazy, kl_err *err)
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
    rec->lazy = lazy;
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

/* What a scan needs besides the code object at hand. */
typedef struct fz_scan {
    const fz_opcodes *ops;
    const char *name;      /* the module scanned */
    int is_package;
    const fz_lines *skip;  /* lines whose imports are left out */
    fz_imports *out;
} fz_scan;

/* Record the IMPORT_NAME of `target` (a str) with level and fromlist
 * constants, unless it cannot be resolved. */
static int fz_scan_import(fz_scan *s, PyObject *target, long level,
                          PyObject *fromlist, int lazy, kl_err *err)
{
    const char *t = PyUnicode_AsUTF8(target);
    char *abs;

    if (t == NULL)
        return fz_python_error(s->name, err);
    if (fz_name_resolve(s->name, s->is_package, t, level, &abs, err) < 0)
        return -1;
    if (abs == NULL)
        return 0;
    return fz_scan_record(s->out, abs, fromlist, lazy, err);
}

/* Scan code object `code` (and nested ones) for imports. `lazy` is true
 * when the code runs only when called (a function body), not when the
 * module is imported. */
static int fz_scan_code(fz_scan *s, PyObject *code, int lazy, kl_err *err)
{
    long *lines = NULL;
    PyObject *bytes = PyObject_GetAttrString(code, "co_code");
    PyObject *consts = PyObject_GetAttrString(code, "co_consts");
    PyObject *names = PyObject_GetAttrString(code, "co_names");
    const fz_opcodes *ops = s->ops;
    int prev_op[2] = {-1, -1};
    long prev_arg[2] = {0, 0};
    long ext = 0;
    Py_ssize_t i, n;
    int r = -1;

    if (bytes == NULL || consts == NULL || names == NULL ||
        !PyBytes_Check(bytes) || !PyTuple_Check(consts) ||
        !PyTuple_Check(names)) {
        fz_python_error(s->name, err);
        goto done;
    }
    n = PyBytes_GET_SIZE(bytes);
    if (s->skip->n > 0) {
        lines = malloc(((size_t)n / 2 + 1) * sizeof *lines);
        if (lines == NULL) {
            kl_err_oom(err);
            goto done;
        }
        fz_scan_code_lines(code, lines, n / 2);
    }
    for (i = 0; i + 1 < n; i += 2) {
        int op = (unsigned char)PyBytes_AS_STRING(bytes)[i];
        long arg = (unsigned char)PyBytes_AS_STRING(bytes)[i + 1] | (ext << 8);

        if (op == 0) /* CACHE entries follow some instructions */
            continue;
        if (op == ops->extended_arg) {
            ext = arg;
            continue;
        }
        ext = 0;
        if (op == ops->import_name && arg < PyTuple_GET_SIZE(names) &&
            !(lines != NULL && fz_scan_in_ranges(s->skip, lines[i / 2]))) {
            long level = 0;
            PyObject *fromlist = NULL;

            if (prev_op[0] == ops->load_const && prev_op[1] == ops->load_const &&
                prev_arg[0] < PyTuple_GET_SIZE(consts) &&
                prev_arg[1] < PyTuple_GET_SIZE(consts)) {
                PyObject *lv = PyTuple_GET_ITEM(consts, prev_arg[0]);

                level = PyLong_Check(lv) ? PyLong_AsLong(lv) : 0;
                fromlist = PyTuple_GET_ITEM(consts, prev_arg[1]);
            }
            if (fz_scan_import(s, PyTuple_GET_ITEM(names, arg), level,
                               fromlist, lazy, err) < 0)
                goto done;
        }
        prev_op[0] = prev_op[1];
        prev_arg[0] = prev_arg[1];
        prev_op[1] = op;
        prev_arg[1] = arg;
    }
    for (i = 0; i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);

        if (!PyCode_Check(c) ||
            fz_scan_in_ranges(s->skip, ((PyCodeObject *)c)->co_firstlineno))
            continue;
        if (fz_scan_code(s, c,
                         lazy || (((PyCodeObject *)c)->co_flags & CO_NEWLOCALS),
                         err) < 0)
            goto done;
    }
    r = 0;
done:
    free(lines);
    Py_XDECREF(bytes);
    Py_XDECREF(consts);
    Py_XDECREF(names);
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
