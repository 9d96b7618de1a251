/*
 * cli_extract.c: `kiln extract PROGRAM (NAME... | --all) [-o DIR]`: write
 * entries of a built program out as files, at their paths in the
 * program's tree: bytecode as a .pyc with a valid header, sources, data,
 * metadata and native code as stored.
 */
#include "cli.h"

#include <patchlevel.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char cli_extract_usage[] =
    "usage: kiln extract PROGRAM (NAME... | --all) [-o DIR]\n"
    "\n"
    "Write entries of a program built by kiln out as files under DIR, at\n"
    "their paths in the program's tree: a module's bytecode as PATH.pyc\n"
    "(with the .pyc header of the Python the program embeds: timestamp 0\n"
    "and the source's size) and its source as PATH.py when the program\n"
    "carries it; extension modules, shared libraries, data and metadata\n"
    "files as they are stored. NAME is an entry's name as `kiln inspect\n"
    "PROGRAM` lists it; every entry of that name is written. PROGRAM may\n"
    "be a folder program's directory. Never writes over a file.\n"
    "\n"
    "  --all                 every entry\n"
    "  -o, --output DIR      where to write (default: PROGRAM's name with\n"
    "                        _extracted, in the current directory)\n"
    "  -h, --help            show this help\n";

/* What `kiln extract` was asked for. */
typedef struct cli_extract_args {
    const char *program;
    const char *dir;      /* NULL: the default */
    const char **names;   /* argv's, borrowed */
    size_t n_names;
    int all;
} cli_extract_args;

/* Read `kiln extract` arguments into *a (names points into a new array of
 * argc pointers, to free). Returns -1 to go on, or the status to end with
 * (cli_path_args). */
static int cli_extract_parse(int argc, char **argv, cli_extract_args *a)
{
    int i;

    memset(a, 0, sizeof *a);
    a->names = malloc(sizeof *a->names * (size_t)argc);
    if (a->names == NULL) {
        fputs("kiln: error: out of memory\n", stderr);
        return CLI_EXIT_FAIL;
    }
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];

        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            fputs(cli_extract_usage, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(s, "--all") == 0) {
            a->all = 1;
        } else if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                return cli_usage_error("extract", "%s needs a folder", s);
            a->dir = argv[++i];
        } else if (strncmp(s, "--output=", 9) == 0) {
            if (s[9] == '\0')
                return cli_usage_error("extract", "%s needs a folder", s);
            a->dir = s + 9;
        } else if (s[0] == '-' && s[1] != '\0') {
            return cli_usage_error("extract", "unknown option %s", s);
        } else if (a->program == NULL) {
            a->program = s;
        } else {
            a->names[a->n_names++] = s;
        }
    }
    if (a->program == NULL)
        return cli_usage_error("extract", "no %s given", "PROGRAM");
    if (a->all && a->n_names > 0)
        return cli_usage_error("extract", "give entry names or --all, not "
                                          "both (%s)", a->names[0]);
    if (!a->all && a->n_names == 0)
        return cli_usage_error("extract", "no %s given: name entries "
                                          "(kiln inspect lists them) or "
                                          "give --all", "NAME");
    return -1;
}

/* The path in the program's tree of entry e of v into out: the path the
 * bundle records, or for a module without one its name as a file
 * ("a/b.py", "a/__init__.py"). */
static int cli_extract_path(const bundle_view *v, const bundle_entry *e,
                            kl_buf *out)
{
    const char *name = bundle_entry_name(v, e);
    size_t i;

    if (e->path_len > 0)
        return kl_buf_sets(out, bundle_entry_path(v, e));
    if (kl_buf_sets(out, name) < 0)
        return -1;
    if (e->kind != BUNDLE_KIND_MODULE && e->kind != BUNDLE_KIND_PACKAGE)
        return 0;
    for (i = 0; i < out->len; i++)
        if (out->s[i] == '.')
            out->s[i] = '/';
    return kl_buf_adds(out, e->kind == BUNDLE_KIND_PACKAGE ? "/__init__.py"
                                                          : ".py");
}

/* Write module entry e of p: its bytecode as path's .pyc with the .pyc
 * header of the Python this kiln embeds (which must be the program's),
 * and its source as path when the program carries one. *written counts
 * the files. */
static int cli_extract_module(const cli_program *p, const bundle_entry *e,
                              const char *dir, const char *path,
                              size_t *written, kl_err *err)
{
    const bundle_header *h = p->v.header;
    kl_buf pyc = KL_BUF_INIT, rel = KL_BUF_INIT;
    size_t len = strlen(path);
    uint8_t header[16] = {KILN_PYC_MAGIC & 0xff, KILN_PYC_MAGIC >> 8, '\r',
                          '\n'};
    uint32_t source_size = (uint32_t)e->aux_raw_size;
    cli_bytes b;
    int r;

    if ((h->python_hex >> 16) != (PY_VERSION_HEX >> 16))
        return kl_err_set(err, "%s: its bytecode is for Python %u.%u and this "
                               "kiln embeds %d.%d, whose .pyc header differs: "
                               "extract it with a kiln built for %u.%u",
                          bundle_entry_name(&p->v, e), h->python_hex >> 24,
                          (h->python_hex >> 16) & 0xff, PY_MAJOR_VERSION,
                          PY_MINOR_VERSION, h->python_hex >> 24,
                          (h->python_hex >> 16) & 0xff);
    memcpy(header + 12, &source_size, 4);
    r = cli_program_read(p, e, BUNDLE_PART_DATA, &b, err);
    if (r == 0 &&
        (kl_buf_add(&pyc, header, sizeof header) < 0 ||
         kl_buf_add(&pyc, b.data, b.size) < 0 ||
         kl_buf_setf(&rel, "%.*s.pyc",
                     (int)(len > 3 && strcmp(path + len - 3, ".py") == 0
                               ? len - 3 : len),
                     path) < 0))
        r = kl_err_oom(err);
    cli_bytes_free(&b);
    if (r == 0)
        r = cli_write_new(dir, rel.s, pyc.s, pyc.len, 0644, err);
    *written += r == 0;
    if (r == 0 && (e->flags & BUNDLE_FLAG_SOURCE)) {
        r = cli_program_read(p, e, BUNDLE_PART_AUX, &b, err);
        if (r == 0)
            r = cli_write_new(dir, path, b.data, b.size, 0644, err);
        cli_bytes_free(&b);
        *written += r == 0;
    }
    kl_buf_free(&pyc);
    kl_buf_free(&rel);
    return r;
}

/* Write entry e of p under dir; *written counts the files. */
static int cli_extract_entry(const cli_program *p, const bundle_entry *e,
                             const char *dir, size_t *written, kl_err *err)
{
    kl_buf path = KL_BUF_INIT, full = KL_BUF_INIT;
    cli_bytes b;
    int r;

    if (cli_extract_path(&p->v, e, &path) < 0)
        return kl_err_oom(err);
    switch (e->kind) {
    case BUNDLE_KIND_MODULE:
    case BUNDLE_KIND_PACKAGE:
        r = cli_extract_module(p, e, dir, path.s, written, err);
        break;
    case BUNDLE_KIND_NAMESPACE:
        /* A directory with nothing of its own. */
        r = !bundle_path_inside(path.s)
                ? kl_err_set(err, "%s: the name %s would lie outside %s",
                             dir, path.s, dir)
            : kl_buf_setf(&full, "%s/%s/.", dir, path.s) < 0
                ? kl_err_oom(err)
                : kl_make_parents(full.s, err);
        break;
    default:
        r = cli_program_read(p, e, BUNDLE_PART_DATA, &b, err);
        if (r == 0)
            r = cli_write_new(dir, path.s, b.data, b.size,
                              e->kind == BUNDLE_KIND_EXTENSION ||
                                      e->kind == BUNDLE_KIND_SHLIB
                                  ? 0755 : 0644,
                              err);
        cli_bytes_free(&b);
        *written += r == 0;
        break;
    }
    kl_buf_free(&path);
    kl_buf_free(&full);
    return r;
}

/* The default output folder of program path: its base name with
 * "_extracted", in the current directory. */
static int cli_extract_default_dir(const char *path, kl_buf *dir)
{
    size_t n = strlen(path);
    const char *base;

    while (n > 1 && path[n - 1] == '/')
        n--;
    base = path + n;
    while (base > path && base[-1] != '/')
        base--;
    return kl_buf_setf(dir, "%.*s_extracted", (int)(path + n - base), base);
}

int cli_extract(int argc, char **argv)
{
    cli_extract_args a;
    kl_buf dir = KL_BUF_INIT;
    cli_program p;
    size_t i, written = 0;
    uint32_t k;
    kl_err err;
    int r;

    r = cli_extract_parse(argc, argv, &a);
    if (r >= 0) {
        free(a.names);
        return r;
    }
    if ((a.dir != NULL ? kl_buf_sets(&dir, a.dir)
                       : cli_extract_default_dir(a.program, &dir)) < 0) {
        free(a.names);
        return cli_fail((kl_err_oom(&err), &err));
    }
    if (cli_program_open(&p, a.program, &err) < 0) {
        free(a.names);
        kl_buf_free(&dir);
        return cli_fail(&err);
    }
    /* Every name must be there before anything is written. */
    for (i = 0, r = 0; r == 0 && i < a.n_names; i++) {
        for (k = 0; k < p.v.header->entry_count; k++)
            if (strcmp(bundle_entry_name(&p.v, &p.v.entries[k]),
                       a.names[i]) == 0)
                break;
        if (k == p.v.header->entry_count)
            r = kl_err_set(&err, "%s has no entry named %s (kiln inspect %s "
                                 "lists them)", p.path, a.names[i], p.path);
    }
    for (k = 0; r == 0 && k < p.v.header->entry_count; k++) {
        const bundle_entry *e = &p.v.entries[k];
        const char *name = bundle_entry_name(&p.v, e);

        for (i = 0; !a.all && i < a.n_names; i++)
            if (strcmp(name, a.names[i]) == 0)
                break;
        if (a.all || i < a.n_names)
            r = cli_extract_entry(&p, e, dir.s, &written, &err);
    }
    if (r == 0)
        printf("%s: wrote %zu file%s to %s\n", p.path, written,
               written == 1 ? "" : "s", dir.s);
    cli_program_close(&p);
    free(a.names);
    kl_buf_free(&dir);
    return r < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}
