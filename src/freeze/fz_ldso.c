/*
 * fz_ldso.c: where this machine's dynamic loader finds a library by name
 * once the object's own search paths had nothing: the ld.so cache
 * (/etc/ld.so.cache, as ldconfig writes it), then the default directories.
 * Only objects of the asking object's machine count, so a 32-bit or
 * foreign-architecture library of the same name is passed over. No Python
 * here (the C unit tests and `kiln analyze` use it directly).
 */
#include "fz_libs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_LDSO_CACHE "/etc/ld.so.cache"
#define FZ_LDSO_MAGIC_OLD "ld.so-1.7.0"
#define FZ_LDSO_MAGIC_NEW "glibc-ld.so.cache1.1"

/* The cache's layout (glibc's ld.so cache, format 1.1): a 48-byte header
 * (magic and version, 20 bytes; entry count; string table length; flags;
 * extension offset; reserved), then 24-byte entries (flags, key and value
 * as offsets of the library's name and path from the header's start,
 * OS version, hwcap bits). A file that starts with the 1.7.0 format holds
 * 12-byte entries first and the 1.1 header after them, on an 8-byte
 * boundary. */
enum {
    FZ_LDSO_NEW_HEADER = 48,
    FZ_LDSO_NEW_ENTRY = 24,
    FZ_LDSO_OLD_HEADER = 16,
    FZ_LDSO_OLD_ENTRY = 12
};

static uint32_t fz_ldso_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Whether the file at path is an ELF object of the given machine: only
 * its header is read. */
static int fz_ldso_machine_is(const char *path, uint16_t machine)
{
    uint8_t h[20];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return 0;
    n = fread(h, 1, sizeof h, f);
    fclose(f);
    return n == sizeof h && memcmp(h, "\177ELF", 4) == 0 &&
           (uint16_t)(h[18] | h[19] << 8) == machine;
}

/* The 1.1-format part of the cache image m[0, size): its offset, or -1
 * when the image has none (an old or damaged cache, read as empty). */
static long fz_ldso_new_part(const uint8_t *m, size_t size)
{
    size_t at = 0;

    if (size >= FZ_LDSO_OLD_HEADER &&
        memcmp(m, FZ_LDSO_MAGIC_OLD, strlen(FZ_LDSO_MAGIC_OLD)) == 0) {
        uint32_t n = fz_ldso_u32(m + 12);

        if ((size - FZ_LDSO_OLD_HEADER) / FZ_LDSO_OLD_ENTRY < n)
            return -1;
        at = (FZ_LDSO_OLD_HEADER + (size_t)n * FZ_LDSO_OLD_ENTRY + 7) &
             ~(size_t)7;
    }
    if (size < FZ_LDSO_NEW_HEADER || size - FZ_LDSO_NEW_HEADER < at ||
        memcmp(m + at, FZ_LDSO_MAGIC_NEW, strlen(FZ_LDSO_MAGIC_NEW)) != 0)
        return -1;
    return (long)at;
}

/* The string at offset off of the cache part base[0, size), or NULL when
 * it does not end inside it. */
static const char *fz_ldso_string(const uint8_t *base, size_t size,
                                  uint32_t off)
{
    if (off >= size || memchr(base + off, '\0', size - off) == NULL)
        return NULL;
    return (const char *)base + off;
}

int fz_ldso_cache(const char *cache, const char *needed, uint16_t machine,
                  char **out, kl_err *err)
{
    kl_map m;
    kl_err ignored;
    const uint8_t *base;
    size_t size, n, i;
    const char *any = NULL;
    long at;

    *out = NULL;
    if (kl_map_file(cache, &m, &ignored) < 0)
        return 0;
    at = fz_ldso_new_part(m.data, (size_t)m.size);
    if (at < 0) {
        kl_unmap(&m);
        return 0;
    }
    base = (const uint8_t *)m.data + at;
    size = (size_t)m.size - (size_t)at;
    n = fz_ldso_u32(base + 20);
    if ((size - FZ_LDSO_NEW_HEADER) / FZ_LDSO_NEW_ENTRY < n)
        n = (size - FZ_LDSO_NEW_HEADER) / FZ_LDSO_NEW_ENTRY;
    for (i = 0; i < n; i++) {
        const uint8_t *e = base + FZ_LDSO_NEW_HEADER + i * FZ_LDSO_NEW_ENTRY;
        const char *key = fz_ldso_string(base, size, fz_ldso_u32(e + 4));
        const char *value = fz_ldso_string(base, size, fz_ldso_u32(e + 8));
        int plain = fz_ldso_u32(e + 16) == 0 && fz_ldso_u32(e + 20) == 0;

        if (key == NULL || value == NULL || strcmp(key, needed) != 0 ||
            !fz_ldso_machine_is(value, machine))
            continue;
        if (any == NULL || plain)
            any = value;
        if (plain)
            break;
    }
    if (any != NULL && (*out = realpath(any, NULL)) == NULL) {
        kl_unmap(&m);
        return kl_is_file(any) ? kl_err_oom(err) : 0;
    }
    kl_unmap(&m);
    return 0;
}

/* The loader's default directories for a machine: the Debian-style
 * multiarch ones first, then the 64-bit and plain ones. */
static const char *fz_ldso_defaults(uint16_t machine)
{
    switch (machine) {
    case 62: /* EM_X86_64 */
        return "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:"
               "/lib64:/usr/lib64:/lib:/usr/lib";
    case 183: /* EM_AARCH64 */
        return "/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:"
               "/lib64:/usr/lib64:/lib:/usr/lib";
    default:
        return "/lib64:/usr/lib64:/lib:/usr/lib";
    }
}

int fz_ldso_find(const char *needed, uint16_t machine, char **out,
                 kl_err *err)
{
    const char *p;
    kl_buf file = KL_BUF_INIT;
    int r = 0;

    if (fz_ldso_cache(FZ_LDSO_CACHE, needed, machine, out, err) < 0)
        return -1;
    for (p = fz_ldso_defaults(machine); *out == NULL && *p != '\0';) {
        size_t n = strcspn(p, ":");

        if (kl_buf_setf(&file, "%.*s/%s", (int)n, p, needed) < 0) {
            r = kl_err_oom(err);
            break;
        }
        if (kl_is_file(file.s) && fz_ldso_machine_is(file.s, machine) &&
            (*out = realpath(file.s, NULL)) == NULL) {
            r = kl_err_oom(err);
            break;
        }
        p += n + (p[n] == ':');
    }
    kl_buf_free(&file);
    return r;
}
