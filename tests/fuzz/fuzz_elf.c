/*
 * fuzz_elf.c: libFuzzer target of the ELF reader (src/elf/), as the kiln
 * command (stripping, dependency collection, `kiln analyze`) and built
 * programs (the libraries an extension module needs) use it.
 *
 * An input is a file: elf_read() reads it, and what it found is used as
 * its callers use it: every string, the loadable size, the cut header,
 * elf_dynstr_has() for the names it read and for a few others,
 * elf_fixed_paths(); then, each on a private copy, elf_hide_needed() of
 * its needed libraries and elf_rename_export() of an extension module's
 * template symbol, after which the copy is read again. What elf_read()
 * refuses goes to elf_dynstr_has(), elf_fixed_paths() and
 * elf_hide_needed() (of the libraries the seeds need) too. A hostile image
 * may lay its tables over one another, so what those writes leave is
 * only required to be read without harm.
 */
#include "../../src/elf/elf_reader.h"
#include "fuzz.h"

static volatile uint64_t fuzz_sink;

/* Libraries the seeds need, and one that none does. */
static const char *const fuzz_libs[] = {"libc.so.6", "libm.so.6",
                                        "libz.so.1", "libnone.so.1"};

/* Every string info holds, touched end to end. */
static void fuzz_strings(const elf_info *info)
{
    size_t i;

    fuzz_sink += info->soname ? strlen(info->soname) : 0;
    fuzz_sink += info->rpath ? strlen(info->rpath) : 0;
    fuzz_sink += info->runpath ? strlen(info->runpath) : 0;
    if (info->rpath)
        fuzz_sink += elf_origin_len(info->rpath, strlen(info->rpath));
    if (info->runpath)
        fuzz_sink += elf_origin_len(info->runpath, strlen(info->runpath));
    for (i = 0; i < info->n_needed; i++)
        fuzz_sink += strlen(info->needed[i]);
    for (i = 0; i < info->n_version_needs; i++)
        fuzz_sink += strlen(info->version_needs[i].file) +
                     strlen(info->version_needs[i].version);
}

/* elf_dynstr_has() of the names info read and of a few others. */
static void fuzz_dynstr(const uint8_t *img, size_t n, const elf_info *info)
{
    static const char *const others[] = {"", "PyInit_x", "libc.so.6",
                                         "GLIBC_2.2.5", KL_EXT_INIT_PREFIX};
    size_t i;

    for (i = 0; i < sizeof others / sizeof others[0]; i++)
        fuzz_sink += (uint64_t)elf_dynstr_has(img, n, others[i]);
    for (i = 0; i < info->n_needed; i++)
        fuzz_sink += (uint64_t)elf_dynstr_has(img, n, info->needed[i]);
    if (info->soname)
        fuzz_sink += (uint64_t)elf_dynstr_has(img, n, info->soname);
}

/* Read img[0, n) again after a change, for what a reader of the changed
 * image meets. */
static void fuzz_reread(const uint8_t *img, size_t n)
{
    elf_info again;
    kl_err err;

    err.msg[0] = '\0';
    if (elf_read(img, n, &again, &err) == 0) {
        fuzz_strings(&again);
        elf_info_free(&again);
    } else {
        fuzz_check_err(&err);
    }
}

/* elf_fixed_paths(): at most two entries, each inside the image. */
static void fuzz_fixed(const uint8_t *img, size_t n)
{
    uint64_t offs[2];
    size_t k, i;

    FUZZ_REQUIRE(elf_fixed_paths(img, n, offs, &k) == 0 && k <= 2,
                 "elf_fixed_paths finds at most two");
    for (i = 0; i < k; i++)
        FUZZ_REQUIRE(offs[i] <= n && n - offs[i] >= 16,
                     "a fixed path's entry lies in the image");
}

/* Hide libraries names[0, k) in a copy of img[0, n), then read the
 * copy. */
static void fuzz_hide(const uint8_t *img, size_t n, const char *const *names,
                      size_t k)
{
    uint8_t *copy = fuzz_dup(img, n);
    kl_err err;
    int r;

    if (copy == NULL)
        return;
    err.msg[0] = '\0';
    r = elf_hide_needed(copy, n, names, k, &err);
    if (r < 0)
        fuzz_check_err(&err);
    FUZZ_REQUIRE(r <= 0 || k > 0, "nothing is hidden when nothing is named");
    if (r > 0)
        fuzz_reread(copy, n);
    free(copy);
}

/* Rename the template's exported symbol in a copy of img[0, n), as the
 * build of an extension module does, then read the copy. */
static void fuzz_rename(const uint8_t *img, size_t n)
{
    uint8_t *copy = fuzz_dup(img, n);
    kl_err err;

    if (copy == NULL)
        return;
    err.msg[0] = '\0';
    if (elf_rename_export(copy, n, "PyInit_", "PyInit_fz", &err) == 0)
        fuzz_reread(copy, n);
    else
        fuzz_check_err(&err);
    free(copy);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = fuzz_dup(data, size), header[ELF_HEADER_SIZE];
    elf_info info;
    kl_err err;

    if (img == NULL)
        return 0;
    err.msg[0] = '\0';
    if (elf_read(img, size, &info, &err) < 0) {
        fuzz_check_err(&err);
        /* The others are called on what elf_read() refuses too, hiding
         * the libraries the seeds need. */
        fuzz_sink += (uint64_t)elf_dynstr_has(img, size, "libc.so.6");
        fuzz_fixed(img, size);
        fuzz_hide(img, size, fuzz_libs, sizeof fuzz_libs / sizeof *fuzz_libs);
        free(img);
        return 0;
    }
    FUZZ_REQUIRE(info.loadable_size <= size &&
                     info.loadable_size >= ELF_HEADER_SIZE,
                 "the loadable part lies in the image");
    fuzz_strings(&info);
    elf_cut_header(img, header);
    fuzz_sink += header[0];
    fuzz_dynstr(img, size, &info);
    fuzz_fixed(img, size);
    fuzz_hide(img, size, info.needed, info.n_needed);
    fuzz_rename(img, size);
    elf_info_free(&info);
    free(img);
    return 0;
}
