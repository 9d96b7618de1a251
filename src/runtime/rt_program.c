/*
 * rt_program.c: the program's own file: mapped once, its bundle opened in
 * place, pages released once their contents have been used; a folder
 * program's files next to it, checked when they are used.
 */
#include "rt.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The most a fault on a file mapping maps around the faulting page:
 * Linux's fault_around_bytes, 64 KiB unless changed. */
#define RT_PROGRAM_AROUND ((uintptr_t)64 * 1024)

/* The program rt_program_open opened: the one running. */
static const rt_program *rt_program_self;

static const char rt_folder_hint[] =
    "a program built with --onedir needs the folder it was built with next "
    "to it";

/* Set prog->root: the program's path, or for a folder program
 * <directory>/<folder>, which must be a directory. */
static int rt_program_root(rt_program *prog, kl_err *err)
{
    const char *folder = bundle_folder(&prog->bundle);
    const char *slash = strrchr(prog->path, '/');
    struct stat st;
    kl_buf b = KL_BUF_INIT;

    if (folder[0] == '\0') {
        prog->root = prog->path;
        return 0;
    }
    if (kl_buf_setf(&b, "%.*s/%s", slash ? (int)(slash - prog->path) : 1,
                    slash ? prog->path : ".", folder) < 0)
        return kl_err_oom(err);
    prog->root = b.s;
    if (stat(prog->root, &st) < 0)
        return kl_err_set(err, "its folder %s is missing (%s): %s",
                          prog->root, strerror(errno), rt_folder_hint);
    if (!S_ISDIR(st.st_mode))
        return kl_err_set(err, "its folder %s is not a directory: %s",
                          prog->root, rt_folder_hint);
    return 0;
}

int rt_program_open(rt_program *prog, const char *file, const char *path,
                    kl_err *err)
{
    kl_map m;

    memset(prog, 0, sizeof *prog);
    if (kl_map_file(file, &m, err) < 0)
        return kl_err_prefix(err, "cannot map the program file %s", path);
    prog->map = m.data;
    prog->map_size = m.size;
    prog->path = strdup(path);
    if (prog->path == NULL)
        return kl_err_oom(err);
    if (bundle_open_lazy(&prog->bundle, m.data, m.size, err) < 0 ||
        rt_options_read(&prog->options, bundle_options(&prog->bundle),
                        err) < 0 ||
        rt_program_root(prog, err) < 0)
        return kl_err_prefix(err, "%s", path);
    rt_program_self = prog;
    return 0;
}

/* End the program when a lookup in its lazily checked index found
 * damage. */
static void rt_program_check_damage(const bundle_view *v)
{
    const kl_err *damage = bundle_damage(v);

    assert(rt_program_self != NULL && v == &rt_program_self->bundle);
    if (damage != NULL)
        rt_program_damaged(rt_program_self, damage);
}

const bundle_entry *rt_program_find(const bundle_view *v, enum bundle_ns ns,
                                    const char *name, size_t len)
{
    const bundle_entry *e = bundle_find(v, ns, name, len);

    if (e == NULL)
        rt_program_check_damage(v);
    return e;
}

const bundle_entry *rt_program_find_prefix(const bundle_view *v,
                                           enum bundle_ns ns,
                                           const char *prefix, size_t len)
{
    const bundle_entry *e = bundle_find_prefix(v, ns, prefix, len);

    if (e == NULL)
        rt_program_check_damage(v);
    return e;
}

void rt_program_check_index(const bundle_view *v)
{
    kl_err err;

    assert(rt_program_self != NULL && v == &rt_program_self->bundle);
    if (bundle_check_index(v, &err) < 0)
        rt_program_damaged(rt_program_self, &err);
}

void rt_program_release(const rt_program *prog, const void *data, size_t size)
{
    uintptr_t start = (uintptr_t)data, end = start + size;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)prog->bundle.payload + page - 1) / page * page;
    uintptr_t hi = ((uintptr_t)prog->map + prog->map_size) / page * page;

    if (size == 0 || start < (uintptr_t)prog->bundle.payload ||
        end > (uintptr_t)prog->map + prog->map_size)
        return;
    /* A fault on a file mapping maps the cached pages around it too, up
     * to the aligned RT_PROGRAM_AROUND bytes: release that window (inside
     * the payloads, never the index), or the neighbours of every payload
     * read stay counted as the program's memory. */
    start = start / RT_PROGRAM_AROUND * RT_PROGRAM_AROUND;
    end = (end + RT_PROGRAM_AROUND - 1) / RT_PROGRAM_AROUND * RT_PROGRAM_AROUND;
    start = start < lo ? lo : start;
    end = end > hi ? hi : end;
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_DONTNEED);
}

int rt_program_map_external(const rt_program *prog, const bundle_entry *e,
                            kl_map *m, kl_err *err)
{
    kl_buf file = KL_BUF_INIT;
    int r;

    assert(e->flags & BUNDLE_FLAG_EXTERNAL);
    if (kl_path_join(&file, prog->root,
                     bundle_entry_path(&prog->bundle, e)) < 0)
        return kl_err_oom(err);
    r = kl_map_file(file.s, m, err);
    kl_buf_free(&file);
    if (r < 0)
        return kl_err_prefix(err, "a file of the program's folder cannot "
                                  "be read");
    if (bundle_check_external(&prog->bundle, e, m->data, m->size, err) < 0) {
        kl_unmap(m);
        return -1;
    }
    return 0;
}

/* Flush Python's sys.stdout and sys.stderr, ignoring any failure. */
static void rt_flush_python_streams(void)
{
    static const char *const names[] = {"stdout", "stderr"};
    size_t i;

    if (!Py_IsInitialized())
        return;
    for (i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(names[i]), *r;

        if (f != NULL && f != Py_None) {
            r = PyObject_CallMethod(f, "flush", NULL);
            Py_XDECREF(r);
        }
        PyErr_Clear();
    }
}

_Noreturn void rt_program_damaged(const rt_program *prog, const kl_err *err)
{
    rt_flush_python_streams();
    fflush(NULL);
    fprintf(stderr, "%s: %s\n", prog->path, err->msg);
    fflush(stderr);
    _exit(RT_EXIT_DAMAGED);
}
