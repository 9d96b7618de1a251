/*
 * report.h: the build report (`kiln build --report FILE`): every entry of
 * a written program with its kind, its sizes as stored and as loaded, its
 * distribution, its importers and why it is in, and every module the
 * application reaches that was left out, with why. As JSON, or as one
 * self-contained HTML page that draws the program's size by distribution,
 * package and module.
 *
 * A report reads a finished plan and the program written from it (stored
 * sizes come from the program's own bundle, through the bundle reader);
 * it decides nothing and knows no Python.
 */
#ifndef KILN_REPORT_H
#define KILN_REPORT_H

#include <stddef.h>

#include "../common/kl_common.h"
#include "../plan/plan.h"

/* The version of the report's JSON layout (docs/report.md). */
#define REPORT_VERSION 1

/* What a report is made from. Everything is borrowed. */
typedef struct report_input {
    const plan *plan;             /* finished (plan_finish) */
    const char *program;          /* the program written from it */
    const char *const *app_dirs;  /* the application's own directories
                                     (absolute): entries from there are
                                     grouped as "application" */
    size_t n_app_dirs;
    unsigned warnings;            /* warnings the build gave */
} report_input;

/* Append the report as JSON to out. flags: KL_JSON_HTML for text that
 * goes inside an HTML <script> element, or 0. Fails when the program
 * cannot be read or does not hold the plan's entries. */
int report_json(const report_input *in, unsigned flags, kl_buf *out,
                kl_err *err);

/* Append the report as one HTML page to out: no external assets, the
 * data embedded as JSON, the page's script draws it. */
int report_html(const report_input *in, kl_buf *out, kl_err *err);

/* Write the report to path, as HTML when path ends in ".html" (or
 * ".htm"), else as JSON. Missing parent directories are created; the file
 * appears atomically. */
int report_write(const report_input *in, const char *path, kl_err *err);

/* True when the file at path is a report kiln wrote (a JSON or HTML
 * report, told by its first bytes); false when absent or anything else. */
int report_is_report(const char *path);

#endif
