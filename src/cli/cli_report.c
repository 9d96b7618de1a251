/*
 * cli_report.c: error lines, usage errors and the arguments of the
 * one-path commands, the --verbose listing and the summary line.
 */
#include "cli.h"

#include "../emit/emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cli_fail(const kl_err *err)
{
    kl_progress_end(); /* a failure can cut a stage short */
    fprintf(stderr, "kiln: error: %s\n", err->msg);
    return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "kiln: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see kiln %s --help)\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_path_args(int argc, char **argv, const char *cmd, const char *usage,
                  const char *flag, const char *what, const char **path,
                  int *flag_set)
{
    int i;

    *path = NULL;
    *flag_set = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], flag) == 0) {
            *flag_set = 1;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(cmd, "unknown option %s", argv[i]);
        } else if (*path == NULL) {
            *path = argv[i];
        } else {
            return cli_usage_error(cmd, "unexpected argument %s", argv[i]);
        }
    }
    if (*path == NULL)
        return cli_usage_error(cmd, "no %s given", what);
    return -1;
}

void cli_report_plan(const plan *p)
{
    size_t i;
    int modules = 0;

    for (i = 0; i < p->n; i++) {
        const plan_entry *e = &p->entries[i];

        fprintf(stderr, "kiln: %-9s %-40s (%s%s%s)\n",
                bundle_kind_name(e->kind), e->name,
                e->reason ? e->reason : "-", e->dist ? "; from " : "",
                e->dist ? e->dist : "");
        modules += bundle_kind_ns(e->kind) == BUNDLE_NS_MODULE;
    }
    for (i = 0; i < p->n_omitted; i++) {
        const plan_omission *o = &p->omitted[i];

        fprintf(stderr, "kiln: left out %-36s (%s: %s; imported by %s)\n",
                o->name, plan_omit_name(o->why), o->detail ? o->detail : "-",
                o->importers ? o->importers : "-");
    }
    fprintf(stderr, "kiln: %d modules bundled, %zu left out\n", modules,
            p->n_omitted);
}

/* n bytes for people: "812 B", "10.4 MiB". */
static void cli_size(char out[32], uint64_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    unsigned u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, 32, "%" PRIu64 " B", n);
    else
        snprintf(out, 32, "%.*f %s", v < 10 ? 2 : 1, v, units[u]);
}

void cli_report_summary(const plan *p, const char *program,
                        const char *report)
{
    size_t i, modules = 0, files = 0;
    unsigned warnings = kl_warn_count();
    struct stat st;
    char size[32] = "?", others[48] = "", warned[32] = "no warnings";

    for (i = 0; i < p->n; i++) {
        if (bundle_kind_ns(p->entries[i].kind) == BUNDLE_NS_MODULE)
            modules++;
        else
            files++;
    }
    if (stat(program, &st) == 0)
        cli_size(size, (uint64_t)st.st_size);
    if (files > 0)
        snprintf(others, sizeof others, ", %zu other file%s", files,
                 files == 1 ? "" : "s");
    if (warnings > 0)
        snprintf(warned, sizeof warned, "%u warning%s", warnings,
                 warnings == 1 ? "" : "s");
    kl_note("wrote %s%s%s (%zu modules%s, %s, %s)", program,
            report ? " and " : "", report ? report : "", modules, others,
            size, warned);
}
