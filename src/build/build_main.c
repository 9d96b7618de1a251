/*
 * build_main.c: the `kiln` command line: build, inspect, --version, --help.
 */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char build_usage[] =
    "usage: kiln build [SCRIPT | -m MODULE | --entry MODULE:FUNC] [options]\n"
    "\n"
    "Build one executable that carries CPython, the application and every\n"
    "module it imports, loaded from memory at run time.\n"
    "\n"
    "  SCRIPT                 run this file as __main__, like `python SCRIPT`\n"
    "  -m MODULE              run MODULE (or MODULE.__main__) like `python -m`\n"
    "  --entry MODULE:FUNC    call FUNC; its return value is the exit status\n"
    "  -o, --output PATH      where to write the program (default dist/NAME)\n"
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
    "  -v, --verbose          list bundled modules and every missing import\n"
    "  -h, --help             show this help\n";

static const char inspect_usage[] =
    "usage: kiln inspect PROGRAM [--verify]\n"
    "\n"
    "List the entries of a program built by kiln: kind, stored size, original\n"
    "size and name.\n"
    "\n"
    "  --verify     check the bundle's checksums; exit 1 if it is damaged\n"
    "  -h, --help   show this help\n";

static const char main_usage[] =
    "usage: kiln COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  build      build an executable from a Python application\n"
    "  inspect    list or verify the contents of a built program\n"
    "\n"
    "  kiln --version     versions of kiln and of the embedded Python\n"
    "  kiln COMMAND --help\n";

/* Print "kiln: error: msg" and return BUILD_EXIT_FAIL. */
static int build_fail(const kl_err *err)
{
    fprintf(stderr, "kiln: error: %s\n", err->msg);
    return BUILD_EXIT_FAIL;
}

/* Print a one-line usage error naming the help to read; returns
 * BUILD_EXIT_USAGE. `usage` is the command's help text. */
static int build_usage_error(const char *usage, const char *fmt, const char *arg)
{
    const char *cmd = usage == inspect_usage ? "inspect" : "build";

    fprintf(stderr, "kiln: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see kiln %s --help)\n", cmd);
    return BUILD_EXIT_USAGE;
}

/* Append s to the growing array *arr of *n strings (not copied). */
static int build_push_arg(const char ***arr, size_t *n, const char *s)
{
    const char **grown = realloc(*arr, (*n + 1) * sizeof **arr);

    if (grown == NULL)
        return -1;
    grown[(*n)++] = s;
    *arr = grown;
    return 0;
}

/* True when s is a dotted Python identifier path ("a.b_c.d"). */
static int build_is_dotted_name(const char *s, size_t n)
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

/* Parse `kiln build` arguments into opt. Returns 0, or an exit status. */
static int build_parse(int argc, char **argv, build_options *opt)
{
    enum { O_ENTRY = 256, O_NAME, O_HIDDEN, O_EXCLUDE, O_NOSRC, O_COMPRESS,
           O_DATA, O_STRIP };
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
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, modes;

    memset(opt, 0, sizeof *opt);
    opt->strip = 1;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:o:p:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': opt->module = optarg; break;
        case O_ENTRY: opt->entry = optarg; break;
        case 'o': opt->output = optarg; break;
        case O_NAME: opt->name = optarg; break;
        case O_HIDDEN:
            if (build_push_arg(&opt->hidden, &opt->n_hidden, optarg) < 0)
                return BUILD_EXIT_FAIL;
            break;
        case O_EXCLUDE:
            if (build_push_arg(&opt->excludes, &opt->n_excludes, optarg) < 0)
                return BUILD_EXIT_FAIL;
            break;
        case 'p':
            if (build_push_arg(&opt->paths, &opt->n_paths, optarg) < 0)
                return BUILD_EXIT_FAIL;
            break;
        case O_DATA:
            if (strchr(optarg, ':') == NULL)
                return build_usage_error(build_usage, "--add-data %s: expected "
                                         "SRC:DEST", optarg);
            if (build_push_arg(&opt->datas, &opt->n_datas, optarg) < 0)
                return BUILD_EXIT_FAIL;
            break;
        case O_NOSRC: opt->no_source = 1; break;
        case O_COMPRESS: opt->compress = 1; break;
        case O_STRIP: opt->strip = 0; break;
        case 'v': opt->verbose = 1; break;
        case 'h': fputs(build_usage, stdout); return -1;
        case ':':
            return build_usage_error(build_usage, "option %s needs a value",
                                     argv[optind - 1]);
        default:
            return build_usage_error(build_usage, "unknown option %s",
                                     argv[optind - 1]);
        }
    }
    if (optind < argc)
        opt->script = argv[optind++];
    if (optind < argc)
        return build_usage_error(build_usage, "unexpected argument %s",
                                 argv[optind]);
    modes = !!opt->script + !!opt->module + !!opt->entry;
    if (modes != 1)
        return build_usage_error(build_usage, "%s",
                                 modes ? "give only one of SCRIPT, -m MODULE "
                                         "and --entry MODULE:FUNC"
                                       : "nothing to build: give SCRIPT, "
                                         "-m MODULE or --entry MODULE:FUNC");
    if (opt->module && !build_is_dotted_name(opt->module, strlen(opt->module)))
        return build_usage_error(build_usage, "-m %s: not a module name",
                                 opt->module);
    if (opt->entry) {
        const char *colon = strchr(opt->entry, ':');

        if (colon == NULL ||
            !build_is_dotted_name(opt->entry, (size_t)(colon - opt->entry)) ||
            !build_is_dotted_name(colon + 1, strlen(colon + 1)))
            return build_usage_error(build_usage,
                                     "--entry %s: expected MODULE:FUNC, "
                                     "e.g. mypkg.cli:main", opt->entry);
    }
    if (opt->name && (opt->name[0] == '\0' || strchr(opt->name, '/')))
        return build_usage_error(build_usage, "--name %s: not a file name",
                                 opt->name);
    return 0;
}

/* The default program name: script stem, or first module component. */
static void build_default_name(const build_options *opt, char *out, size_t n)
{
    const char *src, *end;

    if (opt->name) {
        snprintf(out, n, "%s", opt->name);
        return;
    }
    if (opt->script) {
        src = strrchr(opt->script, '/');
        src = src ? src + 1 : opt->script;
        end = strrchr(src, '.');
        if (end == NULL || end == src)
            end = src + strlen(src);
    } else {
        src = opt->module ? opt->module : opt->entry;
        end = src + strcspn(src, ".:");
    }
    snprintf(out, n, "%.*s", (int)(end - src), src);
}

/* Absolute directory of the application: the script's, or the cwd. */
static int build_app_dir(const build_options *opt, char *out, kl_err *err)
{
    char tmp[PATH_MAX];
    char *slash;

    if (opt->script == NULL) {
        if (getcwd(out, PATH_MAX) == NULL)
            return kl_err_set(err, "cannot read the current directory: %s",
                              strerror(errno));
        return 0;
    }
    if (realpath(opt->script, tmp) == NULL)
        return kl_err_set(err, "%s: %s (the script to build)", opt->script,
                          strerror(errno));
    slash = strrchr(tmp, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(out, PATH_MAX, "%s", tmp[0] ? tmp : "/");
    return 0;
}

/* Put the modules the run mode starts from into the graph and tell the
 * writer how the program starts. */
static int build_add_main(build_graph *g, const build_options *opt,
                          bundle_writer *w, kl_err *err)
{
    char mod[512];

    if (opt->script) {
        if (build_graph_add_script(g, opt->script, err) < 0)
            return -1;
        return bundle_writer_set_run(w, BUNDLE_RUN_SCRIPT, "", PY_VERSION_HEX,
                                     err);
    }
    if (opt->module) {
        if (build_graph_require(g, opt->module, err) < 0)
            return -1;
        if (build_graph_is_package(g, opt->module)) {
            snprintf(mod, sizeof mod, "%s.__main__", opt->module);
            if (build_graph_require(g, mod, err) < 0)
                return kl_err_prefix(err, "-m %s is a package without "
                                          "__main__.py", opt->module);
        }
        return bundle_writer_set_run(w, BUNDLE_RUN_MODULE, opt->module,
                                     PY_VERSION_HEX, err);
    }
    snprintf(mod, sizeof mod, "%.*s", (int)strcspn(opt->entry, ":"), opt->entry);
    if (build_graph_require(g, mod, err) < 0)
        return -1;
    return bundle_writer_set_run(w, BUNDLE_RUN_ENTRY, opt->entry,
                                 PY_VERSION_HEX, err);
}

int build_cmd_build(int argc, char **argv)
{
    build_options opt;
    char stub[PATH_MAX], app_dir[PATH_MAX], name[256], out[PATH_MAX + 300];
    build_graph *g = NULL;
    bundle_writer *w = NULL;
    kl_err err;
    int status = BUILD_EXIT_FAIL, r;
    size_t i;

    r = build_parse(argc, argv, &opt);
    if (r != 0)
        return r < 0 ? BUILD_EXIT_OK : r;
    if (opt.script && access(opt.script, R_OK) != 0) {
        kl_err_set(&err, "%s: %s (the script to build)", opt.script,
                   strerror(errno));
        goto fail;
    }
    build_default_name(&opt, name, sizeof name);
    if (opt.output)
        snprintf(out, sizeof out, "%s", opt.output);
    else
        snprintf(out, sizeof out, "dist/%s", name);
    if (build_find_stub(stub, sizeof stub, &err) < 0 ||
        build_app_dir(&opt, app_dir, &err) < 0 ||
        build_python_start(&err) < 0)
        goto fail;
    g = build_graph_new(&opt, app_dir, &err);
    w = bundle_writer_new();
    if (g == NULL || w == NULL) {
        if (w == NULL)
            kl_err_set(&err, "out of memory");
        goto fail;
    }
    bundle_writer_set_aux_level(w, BUILD_SOURCE_LEVEL);
    if (build_add_main(g, &opt, w, &err) < 0 ||
        build_graph_resolve(g, &err) < 0 ||
        build_graph_emit(g, w, &err) < 0)
        goto fail;
    for (i = 0; i < opt.n_datas; i++)
        if (build_data_add(w, opt.datas[i], opt.compress ? BUILD_COMPRESS_LEVEL : 0, &err) < 0)
            goto fail;
    if (build_write_program(out, stub, w, &err) < 0)
        goto fail;
    fprintf(stderr, "kiln: wrote %s\n", out);
    status = BUILD_EXIT_OK;
    goto done;
fail:
    build_fail(&err);
done:
    build_graph_free(g);
    bundle_writer_free(w);
    free(opt.hidden);
    free(opt.excludes);
    free(opt.paths);
    free(opt.datas);
    return status;
}

/* Map the file at path read-only into *map / *size. */
static int build_map_file(const char *path, const uint8_t **map, uint64_t *size,
                          kl_err *err)
{
    struct stat st;
    void *m;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return kl_err_set(err, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return kl_err_set(err, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return kl_err_set(err, "%s: empty file, not a kiln program", path);
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return kl_err_set(err, "%s: %s", path, strerror(errno));
    *map = m;
    *size = (uint64_t)st.st_size;
    return 0;
}

static const char *build_run_mode_name(uint32_t mode)
{
    switch (mode) {
    case BUNDLE_RUN_SCRIPT: return "script";
    case BUNDLE_RUN_MODULE: return "module";
    case BUNDLE_RUN_ENTRY: return "entry";
    default: return "?";
    }
}

int build_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    const uint8_t *map = NULL;
    uint64_t size = 0;
    bundle_view v;
    kl_err err;
    int verify = 0, i;
    uint32_t k;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verify") == 0)
            verify = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(inspect_usage, stdout);
            return BUILD_EXIT_OK;
        } else if (argv[i][0] == '-')
            return build_usage_error(inspect_usage, "unknown option %s", argv[i]);
        else if (path == NULL)
            path = argv[i];
        else
            return build_usage_error(inspect_usage, "unexpected argument %s",
                                     argv[i]);
    }
    if (path == NULL)
        return build_usage_error(inspect_usage, "%s", "no PROGRAM given");
    if (build_map_file(path, &map, &size, &err) < 0)
        return build_fail(&err);
    if (bundle_open(&v, map, size, &err) < 0) {
        kl_err_prefix(&err, "%s", path);
        return build_fail(&err);
    }
    if (verify) {
        if (bundle_verify(&v, &err) < 0) {
            kl_err_prefix(&err, "%s", path);
            return build_fail(&err);
        }
        printf("%s: ok (%u entries, checksums match)\n", path,
               v.header->entry_count);
        return BUILD_EXIT_OK;
    }
    printf("# %s: kiln bundle format %u, Python %u.%u, runs %s %s\n", path,
           v.header->version, v.header->python_hex >> 24,
           (v.header->python_hex >> 16) & 0xff,
           build_run_mode_name(v.header->run_mode), bundle_run_target(&v));
    printf("%-10s %12s %12s  %s\n", "kind", "stored", "original", "name");
    for (k = 0; k < v.header->entry_count; k++) {
        const bundle_entry *e = &v.entries[k];

        printf("%-10s %12llu %12llu  %s\n", bundle_kind_name(e->kind),
               (unsigned long long)(e->data_size + e->aux_size),
               (unsigned long long)(e->data_raw_size + e->aux_raw_size),
               bundle_entry_name(&v, e));
    }
    return BUILD_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_usage, stderr);
        return BUILD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("kiln %s (Python %s)\n", KILN_VERSION, PY_VERSION);
        return BUILD_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(main_usage, stdout);
        return BUILD_EXIT_OK;
    }
    if (strcmp(argv[1], "build") == 0)
        return build_cmd_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "inspect") == 0)
        return build_cmd_inspect(argc - 1, argv + 1);
    fprintf(stderr, "kiln: error: unknown command '%s' (see kiln --help)\n",
            argv[1]);
    return BUILD_EXIT_USAGE;
}
