/*
 * cli_output.c: where `kiln build` may write. An output never replaces
 * one of the build's inputs, a directory or anything but a regular file;
 * it replaces what kiln wrote there before (a program, a report) without
 * asking, and any other regular file only with --force.
 */
#include "cli.h"

#include "../report/report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* True when st and the file at path are the same file. */
static int cli_same_file(const struct stat *st, const char *path)
{
    struct stat other;

    return path != NULL && stat(path, &other) == 0 &&
           other.st_dev == st->st_dev && other.st_ino == st->st_ino;
}

/* When the file st describes is one of in's inputs, say which in *what
 * and return 1; else 0. -1 when out of memory. */
static int cli_output_input(const struct stat *st, const cli_inputs *in,
                            kl_buf *what)
{
    size_t i;

    if (cli_same_file(st, in->script))
        return kl_buf_sets(what, "the script being built") < 0 ? -1 : 1;
    if (cli_same_file(st, in->stub))
        return kl_buf_sets(what, "kiln's runtime stub") < 0 ? -1 : 1;
    if (cli_same_file(st, "/proc/self/exe"))
        return kl_buf_sets(what, "the kiln command itself") < 0 ? -1 : 1;
    for (i = 0; in->plan != NULL && i < in->plan->n; i++) {
        const plan_entry *e = &in->plan->entries[i];

        if (cli_same_file(st, plan_entry_file(e)))
            return kl_buf_setf(what, "the file the program's %s '%s' "
                                     "comes from",
                               bundle_kind_name(e->kind), e->name) < 0
                       ? -1
                       : 1;
    }
    return 0;
}

/* What kind of file mode m says, for messages. */
static const char *cli_file_type(mode_t m)
{
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* True when the regular file at path is a program kiln built: it ends
 * with a bundle trailer. */
static int cli_is_program(const char *path)
{
    kl_map m;
    kl_err ignored;
    int r;

    if (kl_map_file(path, &m, &ignored) < 0)
        return 0;
    r = bundle_present(m.data, m.size);
    kl_unmap(&m);
    return r;
}

int cli_output_check(const char *opt, const char *path,
                     enum cli_output_kind kind, int force,
                     const cli_inputs *in, kl_err *err)
{
    kl_buf what = KL_BUF_INIT;
    struct stat st;
    int r;

    if (path[0] != '\0' && path[strlen(path) - 1] == '/')
        return kl_err_set(err, "%s %s: names a directory; give the path of "
                               "the file to write", opt, path);
    if (lstat(path, &st) < 0)
        return 0; /* nothing there, or not reachable: writing says why */
    if (stat(path, &st) < 0)
        return force ? 0
                     : kl_err_set(err, "%s %s: is a symbolic link to nothing; "
                                       "pass --force to replace it",
                                  opt, path);
    if (S_ISDIR(st.st_mode))
        return kl_err_set(err, "%s %s: is a directory; give the path of the "
                               "file to write", opt, path);
    r = cli_output_input(&st, in, &what);
    if (r != 0) {
        if (r > 0)
            kl_err_set(err, "%s %s: is %s; kiln never writes over what it "
                            "builds from, even with --force", opt, path,
                       what.s);
        else
            kl_err_oom(err);
        kl_buf_free(&what);
        return -1;
    }
    if (!S_ISREG(st.st_mode))
        return kl_err_set(err, "%s %s: is %s; kiln writes only regular files",
                          opt, path, cli_file_type(st.st_mode));
    if (in->plan == NULL)
        return 0; /* whether it is an input is known with the plan */
    if (kind == CLI_OUTPUT_PROGRAM ? cli_is_program(path)
                                   : report_is_report(path))
        return 0; /* what an earlier build wrote: the normal rebuild */
    if (force)
        return 0;
    return kl_err_set(err, "%s %s: exists and is not %s; pass --force to "
                           "replace it", opt, path,
                      kind == CLI_OUTPUT_PROGRAM ? "a program kiln built"
                                                 : "a report kiln wrote");
}

/* The absolute, symlink-free form of path, which need not exist: its
 * directory resolved, its last component kept. A new malloc'd string, or
 * NULL when the directory cannot be resolved or memory runs out. */
static char *cli_output_abs(const char *path)
{
    const char *slash = strrchr(path, '/');
    kl_buf dir = KL_BUF_INIT, out = KL_BUF_INIT;
    char *real;

    if (slash == NULL ? kl_buf_sets(&dir, ".") < 0
                      : kl_buf_setf(&dir, "%.*s", (int)(slash - path + 1),
                                    path) < 0)
        return NULL;
    real = realpath(dir.s, NULL);
    kl_buf_free(&dir);
    if (real == NULL)
        return NULL;
    if (kl_path_join(&out, real, slash ? slash + 1 : path) < 0) {
        free(real);
        return NULL;
    }
    free(real);
    return kl_buf_detach(&out);
}

int cli_output_same(const char *a, const char *b)
{
    struct stat sa;
    char *ra, *rb;
    int same;

    if (stat(a, &sa) == 0 && cli_same_file(&sa, b))
        return 1;
    ra = cli_output_abs(a);
    rb = cli_output_abs(b);
    same = ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}
