/*
 * fz_imports.c: the import records the scanners return (fz_scan.c for
 * statements, fz_scan_call.c for import calls): a growable list.
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

/* Append a record of `kind` for module `name` (absolute, taken over by
 * the list) with `fromlist` (a tuple, or anything else for none). */
int fz_imports_add(fz_imports *out, char *name, PyObject *fromlist,
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
