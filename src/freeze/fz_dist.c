/*
 * fz_dist.c: the index of installed distributions: the .dist-info
 * directories of each directory modules come from, listed the first time
 * that directory is asked about, and each distribution's files read the
 * first time it is.
 */
#include "fz_dist.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A directory whose distributions are listed: dists[first, first+count). */
typedef struct fz_site {
    char *dir;
    size_t first;
    size_t count;
} fz_site;

struct fz_dists {
    const kl_strv *search;
    fz_site *sites;
    size_t n_sites;
    size_t cap_sites;
    fz_dist **v;
    size_t n;
    size_t cap;
};

int fz_dists_new(const kl_strv *search, fz_dists **out, kl_err *err)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return kl_err_oom(err);
    (*out)->search = search;
    return 0;
}

/* Free d and everything it owns. */
static void fz_dist_free(fz_dist *d)
{
    free(d->name);
    free(d->key);
    free(d->version);
    free(d->info);
    kl_strv_free(&d->files);
    kl_strv_free(&d->tops);
    kl_strv_free(&d->requires);
    kl_strv_free(&d->entry_points);
    kl_strv_free(&d->top_level);
    free(d);
}

void fz_dists_free(fz_dists *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->n; i++)
        fz_dist_free(d->v[i]);
    for (i = 0; i < d->n_sites; i++)
        free(d->sites[i].dir);
    free(d->v);
    free(d->sites);
    free(d);
}

fz_dist *fz_dists_at(const fz_dists *d, size_t i)
{
    return i < d->n ? d->v[i] : NULL;
}

/* scandir filter: directory entries named *.dist-info. */
static int fz_is_dist_info(const struct dirent *e)
{
    size_t n = strlen(e->d_name);

    return n > 10 && strcmp(e->d_name + n - 10, ".dist-info") == 0;
}

/* A new record for directory `base` (NAME-VERSION.dist-info) in site. */
static int fz_dist_new(const char *site, const char *base, fz_dist **out,
                       kl_err *err)
{
    fz_dist *d = calloc(1, sizeof *d);
    size_t stem = strlen(base) - 10, n = strcspn(base, "-");
    kl_buf info = KL_BUF_INIT;

    *out = NULL;
    if (d == NULL)
        return kl_err_oom(err);
    if (n > stem)
        n = stem;
    d->site = site;
    d->name = strndup(base, n);
    d->key = fz_dist_normalize(base, n);
    d->version = n < stem ? strndup(base + n + 1, stem - n - 1) : strdup("");
    if (kl_path_join(&info, site, base) < 0 || d->name == NULL ||
        d->key == NULL || d->version == NULL) {
        kl_buf_free(&info);
        fz_dist_free(d);
        return kl_err_oom(err);
    }
    d->info = kl_buf_detach(&info);
    if (d->info == NULL) {
        fz_dist_free(d);
        return kl_err_oom(err);
    }
    d->info_base = d->info + strlen(d->info) - strlen(base);
    *out = d;
    return 0;
}

/* Append dist to the index. */
static int fz_dists_push(fz_dists *d, fz_dist *dist, kl_err *err)
{
    if (kl_room(&d->v, &d->cap, d->n, sizeof *d->v) < 0) {
        fz_dist_free(dist);
        return kl_err_oom(err);
    }
    d->v[d->n++] = dist;
    return 0;
}

/* The listing of directory dir, made now when it is the first question
 * about it. A directory that cannot be read holds no distributions. */
static int fz_dists_site(fz_dists *d, const char *dir, fz_site **out,
                         kl_err *err)
{
    struct dirent **list = NULL;
    fz_site *s;
    int n, i, r = 0;

    for (i = 0; (size_t)i < d->n_sites; i++)
        if (strcmp(d->sites[i].dir, dir) == 0) {
            *out = &d->sites[i];
            return 0;
        }
    if (kl_room(&d->sites, &d->cap_sites, d->n_sites, sizeof *d->sites) < 0)
        return kl_err_oom(err);
    s = &d->sites[d->n_sites];
    s->dir = strdup(dir);
    if (s->dir == NULL)
        return kl_err_oom(err);
    s->first = d->n;
    d->n_sites++;
    n = scandir(dir, &list, fz_is_dist_info, alphasort);
    for (i = 0; i < n; i++) {
        fz_dist *dist;

        if (r == 0 && fz_dist_new(s->dir, list[i]->d_name, &dist, err) == 0)
            r = fz_dists_push(d, dist, err);
        else
            r = -1;
        free(list[i]);
    }
    free(list);
    s->count = d->n - s->first;
    *out = s;
    return r;
}

/* Read file `name` of d's .dist-info directory into *text (NUL-terminated,
 * *n bytes; the caller frees it). *found is 0 when there is no such file;
 * a file that exists but cannot be read is a warning, and not found. */
static int fz_dist_read(const fz_dist *d, const char *name, uint8_t **text,
                        size_t *n, int *found, kl_err *err)
{
    kl_buf path = KL_BUF_INIT;
    kl_err why;

    *found = 0;
    *text = NULL;
    if (kl_path_join(&path, d->info, name) < 0)
        return kl_err_oom(err);
    if (kl_read_file(path.s, text, n, &why) == 0)
        *found = 1;
    else if (access(path.s, F_OK) == 0)
        kl_warn("%s (ignored)", why.msg);
    kl_buf_free(&path);
    return 0;
}

/* True when s[0, n) is a dotted name whose parts may also start with a
 * digit, as mypyc's helper modules ("81d243bd2c585b0f4821__mypyc") do:
 * import_module takes them. */
static int fz_dist_is_module_name(const char *s, size_t n)
{
    size_t i, run = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (run == 0)
                return 0;
            run = 0;
        } else if (c == '_' || (c >= 'a' && c <= 'z') ||
                   (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            run++;
        } else {
            return 0;
        }
    }
    return run > 0;
}

/* The top-level module name a RECORD path stands for, appended to tops:
 * its first directory, or a top-level .py or extension file's stem. */
static int fz_dist_top(const char *path, kl_strv *tops, kl_err *err)
{
    const char *slash = strchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : strcspn(path, ".");
    const char *rest = path + n;

    if (slash == NULL && strcmp(rest, ".py") != 0 &&
        (strlen(rest) < 3 || strcmp(rest + strlen(rest) - 3, ".so") != 0) &&
        (strlen(rest) < 4 || strcmp(rest + strlen(rest) - 4, ".pyd") != 0))
        return 0;
    if (!fz_dist_is_module_name(path, n) || memchr(path, '.', n) != NULL ||
        (n == 11 && strncmp(path, "__pycache__", 11) == 0))
        return 0;
    if (kl_strv_take(tops, strndup(path, n)) < 0)
        return kl_err_oom(err);
    return 0;
}

/* Read top_level.txt into d->top_level, once. */
static int fz_dist_top_level(fz_dist *d, kl_err *err)
{
    uint8_t *text;
    size_t n;
    int found, r;

    if (d->top_level_read)
        return 0;
    d->top_level_read = 1;
    if (fz_dist_read(d, "top_level.txt", &text, &n, &found, err) < 0)
        return -1;
    r = found ? fz_dist_parse_lines((char *)text, n, &d->top_level, err) : 0;
    free(text);
    fz_strv_sort_unique(&d->top_level);
    return r;
}

int fz_dist_load(fz_dist *d, kl_err *err)
{
    uint8_t *text = NULL;
    char *name = NULL;
    size_t n, i;
    int found, r;

    if (d->loaded)
        return 0;
    d->loaded = 1;
    r = fz_dist_read(d, "RECORD", &text, &n, &found, err);
    d->has_record = found;
    if (r == 0 && found)
        r = fz_dist_parse_record((char *)text, n, &d->files, err);
    free(text);
    for (i = 0; r == 0 && i < d->files.n; i++)
        r = fz_dist_top(d->files.v[i], &d->tops, err);
    if (r == 0)
        r = fz_dist_read(d, "METADATA", &text, &n, &found, err);
    if (r == 0 && found)
        r = fz_dist_parse_metadata((char *)text, n, &name, &d->requires, err);
    free(text);
    if (r == 0 && name != NULL) {
        free(d->name);
        d->name = name;
    }
    if (r == 0)
        r = fz_dist_read(d, "entry_points.txt", &text, &n, &found, err);
    if (r == 0 && found)
        r = fz_dist_parse_entry_points((char *)text, n, &d->entry_points,
                                       err);
    free(text);
    if (r == 0)
        r = fz_dist_top_level(d, err);
    for (i = 0; r == 0 && !d->has_record && i < d->top_level.n; i++)
        if (kl_strv_push(&d->tops, d->top_level.v[i]) < 0)
            r = kl_err_oom(err);
    fz_strv_sort_unique(&d->files);
    fz_strv_sort_unique(&d->tops);
    fz_strv_sort_unique(&d->requires);
    fz_strv_sort_unique(&d->entry_points);
    return r;
}

/* True when d installed rel (a file, or with is_dir a directory holding
 * files), whose first component is top. */
static int fz_dist_owns(const fz_dist *d, const char *rel, int is_dir,
                        const char *top)
{
    size_t lo = 0, hi = d->files.n, n = strlen(rel);

    if (!d->has_record)
        return fz_strv_has(&d->tops, top);
    if (!is_dir)
        return fz_strv_has(&d->files, rel);
    while (lo < hi) { /* the first path not below rel */
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(d->files.v[mid], rel) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < d->files.n && strncmp(d->files.v[lo], rel, n) == 0; lo++)
        if (d->files.v[lo][n] == '/')
            return 1;
    return 0;
}

/* How likely d owns top-level name top (normalized: ntop): 0 same name,
 * 1 one name extends the other ("attr" and "attrs"), 2 listed in
 * top_level.txt, 3 no sign. */
static int fz_dist_likeliness(fz_dist *d, const char *top, const char *ntop,
                              kl_err *err, int *rank)
{
    size_t a = strlen(d->key), b = strlen(ntop);

    *rank = 3;
    if (strcmp(d->key, ntop) == 0)
        *rank = 0;
    else if (strncmp(d->key, ntop, a < b ? a : b) == 0)
        *rank = 1;
    else if (fz_dist_top_level(d, err) < 0)
        return -1;
    else if (fz_strv_has(&d->top_level, top))
        *rank = 2;
    return 0;
}

int fz_dists_owner(fz_dists *d, const char *site, const char *rel,
                   int is_dir, fz_dist **out, kl_err *err)
{
    size_t n = strcspn(rel, "/"), i;
    char *top = NULL, *ntop = NULL;
    int *rank = NULL, pass, r = 0;
    fz_site *s;

    *out = NULL;
    if (fz_dists_site(d, site, &s, err) < 0)
        return -1;
    if (s->count == 0)
        return 0;
    if (rel[n] == '\0')
        n = strcspn(rel, ".");
    top = strndup(rel, n);
    ntop = top ? fz_dist_normalize(top, n) : NULL;
    rank = calloc(s->count, sizeof *rank);
    if (top == NULL || ntop == NULL || rank == NULL) {
        r = kl_err_oom(err);
        goto done;
    }
    for (i = 0; r == 0 && i < s->count; i++)
        r = fz_dist_likeliness(d->v[s->first + i], top, ntop, err, &rank[i]);
    for (pass = 0; r == 0 && *out == NULL && pass <= 3; pass++)
        for (i = 0; r == 0 && *out == NULL && i < s->count; i++) {
            fz_dist *dist = d->v[s->first + i];

            if (rank[i] != pass)
                continue;
            r = fz_dist_load(dist, err);
            if (r == 0 && fz_dist_owns(dist, rel, is_dir, top))
                *out = dist;
        }
done:
    free(top);
    free(ntop);
    free(rank);
    return r;
}

int fz_dists_find(fz_dists *d, const char *key, fz_dist **out, kl_err *err)
{
    size_t k, i;
    fz_site *s;

    *out = NULL;
    for (k = 0; k < d->search->n; k++) {
        if (fz_dists_site(d, d->search->v[k], &s, err) < 0)
            return -1;
        for (i = 0; i < s->count; i++)
            if (strcmp(d->v[s->first + i]->key, key) == 0) {
                *out = d->v[s->first + i];
                return fz_dist_load(*out, err);
            }
    }
    return 0;
}

int fz_dist_requires(const fz_dist *d, const fz_dist *other)
{
    return fz_strv_has(&d->requires, other->key);
}

int fz_dist_mypyc(const fz_dist *d, const kl_strv *suffixes, kl_strv *out,
                  kl_err *err)
{
    size_t i, k;

    for (i = 0; i < d->files.n; i++) {
        const char *f = d->files.v[i];
        size_t n = strlen(f);

        for (k = 0; k < suffixes->n; k++) {
            size_t sl = strlen(suffixes->v[k]);
            char *name, *p;

            if (n <= sl + 7 || strcmp(f + n - sl, suffixes->v[k]) != 0 ||
                strncmp(f + n - sl - 7, "__mypyc", 7) != 0)
                continue;
            name = strndup(f, n - sl);
            for (p = name; p != NULL && *p; p++)
                if (*p == '/')
                    *p = '.';
            if (name != NULL && !fz_dist_is_module_name(name, strlen(name))) {
                free(name);
                break;
            }
            if (kl_strv_take(out, name) < 0)
                return kl_err_oom(err);
            break;
        }
    }
    return 0;
}

int fz_dist_vendor_roots(const fz_dist *d, kl_strv *out, kl_err *err)
{
    size_t i;

    for (i = 0; i < d->files.n; i++) {
        const char *f = d->files.v[i], *info = strstr(f, ".dist-info/");
        const char *slash;
        char *root;

        if (info == NULL)
            continue;
        for (slash = info; slash > f && slash[-1] != '/'; slash--)
            ;
        if (slash == f)
            continue;
        root = strndup(f, (size_t)(slash - 1 - f));
        if (root == NULL || kl_strv_take(out, root) < 0)
            return kl_err_oom(err);
    }
    fz_strv_sort_unique(out);
    return 0;
}
