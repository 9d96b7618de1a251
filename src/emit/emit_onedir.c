/*
 * emit_onedir.c: the folder program: a directory holding the executable
 * (stub and bundle) and a folder of files the bundle indexes, made in a
 * temporary directory beside its place and renamed into it.
 */
#include "emit_files.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* True when the file at path carries a bundle that bundle_open() accepts;
 * *folder (when not NULL) is then set to whether it names a folder. */
static int emit_is_program(const char *path, int *folder)
{
    kl_map m;
    bundle_view v;
    kl_err ignored;
    int ok;

    if (kl_map_file(path, &m, &ignored) < 0)
        return 0;
    ok = m.size > 0 && bundle_open(&v, m.data, m.size, &ignored) == 0;
    if (ok && folder != NULL)
        *folder = v.header->folder_len > 0;
    kl_unmap(&m);
    return ok;
}

int emit_folder_program_exe(const char *dir, kl_buf *exe, kl_err *err)
{
    kl_buf path = KL_BUF_INIT;
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = strlen(dir);
    int found = 0;

    if (d == NULL)
        return kl_err_set(err, "%s: %s", dir, strerror(errno));
    while (n > 1 && dir[n - 1] == '/')
        n--;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        int folder = 0;

        if (de->d_name[0] == '.' ||
            kl_buf_setf(&path, "%.*s/%s", (int)n, dir, de->d_name) < 0 ||
            lstat(path.s, &st) < 0 || !S_ISREG(st.st_mode) ||
            !emit_is_program(path.s, &folder) || !folder)
            continue;
        if (found++ == 0 && kl_buf_sets(exe, path.s) < 0)
            found = -1;
    }
    closedir(d);
    kl_buf_free(&path);
    if (found < 0)
        return kl_err_oom(err);
    if (found != 1)
        return kl_err_set(err, found ? "%s holds several kiln programs; "
                                       "name one"
                                     : "%s holds no kiln folder program",
                          dir);
    return 0;
}

/* strcmp for qsort and bsearch over an array of strings. */
static int emit_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Check that everything below root/rel (rel "" or ending in '/') is a
 * directory or one of the files in known (sorted). Returns 1 when it is,
 * 0 with the first thing that is not in *foreign. */
static int emit_walk_known(const char *root, kl_buf *rel,
                           const kl_strv *known, kl_buf *foreign)
{
    kl_buf path = KL_BUF_INIT;
    size_t base = rel->len;
    DIR *d;
    struct dirent *de;
    int ok = 1;

    if (kl_path_join(&path, root, rel->s ? rel->s : "") < 0 ||
        (d = opendir(path.s)) == NULL) {
        kl_buf_sets(foreign, rel->s ? rel->s : "");
        kl_buf_free(&path);
        return 0;
    }
    while (ok && (de = readdir(d)) != NULL) {
        struct stat st;
        const char *name;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rel->len = base;
        if (kl_buf_add(rel, de->d_name, strlen(de->d_name)) < 0 ||
            kl_path_join(&path, root, rel->s) < 0 || lstat(path.s, &st) < 0) {
            ok = 0;
        } else if (S_ISDIR(st.st_mode)) {
            ok = kl_buf_add(rel, "/", 1) == 0 &&
                 emit_walk_known(root, rel, known, foreign);
            continue;
        } else {
            name = rel->s;
            ok = S_ISREG(st.st_mode) && known->n > 0 &&
                 bsearch(&name, known->v, known->n, sizeof *known->v,
                         emit_str_cmp) != NULL;
        }
        if (!ok)
            kl_buf_sets(foreign, rel->s);
    }
    closedir(d);
    rel->len = base;
    if (rel->s != NULL)
        rel->s[base] = '\0';
    kl_buf_free(&path);
    return ok;
}

/* Is directory dir a folder program kiln wrote, and nothing more: below
 * it, only directories, its executable and the files its bundle indexes?
 * (No file of anyone else's is ever replaced; a directory that holds no
 * file at all passes too.) When not, *why names the first thing that is
 * not kiln's. */
static int emit_is_folder_program(const char *dir, kl_buf *why)
{
    kl_buf exe = KL_BUF_INIT, path = KL_BUF_INIT, rel = KL_BUF_INIT;
    kl_strv known = KL_STRV_INIT;
    kl_map m = {NULL, 0};
    bundle_view v;
    kl_err err;
    uint32_t i;
    int ok = 0;

    if (emit_folder_program_exe(dir, &exe, &err) < 0 ||
        kl_map_file(exe.s, &m, &err) < 0 ||
        bundle_open(&v, m.data, m.size, &err) < 0) {
        /* No program: replaceable only when it holds no file at all. */
        ok = emit_walk_known(dir, &rel, &known, why);
        goto done;
    }
    for (i = 0; i < v.header->entry_count; i++) {
        if (!(v.entries[i].flags & BUNDLE_FLAG_EXTERNAL))
            continue;
        if (kl_path_join(&path, bundle_folder(&v),
                         bundle_entry_path(&v, &v.entries[i])) < 0 ||
            kl_strv_push(&known, path.s) < 0)
            goto done;
    }
    if (kl_strv_push(&known, strrchr(exe.s, '/') + 1) < 0)
        goto done;
    qsort(known.v, known.n, sizeof *known.v, emit_str_cmp);
    ok = emit_walk_known(dir, &rel, &known, why);
done:
    kl_unmap(&m);
    kl_strv_free(&known);
    kl_buf_free(&exe);
    kl_buf_free(&path);
    kl_buf_free(&rel);
    return ok;
}

/* True when path, once resolved, is out (resolved: real_out) or lies
 * below it. Paths that cannot be resolved hold nothing. */
static int emit_holds(const char *real_out, const char *path)
{
    char *real = path ? realpath(path, NULL) : NULL;
    size_t n = strlen(real_out);
    int r;

    if (real == NULL)
        return 0;
    r = strncmp(real, real_out, n) == 0 &&
        (real[n] == '\0' || real[n] == '/' || strcmp(real_out, "/") == 0);
    free(real);
    return r;
}

/* Refuse when directory or file out holds an input of the build: one of
 * rep's, a file of plan p, or the stub. */
static int emit_check_inputs(const plan *p, const char *stub_path,
                             const char *out, const emit_replace *rep,
                             kl_err *err)
{
    char *real_out = realpath(out, NULL);
    const char *hit = NULL;
    size_t i;

    if (real_out == NULL)
        return kl_err_set(err, "%s: %s", out, strerror(errno));
    if (emit_holds(real_out, stub_path))
        hit = stub_path;
    for (i = 0; hit == NULL && i < rep->n_inputs; i++)
        if (emit_holds(real_out, rep->inputs[i]))
            hit = rep->inputs[i];
    for (i = 0; hit == NULL && i < p->n; i++)
        if (emit_holds(real_out, p->entries[i].data.file))
            hit = p->entries[i].data.file;
    free(real_out);
    if (hit != NULL)
        return kl_err_set(err, "refusing to replace %s: it holds %s, which "
                               "this build reads", out, hit);
    return 0;
}

/* Decide whether what lstat found at out (st) may be replaced: never when
 * it holds an input; with rep->force, anything else; without, only a
 * program kiln wrote. */
static int emit_check_replace(const plan *p, const char *stub_path,
                              const char *out, const struct stat *st,
                              const emit_replace *rep, kl_err *err)
{
    kl_buf why = KL_BUF_INIT;
    int folder = 1;

    /* A symbolic link is replaced, never what it points to. */
    if (!S_ISLNK(st->st_mode) &&
        emit_check_inputs(p, stub_path, out, rep, err) < 0)
        return -1;
    if (rep->force)
        return 0;
    if (S_ISDIR(st->st_mode)) {
        if (emit_is_folder_program(out, &why)) {
            kl_buf_free(&why);
            return 0;
        }
        kl_err_set(err, "%s is not a kiln folder program (it holds %s, "
                        "which kiln did not write); move it away or use "
                        "--force to replace it", out, why.s ? why.s : "?");
        kl_buf_free(&why);
        return -1;
    }
    if (S_ISREG(st->st_mode) && emit_is_program(out, &folder) && !folder)
        return 0;
    return kl_err_set(err, "%s exists and is not a program kiln wrote; move "
                           "it away or use --force to replace it", out);
}

/* nftw callback: remove one file or (emptied) directory. */
static int emit_remove_one(const char *path, const struct stat *st, int type,
                           struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

/* Remove path and, when it is a directory, everything below it (symbolic
 * links are removed, never followed). */
static int emit_remove_tree(const char *path, kl_err *err)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : kl_err_set(err, "%s: %s", path,
                                                strerror(errno));
    if ((S_ISDIR(st.st_mode)
             ? nftw(path, emit_remove_one, 16, FTW_DEPTH | FTW_PHYS)
             : unlink(path)) != 0)
        return kl_err_set(err, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

/* Move the finished directory tmp to out. When something was there
 * (existed), it is swapped out in one step where the file system can,
 * then removed. On failure out is as it was and tmp is gone. */
static int emit_move_into_place(const char *tmp, const char *out, int existed,
                                kl_err *err)
{
    kl_buf old = KL_BUF_INIT;
    const char *prev = tmp; /* where the previous program ends up */
    int r = -1;

    if (!existed) {
        /* RENAME_NOREPLACE: an empty directory made there meanwhile is
         * not silently replaced. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) == 0 ||
            ((errno == EINVAL || errno == ENOSYS) && rename(tmp, out) == 0))
            return 0;
        kl_err_set(err, "cannot write %s: %s", out, strerror(errno));
        emit_remove_tree(tmp, NULL);
        return -1;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) < 0) {
        /* No exchange on this file system: out is missing for a moment,
         * never half-written. */
        if ((errno != EINVAL && errno != ENOSYS) ||
            kl_buf_setf(&old, "%s.old", tmp) < 0 || rename(out, old.s) < 0) {
            kl_err_set(err, "cannot replace %s: %s", out, strerror(errno));
            emit_remove_tree(tmp, NULL);
            goto done;
        }
        if (rename(tmp, out) < 0) {
            kl_err_set(err, "cannot replace %s: %s", out, strerror(errno));
            (void)rename(old.s, out);
            emit_remove_tree(tmp, NULL);
            goto done;
        }
        prev = old.s;
    }
    r = emit_remove_tree(prev, err) < 0
            ? kl_err_prefix(err, "wrote %s, but the previous program is "
                                 "left at %s", out, prev)
            : 0;
done:
    kl_buf_free(&old);
    return r;
}

/* Write the executable tmp/name and the folder tmp/EMIT_FOLDER. */
static int emit_onedir_write(const plan *p, const kl_map *stub,
                             const char *tmp, const char *name, kl_err *err)
{
    kl_buf exe = KL_BUF_INIT, folder = KL_BUF_INIT;
    int fd = -1, r = -1;

    if (kl_path_join(&exe, tmp, name) < 0 ||
        kl_path_join(&folder, tmp, EMIT_FOLDER) < 0) {
        kl_err_oom(err);
        goto done;
    }
    if (mkdir(folder.s, 0777) < 0) {
        kl_err_set(err, "cannot create %s: %s", folder.s, strerror(errno));
        goto done;
    }
    fd = open(exe.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (fd < 0) {
        kl_err_set(err, "cannot create %s: %s", exe.s, strerror(errno));
        goto done;
    }
    if (emit_program_write(p, stub, fd, EMIT_FOLDER, folder.s, err) < 0)
        goto done;
    if (fchmod(fd, 0755) < 0 || close(fd) < 0) {
        fd = -1;
        kl_err_set(err, "cannot write %s: %s", exe.s, strerror(errno));
        goto done;
    }
    fd = -1;
    r = 0;
done:
    if (fd >= 0)
        close(fd);
    kl_buf_free(&exe);
    kl_buf_free(&folder);
    return r;
}

/* The permissions a new directory gets here: 0777 less the umask. */
static mode_t emit_dir_mode(void)
{
    mode_t mask = umask(0);

    umask(mask);
    return 0777 & ~mask;
}

int emit_onedir(const plan *p, const char *stub_path, const char *out_dir,
                const char *name, const emit_replace *rep, kl_err *err)
{
    kl_map stub = {NULL, 0};
    kl_buf out = KL_BUF_INIT, tmp = KL_BUF_INIT;
    const char *base;
    struct stat st;
    int existed, r = -1;

    assert(rep != NULL);
    if (name[0] == '\0' || strchr(name, '/') != NULL ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strcmp(name, EMIT_FOLDER) == 0)
        return kl_err_set(err, "'%s' cannot name a folder program's "
                               "executable", name);
    /* out without trailing slashes; its last component names it */
    if (kl_buf_sets(&out, out_dir) < 0)
        return kl_err_oom(err);
    while (out.len > 1 && out.s[out.len - 1] == '/')
        out.s[--out.len] = '\0';
    base = strrchr(out.s, '/');
    base = base ? base + 1 : out.s;
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        kl_err_set(err, "cannot write a folder program as %s: name a new "
                        "directory", out_dir);
        goto done;
    }
    existed = lstat(out.s, &st) == 0;
    if (!existed && errno != ENOENT) {
        kl_err_set(err, "%s: %s", out.s, strerror(errno));
        goto done;
    }
    if (existed && emit_check_replace(p, stub_path, out.s, &st, rep, err) < 0)
        goto done;
    if (kl_map_file(stub_path, &stub, err) < 0) {
        kl_err_prefix(err, "runtime stub");
        goto done;
    }
    if (bundle_present(stub.data, stub.size)) {
        kl_err_set(err, "%s already carries a bundle; reinstall kiln",
                   stub_path);
        goto done;
    }
    if (kl_make_parents(out.s, err) < 0 ||
        kl_buf_setf(&tmp, "%.*s.%s.kiln-XXXXXX", (int)(base - out.s), out.s,
                    base) < 0)
        goto done;
    if (mkdtemp(tmp.s) == NULL) {
        kl_err_set(err, "cannot write %s: %s", out.s, strerror(errno));
        goto done;
    }
    if (emit_onedir_write(p, &stub, tmp.s, name, err) < 0) {
        kl_err_prefix(err, "%s", out.s);
        emit_remove_tree(tmp.s, NULL);
        goto done;
    }
    if (chmod(tmp.s, emit_dir_mode()) < 0) {
        kl_err_set(err, "cannot write %s: %s", out.s, strerror(errno));
        emit_remove_tree(tmp.s, NULL);
        goto done;
    }
    r = emit_move_into_place(tmp.s, out.s, existed, err);
done:
    kl_unmap(&stub);
    kl_buf_free(&out);
    kl_buf_free(&tmp);
    return r;
}
