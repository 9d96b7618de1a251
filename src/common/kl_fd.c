/*
 * kl_fd.c: whole buffers to and from open descriptors: write all of a
 * buffer, read an exact range. No path is opened here (the runtime's
 * file tree, which serves paths, uses these).
 */
#include "kl_common.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int kl_write_all(int fd, const void *p, size_t n, const char *what,
                 kl_err *err)
{
    const uint8_t *b = p;

    while (n > 0) {
        ssize_t w = write(fd, b, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return kl_err_set(err, "cannot write %s: %s", what,
                              strerror(errno));
        if (w == 0)
            return kl_err_set(err, "cannot write %s: no progress", what);
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int kl_read_at(int fd, void *buf, size_t n, uint64_t off, const char *what,
               kl_err *err)
{
    uint8_t *b = buf;

    while (n > 0) {
        ssize_t r = pread(fd, b, n, (off_t)off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return kl_err_set(err, "cannot read %s: %s", what,
                              strerror(errno));
        if (r == 0)
            return kl_err_set(err, "%s changed while it was read", what);
        b += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}
