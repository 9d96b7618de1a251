/*
 * rt_dlpath.c: where a one-file program's native objects are handed to
 * the dynamic loader from: a sealed memfd, as /proc/PID/fd/N under a
 * string never used before, or, where memory is refused (memfd_create
 * refused, a memfd not mappable executable, no /proc) or KILN_NATIVE says
 * so, the object's file in the per-user cache (rt_cachedir.c). The choice
 * is made once per process, at its first native object, and kept.
 */
#include "rt_natives.h"
#include "rt_files.h"

#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* What KILN_NATIVE asks for. */
enum rt_dlpath_mode { RT_DLPATH_AUTO, RT_DLPATH_MEMORY, RT_DLPATH_CACHE };

/* The process's choice: asked for (KILN_NATIVE), or taken at the first
 * object (decided). */
static struct {
    enum rt_dlpath_mode asked;
    enum rt_dlpath_mode now;   /* AUTO until decided */
    int verbose;
    const char *program;
    kl_err why;                /* why memory was refused, once it was */
} rt_dlpath_at;

/* How many times the loader was handed the path of descriptor N, per N:
 * the next path for N gets that many more slashes. */
static unsigned *rt_dlpath_fd_uses;
static size_t rt_dlpath_fd_cap;

int rt_dlpath_setup(const char *program, kl_err *err)
{
    const char *mode = getenv("KILN_NATIVE");
    const char *verbose = getenv("KILN_VERBOSE");

    rt_dlpath_at.program = program;
    rt_dlpath_at.verbose = verbose != NULL && verbose[0] != '\0' &&
                           strcmp(verbose, "0") != 0;
    if (mode == NULL || mode[0] == '\0')
        rt_dlpath_at.asked = RT_DLPATH_AUTO;
    else if (strcmp(mode, "memory") == 0)
        rt_dlpath_at.asked = RT_DLPATH_MEMORY;
    else if (strcmp(mode, "cache") == 0)
        rt_dlpath_at.asked = RT_DLPATH_CACHE;
    else
        return kl_err_set(err, "KILN_NATIVE=%s: it takes memory (load native "
                               "code from memory only) or cache (from files "
                               "in the per-user cache); unset, memory, or the "
                               "cache where memory is refused", mode);
    rt_dlpath_at.now = rt_dlpath_at.asked;
    return 0;
}

int rt_dlpath_in_cache(void)
{
    return rt_dlpath_at.now == RT_DLPATH_CACHE;
}

/* The directory memfd fd is named in: /proc/PID/fd/ when it shows fd
 * there (a debugger attached to the process opens the same object by
 * that name, where /proc/self/fd/N would be one of its own descriptors),
 * else /proc/self/fd/ (a /proc of another PID namespace). Checked once per
 * process, a forked child's included. */
static int rt_dlpath_fd_dir(int fd, kl_buf *dir, kl_err *err)
{
    static pid_t checked;
    static int by_pid;
    pid_t pid = getpid();

    if (pid != checked) {
        struct stat by_path, by_fd;
        char path[64];

        snprintf(path, sizeof path, "/proc/%ld/fd/%d", (long)pid, fd);
        by_pid = stat(path, &by_path) == 0 && fstat(fd, &by_fd) == 0 &&
                 by_path.st_ino == by_fd.st_ino &&
                 by_path.st_dev == by_fd.st_dev;
        checked = pid;
    }
    if ((by_pid ? kl_buf_setf(dir, "/proc/%ld/fd/", (long)pid)
                : kl_buf_sets(dir, "/proc/self/fd/")) < 0)
        return kl_err_oom(err);
    return 0;
}

/* Set path to /proc/PID/fd/N (or /proc/self/fd/N) for memfd fd, with one
 * more slash after "fd/" each time N was used before, and, when another
 * kiln runtime may share the process (an extension module kiln built, or
 * the program that imports it: rt_libc_other_runtimes), which counts its
 * own uses, more until no loaded object has that name. */
static int rt_dlpath_fd(int fd, kl_buf *path, kl_err *err)
{
    size_t need = (size_t)fd + 1;
    char num[16];
    unsigned i;
    void *h;

    assert(fd >= 0);
    if (need > rt_dlpath_fd_cap) {
        size_t cap = need < 64 ? 64 : need * 2;
        unsigned *grown = realloc(rt_dlpath_fd_uses, cap * sizeof *grown);

        if (grown == NULL)
            return kl_err_oom(err);
        memset(grown + rt_dlpath_fd_cap, 0,
               (cap - rt_dlpath_fd_cap) * sizeof *grown);
        rt_dlpath_fd_uses = grown;
        rt_dlpath_fd_cap = cap;
    }
    if (rt_dlpath_fd_dir(fd, path, err) < 0)
        return -1;
    for (i = 0; i < rt_dlpath_fd_uses[fd]; i++)
        if (kl_buf_add(path, "/", 1) < 0)
            return kl_err_oom(err);
    snprintf(num, sizeof num, "%d", fd);
    if (kl_buf_adds(path, num) < 0)
        return kl_err_oom(err);
    rt_dlpath_fd_uses[fd]++;
    while (rt_libc_other_runtimes() &&
           (h = dlopen(path->s, RTLD_LAZY | RTLD_NOLOAD)) != NULL) {
        size_t at = path->len - strlen(num);

        dlclose(h);
        if (kl_buf_add(path, "/", 1) < 0)
            return kl_err_oom(err);
        memmove(path->s + at + 1, path->s + at, strlen(num));
        path->s[at] = '/';
        rt_dlpath_fd_uses[fd]++;
    }
    return 0;
}

/* Whether the loader can use memfd fd through path: 0 when it can, else
 * -1 with why in err. */
static int rt_dlpath_probe(int fd, const char *path, kl_err *err)
{
    struct stat by_path, by_fd;
    void *m;

    if (stat(path, &by_path) < 0)
        return kl_err_set(err, "%s: %s (is /proc mounted?)", path,
                          strerror(errno));
    if (fstat(fd, &by_fd) < 0 || by_path.st_ino != by_fd.st_ino ||
        by_path.st_dev != by_fd.st_dev)
        return kl_err_set(err, "%s does not show the memfd (is /proc "
                               "mounted?)", path);
    m = mmap(NULL, 1, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return kl_err_set(err, "a memfd cannot be mapped executable: %s",
                          strerror(errno));
    munmap(m, 1);
    return 0;
}

/* From now on, native objects go to the cache, because of why; says so
 * when asked (KILN_VERBOSE). */
static void rt_dlpath_fall_back(const char *why)
{
    rt_dlpath_at.now = RT_DLPATH_CACHE;
    kl_err_set(&rt_dlpath_at.why, "%s", why);
    if (rt_dlpath_at.verbose) {
        kl_buf base = KL_BUF_INIT;
        kl_err err;

        fprintf(stderr, "%s: loading native code from files in %s, not from "
                        "memory: %s\n", rt_dlpath_at.program,
                rt_cachedir_base("natives", &base, &err) == 0
                    ? base.s : "the per-user cache", why);
        fflush(stderr);
        kl_buf_free(&base);
    }
}

int rt_dlpath_damaged(const char *name, rt_dlpath *p, kl_err *err)
{
    p->damaged = 1;
    return kl_err_set(err, "%s: the program's bundle is damaged (checksum "
                           "mismatch); rebuild it with kiln build", name);
}

/* Place name's bytes in the cache (p->fd stays -1), checked first when
 * check is not NULL. */
static int rt_dlpath_cache(const char *name, const void *data, size_t size,
                           const uint64_t *check, rt_dlpath *p, kl_err *err)
{
    if (check != NULL && kl_checksum(KL_CHECKSUM_SEED, data, size) != *check)
        return rt_dlpath_damaged(name, p, err);
    if (rt_cachedir_object("natives", name, data, size, 0500, &p->path,
                           err) == 0)
        return 0;
    if (rt_dlpath_at.asked == RT_DLPATH_CACHE)
        return kl_err_prefix(err, "%s: the per-user cache cannot be used "
                                  "(set XDG_CACHE_HOME to a directory of "
                                  "yours)", name);
    return kl_err_prefix(err, "%s: memory is refused (%s) and the per-user "
                              "cache cannot be used (set XDG_CACHE_HOME to a "
                              "directory of yours)", name,
                         rt_dlpath_at.why.msg);
}

int rt_dlpath_open(const char *name, const void *data, size_t size,
                   const uint64_t *check, rt_dlpath *p, kl_err *err)
{
    kl_err why;
    uint64_t sum;

    p->fd = -1;
    p->damaged = 0;
    if (rt_dlpath_at.now == RT_DLPATH_CACHE)
        return rt_dlpath_cache(name, data, size, check, p, err);
    p->fd = rt_memfd_create(name, data, size,
                            RT_MEMFD_CLOEXEC |
                                (check ? RT_MEMFD_DROP_SOURCE : 0u),
                            check ? &sum : NULL, &why);
    if (p->fd < 0) {
        if (rt_dlpath_at.now == RT_DLPATH_AUTO && rt_memfd_refused()) {
            rt_dlpath_fall_back(why.msg);
            return rt_dlpath_cache(name, data, size, check, p, err);
        }
        return kl_err_set(err, "%s: %s%s", name, why.msg,
                          rt_dlpath_at.now == RT_DLPATH_MEMORY &&
                                  rt_dlpath_at.asked == RT_DLPATH_MEMORY
                              ? " (KILN_NATIVE=memory; unset it to load "
                                "from the per-user cache instead)"
                              : "");
    }
    if (check != NULL && sum != *check) {
        rt_dlpath_close(p);
        return rt_dlpath_damaged(name, p, err);
    }
    if (rt_dlpath_fd(p->fd, &p->path, err) < 0) {
        rt_dlpath_close(p);
        return -1;
    }
    if (rt_dlpath_at.now == RT_DLPATH_AUTO) {
        if (rt_dlpath_probe(p->fd, p->path.s, &why) < 0) {
            rt_dlpath_close(p);
            rt_dlpath_fall_back(why.msg);
            return rt_dlpath_cache(name, data, size, NULL, p, err);
        }
        rt_dlpath_at.now = RT_DLPATH_MEMORY;
    }
    return 0;
}

void rt_dlpath_close(rt_dlpath *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    kl_buf_free(&p->path);
}
