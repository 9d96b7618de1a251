/*
 * cli_build.c: `kiln build`: read the options, then run the pipeline:
 * environment and graph into a plan (src/freeze), the plan finished
 * (src/plan), the one-file program written (src/emit), the report
 * (src/report), one summary line.
 */
#include "cli.h"

#include "../emit/emit.h"
#include "../freeze/fz.h"
#include "../report/report.h"

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
    "  -o, --output PATH      where to write the program (default dist/NAME);\n"
    "                         a program kiln built there before is replaced,\n"
    "                         any other file only with --force, and never a\n"
    "                         file the build reads, a directory or a device\n"
    "  --force                replace a file at -o or --report that kiln did\n"
    "                         not write\n"
    "  --name NAME            program name (default from SCRIPT or MODULE)\n"
    "  --hidden-import M      also bundle module M (repeatable)\n"
    "  --exclude-module M     leave module M and its submodules out (repeatable)\n"
    "  -p, --paths DIR        also search DIR for modules (repeatable)\n"
    "  --add-data SRC:DEST    bundle file or directory SRC as DEST (repeatable);\n"
    "                         read it back with get_data(<program>/DEST/...)\n"
    "  --no-source            leave source code out (no source lines in tracebacks)\n"
    "  --compress             store bytecode and native code zstd-compressed\n"
    "                         (sources always are)\n"
    "  --no-strip             keep debug information and symbol tables in\n"
    "                         extension modules (by default kiln drops what\n"
    "                         the loader never reads)\n"
    "  --report FILE          write what is in the program, its sizes and why\n"
    "                         each module is in, and what was left out: JSON,\n"
    "                         or a page with a size map when FILE ends in .html\n"
    "  -q, --quiet            print errors only\n"
    "  -v, --verbose          list bundled modules and every missing import\n"
    "  -h, --help             show this help\n";

/* The parsed command line. The string arrays are malloc'd; their strings
 * are borrowed from argv. */
typedef struct cli_build_args {
    fz_options fz;
    const char *output;     /* -o PATH, or NULL for dist/NAME */
    const char *name;       /* --name, or NULL to derive one */
    const char *report;     /* --report FILE, or NULL */
    int force;              /* --force */
    int quiet;              /* -q */
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
    if (a->quiet && o->verbose)
        return cli_usage_error("build", "%s", "give only one of -q and -v");
    if (a->report && a->report[0] == '\0')
        return cli_usage_error("build", "%s", "--report needs a file name");
    return 0;
}

/* Parse `kiln build` arguments into a. Returns 0 to go on, or -1 to stop
 * with exit status *status: 0 after --help, CLI_EXIT_USAGE after a usage
 * error (already printed), CLI_EXIT_FAIL when out of memory. */
static int cli_build_parse(int argc, char **argv, cli_build_args *a,
                           int *status)
{
    enum { O_ENTRY = 256, O_NAME, O_HIDDEN, O_EXCLUDE, O_NOSRC, O_COMPRESS,
           O_DATA, O_STRIP, O_REPORT, O_FORCE };
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
        {"report", required_argument, NULL, O_REPORT},
        {"force", no_argument, NULL, O_FORCE},
        {"quiet", no_argument, NULL, 'q'},
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
    while ((c = getopt_long(argc, argv, ":m:o:p:qvh", longopts, NULL)) != -1) {
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
        case O_REPORT: a->report = optarg; break;
        case O_FORCE: a->force = 1; break;
        case 'q': a->quiet = 1; break;
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
 * script's stem, or the first component of the module. */
static int cli_build_output(const cli_build_args *a, kl_buf *out, kl_err *err)
{
    const fz_options *o = &a->fz;
    const char *src, *end;

    if (a->output)
        return kl_buf_sets(out, a->output) < 0 ? kl_err_oom(err) : 0;
    if (a->name) {
        src = a->name;
        end = src + strlen(src);
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
    if (kl_buf_setf(out, "dist/%.*s", (int)(end - src), src) < 0)
        return kl_err_oom(err);
    return 0;
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

/* Check that the program may be written at out and the report at
 * --report (cli_output_check), against the inputs known so far. */
static int cli_build_check_outputs(const cli_build_args *a, const char *out,
                                   const cli_inputs *in, kl_err *err)
{
    if (cli_output_check(a->output ? "-o" : "output", out,
                         CLI_OUTPUT_PROGRAM, a->force, in, err) < 0)
        return -1;
    if (a->report != NULL &&
        cli_output_check("--report", a->report, CLI_OUTPUT_REPORT, a->force,
                         in, err) < 0)
        return -1;
    return 0;
}

/* Write the --report of plan p, whose program is at out; the app's own
 * directories are app_dir and the --paths. */
static int cli_build_report(const cli_build_args *a, const plan *p,
                            const char *out, const char *app_dir,
                            kl_err *err)
{
    kl_strv dirs = KL_STRV_INIT;
    report_input in;
    size_t i;
    int r = 0;

    if (kl_strv_push(&dirs, app_dir) < 0)
        r = kl_err_oom(err);
    for (i = 0; r == 0 && i < a->fz.n_paths; i++) {
        char *real = realpath(a->fz.paths[i], NULL);

        if (real != NULL && kl_strv_take(&dirs, real) < 0)
            r = kl_err_oom(err);
    }
    in.plan = p;
    in.program = out;
    in.app_dirs = (const char *const *)dirs.v;
    in.n_app_dirs = dirs.n;
    in.warnings = kl_warn_count();
    if (r == 0 && report_write(&in, a->report, err) < 0)
        r = kl_err_prefix(err, "--report %s", a->report);
    kl_strv_free(&dirs);
    return r;
}

int cli_build(int argc, char **argv)
{
    cli_build_args a;
    kl_buf out = KL_BUF_INIT;
    char *stub = NULL, *app_dir = NULL;
    fz_env *env = NULL;
    cli_inputs in = {NULL, NULL, NULL};
    plan p;
    kl_err err;
    int status;

    if (cli_build_parse(argc, argv, &a, &status) < 0) {
        cli_build_args_free(&a);
        return status;
    }
    kl_msg_setup(a.quiet ? KL_QUIET : a.fz.verbose ? KL_VERBOSE : KL_NORMAL);
    plan_init(&p);
    status = CLI_EXIT_FAIL;
    if (a.fz.script && access(a.fz.script, R_OK) != 0) {
        kl_err_set(&err, "%s: %s (the script to build)", a.fz.script,
                   strerror(errno));
        goto fail;
    }
    if (cli_build_output(&a, &out, &err) < 0 ||
        cli_build_find_stub(&stub, &err) < 0)
        goto fail;
    if (a.report != NULL && cli_output_same(a.report, out.s)) {
        status = cli_usage_error("build", "--report %s: that is where the "
                                 "program goes", a.report);
        goto done;
    }
    in.script = a.fz.script;
    in.stub = stub;
    if (cli_build_check_outputs(&a, out.s, &in, &err) < 0 ||
        cli_build_app_dir(&a.fz, &app_dir, &err) < 0 ||
        fz_env_open(&a.fz, app_dir, &env, &err) < 0 ||
        fz_collect(&a.fz, env, &p, &err) < 0)
        goto fail;
    if (a.fz.verbose)
        cli_report_plan(&p);
    in.plan = &p;
    if (plan_finish(&p, &err) < 0 ||
        cli_build_check_outputs(&a, out.s, &in, &err) < 0 ||
        emit_onefile(&p, stub, out.s, &err) < 0 ||
        (a.report && cli_build_report(&a, &p, out.s, app_dir, &err) < 0))
        goto fail;
    cli_report_summary(&p, out.s, a.report);
    status = CLI_EXIT_OK;
    goto done;
fail:
    cli_fail(&err);
done:
    plan_free(&p);
    fz_env_close(env);
    kl_buf_free(&out);
    free(stub);
    free(app_dir);
    cli_build_args_free(&a);
    return status;
}
