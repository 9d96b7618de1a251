/*
 * build_output.c: find the runtime stub and write a built program.
 */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int build_find_stub(char *out, size_t size, kl_err *err)
{
    char self[PATH_MAX];
    char *slash;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *tries[] = {"%s/kiln-stub", "%s/../lib/kiln/kiln-stub"};
    size_t i;

    if (n < 0)
        return kl_err_set(err, "cannot find the kiln executable: %s",
                          strerror(errno));
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    for (i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        snprintf(out, size, tries[i], self);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return kl_err_set(err, "runtime stub not found next to kiln (%s/kiln-stub "
                           "or %s/../lib/kiln/kiln-stub); reinstall kiln",
                      self, self);
}

/* Create every missing directory of path's parent. */
static int build_make_parents(const char *path, kl_err *err)
{
    char buf[PATH_MAX];
    char *p;

    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return kl_err_set(err, "%s: path too long", path);
    p = strrchr(buf, '/');
    if (p == NULL || p == buf)
        return 0;
    *p = '\0';
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return kl_err_set(err, "cannot create directory %s: %s", buf,
                              strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) < 0 && errno != EEXIST)
        return kl_err_set(err, "cannot create directory %s: %s", buf,
                          strerror(errno));
    return 0;
}

/* Write all of buf to fd. */
static int build_write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int build_write_program(const char *path, const char *stub_path,
                        bundle_writer *w, kl_err *err)
{
    uint8_t *stub = NULL, *bundle = NULL;
    size_t stub_size, bundle_size;
    static const uint8_t zeros[BUNDLE_PAGE];
    uint64_t at;
    char tmp[PATH_MAX + 32];
    const char *slash = strrchr(path, '/');
    struct stat st;
    int fd = -1;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return kl_err_set(err, "cannot write %s: it is a directory", path);
    if (kl_read_file(stub_path, &stub, &stub_size, err) < 0)
        return kl_err_prefix(err, "runtime stub");
    if (bundle_present(stub, stub_size)) {
        free(stub);
        return kl_err_set(err, "%s already carries a bundle; reinstall kiln",
                          stub_path);
    }
    at = (stub_size + BUNDLE_PAGE - 1) / BUNDLE_PAGE * BUNDLE_PAGE;
    if (bundle_writer_finish(w, at, &bundle, &bundle_size, err) < 0)
        goto fail;
    if (build_make_parents(path, err) < 0)
        goto fail;
    if (slash != NULL)
        snprintf(tmp, sizeof tmp, "%.*s/.%s.kiln-XXXXXX", (int)(slash - path),
                 path, slash + 1);
    else
        snprintf(tmp, sizeof tmp, ".%s.kiln-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        kl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        goto fail;
    }
    if (build_write_all(fd, stub, stub_size) < 0 ||
        build_write_all(fd, zeros, (size_t)(at - stub_size)) < 0 ||
        build_write_all(fd, bundle, bundle_size) < 0) {
        kl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        goto fail_tmp;
    }
    if (fchmod(fd, 0755) < 0 || close(fd) < 0) {
        fd = -1;
        kl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        goto fail_tmp;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        kl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        goto fail_tmp;
    }
    free(stub);
    free(bundle);
    return 0;

fail_tmp:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
fail:
    free(stub);
    free(bundle);
    return -1;
}
