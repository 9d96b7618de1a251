/*
 * cli.h: the `kiln` command line: `kiln build` runs the pipeline options
 * -> environment -> graph -> plan -> emitter (src/freeze, src/plan,
 * src/emit); `kiln inspect` lists and verifies a built program.
 */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include "../common/kl_common.h"
#include "../plan/plan.h"

/* Exit statuses of the kiln command. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1   /* the build or check failed */
#define CLI_EXIT_USAGE 2  /* bad command line */

/* ---- the commands: argv[0] is the command's name ------------------------ */

int cli_build(int argc, char **argv);
int cli_inspect(int argc, char **argv);

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
