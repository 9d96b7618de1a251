/*
 * cli.h: the `kiln` command line: `kiln build` runs the pipeline options
 * -> environment -> graph -> plan -> emitter (src/freeze, src/plan,
 * src/emit), then the report (src/report); `kiln inspect` lists and
 * verifies a built program; `kiln analyze` lists its native code and
 * what that needs.
 */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include "../common/kl_common.h"
#include "../freeze/fz.h"
#include "../plan/plan.h"

/* Exit statuses of the kiln command. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1   /* the build or check failed */
#define CLI_EXIT_USAGE 2  /* bad command line */

/* ---- the commands: argv[0] is the command's name ------------------------ */

int cli_build(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_analyze(int argc, char **argv);
int cli_extract(int argc, char **argv);

/* ---- cli_options.c: the options of `kiln build` ------------------------- */

#define CLI_MAX_OPTS 64

/* Strings borrowed from argv or a pyproject's settings, not copied. */
typedef struct cli_list {
    const char **v;   /* malloc'd array */
    size_t n;
} cli_list;

/* `kiln build` options as the command line and [tool.kiln] give them. */
typedef struct cli_build_args {
    fz_options fz;             /* filled by cli_options_to_fz() */
    const char *script;        /* SCRIPT */
    const char *module, *entry, *script_name, *output, *name, *venv,
        *python, *report, *optimize, *hash_seed, *keep_only, *target,
        *suffix, *dependencies;
    cli_list requirements, pips, hidden, excludes, collect, collect_data,
        files, system_libs, bundle_libs, runtime_paths, paths, datas,
        warnings, xoptions, runtime_hooks;
    int no_source, compress, no_strip, verbose, quiet, help;
    int unbuffered, python_env, meipass, full_finalize;
    int onefile, onedir, force, interpreter;
    int extension;             /* --target extension */
    unsigned char given[CLI_MAX_OPTS]; /* option i was on the command line */
} cli_build_args;

/* CLI_NUMBER: a value that [tool.kiln] may give as a number or a string.
 * CLI_OPTIONAL: a number that may be left out on the command line (stored
 * as "") or attached to a short option (-OO gives "O"). */
enum cli_opt_kind { CLI_FLAG, CLI_VALUE, CLI_LIST, CLI_NUMBER, CLI_OPTIONAL };

/* One option: its long name (also its [tool.kiln] key), short letter or
 * 0, kind, where it goes in cli_build_args, and its help. */
typedef struct cli_opt {
    const char *name;
    int letter;
    enum cli_opt_kind kind;
    size_t off;
    const char *arg;
    const char *help;
} cli_opt;

/* Parse `kiln build` arguments into a (zeroed first). Returns 0 to go on,
 * or -1 to stop with exit status *status: 0 after --help (printed),
 * CLI_EXIT_USAGE after a usage error (printed), CLI_EXIT_FAIL when out of
 * memory. */
int cli_options_parse(int argc, char **argv, cli_build_args *a, int *status);

/* Apply the [tool.kiln] settings of proj (read from path) to every option
 * the command line did not give. An unknown key or a value of the wrong
 * type fails with "path:line: ..." naming the keys or type expected.
 * Strings stay borrowed from proj. */
int cli_options_from_project(cli_build_args *a, const fz_project *proj,
                             const char *path, kl_err *err);

/* Append s (borrowed) to l. -1 when out of memory. */
int cli_list_add(cli_list *l, const char *s);

/* Fill a->fz from the options. */
void cli_options_to_fz(cli_build_args *a);

/* Check what the options of a (after cli_options_to_fz) say together
 * about the program of run mode o (a->fz, or a project script's copy of
 * it): one run mode, names that are names, values among those allowed,
 * nothing an extension module cannot have. Returns 0, or the status of a
 * usage error it printed. */
int cli_options_check(const cli_build_args *a, const fz_options *o);

/* Free the arrays of a (not the strings, which are borrowed). */
void cli_build_args_free(cli_build_args *a);
/* ---- cli_output.c: where a build may write ------------------------------ */

/* What a build reads, which it never writes over. Borrowed. */
typedef struct cli_inputs {
    const char *script;  /* SCRIPT, or NULL */
    const char *stub;    /* the runtime stub */
    const plan *plan;    /* NULL before collection; then every file its
                            entries were made from or are read from */
} cli_inputs;

/* What an output's path may hold already and be replaced without
 * --force: what an earlier build wrote there. */
enum cli_output_kind {
    CLI_OUTPUT_PROGRAM, /* a program kiln built */
    CLI_OUTPUT_REPORT   /* a report kiln wrote */
};

/* Check that the build may write the file at path, named by option opt
 * ("-o", "--report") in messages: nothing there; or a regular file that
 * is not one of in's inputs (the script, kiln, its stub, the plan's files,
 * compared as files, not names) and either holds what an earlier build of
 * `kind` wrote or is replaced because of `force`. A directory, a device, a
 * FIFO or a socket is refused, with or without force. Before the plan is
 * known (in->plan NULL) only what is refused whatever the plan holds is
 * checked, so that a refusal never asks for a --force that cannot help. */
int cli_output_check(const char *opt, const char *path,
                     enum cli_output_kind kind, int force,
                     const cli_inputs *in, kl_err *err);

/* True when paths a and b name the same file, whether or not it exists
 * yet. */
int cli_output_same(const char *a, const char *b);

/* ---- cli_report.c: what the command prints ------------------------------ */

/* Print "kiln: error: MESSAGE" on stderr. Returns CLI_EXIT_FAIL. */
int cli_fail(const kl_err *err);

/* Print a one-line usage error, fmt with one string argument, pointing at
 * `kiln CMD --help`. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);

/* Read the arguments of `kiln CMD PATH [FLAG]` (argv[0] is CMD): *path gets
 * PATH, *flag_set 1 when FLAG was given. Returns -1 to go on, or the
 * status the command ends with: CLI_EXIT_OK once usage is printed for
 * --help, CLI_EXIT_USAGE after a usage error (no PATH: "no WHAT given"). */
int cli_path_args(int argc, char **argv, const char *cmd, const char *usage,
                  const char *flag, const char *what, const char **path,
                  int *flag_set);

/* List every entry of plan p and why it is in (for --verbose), on
 * stderr. */
void cli_report_plan(const plan *p);

/* The line that ends a successful build, unless quiet: the program
 * written (and the report, when not NULL), its modules and other files,
 * its size and the warnings given. */
void cli_report_summary(const plan *p, const char *program,
                        const char *report);

/* ---- cli_program.c: a built program opened for reading ------------------ */

/* A program kiln built, mapped whole, with its bundle's view. */
typedef struct cli_program {
    const char *path;  /* the executable; a folder program's directory
                          stands for the executable inside it */
    kl_buf exe;        /* holds that executable's path when path was a
                          folder */
    kl_map map;
    bundle_view v;
} cli_program;

/* The bytes of one part of an entry: borrowed from the mapping, or in
 * owned (malloc'd), or in map (an external entry's file). */
typedef struct cli_bytes {
    const uint8_t *data;
    size_t size;
    uint8_t *owned;
    kl_map map;
} cli_bytes;

/* Open the program at path (a file, or a folder program's directory) into
 * *p: map it and open its bundle, checking its index. On failure *p holds
 * nothing to close and the message names the path. */
int cli_program_open(cli_program *p, const char *path, kl_err *err);

/* Unmap and free what cli_program_open() made. */
void cli_program_close(cli_program *p);

/* The bytes of part `part` of entry e of p, wherever they lie (in the
 * bundle, compressed or not, or in a folder program's file), checked
 * against their checksum. Free *b with cli_bytes_free() either way. */
int cli_program_read(const cli_program *p, const bundle_entry *e,
                     enum bundle_part part, cli_bytes *b, kl_err *err);

/* Release what cli_program_read() gave; b is empty afterwards. */
void cli_bytes_free(cli_bytes *b);

/* Map the file *path names for reading into *map (kl_unmap); a folder
 * program's directory stands for its executable: *path then points to
 * exe's string (the caller frees exe either way). */
int cli_map_path(const char **path, kl_buf *exe, kl_map *map, kl_err *err);

/* Map the file of external entry e of the folder program whose executable
 * is exe (bundle v) into *m (kl_unmap), checked against the size and
 * checksum the bundle recorded. Fails, saying the folder is incomplete or
 * the file damaged, with *m empty. */
int cli_map_external(const char *exe, const bundle_view *v,
                     const bundle_entry *e, kl_map *m, kl_err *err);

/* Write the version python_hex (PY_VERSION_HEX) names, "3.11.7" or
 * "3.14.0rc1", into out[0, n). */
void cli_python_version(uint32_t python_hex, char *out, size_t n);

/* Make the new file dir/rel holding data[0, size) with `mode` (less the
 * umask), creating the directories it needs. rel must stay inside dir
 * (bundle_path_inside). An existing file (or anything else) at that path
 * is never replaced: that fails, naming it. */
int cli_write_new(const char *dir, const char *rel, const void *data,
                  size_t size, unsigned mode, kl_err *err);

/* ---- cli_licenses.c: what a program carries under which licences ------- */

/* Print what program p carries under which licences: the Python it
 * embeds, each distribution with the licence its metadata states and its
 * licence files, and where each bundled native library came from. When
 * dir is not NULL, also write those texts into dir (one folder per
 * distribution, LICENSES.txt the summary), never over a file. */
int cli_licenses(const cli_program *p, const char *dir, kl_err *err);

#endif
