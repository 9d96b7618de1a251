/*
 * kl_file.c: file helpers: what a path names, open a regular file, read
 * it whole, map it, make a file appear atomically.
 */
#include "kl_common.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int kl_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int kl_is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int kl_open_regular(const char *path, int *fd, uint64_t *size, kl_err *err)
{
    struct stat st;
    int f;

    *fd = -1;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f < 0)
        return kl_err_set(err, "%s: %s", path, strerror(errno));
    if (fstat(f, &st) < 0) {
        kl_err_set(err, "%s: %s", path, strerror(errno));
        close(f);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        kl_err_set(err, "%s: %s", path, S_ISDIR(st.st_mode)
                                            ? "is a directory"
                                            : "not a regular file");
        close(f);
        return -1;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

int kl_read_file(const char *path, uint8_t **out, size_t *len, kl_err *err)
{
    uint8_t *buf;
    uint64_t size;
    int fd;

    *out = NULL;
    *len = 0;
    if (kl_open_regular(path, &fd, &size, err) < 0)
        return -1;
    if (size >= SIZE_MAX || (buf = malloc((size_t)size + 1)) == NULL) {
        close(fd);
        return kl_err_set(err, "%s: out of memory", path);
    }
    if (kl_read_at(fd, buf, (size_t)size, 0, path, err) < 0) {
        free(buf);
        close(fd);
        return -1;
    }
    close(fd);
    buf[size] = 0;
    *out = buf;
    *len = (size_t)size;
    return 0;
}

int kl_map_file(const char *path, kl_map *m, kl_err *err)
{
    uint64_t size;
    void *p;
    int fd;

    m->data = NULL;
    m->size = 0;
    if (kl_open_regular(path, &fd, &size, err) < 0)
        return -1;
    if (size == 0) {
        close(fd);
        return 0;
    }
    if (size > SIZE_MAX) {
        close(fd);
        return kl_err_set(err, "%s: too large to map", path);
    }
    p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return kl_err_set(err, "%s: cannot map: %s", path, strerror(errno));
    m->data = p;
    m->size = size;
    return 0;
}

void kl_unmap(kl_map *m)
{
    if (m->data != NULL)
        munmap((void *)m->data, (size_t)m->size);
    m->data = NULL;
    m->size = 0;
}

int kl_make_parents(const char *path, kl_err *err)
{
    kl_buf dir = KL_BUF_INIT;
    char *p;
    int r = 0;

    if (kl_buf_sets(&dir, path) < 0)
        return kl_err_oom(err);
    p = strrchr(dir.s, '/');
    if (p == NULL || p == dir.s) {
        kl_buf_free(&dir);
        return 0;
    }
    *p = '\0';
    for (p = dir.s + 1; r == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        {
            char saved = *p;

            *p = '\0';
            if (mkdir(dir.s, 0777) < 0 && errno != EEXIST)
                r = kl_err_set(err, "cannot create directory %s: %s", dir.s,
                               strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    kl_buf_free(&dir);
    return r;
}

int kl_temp_beside(const char *path, kl_buf *tmp, int *fd, kl_err *err)
{
    const char *slash = strrchr(path, '/');

    *fd = -1;
    if ((slash != NULL ? kl_buf_setf(tmp, "%.*s/.%s.kiln-XXXXXX",
                                     (int)(slash - path), path, slash + 1)
                       : kl_buf_setf(tmp, ".%s.kiln-XXXXXX", path)) < 0)
        return kl_err_oom(err);
    *fd = mkostemp(tmp->s, O_CLOEXEC);
    if (*fd < 0)
        return kl_err_set(err, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

void kl_temp_discard(const kl_buf *tmp, int fd)
{
    int saved = errno;

    if (fd >= 0)
        close(fd);
    unlink(tmp->s);
    errno = saved;
}

int kl_temp_commit(const kl_buf *tmp, int fd, const char *path, unsigned mode,
                   kl_err *err)
{
    assert(fd >= 0);
    if (fchmod(fd, (mode_t)mode) < 0) {
        kl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        kl_temp_discard(tmp, fd);
        return -1;
    }
    /* close() reports delayed write errors (NFS, quotas): after it fails
     * the descriptor is gone either way. */
    if (close(fd) < 0 || rename(tmp->s, path) < 0) {
        kl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        kl_temp_discard(tmp, -1);
        return -1;
    }
    return 0;
}

int kl_file_replace(const char *path, const void *p, size_t n, unsigned mode,
                    kl_err *err)
{
    kl_buf tmp = KL_BUF_INIT;
    int fd, r = -1;

    if (kl_temp_beside(path, &tmp, &fd, err) == 0) {
        if (kl_write_all(fd, p, n, path, err) < 0)
            kl_temp_discard(&tmp, fd);
        else
            r = kl_temp_commit(&tmp, fd, path, mode, err);
    }
    kl_buf_free(&tmp);
    return r;
}
