/*
 * cli_report.c: error lines, usage errors and the --verbose report.
 */
#include "cli.h"

#include <stdio.h>

int cli_fail(const kl_err *err)
{
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
