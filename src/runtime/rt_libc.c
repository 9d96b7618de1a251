/*
 * rt_libc.c: the libc calls that take a path, for paths under a one-file
 * program or extension module ("<program>/pkg/data.txt"): served from its
 * tree (rt_files.c); any other path goes to libc's own function, found
 * with dlsym(RTLD_NEXT) on first use. In the executable (src/stub/) these
 * are the libc functions' own names: the executable exports its symbols
 * (for extension modules), so Python's os and io modules, extension
 * modules and the libraries they load all reach them. Compiled for the
 * extension module template (KILN_EXT), they are named rt_libc_hook_NAME
 * instead and listed in rt_libc_hooks, which src/ext/ext_hooks.c puts in
 * the host's objects' slots for libc's functions. No Python here: this
 * file must see libc's declarations without pyconfig.h's
 * _FILE_OFFSET_BITS, which would rename them.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include "rt_files.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
               "stat and stat64 share one layout on LP64 Linux");
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
               "dirent and dirent64 share one layout on LP64 Linux");

/* The name a wrapper of libc's `name` is defined under, and where the
 * function it hands other paths to is looked up: in the executable, the
 * definition after its own (libc's); in an extension module, the one every
 * object of the host is bound to (libc's, or a kiln-built host program's
 * own wrapper, which serves that program's paths). */
#ifdef KILN_EXT
#define RT_LIBC(name) rt_libc_hook_##name
#define RT_LIBC_NEXT RTLD_DEFAULT
#else
#define RT_LIBC(name) name
#define RT_LIBC_NEXT RTLD_NEXT
#endif

/* Entry points older glibc headers declared and extension modules built
 * against them (manylinux) still call; today's glibc keeps them. */
int RT_LIBC(__xstat)(int ver, const char *path, struct stat *st);
int RT_LIBC(__xstat64)(int ver, const char *path, struct stat64 *st);
int RT_LIBC(__lxstat)(int ver, const char *path, struct stat *st);
int RT_LIBC(__lxstat64)(int ver, const char *path, struct stat64 *st);
int RT_LIBC(__fxstatat)(int ver, int dirfd, const char *path,
                        struct stat *st, int flags);
int RT_LIBC(__fxstatat64)(int ver, int dirfd, const char *path,
                          struct stat64 *st, int flags);
int RT_LIBC(__open_2)(const char *path, int flags);
int RT_LIBC(__open64_2)(const char *path, int flags);
int RT_LIBC(__openat_2)(int dirfd, const char *path, int flags);
int RT_LIBC(__openat64_2)(int dirfd, const char *path, int flags);

void *rt_libc_real(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (f == NULL) {
        f = dlsym(RT_LIBC_NEXT, name);
        if (f == NULL) {
            fprintf(stderr, "kiln: the C library has no %s\n", name);
            abort();
        }
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

/* Declare `real` as a pointer to libc's `name`, a function returning ret
 * with parameters params. */
#define RT_LIBC_REAL(ret, name, params)                                    \
    static void *rt_libc_slot_##name;                                     \
    ret(*real) params = (ret(*) params)rt_libc_real(&rt_libc_slot_##name, \
                                                    #name)

/* True when path (absolute) lies under the program: relative paths never
 * do, whatever dirfd is. A NULL path goes to libc, which says EFAULT
 * (Rust's std probes statx that way). libc declares these parameters
 * nonnull, which would let the compiler drop the test: the empty asm hides
 * where path comes from. */
static int rt_libc_ours(const char *path)
{
    __asm__("" : "+r"(path));
    return path != NULL && path[0] == '/' && rt_files_claims(path);
}

/* ---- trees of extension modules kiln built, in a program kiln built ---- */

#ifdef KILN_EXT
#define RT_LIBC_OTHER(ret, name, params, args, path)
#define RT_LIBC_OTHER_DIR(ret, name, params, args, dirp)

int rt_libc_other_runtimes(void)
{
    return 1;
}
#else
/* The most extension modules kiln built that one program serves the
 * paths of. */
#define RT_LIBC_MAX_TREES 32

/* An extension module's tree: which paths and directory streams are its
 * own, and its wrappers, which serve them. */
typedef struct rt_libc_tree {
    int (*claims)(const char *path);
    int (*owns_dir)(DIR *dirp);
    const rt_libc_hook *hooks;
    size_t n_hooks;
} rt_libc_tree;

static rt_libc_tree rt_libc_trees[RT_LIBC_MAX_TREES];
static unsigned rt_libc_n_trees;
static pthread_mutex_t rt_libc_trees_lock = PTHREAD_MUTEX_INITIALIZER;

/* Called by an extension module kiln built, imported by this program
 * (src/ext/ext_hooks.c finds it by name): the program's own wrappers,
 * which the program's code calls directly, hand the paths claims() says
 * are the module's, and the directory streams it opened for them, to the
 * module's wrappers. 0, or -1 when RT_LIBC_MAX_TREES are served already. */
__attribute__((visibility("default"))) int
kiln_libc_add_tree(int (*claims)(const char *), int (*owns_dir)(DIR *),
                   const rt_libc_hook *hooks, size_t n_hooks)
{
    unsigned n;
    int r = -1;

    pthread_mutex_lock(&rt_libc_trees_lock);
    n = rt_libc_n_trees;
    if (n < RT_LIBC_MAX_TREES) {
        rt_libc_trees[n].claims = claims;
        rt_libc_trees[n].owns_dir = owns_dir;
        rt_libc_trees[n].hooks = hooks;
        rt_libc_trees[n].n_hooks = n_hooks;
        __atomic_store_n(&rt_libc_n_trees, n + 1, __ATOMIC_RELEASE);
        r = 0;
    }
    pthread_mutex_unlock(&rt_libc_trees_lock);
    return r;
}

int rt_libc_other_runtimes(void)
{
    return __atomic_load_n(&rt_libc_n_trees, __ATOMIC_ACQUIRE) > 0;
}

/* The wrapper of `name` of tree t, or NULL. */
static void *rt_libc_tree_hook(const rt_libc_tree *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->n_hooks; i++)
        if (strcmp(t->hooks[i].name, name) == 0)
            return t->hooks[i].hook;
    return NULL;
}

/* The wrapper of `name` of the extension module whose tree path lies in
 * (absolute), or NULL: one atomic load when there is none. */
static void *rt_libc_other(const char *path, const char *name)
{
    unsigned n = __atomic_load_n(&rt_libc_n_trees, __ATOMIC_ACQUIRE), i;

    __asm__("" : "+r"(path));
    if (n == 0 || path == NULL || path[0] != '/')
        return NULL;
    for (i = 0; i < n; i++)
        if (rt_libc_trees[i].claims(path))
            return rt_libc_tree_hook(&rt_libc_trees[i], name);
    return NULL;
}

/* The wrapper of `name` of the extension module that opened directory
 * stream dirp, or NULL. */
static void *rt_libc_other_dir(DIR *dirp, const char *name)
{
    unsigned n = __atomic_load_n(&rt_libc_n_trees, __ATOMIC_ACQUIRE), i;

    for (i = 0; i < n; i++)
        if (rt_libc_trees[i].owns_dir(dirp))
            return rt_libc_tree_hook(&rt_libc_trees[i], name);
    return NULL;
}

/* Return what the wrapper of `name` of the extension module whose tree
 * holds path (or that opened dirp) returns for args, when there is one. */
#define RT_LIBC_OTHER(ret, name, params, args, path)                        \
    {                                                                      \
        ret(*other_) params = (ret(*) params)rt_libc_other(path, #name);   \
        if (other_ != NULL)                                                \
            return other_ args;                                            \
    }
#define RT_LIBC_OTHER_DIR(ret, name, params, args, dirp)                    \
    {                                                                      \
        ret(*other_) params = (ret(*) params)rt_libc_other_dir(dirp, #name); \
        if (other_ != NULL)                                                \
            return other_ args;                                            \
    }
#endif

/* Define libc function `name` (returning ret, taking params, called with
 * args) to do `ours` when `path` lies under the program, else libc's. */
#define RT_LIBC_WRAP(ret, name, params, args, path, ours)                  \
    ret RT_LIBC(name) params                                               \
    {                                                                      \
        RT_LIBC_REAL(ret, name, params);                                   \
        if (rt_libc_ours(path))                                            \
            return ours;                                                   \
        RT_LIBC_OTHER(ret, name, params, args, path)                       \
        return real args;                                                  \
    }

/* ---- open ----------------------------------------------------------------- */

/* open() and openat(): mode is an argument only when the call may create
 * a file (a statement expression: va_start must be in the variadic
 * function itself). */
#define RT_LIBC_OPEN_MODE(flags)                                           \
    ({                                                                     \
        mode_t m_ = 0;                                                     \
        if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) {     \
            va_list ap;                                                    \
            va_start(ap, flags);                                           \
            m_ = (mode_t)va_arg(ap, int);                                  \
            va_end(ap);                                                    \
        }                                                                  \
        m_;                                                                \
    })
#define RT_LIBC_WRAP_OPEN(name)                                            \
    int RT_LIBC(name)(const char *path, int flags, ...)                    \
    {                                                                      \
        RT_LIBC_REAL(int, name, (const char *, int, ...));                 \
        mode_t mode = RT_LIBC_OPEN_MODE(flags);                            \
        if (rt_libc_ours(path))                                            \
            return rt_files_open(path, flags);                             \
        RT_LIBC_OTHER(int, name, (const char *, int, ...),                 \
                      (path, flags, mode), path)                           \
        return real(path, flags, mode);                                    \
    }
#define RT_LIBC_WRAP_OPENAT(name)                                          \
    int RT_LIBC(name)(int dirfd, const char *path, int flags, ...)         \
    {                                                                      \
        RT_LIBC_REAL(int, name, (int, const char *, int, ...));            \
        mode_t mode = RT_LIBC_OPEN_MODE(flags);                            \
        if (rt_libc_ours(path))                                            \
            return rt_files_open(path, flags);                             \
        RT_LIBC_OTHER(int, name, (int, const char *, int, ...),            \
                      (dirfd, path, flags, mode), path)                    \
        return real(dirfd, path, flags, mode);                             \
    }

RT_LIBC_WRAP_OPEN(open)
RT_LIBC_WRAP_OPEN(open64)
RT_LIBC_WRAP_OPENAT(openat)
RT_LIBC_WRAP_OPENAT(openat64)

/* The checked forms _FORTIFY_SOURCE compiles open() calls into. */
int RT_LIBC(__open_2)(const char *path, int flags)
{
    return RT_LIBC(open)(path, flags);
}

int RT_LIBC(__open64_2)(const char *path, int flags)
{
    return RT_LIBC(open64)(path, flags);
}

int RT_LIBC(__openat_2)(int dirfd, const char *path, int flags)
{
    return RT_LIBC(openat)(dirfd, path, flags);
}

int RT_LIBC(__openat64_2)(int dirfd, const char *path, int flags)
{
    return RT_LIBC(openat64)(dirfd, path, flags);
}

/* creat(): always a write, so refused (EROFS). */
RT_LIBC_WRAP(int, creat, (const char *path, mode_t mode), (path, mode), path,
          rt_files_open(path, O_WRONLY | O_CREAT | O_TRUNC))
RT_LIBC_WRAP(int, creat64, (const char *path, mode_t mode), (path, mode), path,
          rt_files_open(path, O_WRONLY | O_CREAT | O_TRUNC))

/* fopen(): a stream over rt_files_open()'s memfd; writing modes are
 * refused with EROFS. */
static FILE *rt_libc_fopen(const char *path, const char *mode)
{
    int flags = O_RDONLY, fd;
    FILE *f;

    if (strpbrk(mode, "wa+") != NULL) {
        errno = EROFS;
        return NULL;
    }
    if (strchr(mode, 'e') != NULL)
        flags |= O_CLOEXEC;
    if ((fd = rt_files_open(path, flags)) < 0)
        return NULL;
    if ((f = fdopen(fd, mode)) == NULL) {
        int saved = errno;

        close(fd);
        errno = saved;
    }
    return f;
}

RT_LIBC_WRAP(FILE *, fopen, (const char *path, const char *mode), (path, mode),
          path, rt_libc_fopen(path, mode))
RT_LIBC_WRAP(FILE *, fopen64, (const char *path, const char *mode),
          (path, mode), path, rt_libc_fopen(path, mode))

/* ---- stat ----------------------------------------------------------------- */

/* The tree has no symbolic links: lstat() is stat(). */
RT_LIBC_WRAP(int, stat, (const char *path, struct stat *st), (path, st), path,
          rt_files_stat(path, st))
RT_LIBC_WRAP(int, stat64, (const char *path, struct stat64 *st), (path, st),
          path, rt_files_stat(path, (struct stat *)st))
RT_LIBC_WRAP(int, lstat, (const char *path, struct stat *st), (path, st), path,
          rt_files_stat(path, st))
RT_LIBC_WRAP(int, lstat64, (const char *path, struct stat64 *st), (path, st),
          path, rt_files_stat(path, (struct stat *)st))
RT_LIBC_WRAP(int, fstatat, (int dirfd, const char *path, struct stat *st,
                         int flags),
          (dirfd, path, st, flags), path, rt_files_stat(path, st))
RT_LIBC_WRAP(int, fstatat64, (int dirfd, const char *path, struct stat64 *st,
                           int flags),
          (dirfd, path, st, flags), path,
          rt_files_stat(path, (struct stat *)st))

/* statx(): the same answers in statx's record (newer code, Rust's std). */
static int rt_libc_statx(const char *path, unsigned mask, struct statx *stx)
{
    struct stat st;

    (void)mask;
    if (rt_files_stat(path, &st) < 0)
        return -1;
    memset(stx, 0, sizeof(*stx));
    stx->stx_mask = STATX_BASIC_STATS;
    stx->stx_blksize = (uint32_t)st.st_blksize;
    stx->stx_nlink = (uint32_t)st.st_nlink;
    stx->stx_uid = st.st_uid;
    stx->stx_gid = st.st_gid;
    stx->stx_mode = (uint16_t)st.st_mode;
    stx->stx_ino = st.st_ino;
    stx->stx_size = (uint64_t)st.st_size;
    stx->stx_blocks = (uint64_t)st.st_blocks;
    stx->stx_atime.tv_sec = st.st_atim.tv_sec;
    stx->stx_atime.tv_nsec = (uint32_t)st.st_atim.tv_nsec;
    stx->stx_mtime.tv_sec = st.st_mtim.tv_sec;
    stx->stx_mtime.tv_nsec = (uint32_t)st.st_mtim.tv_nsec;
    stx->stx_ctime.tv_sec = st.st_ctim.tv_sec;
    stx->stx_ctime.tv_nsec = (uint32_t)st.st_ctim.tv_nsec;
    stx->stx_dev_major = major(st.st_dev);
    stx->stx_dev_minor = minor(st.st_dev);
    return 0;
}

RT_LIBC_WRAP(int, statx, (int dirfd, const char *path, int flags, unsigned mask,
                       struct statx *stx),
          (dirfd, path, flags, mask, stx), path,
          rt_libc_statx(path, mask, stx))

/* The versioned forms: on x86_64 and aarch64 every version they accept
 * has struct stat's layout, so the calls above serve them. */
#define RT_LIBC_XSTAT(name, type, call)                                       \
    int RT_LIBC(name)(int ver, const char *path, type *st)                 \
    {                                                                      \
        (void)ver;                                                         \
        return RT_LIBC(call)(path, st);                                    \
    }

RT_LIBC_XSTAT(__xstat, struct stat, stat)
RT_LIBC_XSTAT(__xstat64, struct stat64, stat64)
RT_LIBC_XSTAT(__lxstat, struct stat, lstat)
RT_LIBC_XSTAT(__lxstat64, struct stat64, lstat64)

int RT_LIBC(__fxstatat)(int ver, int dirfd, const char *path,
                        struct stat *st, int flags)
{
    (void)ver;
    return RT_LIBC(fstatat)(dirfd, path, st, flags);
}

int RT_LIBC(__fxstatat64)(int ver, int dirfd, const char *path,
                          struct stat64 *st, int flags)
{
    (void)ver;
    return RT_LIBC(fstatat64)(dirfd, path, st, flags);
}

/* ---- access, readlink, changes, extended attributes ---------------------- */

/* -1 with errno `code` when path exists in the tree, else with stat's
 * errno. */
static int rt_libc_fail_if_there(const char *path, int code)
{
    struct stat st;

    if (rt_files_stat(path, &st) == 0)
        errno = code;
    return -1;
}

RT_LIBC_WRAP(int, access, (const char *path, int mode), (path, mode), path,
          rt_files_access(path, mode))
RT_LIBC_WRAP(int, faccessat, (int dirfd, const char *path, int mode, int flags),
          (dirfd, path, mode, flags), path, rt_files_access(path, mode))

/* Nothing in the tree is a symbolic link. */
RT_LIBC_WRAP(ssize_t, readlink, (const char *path, char *buf, size_t size),
          (path, buf, size), path, rt_libc_fail_if_there(path, EINVAL))

/* Nothing in the tree can be made, removed or renamed. */
RT_LIBC_WRAP(int, mkdir, (const char *path, mode_t mode), (path, mode), path,
          rt_files_mkdir(path))
RT_LIBC_WRAP(int, unlink, (const char *path), (path), path,
          rt_files_remove(path))
RT_LIBC_WRAP(int, unlinkat, (int dirfd, const char *path, int flags),
          (dirfd, path, flags), path, rt_files_remove(path))
RT_LIBC_WRAP(int, rmdir, (const char *path), (path), path,
          rt_files_remove(path))

/* A rename into the tree is refused like one out of it. */
int RT_LIBC(renameat)(int fromfd, const char *from, int tofd, const char *to)
{
    RT_LIBC_REAL(int, renameat, (int, const char *, int, const char *));

    if (rt_libc_ours(from))
        return rt_files_remove(from);
    if (rt_libc_ours(to))
        return errno = EROFS, -1;
    RT_LIBC_OTHER(int, renameat, (int, const char *, int, const char *),
                  (fromfd, from, tofd, to), from)
    RT_LIBC_OTHER(int, renameat, (int, const char *, int, const char *),
                  (fromfd, from, tofd, to), to)
    return real(fromfd, from, tofd, to);
}

int RT_LIBC(rename)(const char *from, const char *to)
{
    return RT_LIBC(renameat)(AT_FDCWD, from, AT_FDCWD, to);
}

/* No file of the tree has extended attributes (shutil.copy2 asks): an
 * empty list when path exists, else stat's errno. */
static ssize_t rt_libc_no_xattrs(const char *path)
{
    struct stat st;

    return rt_files_stat(path, &st) == 0 ? 0 : -1;
}

RT_LIBC_WRAP(ssize_t, listxattr, (const char *path, char *list, size_t size),
          (path, list, size), path, rt_libc_no_xattrs(path))
RT_LIBC_WRAP(ssize_t, llistxattr, (const char *path, char *list, size_t size),
          (path, list, size), path, rt_libc_no_xattrs(path))
RT_LIBC_WRAP(ssize_t, getxattr, (const char *path, const char *name,
                              void *value, size_t size),
          (path, name, value, size), path,
          rt_libc_fail_if_there(path, ENODATA))
RT_LIBC_WRAP(ssize_t, lgetxattr, (const char *path, const char *name,
                               void *value, size_t size),
          (path, name, value, size), path,
          rt_libc_fail_if_there(path, ENODATA))

/* ---- directories ---------------------------------------------------------- */

/* The tree's open directories, handed out as DIR pointers: a DIR is ours
 * only when it is on this list. While the list is empty (nearly always)
 * readdir() on libc's DIRs costs one atomic load. */
typedef struct rt_libc_dir {
    rt_files_dir *dir;
    struct rt_libc_dir *next;
} rt_libc_dir;

static pthread_mutex_t rt_libc_dirs_lock = PTHREAD_MUTEX_INITIALIZER;
static rt_libc_dir *rt_libc_dirs;
static unsigned long rt_libc_dirs_count;

/* The tree directory behind dirp, or NULL when dirp is libc's. */
static rt_files_dir *rt_libc_dir_of(DIR *dirp)
{
    rt_files_dir *found = NULL;
    rt_libc_dir *s;

    if (__atomic_load_n(&rt_libc_dirs_count, __ATOMIC_ACQUIRE) == 0)
        return NULL;
    pthread_mutex_lock(&rt_libc_dirs_lock);
    for (s = rt_libc_dirs; s != NULL; s = s->next)
        if ((DIR *)s->dir == dirp) {
            found = s->dir;
            break;
        }
    pthread_mutex_unlock(&rt_libc_dirs_lock);
    return found;
}

DIR *RT_LIBC(opendir)(const char *path)
{
    RT_LIBC_REAL(DIR *, opendir, (const char *));
    rt_files_dir *d;
    rt_libc_dir *s;

    if (!rt_libc_ours(path)) {
        RT_LIBC_OTHER(DIR *, opendir, (const char *), (path), path)
        return real(path);
    }
    if ((d = rt_files_opendir(path)) == NULL)
        return NULL;
    if ((s = malloc(sizeof(*s))) == NULL) {
        rt_files_closedir(d);
        errno = ENOMEM;
        return NULL;
    }
    s->dir = d;
    pthread_mutex_lock(&rt_libc_dirs_lock);
    s->next = rt_libc_dirs;
    rt_libc_dirs = s;
    __atomic_add_fetch(&rt_libc_dirs_count, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&rt_libc_dirs_lock);
    return (DIR *)d;
}

struct dirent *RT_LIBC(readdir)(DIR *dirp)
{
    RT_LIBC_REAL(struct dirent *, readdir, (DIR *));
    rt_files_dir *d = rt_libc_dir_of(dirp);

    if (d)
        return rt_files_readdir(d);
    RT_LIBC_OTHER_DIR(struct dirent *, readdir, (DIR *), (dirp), dirp)
    return real(dirp);
}

struct dirent64 *RT_LIBC(readdir64)(DIR *dirp)
{
    RT_LIBC_REAL(struct dirent64 *, readdir64, (DIR *));
    rt_files_dir *d = rt_libc_dir_of(dirp);

    if (d)
        return (struct dirent64 *)rt_files_readdir(d);
    RT_LIBC_OTHER_DIR(struct dirent64 *, readdir64, (DIR *), (dirp), dirp)
    return real(dirp);
}

void RT_LIBC(rewinddir)(DIR *dirp)
{
    RT_LIBC_REAL(void, rewinddir, (DIR *));
    rt_files_dir *d = rt_libc_dir_of(dirp);

    if (d) {
        rt_files_rewinddir(d);
        return;
    }
    RT_LIBC_OTHER_DIR(void, rewinddir, (DIR *), (dirp), dirp)
    real(dirp);
}

/* A tree directory has no descriptor. */
int RT_LIBC(dirfd)(DIR *dirp)
{
    RT_LIBC_REAL(int, dirfd, (DIR *));

    if (rt_libc_dir_of(dirp)) {
        errno = ENOTSUP;
        return -1;
    }
    RT_LIBC_OTHER_DIR(int, dirfd, (DIR *), (dirp), dirp)
    return real(dirp);
}

int RT_LIBC(closedir)(DIR *dirp)
{
    RT_LIBC_REAL(int, closedir, (DIR *));
    rt_libc_dir **p, *s = NULL;

    if (__atomic_load_n(&rt_libc_dirs_count, __ATOMIC_ACQUIRE) > 0) {
        pthread_mutex_lock(&rt_libc_dirs_lock);
        for (p = &rt_libc_dirs; *p != NULL; p = &(*p)->next)
            if ((DIR *)(*p)->dir == dirp) {
                s = *p;
                *p = s->next;
                __atomic_sub_fetch(&rt_libc_dirs_count, 1, __ATOMIC_RELEASE);
                break;
            }
        pthread_mutex_unlock(&rt_libc_dirs_lock);
    }
    if (s == NULL) {
        RT_LIBC_OTHER_DIR(int, closedir, (DIR *), (dirp), dirp)
        return real(dirp);
    }
    rt_files_closedir(s->dir);
    free(s);
    return 0;
}

#ifdef KILN_EXT
int rt_libc_owns_dir(DIR *dirp)
{
    return rt_libc_dir_of(dirp) != NULL;
}

/* Every wrapper above, by the name of the libc function it stands for. */
const rt_libc_hook rt_libc_hooks[] = {
    {"open", (void *)RT_LIBC(open)},
    {"open64", (void *)RT_LIBC(open64)},
    {"openat", (void *)RT_LIBC(openat)},
    {"openat64", (void *)RT_LIBC(openat64)},
    {"__open_2", (void *)RT_LIBC(__open_2)},
    {"__open64_2", (void *)RT_LIBC(__open64_2)},
    {"__openat_2", (void *)RT_LIBC(__openat_2)},
    {"__openat64_2", (void *)RT_LIBC(__openat64_2)},
    {"creat", (void *)RT_LIBC(creat)},
    {"creat64", (void *)RT_LIBC(creat64)},
    {"fopen", (void *)RT_LIBC(fopen)},
    {"fopen64", (void *)RT_LIBC(fopen64)},
    {"stat", (void *)RT_LIBC(stat)},
    {"stat64", (void *)RT_LIBC(stat64)},
    {"lstat", (void *)RT_LIBC(lstat)},
    {"lstat64", (void *)RT_LIBC(lstat64)},
    {"fstatat", (void *)RT_LIBC(fstatat)},
    {"fstatat64", (void *)RT_LIBC(fstatat64)},
    {"statx", (void *)RT_LIBC(statx)},
    {"__xstat", (void *)RT_LIBC(__xstat)},
    {"__xstat64", (void *)RT_LIBC(__xstat64)},
    {"__lxstat", (void *)RT_LIBC(__lxstat)},
    {"__lxstat64", (void *)RT_LIBC(__lxstat64)},
    {"__fxstatat", (void *)RT_LIBC(__fxstatat)},
    {"__fxstatat64", (void *)RT_LIBC(__fxstatat64)},
    {"access", (void *)RT_LIBC(access)},
    {"faccessat", (void *)RT_LIBC(faccessat)},
    {"readlink", (void *)RT_LIBC(readlink)},
    {"mkdir", (void *)RT_LIBC(mkdir)},
    {"unlink", (void *)RT_LIBC(unlink)},
    {"unlinkat", (void *)RT_LIBC(unlinkat)},
    {"rmdir", (void *)RT_LIBC(rmdir)},
    {"renameat", (void *)RT_LIBC(renameat)},
    {"rename", (void *)RT_LIBC(rename)},
    {"listxattr", (void *)RT_LIBC(listxattr)},
    {"llistxattr", (void *)RT_LIBC(llistxattr)},
    {"getxattr", (void *)RT_LIBC(getxattr)},
    {"lgetxattr", (void *)RT_LIBC(lgetxattr)},
    {"opendir", (void *)RT_LIBC(opendir)},
    {"readdir", (void *)RT_LIBC(readdir)},
    {"readdir64", (void *)RT_LIBC(readdir64)},
    {"rewinddir", (void *)RT_LIBC(rewinddir)},
    {"dirfd", (void *)RT_LIBC(dirfd)},
    {"closedir", (void *)RT_LIBC(closedir)},
};
const size_t rt_libc_n_hooks = sizeof rt_libc_hooks / sizeof rt_libc_hooks[0];
#endif
