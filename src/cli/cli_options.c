/*
 * cli_options.c: the options of `kiln build`, in one table that serves the
 * command line (getopt), the --help text and the [tool.kiln] table of a
 * pyproject.toml (every option under its long name; flags win over it),
 * and the checks of what the options say together.
 */
#include "cli.h"

#include "../freeze/fz_names.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_OFF(field) offsetof(cli_build_args, field)

#ifdef KILN_EXT_SUFFIX
#define KILN_EXT_SUFFIX_HELP KILN_EXT_SUFFIX
#else
#define KILN_EXT_SUFFIX_HELP "the host's EXT_SUFFIX"
#endif

/* Every option. `off` is where its value goes in cli_build_args: an int
 * (flag), a const char * (value) or a cli_list (list). */
static const cli_opt cli_opts[] = {
    {"module", 'm', CLI_VALUE, CLI_OFF(module), "MODULE",
     "run MODULE (or MODULE.__main__) like `python -m`"},
    {"entry", 0, CLI_VALUE, CLI_OFF(entry), "MODULE:FUNC",
     "call FUNC; its return value is the exit status"},
    {"interpreter", 0, CLI_FLAG, CLI_OFF(interpreter), NULL,
     "build a program that behaves like `python` over\n"
     "what it carries: -c, -m, SCRIPT, - and the REPL,\n"
     "with python's flags (name what it carries with\n"
     "--hidden-import and --collect; default name python)"},
    {"script", 0, CLI_VALUE, CLI_OFF(script_name), "NAME",
     "in a project: build only its script NAME"},
    {"onefile", 'F', CLI_FLAG, CLI_OFF(onefile), NULL,
     "write one executable file (the default)"},
    {"onedir", 'D', CLI_FLAG, CLI_OFF(onedir), NULL,
     "write a folder: the executable NAME and, next to\n"
     "it in _internal/, extension modules, shared\n"
     "libraries and data files as real files (the\n"
     "executable indexes them and keeps the bytecode)"},
    {"target", 0, CLI_VALUE, CLI_OFF(target), "KIND",
     "what to write: program (the default) or extension:\n"
     "a Python extension module NAME<suffix> that a host\n"
     "Python of this version imports, its namespace the\n"
     "script's (or -m MODULE's), its dependencies served\n"
     "from its own file (docs/extension.md)"},
    {"suffix", 0, CLI_VALUE, CLI_OFF(suffix), "SUFFIX",
     "with --target extension: the file name's ending\n"
     "(default the embedded Python's, " KILN_EXT_SUFFIX_HELP ";\n"
     "--suffix .so for a plain NAME.so)"},
    {"dependencies", 0, CLI_VALUE, CLI_OFF(dependencies), "WHOSE",
     "with --target extension: bundled (the default: the\n"
     "module's own code imports what it carries, the\n"
     "host's imports are left alone) or host (the host's\n"
     "modules first, what it carries after them)"},
    {"output", 'o', CLI_VALUE, CLI_OFF(output), "PATH",
     "where to write the program, or with --onedir the\n"
     "folder (default dist/NAME)"},
    {"force", 0, CLI_FLAG, CLI_OFF(force), NULL,
     "replace whatever is at the output path (never a\n"
     "file or directory the build reads); without it,\n"
     "only a program kiln wrote is replaced"},
    {"name", 0, CLI_VALUE, CLI_OFF(name), "NAME",
     "program name (default: SCRIPT's stem, MODULE's\n"
     "first part, or the project script's name; with\n"
     "--onedir and -o, the folder's name)"},
    {"venv", 0, CLI_VALUE, CLI_OFF(venv), "DIR",
     "collect packages from this virtual environment\n"
     "(default: the active VIRTUAL_ENV, else the\n"
     "embedded Python's own site-packages)"},
    {"python", 0, CLI_VALUE, CLI_OFF(python), "PATH",
     "collect packages from this interpreter's environment"},
    {"requirements", 'r', CLI_LIST, CLI_OFF(requirements), "FILE",
     "pip-install FILE's requirements for this build\n"
     "(repeatable)"},
    {"pip", 0, CLI_LIST, CLI_OFF(pips), "ARG",
     "pass ARG to `pip install` for this build (repeatable;\n"
     "--pip=--pre for options)"},
    {"hidden-import", 0, CLI_LIST, CLI_OFF(hidden), "M",
     "also bundle module M (repeatable)"},
    {"exclude-module", 0, CLI_LIST, CLI_OFF(excludes), "M",
     "leave module M and its submodules out (repeatable)"},
    {"collect", 0, CLI_LIST, CLI_OFF(collect), "PKG",
     "bundle package PKG with all its submodules and\n"
     "package data, imported or not (repeatable)"},
    {"collect-data", 0, CLI_LIST, CLI_OFF(collect_data), "PKG",
     "bundle the package data of PKG and all its\n"
     "subpackages, imported or not (repeatable)"},
    {"files", 0, CLI_LIST, CLI_OFF(files), "PKG",
     "give package PKG real files at run time (a one-file\n"
     "program writes them once to a per-user cache): for\n"
     "code that hands their paths to native code or to\n"
     "other programs (repeatable)"},
    {"system-lib", 0, CLI_LIST, CLI_OFF(system_libs), "NAME",
     "leave shared library NAME (a name like libfoo.so.1,\n"
     "or a pattern: 'libGL*') to the machine the program\n"
     "runs on, like the base-system libraries\n"
     "(docs/native.md) (repeatable)"},
    {"bundle-lib", 0, CLI_LIST, CLI_OFF(bundle_libs), "NAME",
     "bundle shared library NAME (or pattern) even though\n"
     "it is on the base-system list (repeatable)"},
    {"runtime-path", 0, CLI_LIST, CLI_OFF(runtime_paths), "DIR",
     "at run time, also import modules from directory DIR\n"
     "on disk, after the bundle; $ORIGIN is the program's\n"
     "directory ('$ORIGIN/plugins'); sys.path changes then\n"
     "work as in python (repeatable; default: nothing is\n"
     "looked up on disk)"},
    {"optimize", 'O', CLI_OPTIONAL, CLI_OFF(optimize), "LEVEL",
     "run as `python -O` (-O, --optimize, optimize = 1)\n"
     "or `python -OO` (-OO, --optimize=2): bytecode\n"
     "compiled without asserts (and docstrings at 2),\n"
     "sys.flags.optimize set"},
    {"unbuffered", 'u', CLI_FLAG, CLI_OFF(unbuffered), NULL,
     "run as `python -u`: stdout and stderr unbuffered"},
    {"warnings", 'W', CLI_LIST, CLI_OFF(warnings), "SPEC",
     "run as `python -W SPEC`: a warning filter,\n"
     "action:message:category:module:lineno (repeatable)"},
    {"xoption", 'X', CLI_LIST, CLI_OFF(xoptions), "OPT",
     "run as `python -X OPT` (utf8, dev, faulthandler,\n"
     "importtime, int_max_str_digits=N, ...; repeatable)"},
    {"hash-seed", 0, CLI_NUMBER, CLI_OFF(hash_seed), "N",
     "fix the str hash seed as PYTHONHASHSEED=N does\n"
     "(0 to 4294967295; default random)"},
    {"python-env", 0, CLI_FLAG, CLI_OFF(python_env), NULL,
     "honour PYTHON* environment variables at run time\n"
     "(PYTHONWARNINGS, PYTHONUTF8, PYTHONHASHSEED, ...);\n"
     "by default the program ignores them"},
    {"meipass", 0, CLI_FLAG, CLI_OFF(meipass), NULL,
     "set sys._MEIPASS, as PyInstaller does, to where\n"
     "the program's files are (the program itself, or\n"
     "a folder program's folder)"},
    {"runtime-hook", 0, CLI_LIST, CLI_OFF(runtime_hooks), "FILE",
     "run Python file FILE before the app, in every\n"
     "process of it (multiprocessing children too), as\n"
     "PyInstaller's run-time hooks; its imports are\n"
     "bundled (repeatable; they run in order)"},
    {"keep-only", 0, CLI_VALUE, CLI_OFF(keep_only), "FILE",
     "leave out every module FILE does not name (one a\n"
     "line, as a run with KILN_TRACE_IMPORTS=FILE writes\n"
     "them), except what start-up needs; data files stay"},
    {"full-finalize", 0, CLI_FLAG, CLI_OFF(full_finalize), NULL,
     "end the program through CPython's full teardown\n"
     "(objects' __del__ run at exit), not the quicker exit\n"
     "that only does what python's exit shows"},
    {"paths", 'p', CLI_LIST, CLI_OFF(paths), "DIR",
     "also search DIR for modules (repeatable)"},
    {"add-data", 0, CLI_LIST, CLI_OFF(datas), "SRC:DEST",
     "bundle file or directory SRC as DEST (repeatable);\n"
     "read it back with get_data(<program>/DEST/...),\n"
     "or with --onedir open <folder>/_internal/DEST"},
    {"no-source", 0, CLI_FLAG, CLI_OFF(no_source), NULL,
     "leave source code out (no source lines in tracebacks)"},
    {"compress", 0, CLI_FLAG, CLI_OFF(compress), NULL,
     "store bytecode and native code zstd-compressed\n"
     "(sources and data files always are)"},
    {"no-strip", 0, CLI_FLAG, CLI_OFF(no_strip), NULL,
     "keep debug information and symbol tables in\n"
     "extension modules (by default kiln drops what\n"
     "the loader never reads)"},
    {"report", 0, CLI_VALUE, CLI_OFF(report), "FILE",
     "write what is in the program, its sizes and why\n"
     "each module is in, and what was left out: JSON,\n"
     "or a page with a size map when FILE ends in .html"},
    {"verbose", 'v', CLI_FLAG, CLI_OFF(verbose), NULL,
     "list what is bundled and why, what is left out\n"
     "and why, and every missing import"},
    {"quiet", 'q', CLI_FLAG, CLI_OFF(quiet), NULL, "print errors only"},
    {"help", 'h', CLI_FLAG, CLI_OFF(help), NULL, "show this help"},
};

#define CLI_N_OPTS (sizeof cli_opts / sizeof cli_opts[0])

_Static_assert(CLI_N_OPTS <= CLI_MAX_OPTS, "raise CLI_MAX_OPTS");

static const char cli_build_intro[] =
    "usage: kiln build [SCRIPT | -m MODULE | --entry MODULE:FUNC |\n"
    "                   --interpreter] [options]\n"
    "       kiln build [options]    (in a project: one program per\n"
    "                                [project.scripts] entry)\n"
    "\n"
    "Build one executable that carries CPython, the application and every\n"
    "module it imports, loaded from memory at run time.\n"
    "\n"
    "  SCRIPT                 run this file as __main__, like `python SCRIPT`\n";

static const char cli_build_outro[] =
    "\n"
    "Every option but --help can also be set in pyproject.toml under\n"
    "[tool.kiln], by its long name (docs/config.md).\n";

/* Print the --help text, generated from the table. */
static void cli_options_help(void)
{
    kl_buf left = KL_BUF_INIT;
    const char *name;
    size_t i;

    fputs(cli_build_intro, stdout);
    for (i = 0; i < CLI_N_OPTS; i++) {
        const cli_opt *o = &cli_opts[i];
        const char *h = o->help;

        kl_buf_setf(&left, "%s%c%s--%s%s%s", o->letter ? "-" : "",
                    o->letter ? o->letter : ' ', o->letter ? ", " : "",
                    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (left.s == NULL)
            break;
        name = o->letter ? left.s : left.s + 1;
        if (strlen(name) > 22) {
            printf("  %s\n", name);
            name = "";
        }
        printf("  %-22s %.*s\n", name, (int)strcspn(h, "\n"), h);
        while ((h = strchr(h, '\n')) != NULL) {
            h++;
            printf("  %-22s %.*s\n", "", (int)strcspn(h, "\n"), h);
        }
    }
    fputs(cli_build_outro, stdout);
    kl_buf_free(&left);
}

int cli_list_add(cli_list *l, const char *s)
{
    const char **grown = realloc(l->v, (l->n + 1) * sizeof *grown);

    if (grown == NULL)
        return -1;
    grown[l->n++] = s;
    l->v = grown;
    return 0;
}

void cli_build_args_free(cli_build_args *a)
{
    size_t i;

    for (i = 0; i < CLI_N_OPTS; i++)
        if (cli_opts[i].kind == CLI_LIST)
            free(((cli_list *)((char *)a + cli_opts[i].off))->v);
}

/* True (after a usage error) when arg, left over after the options, is
 * the number an option of optional value was meant to take but did not,
 * the value being detached (`--optimize 2`): such an option takes it
 * attached (`--optimize=2`, `-OO`). A file of that name is a script. */
static int cli_options_detached(const cli_build_args *a, const char *arg)
{
    size_t i;

    if (arg[0] == '\0' || arg[strspn(arg, "0123456789")] != '\0' ||
        kl_is_file(arg))
        return 0;
    for (i = 0; i < CLI_N_OPTS; i++) {
        const cli_opt *o = &cli_opts[i];
        const char *v;

        if (o->kind != CLI_OPTIONAL || !a->given[i])
            continue;
        v = *(const char *const *)((const char *)a + o->off);
        if (v != NULL && v[0] == '\0') {
            fprintf(stderr, "kiln: error: --%s takes its value attached: "
                            "--%s=%s (%s was read as another argument; see "
                            "kiln build --help)\n", o->name, o->name, arg,
                    arg);
            return 1;
        }
    }
    return 0;
}

/* Store value (NULL for a flag) for option o into a. -1 when out of
 * memory. */
static int cli_options_set(cli_build_args *a, const cli_opt *o,
                           const char *value)
{
    char *field = (char *)a + o->off;

    switch (o->kind) {
    case CLI_FLAG:
        *(int *)field = 1;
        return 0;
    case CLI_VALUE:
    case CLI_NUMBER:
        *(const char **)field = value;
        return 0;
    case CLI_LIST:
        return cli_list_add((cli_list *)field, value);
    case CLI_OPTIONAL:
        *(const char **)field = value ? value : "";
        return 0;
    }
    return 0;
}

int cli_options_parse(int argc, char **argv, cli_build_args *a, int *status)
{
    struct option longopts[CLI_N_OPTS + 1];
    char shorts[2 + 3 * CLI_N_OPTS + 1];
    size_t i, ns = 0;
    int c, idx;

    memset(a, 0, sizeof *a);
    memset(longopts, 0, sizeof longopts);
    shorts[ns++] = ':';
    for (i = 0; i < CLI_N_OPTS; i++) {
        longopts[i].name = cli_opts[i].name;
        longopts[i].has_arg = cli_opts[i].kind == CLI_FLAG ? no_argument
                              : cli_opts[i].kind == CLI_OPTIONAL
                                  ? optional_argument
                                  : required_argument;
        longopts[i].val = 256 + (int)i;
        if (cli_opts[i].letter) {
            shorts[ns++] = (char)cli_opts[i].letter;
            if (cli_opts[i].kind != CLI_FLAG)
                shorts[ns++] = ':';
            if (cli_opts[i].kind == CLI_OPTIONAL)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    opterr = 0;
    optind = 1;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, shorts, longopts, &idx)) != -1) {
        const cli_opt *o = NULL;

        if (c >= 256 && c < 256 + (int)CLI_N_OPTS)
            o = &cli_opts[c - 256];
        for (i = 0; o == NULL && c < 256 && i < CLI_N_OPTS; i++)
            if (cli_opts[i].letter == c)
                o = &cli_opts[i];
        if (c == ':') {
            cli_usage_error("build", "option %s needs a value",
                            argv[optind - 1]);
            return -1;
        }
        if (o == NULL) {
            cli_usage_error("build", "unknown option %s", argv[optind - 1]);
            return -1;
        }
        if (cli_options_set(a, o, optarg) < 0) {
            fprintf(stderr, "kiln: error: out of memory\n");
            *status = CLI_EXIT_FAIL;
            return -1;
        }
        a->given[o - cli_opts] = 1;
    }
    if (a->help) {
        cli_options_help();
        *status = CLI_EXIT_OK;
        return -1;
    }
    for (c = optind; c < argc; c++)
        if (cli_options_detached(a, argv[c]))
            return -1;
    if (optind < argc)
        a->script = argv[optind++];
    if (optind < argc) {
        cli_usage_error("build", "unexpected argument %s", argv[optind]);
        return -1;
    }
    return 0;
}

/* The long names of the options [tool.kiln] accepts, ", "-separated. */
static int cli_options_keys(kl_buf *b)
{
    size_t i;

    for (i = 0; i < CLI_N_OPTS; i++) {
        if (cli_opts[i].off == CLI_OFF(help))
            continue;
        if ((b->len && kl_buf_adds(b, ", ") < 0) ||
            kl_buf_adds(b, cli_opts[i].name) < 0)
            return -1;
    }
    return 0;
}

/* Check one [tool.kiln] setting against its option o and store it in a
 * unless the command line gave o. Strings are borrowed from s. */
static int cli_options_apply(cli_build_args *a, const cli_opt *o,
                             const fz_setting *s, const char *path,
                             kl_err *err)
{
    static const char *const want[] = {
        [CLI_FLAG] = "true or false", [CLI_VALUE] = "a string",
        [CLI_LIST] = "a list of strings", [CLI_NUMBER] = "a number",
        [CLI_OPTIONAL] = "a number",
    };
    static const enum fz_setting_type types[] = {
        [CLI_FLAG] = FZ_SETTING_BOOL, [CLI_VALUE] = FZ_SETTING_STR,
        [CLI_LIST] = FZ_SETTING_LIST, [CLI_NUMBER] = FZ_SETTING_INT,
        [CLI_OPTIONAL] = FZ_SETTING_INT,
    };
    size_t i;

    if (s->type != types[o->kind] &&
        !(o->kind == CLI_NUMBER && s->type == FZ_SETTING_STR))
        return kl_err_set(err, "%s:%d: [tool.kiln] %s must be %s, not %s",
                          path, s->line, s->key, want[o->kind],
                          s->type == FZ_SETTING_BOOL ? "a boolean"
                          : s->type == FZ_SETTING_STR ? "a string"
                          : s->type == FZ_SETTING_INT ? "a number"
                          : s->type == FZ_SETTING_LIST
                              ? "a list"
                              : s->type_name ? s->type_name : "that");
    if (a->given[o - cli_opts])
        return 0;
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)((char *)a + o->off) = s->flag;
        return 0;
    case CLI_VALUE:
    case CLI_NUMBER:
    case CLI_OPTIONAL:
        return cli_options_set(a, o, s->str) < 0 ? kl_err_oom(err) : 0;
    case CLI_LIST:
        for (i = 0; i < s->list.n; i++)
            if (cli_options_set(a, o, s->list.v[i]) < 0)
                return kl_err_oom(err);
        return 0;
    }
    return 0;
}

int cli_options_from_project(cli_build_args *a, const fz_project *proj,
                             const char *path, kl_err *err)
{
    size_t i, k;

    for (i = 0; i < proj->n_settings; i++) {
        const fz_setting *s = &proj->settings[i];
        const cli_opt *o = NULL;

        for (k = 0; k < CLI_N_OPTS && o == NULL; k++)
            if (strcmp(cli_opts[k].name, s->key) == 0 &&
                cli_opts[k].off != CLI_OFF(help))
                o = &cli_opts[k];
        if (o == NULL) {
            kl_buf keys = KL_BUF_INIT;

            if (cli_options_keys(&keys) < 0)
                return kl_err_oom(err);
            kl_err_set(err, "%s:%d: [tool.kiln] has no key '%s'; the keys "
                       "are %s", path, s->line, s->key, keys.s);
            kl_buf_free(&keys);
            return -1;
        }
        if (cli_options_apply(a, o, s, path, err) < 0)
            return -1;
    }
    return 0;
}

/* The optimization level -O VALUE gives: -O alone (""), -OO ("O"),
 * --optimize=N; -1 for anything else. */
static int cli_options_optimize(const char *value)
{
    if (value == NULL)
        return 0;
    if (value[0] == '\0')
        return 1;
    if (strcmp(value, "O") == 0)
        return 2;
    if (value[0] >= '0' && value[0] <= '2' && value[1] == '\0')
        return value[0] - '0';
    return -1;
}

void cli_options_to_fz(cli_build_args *a)
{
    fz_options *o = &a->fz;

    o->script = a->script;
    o->module = a->module;
    o->entry = a->entry;
    o->interpreter = a->interpreter;
    o->hidden = a->hidden.v;
    o->n_hidden = a->hidden.n;
    o->excludes = a->excludes.v;
    o->n_excludes = a->excludes.n;
    o->collect = a->collect.v;
    o->n_collect = a->collect.n;
    o->collect_data = a->collect_data.v;
    o->n_collect_data = a->collect_data.n;
    o->files = a->files.v;
    o->n_files = a->files.n;
    o->system_libs = a->system_libs.v;
    o->n_system_libs = a->system_libs.n;
    o->bundle_libs = a->bundle_libs.v;
    o->n_bundle_libs = a->bundle_libs.n;
    o->runtime_paths = a->runtime_paths.v;
    o->n_runtime_paths = a->runtime_paths.n;
    o->optimize = cli_options_optimize(a->optimize);
    o->unbuffered = a->unbuffered;
    o->warnings = a->warnings.v;
    o->n_warnings = a->warnings.n;
    o->xoptions = a->xoptions.v;
    o->n_xoptions = a->xoptions.n;
    o->hash_seed = a->hash_seed;
    o->python_env = a->python_env;
    o->meipass = a->meipass;
    o->full_finalize = a->full_finalize;
    o->runtime_hooks = a->runtime_hooks.v;
    o->n_runtime_hooks = a->runtime_hooks.n;
    o->keep_only = a->keep_only;
    o->paths = a->paths.v;
    o->n_paths = a->paths.n;
    o->datas = a->datas.v;
    o->n_datas = a->datas.n;
    o->requirements = a->requirements.v;
    o->n_requirements = a->requirements.n;
    o->pips = a->pips.v;
    o->n_pips = a->pips.n;
    o->no_source = a->no_source;
    o->compress = a->compress;
    o->strip = !a->no_strip;
    o->verbose = a->verbose;
    o->quiet = a->quiet;
    o->venv = a->venv;
    o->python = a->python;
    a->extension = a->target != NULL && strcmp(a->target, "extension") == 0;
    o->extension = a->extension;
    o->deps_host = a->dependencies != NULL &&
                   strcmp(a->dependencies, "host") == 0;
    if (a->onefile)
        a->onedir = 0;
}

int cli_options_check(const cli_build_args *a, const fz_options *o)
{
    size_t i;
    int modes = !!o->script + !!o->module + !!o->entry + !!o->interpreter;

    if (modes != 1)
        return cli_usage_error("build", "%s",
                               modes ? "give only one of SCRIPT, -m MODULE, "
                                       "--entry MODULE:FUNC and --interpreter "
                                       "(an interpreter runs what its command "
                                       "line names, like python)"
                                     : "nothing to build: give SCRIPT, "
                                       "-m MODULE, --entry MODULE:FUNC or "
                                       "--interpreter");
    if (o->module && !fz_name_is_dotted(o->module, strlen(o->module)))
        return cli_usage_error("build", "-m %s: not a module name", o->module);
    if (o->entry) {
        const char *colon = strchr(o->entry, ':');

        if (colon == NULL ||
            !fz_name_is_dotted(o->entry, (size_t)(colon - o->entry)) ||
            !fz_name_is_dotted(colon + 1, strlen(colon + 1)))
            return cli_usage_error("build", "--entry %s: expected MODULE:FUNC, "
                                   "e.g. mypkg.cli:main", o->entry);
    }
    for (i = 0; i < o->n_datas; i++)
        if (strchr(o->datas[i], ':') == NULL)
            return cli_usage_error("build", "--add-data %s: expected SRC:DEST",
                                   o->datas[i]);
    for (i = 0; i < o->n_collect; i++)
        if (!fz_name_is_dotted(o->collect[i], strlen(o->collect[i])))
            return cli_usage_error("build", "--collect %s: not a package name",
                                   o->collect[i]);
    for (i = 0; i < o->n_collect_data; i++)
        if (!fz_name_is_dotted(o->collect_data[i],
                                strlen(o->collect_data[i])))
            return cli_usage_error("build", "--collect-data %s: not a package "
                                   "name", o->collect_data[i]);
    for (i = 0; i < o->n_runtime_paths; i++)
        if (o->runtime_paths[i][0] == '\0' ||
            strchr(o->runtime_paths[i], ':') != NULL)
            return cli_usage_error("build", "--runtime-path '%s': not a "
                                   "directory name (empty, or with ':')",
                                   o->runtime_paths[i]);
    for (i = 0; i < o->n_files; i++)
        if (!fz_name_is_dotted(o->files[i], strlen(o->files[i])))
            return cli_usage_error("build", "--files %s: not a package name",
                                   o->files[i]);
    if (a->optimize != NULL && o->optimize < 0)
        return cli_usage_error("build", "-O%s: the optimization level is 0, "
                               "1 or 2 (-O, -OO, --optimize=N)",
                               a->optimize);
    if (a->name && (a->name[0] == '\0' || strchr(a->name, '/')))
        return cli_usage_error("build", "--name %s: not a file name", a->name);
    if (a->target && strcmp(a->target, "program") != 0 && !a->extension)
        return cli_usage_error("build", "--target %s: the targets are program "
                               "and extension", a->target);
    if (!a->extension && (a->suffix || a->dependencies))
        return cli_usage_error("build", "%s only applies with --target "
                               "extension", a->suffix ? "--suffix"
                                                      : "--dependencies");
    if (a->dependencies && strcmp(a->dependencies, "bundled") != 0 &&
        strcmp(a->dependencies, "host") != 0)
        return cli_usage_error("build", "--dependencies %s: it is bundled or "
                               "host", a->dependencies);
    if (a->suffix && (strchr(a->suffix, '/') || a->suffix[0] != '.' ||
                      strlen(a->suffix) < 3 ||
                      strcmp(a->suffix + strlen(a->suffix) - 3, ".so") != 0))
        return cli_usage_error("build", "--suffix %s: an extension module's "
                               "file name ends in .so (e.g. .so, .abi3.so "
                               "or " KILN_EXT_SUFFIX ")", a->suffix);
    if (a->extension) {
        const char *no = a->onedir ? "--onedir"
                         : o->interpreter ? "--interpreter"
                         : o->entry ? "--entry"
                         : o->n_runtime_paths ? "--runtime-path"
                         : o->n_runtime_hooks ? "--runtime-hook"
                         : o->n_warnings ? "-W"
                         : o->n_xoptions ? "-X"
                         : o->unbuffered ? "-u"
                         : a->hash_seed ? "--hash-seed"
                         : o->python_env ? "--python-env"
                         : o->meipass ? "--meipass"
                         : o->full_finalize ? "--full-finalize"
                         : a->optimize ? "-O"
                         : NULL;

        if (no)
            return cli_usage_error("build", "%s does not apply to an "
                                   "extension module, which runs in its "
                                   "host's interpreter as that is set up",
                                   no);
        if (o->module && strchr(o->module, '.') != NULL)
            return cli_usage_error("build", "-m %s: an extension module is "
                                   "built from a top-level module or "
                                   "package (its submodules come along)",
                                   o->module);
        if (o->module && a->name && strcmp(a->name, o->module) != 0)
            return cli_usage_error("build", "--name %s: an extension module "
                                   "built from -m MODULE has MODULE's name "
                                   "(its submodules' names start with it)",
                                   a->name);
    }
    if (a->quiet && a->verbose)
        return cli_usage_error("build", "%s", "give only one of -q and -v");
    if (a->report && a->report[0] == '\0')
        return cli_usage_error("build", "%s", "--report needs a file name");
    if (a->keep_only && a->keep_only[0] == '\0')
        return cli_usage_error("build", "%s", "--keep-only needs a file name");
    for (i = 0; i < o->n_runtime_hooks; i++)
        if (o->runtime_hooks[i][0] == '\0')
            return cli_usage_error("build", "%s",
                                   "--runtime-hook needs a file name");
    return 0;
}
