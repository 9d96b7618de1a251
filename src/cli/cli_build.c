/*
 * cli_build.c: `kiln build`: read the options, then run the pipeline:
 * environment and graph into a plan (src/freeze), the plan finished
 * (src/plan), the one-file or folder program written (src/emit).
 */
#include "cli.h"

#include "../emit/emit.h"
#include "../freeze/fz.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char cli_build_usage[] =
    "usage: kiln build [SCRIPT | -m MODULE | --entry MODULE:FUNC] [options]\n"
    "\n"
    "Build one executable that carries CPython, the application and every\n"
    "module it imports, loaded from memory at run time.\n"
    "\n"
    "  SCRIPT                 run this file as __main__, like `python SCRIPT`\n"
    "  -m MODULE              run MODULE (or MODULE.__main__) like `python -m`\n"
    "  --entry MODULE:FUNC    call FUNC; its return value is the exit status\n"
    "  -F, --onefile          write one executable file (the default)\n"
    "  -D, --onedir           write a folder: the executable NAME and, next to\n"
    "                         it in _internal/, extension modules, shared\n"
    "                         libraries and data files as real files (the\n"
    "                         executable indexes them and keeps the bytecode)\n"
    "  -o, --output PATH      where to write the program, or with --onedir the\n"
    "                         folder (default dist/NAME)\n"
    "  --force                replace whatever is at the output path (never a\n"
    "                         file or directory the build reads); without it,\n"
    "                         only a program kiln wrote is replaced\n"
    "  --name NAME            program name (default from SCRIPT or MODULE; with\n"
    "                         --onedir and -o, the folder's name)\n"
    "  --hidden-import M      also bundle module M (repeatable)\n"
    "  --exclude-module M     leave module M and its submodules out (repeatable)\n"
    "  -p, --paths DIR        also search DIR for modules (repeatable)\n"
    "  --add-data SRC:DEST    bundle file or directory SRC as DEST (repeatable);\n"
    "                         read it back with get_data(<program>/DEST/...),\n"
    "                         or with --onedir open <folder>/_internal/DEST\n"
    "  --no-source            leave source code out (no source lines in tracebacks)\n"
    "  --compress             store bytecode and native code zstd-compressed\n"
    "                         (sources always are)\n"
    "  --no-strip             keep debug information and symbol tables in\n"
    "                         extension modules (by default kiln drops what\n"
    "                         the loader never reads)\n"
    "  -v, --verbose          list bundled modules and every missing import\n"
    "  -h, --help             show this help\n";

/* What a folder program keeps as files next to its executable: native
 * code (loaded by the dynamic loader from its own file, as python does)
 * and every data file (open()-able where __file__ says). Bytecode and
 * sources stay in the executable: read in place, nothing to look up. */
#define CLI_ONEDIR_OUTSIDE                                                \
    ((1u << BUNDLE_KIND_EXTENSION) | (1u << BUNDLE_KIND_SHLIB) |          \
     (1u << BUNDLE_KIND_DATA) | (1u << BUNDLE_KIND_PKGDATA) |             \
     (1u << BUNDLE_KIND_METADATA))

/* The parsed command line. The string arrays are malloc'd; their strings
 * are borrowed from argv. */
typedef struct cli_build_args {
    fz_options fz;
    const char *output;     /* -o PATH, or NULL for dist/NAME */
    const char *name;       /* --name, or NULL to derive one */
    int onedir;             /* --onedir: a folder program */
    int force;              /* --force: replace what is at the output */
    const char **hidden, **excludes, **paths, **datas;
} cli_build_args;

/* Free the arrays of a (not the strings, which are argv's). */
static void cli_build_args_free(cli_build_args *a)
{
    free(a->hidden);
    free(a->excludes);
    free(a->paths);
    free(a->datas);
}

/* Append s to the growing array *arr of *n strings (not copied). */
static int cli_push(const char ***arr, size_t *n, const char *s)
{
    const char **grown = realloc(*arr, (*n + 1) * sizeof **arr);

    if (grown == NULL)
        return -1;
    grown[(*n)++] = s;
    *arr = grown;
    return 0;
}

/* True when s[0, n) is a dotted Python identifier path ("a.b_c.d"). */
static int cli_is_dotted_name(const char *s, size_t n)
{
    size_t i;
    int at_start = 1;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (at_start)
                return 0;
            at_start = 1;
            continue;
        }
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (!at_start && c >= '0' && c <= '9') || (unsigned char)c >= 0x80))
            return 0;
        at_start = 0;
    }
    return !at_start;
}

/* Check what the options say together. Returns 0, or the status of a
 * usage error it printed. */
static int cli_build_check(const cli_build_args *a)
{
    const fz_options *o = &a->fz;
    int modes = !!o->script + !!o->module + !!o->entry;

    if (modes != 1)
        return cli_usage_error("build", "%s",
                               modes ? "give only one of SCRIPT, -m MODULE "
                                       "and --entry MODULE:FUNC"
                                     : "nothing to build: give SCRIPT, "
                                       "-m MODULE or --entry MODULE:FUNC");
    if (o->module && !cli_is_dotted_name(o->module, strlen(o->module)))
        return cli_usage_error("build", "-m %s: not a module name", o->module);
    if (o->entry) {
        const char *colon = strchr(o->entry, ':');

        if (colon == NULL ||
            !cli_is_dotted_name(o->entry, (size_t)(colon - o->entry)) ||
            !cli_is_dotted_name(colon + 1, strlen(colon + 1)))
            return cli_usage_error("build", "--entry %s: expected MODULE:FUNC, "
                                   "e.g. mypkg.cli:main", o->entry);
    }
    if (a->name && (a->name[0] == '\0' || strchr(a->name, '/')))
        return cli_usage_error("build", "--name %s: not a file name", a->name);
    return 0;
}

/* Parse `kiln build` arguments into a. Returns 0 to go on, or -1 to stop
 * with exit status *status: 0 after --help, CLI_EXIT_USAGE after a usage
 * error (already printed), CLI_EXIT_FAIL when out of memory. */
static int cli_build_parse(int argc, char **argv, cli_build_args *a,
                           int *status)
{
    enum { O_ENTRY = 256, O_NAME, O_HIDDEN, O_EXCLUDE, O_NOSRC, O_COMPRESS,
           O_DATA, O_STRIP, O_FORCE };
    static const struct option longopts[] = {
        {"entry", required_argument, NULL, O_ENTRY},
        {"output", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, O_NAME},
        {"hidden-import", required_argument, NULL, O_HIDDEN},
        {"exclude-module", required_argument, NULL, O_EXCLUDE},
        {"paths", required_argument, NULL, 'p'},
        {"add-data", required_argument, NULL, O_DATA},
        {"no-source", no_argument, NULL, O_NOSRC},
        {"compress", no_argument, NULL, O_COMPRESS},
        {"no-strip", no_argument, NULL, O_STRIP},
        {"onefile", no_argument, NULL, 'F'},
        {"onedir", no_argument, NULL, 'D'},
        {"force", no_argument, NULL, O_FORCE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fz_options *o = &a->fz;
    int c, oom = 0;

    memset(a, 0, sizeof *a);
    o->strip = 1;
    opterr = 0;
    optind = 1;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, ":m:o:p:vhFD", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->module = optarg; break;
        case O_ENTRY: o->entry = optarg; break;
        case 'o': a->output = optarg; break;
        case O_NAME: a->name = optarg; break;
        case O_HIDDEN: oom |= cli_push(&a->hidden, &o->n_hidden, optarg); break;
        case O_EXCLUDE:
            oom |= cli_push(&a->excludes, &o->n_excludes, optarg);
            break;
        case 'p': oom |= cli_push(&a->paths, &o->n_paths, optarg); break;
        case O_DATA:
            if (strchr(optarg, ':') == NULL) {
                cli_usage_error("build", "--add-data %s: expected SRC:DEST",
                                optarg);
                return -1;
            }
            oom |= cli_push(&a->datas, &o->n_datas, optarg);
            break;
        case O_NOSRC: o->no_source = 1; break;
        case O_COMPRESS: o->compress = 1; break;
        case O_STRIP: o->strip = 0; break;
        case 'F': a->onedir = 0; break;
        case 'D': a->onedir = 1; break;
        case O_FORCE: a->force = 1; break;
        case 'v': o->verbose = 1; break;
        case 'h':
            fputs(cli_build_usage, stdout);
            *status = CLI_EXIT_OK;
            return -1;
        case ':':
            cli_usage_error("build", "option %s needs a value",
                            argv[optind - 1]);
            return -1;
        default:
            cli_usage_error("build", "unknown option %s", argv[optind - 1]);
            return -1;
        }
        if (oom) {
            fprintf(stderr, "kiln: error: out of memory\n");
            *status = CLI_EXIT_FAIL;
            return -1;
        }
    }
    if (optind < argc)
        o->script = argv[optind++];
    if (optind < argc) {
        cli_usage_error("build", "unexpected argument %s", argv[optind]);
        return -1;
    }
    o->hidden = a->hidden;
    o->excludes = a->excludes;
    o->paths = a->paths;
    o->datas = a->datas;
    if ((*status = cli_build_check(a)) != 0)
        return -1;
    return 0;
}

/* Where to write the program: -o, or dist/NAME where NAME is --name, the
 * script's stem, or the first component of the module. The name of a
 * folder program's executable: --name, or the last component of where
 * it is written. */
static int cli_build_output(const cli_build_args *a, kl_buf *name,
                            kl_buf *out, kl_err *err)
{
    const fz_options *o = &a->fz;
    const char *src, *end;

    if (a->name) {
        src = a->name;
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
    } else {
        src = o->module ? o->module : o->entry;
        end = src + strcspn(src, ".:");
    }
    if (kl_buf_setf(name, "%.*s", (int)(end - src), src) < 0 ||
        (a->output ? kl_buf_sets(out, a->output)
                   : kl_buf_setf(out, "dist/%s", name->s)) < 0)
        return kl_err_oom(err);
    while (a->onedir && out->len > 1 && out->s[out->len - 1] == '/')
        out->s[--out->len] = '\0';
    return 0;
}

/* The paths this build reads that a replaced output must never hold: the
 * script, the application's directory, the current directory, --paths
 * and the sources of --add-data. Strings are borrowed from a, app_dir and
 * *cwd (malloc'd here; the caller frees it). */
static int cli_build_inputs(const cli_build_args *a, const char *app_dir,
                            kl_strv *inputs, kl_err *err)
{
    const fz_options *o = &a->fz;
    char *cwd = getcwd(NULL, 0);
    size_t i;
    int oom = (o->script && kl_strv_push(inputs, o->script) < 0) ||
              kl_strv_push(inputs, app_dir) < 0 ||
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

/* Write the program of plan p as the options say: one file at out, or a
 * folder program at out whose executable is called name. */
static int cli_build_emit(const cli_build_args *a, const plan *p,
                          const char *stub, const char *app_dir,
                          const char *name, const char *out, kl_err *err)
{
    kl_strv inputs = KL_STRV_INIT;
    emit_replace rep = {a->force, NULL, 0};
    int r;

    if (!a->onedir)
        return emit_onefile(p, stub, out, err);
    if (cli_build_inputs(a, app_dir, &inputs, err) < 0) {
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

/* The runtime stub that sits next to this kiln (or in ../lib/kiln/ after
 * make install). *path is a new malloc'd string. */
static int cli_build_find_stub(char **path, kl_err *err)
{
    static const char *const tries[] = {"%s/kiln-stub",
                                        "%s/../lib/kiln/kiln-stub"};
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
        if (kl_buf_setf(&b, tries[i], self) < 0)
            break;
        if (access(b.s, R_OK) == 0) {
            *path = kl_buf_detach(&b);
            free(self);
            return *path ? 0 : kl_err_oom(err);
        }
    }
    kl_err_set(err, "runtime stub not found next to kiln (%s/kiln-stub or "
                    "%s/../lib/kiln/kiln-stub); reinstall kiln", self, self);
    kl_buf_free(&b);
    free(self);
    return -1;
}

int cli_build(int argc, char **argv)
{
    cli_build_args a;
    kl_buf out = KL_BUF_INIT, name = KL_BUF_INIT;
    char *stub = NULL, *app_dir = NULL;
    fz_env *env = NULL;
    plan p;
    kl_err err;
    int status;

    if (cli_build_parse(argc, argv, &a, &status) < 0) {
        cli_build_args_free(&a);
        return status;
    }
    plan_init(&p);
    status = CLI_EXIT_FAIL;
    if (a.fz.script && access(a.fz.script, R_OK) != 0) {
        kl_err_set(&err, "%s: %s (the script to build)", a.fz.script,
                   strerror(errno));
        goto fail;
    }
    if (cli_build_output(&a, &name, &out, &err) < 0 ||
        cli_build_find_stub(&stub, &err) < 0 ||
        cli_build_app_dir(&a.fz, &app_dir, &err) < 0 ||
        fz_env_open(&a.fz, app_dir, &env, &err) < 0 ||
        fz_collect(&a.fz, env, &p, &err) < 0)
        goto fail;
    if (a.fz.verbose)
        cli_report_plan(&p);
    if (a.onedir)
        plan_place_outside(&p, CLI_ONEDIR_OUTSIDE);
    if (plan_finish(&p, &err) < 0 ||
        cli_build_emit(&a, &p, stub, app_dir, name.s, out.s, &err) < 0)
        goto fail;
    if (a.onedir)
        fprintf(stderr, "kiln: wrote %s/%s and %s/%s/\n", out.s, name.s,
                out.s, EMIT_FOLDER);
    else
        fprintf(stderr, "kiln: wrote %s\n", out.s);
    status = CLI_EXIT_OK;
    goto done;
fail:
    cli_fail(&err);
done:
    plan_free(&p);
    fz_env_close(env);
    kl_buf_free(&out);
    kl_buf_free(&name);
    free(stub);
    free(app_dir);
    cli_build_args_free(&a);
    return status;
}
