/*
 * fz_dist.h: installed distributions, read from the .dist-info directories
 * of the search path: which distribution a module's file belongs to, what
 * a distribution requires, the helper modules and entry points it
 * declares. No Python here (the C unit tests use it directly).
 */
#ifndef KILN_FZ_DIST_H
#define KILN_FZ_DIST_H

#include "../common/kl_common.h"

/* ---- fz_distfile.c: the files of a .dist-info directory ------------------ */

/* The PEP 503 form of project name s[0, n): lower case, every run of '-',
 * '_' and '.' one '-'. A new malloc'd string, NULL when out of memory. */
char *fz_dist_normalize(const char *s, size_t n);

/* Append to out the path (first field, CSV quoting undone) of every line
 * of RECORD text[0, n). Paths outside the installation directory (absolute,
 * or with a ".." component) and lines without a path are skipped, so a
 * damaged RECORD yields fewer paths, never an error. Fails only when out
 * of memory. */
int fz_dist_parse_record(const char *text, size_t n, kl_strv *out,
                         kl_err *err);

/* Call each(ctx, key, klen, value, vlen) for every header of the RFC 822
 * style text[0, n) (METADATA, PKG-INFO), up to the first empty line: the
 * key before the colon, the value after it (not trimmed), a folded
 * header's lines joined by `fold`, line endings dropped; lines without a
 * colon are skipped. Stops at the first each that returns -1. 0, or -1
 * when each did or when out of memory. */
int fz_dist_headers(const char *text, size_t n, const char *fold,
                    int (*each)(void *ctx, const char *key, size_t klen,
                                const char *value, size_t vlen),
                    void *ctx);

/* Read the headers of METADATA text[0, n) (up to the first empty line):
 * *name becomes the Name header (new malloc'd string, or NULL when there
 * is none) and requires gets the normalized project name of every
 * Requires-Dist whose environment marker does not mention `extra` (a
 * requirement of an extra is not a requirement of the distribution; other
 * markers, such as a platform, still are). Lines that do not parse are
 * skipped. Fails only when out of memory. */
int fz_dist_parse_metadata(const char *text, size_t n, char **name,
                           kl_strv *requires, kl_err *err);

/* Append to out "MODULE GROUP" for every entry of entry_points.txt
 * text[0, n) ("name = module:attr [extras]" in section [GROUP]) outside
 * the console_scripts and gui_scripts groups, whose targets are programs
 * rather than plugins. Entries whose module is not a dotted name, or that
 * lie in no section, are skipped. Fails only when out of memory. */
int fz_dist_parse_entry_points(const char *text, size_t n, kl_strv *out,
                               kl_err *err);

/* Append every non-empty line of text[0, n) (top_level.txt), trimmed. */
int fz_dist_parse_lines(const char *text, size_t n, kl_strv *out,
                        kl_err *err);

/* True when s[0, n) is a dotted Python name ("a.b_c"; ASCII only). */
int fz_dist_is_dotted(const char *s, size_t n);

/* Sort l and drop repeated strings. */
void fz_strv_sort_unique(kl_strv *l);

/* True when sorted list l holds s. */
int fz_strv_has(const kl_strv *l, const char *s);

/* ---- fz_dist.c: the index ------------------------------------------------- */

/* One installed distribution. Its files are read the first time it is
 * asked about (fz_dist_load); until then only the names are known. */
typedef struct fz_dist {
    char *name;         /* project name: METADATA's Name once loaded, else
                           from the directory name ("PyYAML") */
    char *key;          /* normalized name ("pyyaml") */
    char *version;      /* from the directory name, "" when it has none */
    char *info;         /* the .dist-info directory, a full path */
    const char *info_base; /* its last component ("PyYAML-6.0.2.dist-info"),
                           inside info */
    const char *site;   /* the directory it is installed into; RECORD paths
                           are relative to it (owned by the index) */
    int loaded;         /* the fields below are read */
    int has_record;     /* RECORD was there (else files is empty and tops
                           come from top_level.txt) */
    kl_strv files;      /* RECORD paths, sorted */
    kl_strv tops;       /* top-level module names it installs, sorted */
    kl_strv requires;   /* normalized names it requires, sorted */
    kl_strv entry_points; /* "MODULE GROUP" of its entry points, sorted */
    kl_strv top_level;  /* top_level.txt, when read (a hint) */
    int top_level_read;
    int used;           /* the graph's mark: a module of it is in the
                           program */
    int followed;       /* the graph's mark: its helpers and entry points
                           were requested */
} fz_dist;

/* All distributions of the directories looked at so far. */
typedef struct fz_dists fz_dists;

/* A new, empty index over search (borrowed: the directories searched for
 * modules, in order). Nothing is read until a question needs it. */
int fz_dists_new(const kl_strv *search, fz_dists **out, kl_err *err);
void fz_dists_free(fz_dists *d);

/* The distribution that installed `rel` (a file path, or a directory path
 * when is_dir) below directory site, as its RECORD says; *out is NULL when
 * none did. Lists site's .dist-info directories the first time, then
 * reads the RECORD of the likeliest owners first (same name, listed in
 * top_level.txt) and of the others only when those do not own it. A
 * distribution whose files cannot be read owns nothing (and is said once
 * on stderr as a warning). */
int fz_dists_owner(fz_dists *d, const char *site, const char *rel,
                   int is_dir, fz_dist **out, kl_err *err);

/* The first distribution in search order whose normalized name is key,
 * loaded; *out is NULL when none is installed. */
int fz_dists_find(fz_dists *d, const char *key, fz_dist **out, kl_err *err);

/* Read d's RECORD, METADATA, entry_points.txt and top_level.txt, once.
 * Missing or damaged files leave the fields they fill empty. */
int fz_dist_load(fz_dist *d, kl_err *err);

/* True when d declares a requirement on other (outside extras). */
int fz_dist_requires(const fz_dist *d, const fz_dist *other);

/* Append to out the module names of the mypyc helper extension modules
 * (a name ending in "__mypyc", top-level or inside a package) d's RECORD
 * lists; an extension module is a path ending in one of suffixes. */
int fz_dist_mypyc(const fz_dist *d, const kl_strv *suffixes, kl_strv *out,
                  kl_err *err);

/* Append to out the directories (relative to d's site, sorted, each once)
 * that d's RECORD shows holding a .dist-info directory of their own:
 * installation roots d vendors and puts on sys.path at run time
 * ("setuptools/_vendor"). A .dist-info at the top is d's own. */
int fz_dist_vendor_roots(const fz_dist *d, kl_strv *out, kl_err *err);

/* The i-th distribution indexed so far (in the order found), or NULL past
 * the last. */
fz_dist *fz_dists_at(const fz_dists *d, size_t i);

#endif
