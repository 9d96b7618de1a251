/*
 * stub_main.c: entry point of every built program: find and map its own
 * file, read what the environment asks of it, start Python, run.
 */
#include "stub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

/* The absolute path of the running executable in a new malloc'd string
 * (*out), and the file to map (*file): "/proc/self/exe" and its target;
 * without /proc, *out both times: the path the program was started by
 * (the kernel's AT_EXECFN), made absolute against the directory it was
 * started in, which has not changed yet. */
static int stub_self_path(char **out, const char **file, kl_err *err)
{
    size_t cap = 256;
    char *buf = NULL;

    *out = NULL;
    *file = "/proc/self/exe";
    for (;;) {
        char *grown = realloc(buf, cap);
        ssize_t n;

        if (grown == NULL) {
            free(buf);
            return kl_err_oom(err);
        }
        buf = grown;
        n = readlink("/proc/self/exe", buf, cap);
        if (n < 0) {
            const char *execfn = (const char *)getauxval(AT_EXECFN);
            int saved = errno;

            free(buf);
            if (saved == ENOENT && execfn != NULL &&
                (*out = realpath(execfn, NULL)) != NULL) {
                *file = *out;
                return 0;
            }
            return kl_err_set(err, "cannot find the program file: "
                                   "/proc/self/exe: %s (is /proc mounted?)",
                              strerror(saved));
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            *out = buf;
            return 0;
        }
        cap *= 2;
    }
}

/* Serve the paths under a one-file program from its bundle (rt_files.h);
 * a folder program's files are real files. */
static void stub_serve_files(const rt_program *prog)
{
    struct stat st;

    if (bundle_folder(&prog->bundle)[0] == '\0' && stat(prog->path, &st) == 0)
        rt_files_mount(&prog->bundle, prog->root, prog->path, &st);
}

/* The program, open for the life of the process: in static storage, so
 * that what it holds stays reachable to the end (a leak checker tells it
 * apart from memory lost). */
static rt_program stub_program;

int main(int argc, char **argv)
{
    rt_program *const p = &stub_program;
    const char *file;
    char *self;
    kl_err err;

    if (stub_self_path(&self, &file, &err) < 0 ||
        rt_program_open(p, file, self, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        free(self);
        return STUB_EXIT_DAMAGED;
    }
    free(self);
    if (rt_dlpath_setup(p->path, &err) < 0) {
        fprintf(stderr, "%s: %s\n", p->path, err.msg);
        return RT_EXIT_USAGE;
    }
    if (rt_trace_setup(p, &err) < 0)
        fprintf(stderr, "%s: %s\n", p->path, err.msg);
    stub_serve_files(p);
    rt_natives_mount(p);
    if (stub_python_start(p, argc, argv, &err) < 0) {
        fprintf(stderr, "%s: %s\n", p->path, err.msg);
        return STUB_EXIT_DAMAGED;
    }
    if (p->bundle.header->run_mode == BUNDLE_RUN_INTERPRETER)
        return stub_interp_run(p);
    return stub_run(p);
}
