/*
 * fz_scan.c: find the imports in compiled code. Each IMPORT_NAME
 * instruction names a module; the two LOAD_CONST instructions before it
 * give the relative level and the fromlist, whose items may be submodules.
 * Calls of importlib.import_module, __import__ and importlib.util.find_spec
 * name a module too (fz_scan_call.c). An instruction that an exception
 * table entry covers (a try block) or that lies in a function is guarded:
 * the module copes when the import fails. Another module's
 * `if __name__ == "__main__":` blocks are found in the bytecode and their
 * imports left out. Opcode
 * numbers come from the embedded interpreter's `opcode` module, so the
 * scanner reads whatever CPython version kiln embeds. The scanner only
 * reports what it finds, as import records; the graph decides what to
 * follow.
 */
#include "fz_graph.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Line ranges [start, end] of `if __name__ == "__main__":` blocks at a
 * module's top level; a growable list. */
typedef struct fz_lines {
    long (*v)[2];
    size_t n;
    size_t cap;
} fz_lines;

/* True when `line` lies in one of the ranges r holds. */
static int fz_scan_in_ranges(const fz_lines *r, long line)
{
    size_t i;

    for (i = 0; r != NULL && i < r->n; i++)
        if (line >= r->v[i][0] && line <= r->v[i][1])
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

/* Opcode numbers the main-block finder reads (-1 where this CPython has
 * none), and how COMPARE_OP's argument holds the comparison. */
typedef struct fz_main_ops {
    int load_name, load_const, compare_op, jump_if_false, return_const,
        return_value, extended_arg;
    int cmp_shift;  /* comparison index = arg >> cmp_shift */
} fz_main_ops;

/* The opcode numbers of the embedded CPython, read from `opcode.opmap` on
 * first use (the interpreter is fixed for the life of the process). NULL
 * when they cannot be read: no main block is then found, so nothing is
 * left out. */
static const fz_main_ops *fz_scan_main_ops(void)
{
    static fz_main_ops ops;
    static int state; /* 0 unread, 1 read, -1 unreadable */
    static const char *const names[] = {
        "LOAD_NAME", "LOAD_CONST", "COMPARE_OP", "POP_JUMP_IF_FALSE",
        "RETURN_CONST", "RETURN_VALUE", "EXTENDED_ARG",
    };
    int *slots[] = {&ops.load_name, &ops.load_const, &ops.compare_op,
                    &ops.jump_if_false, &ops.return_const, &ops.return_value,
                    &ops.extended_arg};
    PyObject *mod, *map;
    size_t i;

    if (state != 0)
        return state > 0 ? &ops : NULL;
    state = -1;
    mod = PyImport_ImportModule("opcode");
    map = mod ? PyObject_GetAttrString(mod, "opmap") : NULL;
    Py_XDECREF(mod);
    if (map == NULL || !PyDict_Check(map)) {
        PyErr_Clear();
        Py_XDECREF(map);
        return NULL;
    }
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        /* 3.11 names the forward form apart from the backward one. */
        PyObject *v = i == 3 ? PyDict_GetItemString(
                                   map, "POP_JUMP_FORWARD_IF_FALSE")
                             : NULL;

        if (v == NULL)
            v = PyDict_GetItemString(map, names[i]);
        *slots[i] = v && PyLong_Check(v) ? (int)PyLong_AsLong(v) : -1;
    }
    Py_DECREF(map);
    PyErr_Clear();
#if PY_VERSION_HEX >= 0x030D0000
    ops.cmp_shift = 5; /* (cmp << 5) | to-bool | mask */
#elif PY_VERSION_HEX >= 0x030C0000
    ops.cmp_shift = 4; /* (cmp << 4) | mask */
#else
    ops.cmp_shift = 0;
#endif
    if (ops.load_name < 0 || ops.load_const < 0 || ops.compare_op < 0 ||
        ops.jump_if_false < 0 || ops.return_value < 0)
        return NULL;
    state = 1;
    return &ops;
}

/* True when tuple t (co_consts or co_names) holds the str s. */
static int fz_scan_tuple_has(PyObject *t, const char *s)
{
    Py_ssize_t i;

    for (i = 0; t != NULL && PyTuple_Check(t) && i < PyTuple_GET_SIZE(t); i++) {
        PyObject *c = PyTuple_GET_ITEM(t, i);

        if (PyUnicode_Check(c) && PyUnicode_CompareWithASCIIString(c, s) == 0)
            return 1;
    }
    return 0;
}

/* One decoded instruction of co_code: opcode, full argument (with
 * EXTENDED_ARG prefixes) and its index in 2-byte units. */
typedef struct fz_insn {
    int op;
    long arg;
    Py_ssize_t at;
} fz_insn;

/* Decode the instruction at or after unit *k of code[0, n) (CACHE entries
 * and EXTENDED_ARG prefixes folded in) into *in and move *k past it.
 * Returns 0 at the end of the code. */
static int fz_scan_next_insn(const unsigned char *code, Py_ssize_t n,
                             const fz_main_ops *ops, Py_ssize_t *k,
                             fz_insn *in)
{
    long ext = 0;

    for (; *k * 2 + 1 < n; (*k)++) {
        int op = code[*k * 2];
        long arg = code[*k * 2 + 1] | (ext << 8);

        if (op == 0) /* CACHE: co_code holds them zeroed */
            continue;
        if (op == ops->extended_arg) {
            ext = arg;
            continue;
        }
        in->op = op;
        in->arg = arg;
        in->at = (*k)++;
        return 1;
    }
    return 0;
}

/* True when the code from unit k on is the module's implicit end:
 * `return None`. */
static int fz_scan_is_tail(PyObject *consts, const unsigned char *code,
                           Py_ssize_t n, const fz_main_ops *ops, Py_ssize_t k)
{
    fz_insn a, b;

    if (!fz_scan_next_insn(code, n, ops, &k, &a))
        return 0;
    if (a.op == ops->return_const)
        return a.arg < PyTuple_GET_SIZE(consts) &&
               PyTuple_GET_ITEM(consts, a.arg) == Py_None;
    return a.op == ops->load_const && a.arg < PyTuple_GET_SIZE(consts) &&
           PyTuple_GET_ITEM(consts, a.arg) == Py_None &&
           fz_scan_next_insn(code, n, ops, &k, &b) &&
           b.op == ops->return_value;
}

/* True when names[arg] (is_name) or consts[arg] is the str s. */
static int fz_scan_arg_is(PyObject *names, PyObject *consts, long arg,
                          int is_name, const char *s)
{
    PyObject *t = is_name ? names : consts, *v;

    if (arg < 0 || arg >= PyTuple_GET_SIZE(t))
        return 0;
    v = PyTuple_GET_ITEM(t, arg);
    return PyUnicode_Check(v) && PyUnicode_CompareWithASCIIString(v, s) == 0;
}

/* True when the four instructions w are `__name__ == "__main__"` (either
 * operand first) and a forward jump taken when it is false. */
static int fz_scan_is_main_test(PyObject *names, PyObject *consts,
                                const fz_insn w[4], const fz_main_ops *ops)
{
    int i;

    for (i = 0; i < 2; i++) {
        const fz_insn *name = &w[i], *value = &w[1 - i];

        if (name->op == ops->load_name && value->op == ops->load_const &&
            fz_scan_arg_is(names, consts, name->arg, 1, "__name__") &&
            fz_scan_arg_is(names, consts, value->arg, 0, "__main__"))
            return w[2].op == ops->compare_op &&
                   (w[2].arg >> ops->cmp_shift) == 2 /* == */ &&
                   w[3].op == ops->jump_if_false;
    }
    return 0;
}

/* Append the range [start, end] to out. */
static int fz_lines_add(fz_lines *out, long start, long end, kl_err *err)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 4;
        long (*v)[2] = realloc(out->v, cap * sizeof *v);

        if (v == NULL)
            return kl_err_oom(err);
        out->v = v;
        out->cap = cap;
    }
    out->v[out->n][0] = start;
    out->v[out->n][1] = end;
    out->n++;
    return 0;
}

/* Find the `if __name__ == "__main__":` blocks in module code `code`, from
 * its bytecode: LOAD_NAME __name__ and LOAD_CONST "__main__" (either
 * order), COMPARE_OP ==, then a forward jump when false. The block runs
 * from the line of the test to the line before the jump's target (an
 * `else:` branch or the next statement), or to the end of the file when
 * the target is the module's implicit `return None`. Lines, not
 * instruction ranges, because the compiler moves exception handlers to the
 * end of the code and copies short tails into both branches. Imports there
 * run only when the module is the program itself, so another module's main
 * block is not followed. A shape not recognised finds no block (nothing is
 * left out). Fails only when out of memory. */
static int fz_scan_main_blocks(PyObject *code, fz_lines *out, kl_err *err)
{
    const fz_main_ops *ops;
    PyObject *bytes = NULL, *consts = NULL, *names = NULL;
    const unsigned char *co;
    long *lines = NULL;
    fz_insn w[4], cur;
    Py_ssize_t n, k = 0;
    int have = 0, r = 0;

    out->n = 0;
    consts = PyObject_GetAttrString(code, "co_consts");
    names = PyObject_GetAttrString(code, "co_names");
    if (!fz_scan_tuple_has(consts, "__main__") ||
        !fz_scan_tuple_has(names, "__name__") ||
        (ops = fz_scan_main_ops()) == NULL ||
        (bytes = PyObject_GetAttrString(code, "co_code")) == NULL ||
        !PyBytes_Check(bytes))
        goto done;
    co = (const unsigned char *)PyBytes_AS_STRING(bytes);
    n = PyBytes_GET_SIZE(bytes);
    if ((lines = malloc(((size_t)n / 2 + 1) * sizeof *lines)) == NULL) {
        r = kl_err_oom(err);
        goto done;
    }
    fz_scan_code_lines(code, lines, n / 2);
    /* A window of the last four instructions: w[3] is the newest. */
    while (fz_scan_next_insn(co, n, ops, &k, &cur)) {
        Py_ssize_t after = k, target;
        long start, end = -1;

        memmove(&w[0], &w[1], 3 * sizeof w[0]);
        w[3] = cur;
        if (++have < 4 || !fz_scan_is_main_test(names, consts, w, ops) ||
            (start = lines[w[0].at]) <= 0)
            continue;
        /* The jump counts from the first instruction after its caches. */
        while (after < n / 2 && co[after * 2] == 0)
            after++;
        target = after + w[3].arg;
        if (fz_scan_is_tail(consts, co, n, ops, target)) {
            end = LONG_MAX;
        } else {
            for (; target < n / 2 && end < 0; target++)
                end = lines[target] - 1;
            if (end < start)
                continue; /* not a shape we know: leave nothing out */
        }
        if ((r = fz_lines_add(out, start, end, err)) < 0)
            goto done;
    }
done:
    PyErr_Clear();
    free(lines);
    Py_XDECREF(bytes);
    Py_XDECREF(consts);
    Py_XDECREF(names);
    return r;
}

/* What a scan needs besides the code object at hand. */
typedef struct fz_scan {
    const fz_opcodes *ops;
    const char *name;      /* the module scanned */
    int is_package;
    const fz_lines *skip;  /* lines whose imports are left out */
    fz_imports *out;
} fz_scan;

/* True when co_code `bytes` holds an IMPORT_NAME instruction. */
static int fz_scan_has_import(const fz_opcodes *ops, PyObject *bytes)
{
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
    Py_ssize_t n = PyBytes_GET_SIZE(bytes), i;

    for (i = 0; i + 1 < n; i += 2)
        if (ops->role[b[i]] == FZ_OP_IMPORT_NAME)
            return 1;
    return 0;
}

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
    return fz_imports_add(s->out, abs, fromlist, FZ_IMPORT_STATEMENT, lazy,
                          guarded, err);
}

/* The IMPORT_NAME instruction c->v[k]. */
static int fz_scan_import_name(fz_scan *s, const fz_code *c, size_t k,
                               int lazy, kl_err *err)
{
    const fz_instr *x = &c->v[k];
    PyObject *fromlist = NULL;
    const char *t;
    long level = 0;

    if (x->arg >= PyTuple_GET_SIZE(c->names))
        return 0;
    t = PyUnicode_AsUTF8(PyTuple_GET_ITEM(c->names, x->arg));
    if (t == NULL)
        return fz_python_error(s->name, err);
    /* The level, a constant (3.14: a small int loaded as itself), then
     * the fromlist constant. */
    if (k >= 2 && c->v[k - 1].role == FZ_OP_LOAD_CONST &&
        c->v[k - 1].arg < PyTuple_GET_SIZE(c->consts)) {
        const fz_instr *lv = &c->v[k - 2];
        PyObject *v = lv->role == FZ_OP_LOAD_CONST &&
                              lv->arg < PyTuple_GET_SIZE(c->consts)
                          ? PyTuple_GET_ITEM(c->consts, lv->arg)
                          : NULL;

        if (lv->role == FZ_OP_LOAD_SMALL_INT || v != NULL) {
            level = v == NULL ? (long)lv->arg
                    : PyLong_Check(v) ? PyLong_AsLong(v) : 0;
            fromlist = PyTuple_GET_ITEM(c->consts, c->v[k - 1].arg);
        }
    }
    return fz_scan_import(s, t, level, fromlist, lazy,
                          lazy || fz_scan_guarded(c, x->off), err);
}

/* Scan code object `code` (and nested ones) for imports. `lazy` is true
 * when the code runs only when called (a function body), not when the
 * module is imported. */
static int fz_scan_code(fz_scan *s, PyObject *code, int lazy, kl_err *err)
{
    long *lines = NULL;
    PyObject *bytes = PyObject_GetAttrString(code, "co_code");
    fz_code c = {NULL, 0, NULL, 0, NULL, NULL, s->name, s->is_package};
    Py_ssize_t i;
    size_t k;
    int r = -1, calls;

    c.consts = PyObject_GetAttrString(code, "co_consts");
    c.names = PyObject_GetAttrString(code, "co_names");
    if (bytes == NULL || c.consts == NULL || c.names == NULL ||
        !PyBytes_Check(bytes) || !PyTuple_Check(c.consts) ||
        !PyTuple_Check(c.names)) {
        fz_python_error(s->name, err);
        goto done;
    }
    /* Most code (most functions) imports nothing: no need to decode it.
     * A function's imports are all guarded: only code that runs at import
     * needs its try blocks. */
    calls = fz_scan_may_call(&c);
    if (!calls && !fz_scan_has_import(s->ops, bytes))
        c.n = 0;
    else if (fz_scan_decode(s->ops, bytes, &c, err) < 0 ||
             (!lazy && fz_scan_guards(code, &c, err) < 0))
        goto done;
    if (s->skip->n > 0 && c.n > 0) {
        Py_ssize_t units = PyBytes_GET_SIZE(bytes) / 2;

        lines = malloc(((size_t)units + 1) * sizeof *lines);
        if (lines == NULL) {
            kl_err_oom(err);
            goto done;
        }
        fz_scan_code_lines(code, lines, units);
    }
    for (k = 0; k < c.n; k++) {
        const fz_instr *x = &c.v[k];

        if (lines != NULL && fz_scan_in_ranges(s->skip, lines[x->off / 2]))
            continue;
        if (x->role == FZ_OP_IMPORT_NAME
                ? fz_scan_import_name(s, &c, k, lazy, err) < 0
                : calls && fz_scan_call_at(&c, k, lazy, s->out, err) < 0)
            goto done;
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
                    int runs_as_main, PyObject *code, fz_imports *out,
                    kl_err *err)
{
    fz_lines skip = {NULL, 0, 0};
    fz_scan s = {ops, name, is_package, &skip, out};
    int r = 0;

    if (!runs_as_main)
        r = fz_scan_main_blocks(code, &skip, err);
    if (r == 0)
        r = fz_scan_code(&s, code, 0, err);
    free(skip.v);
    return r;
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
