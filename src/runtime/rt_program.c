/*
 * rt_program.c: the program's own file: mapped once, its bundle opened in
 * place, pages released once their contents have been used.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
    if (bundle_open(&prog->bundle, m.data, m.size, err) < 0)
        return kl_err_prefix(err, "%s", path);
    /* Validation read the whole index; lookups touch only a few pages. */
    rt_program_release(prog, prog->bundle.base, prog->bundle.header->payload_off);
    return 0;
}

void rt_program_release(const rt_program *prog, const void *data, size_t size)
{
    uintptr_t start = (uintptr_t)data, end = start + size;
    uintptr_t map = (uintptr_t)prog->map;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

    if (size == 0 || start < map || end > map + prog->map_size)
        return;
    start = start / page * page;
    end = (end + page - 1) / page * page;
    (void)madvise((void *)start, end - start, MADV_DONTNEED);
}
