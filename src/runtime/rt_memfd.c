/*
 * rt_memfd.c: memory files: a sealed memfd holding bytes of the program
 * (an extension module or library for the loader, a data file for open),
 * copied a megabyte at a time so that the program's own pages need not
 * stay resident, with the checksum computed on the way when asked.
 */
#include "rt_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Older headers lack these (kernel 6.3 added MFD_NOEXEC_SEAL; an older
 * kernel refuses it with EINVAL, and the call is made again without). */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008u
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif

/* Bytes copied between two drops of the source's pages. */
#define RT_MEMFD_CHUNK ((size_t)1 << 20)

/* The errno memfd_create refused memory files with (no such call, a
 * filter, a policy), kept so that later calls fail at once; 0 until then. */
static int rt_memfd_refused_errno;

/* Drop the whole pages of the read-only file mapping inside [p, p + n):
 * they stay in the page cache, and no longer count as the process's. */
static void rt_memfd_drop(const uint8_t *p, size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)p + page - 1) / page * page;
    uintptr_t end = ((uintptr_t)p + n) / page * page;

    if (end > start)
        (void)madvise((void *)start, end - start, MADV_DONTNEED);
}

int rt_memfd_create(const char *name, const void *data, size_t size,
                    unsigned flags, uint64_t *sum, kl_err *err)
{
    unsigned mfd = MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL |
                   (flags & RT_MEMFD_CLOEXEC ? MFD_CLOEXEC : 0u);
    const uint8_t *p = data;
    int fd, saved, refused = __atomic_load_n(&rt_memfd_refused_errno,
                                             __ATOMIC_RELAXED);
    kl_sum s;
    size_t at;

    if (refused) {
        errno = refused;
        return kl_err_set(err, "memfd_create: %s", strerror(errno));
    }
    fd = memfd_create(name, mfd);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create(name, mfd & ~MFD_NOEXEC_SEAL);
    if (fd < 0) {
        saved = errno;
        if (saved == ENOSYS || saved == EPERM || saved == EACCES ||
            saved == EINVAL)
            __atomic_store_n(&rt_memfd_refused_errno, saved,
                             __ATOMIC_RELAXED);
        return kl_err_set(err, "memfd_create: %s", strerror(saved));
    }
    kl_sum_init(&s, KL_CHECKSUM_SEED);
    for (at = 0; at < size; at += RT_MEMFD_CHUNK) {
        size_t n = size - at < RT_MEMFD_CHUNK ? size - at : RT_MEMFD_CHUNK;

        if (sum != NULL)
            kl_sum_add(&s, p + at, n);
        if (kl_write_all(fd, p + at, n, "a memfd", err) < 0) {
            saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        if (flags & RT_MEMFD_DROP_SOURCE)
            rt_memfd_drop(p + at, n);
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return kl_err_set(err, "a memfd: %s", strerror(saved));
    }
    (void)fcntl(fd, F_ADD_SEALS,
                F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    if (sum != NULL)
        *sum = kl_sum_end(&s);
    return fd;
}

int rt_memfd_refused(void)
{
    return __atomic_load_n(&rt_memfd_refused_errno, __ATOMIC_RELAXED) != 0;
}
