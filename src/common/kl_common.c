/*
 * kl_common.c: error messages, checksums, name hashing, file reading.
 */
#include "kl_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

int kl_err_set(kl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int kl_err_prefix(kl_err *err, const char *fmt, ...)
{
    char head[512];
    char tail[sizeof err->msg];
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(tail, err->msg, sizeof tail);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", head, tail) < 0)
        err->msg[0] = '\0';
    return -1;
}

uint64_t kl_checksum(uint64_t seed, const void *p, size_t n)
{
    const uint64_t prime = UINT64_C(0x100000001b3);
    const unsigned char *b = p;
    uint64_t h = seed;
    uint64_t w;

    while (n >= 8) {
        memcpy(&w, b, 8);
        h = (h ^ w) * prime;
        b += 8;
        n -= 8;
    }
    while (n > 0) {
        h = (h ^ *b) * prime;
        b++;
        n--;
    }
    return h;
}

uint32_t kl_name_hash(const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)name[i];
        h *= 16777619u;
    }
    return h ^ (h >> 15);
}

int kl_read_file(const char *path, uint8_t **out, size_t *len, kl_err *err)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t done = 0;
    int fd;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kl_err_set(err, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        kl_err_set(err, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        kl_err_set(err, "%s: not a regular file", path);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        kl_err_set(err, "%s: out of memory", path);
        goto fail;
    }
    while (done < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            kl_err_set(err, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    buf[done] = 0;
    close(fd);
    *out = buf;
    *len = done;
    return 0;

fail:
    free(buf);
    close(fd);
    return -1;
}
