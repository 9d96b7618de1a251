/*
 * stub_libc.c: the libc calls that take a path, as the executable defines
 * them: a path under a one-file program ("<program>/pkg/data.txt") is
 * served from the program's tree (src/runtime/rt_files.c), any other goes
 * to libc's own function, found with dlsym(RTLD_NEXT) on first use.
 * dlopen() of a library the program carries, or of a path under it, is
 * answered by src/runtime/rt_natives.c. The
 * executable exports its symbols (for extension modules), so Python's os
 * and io modules, extension modules and the libraries they load all reach
 * these. No Python here: this file must see libc's declarations without
 * pyconfig.h's _FILE_OFFSET_BITS, which would rename them.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include "../runtime/rt_files.h"
#include "../runtime/rt_natives.h"

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
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

/* Entry points older glibc headers declared and extension modules built
 * against them (manylinux) still call; today's glibc keeps them. */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
               int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
                 int flags);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* libc's definition of `name`, looked up once (a race only looks it up
 * twice). Ends the process when libc lacks it: nothing sensible is left. */
static void *stub_libc_real(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (f == NULL) {
        f = dlsym(RTLD_NEXT, name);
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
#define STUB_REAL(ret, name, params)                                       \
    static void *stub_slot_##name;                                        \
    ret(*real) params = (ret(*) params)stub_libc_real(&stub_slot_##name, \
                                                       #name)

/* True when path (absolute) lies under the program: relative paths never
 * do, whatever dirfd is. A NULL path goes to libc, which says EFAULT
 * (Rust's std probes statx that way). libc declares these parameters
 * nonnull, which would let the compiler drop the test: the empty asm hides
 * where path comes from. */
static int stub_libc_ours(const char *path)
{
    __asm__("" : "+r"(path));
    return path != NULL && path[0] == '/' && rt_files_claims(path);
}

/* Define libc function `name` (returning ret, taking params, called with
 * args) to do `ours` when `path` lies under the program, else libc's. */
#define STUB_WRAP(ret, name, params, args, path, ours)                      \
    ret name params                                                        \
    {                                                                      \
        STUB_REAL(ret, name, params);                                      \
        if (stub_libc_ours(path))                                          \
            return ours;                                                   \
        return real args;                                                  \
    }

/* ---- open ----------------------------------------------------------------- */

/* open() and openat(): mode is an argument only when the call may create
 * a file (a statement expression: va_start must be in the variadic
 * function itself). */
#define STUB_OPEN_MODE(flags)                                              \
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
#define STUB_WRAP_OPEN(name)                                                \
    int name(const char *path, int flags, ...)                             \
    {                                                                      \
        STUB_REAL(int, name, (const char *, int, ...));                    \
        mode_t mode = STUB_OPEN_MODE(flags);                               \
        if (stub_libc_ours(path))                                          \
            return rt_files_open(path, flags);                             \
        return real(path, flags, mode);                                    \
    }
#define STUB_WRAP_OPENAT(name)                                              \
    int name(int dirfd, const char *path, int flags, ...)                  \
    {                                                                      \
        STUB_REAL(int, name, (int, const char *, int, ...));               \
        mode_t mode = STUB_OPEN_MODE(flags);                               \
        if (stub_libc_ours(path))                                          \
            return rt_files_open(path, flags);                             \
        return real(dirfd, path, flags, mode);                             \
    }

STUB_WRAP_OPEN(open)
STUB_WRAP_OPEN(open64)
STUB_WRAP_OPENAT(openat)
STUB_WRAP_OPENAT(openat64)

/* The checked forms _FORTIFY_SOURCE compiles open() calls into. */
int __open_2(const char *path, int flags)
{
    return open(path, flags);
}

int __open64_2(const char *path, int flags)
{
    return open64(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
    return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
    return openat64(dirfd, path, flags);
}

/* creat(): always a write, so refused (EROFS). */
STUB_WRAP(int, creat, (const char *path, mode_t mode), (path, mode), path,
          rt_files_open(path, O_WRONLY | O_CREAT | O_TRUNC))
STUB_WRAP(int, creat64, (const char *path, mode_t mode), (path, mode), path,
          rt_files_open(path, O_WRONLY | O_CREAT | O_TRUNC))

/* fopen(): a stream over rt_files_open()'s memfd; writing modes are
 * refused with EROFS. */
static FILE *stub_libc_fopen(const char *path, const char *mode)
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

STUB_WRAP(FILE *, fopen, (const char *path, const char *mode), (path, mode),
          path, stub_libc_fopen(path, mode))
STUB_WRAP(FILE *, fopen64, (const char *path, const char *mode),
          (path, mode), path, stub_libc_fopen(path, mode))

/* ---- stat ----------------------------------------------------------------- */

/* The tree has no symbolic links: lstat() is stat(). */
STUB_WRAP(int, stat, (const char *path, struct stat *st), (path, st), path,
          rt_files_stat(path, st))
STUB_WRAP(int, stat64, (const char *path, struct stat64 *st), (path, st),
          path, rt_files_stat(path, (struct stat *)st))
STUB_WRAP(int, lstat, (const char *path, struct stat *st), (path, st), path,
          rt_files_stat(path, st))
STUB_WRAP(int, lstat64, (const char *path, struct stat64 *st), (path, st),
          path, rt_files_stat(path, (struct stat *)st))
STUB_WRAP(int, fstatat, (int dirfd, const char *path, struct stat *st,
                         int flags),
          (dirfd, path, st, flags), path, rt_files_stat(path, st))
STUB_WRAP(int, fstatat64, (int dirfd, const char *path, struct stat64 *st,
                           int flags),
          (dirfd, path, st, flags), path,
          rt_files_stat(path, (struct stat *)st))

/* statx(): the same answers in statx's record (newer code, Rust's std). */
static int stub_libc_statx(const char *path, unsigned mask, struct statx *stx)
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

STUB_WRAP(int, statx, (int dirfd, const char *path, int flags, unsigned mask,
                       struct statx *stx),
          (dirfd, path, flags, mask, stx), path,
          stub_libc_statx(path, mask, stx))

/* The versioned forms: on x86_64 and aarch64 every version they accept
 * has struct stat's layout, so the calls above serve them. */
#define STUB_XSTAT(name, type, call)                                       \
    int name(int ver, const char *path, type *st)                          \
    {                                                                      \
        (void)ver;                                                         \
        return call(path, st);                                             \
    }

STUB_XSTAT(__xstat, struct stat, stat)
STUB_XSTAT(__xstat64, struct stat64, stat64)
STUB_XSTAT(__lxstat, struct stat, lstat)
STUB_XSTAT(__lxstat64, struct stat64, lstat64)

int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
               int flags)
{
    (void)ver;
    return fstatat(dirfd, path, st, flags);
}

int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
                 int flags)
{
    (void)ver;
    return fstatat64(dirfd, path, st, flags);
}

/* ---- access, readlink, changes, extended attributes ---------------------- */

/* -1 with errno `code` when path exists in the tree, else with stat's
 * errno. */
static int stub_libc_fail_if_there(const char *path, int code)
{
    struct stat st;

    if (rt_files_stat(path, &st) == 0)
        errno = code;
    return -1;
}

STUB_WRAP(int, access, (const char *path, int mode), (path, mode), path,
          rt_files_access(path, mode))
STUB_WRAP(int, faccessat, (int dirfd, const char *path, int mode, int flags),
          (dirfd, path, mode, flags), path, rt_files_access(path, mode))

/* Nothing in the tree is a symbolic link. */
STUB_WRAP(ssize_t, readlink, (const char *path, char *buf, size_t size),
          (path, buf, size), path, stub_libc_fail_if_there(path, EINVAL))

/* Nothing in the tree can be made, removed or renamed. */
STUB_WRAP(int, mkdir, (const char *path, mode_t mode), (path, mode), path,
          rt_files_mkdir(path))
STUB_WRAP(int, unlink, (const char *path), (path), path,
          rt_files_remove(path))
STUB_WRAP(int, unlinkat, (int dirfd, const char *path, int flags),
          (dirfd, path, flags), path, rt_files_remove(path))
STUB_WRAP(int, rmdir, (const char *path), (path), path,
          rt_files_remove(path))

/* A rename into the tree is refused like one out of it. */
int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    STUB_REAL(int, renameat, (int, const char *, int, const char *));

    if (stub_libc_ours(from))
        return rt_files_remove(from);
    if (stub_libc_ours(to))
        return errno = EROFS, -1;
    return real(fromfd, from, tofd, to);
}

int rename(const char *from, const char *to)
{
    return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

/* No file of the tree has extended attributes (shutil.copy2 asks): an
 * empty list when path exists, else stat's errno. */
static ssize_t stub_libc_no_xattrs(const char *path)
{
    struct stat st;

    return rt_files_stat(path, &st) == 0 ? 0 : -1;
}

STUB_WRAP(ssize_t, listxattr, (const char *path, char *list, size_t size),
          (path, list, size), path, stub_libc_no_xattrs(path))
STUB_WRAP(ssize_t, llistxattr, (const char *path, char *list, size_t size),
          (path, list, size), path, stub_libc_no_xattrs(path))
STUB_WRAP(ssize_t, getxattr, (const char *path, const char *name,
                              void *value, size_t size),
          (path, name, value, size), path,
          stub_libc_fail_if_there(path, ENODATA))
STUB_WRAP(ssize_t, lgetxattr, (const char *path, const char *name,
                               void *value, size_t size),
          (path, name, value, size), path,
          stub_libc_fail_if_there(path, ENODATA))

/* ---- directories ---------------------------------------------------------- */

/* The tree's open directories, handed out as DIR pointers: a DIR is ours
 * only when it is on this list. While the list is empty (nearly always)
 * readdir() on libc's DIRs costs one atomic load. */
typedef struct stub_dir {
    rt_files_dir *dir;
    struct stub_dir *next;
} stub_dir;

static pthread_mutex_t stub_dirs_lock = PTHREAD_MUTEX_INITIALIZER;
static stub_dir *stub_dirs;
static unsigned long stub_dirs_count;

/* The tree directory behind dirp, or NULL when dirp is libc's. */
static rt_files_dir *stub_dir_of(DIR *dirp)
{
    rt_files_dir *found = NULL;
    stub_dir *s;

    if (__atomic_load_n(&stub_dirs_count, __ATOMIC_ACQUIRE) == 0)
        return NULL;
    pthread_mutex_lock(&stub_dirs_lock);
    for (s = stub_dirs; s != NULL; s = s->next)
        if ((DIR *)s->dir == dirp) {
            found = s->dir;
            break;
        }
    pthread_mutex_unlock(&stub_dirs_lock);
    return found;
}

DIR *opendir(const char *path)
{
    STUB_REAL(DIR *, opendir, (const char *));
    rt_files_dir *d;
    stub_dir *s;

    if (!stub_libc_ours(path))
        return real(path);
    if ((d = rt_files_opendir(path)) == NULL)
        return NULL;
    if ((s = malloc(sizeof(*s))) == NULL) {
        rt_files_closedir(d);
        errno = ENOMEM;
        return NULL;
    }
    s->dir = d;
    pthread_mutex_lock(&stub_dirs_lock);
    s->next = stub_dirs;
    stub_dirs = s;
    __atomic_add_fetch(&stub_dirs_count, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&stub_dirs_lock);
    return (DIR *)d;
}

struct dirent *readdir(DIR *dirp)
{
    STUB_REAL(struct dirent *, readdir, (DIR *));
    rt_files_dir *d = stub_dir_of(dirp);

    return d ? rt_files_readdir(d) : real(dirp);
}

struct dirent64 *readdir64(DIR *dirp)
{
    STUB_REAL(struct dirent64 *, readdir64, (DIR *));
    rt_files_dir *d = stub_dir_of(dirp);

    return d ? (struct dirent64 *)rt_files_readdir(d) : real(dirp);
}

void rewinddir(DIR *dirp)
{
    STUB_REAL(void, rewinddir, (DIR *));
    rt_files_dir *d = stub_dir_of(dirp);

    if (d)
        rt_files_rewinddir(d);
    else
        real(dirp);
}

/* A tree directory has no descriptor. */
int dirfd(DIR *dirp)
{
    STUB_REAL(int, dirfd, (DIR *));

    if (stub_dir_of(dirp)) {
        errno = ENOTSUP;
        return -1;
    }
    return real(dirp);
}

int closedir(DIR *dirp)
{
    STUB_REAL(int, closedir, (DIR *));
    stub_dir **p, *s = NULL;

    if (__atomic_load_n(&stub_dirs_count, __ATOMIC_ACQUIRE) > 0) {
        pthread_mutex_lock(&stub_dirs_lock);
        for (p = &stub_dirs; *p != NULL; p = &(*p)->next)
            if ((DIR *)(*p)->dir == dirp) {
                s = *p;
                *p = s->next;
                __atomic_sub_fetch(&stub_dirs_count, 1, __ATOMIC_RELEASE);
                break;
            }
        pthread_mutex_unlock(&stub_dirs_lock);
    }
    if (s == NULL)
        return real(dirp);
    rt_files_closedir(s->dir);
    free(s);
    return 0;
}

/* ---- dlopen ---------------------------------------------------------------- */

/* libc's dlopen of bare name file for code at address caller, searching
 * the caller's own RPATH or RUNPATH first: libc's dlopen searches those
 * of the object that calls it, which is now this executable. A name
 * already loaded is libc's to answer; for an object loaded from memory or
 * the cache, its $ORIGIN directories are looked up in the program
 * (rt_natives_dlopen_beside); then the directories the loader gives
 * (dlinfo RTLD_DI_SERINFO, in its order, LD_LIBRARY_PATH's among them) are
 * tried; the system's are left to libc's own search. */
static void *stub_libc_dlopen_name(void *(*real)(const char *, int),
                                   const char *file, int flags,
                                   const void *caller)
{
    struct link_map *lm = NULL;
    Dl_serinfo size;
    Dl_serinfo *si = NULL;
    Dl_info info;
    kl_buf path = KL_BUF_INIT;
    void *h = NULL;
    unsigned i;

    if (dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) == 0 ||
        lm == NULL || lm->l_name[0] == '\0')
        return real(file, flags);
    if ((h = real(file, flags | RTLD_NOLOAD)) != NULL ||
        rt_natives_dlopen_beside(lm->l_name, file, flags, &h))
        return h;
    if (dlinfo(lm, RTLD_DI_SERINFOSIZE, &size) == 0 &&
        (si = malloc(size.dls_size)) != NULL) {
        *si = size;
        if (dlinfo(lm, RTLD_DI_SERINFO, si) < 0)
            si->dls_cnt = 0;
        for (i = 0; h == NULL && i < si->dls_cnt; i++) {
            if (si->dls_serpath[i].dls_flags & (LA_SER_DEFAULT | LA_SER_CONFIG))
                continue;
            if (kl_path_join(&path, si->dls_serpath[i].dls_name, file) == 0 &&
                access(path.s, F_OK) == 0)
                h = real(path.s, flags);
        }
        free(si);
        kl_buf_free(&path);
    }
    (void)dlerror();
    return h != NULL ? h : real(file, flags);
}

void *dlopen(const char *file, int flags)
{
    STUB_REAL(void *, dlopen, (const char *, int));
    void *h;

    if (rt_natives_dlopen(file, flags, &h))
        return h;
    rt_natives_dlerror_clear();
    if (file != NULL && strchr(file, '/') == NULL)
        return stub_libc_dlopen_name(real, file, flags,
                                     __builtin_return_address(0));
    return real(file, flags);
}

/* libc's dlerror, looked up before main: looking it up with dlsym when
 * it is first called would clear the very message it is called for. */
static char *(*stub_libc_dlerror)(void);

__attribute__((constructor)) static void stub_libc_dlerror_init(void)
{
    static void *slot;

    stub_libc_dlerror = (char *(*)(void))stub_libc_real(&slot, "dlerror");
}

/* A failure of rt_natives_dlopen() is said here; any other is libc's. */
char *dlerror(void)
{
    char *(*real)(void) = stub_libc_dlerror;
    const char *ours = rt_natives_dlerror();

    if (ours != NULL) {
        (void)real();
        return (char *)ours;
    }
    return real();
}
