/*
 * cli_analyze.c: `kiln analyze PROGRAM|LIBRARY [--json]`: the native
 * objects a built program carries (its executable, extension modules and
 * shared libraries), or a shared library and what it would bring into a
 * program; for each, the libraries it needs and how each is satisfied
 * (bundled, base system, left to the machine, missing), and the oldest
 * glibc every object accepts: the highest GLIBC_x.y symbol version any of
 * them needs.
 */
#include "cli.h"

#include "../elf/elf_reader.h"
#include "../freeze/fz_libs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cli_analyze_usage[] =
    "usage: kiln analyze PROGRAM|LIBRARY [--json]\n"
    "\n"
    "List the native code of a program built by kiln (its executable, its\n"
    "extension modules and the shared libraries it carries), or of a shared\n"
    "library as a build would bundle it: each object's needed libraries and\n"
    "how each is satisfied:\n"
    "  bundled   the program carries it (for a LIBRARY: a build would,\n"
    "            from the path shown)\n"
    "  base      a base-system library, left to the machine (docs/native.md)\n"
    "  system    left to the machine; this machine has it at the path shown\n"
    "  missing   left to the machine, and this machine has none\n"
    "and the oldest glibc the whole program runs with.\n"
    "\n"
    "  --json       the same as one JSON object\n"
    "  -h, --help   show this help\n";

/* What is found out, written as text and as JSON side by side. */
typedef struct cli_an {
    kl_buf text;
    kl_buf json;
    size_t n_objects;
    unsigned glibc[3];     /* highest GLIBC_x.y.z needed, 0.0.0: none */
    kl_buf glibc_by;       /* the object that needs it */
    int oom;
} cli_an;

/* Parse "GLIBC_2.34" (or 2.3.4) into v; 0 when name is not such a
 * version (GLIBC_PRIVATE and other libraries' versions are not). */
static int cli_an_glibc_version(const char *name, unsigned v[3])
{
    const char *p = name + 6;
    int i;

    if (strncmp(name, "GLIBC_", 6) != 0 || *p < '0' || *p > '9')
        return 0;
    v[0] = v[1] = v[2] = 0;
    for (i = 0; i < 3 && *p >= '0' && *p <= '9'; i++) {
        v[i] = (unsigned)strtoul(p, (char **)&p, 10);
        if (*p == '.')
            p++;
    }
    return 1;
}

/* Whether version a is newer than version b. */
static int cli_an_newer(const unsigned a[3], const unsigned b[3])
{
    int i;

    for (i = 0; i < 3; i++)
        if (a[i] != b[i])
            return a[i] > b[i];
    return 0;
}

/* Write version v as "2.34" or "2.3.4" into out. */
static void cli_an_version(const unsigned v[3], char out[40])
{
    if (v[2] != 0)
        snprintf(out, 40, "%u.%u.%u", v[0], v[1], v[2]);
    else
        snprintf(out, 40, "%u.%u", v[0], v[1]);
}

/* Append to a's JSON the JSON string s. */
static void cli_an_json_str(cli_an *a, const char *s)
{
    if (kl_json_str(&a->json, s, strlen(s), 0) < 0)
        a->oom = 1;
}

/* Append formatted text to buffer b of a; remember running out of
 * memory. */
#define CLI_AN_ADD(a, b, ...)                                                 \
    do {                                                                      \
        if (kl_buf_addf((b), __VA_ARGS__) < 0)                                \
            (a)->oom = 1;                                                     \
    } while (0)

/* How a library a program's object needs is satisfied: *where gets the
 * path on this machine for "system" (malloc'd) or stays NULL. */
static const char *cli_an_status_program(const bundle_view *v,
                                         const char *needed, uint16_t machine,
                                         char **where, kl_err *err)
{
    *where = NULL;
    if (bundle_find(v, BUNDLE_NS_LIB, needed, strlen(needed)) != NULL)
        return "bundled";
    if (fz_libs_is_base(NULL, needed))
        return "base";
    if (fz_ldso_find(needed, machine, where, err) < 0)
        return NULL;
    return *where != NULL ? "system" : "missing";
}

/* How a library a standalone library's object needs is satisfied, given
 * what collecting it found (libs): *where gets the path a build would
 * bundle it from (borrowed from libs) or stays NULL. */
static const char *cli_an_status_library(const fz_libs *libs,
                                         const char *needed,
                                         const char **where)
{
    size_t i;

    *where = NULL;
    for (i = 0; i < libs->names.n; i++)
        if (strcmp(libs->names.v[i], needed) == 0) {
            *where = libs->files.v[i];
            return "bundled";
        }
    if (fz_libs_is_base(NULL, needed))
        return "base";
    return "missing";
}

/* Add object image[0, size) (of kind, called name, at path) to a: its
 * needs, each with its status, read from the program bundle v, or from
 * libs for a standalone library (v NULL). */
static int cli_an_object(cli_an *a, const bundle_view *v, const fz_libs *libs,
                         const char *kind, const char *name, const char *path,
                         const void *image, size_t size, kl_err *err)
{
    elf_info info;
    size_t i;
    unsigned top[3] = {0, 0, 0}, ver[3];
    char vs[40];

    if (elf_read(image, size, &info, err) < 0)
        return kl_err_prefix(err, "%s", name);
    for (i = 0; i < info.n_version_needs; i++)
        if (cli_an_glibc_version(info.version_needs[i].version, ver) &&
            cli_an_newer(ver, top))
            memcpy(top, ver, sizeof ver);
    cli_an_version(top, vs);
    if (cli_an_newer(top, a->glibc)) {
        memcpy(a->glibc, top, sizeof top);
        if (kl_buf_sets(&a->glibc_by, name) < 0)
            a->oom = 1;
    }
    CLI_AN_ADD(a, &a->text, "%s %s", kind, name);
    if (path != NULL && strcmp(path, name) != 0)
        CLI_AN_ADD(a, &a->text, " (%s)", path);
    if (top[0] != 0)
        CLI_AN_ADD(a, &a->text, ", needs glibc %s", vs);
    CLI_AN_ADD(a, &a->text, "\n");
    CLI_AN_ADD(a, &a->json, "%s\n    {\"kind\": ", a->n_objects ? "," : "");
    cli_an_json_str(a, kind);
    CLI_AN_ADD(a, &a->json, ", \"name\": ");
    cli_an_json_str(a, name);
    CLI_AN_ADD(a, &a->json, ", \"path\": ");
    cli_an_json_str(a, path != NULL ? path : name);
    CLI_AN_ADD(a, &a->json, ", \"soname\": ");
    if (info.soname != NULL)
        cli_an_json_str(a, info.soname);
    else
        CLI_AN_ADD(a, &a->json, "null");
    if (top[0] != 0)
        CLI_AN_ADD(a, &a->json, ", \"glibc\": \"%s\"", vs);
    else
        CLI_AN_ADD(a, &a->json, ", \"glibc\": null");
    CLI_AN_ADD(a, &a->json, ", \"needs\": [");
    for (i = 0; i < info.n_needed; i++) {
        const char *needed = info.needed[i], *status, *where = NULL;
        char *found = NULL;

        if (v != NULL) {
            status = cli_an_status_program(v, needed, info.machine, &found,
                                           err);
            if (status == NULL) {
                elf_info_free(&info);
                return -1;
            }
            where = found;
        } else {
            status = cli_an_status_library(libs, needed, &where);
        }
        CLI_AN_ADD(a, &a->text, "    %-32s %s%s%s\n", needed, status,
                   where ? "  " : "", where ? where : "");
        CLI_AN_ADD(a, &a->json, "%s{\"name\": ", i ? ", " : "");
        cli_an_json_str(a, needed);
        CLI_AN_ADD(a, &a->json, ", \"status\": \"%s\", \"path\": ", status);
        if (where != NULL)
            cli_an_json_str(a, where);
        else
            CLI_AN_ADD(a, &a->json, "null");
        CLI_AN_ADD(a, &a->json, "}");
        free(found);
    }
    CLI_AN_ADD(a, &a->json, "]}");
    a->n_objects++;
    elf_info_free(&info);
    return 0;
}

/* Add every native object of the program (bundle v in map, executable at
 * exe): the executable itself (an extension module kiln built: the module
 * itself), then its extension modules and libraries (a folder program's
 * from their files). */
static int cli_an_program(cli_an *a, const char *exe, const kl_map *map,
                          const bundle_view *v, kl_err *err)
{
    uint32_t k;
    int r;

    r = cli_an_object(a, v, NULL,
                      v->header->run_mode == BUNDLE_RUN_EXTENSION
                          ? "module"
                          : "executable",
                      exe, NULL, map->data, (size_t)map->size, err);
    for (k = 0; r == 0 && k < v->header->entry_count; k++) {
        const bundle_entry *e = &v->entries[k];
        const char *kind = e->kind == BUNDLE_KIND_EXTENSION ? "extension"
                           : e->kind == BUNDLE_KIND_SHLIB   ? "library"
                                                            : NULL;
        const uint8_t *data;
        uint8_t *owned = NULL;
        size_t size;
        kl_map m = {NULL, 0};

        if (kind == NULL)
            continue;
        if (e->flags & BUNDLE_FLAG_EXTERNAL) {
            if ((r = cli_map_external(exe, v, e, &m, err)) < 0)
                break;
            data = m.data;
            size = (size_t)m.size;
        } else if (bundle_read(v, e, BUNDLE_PART_DATA, &data, &size, &owned,
                               err) < 0) {
            r = kl_err_prefix(err, "%s", bundle_entry_name(v, e));
            break;
        }
        r = cli_an_object(a, v, NULL, kind, bundle_entry_name(v, e),
                          bundle_entry_path(v, e), data, size, err);
        free(owned);
        kl_unmap(&m);
    }
    return r;
}

/* Add the shared library at path and every library a build would bundle
 * with it (fz_libs_collect), each with its needs. */
static int cli_an_library(cli_an *a, const char *path, const kl_map *map,
                          kl_err *err)
{
    fz_libs libs = FZ_LIBS_INIT;
    size_t i;
    int r;

    r = fz_libs_collect(path, &libs, err);
    if (r == 0)
        r = cli_an_object(a, NULL, &libs, "library", path, NULL, map->data,
                          (size_t)map->size, err);
    for (i = 0; r == 0 && i < libs.names.n; i++) {
        kl_map m;

        if (kl_map_file(libs.files.v[i], &m, err) < 0) {
            r = -1;
            break;
        }
        r = cli_an_object(a, NULL, &libs, "library", libs.names.v[i],
                          libs.files.v[i], m.data, (size_t)m.size, err);
        kl_unmap(&m);
    }
    fz_libs_free(&libs);
    return r;
}

/* Print what a found about path, as text or JSON. */
static void cli_an_print(const cli_an *a, const char *path, int json)
{
    char vs[40];

    cli_an_version(a->glibc, vs);
    if (json) {
        kl_buf head = KL_BUF_INIT;

        if (kl_json_str(&head, path, strlen(path), 0) < 0)
            return;
        printf("{\"file\": %s, \"glibc\": ", head.s);
        if (a->glibc[0] != 0)
            printf("\"%s\"", vs);
        else
            printf("null");
        kl_buf_sets(&head, "");
        if (kl_json_str(&head, a->glibc_by.s ? a->glibc_by.s : "",
                        a->glibc_by.len,
                        0) < 0)
            return;
        printf(", \"glibc_needed_by\": %s,\n \"objects\": [%s\n]}\n",
               a->glibc[0] ? head.s : "null", a->json.s ? a->json.s : "");
        kl_buf_free(&head);
        return;
    }
    printf("%s: %zu native object%s", path, a->n_objects,
           a->n_objects == 1 ? "" : "s");
    if (a->glibc[0] != 0)
        printf("; runs with glibc %s or newer (%s needs GLIBC_%s)", vs,
               a->glibc_by.s, vs);
    printf("\n%s", a->text.s ? a->text.s : "");
}

int cli_analyze(int argc, char **argv)
{
    const char *path = NULL;
    kl_map map = {NULL, 0};
    kl_buf exe = KL_BUF_INIT;
    cli_an a = {KL_BUF_INIT, KL_BUF_INIT, 0, {0, 0, 0}, KL_BUF_INIT, 0};
    bundle_view v;
    kl_err err;
    int json = 0, i, r, status = CLI_EXIT_FAIL;

    i = cli_path_args(argc, argv, "analyze", cli_analyze_usage, "--json",
                      "PROGRAM or LIBRARY", &path, &json);
    if (i >= 0)
        return i;
    if (cli_map_path(&path, &exe, &map, &err) < 0) {
        kl_buf_free(&exe);
        return cli_fail(&err);
    }
    if (bundle_present(map.data, map.size))
        r = bundle_open(&v, map.data, map.size, &err) < 0
                ? kl_err_prefix(&err, "%s", path)
                : cli_an_program(&a, path, &map, &v, &err);
    else
        r = cli_an_library(&a, path, &map, &err);
    if (r == 0 && a.oom)
        r = kl_err_oom(&err);
    if (r < 0) {
        if (strstr(err.msg, "ELF") != NULL && !bundle_present(map.data,
                                                              map.size))
            kl_err_prefix(&err, "%s is neither a kiln program nor a shared "
                          "library", path);
        cli_fail(&err);
    } else {
        cli_an_print(&a, path, json);
        status = CLI_EXIT_OK;
    }
    kl_unmap(&map);
    kl_buf_free(&exe);
    kl_buf_free(&a.text);
    kl_buf_free(&a.json);
    kl_buf_free(&a.glibc_by);
    return status;
}
