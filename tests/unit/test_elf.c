/*
 * test_elf.c: unit tests of the ELF reader (src/elf/): what it reads from
 * real shared objects built for the test (tests/unit/fixtures/kltest.c, see
 * the Makefile), that an image cut to its loadable part still loads and
 * runs, and that damaged, truncated and hostile images give an error and
 * never a read outside the image. Checks as in check.h.
 *
 * Usage: test_elf FIXTURES_DIR
 */
#include "../../src/elf/elf_reader.h"
#include "check.h"

#include <dlfcn.h>
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#error "the ELF reader's tests know x86_64 and aarch64"
#endif

static const char *fixtures;

/* The fixture `name`, in a malloc'd buffer of exactly its size. */
static uint8_t *load(const char *name, size_t *size)
{
    kl_buf path = KL_BUF_INIT;
    uint8_t *bytes, *exact;
    kl_err err;

    if (kl_path_join(&path, fixtures, name) < 0 ||
        kl_read_file(path.s, &bytes, size, &err) < 0) {
        fprintf(stderr, "test_elf: cannot read fixture %s: %s\n", name,
                err.msg);
        exit(2);
    }
    kl_buf_free(&path);
    exact = xdup(bytes, *size);
    free(bytes);
    return exact;
}

/* True when info's version needs hold one from `file` named GLIBC_2.*. */
static int has_glibc_need(const elf_info *info, const char *file)
{
    size_t i;

    for (i = 0; i < info->n_version_needs; i++)
        if (strcmp(info->version_needs[i].file, file) == 0 &&
            strncmp(info->version_needs[i].version, "GLIBC_2.", 8) == 0)
            return 1;
    return 0;
}

static int has_needed(const elf_info *info, const char *name)
{
    size_t i;

    for (i = 0; i < info->n_needed; i++)
        if (strcmp(info->needed[i], name) == 0)
            return 1;
    return 0;
}

/* The end of the last segment, read independently of the reader. */
static uint64_t segments_end(const uint8_t *img)
{
    Elf64_Ehdr eh;
    uint64_t end = sizeof eh;
    size_t i;

    memcpy(&eh, img, sizeof eh);
    if (eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > end)
        end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
    for (i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;

        memcpy(&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_offset + ph.p_filesz > end)
            end = ph.p_offset + ph.p_filesz;
    }
    return end;
}

static void test_library_with_runpath(void)
{
    size_t size;
    uint8_t *img = load("libkltest.so", &size);
    elf_info info;
    kl_err err;

    err.msg[0] = 0;
    if (!CHECKF(elf_read(img, size, &info, &err) == 0, "%s", err.msg)) {
        free(img);
        return;
    }
    CHECK(info.type == ET_DYN);
    CHECK(info.machine == HOST_MACHINE);
    CHECKF(info.soname && strcmp(info.soname, "libkltest.so.1") == 0, "%s",
           info.soname ? info.soname : "(none)");
    CHECKF(info.runpath && strcmp(info.runpath, "$ORIGIN/../lib") == 0, "%s",
           info.runpath ? info.runpath : "(none)");
    CHECK(info.rpath == NULL);
    CHECK(!info.program);
    CHECK(has_needed(&info, "libm.so.6"));
    CHECK(has_needed(&info, "libc.so.6"));
    CHECK(!has_needed(&info, "libkltest.so.1"));
    CHECK(has_glibc_need(&info, "libm.so.6"));
    CHECK(has_glibc_need(&info, "libc.so.6"));
    CHECKF(info.loadable_size == segments_end(img), "%llu vs %llu",
           (unsigned long long)info.loadable_size,
           (unsigned long long)segments_end(img));
    CHECKF(info.loadable_size < size, "built with -g, the library has "
           "sections after its last segment (%llu of %zu)",
           (unsigned long long)info.loadable_size, size);
    elf_info_free(&info);
    CHECK(info.needed == NULL && info.n_needed == 0);
    elf_info_free(&info); /* twice is fine */
    free(img);
}

static void test_library_with_rpath(void)
{
    size_t size;
    uint8_t *img = load("libkltest-rpath.so", &size);
    elf_info info;
    kl_err err;

    if (!CHECKF(elf_read(img, size, &info, &err) == 0, "%s", err.msg)) {
        free(img);
        return;
    }
    CHECK(info.soname == NULL);
    CHECKF(info.rpath && strcmp(info.rpath, "/opt/kltest/lib") == 0, "%s",
           info.rpath ? info.rpath : "(none)");
    CHECK(info.runpath == NULL);
    CHECK(has_needed(&info, "libm.so.6"));
    elf_info_free(&info);
    free(img);
}

/* An image cut to its loadable part, with the header rewritten, loads
 * from memory and runs; reading it again gives the same answers. */
static void test_cut_image_loads(void)
{
    size_t size;
    uint8_t *img = load("libkltest.so", &size), head[ELF_HEADER_SIZE];
    elf_info info, again;
    kl_err err;
    char path[64];
    void *lib;
    int fd;

    if (!CHECK(elf_read(img, size, &info, &err) == 0)) {
        free(img);
        return;
    }
    elf_cut_header(img, head);
    memcpy(img, head, sizeof head);
    {
        Elf64_Ehdr eh;

        memcpy(&eh, img, sizeof eh);
        CHECK(eh.e_shoff == 0 && eh.e_shnum == 0 && eh.e_shstrndx == 0);
        CHECK(eh.e_phoff != 0 && eh.e_phnum > 0);
    }
    if (CHECKF(elf_read(img, info.loadable_size, &again, &err) == 0, "%s",
               err.msg)) {
        CHECK(again.loadable_size == info.loadable_size);
        CHECK(again.soname && strcmp(again.soname, "libkltest.so.1") == 0);
        CHECK(again.n_needed == info.n_needed);
        CHECK(again.n_version_needs == info.n_version_needs);
        elf_info_free(&again);
    }
    fd = memfd_create("libkltest-cut.so", MFD_CLOEXEC);
    if (!CHECK(fd >= 0) ||
        !CHECK(write(fd, img, (size_t)info.loadable_size) ==
               (ssize_t)info.loadable_size)) {
        free(img);
        return;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (CHECKF(lib != NULL, "dlopen of the cut image: %s", dlerror())) {
        int (*add)(int, int) = (int (*)(int, int))dlsym(lib, "kltest_add");
        double (*kcos)(double) = (double (*)(double))dlsym(lib, "kltest_cos");

        int (*len)(const char *) = (int (*)(const char *))dlsym(lib,
                                                                "kltest_len");

        CHECK(add != NULL && add(2, 3) == 5);
        CHECK(len != NULL && len("kiln") == 4);
        CHECK(kcos != NULL && kcos(0.0) == 1.0);
        dlclose(lib);
    }
    close(fd);
    elf_info_free(&info);
    free(img);
}

/* Read img[0, n) from an exact-size copy; returns what elf_read did. */
static int read_exact(const uint8_t *img, size_t n, elf_info *info,
                      kl_err *err)
{
    uint8_t *copy = xdup(img, n);
    int r = elf_read(copy, n, info, err);

    /* the strings must not point into the copy once it is gone */
    if (r == 0) {
        size_t i;

        CHECK(info->loadable_size <= n);
        for (i = 0; i < info->n_needed; i++)
            CHECK(info->needed[i] >= (const char *)copy &&
                  info->needed[i] < (const char *)copy + n);
        elf_info_free(info);
    }
    free(copy);
    return r;
}

static void test_not_elf(void)
{
    static const uint8_t text[] = "#!/bin/sh\necho not an ELF file\n";
    uint8_t h32[ELF_HEADER_SIZE];
    elf_info info;
    kl_err err;

    err.msg[0] = 0;
    CHECK(read_exact(text, 0, &info, &err) < 0);
    CHECK(read_exact(text, sizeof text, &info, &err) < 0);
    CHECKF(strstr(err.msg, "not an ELF") != NULL, "%s", err.msg);
    memset(h32, 0, sizeof h32);
    memcpy(h32, ELFMAG, SELFMAG);
    h32[EI_CLASS] = ELFCLASS32;
    h32[EI_DATA] = ELFDATA2LSB;
    CHECK(read_exact(h32, sizeof h32, &info, &err) < 0);
    CHECKF(strstr(err.msg, "64-bit") != NULL, "%s", err.msg);
    h32[EI_CLASS] = ELFCLASS64;
    h32[EI_DATA] = ELFDATA2MSB;
    CHECK(read_exact(h32, sizeof h32, &info, &err) < 0);
    h32[EI_DATA] = ELFDATA2LSB;
    CHECK(read_exact(h32, sizeof h32, &info, &err) < 0); /* no segments */
    CHECKF(strstr(err.msg, "program header") != NULL, "%s", err.msg);
}

/* Every prefix of a real library is read or refused, never read past. */
static void test_truncations(void)
{
    size_t size, n;
    uint8_t *img = load("libkltest.so", &size);
    elf_info info;
    kl_err err;
    unsigned long ok = 0;

    for (n = 0; n <= size; n++)
        ok += read_exact(img, n, &info, &err) == 0;
    CHECKF(ok > 0, "no prefix of the library is readable");
    free(img);
}

/* Every single-byte change of a real library is read or refused. */
static void test_flips(void)
{
    static const uint8_t deltas[] = {0x01, 0x80, 0xff};
    size_t size, pos, k;
    uint8_t *img = load("libkltest.so", &size);
    elf_info info;
    kl_err err;

    for (pos = 0; pos < size; pos++) {
        for (k = 0; k < sizeof deltas; k++) {
            img[pos] ^= deltas[k];
            (void)read_exact(img, size, &info, &err);
            img[pos] ^= deltas[k];
        }
    }
    CHECK(read_exact(img, size, &info, &err) == 0);
    free(img);
}

/* The dynamic entry with `tag` in img (a copy the test may change), or
 * NULL. Found by its own walk of the program headers. */
static Elf64_Dyn *find_dyn(uint8_t *img, int64_t tag)
{
    Elf64_Ehdr eh;
    size_t i, k;

    memcpy(&eh, img, sizeof eh);
    for (i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;

        memcpy(&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_DYNAMIC)
            continue;
        for (k = 0; k < ph.p_filesz / sizeof(Elf64_Dyn); k++) {
            Elf64_Dyn *d = (Elf64_Dyn *)(img + ph.p_offset) + k;

            if (d->d_tag == tag)
                return d;
        }
    }
    return NULL;
}

/* One hostile change: set the value of dynamic entry `tag` to v and expect
 * an error that mentions `word`. */
static void hostile(int64_t tag, uint64_t v, const char *word)
{
    size_t size;
    uint8_t *img = load("libkltest.so", &size);
    Elf64_Dyn *d = find_dyn(img, tag);
    elf_info info;
    kl_err err;

    if (CHECKF(d != NULL, "tag %lld not in the fixture", (long long)tag)) {
        d->d_un.d_val = v;
        err.msg[0] = 0;
        CHECKF(read_exact(img, size, &info, &err) < 0,
               "tag %lld = %llu accepted", (long long)tag,
               (unsigned long long)v);
        CHECKF(strstr(err.msg, word) != NULL, "tag %lld: %s", (long long)tag,
               err.msg);
    }
    free(img);
}

/* A version-needs table whose records point into one another: the
 * library's first record leads to LOOP_SIZE bytes of records, each
 * naming as its versions the records that follow it (read as versions,
 * up to the last, whose link ends both lists), and DT_VERNEEDNUM says
 * there is no end. Walked as it says, that is millions of versions from
 * a file of 80 KiB (the square of the records; billions from a few MiB):
 * elf_read and elf_hide_needed must refuse it instead. */
#define LOOP_SIZE 65536
static void test_verneed_loops(void)
{
    /* Hiding marks each version weak as it goes, which sets bit 1 of
     * the next record's file name offset: "bm.so.6" for "libm.so.6". */
    const char *libs[] = {"libc.so.6", "libm.so.6", "bc.so.6", "bm.so.6"};
    size_t size, at, n;
    uint8_t *lib = load("libkltest.so", &size), *img;
    Elf64_Dyn *d;
    Elf64_Verneed first, loop;
    uint64_t off = 0;
    elf_info info;
    kl_err err;
    size_t i;

    img = xmalloc(size + LOOP_SIZE);
    memcpy(img, lib, size);
    free(lib);
    /* the first record, found as the reader finds it */
    CHECK(elf_read(img, size, &info, &err) == 0);
    elf_info_free(&info);
    d = find_dyn(img, DT_VERNEED);
    if (!CHECK(d != NULL) || !CHECK(find_dyn(img, DT_VERNEEDNUM) != NULL))
        goto out;
    {
        Elf64_Ehdr eh;

        memcpy(&eh, img, sizeof eh);
        for (i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;

            memcpy(&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
            if (ph.p_type == PT_LOAD && d->d_un.d_ptr >= ph.p_vaddr &&
                d->d_un.d_ptr - ph.p_vaddr < ph.p_filesz)
                off = ph.p_offset + (d->d_un.d_ptr - ph.p_vaddr);
        }
    }
    if (!CHECK(off > 0))
        goto out;
    memcpy(&first, img + off, sizeof first);
    at = (size + 15) / 16 * 16;
    first.vn_next = (uint32_t)(at - off);
    memcpy(img + off, &first, sizeof first);
    loop.vn_version = 1;
    loop.vn_cnt = UINT16_MAX;
    loop.vn_file = first.vn_file; /* a name: "libc.so.6" or "libm.so.6" */
    loop.vn_aux = sizeof loop;
    loop.vn_next = sizeof loop;
    n = at + (LOOP_SIZE - (at - size)) / sizeof loop * sizeof loop;
    for (i = at; i < n; i += sizeof loop) {
        if (i + sizeof loop == n) {
            loop.vn_next = 0; /* the last record, and every list's end */
            loop.vn_cnt = 0;
        }
        memcpy(img + i, &loop, sizeof loop);
    }
    find_dyn(img, DT_VERNEEDNUM)->d_un.d_val = UINT64_MAX;
    err.msg[0] = 0;
    CHECK(read_exact(img, n, &info, &err) < 0);
    CHECKF(strstr(err.msg, "more versions than the file holds") != NULL, "%s",
           err.msg);
    err.msg[0] = 0;
    CHECK(elf_hide_needed(img, n, libs, 4, &err) < 0);
    CHECKF(strstr(err.msg, "more versions than the file holds") != NULL, "%s",
           err.msg);
out:
    free(img);
}

static void test_hostile(void)
{
    hostile(DT_STRSZ, UINT64_MAX, "string table");
    hostile(DT_STRSZ, UINT64_C(1) << 40, "string table");
    hostile(DT_STRTAB, UINT64_C(0x7fff00000000), "string table");
    hostile(DT_NEEDED, UINT64_MAX, "string table");
    hostile(DT_NEEDED, 1u << 30, "string table");
    hostile(DT_SONAME, UINT32_MAX, "string table");
    hostile(DT_RUNPATH, UINT64_C(1) << 33, "string table");
    hostile(DT_VERNEED, UINT64_C(0x7fff00000000), "version");
    /* many more version records than there are: the walk stops at the
     * end of the chain, or at the end of the image */
    {
        size_t size;
        uint8_t *img = load("libkltest.so", &size);
        Elf64_Dyn *d = find_dyn(img, DT_VERNEEDNUM);
        elf_info info;
        kl_err err;

        if (CHECK(d != NULL)) {
            d->d_un.d_val = UINT64_MAX;
            CHECK(read_exact(img, size, &info, &err) == 0);
        }
        free(img);
    }
    test_verneed_loops();
    /* a program header table running off the end */
    {
        size_t size;
        uint8_t *img = load("libkltest.so", &size);
        Elf64_Ehdr eh;
        elf_info info;
        kl_err err;

        memcpy(&eh, img, sizeof eh);
        eh.e_phoff = size - 8;
        memcpy(img, &eh, sizeof eh);
        CHECK(read_exact(img, size, &info, &err) < 0);
        eh.e_phoff = UINT64_MAX - 8;
        memcpy(img, &eh, sizeof eh);
        CHECK(read_exact(img, size, &info, &err) < 0);
        free(img);
    }
}

/* Hiding libm.so.6 from the loader: its DT_NEEDED entry is gone for the
 * reader too, its version needs name the empty string (the main program
 * to glibc), nothing else changes, and a name not needed changes nothing.
 * The copy still loads (test_cut_image_loads checks what loads). */
static void test_hide_needed(void)
{
    const char *libm[] = {"libm.so.6"}, *other[] = {"libnothere.so"};
    size_t size, i, from_libm = 0, blank = 0;
    uint8_t *img = load("libkltest.so", &size), *orig = xdup(img, size);
    elf_info before, info;
    kl_err err;

    if (!CHECK(elf_read(orig, size, &before, &err) == 0))
        goto out;
    CHECK(elf_hide_needed(img, size, other, 1, &err) == 0 &&
          memcmp(img, orig, size) == 0);
    if (!CHECKF(elf_hide_needed(img, size, libm, 1, &err) == 1, "%s",
                err.msg) ||
        !CHECKF(elf_read(img, size, &info, &err) == 0, "%s", err.msg)) {
        elf_info_free(&before);
        goto out;
    }
    CHECK(!has_needed(&info, "libm.so.6") && has_needed(&info, "libc.so.6"));
    CHECK(info.n_needed == before.n_needed - 1);
    CHECK(strcmp(info.soname, before.soname) == 0);
    CHECK(info.n_version_needs == before.n_version_needs);
    for (i = 0; i < before.n_version_needs; i++)
        from_libm += strcmp(before.version_needs[i].file, "libm.so.6") == 0;
    for (i = 0; i < info.n_version_needs; i++) {
        blank += info.version_needs[i].file[0] == '\0';
        CHECK(strcmp(info.version_needs[i].version,
                     before.version_needs[i].version) == 0);
    }
    CHECK(from_libm > 0 && blank == from_libm && !has_glibc_need(&info,
                                                                 "libm.so.6"));
    CHECK(has_glibc_need(&info, "libc.so.6"));
    /* a second time: nothing left to hide */
    CHECK(elf_hide_needed(img, size, libm, 1, &err) == 0);
    /* not an ELF object */
    CHECK(elf_hide_needed((uint8_t *)"not elf at all, not at all....", 30,
                          libm, 1, &err) == -1);
    elf_info_free(&info);
    elf_info_free(&before);
out:
    free(img);
    free(orig);
}

/* elf_dynstr_has finds whole strings of the dynamic string table only:
 * the symbols a library defines and the names it needs, not a piece of
 * one, nor anything in an image that is not ELF. */
static void test_dynstr_has(void)
{
    size_t size;
    uint8_t *img = load("libkltest.so", &size);

    CHECK(elf_dynstr_has(img, size, "kltest_add"));
    CHECK(elf_dynstr_has(img, size, "libkltest.so.1"));
    CHECK(elf_dynstr_has(img, size, "libm.so.6"));
    CHECK(!elf_dynstr_has(img, size, "kltest_ad"));
    CHECK(!elf_dynstr_has(img, size, "test_add"));
    CHECK(!elf_dynstr_has(img, size, "PyInit_libkltest"));
    CHECK(!elf_dynstr_has("not an ELF image", 16, "kltest_add"));
    free(img);
}

/* elf_fixed_paths finds an RPATH of fixed directories, at the offset of
 * its dynamic entry, and leaves a RUNPATH relative to $ORIGIN alone. */
static void test_fixed_paths(void)
{
    size_t size, n = 9;
    uint8_t *img = load("libkltest-rpath.so", &size);
    uint64_t offs[2];
    Elf64_Dyn d;

    elf_fixed_paths(img, size, offs, &n);
    if (CHECKF(n == 1, "%zu entries", n)) {
        memcpy(&d, img + offs[0], sizeof d);
        CHECK(d.d_tag == DT_RPATH);
    }
    free(img);
    img = load("libkltest.so", &size);
    elf_fixed_paths(img, size, offs, &n);
    CHECKF(n == 0, "%zu entries", n);
    elf_fixed_paths("not an ELF image", 16, offs, &n);
    CHECK(n == 0);
    free(img);
}

/* The executable that runs these tests is a program. */
static void test_program(const char *self)
{
    kl_map m;
    elf_info info;
    kl_err err;

    if (!CHECKF(kl_map_file(self, &m, &err) == 0, "%s", err.msg))
        return;
    if (CHECKF(elf_read(m.data, m.size, &info, &err) == 0, "%s", err.msg)) {
        CHECK(info.program);
        elf_info_free(&info);
    }
    kl_unmap(&m);
}

/* elf_rename_export: the one export of libkltest-one.so renamed, found by
 * the loader under its new name only; refused for a longer name, another
 * prefix and a library exporting several. */
static void test_rename_export(void)
{
    static const char old[] = "kltest_placeholder_xxxxxxxxxxxxxxxxxxxxxxxx";
    size_t size, many_size;
    uint8_t *img = load("libkltest-one.so", &size);
    uint8_t *many = load("libkltest.so", &many_size);
    char path[64], longer[sizeof old + 1];
    kl_err err;
    void *lib;
    int fd;

    memset(longer, 'y', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    CHECK(elf_rename_export(img, size, "kltest_placeholder_", longer,
                            &err) < 0 && strstr(err.msg, "longer") != NULL);
    CHECK(elf_rename_export(img, size, "PyInit_", "kltest_new", &err) < 0 &&
          strstr(err.msg, "is not PyInit_") != NULL);
    CHECK(elf_rename_export(many, many_size, "kltest_", "kltest_new",
                            &err) < 0 &&
          strstr(err.msg, "more than one symbol") != NULL);
    if (!CHECKF(elf_rename_export(img, size, "kltest_placeholder_",
                                  "kltest_new", &err) == 0, "%s", err.msg))
        goto done;
    fd = memfd_create("libkltest-renamed.so", MFD_CLOEXEC);
    if (!CHECK(fd >= 0) ||
        !CHECK(write(fd, img, size) == (ssize_t)size))
        goto done;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (CHECKF(lib != NULL, "dlopen of the renamed library: %s", dlerror())) {
        int (*f)(int) = (int (*)(int))dlsym(lib, "kltest_new");

        CHECK(f != NULL && f(20) == 41);
        CHECK(dlsym(lib, old) == NULL);
        dlclose(lib);
    }
    close(fd);
done:
    free(img);
    free(many);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_elf FIXTURES_DIR\n");
        return 2;
    }
    fixtures = argv[1];
    test_library_with_runpath();
    test_library_with_rpath();
    test_cut_image_loads();
    test_not_elf();
    test_truncations();
    test_flips();
    test_hostile();
    test_hide_needed();
    test_dynstr_has();
    test_fixed_paths();
    test_rename_export();
    test_program("/proc/self/exe");
    return check_summary();
}
