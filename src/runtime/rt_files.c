/*
 * rt_files.c: the tree of a one-file program's contents under its own
 * path, looked up in the bundle index in place (no table is built): a
 * path's file is a file entry of the same name, the source of the module
 * entry whose path it is, or an extension module's shared object; a
 * directory is any prefix of those paths. Files are handed out as sealed
 * memfds (where memory files are refused, as read-only copies in the
 * per-user cache). Pure C, errno errors: libc's callers see libc's
 * behaviour.
 */
#include "rt_files.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


/* The exit status of a damaged program (rt.h's RT_EXIT_DAMAGED). */
#define RT_FILES_EXIT_DAMAGED 126

/* What rt_files_mount() was given. */
static struct {
    const bundle_view *v; /* &view once mounted */
    bundle_view view;
    const char *root;
    size_t root_len;
    const char *path;
    struct stat st;
} rt_files_at;

/* End the process: the program's bundle is not what was built. */
static _Noreturn void rt_files_damaged(const kl_err *err)
{
    fflush(NULL);
    fprintf(stderr, "%s: %s\n", rt_files_at.path, err->msg);
    fflush(stderr);
    _exit(RT_FILES_EXIT_DAMAGED);
}

/* bundle_find and bundle_find_prefix in v (the mounted tree's): damage
 * its lazily checked index shows on the way ends the process. */
static const bundle_entry *rt_files_entry(const bundle_view *v,
                                          enum bundle_ns ns, const char *name,
                                          size_t len)
{
    const bundle_entry *e = bundle_find(v, ns, name, len);

    if (e == NULL && bundle_damage(v) != NULL)
        rt_files_damaged(bundle_damage(v));
    return e;
}

static const bundle_entry *rt_files_entry_prefix(const bundle_view *v,
                                                 enum bundle_ns ns,
                                                 const char *prefix,
                                                 size_t len)
{
    const bundle_entry *e = bundle_find_prefix(v, ns, prefix, len);

    if (e == NULL && bundle_damage(v) != NULL)
        rt_files_damaged(bundle_damage(v));
    return e;
}

enum rt_files_type { RT_FILES_NONE = 0, RT_FILES_FILE, RT_FILES_DIR };

/* What a path of the tree is. */
typedef struct rt_files_node {
    enum rt_files_type type;
    const bundle_entry *entry; /* a file's entry */
    enum bundle_part part;     /* which of its payloads is the file */
    uint64_t size;
    uint64_t ino;
} rt_files_node;

/* One name of a directory being read. */
typedef struct rt_files_child {
    char *name;
    unsigned char type; /* DT_REG or DT_DIR */
    uint64_t ino;
} rt_files_child;

struct rt_files_dir {
    rt_files_child *v;
    size_t n, cap;
    size_t next; /* 0 ".", 1 "..", then v[next - 2] */
    uint64_t ino, parent_ino;
    struct dirent rec;
};

void rt_files_mount(const bundle_view *v, const char *root, const char *path,
                    const struct stat *st)
{
    assert(rt_files_at.v == NULL && root[0] == '/');
    rt_files_at.root = root;
    rt_files_at.root_len = strlen(root);
    rt_files_at.path = path;
    rt_files_at.st = *st;
    rt_files_at.view = *v;
    rt_files_at.v = &rt_files_at.view;
}

/* Set rel to path's place below the root: components joined by '/', no
 * "." or "..", "" for the root itself; *dir_only when path ends in a
 * slash, "." or "..". 1 when path lies below the root, 0 when it does not
 * (or before mounting), -1 with errno ENOMEM. */
static int rt_files_rel(const char *path, kl_buf *rel, int *dir_only)
{
    const char *p, *end;

    if (rt_files_at.v == NULL || path == NULL ||
        strncmp(path, rt_files_at.root, rt_files_at.root_len) != 0 ||
        path[rt_files_at.root_len] != '/')
        return 0;
    if (kl_buf_sets(rel, "") < 0)
        return errno = ENOMEM, -1;
    *dir_only = 1;
    for (p = path + rt_files_at.root_len; *p != '\0'; p = end) {
        size_t n;

        while (*p == '/')
            p++;
        end = p + strcspn(p, "/");
        n = (size_t)(end - p);
        *dir_only = n == 0 || (n == 1 && p[0] == '.') ||
                    (n == 2 && p[0] == '.' && p[1] == '.');
        if (n == 0 || (n == 1 && p[0] == '.'))
            continue;
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash;

            if (rel->len == 0)
                return 0;
            slash = strrchr(rel->s, '/');
            rel->len = slash ? (size_t)(slash - rel->s) : 0;
            rel->s[rel->len] = '\0';
            continue;
        }
        if ((rel->len > 0 && kl_buf_add(rel, "/", 1) < 0) ||
            kl_buf_add(rel, p, n) < 0)
            return errno = ENOMEM, -1;
    }
    return 1;
}

int rt_files_claims(const char *path)
{
    kl_buf rel = KL_BUF_INIT;
    int dir_only, r = rt_files_rel(path, &rel, &dir_only);

    kl_buf_free(&rel);
    return r != 0;
}

/* A directory's inode number: odd, from its path (files' are even). */
static uint64_t rt_files_dir_ino(const char *rel, size_t len)
{
    return (kl_checksum(0, rel, len) << 1) | 1u;
}

/* A file's inode number: even, from its entry. */
static uint64_t rt_files_file_ino(const bundle_entry *e)
{
    return 2u + 2u * (uint64_t)(e - rt_files_at.v->entries);
}

/* Set b to rel[0, len) with '/' as '.', then suffix. -1 with ENOMEM. */
static int rt_files_dotted(kl_buf *b, const char *rel, size_t len,
                           const char *suffix)
{
    size_t i;

    if (kl_buf_sets(b, "") < 0 || kl_buf_add(b, rel, len) < 0 ||
        kl_buf_adds(b, suffix) < 0)
        return errno = ENOMEM, -1;
    for (i = 0; i < len; i++)
        if (b->s[i] == '/')
            b->s[i] = '.';
    return 0;
}

/* True when entry e's path is rel[0, len) exactly. */
static int rt_files_path_is(const bundle_entry *e, const char *rel,
                            size_t len)
{
    return e->path_len == len &&
           memcmp(bundle_entry_path(rt_files_at.v, e), rel, len) == 0;
}

/* The module entry, if any, whose file rel[0, len) is: the source of a
 * module or package (when the bundle holds it) or an extension module's
 * shared object. Fills *n. 1 found, 0 not, -1 with ENOMEM. */
static int rt_files_find_module_file(const char *rel, size_t len,
                                     rt_files_node *n)
{
    const bundle_view *v = rt_files_at.v;
    const char *slash = memrchr(rel, '/', len);
    size_t dir_len = slash ? (size_t)(slash - rel) : 0;
    const char *base = slash ? slash + 1 : rel;
    size_t base_len = len - (size_t)(base - rel);
    const char *dot = memchr(base, '.', base_len);
    const bundle_entry *e = NULL;
    kl_buf name = KL_BUF_INIT;
    int r = 0;

    if (dot == NULL || dot == base)
        return 0;
    if (base_len == 11 && memcmp(base, "__init__.py", 11) == 0) {
        if (dir_len > 0 && rt_files_dotted(&name, rel, dir_len, "") < 0)
            return -1;
    } else if (rt_files_dotted(&name, rel, (size_t)(dot - rel), "") < 0) {
        return -1;
    }
    if (name.len > 0)
        e = rt_files_entry(v, BUNDLE_NS_MODULE, name.s, name.len);
    kl_buf_free(&name);
    if ((e == NULL || !rt_files_path_is(e, rel, len)) && dir_len == 0)
        e = rt_files_entry(v, BUNDLE_NS_MODULE, "__main__", 8);
    if (e == NULL || !rt_files_path_is(e, rel, len))
        return 0;
    if (e->flags & BUNDLE_FLAG_SOURCE) {
        n->part = BUNDLE_PART_AUX;
        n->size = e->aux_raw_size;
        r = 1;
    } else if (e->kind == BUNDLE_KIND_EXTENSION &&
               !(e->flags & BUNDLE_FLAG_EXTERNAL)) {
        n->part = BUNDLE_PART_DATA;
        n->size = e->data_raw_size;
        r = 1;
    }
    if (r) {
        n->type = RT_FILES_FILE;
        n->entry = e;
        n->ino = rt_files_file_ino(e);
    }
    return r;
}

/* True when rel[0, len) is a directory of the tree: the root, a prefix of
 * a file entry's name, a package or namespace package, or a prefix of a
 * module's path. -1 with ENOMEM. */
static int rt_files_is_dir(const char *rel, size_t len)
{
    const bundle_view *v = rt_files_at.v;
    const bundle_entry *e = NULL;
    kl_buf b = KL_BUF_INIT;
    int r = 0;

    if (len == 0)
        return 1;
    if (kl_buf_add(&b, rel, len) < 0 || kl_buf_add(&b, "/", 1) < 0)
        return errno = ENOMEM, -1;
    if (rt_files_entry_prefix(v, BUNDLE_NS_FILE, b.s, b.len) != NULL)
        r = 1;
    else if (rt_files_dotted(&b, rel, len, "") < 0)
        r = -1;
    else if ((e = rt_files_entry(v, BUNDLE_NS_MODULE, b.s, b.len)) != NULL &&
             (e->kind == BUNDLE_KIND_PACKAGE ||
              e->kind == BUNDLE_KIND_NAMESPACE) &&
             e->path_len > len &&
             memcmp(bundle_entry_path(v, e), rel, len) == 0 &&
             bundle_entry_path(v, e)[len] == '/')
        r = 1;
    else if (e != NULL && e->kind == BUNDLE_KIND_NAMESPACE &&
             rt_files_path_is(e, rel, len))
        r = 1;
    else if (kl_buf_add(&b, ".", 1) < 0)
        r = -1;
    else if ((e = rt_files_entry_prefix(v, BUNDLE_NS_MODULE, b.s, b.len)) &&
             e->path_len > len &&
             memcmp(bundle_entry_path(v, e), rel, len) == 0 &&
             bundle_entry_path(v, e)[len] == '/')
        r = 1;
    kl_buf_free(&b);
    if (r < 0)
        errno = ENOMEM;
    return r;
}

/* What rel[0, len) is: a file, a directory or nothing (n->type). 0, or -1
 * with ENOMEM. */
static int rt_files_lookup(const char *rel, size_t len, rt_files_node *n)
{
    const bundle_entry *e;
    int r;

    memset(n, 0, sizeof(*n));
    if (len > 0 &&
        (e = rt_files_entry(rt_files_at.v, BUNDLE_NS_FILE, rel, len)) !=
            NULL &&
        !(e->flags & BUNDLE_FLAG_EXTERNAL)) {
        n->type = RT_FILES_FILE;
        n->entry = e;
        n->part = BUNDLE_PART_DATA;
        n->size = e->data_raw_size;
        n->ino = rt_files_file_ino(e);
        return 0;
    }
    if ((r = rt_files_find_module_file(rel, len, n)) != 0)
        return r < 0 ? -1 : 0;
    if ((r = rt_files_is_dir(rel, len)) < 0)
        return -1;
    if (r) {
        n->type = RT_FILES_DIR;
        n->ino = rt_files_dir_ino(rel, len);
    }
    return 0;
}

/* Resolve a claimed path into *n. 1 when it is a file or directory; 0
 * with errno ENOENT (nothing there) or ENOTDIR (a file is used as a
 * directory); -1 when not claimed after all (errno EXDEV) or ENOMEM.
 * *relp gets the path below the root (the caller frees it). */
static int rt_files_resolve(const char *path, rt_files_node *n, kl_buf *relp)
{
    int dir_only, r = rt_files_rel(path, relp, &dir_only);
    size_t i;

    if (r <= 0) {
        if (r == 0)
            errno = EXDEV;
        return -1;
    }
    if (rt_files_lookup(relp->s, relp->len, n) < 0)
        return -1;
    if (n->type == RT_FILES_DIR || (n->type == RT_FILES_FILE && !dir_only))
        return 1;
    if (n->type == RT_FILES_FILE)
        return errno = ENOTDIR, 0;
    for (i = 1; i < relp->len; i++) {
        rt_files_node up;

        if (relp->s[i] != '/')
            continue;
        if (rt_files_lookup(relp->s, i, &up) < 0)
            return -1;
        if (up.type == RT_FILES_FILE)
            return errno = ENOTDIR, 0;
        if (up.type == RT_FILES_NONE)
            break;
    }
    return errno = ENOENT, 0;
}

/* rt_files_resolve() without the relative path. */
static int rt_files_find(const char *path, rt_files_node *n)
{
    kl_buf rel = KL_BUF_INIT;
    int r = rt_files_resolve(path, n, &rel), saved = errno;

    kl_buf_free(&rel);
    errno = saved;
    return r;
}

/* Fill st for node n as a read-only file or directory owned like the
 * program. */
static void rt_files_fill_stat(const rt_files_node *n, struct stat *st)
{
    const struct stat *p = &rt_files_at.st;

    memset(st, 0, sizeof(*st));
    st->st_dev = p->st_dev;
    st->st_ino = n->ino;
    st->st_uid = p->st_uid;
    st->st_gid = p->st_gid;
    st->st_atim = p->st_atim;
    st->st_mtim = p->st_mtim;
    st->st_ctim = p->st_ctim;
    st->st_blksize = 4096;
    if (n->type == RT_FILES_DIR) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        st->st_size = 4096;
    } else {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)n->size;
    }
    st->st_blocks = (st->st_size + 511) / 512;
}

int rt_files_stat(const char *path, struct stat *st)
{
    rt_files_node n;
    int r = rt_files_find(path, &n);

    if (r <= 0)
        return -1;
    rt_files_fill_stat(&n, st);
    return 0;
}

int rt_files_access(const char *path, int mode)
{
    rt_files_node n;
    int r = rt_files_find(path, &n);

    if (r <= 0)
        return -1;
    if (mode & W_OK)
        return errno = EROFS, -1;
    if ((mode & X_OK) && n.type == RT_FILES_FILE)
        return errno = EACCES, -1;
    return 0;
}

int rt_files_mkdir(const char *path)
{
    rt_files_node n;
    int r = rt_files_find(path, &n);

    errno = r > 0 ? EEXIST : EROFS;
    return -1;
}

int rt_files_remove(const char *path)
{
    rt_files_node n;

    if (rt_files_find(path, &n) > 0)
        errno = EROFS;
    return -1;
}

int rt_files_object(const char *path, const bundle_entry **e)
{
    const bundle_view *v = rt_files_at.v;
    kl_buf rel = KL_BUF_INIT;
    rt_files_node n;
    int r = rt_files_resolve(path, &n, &rel), saved;

    *e = NULL;
    if (r > 0 && n.type == RT_FILES_DIR) {
        r = 0;
        errno = EISDIR;
    } else if (r > 0 && n.part != BUNDLE_PART_DATA) {
        r = 0;
        errno = ENOEXEC; /* a module's source */
    } else if (r > 0) {
        *e = n.entry;
    } else if (r == 0 && errno == ENOENT) {
        /* A carried library, named after its file, at its location. */
        const char *slash = strrchr(rel.s, '/');
        const char *base = slash ? slash + 1 : rel.s;
        const bundle_entry *lib = rt_files_entry(v, BUNDLE_NS_LIB, base,
                                              strlen(base));

        if (lib != NULL && !(lib->flags & BUNDLE_FLAG_EXTERNAL) &&
            rt_files_path_is(lib, rel.s, rel.len)) {
            *e = lib;
            r = 1;
        }
    }
    saved = errno;
    kl_buf_free(&rel);
    errno = saved;
    return r;
}

int rt_files_checksum(const char *path, uint64_t *sum)
{
    rt_files_node n;
    uint64_t parts[3];

    if (rt_files_find(path, &n) <= 0)
        return -1;
    if (n.type == RT_FILES_DIR)
        return errno = EISDIR, -1;
    parts[0] = n.part == BUNDLE_PART_DATA ? n.entry->data_check
                                          : n.entry->aux_check;
    parts[1] = n.size;
    parts[2] = n.entry->flags &
               (n.part == BUNDLE_PART_DATA ? BUNDLE_FLAG_DATA_ZSTD
                                           : BUNDLE_FLAG_AUX_ZSTD);
    *sum = kl_checksum(0, parts, sizeof parts);
    return 0;
}


/* A read-only descriptor of data[0, size), called name, from the per-user
 * cache: where memory files are refused. -1 with errno set. */
static int rt_files_cached(const char *name, const void *data, size_t size,
                           int flags)
{
    kl_buf path = KL_BUF_INIT;
    kl_err err;
    int fd = -1, saved;

    if (rt_cachedir_object("files", name, data, size, 0400, &path, &err) == 0)
        fd = open(path.s, O_RDONLY | (flags & O_CLOEXEC));
    saved = errno;
    kl_buf_free(&path);
    errno = saved;
    return fd;
}

int rt_files_open(const char *path, int flags)
{
    kl_buf rel = KL_BUF_INIT;
    rt_files_node n;
    const uint8_t *data;
    uint8_t *owned;
    size_t size;
    const char *base;
    kl_err err;
    int r = rt_files_resolve(path, &n, &rel), fd = -1, saved;

    if (r < 0)
        goto out;
    if (r > 0 && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        errno = EEXIST;
        goto out;
    }
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) ||
        (r == 0 && (flags & O_CREAT))) {
        errno = EROFS;
        goto out;
    }
    if (r == 0)
        goto out;
    if (n.type == RT_FILES_DIR) {
        errno = flags & (O_DIRECTORY | O_PATH) ? ENOTSUP : EISDIR;
        goto out;
    }
    if (flags & O_DIRECTORY) {
        errno = ENOTDIR;
        goto out;
    }
    if (bundle_read(rt_files_at.v, n.entry, n.part, &data, &size, &owned,
                    &err) < 0)
        rt_files_damaged(&err);
    base = strrchr(rel.s, '/');
    base = base ? base + 1 : rel.s;
    fd = rt_memfd_create(base, data, size,
                         (flags & O_CLOEXEC) ? RT_MEMFD_CLOEXEC : 0, NULL,
                         &err);
    if (fd < 0 && rt_memfd_refused())
        fd = rt_files_cached(base, data, size, flags);
    saved = errno;
    free(owned);
    errno = saved;
out:
    saved = errno;
    kl_buf_free(&rel);
    errno = saved;
    return fd;
}

/* Add name[0, len) of type t to d unless it is the last name added. -1
 * with ENOMEM. */
static int rt_files_dir_add(rt_files_dir *d, const char *name, size_t len,
                            unsigned char type, uint64_t ino)
{
    rt_files_child *last = d->n ? &d->v[d->n - 1] : NULL;

    if (last && strlen(last->name) == len &&
        memcmp(last->name, name, len) == 0) {
        if (type == DT_DIR)
            last->type = DT_DIR, last->ino = ino;
        return 0;
    }
    if (len == 0 || len >= sizeof(d->rec.d_name))
        return 0;
    if (kl_room(&d->v, &d->cap, d->n + 1, sizeof(*d->v)) < 0 ||
        (d->v[d->n].name = strndup(name, len)) == NULL)
        return errno = ENOMEM, -1;
    d->v[d->n].type = type;
    d->v[d->n].ino = ino;
    d->n++;
    return 0;
}

/* Add the child of directory rel (rel_len bytes, "" for the root) that
 * path (below the root) lies in, if it lies below rel: the next component
 * of path, a directory when more follows. e is the entry path belongs to
 * (its inode number when the child is the file itself). */
static int rt_files_dir_add_path(rt_files_dir *d, const char *rel,
                                 size_t rel_len, const char *path,
                                 size_t path_len, const bundle_entry *e)
{
    const char *rest, *slash;
    size_t skip = rel_len ? rel_len + 1 : 0;

    if (path_len <= skip ||
        (rel_len && (memcmp(path, rel, rel_len) != 0 || path[rel_len] != '/')))
        return 0;
    rest = path + skip;
    slash = memchr(rest, '/', path_len - skip);
    if (slash)
        return rt_files_dir_add(d, rest, (size_t)(slash - rest), DT_DIR,
                                rt_files_dir_ino(path, (size_t)(slash - path)));
    if (e->kind == BUNDLE_KIND_NAMESPACE)
        return rt_files_dir_add(d, rest, path_len - skip, DT_DIR,
                                rt_files_dir_ino(path, path_len));
    return rt_files_dir_add(d, rest, path_len - skip, DT_REG,
                            rt_files_file_ino(e));
}

/* True when module entry e has a file in the tree (a module's source, an
 * extension module's shared object) or a directory (a package, whether or
 * not its __init__.py has a source, or a namespace package). */
static int rt_files_module_listed(const bundle_entry *e)
{
    switch (e->kind) {
    case BUNDLE_KIND_MODULE:
        return (e->flags & BUNDLE_FLAG_SOURCE) != 0;
    case BUNDLE_KIND_PACKAGE:
    case BUNDLE_KIND_EXTENSION:
        return !(e->flags & BUNDLE_FLAG_EXTERNAL);
    case BUNDLE_KIND_NAMESPACE:
        return 1;
    default:
        return 0;
    }
}

/* Order children by name. */
static int rt_files_child_cmp(const void *a, const void *b)
{
    return strcmp(((const rt_files_child *)a)->name,
                  ((const rt_files_child *)b)->name);
}

/* Fill d with the children of directory rel[0, len): the runs of file
 * entries and of module entries below it, and a package's __init__.py;
 * sorted, each name once. -1 with ENOMEM. */
static int rt_files_dir_fill(rt_files_dir *d, const char *rel, size_t len)
{
    const bundle_view *v = rt_files_at.v;
    const bundle_entry *e, *end = v->entries + v->header->entry_count;
    kl_buf b = KL_BUF_INIT;
    size_t i, out;
    kl_err err;
    int r = -1;

    /* The runs below walk the entry table. */
    if (bundle_check_index(v, &err) < 0)
        rt_files_damaged(&err);
    if ((len && (kl_buf_add(&b, rel, len) < 0 || kl_buf_add(&b, "/", 1) < 0)))
        goto oom;
    for (e = rt_files_entry_prefix(v, BUNDLE_NS_FILE, b.s ? b.s : "", b.len);
         e && e < end && bundle_kind_ns(e->kind) == BUNDLE_NS_FILE &&
         e->name_len >= b.len &&
         memcmp(bundle_entry_name(v, e), b.s ? b.s : "", b.len) == 0;
         e++)
        if (!(e->flags & BUNDLE_FLAG_EXTERNAL) &&
            rt_files_dir_add_path(d, rel, len, bundle_entry_name(v, e),
                                  e->name_len, e) < 0)
            goto out;
    if (rt_files_dotted(&b, rel, len, "") < 0)
        goto out;
    if (len && (e = rt_files_entry(v, BUNDLE_NS_MODULE, b.s, b.len)) != NULL &&
        e->kind == BUNDLE_KIND_PACKAGE && (e->flags & BUNDLE_FLAG_SOURCE) &&
        rt_files_dir_add_path(d, rel, len, bundle_entry_path(v, e),
                              e->path_len, e) < 0)
        goto out;
    if (len && kl_buf_add(&b, ".", 1) < 0)
        goto oom;
    for (e = rt_files_entry_prefix(v, BUNDLE_NS_MODULE, b.s, b.len);
         e && e < end && bundle_kind_ns(e->kind) == BUNDLE_NS_MODULE &&
         e->name_len >= b.len &&
         memcmp(bundle_entry_name(v, e), b.s, b.len) == 0;
         e++)
        if (rt_files_module_listed(e) &&
            rt_files_dir_add_path(d, rel, len, bundle_entry_path(v, e),
                                  e->path_len, e) < 0)
            goto out;
    if (d->n > 1)
        qsort(d->v, d->n, sizeof(*d->v), rt_files_child_cmp);
    for (i = 0, out = 0; i < d->n; i++) {
        if (out > 0 && strcmp(d->v[out - 1].name, d->v[i].name) == 0) {
            if (d->v[i].type == DT_DIR)
                d->v[out - 1].type = DT_DIR, d->v[out - 1].ino = d->v[i].ino;
            free(d->v[i].name);
            continue;
        }
        d->v[out++] = d->v[i];
    }
    d->n = out;
    r = 0;
    goto out;
oom:
    errno = ENOMEM;
out:
    kl_buf_free(&b);
    return r;
}

rt_files_dir *rt_files_opendir(const char *path)
{
    kl_buf rel = KL_BUF_INIT;
    rt_files_node n;
    rt_files_dir *d = NULL;
    const char *slash;
    int r = rt_files_resolve(path, &n, &rel), saved;

    if (r <= 0)
        goto out;
    if (n.type != RT_FILES_DIR) {
        errno = ENOTDIR;
        goto out;
    }
    if ((d = calloc(1, sizeof(*d))) == NULL) {
        errno = ENOMEM;
        goto out;
    }
    d->ino = n.ino;
    slash = strrchr(rel.s, '/');
    d->parent_ino = rt_files_dir_ino(rel.s, slash ? (size_t)(slash - rel.s)
                                                  : 0);
    if (rt_files_dir_fill(d, rel.s, rel.len) < 0) {
        saved = errno;
        rt_files_closedir(d);
        errno = saved;
        d = NULL;
    }
out:
    saved = errno;
    kl_buf_free(&rel);
    errno = saved;
    return d;
}

struct dirent *rt_files_readdir(rt_files_dir *d)
{
    const char *name;
    unsigned char type = DT_DIR;
    uint64_t ino;

    if (d->next == 0) {
        name = ".", ino = d->ino;
    } else if (d->next == 1) {
        name = "..", ino = d->parent_ino;
    } else if (d->next - 2 < d->n) {
        const rt_files_child *c = &d->v[d->next - 2];

        name = c->name, type = c->type, ino = c->ino;
    } else {
        return NULL;
    }
    memset(&d->rec, 0, sizeof(d->rec));
    d->rec.d_ino = ino;
    d->rec.d_off = (off_t)(d->next + 1);
    d->rec.d_reclen = sizeof(d->rec);
    d->rec.d_type = type;
    assert(strlen(name) < sizeof(d->rec.d_name));
    strcpy(d->rec.d_name, name);
    d->next++;
    return &d->rec;
}

void rt_files_rewinddir(rt_files_dir *d)
{
    d->next = 0;
}

void rt_files_closedir(rt_files_dir *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->n; i++)
        free(d->v[i].name);
    free(d->v);
    free(d);
}
