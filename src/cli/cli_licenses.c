/*
 * cli_licenses.c: `kiln inspect --licenses` and `--license-texts DIR`:
 * the Python a program embeds, every distribution it carries with the
 * licence its metadata states and its licence files, and where each
 * bundled native library came from; the texts written out for a vendor
 * to ship with the program.
 */
#include "cli.h"
#include "../freeze/fz_dist.h"

#include <patchlevel.h>

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One distribution a program carries: its metadata directory in the
 * bundle and what its metadata says about its licence. */
typedef struct cli_dist {
    kl_buf dir;         /* "numpy-2.1.3.dist-info", no slash */
    char *name, *version;
    char *expression;   /* License-Expression, or NULL */
    char *license;      /* License (continuation lines joined), or NULL */
    kl_buf classifiers; /* "MIT License; BSD License", or empty */
    kl_strv license_files; /* License-File values */
    kl_strv files;      /* bundle names of its licence files */
} cli_dist;

/* Every distribution of a program, in the bundle's order. */
typedef struct cli_dists {
    cli_dist *v;
    size_t n, cap;
} cli_dists;

/* Free what d holds. */
static void cli_dist_free(cli_dist *d)
{
    kl_buf_free(&d->dir);
    free(d->name);
    free(d->version);
    free(d->expression);
    free(d->license);
    kl_buf_free(&d->classifiers);
    kl_strv_free(&d->license_files);
    kl_strv_free(&d->files);
}

/* A new string of s[0, n) with surrounding blanks removed, or NULL when
 * out of memory. */
static char *cli_lic_strip(const char *s, size_t n)
{
    char *out;

    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

/* fz_dist_headers' callback: one header of a metadata file, key[0, klen)
 * with its value value[0, vlen) (a folded one's lines joined by newlines),
 * into the cli_dist ctx. -1 when out of memory. */
static int cli_lic_header(void *ctx, const char *key, size_t klen,
                          const char *value, size_t vlen)
{
    cli_dist *d = ctx;
    static const char classifier[] = "License :: ";
    char *s, **slot = NULL;
    int r = 0;

#define CLI_LIC_IS(name) (klen == sizeof(name) - 1 && \
                          strncasecmp(key, name, klen) == 0)
    if (CLI_LIC_IS("Name"))
        slot = &d->name;
    else if (CLI_LIC_IS("Version"))
        slot = &d->version;
    else if (CLI_LIC_IS("License-Expression"))
        slot = &d->expression;
    else if (CLI_LIC_IS("License"))
        slot = &d->license;
    else if (!CLI_LIC_IS("License-File") && !CLI_LIC_IS("Classifier"))
        return 0;
    s = cli_lic_strip(value, vlen);
    if (s == NULL)
        return -1;
    if (slot != NULL) {
        if (*slot == NULL && s[0] != '\0' && strcmp(s, "UNKNOWN") != 0) {
            *slot = s;
            return 0;
        }
    } else if (CLI_LIC_IS("License-File")) {
        r = kl_strv_push(&d->license_files, s);
    } else if (strncmp(s, classifier, sizeof classifier - 1) == 0) {
        const char *last = strrchr(s, ':');

        r = kl_buf_addf(&d->classifiers, "%s%s",
                        d->classifiers.len ? "; " : "",
                        last != NULL ? last + 1 + (last[1] == ' ') : s);
    }
#undef CLI_LIC_IS
    free(s);
    return r;
}

/* True when the file rel (relative to its metadata directory) of d is a
 * licence file: under licenses/ (PEP 639), named by a License-File
 * header, or named like one (LICENSE, LICENCE, COPYING, NOTICE, AUTHORS,
 * COPYRIGHT, with any suffix). */
static int cli_lic_is_license_file(const cli_dist *d, const char *rel)
{
    static const char *const stems[] = {"LICENSE", "LICENCE", "COPYING",
                                        "NOTICE", "AUTHORS", "COPYRIGHT"};
    const char *base = strrchr(rel, '/');
    size_t i;

    if (strncmp(rel, "licenses/", 9) == 0)
        return 1;
    for (i = 0; i < d->license_files.n; i++)
        if (strcmp(rel, d->license_files.v[i]) == 0)
            return 1;
    base = base != NULL ? base + 1 : rel;
    for (i = 0; i < sizeof stems / sizeof stems[0]; i++)
        if (strncasecmp(base, stems[i], strlen(stems[i])) == 0)
            return 1;
    return 0;
}

/* The metadata directory of a bundle name: the length of its
 * "X.dist-info" or "X.egg-info" first component, or 0. */
static size_t cli_lic_info_dir(const char *name)
{
    const char *slash = strchr(name, '/');
    size_t n = slash != NULL ? (size_t)(slash - name) : 0;

    if (n > 10 && memcmp(name + n - 10, ".dist-info", 10) == 0)
        return n;
    if (n > 9 && memcmp(name + n - 9, ".egg-info", 9) == 0)
        return n;
    return 0;
}

/* Find every distribution p carries (a METADATA or PKG-INFO file at the
 * top of a metadata directory), read its headers and list its licence
 * files, into *out. */
static int cli_lic_collect(const cli_program *p, cli_dists *out,
                           kl_err *err)
{
    const bundle_view *v = &p->v;
    uint32_t k;
    size_t i;

    for (k = 0; k < v->header->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];
        const char *name = bundle_entry_name(v, e);
        size_t n = cli_lic_info_dir(name);
        cli_dist *d;
        cli_bytes b;
        int r;

        if (e->kind != BUNDLE_KIND_METADATA || n == 0 ||
            (strcmp(name + n, "/METADATA") != 0 &&
             strcmp(name + n, "/PKG-INFO") != 0))
            continue;
        if (kl_room(&out->v, &out->cap, out->n, sizeof *out->v) < 0)
            return kl_err_oom(err);
        d = &out->v[out->n++];
        memset(d, 0, sizeof *d);
        if (kl_buf_setf(&d->dir, "%.*s", (int)n, name) < 0)
            return kl_err_oom(err);
        if (cli_program_read(p, e, BUNDLE_PART_DATA, &b, err) < 0) {
            cli_bytes_free(&b);
            return kl_err_prefix(err, "%s", p->path);
        }
        r = fz_dist_headers((const char *)b.data, b.size, "\n",
                            cli_lic_header, d);
        cli_bytes_free(&b);
        if (r < 0)
            return kl_err_oom(err);
    }
    for (k = 0; k < v->header->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];
        const char *name = bundle_entry_name(v, e);
        size_t n = cli_lic_info_dir(name);

        if (e->kind != BUNDLE_KIND_METADATA || n == 0)
            continue;
        for (i = 0; i < out->n; i++) {
            cli_dist *d = &out->v[i];

            if (d->dir.len == n && memcmp(d->dir.s, name, n) == 0 &&
                cli_lic_is_license_file(d, name + n + 1) &&
                kl_strv_push(&d->files, name) < 0)
                return kl_err_oom(err);
        }
    }
    return 0;
}

/* *owner: the distribution among ds whose RECORD lists the file path, or
 * NULL. Fails when a RECORD cannot be read (damage). */
static int cli_lic_owner(const cli_program *p, const cli_dists *ds,
                         const char *path, const cli_dist **owner,
                         kl_err *err)
{
    size_t i;

    *owner = NULL;
    for (i = 0; *owner == NULL && i < ds->n; i++) {
        kl_buf record = KL_BUF_INIT;
        kl_strv paths = KL_STRV_INIT;
        const bundle_entry *e;
        cli_bytes b;
        int r;

        if (kl_buf_setf(&record, "%s/RECORD", ds->v[i].dir.s) < 0)
            return kl_err_oom(err);
        e = bundle_find(&p->v, BUNDLE_NS_FILE, record.s, record.len);
        kl_buf_free(&record);
        if (e == NULL)
            continue;
        if (cli_program_read(p, e, BUNDLE_PART_DATA, &b, err) < 0) {
            cli_bytes_free(&b);
            return kl_err_prefix(err, "%s", p->path);
        }
        r = fz_dist_parse_record((const char *)b.data, b.size, &paths, err);
        cli_bytes_free(&b);
        if (r == 0 && fz_strv_has(&paths, path))
            *owner = &ds->v[i];
        kl_strv_free(&paths);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* The first line of s and how many lines it has. */
static size_t cli_lic_first_line(const char *s, size_t *lines)
{
    size_t n = strcspn(s, "\n");
    const char *c;

    *lines = 1;
    for (c = s; (c = strchr(c, '\n')) != NULL; c++)
        ++*lines;
    return n;
}

/* Append to sum the summary of what p carries under which licences:
 * the Python, each of ds, each native library's origin. */
static int cli_lic_summary(const cli_program *p, const cli_dists *ds,
                           const char *python_text, kl_buf *sum, kl_err *err)
{
    const bundle_view *v = &p->v;
    char version[40];
    size_t i, natives = 0;
    uint32_t k;
    int r;

    cli_python_version(v->header->python_hex, version, sizeof version);
    r = kl_buf_addf(sum, "# %s: what it carries and under which licences\n"
                         "Python %s (CPython: %s)\n"
                         "  licence: PSF-2.0 (its LICENSE.txt also gives the "
                         "licences of the third-party code CPython "
                         "includes)\n  text: %s\n",
                    p->path, version,
                    v->header->run_mode == BUNDLE_RUN_EXTENSION
                        ? "the standard library modules it carries; the "
                          "host's own interpreter runs them"
                        : "the interpreter and the standard library modules "
                          "it carries",
                    python_text != NULL ? python_text
                    : (v->header->python_hex >> 16) == (PY_VERSION_HEX >> 16)
                        ? "not here: the Python this kiln embeds has no "
                          KILN_PYTHON_STDLIB "/LICENSE.txt"
                        : "not here: this kiln embeds another Python "
                          "version; `kiln inspect --licenses` of a kiln "
                          "for that version finds it");
    for (i = 0; r == 0 && i < ds->n; i++) {
        const cli_dist *d = &ds->v[i];
        size_t j, lines, n;

        r = kl_buf_addf(sum, "%s %s\n  licence: ",
                        d->name != NULL ? d->name : d->dir.s,
                        d->version != NULL ? d->version : "(no version)");
        if (r == 0 && d->expression != NULL)
            r = kl_buf_addf(sum, "%s (License-Expression)", d->expression);
        else if (r == 0 && d->license != NULL) {
            n = cli_lic_first_line(d->license, &lines);
            r = kl_buf_addf(sum, "%.*s%s (License%s)", (int)(n > 72 ? 72 : n),
                            d->license, n > 72 ? "..." : "",
                            lines > 1 ? ", the text itself" : "");
        }
        if (r == 0 && d->classifiers.len > 0)
            r = kl_buf_addf(sum, "%s%s (classifier)",
                            d->expression != NULL || d->license != NULL
                                ? "; " : "",
                            d->classifiers.s);
        if (r == 0 && d->expression == NULL && d->license == NULL &&
            d->classifiers.len == 0)
            r = kl_buf_adds(sum, "not stated in its metadata");
        if (r == 0)
            r = kl_buf_adds(sum, "\n  files:");
        for (j = 0; r == 0 && j < d->files.n; j++)
            r = kl_buf_addf(sum, " %s", d->files.v[j]);
        if (r == 0)
            r = kl_buf_adds(sum, d->files.n ? "\n" : " none in its metadata\n");
    }
    for (k = 0; r == 0 && k < v->header->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];
        const char *path = bundle_entry_path(v, e);
        const cli_dist *owner = NULL;

        if (e->kind != BUNDLE_KIND_SHLIB)
            continue;
        if (!natives++ && kl_buf_adds(sum, "native libraries\n") < 0)
            return kl_err_oom(err);
        if (strchr(path, '/') != NULL &&
            cli_lic_owner(p, ds, path, &owner, err) < 0)
            return -1;
        if (r == 0 && owner != NULL)
            r = kl_buf_addf(sum, "  %s: from the distribution %s %s (%s in "
                                 "its RECORD)\n",
                            bundle_entry_name(v, e),
                            owner->name ? owner->name : owner->dir.s,
                            owner->version ? owner->version : "", path);
        else if (r == 0)
            r = kl_buf_addf(sum, "  %s: %s\n", bundle_entry_name(v, e),
                            strchr(path, '/') != NULL
                                ? "from a package's own library folder, "
                                  "listed by no distribution it carries"
                                : "a library of the system it was built on: "
                                  "its licence is that of the system "
                                  "package that installed it there");
    }
    return r < 0 ? kl_err_oom(err) : 0;
}

/* Write the licence texts of ds, and python_text's file, into dir, and
 * sum as dir/LICENSES.txt. Never writes over a file. */
static int cli_lic_write(const cli_program *p, const cli_dists *ds,
                         const char *python_text, const kl_buf *sum,
                         const char *dir, size_t *written, kl_err *err)
{
    kl_buf rel = KL_BUF_INIT;
    size_t i, j;
    int r = 0;

    *written = 0;
    if (python_text != NULL) {
        uint8_t *text;
        size_t n;
        char version[40];

        cli_python_version(p->v.header->python_hex, version, sizeof version);
        if (kl_read_file(python_text, &text, &n, err) < 0)
            return -1;
        r = kl_buf_setf(&rel, "python-%s/LICENSE.txt", version) < 0
                ? kl_err_oom(err)
                : cli_write_new(dir, rel.s, text, n, 0644, err);
        free(text);
        *written += r == 0;
    }
    for (i = 0; r == 0 && i < ds->n; i++) {
        const cli_dist *d = &ds->v[i];
        /* "numpy-2.1.3" of "numpy-2.1.3.dist-info". */
        size_t stem = (size_t)(strrchr(d->dir.s, '.') - d->dir.s);
        size_t lines;

        for (j = 0; r == 0 && j < d->files.n; j++) {
            const char *name = d->files.v[j];
            const bundle_entry *e = bundle_find(&p->v, BUNDLE_NS_FILE, name,
                                                strlen(name));
            cli_bytes b;

            assert(e != NULL);
            if (kl_buf_setf(&rel, "%.*s/%s", (int)stem, d->dir.s,
                            name + d->dir.len + 1) < 0) {
                r = kl_err_oom(err);
                break;
            }
            r = cli_program_read(p, e, BUNDLE_PART_DATA, &b, err);
            if (r == 0)
                r = cli_write_new(dir, rel.s, b.data, b.size, 0644, err);
            cli_bytes_free(&b);
            *written += r == 0;
        }
        if (r == 0 && d->license != NULL &&
            (cli_lic_first_line(d->license, &lines), lines > 1)) {
            if (kl_buf_setf(&rel, "%.*s/License-from-METADATA.txt", (int)stem,
                            d->dir.s) < 0)
                r = kl_err_oom(err);
            else
                r = cli_write_new(dir, rel.s, d->license, strlen(d->license),
                                  0644, err);
            *written += r == 0;
        }
    }
    if (r == 0)
        r = cli_write_new(dir, "LICENSES.txt", sum->s, sum->len, 0644, err);
    *written += r == 0;
    kl_buf_free(&rel);
    return r;
}

int cli_licenses(const cli_program *p, const char *dir, kl_err *err)
{
    cli_dists ds = {NULL, 0, 0};
    kl_buf sum = KL_BUF_INIT;
    const char *python_text = NULL;
    size_t i, written = 0;
    int r;

    /* This kiln knows where its own Python's licence text lies. */
    if ((p->v.header->python_hex >> 16) == (PY_VERSION_HEX >> 16) &&
        kl_is_file(KILN_PYTHON_STDLIB "/LICENSE.txt"))
        python_text = KILN_PYTHON_STDLIB "/LICENSE.txt";
    r = cli_lic_collect(p, &ds, err);
    if (r == 0)
        r = cli_lic_summary(p, &ds, python_text, &sum, err);
    if (r == 0 && dir != NULL)
        r = cli_lic_write(p, &ds, python_text, &sum, dir, &written, err);
    if (r == 0) {
        fputs(sum.s, stdout);
        if (dir != NULL)
            printf("# wrote %zu file%s to %s\n", written,
                   written == 1 ? "" : "s", dir);
    }
    for (i = 0; i < ds.n; i++)
        cli_dist_free(&ds.v[i]);
    free(ds.v);
    kl_buf_free(&sum);
    return r;
}
