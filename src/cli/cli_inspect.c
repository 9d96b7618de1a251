/*
 * cli_inspect.c: `kiln inspect PROGRAM [--verify]`: list a built
 * program's entries, or check every checksum in it.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char cli_inspect_usage[] =
    "usage: kiln inspect PROGRAM [--verify]\n"
    "\n"
    "List the entries of a program built by kiln: kind, stored size, original\n"
    "size and name.\n"
    "\n"
    "  --verify     check the bundle's checksums; exit 1 if it is damaged\n"
    "  -h, --help   show this help\n";

/* Print one line per entry of v. */
static void cli_inspect_list(const char *path, const bundle_view *v)
{
    const bundle_header *h = v->header;
    uint32_t k;

    printf("# %s: kiln bundle format %u, Python %u.%u, runs %s %s\n", path,
           h->version, h->python_hex >> 24, (h->python_hex >> 16) & 0xff,
           bundle_run_mode_name(h->run_mode), bundle_run_target(v));
    printf("%-10s %12s %12s  %s\n", "kind", "stored", "original", "name");
    for (k = 0; k < h->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];

        printf("%-10s %12llu %12llu  %s\n", bundle_kind_name(e->kind),
               (unsigned long long)(e->data_size + e->aux_size),
               (unsigned long long)(e->data_raw_size + e->aux_raw_size),
               bundle_entry_name(v, e));
    }
}

int cli_inspect(int argc, char **argv)
{
    const char *path = NULL;
    kl_map map = {NULL, 0};
    bundle_view v;
    kl_err err;
    int verify = 0, i, status = CLI_EXIT_FAIL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verify") == 0) {
            verify = 1;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            fputs(cli_inspect_usage, stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] == '-') {
            return cli_usage_error("inspect", "unknown option %s", argv[i]);
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return cli_usage_error("inspect", "unexpected argument %s",
                                   argv[i]);
        }
    }
    if (path == NULL)
        return cli_usage_error("inspect", "%s", "no PROGRAM given");
    if (kl_map_file(path, &map, &err) < 0)
        return cli_fail(&err);
    if (map.size == 0) {
        kl_err_set(&err, "%s: empty file, not a kiln program", path);
        goto fail;
    }
    if (bundle_open(&v, map.data, map.size, &err) < 0 ||
        (verify && bundle_verify(&v, &err) < 0)) {
        kl_err_prefix(&err, "%s", path);
        goto fail;
    }
    if (verify)
        printf("%s: ok (%u entries, checksums match)\n", path,
               v.header->entry_count);
    else
        cli_inspect_list(path, &v);
    status = CLI_EXIT_OK;
    goto done;
fail:
    cli_fail(&err);
done:
    kl_unmap(&map);
    return status;
}
