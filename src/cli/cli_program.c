/*
 * cli_program.c: a built program opened for the commands that read one
 * (inspect, extract, analyze): its mapping and bundle, the bytes of an
 * entry wherever they lie, and the new files those commands write.
 */
#include "cli.h"

#include "../emit/emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_map_path(const char **path, kl_buf *exe, kl_map *map, kl_err *err)
{
    if (kl_is_dir(*path)) {
        if (emit_folder_program_exe(*path, exe, err) < 0)
            return -1;
        *path = exe->s;
    }
    return kl_map_file(*path, map, err);
}

int cli_map_external(const char *exe, const bundle_view *v,
                     const bundle_entry *e, kl_map *m, kl_err *err)
{
    const char *slash = strrchr(exe, '/');
    kl_buf file = KL_BUF_INIT;
    int r;

    m->data = NULL;
    m->size = 0;
    if (kl_buf_setf(&file, "%.*s%s%s/%s", slash ? (int)(slash + 1 - exe) : 0,
                    exe, slash ? "" : "./", bundle_folder(v),
                    bundle_entry_path(v, e)) < 0)
        return kl_err_oom(err);
    r = kl_map_file(file.s, m, err) < 0
            ? kl_err_prefix(err, "the program's folder is incomplete")
            : bundle_check_external(v, e, m->data, m->size, err);
    kl_buf_free(&file);
    if (r < 0)
        kl_unmap(m);
    return r;
}

int cli_program_open(cli_program *p, const char *path, kl_err *err)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    if (cli_map_path(&p->path, &p->exe, &p->map, err) < 0) {
        kl_buf_free(&p->exe);
        return -1;
    }
    if (p->map.size == 0)
        kl_err_set(err, "%s: empty file, not a kiln program", p->path);
    else if (bundle_open(&p->v, p->map.data, p->map.size, err) == 0)
        return 0;
    else
        kl_err_prefix(err, "%s", p->path);
    kl_unmap(&p->map);
    kl_buf_free(&p->exe);
    return -1;
}

void cli_program_close(cli_program *p)
{
    bundle_close(&p->v);
    kl_unmap(&p->map);
    kl_buf_free(&p->exe);
}

int cli_program_read(const cli_program *p, const bundle_entry *e,
                     enum bundle_part part, cli_bytes *b, kl_err *err)
{
    memset(b, 0, sizeof *b);
    if (part == BUNDLE_PART_DATA && (e->flags & BUNDLE_FLAG_EXTERNAL)) {
        if (cli_map_external(p->path, &p->v, e, &b->map, err) < 0)
            return -1;
        b->data = b->map.data;
        b->size = (size_t)b->map.size;
        return 0;
    }
    return bundle_read(&p->v, e, part, &b->data, &b->size, &b->owned, err);
}

void cli_bytes_free(cli_bytes *b)
{
    free(b->owned);
    kl_unmap(&b->map);
    memset(b, 0, sizeof *b);
}

void cli_python_version(uint32_t python_hex, char *out, size_t n)
{
    static const char *const levels[16] = {[0xA] = "a", [0xB] = "b",
                                           [0xC] = "rc"};
    unsigned level = (python_hex >> 4) & 0xf;

    if (level == 0xf || levels[level] == NULL)
        snprintf(out, n, "%u.%u.%u", python_hex >> 24,
                 (python_hex >> 16) & 0xff, (python_hex >> 8) & 0xff);
    else
        snprintf(out, n, "%u.%u.%u%s%u", python_hex >> 24,
                 (python_hex >> 16) & 0xff, (python_hex >> 8) & 0xff,
                 levels[level], python_hex & 0xf);
}

int cli_write_new(const char *dir, const char *rel, const void *data,
                  size_t size, unsigned mode, kl_err *err)
{
    kl_buf file = KL_BUF_INIT;
    int fd, r = -1;

    if (!bundle_path_inside(rel))
        return kl_err_set(err, "%s: the name %s would lie outside %s", dir,
                          rel, dir);
    if (kl_path_join(&file, dir, rel) < 0)
        return kl_err_oom(err);
    if (kl_make_parents(file.s, err) < 0)
        goto done;
    fd = open(file.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              (mode_t)mode);
    if (fd < 0) {
        if (errno == EEXIST)
            kl_err_set(err, "%s exists already: kiln never writes over a "
                            "file; remove it or write to another folder",
                       file.s);
        else
            kl_err_set(err, "cannot write %s: %s", file.s, strerror(errno));
        goto done;
    }
    r = kl_write_all(fd, data, size, file.s, err);
    if (close(fd) < 0 && r == 0)
        r = kl_err_set(err, "cannot write %s: %s", file.s, strerror(errno));
    if (r < 0)
        unlink(file.s);
done:
    kl_buf_free(&file);
    return r;
}
