/*
 * build_scan.c: follow the imports in compiled code. Each IMPORT_NAME
 * instruction names a module; the two LOAD_CONST instructions before it
 * give the relative level and the fromlist, whose items may be submodules.
 * Opcode numbers come from the embedded interpreter's `opcode` module, so
 * the scanner follows whatever CPython version kiln embeds.
 */
#include "build_graph.h"

#include <stdlib.h>
#include <string.h>

/* Read the opcode numbers the scanner needs from the `opcode` module. */
int build_scan_load_opcodes(build_graph *g, kl_err *err)
{
    PyObject *mod = PyImport_ImportModule("opcode");
    PyObject *map = mod ? PyObject_GetAttrString(mod, "opmap") : NULL;
    PyObject *v;

    Py_XDECREF(mod);
    if (map == NULL)
        return build_python_error(err, "opcode");
    v = PyDict_GetItemString(map, "IMPORT_NAME");
    g->op_import_name = v ? (int)PyLong_AsLong(v) : -1;
    v = PyDict_GetItemString(map, "LOAD_CONST");
    g->op_load_const = v ? (int)PyLong_AsLong(v) : -1;
    v = PyDict_GetItemString(map, "EXTENDED_ARG");
    g->op_extended_arg = v ? (int)PyLong_AsLong(v) : -1;
    Py_DECREF(map);
    if (g->op_import_name < 0 || g->op_load_const < 0 || g->op_extended_arg < 0)
        return kl_err_set(err, "this Python's opcode table lacks IMPORT_NAME");
    return 0;
}

/* Absolute name of an import of `name` at `level` from module `from`. */
static char *scan_resolve_name(const char *from, int from_pkg,
                                const char *name, long level)
{
    char base[1024];
    char *dot;

    if (level <= 0)
        return strdup(name);
    snprintf(base, sizeof base, "%s", from);
    if (!from_pkg) {
        dot = strrchr(base, '.');
        if (dot == NULL)
            return NULL; /* relative import outside a package */
        *dot = '\0';
    }
    while (--level > 0) {
        dot = strrchr(base, '.');
        if (dot == NULL)
            return NULL;
        *dot = '\0';
    }
    if (strcmp(from, "__main__") == 0)
        return NULL;
    return name[0] ? build_str_join3(base, ".", name) : strdup(base);
}

/* Follow one IMPORT_NAME: `name` at `level`, with `fromlist`. */
static int scan_follow_import(build_graph *g, build_module *m, PyObject *name,
                               long level, PyObject *fromlist, kl_err *err)
{
    const char *s = PyUnicode_AsUTF8(name);
    char *abs;
    Py_ssize_t i;
    int r = 0;

    if (s == NULL)
        return build_python_error(err, m->name);
    abs = scan_resolve_name(m->name, m->is_package, s, level);
    if (abs == NULL)
        return 0;
    if (build_graph_request(g, abs, m->name, 0, err) < 0) {
        free(abs);
        return -1;
    }
    if (fromlist != NULL && PyTuple_Check(fromlist)) {
        for (i = 0; i < PyTuple_GET_SIZE(fromlist) && r == 0; i++) {
            PyObject *item = PyTuple_GET_ITEM(fromlist, i);
            const char *it = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
            char *sub;

            if (it != NULL && strcmp(it, "*") == 0)
                r = build_graph_star_import(g, abs, err);
            if (it == NULL || strcmp(it, "*") == 0)
                continue;
            sub = build_str_join3(abs, ".", it);
            if (sub == NULL) {
                free(abs);
                return kl_err_set(err, "out of memory");
            }
            r = build_graph_request(g, sub, m->name, 1, err);
            free(sub);
        }
    }
    free(abs);
    return r;
}

/* Line ranges of top-level `if __name__ == "__main__":` blocks. */
typedef struct line_ranges {
    long start[8];
    long end[8];
    int n;
} line_ranges;

/* True when AST node `test` is `__name__ == "__main__"`. */
static int scan_is_main_test(PyObject *test)
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
static void scan_main_blocks(PyObject *code, PyObject *source,
                              line_ranges *out)
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
        if (test != NULL && scan_is_main_test(test)) {
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

static int line_in_ranges(const line_ranges *r, long line)
{
    int i;

    for (i = 0; r != NULL && i < r->n; i++)
        if (line >= r->start[i] && line <= r->end[i])
            return 1;
    return 0;
}

/* Fill lines[k] with the source line of instruction k (2-byte units) of
 * code, from co_lines(); -1 where unknown. */
static void scan_code_lines(PyObject *code, long *lines, Py_ssize_t count)
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

/* Scan code object `code` (and nested ones) of module m for imports,
 * leaving out those on lines in `skip`. `lazy` is true when the code runs
 * only when called (a function body), not when the module is imported. */
static int scan_code(build_graph *g, build_module *m, PyObject *code,
                     const line_ranges *skip, int lazy, kl_err *err)
{
    long *lines = NULL;
    PyObject *bytes = PyObject_GetAttrString(code, "co_code");
    PyObject *consts = PyObject_GetAttrString(code, "co_consts");
    PyObject *names = PyObject_GetAttrString(code, "co_names");
    int prev_op[2] = {-1, -1};
    long prev_arg[2] = {0, 0};
    long ext = 0;
    Py_ssize_t i, n;
    int r = -1;

    if (bytes == NULL || consts == NULL || names == NULL ||
        !PyBytes_Check(bytes) || !PyTuple_Check(consts) || !PyTuple_Check(names)) {
        build_python_error(err, m->name);
        goto done;
    }
    n = PyBytes_GET_SIZE(bytes);
    if (skip != NULL && skip->n > 0) {
        lines = malloc(((size_t)n / 2 + 1) * sizeof *lines);
        if (lines == NULL) {
            kl_err_set(err, "out of memory");
            goto done;
        }
        scan_code_lines(code, lines, n / 2);
    }
    for (i = 0; i + 1 < n; i += 2) {
        int op = (unsigned char)PyBytes_AS_STRING(bytes)[i];
        long arg = (unsigned char)PyBytes_AS_STRING(bytes)[i + 1] | (ext << 8);

        if (op == 0) /* CACHE entries follow some instructions */
            continue;
        if (op == g->op_extended_arg) {
            ext = arg;
            continue;
        }
        ext = 0;
        if (op == g->op_import_name && arg < PyTuple_GET_SIZE(names) &&
            !(lines != NULL && line_in_ranges(skip, lines[i / 2]))) {
            long level = 0;
            PyObject *fromlist = NULL;

            if (prev_op[0] == g->op_load_const && prev_op[1] == g->op_load_const &&
                prev_arg[0] < PyTuple_GET_SIZE(consts) &&
                prev_arg[1] < PyTuple_GET_SIZE(consts)) {
                PyObject *lv = PyTuple_GET_ITEM(consts, prev_arg[0]);

                level = PyLong_Check(lv) ? PyLong_AsLong(lv) : 0;
                fromlist = PyTuple_GET_ITEM(consts, prev_arg[1]);
            }
            g->lazy_import = lazy;
            r = scan_follow_import(g, m, PyTuple_GET_ITEM(names, arg), level,
                                   fromlist, err);
            g->lazy_import = 0;
            if (r < 0)
                goto done;
            r = -1;
        }
        prev_op[0] = prev_op[1];
        prev_arg[0] = prev_arg[1];
        prev_op[1] = op;
        prev_arg[1] = arg;
    }
    for (i = 0; i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);

        if (!PyCode_Check(c) ||
            line_in_ranges(skip, ((PyCodeObject *)c)->co_firstlineno))
            continue;
        if (scan_code(g, m, c, skip,
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

/* True when module `name` may run as __main__: the script, any
 * package's __main__ module, and the module given to -m. */
static int scan_runs_as_main(build_graph *g, const char *name)
{
    size_t n = strlen(name);

    return strcmp(name, "__main__") == 0 ||
           (n > 9 && strcmp(name + n - 9, ".__main__") == 0) ||
           (g->opt->module != NULL && strcmp(name, g->opt->module) == 0);
}

int build_scan_imports(build_graph *g, build_module *m, PyObject *code,
                       kl_err *err)
{
    line_ranges skip = {{0}, {0}, 0};

    if (!scan_runs_as_main(g, m->name))
        scan_main_blocks(code, m->source, &skip);
    return scan_code(g, m, code, &skip, 0, err);
}

/* Request name.<s> for each identifier string s in tuple or frozenset c. */
static int scan_star_consts(build_graph *g, build_module *m, PyObject *c,
                            kl_err *err)
{
    PyObject *it, *item;
    int r = 0;

    if (PyUnicode_Check(c)) {
        char *sub;

        if (PyUnicode_IsIdentifier(c) != 1)
            return 0;
        sub = build_str_join3(m->name, ".", PyUnicode_AsUTF8(c));
        if (sub == NULL)
            return kl_err_set(err, "out of memory");
        r = build_graph_request(g, sub, m->name, 1, err);
        free(sub);
        return r;
    }
    if (!PyTuple_Check(c) && !PyFrozenSet_Check(c))
        return 0;
    it = PyObject_GetIter(c);
    while (it != NULL && r == 0 && (item = PyIter_Next(it)) != NULL) {
        r = scan_star_consts(g, m, item, err);
        Py_DECREF(item);
    }
    Py_XDECREF(it);
    PyErr_Clear();
    return r;
}

int build_scan_star(build_graph *g, build_module *m, PyObject *code,
                    kl_err *err)
{
    PyObject *consts = PyObject_GetAttrString(code, "co_consts");
    int r;

    if (consts == NULL) {
        PyErr_Clear();
        return 0;
    }
    r = scan_star_consts(g, m, consts, err);
    Py_DECREF(consts);
    return r;
}
