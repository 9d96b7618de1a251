/*
 * test_onedir.c: unit tests of folder programs: external entries in the
 * bundle format (written, read, checked, refused when hostile) and the
 * folder emitter (layout, same bytes in every file whatever the entry
 * order, what it replaces and what it refuses to). Checks as in check.h.
 *
 * Usage: test_onedir FIXTURES_DIR
 */
#include "../../src/elf/elf_reader.h"
#include "../../src/emit/emit.h"
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/kiln-test-onedir-XXXXXX";
static kl_buf stub = KL_BUF_INIT, lib = KL_BUF_INIT, datafile = KL_BUF_INIT;


static const char code[] = "bytecode of mod";
static const char ext_bytes[] = "\177ELF pretend shared object";
static const char data_bytes[] = "some data\n";

/* A temporary file open for reading and writing (deleted already). */
static int temp_fd(void)
{
    char name[] = "/tmp/kiln-test-onedir-fd-XXXXXX";
    int fd = mkstemp(name);

    if (fd < 0) {
        perror("mkstemp");
        exit(2);
    }
    unlink(name);
    return fd;
}

/* The contents of fd, malloc'd. */
static uint8_t *fd_bytes(int fd, size_t *n)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *b = xmalloc((size_t)end + 1);
    kl_err err;

    if (kl_read_at(fd, b, (size_t)end, 0, "temp", &err) < 0) {
        fprintf(stderr, "test_onedir: %s\n", err.msg);
        exit(2);
    }
    *n = (size_t)end;
    return b;
}

/* ---- the format ---------------------------------------------------------- */

/* A bundle at offset 0 of a new file: module "mod" inside, extension
 * "pkg.ext" (pkg/ext.so) and data "d.txt" as external files whose bytes
 * go to ext_fd and data_fd. Returns the bundle file's bytes. */
static uint8_t *external_bundle(int ext_fd, int data_fd, size_t *size)
{
    bundle_source c = {code, -1, sizeof code, NULL, 0, 0, NULL, 0};
    bundle_source x = {ext_bytes, -1, sizeof ext_bytes, NULL, 0, 3, NULL, 0};
    bundle_source d = {data_bytes, -1, sizeof data_bytes, NULL, 0, 0, NULL, 0};
    bundle_writer *w = bundle_writer_new();
    int fd = temp_fd();
    kl_err err;
    int ok;

    ok = bundle_writer_add(w, BUNDLE_KIND_MODULE, "mod", "mod.py", &err) == 0 &&
         bundle_writer_add(w, BUNDLE_KIND_EXTENSION, "pkg.ext", "pkg/ext.so",
                           &err) == 0 &&
         bundle_writer_add(w, BUNDLE_KIND_DATA, "d.txt", "d.txt", &err) == 0 &&
         bundle_writer_set_run(w, BUNDLE_RUN_SCRIPT, "", 0x030b07f0u, &err) == 0 &&
         bundle_writer_set_folder(w, "_internal", &err) == 0 &&
         bundle_writer_begin(w, fd, 0, &err) == 0 &&
         bundle_writer_put(w, &c, NULL, &err) == 0 &&
         bundle_writer_put_external(w, &x, ext_fd, "ext", &err) == 0 &&
         bundle_writer_put_external(w, &d, data_fd, "data", &err) == 0 &&
         bundle_writer_finish(w, &err) == 0;
    if (!CHECKF(ok, "writing: %s", err.msg))
        exit(2);
    bundle_writer_free(w);
    {
        uint8_t *b = fd_bytes(fd, size);

        close(fd);
        return b;
    }
}

static void test_external_round_trip(void)
{
    int ext_fd = temp_fd(), data_fd = temp_fd();
    size_t size, n;
    uint8_t *file = external_bundle(ext_fd, data_fd, &size);
    uint8_t *ext = fd_bytes(ext_fd, &n);
    const bundle_entry *e;
    const uint8_t *d;
    uint8_t *owned;
    bundle_view v;
    kl_err err;

    /* the external bytes are the source's, as they are (never compressed) */
    CHECK(n == sizeof ext_bytes && memcmp(ext, ext_bytes, n) == 0);
    if (!CHECKF(bundle_open(&v, file, size, &err) == 0, "%s", err.msg))
        goto out;
    CHECK(strcmp(bundle_folder(&v), "_internal") == 0);
    CHECK(bundle_verify(&v, &err) == 0);
    e = bundle_find(&v, BUNDLE_NS_MODULE, "mod", 3);
    CHECK(e && !(e->flags & BUNDLE_FLAG_EXTERNAL));
    e = bundle_find(&v, BUNDLE_NS_MODULE, "pkg.ext", 7);
    if (CHECK(e && e->flags == BUNDLE_FLAG_EXTERNAL)) {
        CHECK(e->data_size == sizeof ext_bytes &&
              e->data_raw_size == sizeof ext_bytes && e->data_off == 0);
        CHECK(strcmp(bundle_entry_path(&v, e), "pkg/ext.so") == 0);
        CHECK(bundle_check_external(&v, e, ext, n, &err) == 0);
        /* one byte changed, one byte short: damage, naming the file */
        ext[3] ^= 1;
        err.msg[0] = 0;
        CHECK(bundle_check_external(&v, e, ext, n, &err) < 0 &&
              strstr(err.msg, "_internal/pkg/ext.so") &&
              strstr(err.msg, "damaged"));
        ext[3] ^= 1;
        CHECK(bundle_check_external(&v, e, ext, n - 1, &err) < 0);
        /* its data is not in the bundle */
        CHECK(bundle_read(&v, e, BUNDLE_PART_DATA, &d, &n, &owned, &err) < 0);
        CHECK(bundle_read(&v, e, BUNDLE_PART_AUX, &d, &n, &owned, &err) == 0 &&
              n == 0);
    }
    e = bundle_find(&v, BUNDLE_NS_FILE, "d.txt", 5);
    CHECK(e && (e->flags & BUNDLE_FLAG_EXTERNAL));
out:
    free(file);
    free(ext);
    close(ext_fd);
    close(data_fd);
}

static void test_writer_refuses(void)
{
    bundle_source x = {ext_bytes, -1, sizeof ext_bytes, NULL, 0, 0, NULL, 0};
    static const char *const bad[] = {"", "a/b", ".", "..", "/x"};
    bundle_writer *w = bundle_writer_new();
    int fd = temp_fd(), out = temp_fd();
    kl_err err;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(bundle_writer_set_folder(w, bad[i], &err) < 0, "'%s'", bad[i]);
    /* no folder: nothing can be external */
    CHECK(bundle_writer_add(w, BUNDLE_KIND_EXTENSION, "e", "e.so", &err) == 0 &&
          bundle_writer_add(w, BUNDLE_KIND_MODULE, "m", "m.py", &err) == 0 &&
          bundle_writer_begin(w, fd, 0, &err) == 0);
    err.msg[0] = 0;
    CHECK(bundle_writer_put_external(w, &x, out, "out", &err) < 0 &&
          strstr(err.msg, "internal error"));
    bundle_writer_free(w);
    /* a module cannot be */
    w = bundle_writer_new();
    CHECK(bundle_writer_add(w, BUNDLE_KIND_MODULE, "m", "m.py", &err) == 0 &&
          bundle_writer_set_folder(w, "_internal", &err) == 0 &&
          bundle_writer_begin(w, fd, 0, &err) == 0);
    CHECK(bundle_writer_put_external(w, &x, out, "out", &err) < 0);
    bundle_writer_free(w);
    close(fd);
    close(out);
    CHECK(bundle_kind_can_be_external(BUNDLE_KIND_EXTENSION) &&
          bundle_kind_can_be_external(BUNDLE_KIND_SHLIB) &&
          bundle_kind_can_be_external(BUNDLE_KIND_DATA) &&
          bundle_kind_can_be_external(BUNDLE_KIND_PKGDATA) &&
          bundle_kind_can_be_external(BUNDLE_KIND_METADATA) &&
          !bundle_kind_can_be_external(BUNDLE_KIND_MODULE) &&
          !bundle_kind_can_be_external(BUNDLE_KIND_PACKAGE) &&
          !bundle_kind_can_be_external(BUNDLE_KIND_NAMESPACE));
    CHECK(bundle_path_inside("a") && bundle_path_inside("a/b.so") &&
          bundle_path_inside("..a/b") && !bundle_path_inside("") &&
          !bundle_path_inside("/a") && !bundle_path_inside("a//b") &&
          !bundle_path_inside("a/") && !bundle_path_inside("./a") &&
          !bundle_path_inside("a/../b") && !bundle_path_inside(".."));
}

/* Ways to edit the index of external_bundle() (entries in bundle order:
 * 0 mod, 1 pkg.ext, 2 d.txt; path "pkg/ext.so", folder "_internal"). */
enum edit {
    EDIT_NOTHING, EDIT_PATH_OK, EDIT_MODULE_EXTERNAL, EDIT_UNKNOWN_FLAG,
    EDIT_ZSTD, EDIT_RAW_SIZE, EDIT_OFFSET, EDIT_NO_FOLDER, EDIT_PATH_UP,
    EDIT_PATH_ABS, EDIT_PATH_EMPTY_PART, EDIT_FOLDER_UP, EDIT_FOLDER_TWO,
    EDIT_FOLDER_UNTERMINATED, EDIT_FOLDER_OUTSIDE
};

/* Apply edit to the index: header h, entries e, strings s. Replacement
 * strings are no longer than the ones they replace. */
static void edit_index(enum edit edit, bundle_header *h, bundle_entry *e,
                       char *s)
{
    static const char *const paths[] = {
        [EDIT_PATH_OK] = "p/q/e.so", [EDIT_PATH_UP] = "../ext.so",
        [EDIT_PATH_ABS] = "/ext.so", [EDIT_PATH_EMPTY_PART] = "pkg//e.so",
        [EDIT_FOLDER_UP] = "..", [EDIT_FOLDER_TWO] = "a/b",
    };

    switch (edit) {
    case EDIT_NOTHING: break;
    case EDIT_MODULE_EXTERNAL:
        e[0].flags |= BUNDLE_FLAG_EXTERNAL;
        e[0].data_off = 0;
        break;
    case EDIT_UNKNOWN_FLAG: e[1].flags |= 0x08; break;
    case EDIT_ZSTD: e[1].flags |= BUNDLE_FLAG_DATA_ZSTD; break;
    case EDIT_RAW_SIZE: e[2].data_raw_size++; break;
    case EDIT_OFFSET: e[2].data_off = 16; break;
    case EDIT_NO_FOLDER: h->folder_len = 0; break;
    case EDIT_PATH_OK:
    case EDIT_PATH_UP:
    case EDIT_PATH_ABS:
    case EDIT_PATH_EMPTY_PART:
        memcpy(s + e[1].path_off, paths[edit], strlen(paths[edit]) + 1);
        e[1].path_len = (uint32_t)strlen(paths[edit]);
        break;
    case EDIT_FOLDER_UP:
    case EDIT_FOLDER_TWO:
        memcpy(s + h->folder_off, paths[edit], strlen(paths[edit]) + 1);
        h->folder_len = (uint32_t)strlen(paths[edit]);
        break;
    case EDIT_FOLDER_UNTERMINATED: h->folder_len--; break;
    case EDIT_FOLDER_OUTSIDE: h->folder_off = (uint32_t)h->strings_size; break;
    }
}

/* A copy of the bundle `base` with edit applied to its index and the
 * index checksum recomputed: bundle_open must accept it when `accept`,
 * else refuse it as damaged without blaming the checksum. */
static void expect_open(const uint8_t *base, size_t size, enum edit edit,
                        int accept, const char *what)
{
    uint8_t *f = xdup(base, size);
    bundle_header *h = (bundle_header *)f;
    bundle_trailer t;
    bundle_view v;
    kl_err err;
    int rc;

    edit_index(edit, h, (bundle_entry *)(f + h->entries_off),
               (char *)(f + h->strings_off));
    memcpy(&t, f + size - sizeof t, sizeof t);
    t.index_checksum = kl_checksum(KL_CHECKSUM_SEED, f, h->payload_off);
    memcpy(f + size - sizeof t, &t, sizeof t);
    err.msg[0] = 0;
    rc = bundle_open(&v, f, size, &err);
    if (accept)
        CHECKF(rc == 0, "%s refused: %s", what, err.msg);
    else
        CHECKF(rc < 0 && strstr(err.msg, "damaged") &&
                   !strstr(err.msg, "checksum"),
               "%s: %s", what, rc == 0 ? "accepted" : err.msg);
    free(f);
}

static void test_hostile_external(void)
{
    static const struct {
        enum edit edit;
        int accept;
        const char *what;
    } cases[] = {
        {EDIT_NOTHING, 1, "nothing"},
        {EDIT_PATH_OK, 1, "another path"},
        {EDIT_MODULE_EXTERNAL, 0, "an external module"},
        {EDIT_UNKNOWN_FLAG, 0, "an unknown flag"},
        {EDIT_ZSTD, 0, "an external file stored compressed"},
        {EDIT_RAW_SIZE, 0, "external sizes that differ"},
        {EDIT_OFFSET, 0, "an external file with an offset"},
        {EDIT_NO_FOLDER, 0, "external entries without a folder"},
        {EDIT_PATH_UP, 0, "a path up out of the folder"},
        {EDIT_PATH_ABS, 0, "an absolute path"},
        {EDIT_PATH_EMPTY_PART, 0, "a path with an empty part"},
        {EDIT_FOLDER_UP, 0, "folder .."},
        {EDIT_FOLDER_TWO, 0, "a folder of two parts"},
        {EDIT_FOLDER_UNTERMINATED, 0, "an unterminated folder name"},
        {EDIT_FOLDER_OUTSIDE, 0, "a folder name outside the strings"},
    };
    int ext_fd = temp_fd(), data_fd = temp_fd();
    size_t size, i;
    uint8_t *file = external_bundle(ext_fd, data_fd, &size);

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_open(file, size, cases[i].edit, cases[i].accept,
                    cases[i].what);
    free(file);
    close(ext_fd);
    close(data_fd);
}

/* ---- the emitter --------------------------------------------------------- */

/* A plan of: module "mod", extension "pkg._native" (the fixture library,
 * to strip) and data "res/data.txt", added in the order perm gives, with
 * every kind that can be placed outside placed so (the module kind too,
 * which the plan must ignore). */
static void plan_fill(plan *p, const int perm[3])
{
    const struct {
        unsigned kind;
        const char *name, *location;
        const kl_buf *file; /* or the bytes of `code` */
    } specs[3] = {
        {BUNDLE_KIND_MODULE, "mod", "mod.py", NULL},
        {BUNDLE_KIND_EXTENSION, "pkg._native", "pkg/_native.so", &lib},
        {BUNDLE_KIND_DATA, "res/data.txt", "res/data.txt", &datafile},
    };
    plan_entry *e;
    kl_err err;
    int i, ok = 1;

    for (i = 0; ok && i < 3; i++) {
        int k = perm[i];

        ok = plan_add(p, specs[k].kind, specs[k].name, specs[k].location,
                      NULL, &e, &err) == 0 &&
             (specs[k].file
                  ? plan_part_file(&e->data, specs[k].file->s, 3, &err)
                  : plan_part_copy(&e->data, code, sizeof code, 0, &err)) == 0;
        if (ok)
            e->strip = specs[k].kind == BUNDLE_KIND_EXTENSION;
    }
    ok = ok && plan_set_run(p, BUNDLE_RUN_SCRIPT, "", 0x030b07f0u, &err) == 0 &&
         plan_finish(p, &err) == 0;
    plan_place_outside(p, (1u << BUNDLE_KIND_EXTENSION) |
                              (1u << BUNDLE_KIND_DATA) |
                              (1u << BUNDLE_KIND_MODULE));
    if (!CHECKF(ok, "filling the plan: %s", err.msg))
        exit(2);
}

/* Emit the test plan (entries in order perm) as folder program `out`
 * with executable "prog"; returns what emit_onedir returned, err set. */
static int emit(const char *out, const int perm[3], const emit_replace *rep,
                kl_err *err)
{
    static const emit_replace none = {0, NULL, 0};
    plan p;
    int r;

    plan_init(&p);
    plan_fill(&p, perm);
    err->msg[0] = 0;
    r = emit_onedir(&p, stub.s, out, "prog", rep ? rep : &none, err);
    plan_free(&p);
    return r;
}

/* Compare the file rel below directories a and b byte for byte, and their
 * modes. */
static int same_file(const char *a, const char *b, const char *rel)
{
    kl_buf pa = KL_BUF_INIT, pb = KL_BUF_INIT;
    size_t na, nb;
    uint8_t *ba, *bb;
    struct stat sa, sb;
    int same;

    kl_path_join(&pa, a, rel);
    kl_path_join(&pb, b, rel);
    ba = file_slurp(pa.s, &na);
    bb = file_slurp(pb.s, &nb);
    same = na == nb && memcmp(ba, bb, na) == 0 && stat(pa.s, &sa) == 0 &&
           stat(pb.s, &sb) == 0 && sa.st_mode == sb.st_mode;
    free(ba);
    free(bb);
    kl_buf_free(&pa);
    kl_buf_free(&pb);
    return same;
}

/* Names in directory d (hidden ones too: temporaries), sorted and joined
 * with spaces ("" when it cannot be read). */
static char *listing(const char *d)
{
    struct dirent **list;
    kl_buf b = KL_BUF_INIT;
    int n = scandir(d, &list, NULL, alphasort), i;

    for (i = 0; i < n; i++) {
        if (strcmp(list[i]->d_name, ".") != 0 &&
            strcmp(list[i]->d_name, "..") != 0) {
            if (b.len)
                kl_buf_adds(&b, " ");
            kl_buf_adds(&b, list[i]->d_name);
        }
        free(list[i]);
    }
    if (n >= 0)
        free(list);
    return kl_buf_detach(&b);
}

/* Check that listing(d) is want. */
#define CHECK_LISTING(d, want)                                                 \
    do {                                                                       \
        char *got_ = listing(d);                                               \
        CHECKF(strcmp(got_, want) == 0, "%s holds '%s', not '%s'", d, got_,    \
               want);                                                          \
        free(got_);                                                            \
    } while (0)

static void test_layout_and_same_bytes(void)
{
    static const int perms[2][3] = {{0, 1, 2}, {2, 1, 0}};
    static const char *const files[] = {"prog", "_internal/pkg/_native.so",
                                        "_internal/res/data.txt"};
    kl_buf a = KL_BUF_INIT, b = KL_BUF_INIT, x = KL_BUF_INIT;
    size_t n, lsize, i;
    uint64_t loadable = 0;
    uint8_t *got, *want;
    elf_info info;
    kl_err err;

    kl_buf_setf(&a, "%s/one/app", dir);
    kl_buf_setf(&b, "%s/two/app/", dir); /* a trailing slash is fine */
    if (!CHECKF(emit(a.s, perms[0], NULL, &err) == 0, "%s", err.msg) ||
        !CHECKF(emit(b.s, perms[1], NULL, &err) == 0, "%s", err.msg))
        goto out;
    CHECK_LISTING(a.s, "_internal prog");
    kl_buf_setf(&x, "%s/_internal", a.s);
    CHECK_LISTING(x.s, "pkg res");
    kl_buf_setf(&x, "%s/one", dir);
    CHECK_LISTING(x.s, "app"); /* no temporary left beside it */
    for (i = 0; i < sizeof files / sizeof files[0]; i++)
        CHECKF(same_file(a.s, b.s, files[i]), "%s differs", files[i]);
    /* the module stays inside although the plan placed it outside: only
     * kinds whose data is a whole file can be placed so */
    kl_buf_setf(&x, "%s/_internal/mod.py", a.s);
    CHECK(access(x.s, F_OK) < 0);
    /* the extension module: the fixture cut to what the loader reads */
    kl_buf_setf(&x, "%s/_internal/pkg/_native.so", a.s);
    got = file_slurp(x.s, &n);
    want = file_slurp(lib.s, &lsize);
    if (CHECK(elf_read(want, lsize, &info, &err) == 0)) {
        loadable = info.loadable_size;
        CHECK(n == loadable && n < lsize &&
              memcmp(got + ELF_HEADER_SIZE, want + ELF_HEADER_SIZE,
                     n - ELF_HEADER_SIZE) == 0);
        elf_info_free(&info);
    }
    free(got);
    free(want);
    /* the executable indexes both files, and finds itself */
    CHECK(emit_folder_program_exe(a.s, &x, &err) == 0 &&
          strstr(x.s, "/one/app/prog") != NULL);
    {
        kl_buf exe = KL_BUF_INIT;
        uint8_t *file;
        bundle_view v;
        const bundle_entry *e;

        kl_buf_setf(&exe, "%s/prog", a.s);
        file = file_slurp(exe.s, &n);
        if (CHECKF(bundle_open(&v, file, n, &err) == 0, "%s", err.msg)) {
            CHECK(strcmp(bundle_folder(&v), EMIT_FOLDER) == 0);
            e = bundle_find(&v, BUNDLE_NS_MODULE, "pkg._native", 11);
            CHECK(e && (e->flags & BUNDLE_FLAG_EXTERNAL) &&
                  e->data_size == loadable);
            e = bundle_find(&v, BUNDLE_NS_FILE, "res/data.txt", 12);
            CHECK(e && (e->flags & BUNDLE_FLAG_EXTERNAL) &&
                  e->data_size == sizeof data_bytes);
            e = bundle_find(&v, BUNDLE_NS_MODULE, "mod", 3);
            CHECK(e && !(e->flags & BUNDLE_FLAG_EXTERNAL));
        }
        free(file);
        kl_buf_free(&exe);
    }
out:
    kl_buf_free(&a);
    kl_buf_free(&b);
    kl_buf_free(&x);
}

static void test_replace_rules(void)
{
    static const int perm[3] = {0, 1, 2};
    kl_buf out = KL_BUF_INIT, x = KL_BUF_INIT;
    const char *inputs[1];
    emit_replace force = {1, NULL, 0}, keep = {1, inputs, 1};
    kl_err err;
    size_t n;
    uint8_t *b;

    kl_buf_setf(&out, "%s/rep", dir);
    /* a directory of someone else's: refused, untouched; --force replaces */
    mkdir(out.s, 0777);
    kl_buf_setf(&x, "%s/notes.txt", out.s);
    file_put(x.s, "mine", 4);
    CHECK(emit(out.s, perm, NULL, &err) < 0 && strstr(err.msg, "notes.txt") &&
          strstr(err.msg, "--force"));
    b = file_slurp(x.s, &n);
    CHECK(n == 4 && memcmp(b, "mine", 4) == 0);
    free(b);
    CHECKF(emit(out.s, perm, &force, &err) == 0, "%s", err.msg);
    CHECK_LISTING(out.s, "_internal prog");
    /* a folder program kiln wrote is replaced, also after a file in it
     * was edited or removed */
    kl_buf_setf(&x, "%s/_internal/res/data.txt", out.s);
    file_put(x.s, "edited", 6);
    kl_buf_setf(&x, "%s/_internal/pkg/_native.so", out.s);
    unlink(x.s);
    CHECKF(emit(out.s, perm, NULL, &err) == 0, "%s", err.msg);
    CHECK(access(x.s, F_OK) == 0);
    /* ... but not when a file was added to it */
    kl_buf_setf(&x, "%s/_internal/pkg/extra.txt", out.s);
    file_put(x.s, "mine", 4);
    CHECK(emit(out.s, perm, NULL, &err) < 0 &&
          strstr(err.msg, "_internal/pkg/extra.txt"));
    CHECK(access(x.s, F_OK) == 0);
    /* never a path that holds an input, even with force */
    inputs[0] = x.s;
    CHECK(emit(out.s, perm, &keep, &err) < 0 &&
          strstr(err.msg, "this build reads"));
    /* the plan's own files are inputs too */
    kl_buf_setf(&out, "%s/libdir", dir);
    CHECKF(emit(out.s, perm, &force, &err) < 0 &&
               strstr(err.msg, "this build reads"),
           "%s", err.msg);
    CHECK(access(lib.s, F_OK) == 0);
    CHECK(access(x.s, F_OK) == 0);
    /* a regular file: refused; force replaces it */
    kl_buf_setf(&out, "%s/afile", dir);
    file_put(out.s, "mine", 4);
    CHECK(emit(out.s, perm, NULL, &err) < 0 && strstr(err.msg, "--force"));
    CHECK(kl_is_file(out.s));
    CHECKF(emit(out.s, perm, &force, &err) == 0, "%s", err.msg);
    CHECK(kl_is_dir(out.s));
    /* names that cannot be */
    CHECK(emit(".", perm, &force, &err) < 0);
    kl_buf_setf(&out, "%s/..", dir);
    CHECK(emit(out.s, perm, &force, &err) < 0);
    {
        plan p;
        static const emit_replace none = {0, NULL, 0};

        plan_init(&p);
        plan_fill(&p, perm);
        kl_buf_setf(&out, "%s/badname", dir);
        CHECK(emit_onedir(&p, stub.s, out.s, EMIT_FOLDER, &none, &err) < 0);
        CHECK(emit_onedir(&p, stub.s, out.s, "a/b", &none, &err) < 0);
        CHECK(access(out.s, F_OK) < 0);
        plan_free(&p);
    }
    /* a source gone by the time it is written: an error, the previous
     * program untouched, no temporary left */
    kl_buf_setf(&out, "%s/rep", dir);
    kl_buf_setf(&x, "%s/_internal/pkg/extra.txt", out.s);
    unlink(x.s);
    {
        plan p;
        static const emit_replace none = {0, NULL, 0};

        plan_init(&p);
        plan_fill(&p, perm);
        CHECK(plan_part_file(&p.entries[2].data, "/nonexistent/kiln/file", 0,
                             &err) == 0);
        err.msg[0] = 0;
        CHECK(emit_onedir(&p, stub.s, out.s, "other", &none, &err) < 0 &&
              strstr(err.msg, "/nonexistent/kiln/file"));
        plan_free(&p);
    }
    CHECK_LISTING(out.s, "_internal prog");
    CHECK_LISTING(dir, "afile data.txt libdir one rep stub two");
    kl_buf_free(&out);
    kl_buf_free(&x);
}

/* The files every test uses, in dir: a stub (not a real one: the
 * emitter only copies it), a data file and a copy of the fixture library
 * (a test of what must never be replaced may put only its own files at
 * risk). */
static void make_inputs(const char *fixtures)
{
    static const char fake_stub[] = "\177ELF a stub that is not one";
    kl_buf fixture = KL_BUF_INIT;
    size_t n;
    uint8_t *bytes;

    kl_path_join(&stub, dir, "stub");
    file_put(stub.s, fake_stub, sizeof fake_stub - 1);
    kl_path_join(&datafile, dir, "data.txt");
    file_put(datafile.s, data_bytes, sizeof data_bytes);
    kl_buf_setf(&lib, "%s/libdir", dir);
    mkdir(lib.s, 0777);
    kl_buf_adds(&lib, "/libkltest.so");
    kl_buf_setf(&fixture, "%s/libkltest.so", fixtures);
    bytes = file_slurp(fixture.s, &n);
    file_put(lib.s, bytes, n);
    free(bytes);
    kl_buf_free(&fixture);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_onedir FIXTURES_DIR\n");
        return 2;
    }
    tmp_dir_make(dir);
    make_inputs(argv[1]);

    test_external_round_trip();
    test_writer_refuses();
    test_hostile_external();
    test_layout_and_same_bytes();
    test_replace_rules();

    tmp_dir_remove(dir);
    kl_buf_free(&stub);
    kl_buf_free(&datafile);
    kl_buf_free(&lib);
    return check_summary();
}
