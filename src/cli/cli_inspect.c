/*
 * cli_inspect.c: `kiln inspect PROGRAM [--verify | --json | --licenses |
 * --license-texts DIR]`: list a built program's entries and where each
 * lies, as text or JSON, check every checksum in it and in a folder
 * program's files, or say what it carries under which licences
 * (cli_licenses.c).
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char cli_inspect_usage[] =
    "usage: kiln inspect PROGRAM [--verify | --json | --licenses |\n"
    "                             --license-texts DIR]\n"
    "\n"
    "List the entries of a program built by kiln: kind, where it lies\n"
    "(`program`: inside the executable; `file`: a file in the folder next to\n"
    "it, for --onedir), stored size, original size and name. PROGRAM may be\n"
    "a folder program's directory. `kiln extract` writes entries out.\n"
    "\n"
    "  --verify     check the bundle's checksums and a folder program's\n"
    "               files; exit 1 if anything is damaged\n"
    "  --json       every entry as JSON: name, path, kind, location, file\n"
    "               offset, stored and original size, checksum, and the\n"
    "               same of a module's source\n"
    "  --licenses   every distribution the program carries with the licence\n"
    "               its metadata states and its licence files, the\n"
    "               Python it embeds, and where each bundled native\n"
    "               library came from\n"
    "  --license-texts DIR\n"
    "               the same, and write those licence texts into DIR (one\n"
    "               folder per distribution, LICENSES.txt the summary);\n"
    "               never writes over a file\n"
    "  -h, --help   show this help\n";

/* What `kiln inspect` was asked to do. */
enum cli_inspect_mode {
    CLI_INSPECT_LIST,
    CLI_INSPECT_VERIFY,
    CLI_INSPECT_JSON,
    CLI_INSPECT_LICENSES,
    CLI_INSPECT_LICENSE_TEXTS
};

/* Print one line per entry of p. */
static void cli_inspect_list(const cli_program *p)
{
    const bundle_view *v = &p->v;
    const bundle_header *h = v->header;
    uint32_t k;

    printf("# %s: kiln bundle format %u, Python %u.%u, runs %s%s%s", p->path,
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

/* Append s to b as a JSON string, or null when s is NULL. -1 when out of
 * memory. */
static int cli_inspect_json_str(kl_buf *b, const char *s)
{
    if (s == NULL)
        return kl_buf_adds(b, "null");
    return kl_json_str(b, s, strlen(s), 0);
}

/* Append the JSON object of one part of entry e of p: where its bytes lie
 * (the file and offset), stored and original size, checksum, compression.
 * -1 when out of memory. */
static int cli_inspect_json_part(kl_buf *b, const cli_program *p,
                                 const bundle_entry *e, enum bundle_part part)
{
    const bundle_view *v = &p->v;
    int data = part == BUNDLE_PART_DATA;
    uint64_t off = data ? e->data_off : e->aux_off;
    uint64_t size = data ? e->data_size : e->aux_size;
    uint64_t raw = data ? e->data_raw_size : e->aux_raw_size;
    uint64_t check = data ? e->data_check : e->aux_check;
    unsigned zstd = data ? BUNDLE_FLAG_DATA_ZSTD : BUNDLE_FLAG_AUX_ZSTD;
    int r;

    if (data && (e->flags & BUNDLE_FLAG_EXTERNAL)) {
        /* The file's name relative to the program's directory. */
        kl_buf name = KL_BUF_INIT;

        r = kl_buf_setf(&name, "%s/%s", bundle_folder(v),
                        bundle_entry_path(v, e));
        if (r == 0)
            r = kl_buf_adds(b, "{\"location\": \"file\", \"file\": ");
        if (r == 0)
            r = cli_inspect_json_str(b, name.s);
        kl_buf_free(&name);
        if (r == 0)
            r = kl_buf_adds(b, ", \"offset\": 0");
    } else {
        r = kl_buf_addf(b, "{\"location\": \"program\", \"file\": null, "
                           "\"offset\": %" PRIu64,
                        v->trailer.bundle_offset + v->header->payload_off +
                            off);
    }
    if (r == 0)
        r = kl_buf_addf(b, ", \"stored_size\": %" PRIu64 ", \"size\": %" PRIu64
                           ", \"checksum\": \"%016" PRIx64
                           "\", \"compressed\": %s}",
                        size, raw, check, e->flags & zstd ? "true" : "false");
    return r;
}

/* Print p's entries as one JSON object (docs/inspect.md). */
static int cli_inspect_json(const cli_program *p, kl_err *err)
{
    const bundle_view *v = &p->v;
    const bundle_header *h = v->header;
    kl_buf b = KL_BUF_INIT;
    char version[40];
    uint32_t k;
    int r;

    cli_python_version(h->python_hex, version, sizeof version);
    r = kl_buf_adds(&b, "{\"program\": ");
    if (r == 0)
        r = cli_inspect_json_str(&b, p->path);
    if (r == 0)
        r = kl_buf_addf(&b, ", \"format\": %u, \"python\": \"%s\", "
                            "\"run\": {\"mode\": \"%s\", \"target\": ",
                        h->version, version, bundle_run_mode_name(h->run_mode));
    if (r == 0)
        r = cli_inspect_json_str(&b, h->run_target_len ? bundle_run_target(v)
                                                       : NULL);
    if (r == 0)
        r = kl_buf_adds(&b, "}, \"folder\": ");
    if (r == 0)
        r = cli_inspect_json_str(&b, bundle_folder(v)[0] ? bundle_folder(v)
                                                         : NULL);
    if (r == 0)
        r = kl_buf_addf(&b, ", \"bundle_offset\": %" PRIu64
                            ", \"bundle_size\": %" PRIu64 ",\n \"entries\": [",
                        v->trailer.bundle_offset, v->trailer.bundle_size);
    for (k = 0; r == 0 && k < h->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];
        int module = e->kind == BUNDLE_KIND_MODULE ||
                     e->kind == BUNDLE_KIND_PACKAGE;

        r = kl_buf_addf(&b, "%s\n  {\"name\": ", k ? "," : "");
        if (r == 0)
            r = cli_inspect_json_str(&b, bundle_entry_name(v, e));
        if (r == 0)
            r = kl_buf_adds(&b, ", \"path\": ");
        if (r == 0)
            r = cli_inspect_json_str(&b, e->path_len ? bundle_entry_path(v, e)
                                                     : NULL);
        if (r == 0)
            r = kl_buf_addf(&b, ", \"kind\": \"%s\", \"real_files\": %s, "
                                "\"data\": ", bundle_kind_name(e->kind),
                            e->flags & BUNDLE_FLAG_FILES ? "true" : "false");
        if (r == 0)
            r = e->kind == BUNDLE_KIND_NAMESPACE
                    ? kl_buf_adds(&b, "null")
                    : cli_inspect_json_part(&b, p, e, BUNDLE_PART_DATA);
        if (r == 0)
            r = kl_buf_adds(&b, ", \"source\": ");
        if (r == 0)
            r = module && (e->flags & BUNDLE_FLAG_SOURCE)
                    ? cli_inspect_json_part(&b, p, e, BUNDLE_PART_AUX)
                    : kl_buf_adds(&b, "null");
        if (r == 0)
            r = kl_buf_adds(&b, "}");
    }
    if (r == 0)
        r = kl_buf_adds(&b, "\n]}\n");
    if (r < 0) {
        kl_buf_free(&b);
        return kl_err_oom(err);
    }
    fputs(b.s, stdout);
    kl_buf_free(&b);
    return 0;
}

/* Check every file of the folder program p against the sizes and
 * checksums the bundle recorded. */
static int cli_verify_files(const cli_program *p, kl_err *err)
{
    const bundle_view *v = &p->v;
    kl_map m;
    uint32_t k;
    int r = 0;

    for (k = 0; r == 0 && k < v->header->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];

        if (!(e->flags & BUNDLE_FLAG_EXTERNAL))
            continue;
        r = cli_map_external(p->path, v, e, &m, err);
        kl_unmap(&m);
    }
    return r;
}

/* Read `kiln inspect` arguments: *path, *mode and, for --license-texts,
 * *dir. Returns -1 to go on, or the status to end with (cli_path_args). */
static int cli_inspect_args(int argc, char **argv, const char **path,
                            enum cli_inspect_mode *mode, const char **dir)
{
    static const struct {
        const char *flag;
        enum cli_inspect_mode mode;
    } flags[] = {{"--verify", CLI_INSPECT_VERIFY},
                 {"--json", CLI_INSPECT_JSON},
                 {"--licenses", CLI_INSPECT_LICENSES},
                 {"--license-texts", CLI_INSPECT_LICENSE_TEXTS}};
    const char *given = NULL;
    int i;
    size_t f;

    *path = *dir = NULL;
    *mode = CLI_INSPECT_LIST;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cli_inspect_usage, stdout);
            return CLI_EXIT_OK;
        }
        if (a[0] != '-') {
            if (*path != NULL)
                return cli_usage_error("inspect", "unexpected argument %s", a);
            *path = a;
            continue;
        }
        for (f = 0; f < sizeof flags / sizeof flags[0]; f++) {
            size_t n = strlen(flags[f].flag);

            if (strncmp(a, flags[f].flag, n) == 0 &&
                (a[n] == '\0' ||
                 (a[n] == '=' && flags[f].mode == CLI_INSPECT_LICENSE_TEXTS)))
                break;
        }
        if (f == sizeof flags / sizeof flags[0])
            return cli_usage_error("inspect", "unknown option %s", a);
        if (given != NULL && strcmp(given, flags[f].flag) != 0) {
            fprintf(stderr, "kiln: error: %s and %s ask for different "
                            "things; give one (see kiln inspect --help)\n",
                    given, flags[f].flag);
            return CLI_EXIT_USAGE;
        }
        given = flags[f].flag;
        *mode = flags[f].mode;
        if (flags[f].mode == CLI_INSPECT_LICENSE_TEXTS) {
            const char *eq = strchr(a, '=');

            if (eq == NULL && i + 1 >= argc)
                return cli_usage_error("inspect", "%s needs a folder", a);
            *dir = eq != NULL ? eq + 1 : argv[++i];
            if ((*dir)[0] == '\0')
                return cli_usage_error("inspect", "%s needs a folder",
                                       "--license-texts");
        }
    }
    if (*path == NULL)
        return cli_usage_error("inspect", "no %s given", "PROGRAM");
    return -1;
}

int cli_inspect(int argc, char **argv)
{
    enum cli_inspect_mode mode;
    const char *path, *dir;
    cli_program p;
    kl_err err;
    int r;

    r = cli_inspect_args(argc, argv, &path, &mode, &dir);
    if (r >= 0)
        return r;
    if (cli_program_open(&p, path, &err) < 0)
        return cli_fail(&err);
    switch (mode) {
    case CLI_INSPECT_LIST:
        cli_inspect_list(&p);
        r = 0;
        break;
    case CLI_INSPECT_VERIFY:
        r = bundle_verify(&p.v, &err) < 0 || cli_verify_files(&p, &err) < 0
                ? kl_err_prefix(&err, "%s", p.path)
                : 0;
        if (r == 0)
            printf("%s: ok (%u entries, checksums match)\n", p.path,
                   p.v.header->entry_count);
        break;
    case CLI_INSPECT_JSON:
        r = cli_inspect_json(&p, &err);
        break;
    case CLI_INSPECT_LICENSES:
    case CLI_INSPECT_LICENSE_TEXTS:
        r = cli_licenses(&p, dir, &err);
        break;
    }
    cli_program_close(&p);
    fflush(stdout);
    if (r == 0 && ferror(stdout))
        r = kl_err_set(&err, "cannot write the listing to standard "
                             "output: %s", strerror(errno));
    return r < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}
