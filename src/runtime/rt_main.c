/*
 * rt_main.c: entry point of every built program.
 */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int rt_program_open(rt_program *prog, kl_err *err)
{
    char buf[PATH_MAX];
    struct stat st;
    ssize_t n;
    void *map;
    int fd;

    memset(prog, 0, sizeof *prog);
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n < 0)
        return kl_err_set(err, "cannot find the program file: "
                               "/proc/self/exe: %s (is /proc mounted?)",
                          strerror(errno));
    buf[n] = '\0';
    fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kl_err_set(err, "cannot open the program file %s: %s", buf,
                          strerror(errno));
    if (fstat(fd, &st) < 0) {
        kl_err_set(err, "%s: %s", buf, strerror(errno));
        close(fd);
        return -1;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return kl_err_set(err, "cannot map the program file %s: %s", buf,
                          strerror(errno));
    prog->map = map;
    prog->map_size = (uint64_t)st.st_size;
    prog->path = strdup(buf);
    if (prog->path == NULL)
        return kl_err_set(err, "out of memory");
    if (bundle_open(&prog->bundle, map, prog->map_size, err) < 0)
        return kl_err_prefix(err, "%s", buf);
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

int main(int argc, char **argv)
{
    rt_program prog;
    kl_err err;

    if (rt_program_open(&prog, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return RT_EXIT_DAMAGED;
    }
    if (rt_python_start(&prog, argc, argv, &err) < 0) {
        fprintf(stderr, "%s: %s\n", prog.path, err.msg);
        return RT_EXIT_DAMAGED;
    }
    return rt_run_main(&prog);
}
