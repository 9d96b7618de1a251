/*
 * rt_cache.c: the per-user, content-addressed cache of real files, for a
 * one-file program's packages whose files must exist on disk (native code
 * or another program given their paths). A package directory of the
 * program's tree (rt_files.c) is written once, under a temporary name and
 * renamed into place (rt_cachedir.c), to <cache>/<name>-<digest>/<name>;
 * later runs and other programs with the same files use it after checking
 * it against the program's bytes. No Python here.
 */
#include "rt_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One file or directory of the tree being cached. */
typedef struct rt_cache_item {
    char *rel;      /* below the package directory; "" for it */
    int is_dir;
    uint64_t size;
    uint64_t sum;   /* rt_files_checksum */
} rt_cache_item;

/* A package directory's listing, in walk order (parents first). */
typedef struct rt_cache_list {
    rt_cache_item *v;
    size_t n, cap;
} rt_cache_list;

static void rt_cache_list_free(rt_cache_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].rel);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Append an item for path below the package (rel). */
static int rt_cache_add(rt_cache_list *l, const char *rel, int is_dir,
                        uint64_t size, uint64_t sum, kl_err *err)
{
    if (kl_room(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0 ||
        (l->v[l->n].rel = strdup(rel)) == NULL)
        return kl_err_oom(err);
    l->v[l->n].is_dir = is_dir;
    l->v[l->n].size = size;
    l->v[l->n].sum = sum;
    l->n++;
    return 0;
}

/* List every file and directory under tree directory top ("<root>/pkg")
 * into l, directories before what they hold, names in byte order. */
static int rt_cache_walk(const char *top, rt_cache_list *l, kl_err *err)
{
    kl_buf path = KL_BUF_INIT, rel = KL_BUF_INIT;
    size_t at;
    int r = rt_cache_add(l, "", 1, 0, 0, err);

    for (at = 0; r == 0 && at < l->n; at++) {
        rt_files_dir *d;
        struct dirent *de;

        if (!l->v[at].is_dir)
            continue;
        if (kl_path_join(&path, top, l->v[at].rel) < 0)
            return kl_err_oom(err);
        if ((d = rt_files_opendir(path.s)) == NULL) {
            r = kl_err_set(err, "%s: %s", path.s, strerror(errno));
            break;
        }
        while (r == 0 && (de = rt_files_readdir(d)) != NULL) {
            struct stat st;
            uint64_t sum = 0;

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (kl_path_join(&rel, l->v[at].rel, de->d_name) < 0 ||
                kl_path_join(&path, top, rel.s) < 0) {
                r = kl_err_oom(err);
                break;
            }
            if (rt_files_stat(path.s, &st) < 0 ||
                (!S_ISDIR(st.st_mode) && rt_files_checksum(path.s, &sum) < 0))
                r = kl_err_set(err, "%s: %s", path.s, strerror(errno));
            else
                r = rt_cache_add(l, rel.s, S_ISDIR(st.st_mode),
                                 (uint64_t)st.st_size, sum, err);
        }
        rt_files_closedir(d);
    }
    kl_buf_free(&path);
    kl_buf_free(&rel);
    return r;
}

/* The digest of listing l: its names, sizes and checksums. */
static uint64_t rt_cache_digest(const rt_cache_list *l)
{
    uint64_t d = 0;
    size_t i;

    for (i = 0; i < l->n; i++) {
        uint64_t fields[3] = {l->v[i].size, l->v[i].sum,
                              (uint64_t)l->v[i].is_dir};

        d = kl_checksum(d, l->v[i].rel, strlen(l->v[i].rel) + 1);
        d = kl_checksum(d, fields, sizeof fields);
    }
    return d;
}

/* Read all of tree file path into a new malloc'd buffer of size bytes. */
static int rt_cache_read_tree(const char *path, uint64_t size, uint8_t **out,
                              kl_err *err)
{
    int fd = rt_files_open(path, O_RDONLY | O_CLOEXEC), r;

    *out = NULL;
    if (fd < 0)
        return kl_err_set(err, "%s: %s", path, strerror(errno));
    *out = malloc(size ? (size_t)size : 1);
    r = *out ? kl_read_at(fd, *out, (size_t)size, 0, path, err)
             : kl_err_oom(err);
    close(fd);
    if (r < 0) {
        free(*out);
        *out = NULL;
    }
    return r;
}

/* Check (write == 0) or write (write == 1) the files of listing l, read
 * from tree directory top, below real directory dir. Checking gives 1
 * when every file is there with the program's bytes, else 0. */
static int rt_cache_files(const char *top, const rt_cache_list *l,
                          const char *dir, int write, kl_err *err)
{
    kl_buf from = KL_BUF_INIT, to = KL_BUF_INIT;
    size_t i;
    int r = 1;

    for (i = 0; r > 0 && i < l->n; i++) {
        const rt_cache_item *it = &l->v[i];
        uint8_t *data;

        if (kl_path_join(&to, dir, it->rel) < 0 ||
            kl_path_join(&from, top, it->rel) < 0) {
            r = kl_err_oom(err);
            break;
        }
        if (it->is_dir) {
            if (write && i > 0 && mkdir(to.s, 0700) < 0)
                r = kl_err_set(err, "cannot make %s: %s", to.s,
                               strerror(errno));
            continue;
        }
        if (rt_cache_read_tree(from.s, it->size, &data, err) < 0) {
            r = -1;
            break;
        }
        if (!write) {
            r = rt_cachedir_same(to.s, data, it->size);
        } else {
            /* Programs and libraries keep their execute bit. */
            int exe = it->size >= 4 && (memcmp(data, "\177ELF", 4) == 0 ||
                                        memcmp(data, "#!", 2) == 0);
            int fd = open(to.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                          exe ? 0700 : 0600);

            if (fd < 0)
                r = kl_err_set(err, "cannot write %s: %s", to.s,
                               strerror(errno));
            else if (kl_write_all(fd, data, (size_t)it->size, to.s, err) < 0 ||
                     close(fd) < 0)
                r = -1;
        }
        free(data);
    }
    kl_buf_free(&from);
    kl_buf_free(&to);
    return r;
}

/* A package directory being put into the cache (rt_cache_tree). */
typedef struct rt_cache_job {
    const char *top;        /* the tree directory, "<root>/pkg" */
    const rt_cache_list *l; /* its listing */
    const char *name;       /* its last part, the directory made below */
    kl_buf dir;
} rt_cache_job;

/* rt_cachedir_fill for a package directory: <at>/<name> and below. */
static int rt_cache_fill(void *ctx, const char *at, int write, kl_err *err)
{
    rt_cache_job *j = ctx;

    if (kl_path_join(&j->dir, at, j->name) < 0)
        return kl_err_oom(err);
    if (!write)
        return rt_cache_files(j->top, j->l, j->dir.s, 0, err);
    if (mkdir(j->dir.s, 0700) < 0)
        return kl_err_set(err, "cannot make %s: %s", j->dir.s,
                          strerror(errno));
    return rt_cache_files(j->top, j->l, j->dir.s, 1, err) < 0 ? -1 : 0;
}

int rt_cache_tree(const char *root, const char *rel, kl_buf *dir,
                  kl_err *err)
{
    const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    kl_buf top = KL_BUF_INIT, base = KL_BUF_INIT, final = KL_BUF_INIT;
    rt_cache_list l = {NULL, 0, 0};
    rt_cache_job job = {NULL, &l, name, KL_BUF_INIT};
    int r;

    if (kl_path_join(&top, root, rel) < 0)
        return kl_err_oom(err);
    job.top = top.s;
    r = rt_cache_walk(top.s, &l, err);
    if (r == 0)
        r = rt_cachedir_base("files", &base, err);
    if (r == 0 && kl_buf_setf(&final, "%s/%s-%016llx", base.s, name,
                              (unsigned long long)rt_cache_digest(&l)) < 0)
        r = kl_err_oom(err);
    if (r == 0)
        r = rt_cachedir_put(base.s, final.s, rt_cache_fill, &job, err);
    if (r == 0 && kl_path_join(dir, final.s, name) < 0)
        r = kl_err_oom(err);
    rt_cache_list_free(&l);
    kl_buf_free(&top);
    kl_buf_free(&base);
    kl_buf_free(&final);
    kl_buf_free(&job.dir);
    return r;
}
