/*
 * test_files.c: unit tests of a one-file program's tree (rt_files.c) over
 * a bundle written by the bundle writer: which paths it claims, what stat,
 * access, open and the directory listings give, the errors a read-only
 * file system gives, the source flag that tells an empty source from
 * none, and the per-user cache (package trees, single objects, what a
 * writer killed there leaves). Checks as in check.h.
 *
 * Usage: test_files FIXTURES_DIR (unused)
 */
#include "../../src/runtime/rt_files.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#define ROOT "/opt/app/prog"

static const char src_mod[] = "X = 1\n";
static const char ext_bytes[] = "\177ELF pretend shared object";
static const char data_a[] = "hello data\n";
static const char data_b[] = "bee\n";
static const char meta[] = "Metadata-Version: 2.1\nName: pkg\n";
static const char code[] = "bytecode";

/* One entry to write: kind, name, path, data and source (NULL: none). */
typedef struct test_entry {
    unsigned kind;
    const char *name, *path, *data, *source;
} test_entry;

/* In bundle_entry_order: modules, then files, each by name. */
static const test_entry entries[] = {
    {BUNDLE_KIND_MODULE, "__main__", "app.py", code, "print(1)\n"},
    {BUNDLE_KIND_NAMESPACE, "ns", "ns", NULL, NULL},
    {BUNDLE_KIND_MODULE, "ns.m", "ns/m.py", code, src_mod},
    {BUNDLE_KIND_PACKAGE, "pkg", "pkg/__init__.py", code, ""},
    {BUNDLE_KIND_EXTENSION, "pkg._ext", "pkg/_ext.cpython-311-x86_64-linux-gnu.so",
     ext_bytes, NULL},
    {BUNDLE_KIND_MODULE, "pkg.mod", "pkg/mod.py", code, src_mod},
    {BUNDLE_KIND_MODULE, "pkg.nosrc", "pkg/nosrc.py", code, NULL},
    {BUNDLE_KIND_PACKAGE, "pkg.sub", "pkg/sub/__init__.py", code, NULL},
    {BUNDLE_KIND_SHLIB, "libx.so.1", "pkg.libs/libx.so.1", ext_bytes, NULL},
    {BUNDLE_KIND_METADATA, "pkg-1.0.dist-info/METADATA",
     "pkg-1.0.dist-info/METADATA", meta, NULL},
    {BUNDLE_KIND_PKGDATA, "pkg/data/a.txt", "pkg/data/a.txt", data_a, NULL},
    {BUNDLE_KIND_PKGDATA, "pkg/data/sub/b.txt", "pkg/data/sub/b.txt", data_b,
     NULL},
};
#define N_ENTRIES (sizeof entries / sizeof entries[0])

static bundle_view view;

/* Write the bundle of `entries` to a deleted temporary file and open it
 * in place; exits on failure. */
static void make_bundle(void)
{
    char name[] = "/tmp/kiln-test-files-XXXXXX";
    bundle_writer *w = bundle_writer_new();
    int fd = mkstemp(name);
    kl_err err;
    kl_map m;
    size_t i;
    int ok = w != NULL && fd >= 0;

    for (i = 0; ok && i < N_ENTRIES; i++)
        ok = bundle_writer_add(w, entries[i].kind, entries[i].name,
                               entries[i].path, &err) == 0;
    ok = ok &&
         bundle_writer_set_run(w, BUNDLE_RUN_SCRIPT, "", 0x030b07f0u, &err) == 0 &&
         bundle_writer_begin(w, fd, 0, &err) == 0;
    for (i = 0; ok && i < N_ENTRIES; i++) {
        const test_entry *t = &entries[i];
        bundle_source d = {t->data, -1, t->data ? strlen(t->data) : 0,
                           NULL, 0, i % 2 ? 3 : 0, NULL, 0};
        bundle_source s = {t->source, -1, t->source ? strlen(t->source) : 0,
                           NULL, 0, 0, NULL, 0};

        ok = bundle_writer_put(w, t->data ? &d : NULL, t->source ? &s : NULL,
                               &err) == 0;
    }
    ok = ok && bundle_writer_finish(w, &err) == 0;
    bundle_writer_free(w);
    if (!CHECKF(ok, "writing: %s", err.msg) ||
        !CHECKF(kl_map_file(name, &m, &err) == 0, "%s", err.msg) ||
        !CHECKF(bundle_open(&view, m.data, m.size, &err) == 0, "%s", err.msg))
        exit(2);
    unlink(name);
    close(fd);
}

/* The source flag: set for modules and packages written with a source,
 * even an empty one; never for others. */
static void test_source_flag(void)
{
    size_t i;

    for (i = 0; i < N_ENTRIES; i++) {
        const bundle_entry *e =
            bundle_find(&view, bundle_kind_ns(entries[i].kind),
                        entries[i].name, strlen(entries[i].name));

        if (CHECKF(e != NULL, "%s", entries[i].name))
            CHECKF(!(e->flags & BUNDLE_FLAG_SOURCE) ==
                       (entries[i].source == NULL),
                   "%s", entries[i].name);
    }
}

static void test_claims(void)
{
    CHECK(rt_files_claims(ROOT "/pkg"));
    CHECK(rt_files_claims(ROOT "/"));
    CHECK(rt_files_claims(ROOT "/nope/../pkg/./data"));
    CHECK(rt_files_claims(ROOT "//pkg"));
    CHECK(!rt_files_claims(ROOT));
    CHECK(!rt_files_claims(ROOT "x/pkg"));
    CHECK(!rt_files_claims(ROOT "/.."));
    CHECK(!rt_files_claims(ROOT "/pkg/../../x"));
    CHECK(!rt_files_claims("/opt/app"));
    CHECK(!rt_files_claims("pkg/mod.py"));
    CHECK(!rt_files_claims(NULL));
}

/* stat(path): 0 and type/size, or the errno. */
static void check_stat(const char *path, int err_want, mode_t type,
                       off_t size, int line)
{
    struct stat st;
    int r;

    errno = 0;
    r = rt_files_stat(path, &st);
    if (err_want) {
        check_at(r == -1 && errno == err_want, __FILE__, line, path,
                 "r %d errno %d, want %d", r, errno, err_want);
        return;
    }
    if (!check_at(r == 0, __FILE__, line, path, "errno %d", errno))
        return;
    check_at((st.st_mode & S_IFMT) == type, __FILE__, line, path,
             "mode %o", (unsigned)st.st_mode);
    if (type == S_IFREG)
        check_at(st.st_size == size && (st.st_mode & 0777) == 0444, __FILE__,
                 line, path, "size %lld", (long long)st.st_size);
    else
        check_at((st.st_mode & 0777) == 0555, __FILE__, line, path, "mode");
}
#define STAT_FILE(p, n) check_stat(ROOT p, 0, S_IFREG, n, __LINE__)
#define STAT_DIR(p) check_stat(ROOT p, 0, S_IFDIR, 0, __LINE__)
#define STAT_FAILS(p, e) check_stat(ROOT p, e, 0, 0, __LINE__)

static void test_stat(void)
{
    STAT_DIR("/");
    STAT_DIR("/pkg");
    STAT_DIR("/pkg/");
    STAT_DIR("/pkg/data");
    STAT_DIR("/pkg/data/sub");
    STAT_DIR("/pkg/sub");
    STAT_DIR("/ns");
    STAT_DIR("/pkg-1.0.dist-info");
    STAT_FILE("/pkg/data/a.txt", (off_t)strlen(data_a));
    STAT_FILE("/pkg/./data/../data/sub/b.txt", (off_t)strlen(data_b));
    STAT_FILE("/pkg/mod.py", (off_t)strlen(src_mod));
    STAT_FILE("/pkg/__init__.py", 0);
    STAT_FILE("/ns/m.py", (off_t)strlen(src_mod));
    STAT_FILE("/app.py", 9);
    STAT_FILE("/pkg/_ext.cpython-311-x86_64-linux-gnu.so",
              (off_t)strlen(ext_bytes));
    STAT_FILE("/pkg-1.0.dist-info/METADATA", (off_t)strlen(meta));
    STAT_FAILS("/pkg/nosrc.py", ENOENT);
    STAT_FAILS("/pkg/sub/__init__.py", ENOENT);
    STAT_FAILS("/pkg/mod.pyc", ENOENT);
    STAT_FAILS("/pkg/data/nope", ENOENT);
    STAT_FAILS("/nope/x", ENOENT);
    STAT_FAILS("/pkg/data/a.txt/x", ENOTDIR);
    STAT_FAILS("/pkg/data/a.txt/", ENOTDIR);
    STAT_FAILS("/pkg/mod.py/x/y", ENOTDIR);
    STAT_FAILS("/pkg.mod", ENOENT);
    STAT_FAILS("/pkg/data/a", ENOENT);
}

/* The names a listing of path gives, joined with spaces. */
static char *listing(const char *path)
{
    rt_files_dir *d = rt_files_opendir(path);
    kl_buf b = KL_BUF_INIT;
    struct dirent *e;

    if (d == NULL)
        return NULL;
    while ((e = rt_files_readdir(d)) != NULL) {
        if (b.len)
            kl_buf_add(&b, " ", 1);
        kl_buf_adds(&b, e->d_name);
        kl_buf_adds(&b, e->d_type == DT_DIR ? "/" : "");
    }
    rt_files_closedir(d);
    return kl_buf_detach(&b);
}

static void check_listing(const char *path, const char *want, int line)
{
    char *got = listing(path);

    check_at(got && strcmp(got, want) == 0, __FILE__, line, path,
             "got '%s', want '%s'", got ? got : strerror(errno), want);
    free(got);
}
#define LISTING(p, w) check_listing(ROOT p, w, __LINE__)

static void test_listing(void)
{
    rt_files_dir *d;

    LISTING("/", "./ ../ app.py ns/ pkg/ pkg-1.0.dist-info/");
    LISTING("/pkg", "./ ../ __init__.py _ext.cpython-311-x86_64-linux-gnu.so "
                    "data/ mod.py sub/");
    LISTING("/pkg/data/", "./ ../ a.txt sub/");
    LISTING("/pkg/data/sub", "./ ../ b.txt");
    LISTING("/pkg/sub", "./ ../");
    LISTING("/ns", "./ ../ m.py");
    LISTING("/pkg-1.0.dist-info", "./ ../ METADATA");
    errno = 0;
    CHECK(rt_files_opendir(ROOT "/pkg/mod.py") == NULL && errno == ENOTDIR);
    errno = 0;
    CHECK(rt_files_opendir(ROOT "/nope") == NULL && errno == ENOENT);
    /* inode numbers agree with stat's; rewinding starts over */
    d = rt_files_opendir(ROOT "/pkg/data");
    if (CHECK(d != NULL)) {
        struct dirent *e;
        struct stat st;
        int seen = 0;

        while ((e = rt_files_readdir(d)) != NULL)
            if (strcmp(e->d_name, "a.txt") == 0 &&
                CHECK(rt_files_stat(ROOT "/pkg/data/a.txt", &st) == 0))
                seen = CHECK(st.st_ino == e->d_ino);
        CHECK(seen);
        rt_files_rewinddir(d);
        e = rt_files_readdir(d);
        CHECK(e && strcmp(e->d_name, ".") == 0);
        rt_files_closedir(d);
    }
}

/* open(path, flags) reads want, or fails with err_want. */
static void check_open(const char *path, int flags, const char *want,
                       int err_want, int line)
{
    char buf[128];
    ssize_t n;
    int fd;

    errno = 0;
    fd = rt_files_open(path, flags);
    if (want == NULL) {
        check_at(fd == -1 && errno == err_want, __FILE__, line, path,
                 "fd %d errno %d, want %d", fd, errno, err_want);
        if (fd >= 0)
            close(fd);
        return;
    }
    if (!check_at(fd >= 0, __FILE__, line, path, "errno %d", errno))
        return;
    n = read(fd, buf, sizeof buf);
    check_at(n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0,
             __FILE__, line, path, "read %zd bytes", n);
    check_at(write(fd, "x", 1) == -1, __FILE__, line, path, "writable");
    check_at(!!(fcntl(fd, F_GETFD) & FD_CLOEXEC) == !!(flags & O_CLOEXEC),
             __FILE__, line, path, "close-on-exec");
    close(fd);
}
#define OPEN_READS(p, f, w) check_open(ROOT p, f, w, 0, __LINE__)
#define OPEN_FAILS(p, f, e) check_open(ROOT p, f, NULL, e, __LINE__)

static void test_open(void)
{
    OPEN_READS("/pkg/data/a.txt", O_RDONLY, data_a);
    OPEN_READS("/pkg/data/sub/b.txt", O_RDONLY | O_CLOEXEC, data_b);
    OPEN_READS("/pkg/mod.py", O_RDONLY | O_CLOEXEC, src_mod);
    OPEN_READS("/pkg/__init__.py", O_RDONLY, "");
    OPEN_READS("/pkg/_ext.cpython-311-x86_64-linux-gnu.so", O_RDONLY,
               ext_bytes);
    OPEN_FAILS("/pkg/data/a.txt", O_WRONLY, EROFS);
    OPEN_FAILS("/pkg/data/a.txt", O_RDWR, EROFS);
    OPEN_FAILS("/pkg/data/a.txt", O_RDONLY | O_TRUNC, EROFS);
    OPEN_FAILS("/pkg/data/new.txt", O_WRONLY | O_CREAT, EROFS);
    OPEN_FAILS("/pkg/data/a.txt", O_RDONLY | O_CREAT | O_EXCL, EEXIST);
    OPEN_FAILS("/pkg/data", O_RDONLY, EISDIR);
    OPEN_FAILS("/pkg/data", O_RDONLY | O_DIRECTORY, ENOTSUP);
    OPEN_FAILS("/pkg/data/a.txt", O_RDONLY | O_DIRECTORY, ENOTDIR);
    OPEN_FAILS("/pkg/data/nope", O_RDONLY, ENOENT);
    OPEN_FAILS("/pkg/nosrc.py", O_RDONLY, ENOENT);
    OPEN_FAILS("/pkg/data/a.txt/x", O_RDONLY, ENOTDIR);
}

/* What dlopen() of a path under the program loads: a file, an extension
 * module's shared object, a carried library at its location. */
static void test_object(void)
{
    const bundle_entry *e;

    CHECK(rt_files_object(ROOT "/pkg/_ext.cpython-311-x86_64-linux-gnu.so",
                          &e) == 1 &&
          strcmp(bundle_entry_name(&view, e), "pkg._ext") == 0);
    CHECK(rt_files_object(ROOT "/pkg/data/../data/a.txt", &e) == 1 &&
          strcmp(bundle_entry_name(&view, e), "pkg/data/a.txt") == 0);
    CHECK(rt_files_object(ROOT "/pkg.libs/libx.so.1", &e) == 1 &&
          strcmp(bundle_entry_name(&view, e), "libx.so.1") == 0);
    CHECK(rt_files_object(ROOT "/libx.so.1", &e) == 0 && errno == ENOENT &&
          e == NULL);
    CHECK(rt_files_object(ROOT "/pkg/mod.py", &e) == 0 && errno == ENOEXEC);
    CHECK(rt_files_object(ROOT "/pkg/data", &e) == 0 && errno == EISDIR);
    CHECK(rt_files_object(ROOT "/pkg/none.so", &e) == 0 && errno == ENOENT);
    CHECK(rt_files_object(ROOT "/pkg/data/a.txt/x", &e) == 0 &&
          errno == ENOTDIR);
    /* the tree itself does not list or open carried libraries */
    OPEN_FAILS("/pkg.libs/libx.so.1", O_RDONLY, ENOENT);
}

static void test_changes(void)
{
    errno = 0;
    CHECK(rt_files_access(ROOT "/pkg/data/a.txt", R_OK) == 0);
    CHECK(rt_files_access(ROOT "/pkg/data", R_OK | X_OK) == 0);
    CHECK(rt_files_access(ROOT "/pkg/data/a.txt", W_OK) == -1 &&
          errno == EROFS);
    CHECK(rt_files_access(ROOT "/pkg/data/a.txt", X_OK) == -1 &&
          errno == EACCES);
    CHECK(rt_files_access(ROOT "/pkg/nope", F_OK) == -1 && errno == ENOENT);
    CHECK(rt_files_mkdir(ROOT "/pkg/data") == -1 && errno == EEXIST);
    CHECK(rt_files_mkdir(ROOT "/pkg/new") == -1 && errno == EROFS);
    CHECK(rt_files_remove(ROOT "/pkg/data/a.txt") == -1 && errno == EROFS);
    CHECK(rt_files_remove(ROOT "/pkg/data/nope") == -1 && errno == ENOENT);
}

/* The contents of real file path, or NULL. */
static char *file_text(const char *path)
{
    uint8_t *b;
    size_t n;
    kl_err err;
    char *s;

    if (kl_read_file(path, &b, &n, &err) < 0)
        return NULL;
    s = strndup((const char *)b, n);
    free(b);
    return s;
}

/* Remove the test's cache directory tmp and everything in it. */
static void remove_tree(const char *tmp)
{
    kl_buf cmd = KL_BUF_INIT;

    if (kl_buf_setf(&cmd, "rm -rf '%s'", tmp) == 0 && system(cmd.s) != 0)
        fprintf(stderr, "test_files: could not remove %s\n", tmp);
    kl_buf_free(&cmd);
}

/* A package directory of the tree becomes real files in a private cache,
 * written once, checked and rewritten when changed. */
static void test_cache(void)
{
    char tmp[] = "/tmp/kiln-test-cache-XXXXXX";
    kl_buf dir = KL_BUF_INIT, f = KL_BUF_INIT;
    struct stat st;
    kl_err err;
    char *text;

    if (!CHECK(mkdtemp(tmp) != NULL))
        return;
    setenv("XDG_CACHE_HOME", tmp, 1);
    if (!CHECKF(rt_cache_tree(ROOT, "pkg", &dir, &err) == 0, "%s", err.msg))
        goto out;
    CHECKF(strncmp(dir.s, tmp, strlen(tmp)) == 0 &&
               strcmp(strrchr(dir.s, '/'), "/pkg") == 0, "%s", dir.s);
    kl_path_join(&f, dir.s, "data/sub/b.txt");
    text = file_text(f.s);
    CHECK(text && strcmp(text, data_b) == 0);
    free(text);
    kl_path_join(&f, dir.s, "mod.py");
    text = file_text(f.s);
    CHECK(text && strcmp(text, src_mod) == 0);
    free(text);
    kl_path_join(&f, dir.s, "nosrc.py");
    CHECK(stat(f.s, &st) < 0);
    kl_path_join(&f, dir.s, "_ext.cpython-311-x86_64-linux-gnu.so");
    CHECK(stat(f.s, &st) == 0 && (st.st_mode & 0777) == 0700);
    kl_path_join(&f, dir.s, "data/a.txt");
    CHECK(stat(f.s, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* changed behind the program's back: written again */
    kl_file_replace(f.s, "bad", 3, 0600, &err);
    CHECK(rt_cache_tree(ROOT, "pkg", &dir, &err) == 0);
    text = file_text(f.s);
    CHECK(text && strcmp(text, data_a) == 0);
    free(text);
    /* a cache others may write is refused */
    kl_buf_setf(&f, "%s/kiln/files", tmp);
    chmod(f.s, 0777);
    CHECK(rt_cache_tree(ROOT, "pkg", &dir, &err) == -1 &&
          strstr(err.msg, "not private") != NULL);
out:
    remove_tree(tmp);
    kl_buf_free(&dir);
    kl_buf_free(&f);
}

/* Make tmp the user's cache (XDG_CACHE_HOME) and put the object
 * libx.so.1 (data_a) in it, its path in *path. 0, or -1 after a failed
 * check. */
static int first_object(const char *tmp, kl_buf *path)
{
    kl_err err;

    setenv("XDG_CACHE_HOME", tmp, 1);
    return CHECKF(rt_cachedir_object("natives", "libx.so.1", data_a,
                                     strlen(data_a), 0500, path, &err) == 0,
                  "%s", err.msg)
               ? 0
               : -1;
}

/* One object in the cache: written once under a directory named by its
 * digest, used as it is later, rewritten when changed, refused in a cache
 * others may write. */
static void test_cache_object(void)
{
    char tmp[] = "/tmp/kiln-test-cacheobj-XXXXXX";
    kl_buf path = KL_BUF_INIT, again = KL_BUF_INIT, other = KL_BUF_INIT,
           f = KL_BUF_INIT;
    struct stat st, st2;
    kl_err err;
    char *text;

    if (!CHECK(mkdtemp(tmp) != NULL))
        return;
    if (first_object(tmp, &path) < 0)
        goto out;
    kl_buf_setf(&f, "%s/kiln/natives/", tmp);
    CHECKF(strncmp(path.s, f.s, f.len) == 0 &&
               strlen(path.s) == f.len + 16 + strlen("/libx.so.1") &&
               strcmp(strrchr(path.s, '/'), "/libx.so.1") == 0, "%s", path.s);
    text = file_text(path.s);
    CHECK(text && strcmp(text, data_a) == 0);
    free(text);
    CHECK(stat(path.s, &st) == 0 && (st.st_mode & 0777) == 0500);
    /* there: used as it is */
    CHECK(rt_cachedir_object("natives", "libx.so.1", data_a, strlen(data_a),
                             0500, &again, &err) == 0 &&
          strcmp(again.s, path.s) == 0 && stat(path.s, &st2) == 0 &&
          st2.st_ino == st.st_ino);
    /* other bytes or another name: another directory */
    CHECK(rt_cachedir_object("natives", "libx.so.1", data_b, strlen(data_b),
                             0500, &other, &err) == 0 &&
          strcmp(other.s, path.s) != 0);
    CHECK(rt_cachedir_object("natives", "liby.so.1", data_a, strlen(data_a),
                             0500, &other, &err) == 0 &&
          strcmp(other.s, path.s) != 0);
    /* changed behind the program's back: written again */
    chmod(path.s, 0700);
    kl_file_replace(path.s, "bad bytes, same size", strlen(data_a), 0700, &err);
    CHECK(rt_cachedir_object("natives", "libx.so.1", data_a, strlen(data_a),
                             0500, &again, &err) == 0 &&
          strcmp(again.s, path.s) == 0);
    text = file_text(path.s);
    CHECK(text && strcmp(text, data_a) == 0);
    free(text);
    /* a cache others may write is refused */
    kl_buf_setf(&f, "%s/kiln/natives", tmp);
    chmod(f.s, 0777);
    CHECK(rt_cachedir_object("natives", "libx.so.1", data_a, strlen(data_a),
                             0500, &again, &err) == -1 &&
          strstr(err.msg, "not private") != NULL);
out:
    remove_tree(tmp);
    kl_buf_free(&path);
    kl_buf_free(&again);
    kl_buf_free(&other);
    kl_buf_free(&f);
}

/* The temporary names a writer killed in the cache leaves (a partial
 * copy, a damaged entry half removed): kept by a run that only reads and
 * while another writer holds the cache directory's lock; removed, and
 * nothing else, by the next write with nobody else writing. */
static void test_cache_leftovers(void)
{
    char tmp[] = "/tmp/kiln-test-leftovers-XXXXXX";
    kl_buf path = KL_BUF_INIT, other = KL_BUF_INIT, base = KL_BUF_INIT,
           part = KL_BUF_INIT, bad = KL_BUF_INIT;
    struct stat st;
    kl_err err;
    int fd;

    if (!CHECK(mkdtemp(tmp) != NULL))
        return;
    if (first_object(tmp, &path) < 0)
        goto out;
    kl_buf_setf(&base, "%s/kiln/natives", tmp);
    kl_buf_setf(&part, "%s/.new-AbC123", base.s);
    kl_buf_setf(&bad, "%s/.bad-XyZ789", base.s);
    CHECK(mkdir(part.s, 0700) == 0 && mkdir(bad.s, 0700) == 0);
    kl_buf_adds(&part, "/libz.so.1");
    CHECK(kl_file_replace(part.s, "li", 2, 0500, &err) == 0);
    /* a run that only reads */
    CHECK(rt_cachedir_object("natives", "libx.so.1", data_a, strlen(data_a),
                             0500, &other, &err) == 0);
    CHECK(stat(part.s, &st) == 0 && stat(bad.s, &st) == 0);
    /* a write while another writer holds the lock */
    fd = open(base.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0 && flock(fd, LOCK_SH) == 0);
    CHECK(rt_cachedir_object("natives", "liby.so.1", data_a, strlen(data_a),
                             0500, &other, &err) == 0);
    CHECK(stat(part.s, &st) == 0 && stat(bad.s, &st) == 0);
    close(fd);
    /* the next write, nobody else writing */
    CHECKF(rt_cachedir_object("natives", "libz.so.1", data_b, strlen(data_b),
                              0500, &other, &err) == 0, "%s", err.msg);
    CHECK(stat(part.s, &st) < 0 && stat(bad.s, &st) < 0);
    CHECK(stat(path.s, &st) == 0 && stat(other.s, &st) == 0);
out:
    remove_tree(tmp);
    kl_buf_free(&path);
    kl_buf_free(&other);
    kl_buf_free(&base);
    kl_buf_free(&part);
    kl_buf_free(&bad);
}

int main(int argc, char **argv)
{
    struct stat st;

    (void)argc;
    (void)argv;
    /* nothing is claimed before the tree is mounted */
    CHECK(!rt_files_claims(ROOT "/pkg"));
    make_bundle();
    memset(&st, 0, sizeof st);
    rt_files_mount(&view, ROOT, ROOT, &st);
    test_source_flag();
    test_claims();
    test_stat();
    test_listing();
    test_open();
    test_object();
    test_changes();
    test_cache();
    test_cache_object();
    test_cache_leftovers();
    return check_summary();
}
