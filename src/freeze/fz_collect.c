/*
 * fz_collect.c: from options to plan: start the graph where the run mode
 * says, follow it, and put its modules and the --add-data files in the
 * plan with how the program starts.
 */
#include "fz_graph.h"

#include <stdlib.h>
#include <string.h>

/* Give the plan --runtime-path's directories, ':'-separated. */
static int fz_collect_runtime_path(const fz_options *opt, plan *p,
                                   kl_err *err)
{
    kl_buf paths = KL_BUF_INIT;
    size_t i;

    if (opt->n_runtime_paths == 0)
        return 0;
    for (i = 0; i < opt->n_runtime_paths; i++)
        if (kl_buf_addf(&paths, "%s%s", i ? ":" : "",
                        opt->runtime_paths[i]) < 0) {
            kl_buf_free(&paths);
            return kl_err_oom(err);
        }
    free(p->runtime_path);
    p->runtime_path = kl_buf_detach(&paths);
    return 0;
}

/* Put the modules the run mode starts from into the graph and tell the
 * plan how the program starts. */
static int fz_collect_main(const fz_options *opt, fz_graph *g, plan *p,
                           kl_err *err)
{
    fz_req interp = {"(interpreter mode)", NULL, PLAN_WHY_RUN, 0, 0, 0, 0};
    const char *repl = fz_policy_interpreter_repl;
    kl_buf mod = KL_BUF_INIT;
    int r;

    if (opt->interpreter) {
        if (fz_graph_request_all(g, fz_policy_interpreter, &interp, err) < 0 ||
            (repl != NULL &&
             (fz_graph_request(g, repl, &interp, err) < 0 ||
              fz_graph_request_tree(g, repl, 1, &interp, err) < 0)))
            return -1;
        return plan_set_run(p, BUNDLE_RUN_INTERPRETER, "", PY_VERSION_HEX,
                            err);
    }
    if (opt->script) {
        const char *base = strrchr(opt->script, '/');

        if (fz_graph_add_file(g, "__main__", opt->script,
                              base ? base + 1 : opt->script, PLAN_WHY_RUN,
                              "the script to build", err) < 0)
            return -1;
        return opt->extension
                   ? plan_set_run(p, BUNDLE_RUN_EXTENSION, "__main__",
                                  PY_VERSION_HEX, err)
                   : plan_set_run(p, BUNDLE_RUN_SCRIPT, "", PY_VERSION_HEX,
                                  err);
    }
    if (opt->module && opt->extension) {
        if (fz_graph_require(g, opt->module, PLAN_WHY_RUN, err) < 0)
            return -1;
        return plan_set_run(p, BUNDLE_RUN_EXTENSION, opt->module,
                            PY_VERSION_HEX, err);
    }
    if (opt->module) {
        if (fz_graph_require(g, opt->module, PLAN_WHY_RUN, err) < 0)
            return -1;
        if (fz_graph_is_package(g, opt->module)) {
            if (kl_buf_setf(&mod, "%s.__main__", opt->module) < 0)
                return kl_err_oom(err);
            r = fz_graph_require(g, mod.s, PLAN_WHY_RUN, err);
            kl_buf_free(&mod);
            if (r < 0)
                return kl_err_prefix(err, "-m %s is a package without "
                                          "__main__.py", opt->module);
        }
        return plan_set_run(p, BUNDLE_RUN_MODULE, opt->module, PY_VERSION_HEX,
                            err);
    }
    if (kl_buf_add(&mod, opt->entry, strcspn(opt->entry, ":")) < 0)
        return kl_err_oom(err);
    r = fz_graph_require(g, mod.s, PLAN_WHY_RUN, err);
    kl_buf_free(&mod);
    if (r < 0)
        return -1;
    return plan_set_run(p, BUNDLE_RUN_ENTRY, opt->entry, PY_VERSION_HEX, err);
}

int fz_collect(const fz_options *opt, fz_env *env, plan *p, kl_err *err)
{
    int level = opt->compress ? FZ_COMPRESS_LEVEL : FZ_DATA_LEVEL;
    kl_strv keep = KL_STRV_INIT;
    fz_graph *g;
    size_t i;
    int r;

    if (opt->keep_only != NULL && fz_keep_read(opt->keep_only, &keep,
                                                err) < 0) {
        kl_strv_free(&keep);
        return -1;
    }
    if (fz_graph_new(opt, env, &g, err) < 0) {
        kl_strv_free(&keep);
        return -1;
    }
    r = fz_collect_main(opt, g, p, err);
    if (r == 0)
        r = fz_collect_runtime_path(opt, p, err);
    if (r == 0) {
        free(p->options);
        r = fz_interp_options(opt, &p->options, err);
    }
    if (r == 0)
        r = fz_hooks_add(opt, g, p, err);
    if (r == 0)
        r = fz_graph_resolve(g, err);
    if (r == 0 && opt->keep_only != NULL)
        r = fz_keep_apply(g, opt->keep_only, &keep, err);
    kl_strv_free(&keep);
    /* --add-data first: a file it places where package data would go
     * wins over the package's own copy. */
    for (i = 0; r == 0 && i < opt->n_datas; i++)
        r = fz_data_collect(opt->datas[i], level, p, err);
    if (r == 0)
        r = fz_graph_plan(g, p, err);
    fz_graph_free(g);
    return r;
}
