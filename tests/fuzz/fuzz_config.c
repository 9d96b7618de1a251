/*
 * fuzz_config.c: libFuzzer target of a project's pyproject.toml, from its
 * bytes to the checked options of `kiln build`, the way cli_build.c goes:
 * fz_project_read() (the embedded CPython's tomllib, then C finding each
 * [tool.kiln] key's line), cli_options_from_project() (every key and the
 * type of its value), cli_options_to_fz(), cli_options_check() for each
 * program the project would build, and fz_interp_options() (-W, -X, -O
 * and the hash seed, as the program's Python would read them).
 *
 * An input is the file's bytes. It is written to a memory file that the
 * reader opens by its /proc/self/fd path: nothing is left on disk. The
 * interpreter is started once, in LLVMFuzzerInitialize, with every
 * allocation through malloc (PYTHONMALLOC=malloc), so that
 * AddressSanitizer sees each object and LeakSanitizer follows references
 * between them (inside pymalloc's arenas it sees neither).
 */
#include "../../src/cli/cli.h"
#include "../../src/freeze/fz_graph.h"
#include "fuzz.h"

/* The memory file inputs are written to, and its path. */
static int fuzz_fd = -1;
static char fuzz_path[64];

/* The name errors give the file, as `kiln build` names it. */
static const char fuzz_name[] = "pyproject.toml";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    PyPreConfig pre;
    PyStatus st;
    kl_err err;

    (void)argc;
    (void)argv;
    fuzz_fd = fuzz_memfile(fuzz_name, fuzz_path, sizeof fuzz_path);
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.allocator = PYMEM_ALLOCATOR_MALLOC;
    st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "fuzz_config: %s\n", st.err_msg);
        exit(1);
    }
    if (fz_python_start(&err) < 0) {
        fprintf(stderr, "fuzz_config: %s\n", err.msg);
        exit(1);
    }
    return 0;
}

/* Check the options of a, applied from project p, for each program the
 * project builds (its scripts, or the one run mode it sets), then the
 * interpreter options. */
static void fuzz_check(cli_build_args *a, const fz_project *p)
{
    char *text = NULL;
    kl_err err;
    size_t i;
    int bad = 0;

    cli_options_to_fz(a);
    if (a->fz.module || a->fz.entry || a->fz.interpreter || p->n_scripts == 0)
        bad = cli_options_check(a, &a->fz) != 0;
    for (i = 0; !bad && i < p->n_scripts; i++) {
        fz_options one = a->fz;

        FUZZ_REQUIRE(p->scripts[i].name && p->scripts[i].entry,
                     "a script has a name and an entry");
        one.entry = p->scripts[i].entry;
        bad = cli_options_check(a, &one) != 0;
    }
    if (bad)
        return;
    err.msg[0] = '\0';
    if (fz_interp_options(&a->fz, &text, &err) < 0)
        fuzz_check_err(&err);
    FUZZ_REQUIRE(text == NULL || (text[0] && text[strlen(text) - 1] == '\n'),
                 "options text is whole lines");
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_build_args a;
    fz_project p;
    kl_err err;
    size_t i;

    if (fuzz_memfile_set(fuzz_fd, data, size) < 0)
        return 0;
    err.msg[0] = '\0';
    if (fz_project_read(fuzz_path, &p, &err) < 0) {
        fuzz_check_err(&err);
        return 0;
    }
    for (i = 0; i < p.n_settings; i++)
        FUZZ_REQUIRE(p.settings[i].key != NULL && p.settings[i].line >= 0,
                     "a setting has a key and a line");
    memset(&a, 0, sizeof a);
    err.msg[0] = '\0';
    if (cli_options_from_project(&a, &p, fuzz_name, &err) == 0)
        fuzz_check(&a, &p);
    else
        fuzz_check_err(&err);
    cli_build_args_free(&a);
    fz_project_free(&p);
    return 0;
}
