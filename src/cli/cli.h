/*
 * cli.h: the `kiln` command line: `kiln build` runs the pipeline options
 * -> environment -> graph -> plan -> emitter (src/freeze, src/plan,
 * src/emit); `kiln inspect` lists and verifies a built program.
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
        *python;
    cli_list requirements, pips, hidden, excludes, paths, datas;
    int no_source, compress, no_strip, verbose, quiet, help;
    int onefile, onedir, force;
    unsigned char given[CLI_MAX_OPTS]; /* option i was on the command line */
} cli_build_args;

enum cli_opt_kind { CLI_FLAG, CLI_VALUE, CLI_LIST };

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

/* Free the arrays of a (not the strings, which are borrowed). */
void cli_build_args_free(cli_build_args *a);

/* ---- cli_report.c: what the command prints ------------------------------ */

/* Print "kiln: error: MESSAGE" on stderr. Returns CLI_EXIT_FAIL. */
int cli_fail(const kl_err *err);

/* Print a one-line usage error, fmt with one string argument, pointing at
 * `kiln CMD --help`. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);

/* List every entry of plan p and why it is in (for --verbose), on
 * stderr. */
void cli_report_plan(const plan *p);

#endif
