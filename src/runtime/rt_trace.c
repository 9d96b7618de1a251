/*
 * rt_trace.c: import tracing. With KILN_TRACE_IMPORTS=FILE in its
 * environment, a program notes each bundle module its importer runs (one
 * byte per bundle entry, nothing more per import) and, when the process
 * exits, appends their names to FILE in one write, one a line, for
 * `kiln build --keep-only FILE`. Without it nothing is allocated and a
 * note costs one test.
 */
#include "rt.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A copy of what the exit needs: main's rt_program is gone by then. */
static struct {
    bundle_view bundle;   /* the program's (its mapping stays) */
    char *program;        /* the program's path, for the message */
    char *file;           /* absolute; NULL when not tracing */
    unsigned char *seen;  /* one per bundle entry */
} rt_trace;

/* Append the names of the modules seen to the trace file (atexit). A
 * failure is one line on stderr; the exit status is not touched. */
static void rt_trace_write(void)
{
    const bundle_view *v = &rt_trace.bundle;
    kl_buf text = KL_BUF_INIT;
    uint32_t i;
    kl_err err;
    int fd, r = 0;

    for (i = 0; r == 0 && i < v->header->entry_count; i++)
        if (rt_trace.seen[i])
            r = kl_buf_addf(&text, "%s\n",
                            bundle_entry_name(v, &v->entries[i]));
    if (r < 0) {
        kl_err_oom(&err);
    } else if ((fd = open(rt_trace.file, O_WRONLY | O_APPEND | O_CREAT |
                                             O_CLOEXEC, 0666)) < 0) {
        r = kl_err_set(&err, "%s", strerror(errno));
    } else {
        r = kl_write_all(fd, text.s ? text.s : "", text.len, "the trace",
                         &err);
        if (close(fd) < 0 && r == 0)
            r = kl_err_set(&err, "%s", strerror(errno));
    }
    if (r < 0)
        fprintf(stderr, "%s: KILN_TRACE_IMPORTS=%s: cannot write the import "
                        "trace: %s\n", rt_trace.program, rt_trace.file,
                err.msg);
    kl_buf_free(&text);
}

int rt_trace_setup(const rt_program *prog, kl_err *err)
{
    const char *file = getenv("KILN_TRACE_IMPORTS");
    kl_buf path = KL_BUF_INIT;
    char *cwd = NULL;

    if (file == NULL || file[0] == '\0')
        return 0;
    if (file[0] != '/' && (cwd = getcwd(NULL, 0)) == NULL)
        return kl_err_set(err, "KILN_TRACE_IMPORTS=%s: cannot read the "
                               "current directory: %s", file,
                          strerror(errno));
    if ((cwd ? kl_path_join(&path, cwd, file) : kl_buf_sets(&path, file)) < 0) {
        free(cwd);
        return kl_err_oom(err);
    }
    free(cwd);
    rt_trace.bundle = prog->bundle;
    rt_trace.program = strdup(prog->path);
    rt_trace.file = kl_buf_detach(&path);
    rt_trace.seen = calloc(prog->bundle.header->entry_count + 1, 1);
    if (rt_trace.program == NULL || rt_trace.file == NULL ||
        rt_trace.seen == NULL || atexit(rt_trace_write) != 0) {
        free(rt_trace.program);
        free(rt_trace.file);
        free(rt_trace.seen);
        rt_trace.file = NULL;
        rt_trace.seen = NULL;
        return kl_err_oom(err);
    }
    return 0;
}

void rt_trace_note(const bundle_entry *e)
{
    if (rt_trace.seen == NULL)
        return;
    assert(e >= rt_trace.bundle.entries &&
           e < rt_trace.bundle.entries + rt_trace.bundle.header->entry_count);
    rt_trace.seen[e - rt_trace.bundle.entries] = 1;
}
