/*
 * fz_keep.c: --keep-only FILE: the modules a traced run imported
 * (KILN_TRACE_IMPORTS, one name a line) decide which of the graph's
 * modules stay in the program. What start-up needs stays whatever the
 * file says: the run target and runtime hooks, the encodings package
 * with every codec (looked up by name), the modules kiln's runtime uses
 * (fz_policy_always: printing a traceback, warnings) with what their
 * functions import, everything those import at module level, and the
 * packages of every module kept. The rest is left out (PLAN_OMIT_KEEP_ONLY) before the
 * plan is made, so the shared libraries only they needed go too.
 */
#include "fz_graph.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fz_keep_read(const char *path, kl_strv *names, kl_err *err)
{
    uint8_t *text;
    size_t len, at = 0;
    int line = 0, r = 0;

    if (kl_read_file(path, &text, &len, err) < 0) {
        kl_err why = *err;

        return kl_err_set(err, "--keep-only %s (a run of the program with "
                               "KILN_TRACE_IMPORTS=FILE writes one)",
                          why.msg);
    }
    while (r == 0 && at < len) {
        const char *s = (const char *)text + at;
        size_t n = strcspn(s, "\n"), end = n;

        line++;
        at += n + 1;
        while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t' ||
                           s[end - 1] == '\r'))
            end--;
        if (end == 0 || s[0] == '#')
            continue;
        if (!fz_name_is_dotted(s, end))
            r = kl_err_set(err, "%s:%d: '%.*s' is not a module name (the "
                                "file lists module names, one a line, as "
                                "KILN_TRACE_IMPORTS writes them)",
                           path, line, (int)(end > 60 ? 60 : end), s);
        else if (kl_strv_take(names, strndup(s, end)) < 0)
            r = kl_err_oom(err);
    }
    free(text);
    fz_strv_sort_unique(names);
    return r;
}

/* What a module is to the trace's pruning. */
enum fz_keep_mark {
    FZ_KEEP_NO = 0,
    FZ_KEEP_IT,       /* kept */
    FZ_KEEP_ALL       /* kept, with what it asks for at module level */
};

/* The walk over the graph: one mark per module (by its index in
 * g->mods) and the modules whose needs are still to be marked. */
typedef struct fz_keep_walk {
    fz_graph *g;
    unsigned char *mark;
    size_t *todo;
    size_t n_todo;
    size_t named;     /* names of modules the program has */
} fz_keep_walk;

/* Mark module `name` and its packages at least `mark`; modules newly
 * marked FZ_KEEP_ALL go on w->todo. Names the graph does not hold are
 * passed over. */
static int fz_keep_mark(fz_keep_walk *w, const char *name,
                        enum fz_keep_mark mark, kl_err *err)
{
    char *part = strdup(name), *dot;

    if (part == NULL)
        return kl_err_oom(err);
    do {
        PyObject *idx = PyDict_GetItemString(w->g->index, part);

        if (idx != NULL) {
            size_t i = PyLong_AsSize_t(idx);

            assert(i < w->g->n);
            if (w->mark[i] < mark) {
                w->mark[i] = (unsigned char)mark;
                if (mark == FZ_KEEP_ALL)
                    w->todo[w->n_todo++] = i;
            }
        }
        dot = strrchr(part, '.');
        if (dot != NULL)
            *dot = '\0';
    } while (dot != NULL);
    free(part);
    return 0;
}

/* Mark what start-up needs (FZ_KEEP_ALL), the run target and hooks, and
 * every module in names (FZ_KEEP_IT); then everything FZ_KEEP_ALL
 * modules ask for at module level, transitively. */
static int fz_keep_walk_all(fz_keep_walk *w, const kl_strv *names,
                            kl_err *err)
{
    fz_graph *g = w->g;
    size_t i, k;
    int r = 0;

    for (i = 0; r == 0 && i < g->n; i++) {
        const fz_module *m = g->mods[i];

        if (fz_name_within(m->name, "encodings"))
            r = fz_keep_mark(w, m->name, FZ_KEEP_ALL, err);
        else if (m->why == PLAN_WHY_RUN || m->why == PLAN_WHY_HOOK)
            r = fz_keep_mark(w, m->name, FZ_KEEP_IT, err);
    }
    for (i = 0; r == 0 && fz_policy_always[i] != NULL; i++) {
        const fz_module *m = fz_graph_get(g, fz_policy_always[i]);

        r = fz_keep_mark(w, fz_policy_always[i], FZ_KEEP_ALL, err);
        for (k = 0; r == 0 && m != NULL && k < m->needs_lazy.n; k++)
            r = fz_keep_mark(w, m->needs_lazy.v[k], FZ_KEEP_ALL, err);
    }
    for (i = 0; r == 0 && i < names->n; i++) {
        const fz_module *m = fz_graph_get(g, names->v[i]);

        r = fz_keep_mark(w, names->v[i], FZ_KEEP_IT, err);
        w->named += m != NULL && m->state == FZ_FOUND;
    }
    while (r == 0 && w->n_todo > 0) {
        const fz_module *m = g->mods[w->todo[--w->n_todo]];

        for (k = 0; r == 0 && k < m->needs.n; k++)
            r = fz_keep_mark(w, m->needs.v[k], FZ_KEEP_ALL, err);
    }
    return r;
}

/* The bytes module m brings: bytecode and source, or its shared object. */
static uint64_t fz_keep_size(const fz_module *m)
{
    struct stat st;

    if (m->kind == BUNDLE_KIND_EXTENSION)
        return m->file && stat(m->file, &st) == 0 ? (uint64_t)st.st_size : 0;
    return (m->marshalled ? (uint64_t)PyBytes_GET_SIZE(m->marshalled) : 0) +
           (m->source ? (uint64_t)PyBytes_GET_SIZE(m->source) : 0);
}

int fz_keep_apply(fz_graph *g, const char *path, const kl_strv *names,
                  kl_err *err)
{
    fz_keep_walk w = {g, calloc(g->n + 1, 1),
                      calloc(g->n + 1, sizeof *w.todo), 0, 0};
    uint64_t bytes = 0;
    size_t i, dropped = 0;
    int r = 0;

    if (w.mark == NULL || w.todo == NULL)
        r = kl_err_oom(err);
    if (r == 0)
        r = fz_keep_walk_all(&w, names, err);
    for (i = 0; r == 0 && i < g->n; i++) {
        fz_module *m = g->mods[i];

        if (w.mark[i] != FZ_KEEP_NO || m->state != FZ_FOUND || m->omit)
            continue;
        free(m->detail);
        m->detail = kl_str_join3("not in --keep-only", " ", path);
        if (m->detail == NULL)
            r = kl_err_oom(err);
        m->omit = PLAN_OMIT_KEEP_ONLY;
        dropped++;
        bytes += fz_keep_size(m);
    }
    if (r == 0 && names->n > 0 && w.named == 0)
        kl_warn("--keep-only %s names none of this program's modules: is it "
                "the trace of another program?", path);
    if (r == 0)
        kl_note("--keep-only %s: left out %zu module%s it does not name "
                "(%.1f KiB of code)", path, dropped, dropped == 1 ? "" : "s",
                (double)bytes / 1024);
    free(w.mark);
    free(w.todo);
    return r;
}
