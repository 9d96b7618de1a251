/*
 * cli_inspect.c: `kiln inspect PROGRAM [--verify]`: list a built
 * program's entries and where each lies, or check every checksum in it
 * and in a folder program's files.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char cli_inspect_usage[] =
    "usage: kiln inspect PROGRAM [--verify]\n"
    "\n"
    "List the entries of a program built by kiln: kind, where it lies\n"
    "(`program`: inside the executable; `file`: a file in the folder next to\n"
    "it, for --onedir), stored size, original size and name. PROGRAM may be\n"
    "a folder program's directory.\n"
    "\n"
    "  --verify     check the bundle's checksums and a folder program's\n"
    "               files; exit 1 if anything is damaged\n"
    "  -h, --help   show this help\n";

/* Print one line per entry of v. */
static void cli_inspect_list(const char *path, const bundle_view *v)
{
    const bundle_header *h = v->header;
    uint32_t k;

    printf("# %s: kiln bundle format %u, Python %u.%u, runs %s%s%s", path,
           h->version, h->python_hex >> 24, (h->python_hex >> 16) & 0xff,
           bundle_run_mode_name(h->run_mode), h->run_target_len ? " " : "",
           bundle_run_target(v));
    if (bundle_folder(v)[0] != '\0')
        printf(", files in %s/", bundle_folder(v));
    printf("\n%-10s %-8s %12s %12s  %s\n", "kind", "where", "stored",
           "original", "name");
    for (k = 0; k < h->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];

        printf("%-10s %-8s %12llu %12llu  %s\n", bundle_kind_name(e->kind),
               e->flags & BUNDLE_FLAG_EXTERNAL ? "file" : "program",
               (unsigned long long)(e->data_size + e->aux_size),
               (unsigned long long)(e->data_raw_size + e->aux_raw_size),
               bundle_entry_name(v, e));
    }
}

/* Check every file of the folder program whose executable is at path
 * (bundle v) against the sizes and checksums the bundle recorded. */
static int cli_verify_files(const char *path, const bundle_view *v,
                            kl_err *err)
{
    kl_map m;
    uint32_t k;
    int r = 0;

    for (k = 0; r == 0 && k < v->header->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];

        if (!(e->flags & BUNDLE_FLAG_EXTERNAL))
            continue;
        r = cli_map_external(path, v, e, &m, err);
        kl_unmap(&m);
    }
    return r;
}

int cli_inspect(int argc, char **argv)
{
    const char *path = NULL;
    kl_map map = {NULL, 0};
    kl_buf exe = KL_BUF_INIT;
    bundle_view v;
    kl_err err;
    int verify = 0, i, status = CLI_EXIT_FAIL;

    i = cli_path_args(argc, argv, "inspect", cli_inspect_usage, "--verify",
                      "PROGRAM", &path, &verify);
    if (i >= 0)
        return i;
    if (cli_map_path(&path, &exe, &map, &err) < 0) {
        kl_buf_free(&exe);
        return cli_fail(&err);
    }
    if (map.size == 0) {
        kl_err_set(&err, "%s: empty file, not a kiln program", path);
        goto fail;
    }
    if (bundle_open(&v, map.data, map.size, &err) < 0 ||
        (verify && (bundle_verify(&v, &err) < 0 ||
                    cli_verify_files(path, &v, &err) < 0))) {
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
    kl_buf_free(&exe);
    return status;
}
