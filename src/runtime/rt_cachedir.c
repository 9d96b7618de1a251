/*
 * rt_cachedir.c: the per-user cache that gives a one-file program real
 * files where memory will not do: its place ($XDG_CACHE_HOME/kiln/KIND,
 * private to the user), and content-addressed entries that appear whole
 * or not at all (written under a temporary name and renamed into place)
 * and are compared with the program's bytes before each use. Package
 * trees (rt_cache.c) and single objects (rt_cachedir_object: native code,
 * files for as_file() and where memory files are refused) are both kept
 * this way. A process that dies while it writes leaves its temporary
 * copy behind; the next one to write in the same cache directory removes
 * it (rt_cachedir_lock). No Python here.
 */
#include "rt_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* How many times an entry is written before giving up on a cache whose
 * copy keeps differing from the program's bytes. */
#define RT_CACHEDIR_TRIES 4

/* The temporary names in a cache directory: a copy being written, renamed
 * into place once whole (RT_CACHEDIR_NEW), and a damaged entry being
 * removed (RT_CACHEDIR_BAD), each followed by mkdtemp's six characters.
 * Whoever makes one holds a shared lock on the cache directory until it
 * is gone again (rt_cachedir_lock). */
#define RT_CACHEDIR_NEW ".new-"
#define RT_CACHEDIR_BAD ".bad-"

/* Make directory path (mode 0700) unless it exists. */
static int rt_cachedir_mkdir(const char *path, kl_err *err)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return kl_err_set(err, "cannot make %s: %s", path, strerror(errno));
    return 0;
}

int rt_cachedir_base(const char *kind, kl_buf *base, kl_err *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    struct stat st;
    int r;

    if (xdg == NULL || xdg[0] != '/') {
        if (home == NULL || home[0] != '/') {
            struct passwd *pw = getpwuid(getuid());

            home = pw ? pw->pw_dir : NULL;
        }
        if (home == NULL)
            return kl_err_set(err, "no cache directory: set XDG_CACHE_HOME "
                                   "or HOME");
        r = kl_path_join(base, home, ".cache");
    } else {
        r = kl_buf_sets(base, xdg);
    }
    if (r < 0)
        return kl_err_oom(err);
    if (rt_cachedir_mkdir(base->s, err) < 0 ||
        kl_buf_adds(base, "/kiln") < 0 || rt_cachedir_mkdir(base->s, err) < 0 ||
        kl_buf_adds(base, "/") < 0 || kl_buf_adds(base, kind) < 0 ||
        rt_cachedir_mkdir(base->s, err) < 0)
        return base->s ? -1 : kl_err_oom(err);
    if (lstat(base->s, &st) < 0)
        return kl_err_set(err, "%s: %s", base->s, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
        kl_err_set(err, "%s is not private to this user (chmod 700 it)",
                   base->s);
        errno = EACCES;
        return -1;
    }
    return 0;
}

int rt_cachedir_same(const char *file, const uint8_t *data, uint64_t size)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    uint8_t buf[65536];
    uint64_t at = 0;
    struct stat st;
    ssize_t n;
    int same;

    if (fd < 0)
        return 0;
    same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
           (uint64_t)st.st_size == size;
    while (same && (n = read(fd, buf, sizeof buf)) > 0) {
        same = at + (uint64_t)n <= size && memcmp(buf, data + at, (size_t)n) == 0;
        at += (uint64_t)n;
    }
    close(fd);
    return same && at == size;
}

/* nftw callback: remove one entry of a tree being removed. */
static int rt_cachedir_remove_one(const char *path, const struct stat *st,
                                  int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void rt_cachedir_remove(const char *path)
{
    nftw(path, rt_cachedir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remove the temporary names in cache directory base (open as fd), all
 * left by processes that died while they wrote: the caller holds the
 * exclusive lock, so no live process is using one. */
static void rt_cachedir_sweep(const char *base, int fd)
{
    kl_buf path = KL_BUF_INIT;
    struct dirent *de;
    int dfd = dup(fd);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);

    if (d == NULL) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if ((strncmp(de->d_name, RT_CACHEDIR_NEW,
                     strlen(RT_CACHEDIR_NEW)) == 0 ||
             strncmp(de->d_name, RT_CACHEDIR_BAD,
                     strlen(RT_CACHEDIR_BAD)) == 0) &&
            kl_path_join(&path, base, de->d_name) == 0)
            rt_cachedir_remove(path.s);
    }
    closedir(d);
    kl_buf_free(&path);
}

/* Take the lock a process holds on cache directory base while it has a
 * temporary name there: shared, so that processes write side by side.
 * First, when the lock can be had exclusively at once (nobody is
 * writing), remove the temporary names that processes killed while they
 * wrote left behind (rt_cachedir_sweep). Returns the descriptor holding
 * the lock (close it to let go), or -1 when the directory cannot be
 * locked (a file system without flock): the caller then writes unlocked,
 * and nothing is removed. */
static int rt_cachedir_lock(const char *base)
{
    int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        rt_cachedir_sweep(base, fd);
    while ((r = flock(fd, LOCK_SH)) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Move the damaged entry at final out of the way (renamed to a fresh name
 * beside it, so that another process that is still reading it is not
 * disturbed) and remove it. */
static void rt_cachedir_discard(const char *base, const char *final)
{
    kl_buf bad = KL_BUF_INIT;

    if (kl_buf_setf(&bad, "%s/" RT_CACHEDIR_BAD "XXXXXX", base) == 0 &&
        mkdtemp(bad.s) != NULL) {
        if (rename(final, bad.s) < 0)
            rmdir(bad.s);
        else
            rt_cachedir_remove(bad.s);
    }
    kl_buf_free(&bad);
}

int rt_cachedir_put(const char *base, const char *final,
                    rt_cachedir_fill fill, void *ctx, kl_err *err)
{
    kl_buf tmp = KL_BUF_INIT;
    struct stat st;
    int r = 0, tries, lock = -2; /* -2: not taken yet (rt_cachedir_lock) */

    for (tries = 0; tries < RT_CACHEDIR_TRIES; tries++) {
        if ((r = fill(ctx, final, 0, err)) != 0)
            break; /* there and the same (1), or an error (-1) */
        if (lock == -2)
            lock = rt_cachedir_lock(base);
        /* An entry appears whole (renamed into place), so one that is
         * there and differs was changed after it was written; unless it
         * has only just appeared, put there by another process. */
        if (lstat(final, &st) == 0) {
            if ((r = fill(ctx, final, 0, err)) != 0)
                break;
            rt_cachedir_discard(base, final);
        }
        if (kl_buf_setf(&tmp, "%s/" RT_CACHEDIR_NEW "XXXXXX", base) < 0) {
            r = kl_err_oom(err);
            break;
        }
        if (mkdtemp(tmp.s) == NULL) {
            r = kl_err_set(err, "cannot make a directory in %s: %s", base,
                           strerror(errno));
            break;
        }
        r = fill(ctx, tmp.s, 1, err);
        if (r == 0 && rename(tmp.s, final) == 0) {
            r = 1;
            break;
        }
        if (r == 0 && errno != EEXIST && errno != ENOTEMPTY)
            r = kl_err_set(err, "cannot rename %s to %s: %s", tmp.s, final,
                           strerror(errno));
        /* Another process put its copy there first: check that one. */
        rt_cachedir_remove(tmp.s);
        if (r < 0)
            break;
    }
    if (r == 0)
        r = kl_err_set(err, "%s keeps changing while it is written", final);
    if (lock >= 0)
        close(lock);
    kl_buf_free(&tmp);
    return r > 0 ? 0 : -1;
}

/* One object being put into the cache (rt_cachedir_object). */
typedef struct rt_cachedir_obj {
    const char *name;
    const uint8_t *data;
    size_t size;
    unsigned mode;
    kl_buf file;
} rt_cachedir_obj;

/* rt_cachedir_fill for one object: the file <dir>/<name>. */
static int rt_cachedir_obj_fill(void *ctx, const char *dir, int write,
                                kl_err *err)
{
    rt_cachedir_obj *o = ctx;
    int fd;

    if (kl_path_join(&o->file, dir, o->name) < 0)
        return kl_err_oom(err);
    if (!write)
        return rt_cachedir_same(o->file.s, o->data, o->size);
    fd = open(o->file.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, o->mode);
    if (fd < 0)
        return kl_err_set(err, "cannot write %s: %s", o->file.s,
                          strerror(errno));
    if (kl_write_all(fd, o->data, o->size, o->file.s, err) < 0) {
        close(fd);
        return -1;
    }
    if (close(fd) < 0)
        return kl_err_set(err, "cannot write %s: %s", o->file.s,
                          strerror(errno));
    return 0;
}

int rt_cachedir_object(const char *kind, const char *name, const void *data,
                       size_t size, unsigned mode, kl_buf *path, kl_err *err)
{
    rt_cachedir_obj o = {name, data, size, mode, KL_BUF_INIT};
    kl_buf base = KL_BUF_INIT, final = KL_BUF_INIT;
    uint64_t digest = kl_checksum(KL_CHECKSUM_SEED, name, strlen(name) + 1);
    int r;

    digest = kl_checksum(digest, data, size);
    r = rt_cachedir_base(kind, &base, err);
    if (r == 0 && kl_buf_setf(&final, "%s/%016llx", base.s,
                              (unsigned long long)digest) < 0)
        r = kl_err_oom(err);
    if (r == 0)
        r = rt_cachedir_put(base.s, final.s, rt_cachedir_obj_fill, &o, err);
    if (r == 0 && kl_path_join(path, final.s, name) < 0)
        r = kl_err_oom(err);
    kl_buf_free(&o.file);
    kl_buf_free(&base);
    kl_buf_free(&final);
    return r;
}
