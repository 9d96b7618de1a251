/*
 * fz_hooks.c: runtime hooks (--runtime-hook FILE): each file joins the
 * graph as an application module under a reserved name, so that it is
 * compiled (a syntax error stops the build) and its imports are bundled,
 * and is listed in the options text ("runtime-hook MODULE"), which the
 * program imports in order before it runs the app.
 */
#include "fz_graph.h"

#include <stdlib.h>
#include <string.h>

/* Put the reserved module name of hook number n (from 1) at path into
 * name: "_kiln_hook_N_STEM", STEM the file's name without its extension,
 * every character other than an ASCII letter, digit or '_' made '_'. */
static int fz_hooks_name(size_t n, const char *path, kl_buf *name,
                         kl_err *err)
{
    const char *base = strrchr(path, '/'), *dot;
    size_t i, start;

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        dot = base + strlen(base);
    if (kl_buf_setf(name, "_kiln_hook_%zu_%.*s", n, (int)(dot - base),
                    base) < 0)
        return kl_err_oom(err);
    start = name->len - (size_t)(dot - base);
    for (i = start; i < name->len; i++) {
        char c = name->s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            name->s[i] = '_';
    }
    return 0;
}

int fz_hooks_add(const fz_options *opt, fz_graph *g, plan *p, kl_err *err)
{
    kl_buf text = KL_BUF_INIT, name = KL_BUF_INIT, rel = KL_BUF_INIT;
    size_t i;
    int r = 0;

    if (opt->n_runtime_hooks == 0)
        return 0;
    if (p->options != NULL && kl_buf_sets(&text, p->options) < 0)
        r = kl_err_oom(err);
    for (i = 0; r == 0 && i < opt->n_runtime_hooks; i++) {
        const char *path = opt->runtime_hooks[i];
        char *real = realpath(path, NULL);

        r = fz_hooks_name(i + 1, path, &name, err);
        if (r == 0 && (kl_buf_setf(&rel, "%s.py", name.s) < 0 ||
                       kl_buf_addf(&text, "runtime-hook %s\n", name.s) < 0))
            r = kl_err_oom(err);
        if (r == 0)
            r = fz_graph_add_file(g, name.s, real ? real : path, rel.s,
                                  PLAN_WHY_HOOK, "a --runtime-hook", err);
        free(real);
    }
    if (r == 0) {
        free(p->options);
        p->options = kl_buf_detach(&text);
        if (p->options == NULL)
            r = kl_err_oom(err);
    }
    kl_buf_free(&text);
    kl_buf_free(&name);
    kl_buf_free(&rel);
    return r;
}
