/*
 * fuzz_ldso.c: libFuzzer target of kiln's reader of the dynamic loader's
 * cache (fz_ldso_cache in src/freeze/fz_ldso.c, ldconfig's format 1.1,
 * alone or after the old 1.7.0 entries), which the kiln command uses to
 * find the libraries extension modules need.
 *
 * An input is a cache file. It is written to a memory file (nothing is
 * left on disk) and a few library names are looked up in it, for this
 * machine's ELF machine and another; a library it names is looked at on
 * disk as the reader does (its ELF header only).
 */
#include "../../src/freeze/fz_libs.h"
#include "fuzz.h"

#include <elf.h>

static int fuzz_fd = -1;
static char fuzz_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_fd = fuzz_memfile("ld.so.cache", fuzz_path, sizeof fuzz_path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"libc.so.6", "libz.so.1",
                                        "libm.so.6", "libzstd.so.1", ""};
    static const uint16_t machines[] = {EM_X86_64, EM_AARCH64};
    size_t i, k;

    if (fuzz_memfile_set(fuzz_fd, data, size) < 0)
        return 0;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        for (k = 0; k < sizeof machines / sizeof machines[0]; k++) {
            char *out = NULL;
            kl_err err;

            err.msg[0] = '\0';
            if (fz_ldso_cache(fuzz_path, names[i], machines[k], &out, &err) <
                0)
                fuzz_check_err(&err);
            FUZZ_REQUIRE(out == NULL || out[0] == '/',
                         "a library found is a real path");
            free(out);
        }
    return 0;
}
