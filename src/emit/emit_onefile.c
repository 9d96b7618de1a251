/*
 * emit_onefile.c: the one-file program: stub, then bundle, in one file
 * that appears atomically.
 */
#include "emit_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int emit_onefile(const plan *p, const char *stub_path, const char *out_path,
                 kl_err *err)
{
    kl_map stub = {NULL, 0};
    kl_buf tmp = KL_BUF_INIT;
    const char *slash = strrchr(out_path, '/');
    struct stat st;
    int fd = -1, r = -1;

    if (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode))
        return kl_err_set(err, "cannot write %s: it is a directory",
                          out_path);
    if (kl_map_file(stub_path, &stub, err) < 0)
        return kl_err_prefix(err, "runtime stub");
    if (bundle_present(stub.data, stub.size)) {
        kl_err_set(err, "%s already carries a bundle; reinstall kiln",
                   stub_path);
        goto done;
    }
    if (emit_make_parents(out_path, err) < 0)
        goto done;
    if ((slash != NULL
             ? kl_buf_setf(&tmp, "%.*s/.%s.kiln-XXXXXX",
                           (int)(slash - out_path), out_path, slash + 1)
             : kl_buf_setf(&tmp, ".%s.kiln-XXXXXX", out_path)) < 0) {
        kl_err_oom(err);
        goto done;
    }
    fd = mkstemp(tmp.s);
    if (fd < 0) {
        kl_err_set(err, "cannot write %s: %s", out_path, strerror(errno));
        goto done;
    }
    if (emit_program_write(p, &stub, fd, NULL, NULL, err) < 0) {
        kl_err_prefix(err, "%s", out_path);
        goto fail_tmp;
    }
    if (fchmod(fd, 0755) < 0 || close(fd) < 0) {
        fd = -1;
        kl_err_set(err, "cannot write %s: %s", out_path, strerror(errno));
        goto fail_tmp;
    }
    fd = -1;
    if (rename(tmp.s, out_path) < 0) {
        kl_err_set(err, "cannot write %s: %s", out_path, strerror(errno));
        goto fail_tmp;
    }
    r = 0;
    goto done;

fail_tmp:
    if (fd >= 0)
        close(fd);
    unlink(tmp.s);
done:
    kl_buf_free(&tmp);
    kl_unmap(&stub);
    return r;
}
