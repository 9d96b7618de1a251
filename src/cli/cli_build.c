/*
 * cli_build.c: `kiln build`: the options (cli_options.c), a project's
 * pyproject.toml when no run mode is given, then the pipeline for each
 * program: environment and graph into a plan (src/freeze), the plan
 * finished (src/plan), the one-file or folder program written
 * (src/emit), the report (src/report), one summary line.
 */
#include "cli.h"

#include "../emit/emit.h"
#include "../freeze/fz.h"
#include "../report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file name ending of an extension module: the embedded Python's. */
static const char cli_ext_suffix[] = KILN_EXT_SUFFIX;

/* What a folder program keeps as files next to its executable: native
 * code (loaded by the dynamic loader from its own file, as python does)
 * and every data file (open()-able where __file__ says). Bytecode and
 * sources stay in the executable: read in place, nothing to look up. */
#define CLI_ONEDIR_OUTSIDE                                                \
    ((1u << BUNDLE_KIND_EXTENSION) | (1u << BUNDLE_KIND_SHLIB) |          \
     (1u << BUNDLE_KIND_DATA) | (1u << BUNDLE_KIND_PKGDATA) |             \
     (1u << BUNDLE_KIND_METADATA))

/* Where to write the program of run mode o: -o, or dist/NAME where NAME
 * is `given` (--name or a project script's), the script's stem, or the
 * first component of the module; and in *name the program's name (a
 * folder program's executable is --name, or the last component of where
 * it is written). */
static int cli_build_output(const cli_build_args *a, const fz_options *o,
                            const char *given, kl_buf *name, kl_buf *out,
                            kl_err *err)
{
    const char *src, *end;

    if (given) {
        src = given;
        end = src + strlen(src);
    } else if (a->output && a->onedir) {
        for (end = a->output + strlen(a->output);
             end > a->output + 1 && end[-1] == '/'; end--)
            ;
        for (src = end; src > a->output && src[-1] != '/'; src--)
            ;
    } else if (o->script) {
        src = strrchr(o->script, '/');
        src = src ? src + 1 : o->script;
        end = strrchr(src, '.');
        if (end == NULL || end == src)
            end = src + strlen(src);
    } else if (o->interpreter) {
        src = "python";
        end = src + strlen(src);
    } else if (a->extension) {
        src = o->module;
        end = src + strlen(src);
    } else {
        src = o->module ? o->module : o->entry;
        end = src + strcspn(src, ".:");
    }
    if (kl_buf_setf(name, "%.*s", (int)(end - src), src) < 0 ||
        (a->output ? kl_buf_sets(out, a->output)
         : a->extension
             ? kl_buf_setf(out, "dist/%s%s", name->s,
                           a->suffix ? a->suffix : cli_ext_suffix)
             : kl_buf_setf(out, "dist/%s", name->s)) < 0)
        return kl_err_oom(err);
    while (a->onedir && out->len > 1 && out->s[out->len - 1] == '/')
        out->s[--out->len] = '\0';
    return 0;
}

/* The paths this build reads that a replaced output must never hold: the
 * script, the application's directory (may be NULL), the current
 * directory, --paths and the sources of --add-data. Strings are copied
 * into inputs. */
static int cli_build_inputs(const fz_options *o, const char *app_dir,
                            kl_strv *inputs, kl_err *err)
{
    char *cwd = getcwd(NULL, 0);
    size_t i;
    int oom = (o->script && kl_strv_push(inputs, o->script) < 0) ||
              (app_dir && kl_strv_push(inputs, app_dir) < 0) ||
              (cwd && kl_strv_take(inputs, cwd) < 0);

    for (i = 0; !oom && i < o->n_paths; i++)
        oom = kl_strv_push(inputs, o->paths[i]) < 0;
    for (i = 0; !oom && i < o->n_datas; i++) {
        const char *colon = strrchr(o->datas[i], ':');
        char *src = strndup(o->datas[i], (size_t)(colon - o->datas[i]));

        oom = src == NULL || kl_strv_take(inputs, src) < 0;
    }
    return oom ? kl_err_oom(err) : 0;
}

/* Write the program of plan p as the options say: one file at out, a
 * folder program at out whose executable is called name, or the extension
 * module name at out (stub is then the extension module template). */
static int cli_build_emit(const cli_build_args *a, const fz_options *o,
                          const plan *p, const char *stub,
                          const char *app_dir, const char *name,
                          const char *out, kl_err *err)
{
    kl_strv inputs = KL_STRV_INIT;
    emit_replace rep = {a->force, NULL, 0};
    int r;

    if (a->extension)
        return emit_extension(p, stub, name, out, err);
    if (!a->onedir)
        return emit_onefile(p, stub, out, err);
    if (cli_build_inputs(o, app_dir, &inputs, err) < 0) {
        kl_strv_free(&inputs);
        return -1;
    }
    rep.inputs = (const char *const *)inputs.v;
    rep.n_inputs = inputs.n;
    r = emit_onedir(p, stub, out, name, &rep, err);
    kl_strv_free(&inputs);
    return r;
}

/* The application's absolute directory: the script's, or the current one.
 * *dir is a new malloc'd string. */
static int cli_build_app_dir(const fz_options *o, char **dir, kl_err *err)
{
    char *slash;

    *dir = o->script ? realpath(o->script, NULL) : getcwd(NULL, 0);
    if (*dir == NULL)
        return o->script
                   ? kl_err_set(err, "%s: %s (the script to build)", o->script,
                                strerror(errno))
                   : kl_err_set(err, "cannot read the current directory: %s",
                                strerror(errno));
    if (o->script) {
        slash = strrchr(*dir, '/');
        if (slash == *dir)
            slash[1] = '\0'; /* a script at the root: "/" */
        else if (slash != NULL)
            *slash = '\0';
    }
    return 0;
}

/* The runtime stub `file` (kiln-stub, or kiln-ext.so: the extension
 * module template) that sits next to this kiln (or in ../lib/kiln/ after
 * make install). *path is a new malloc'd string. */
static int cli_build_find_stub(const char *file, char **path, kl_err *err)
{
    static const char *const tries[] = {"%s/%s", "%s/../lib/kiln/%s"};
    char *self = realpath("/proc/self/exe", NULL);
    kl_buf b = KL_BUF_INIT;
    char *slash;
    size_t i;

    *path = NULL;
    if (self == NULL)
        return kl_err_set(err, "cannot find the kiln executable: %s",
                          strerror(errno));
    slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    for (i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        if (kl_buf_setf(&b, tries[i], self, file) < 0)
            break;
        if (access(b.s, R_OK) == 0) {
            *path = kl_buf_detach(&b);
            free(self);
            return *path ? 0 : kl_err_oom(err);
        }
    }
    kl_err_set(err, "runtime stub not found next to kiln (%s/%s or "
                    "%s/../lib/kiln/%s); reinstall kiln", self, file, self,
               file);
    kl_buf_free(&b);
    free(self);
    return -1;
}


/* A project's programs: the [tool.kiln] run mode, or one per
 * [project.scripts] and [project.gui-scripts] entry (only --script NAME's
 * when given). */
typedef struct cli_project {
    fz_project proj;
    int active;               /* kiln build ran in project mode */
    char *dir;                /* the project's absolute directory */
    const fz_script **run;    /* the scripts to build, or none */
    size_t n_run;
} cli_project;

static const char cli_pyproject[] = "pyproject.toml";

/* With no run mode on the command line: read ./pyproject.toml (which is
 * there), apply its
 * [tool.kiln] settings to a, have pip install the project for the build,
 * and pick the scripts to build. */
static int cli_build_project(cli_build_args *a, cli_project *cp, kl_err *err)
{
    fz_project *p = &cp->proj;
    kl_buf names = KL_BUF_INIT;
    size_t i;

    cp->active = 1;
    if (fz_project_read(cli_pyproject, p, err) < 0 ||
        cli_options_from_project(a, p, cli_pyproject, err) < 0)
        return -1;
    if ((cp->dir = getcwd(NULL, 0)) == NULL)
        return kl_err_set(err, "cannot read the current directory: %s",
                          strerror(errno));
    if (p->has_project &&
        (cli_list_add(&a->pips, cp->dir) < 0))
        return kl_err_oom(err);
    if (a->module || a->entry || a->script || a->interpreter)
        return 0;
    if (a->target != NULL && strcmp(a->target, "extension") == 0)
        return kl_err_set(err, "%s: an extension module is built from a "
                          "module: set module in [tool.kiln] (the "
                          "project's scripts are programs)", cli_pyproject);
    if (!p->has_project || p->n_scripts == 0)
        return kl_err_set(err, "%s: no [project.scripts] or "
                          "[project.gui-scripts] to build; add one, or set "
                          "entry or module in [tool.kiln]", cli_pyproject);
    cp->run = calloc(p->n_scripts, sizeof *cp->run);
    if (cp->run == NULL)
        return kl_err_oom(err);
    for (i = 0; i < p->n_scripts; i++) {
        if (a->script_name && strcmp(a->script_name, p->scripts[i].name) != 0)
            continue;
        cp->run[cp->n_run++] = &p->scripts[i];
    }
    if (cp->n_run > 0)
        return 0;
    for (i = 0; i < p->n_scripts; i++)
        if ((i && kl_buf_adds(&names, ", ") < 0) ||
            kl_buf_adds(&names, p->scripts[i].name) < 0)
            return kl_err_oom(err);
    kl_err_set(err, "%s: no script named '%s'; the scripts are %s",
               cli_pyproject, a->script_name, names.s);
    kl_buf_free(&names);
    return -1;
}

/* Check that the program may be written at out and the report at
 * --report (cli_output_check), against the inputs known so far. A folder
 * program's own directory is checked by its emitter. */
static int cli_build_check_outputs(const cli_build_args *a, const char *out,
                                   const cli_inputs *in, kl_err *err)
{
    if (!a->onedir &&
        cli_output_check(a->output ? "-o" : "output", out,
                         CLI_OUTPUT_PROGRAM, a->force, in, err) < 0)
        return -1;
    if (a->report != NULL &&
        cli_output_check("--report", a->report, CLI_OUTPUT_REPORT, a->force,
                         in, err) < 0)
        return -1;
    return 0;
}

/* Write the --report of plan p, whose executable is at program; the app's
 * own directories are app_dir (may be NULL) and the --paths. */
static int cli_build_report(const cli_build_args *a, const fz_options *o,
                            const plan *p, const char *program,
                            const char *app_dir, kl_err *err)
{
    kl_strv dirs = KL_STRV_INIT;
    report_input in;
    size_t i;
    int r = 0;

    if (app_dir && kl_strv_push(&dirs, app_dir) < 0)
        r = kl_err_oom(err);
    for (i = 0; r == 0 && i < o->n_paths; i++) {
        char *real = realpath(o->paths[i], NULL);

        if (real != NULL && kl_strv_take(&dirs, real) < 0)
            r = kl_err_oom(err);
    }
    in.plan = p;
    in.program = program;
    in.app_dirs = (const char *const *)dirs.v;
    in.n_app_dirs = dirs.n;
    in.warnings = kl_warn_count();
    if (r == 0 && report_write(&in, a->report, err) < 0)
        r = kl_err_prefix(err, "--report %s", a->report);
    kl_strv_free(&dirs);
    return r;
}

/* Build the program of run mode fz (named `name`, or NULL to derive it)
 * from env: collect, finish the plan, write it. */
static int cli_build_one(const cli_build_args *a, const fz_options *fz,
                         const char *given, fz_env *env, const char *stub,
                         const char *app_dir, kl_err *err)
{
    kl_buf out = KL_BUF_INIT, name = KL_BUF_INIT, exe = KL_BUF_INIT;
    cli_inputs in = {fz->script, stub, NULL};
    plan p;
    int r = -1;

    plan_init(&p);
    if (cli_build_output(a, fz, given, &name, &out, err) < 0)
        goto done;
    if (cli_build_check_outputs(a, out.s, &in, err) < 0 ||
        fz_collect(fz, env, &p, err) < 0)
        goto done;
    if (fz->verbose)
        cli_report_plan(&p);
    if (a->onedir)
        plan_place_outside(&p, CLI_ONEDIR_OUTSIDE);
    in.plan = &p;
    if (plan_finish(&p, err) < 0 ||
        cli_build_check_outputs(a, out.s, &in, err) < 0 ||
        cli_build_emit(a, fz, &p, stub, app_dir, name.s, out.s, err) < 0)
        goto done;
    if ((a->onedir ? kl_path_join(&exe, out.s, name.s)
                   : kl_buf_sets(&exe, out.s)) < 0) {
        kl_err_oom(err);
        goto done;
    }
    if (a->report && cli_build_report(a, fz, &p, exe.s, app_dir, err) < 0)
        goto done;
    cli_report_summary(&p, exe.s, a->report);
    r = 0;
done:
    plan_free(&p);
    kl_buf_free(&out);
    kl_buf_free(&name);
    kl_buf_free(&exe);
    return r;
}

int cli_build(int argc, char **argv)
{
    cli_build_args a;
    cli_project cp;
    char *stub = NULL, *app_dir = NULL;
    fz_site *site = NULL;
    fz_env *env = NULL;
    kl_err err;
    size_t i;
    int status;

    memset(&cp, 0, sizeof cp);
    if (cli_options_parse(argc, argv, &a, &status) < 0)
        goto done;
    if (!a.script && !a.module && !a.entry && !a.interpreter &&
        !kl_is_file(cli_pyproject)) {
        status = cli_usage_error("build", "%s", "nothing to build: give "
                                 "SCRIPT, -m MODULE, --entry MODULE:FUNC or "
                                 "--interpreter, or run kiln build in a "
                                 "project (a directory with a "
                                 "pyproject.toml)");
        goto done;
    }
    status = CLI_EXIT_FAIL;
    if (!a.script && !a.module && !a.entry && kl_is_file(cli_pyproject) &&
        cli_build_project(&a, &cp, &err) < 0)
        goto fail;
    cli_options_to_fz(&a);
    kl_msg_setup(a.quiet ? KL_QUIET : a.verbose ? KL_VERBOSE : KL_NORMAL);
    status = CLI_EXIT_USAGE;
    if (a.script_name && !cp.active) {
        cli_usage_error("build", "%s", "--script NAME picks one of a "
                        "project's scripts; here SCRIPT, -m or --entry says "
                        "what to build");
        goto done;
    }
    if (a.script_name && a.interpreter) {
        cli_usage_error("build", "%s", "--script NAME picks one of a "
                        "project's scripts; an --interpreter program runs "
                        "none of them");
        goto done;
    }
    if (cp.n_run > 1 && (a.output || a.name || a.report)) {
        cli_usage_error("build", "%s", "-o, --name and --report are for one "
                        "program; this project has several scripts (pick one "
                        "with --script NAME)");
        goto done;
    }
    for (i = 0; i < cp.n_run; i++) {
        fz_options one = a.fz;

        one.entry = cp.run[i]->entry;
        if ((status = cli_options_check(&a, &one)) != 0)
            goto done;
    }
    if (cp.n_run == 0 && (status = cli_options_check(&a, &a.fz)) != 0)
        goto done;
    if (a.report != NULL) {
        kl_buf out = KL_BUF_INIT, name = KL_BUF_INIT;
        int same;

        if (cli_build_output(&a, &a.fz, cp.n_run ? cp.run[0]->name : a.name,
                             &name, &out, &err) < 0) {
            status = CLI_EXIT_FAIL;
            goto fail;
        }
        same = cli_output_same(a.report, out.s);
        kl_buf_free(&out);
        kl_buf_free(&name);
        if (same) {
            status = cli_usage_error("build", "--report %s: that is where "
                                     "the program goes", a.report);
            goto done;
        }
    }
    status = CLI_EXIT_FAIL;
    if (a.fz.script && access(a.fz.script, R_OK) != 0) {
        kl_err_set(&err, "%s: %s (the script to build)", a.fz.script,
                   strerror(errno));
        goto fail;
    }
    if (cli_build_find_stub(a.extension ? "kiln-ext.so" : "kiln-stub", &stub,
                            &err) < 0 ||
        (!cp.proj.has_project && cli_build_app_dir(&a.fz, &app_dir, &err) < 0) ||
        fz_site_open(&a.fz, &site, &err) < 0 ||
        fz_env_open(&a.fz, site, app_dir, &env, &err) < 0)
        goto fail;
    if (cp.n_run == 0 &&
        cli_build_one(&a, &a.fz, a.name, env, stub, app_dir, &err) < 0)
        goto fail;
    for (i = 0; i < cp.n_run; i++) {
        fz_options one = a.fz;

        one.entry = cp.run[i]->entry;
        if (cli_build_one(&a, &one, a.name ? a.name : cp.run[i]->name, env,
                          stub, app_dir, &err) < 0)
            goto fail;
    }
    status = CLI_EXIT_OK;
    goto done;
fail:
    cli_fail(&err);
done:
    fz_env_close(env);
    fz_site_close(site);
    fz_project_free(&cp.proj);
    free(cp.run);
    free(cp.dir);
    free(stub);
    free(app_dir);
    cli_build_args_free(&a);
    return status;
}
