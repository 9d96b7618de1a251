/*
 * emit_extension.c: the extension module: the runtime's template shared
 * object, its entry point renamed PyInit_<module>, then the bundle, in
 * one file that appears atomically.
 */
#include "emit_files.h"
#include "../elf/elf_reader.h"

#include <stdlib.h>
#include <string.h>

/* True when name is a module name a PyInit_ symbol can carry: an ASCII
 * identifier (CPython names a non-ASCII module's entry point otherwise). */
static int emit_extension_name_ok(const char *name)
{
    const char *s = name;

    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int emit_extension(const plan *p, const char *template_path,
                   const char *name, const char *out_path, kl_err *err)
{
    kl_map tpl = {NULL, 0};
    kl_map image;
    kl_buf sym = KL_BUF_INIT;
    uint8_t *copy = NULL;
    int r = -1;

    if (!emit_extension_name_ok(name))
        return kl_err_set(err, "%s is not a module name an extension module "
                               "can have (letters, digits and _, not "
                               "starting with a digit): give another with "
                               "--name", name);
    if (kl_map_file(template_path, &tpl, err) < 0)
        return kl_err_prefix(err, "extension module template");
    if (bundle_present(tpl.data, tpl.size)) {
        kl_err_set(err, "%s already carries a bundle; reinstall kiln",
                   template_path);
        goto done;
    }
    copy = malloc(tpl.size ? (size_t)tpl.size : 1);
    if (copy == NULL || kl_buf_setf(&sym, "PyInit_%s", name) < 0) {
        kl_err_oom(err);
        goto done;
    }
    memcpy(copy, tpl.data, (size_t)tpl.size);
    if (elf_rename_export(copy, tpl.size, KL_EXT_INIT_PREFIX, sym.s,
                          err) < 0) {
        kl_err_prefix(err, "%s (extension module template; reinstall kiln)",
                      template_path);
        goto done;
    }
    image.data = copy;
    image.size = tpl.size;
    r = emit_onefile_image(p, &image, out_path, err);
done:
    free(copy);
    kl_buf_free(&sym);
    kl_unmap(&tpl);
    return r;
}
