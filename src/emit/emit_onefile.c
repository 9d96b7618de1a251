/*
 * emit_onefile.c: the one-file program: stub, then bundle, in one file
 * that appears atomically.
 */
#include "emit_files.h"

#include <sys/stat.h>

int emit_onefile_image(const plan *p, const kl_map *stub,
                       const char *out_path, kl_err *err)
{
    kl_buf tmp = KL_BUF_INIT;
    struct stat st;
    int fd = -1, r = -1;

    if (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode))
        return kl_err_set(err, "cannot write %s: it is a directory",
                          out_path);
    if (kl_make_parents(out_path, err) < 0 ||
        kl_temp_beside(out_path, &tmp, &fd, err) < 0)
        goto done;
    if (emit_program_write(p, stub, fd, NULL, NULL, err) < 0) {
        kl_err_prefix(err, "%s", out_path);
        kl_temp_discard(&tmp, fd);
        goto done;
    }
    r = kl_temp_commit(&tmp, fd, out_path, 0755, err);
done:
    kl_buf_free(&tmp);
    return r;
}

int emit_onefile(const plan *p, const char *stub_path, const char *out_path,
                 kl_err *err)
{
    kl_map stub = {NULL, 0};
    int r = -1;

    if (kl_map_file(stub_path, &stub, err) < 0)
        return kl_err_prefix(err, "runtime stub");
    if (bundle_present(stub.data, stub.size))
        kl_err_set(err, "%s already carries a bundle; reinstall kiln",
                   stub_path);
    else
        r = emit_onefile_image(p, &stub, out_path, err);
    kl_unmap(&stub);
    return r;
}
