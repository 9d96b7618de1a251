/*
 * test_emit.c: unit tests of the plan (src/plan/) and the one-file
 * emitter (src/emit/): the same entries in any order give the same
 * program; payloads come from memory and files, shared objects cut to
 * what the loader reads; a failed write leaves nothing behind and keeps
 * what was there. Checks as in check.h.
 *
 * Usage: test_emit FIXTURES_DIR
 */
#include "../../src/elf/elf_reader.h"
#include "../../src/emit/emit.h"
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *fixtures;
static char dir[] = "/tmp/kiln-test-emit-XXXXXX";
static kl_buf stub = KL_BUF_INIT, datafile = KL_BUF_INIT, lib = KL_BUF_INIT;

static const char module_code[] = "bytecode of mod";
static const char module_source[] = "print('source of mod')\n";

/* Add the test entries to p in the order perm gives (a permutation of
 * 0..4). */
static void plan_fill(plan *p, const int perm[5])
{
    plan_entry *e;
    kl_err err;
    int i, ok = 1;

    for (i = 0; i < 5; i++) {
        switch (perm[i]) {
        case 0:
            ok &= plan_add(p, BUNDLE_KIND_MODULE, "mod", "mod.py",
                           "imported by __main__", &e, &err) == 0 &&
                  plan_part_copy(&e->data, module_code, sizeof module_code, 0,
                                 &err) == 0 &&
                  plan_part_copy(&e->aux, module_source, sizeof module_source,
                                 3, &err) == 0;
            break;
        case 1:
            ok &= plan_add(p, BUNDLE_KIND_PACKAGE, "pkg", "pkg/__init__.py",
                           NULL, &e, &err) == 0 &&
                  plan_part_copy(&e->data, "pkg", 3, 0, &err) == 0;
            break;
        case 2:
            ok &= plan_add(p, BUNDLE_KIND_NAMESPACE, "ns", "ns", NULL, &e,
                           &err) == 0;
            break;
        case 3:
            ok &= plan_add(p, BUNDLE_KIND_EXTENSION, "pkg._native",
                           "pkg/_native.so", NULL, &e, &err) == 0 &&
                  plan_part_file(&e->data, lib.s, 0, &err) == 0;
            if (ok)
                e->strip = 1;
            break;
        default:
            ok &= plan_add(p, BUNDLE_KIND_DATA, "res/data.bin", "res/data.bin",
                           "--add-data", &e, &err) == 0 &&
                  plan_part_file(&e->data, datafile.s, 3, &err) == 0;
        }
    }
    ok &= plan_set_run(p, BUNDLE_RUN_MODULE, "pkg", 0x030b07f0u, &err) == 0;
    if (!CHECKF(ok, "filling the plan: %s", err.msg))
        exit(2);
}

/* Check the program at path against the test entries. */
static void check_program(const char *path)
{
    size_t size, lsize, stub_size;
    uint8_t *file = file_slurp(path, &size), *want_lib = file_slurp(lib.s, &lsize);
    uint8_t *stub_bytes = file_slurp(stub.s, &stub_size);
    const bundle_entry *e;
    bundle_view v;
    elf_info info;
    kl_err err;
    const uint8_t *d;
    uint8_t *owned;
    size_t n;

    CHECK(size > stub_size && memcmp(file, stub_bytes, stub_size) == 0);
    if (!CHECKF(bundle_open(&v, file, size, &err) == 0, "%s", err.msg))
        goto out;
    CHECK(bundle_verify(&v, &err) == 0);
    CHECK(v.header->entry_count == 5);
    CHECK(v.header->run_mode == BUNDLE_RUN_MODULE);
    CHECK(strcmp(bundle_run_target(&v), "pkg") == 0);
    e = bundle_find(&v, BUNDLE_NS_MODULE, "mod", 3);
    CHECK(e && bundle_read(&v, e, BUNDLE_PART_DATA, &d, &n, &owned, &err) == 0
          && n == sizeof module_code && memcmp(d, module_code, n) == 0);
    CHECK(e && bundle_read(&v, e, BUNDLE_PART_AUX, &d, &n, &owned, &err) == 0
          && n == sizeof module_source && memcmp(d, module_source, n) == 0);
    free(e ? owned : NULL);
    e = bundle_find(&v, BUNDLE_NS_MODULE, "ns", 2);
    CHECK(e && e->kind == BUNDLE_KIND_NAMESPACE && e->data_raw_size == 0);
    e = bundle_find(&v, BUNDLE_NS_FILE, "res/data.bin", 12);
    CHECK(e && bundle_read(&v, e, BUNDLE_PART_DATA, &d, &n, &owned, &err) == 0
          && n == 3000 && d[0] == 'x' && d[2999] == 'x');
    free(e ? owned : NULL);
    /* the shared object: its loadable part, header edited */
    e = bundle_find(&v, BUNDLE_NS_MODULE, "pkg._native", 11);
    if (CHECK(e && bundle_read(&v, e, BUNDLE_PART_DATA, &d, &n, &owned,
                               &err) == 0) &&
        CHECK(elf_read(want_lib, lsize, &info, &err) == 0)) {
        uint8_t head[ELF_HEADER_SIZE];

        elf_cut_header(want_lib, head);
        CHECKF(n == info.loadable_size && n < lsize, "%zu of %zu", n, lsize);
        CHECK(memcmp(d, head, sizeof head) == 0);
        CHECK(memcmp(d + sizeof head, want_lib + sizeof head,
                     n - sizeof head) == 0);
        elf_info_free(&info);
    }
out:
    free(file);
    free(want_lib);
    free(stub_bytes);
}

/* Names in dir starting with prefix, other than `except`. */
static int leftovers(const char *prefix, const char *except)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    while (d && (de = readdir(d)) != NULL)
        if (strstr(de->d_name, prefix) && strcmp(de->d_name, except) != 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_same_bytes_in_any_order(void)
{
    static const int perms[3][5] = {{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0},
                                    {2, 4, 0, 3, 1}};
    uint8_t *first = NULL;
    size_t first_size = 0;
    kl_buf out = KL_BUF_INIT;
    int k;

    for (k = 0; k < 3; k++) {
        plan p;
        kl_err err;
        uint8_t *bytes;
        size_t n;

        plan_init(&p);
        plan_fill(&p, perms[k]);
        kl_buf_setf(&out, "%s/sub/dir/prog%d", dir, k);
        err.msg[0] = 0;
        if (!CHECKF(plan_finish(&p, &err) == 0 &&
                        emit_onefile(&p, stub.s, out.s, &err) == 0,
                    "order %d: %s", k, err.msg)) {
            plan_free(&p);
            continue;
        }
        plan_free(&p);
        check_program(out.s);
        bytes = file_slurp(out.s, &n);
        if (first == NULL) {
            first = bytes;
            first_size = n;
        } else {
            CHECKF(n == first_size && memcmp(bytes, first, n) == 0,
                   "order %d gives other bytes", k);
            free(bytes);
        }
    }
    free(first);
    kl_buf_free(&out);
}

static void test_failures(void)
{
    static const int perm[5] = {0, 1, 2, 3, 4};
    kl_buf out = KL_BUF_INIT, carrier = KL_BUF_INIT;
    plan p;
    kl_err err;
    uint8_t *bytes;
    size_t n;

    /* a source file gone by the time it is written: an error, the previous
     * program untouched, no temporary file left */
    kl_buf_setf(&out, "%s/keep", dir);
    file_put(out.s, "previous", 8);
    plan_init(&p);
    plan_fill(&p, perm);
    CHECK(plan_part_file(&p.entries[4].data, "/nonexistent/kiln/file", 0,
                         &err) == 0);
    CHECK(plan_finish(&p, &err) == 0);
    err.msg[0] = 0;
    CHECK(emit_onefile(&p, stub.s, out.s, &err) < 0);
    CHECKF(strstr(err.msg, "/nonexistent/kiln/file") != NULL, "%s", err.msg);
    bytes = file_slurp(out.s, &n);
    CHECK(n == 8 && memcmp(bytes, "previous", 8) == 0);
    free(bytes);
    CHECK(leftovers("keep", "keep") == 0);
    plan_free(&p);

    /* the output is a directory */
    plan_init(&p);
    plan_fill(&p, perm);
    CHECK(plan_finish(&p, &err) == 0);
    err.msg[0] = 0;
    CHECK(emit_onefile(&p, stub.s, dir, &err) < 0);
    CHECKF(strstr(err.msg, "directory") != NULL, "%s", err.msg);
    /* a stub that already carries a bundle */
    kl_buf_setf(&carrier, "%s/sub/dir/prog0", dir);
    kl_buf_setf(&out, "%s/twice", dir);
    err.msg[0] = 0;
    CHECK(emit_onefile(&p, carrier.s, out.s, &err) < 0);
    CHECKF(strstr(err.msg, "already carries a bundle") != NULL, "%s",
           err.msg);
    CHECK(access(out.s, F_OK) < 0 && errno == ENOENT);
    /* a parent that is a file */
    kl_buf_setf(&out, "%s/keep/prog", dir);
    CHECK(emit_onefile(&p, stub.s, out.s, &err) < 0);
    plan_free(&p);
    kl_buf_free(&out);
    kl_buf_free(&carrier);
}

int main(int argc, char **argv)
{
    char data[3000];

    if (argc != 2) {
        fprintf(stderr, "usage: test_emit FIXTURES_DIR\n");
        return 2;
    }
    fixtures = argv[1];
    make_test_dir(dir, &stub);
    kl_path_join(&datafile, dir, "data.bin");
    memset(data, 'x', sizeof data);
    file_put(datafile.s, data, sizeof data);
    kl_path_join(&lib, fixtures, "libkltest.so");

    test_same_bytes_in_any_order();
    test_failures();

    tmp_dir_remove(dir);
    kl_buf_free(&stub);
    kl_buf_free(&datafile);
    kl_buf_free(&lib);
    return check_summary();
}
