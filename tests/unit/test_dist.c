/*
 * test_dist.c: unit tests of what kiln reads from installed distributions
 * (src/freeze/fz_distfile.c, fz_dist.c), module names in native code
 * (fz_native.c) and package data (fz_pkgdata.c): damaged files yield
 * less, never a failure; owners are found by RECORD; and room in growable
 * arrays (kl_room, which their readers use). Checks as in check.h.
 */
#include "../../src/freeze/fz_dist.h"
#include "../../src/freeze/fz_native.h"
#include "../../src/freeze/fz_pkgdata.h"
#include "check.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/kiln-test-dist-XXXXXX";

/* Write text to root/rel, making its directories. */
static void put(const char *rel, const char *text)
{
    kl_buf path = KL_BUF_INIT;
    char *slash;
    FILE *f;

    kl_path_join(&path, root, rel);
    for (slash = strchr(path.s + strlen(root) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(path.s, 0755) < 0 && errno != EEXIST) {
            perror(path.s);
            exit(2);
        }
        *slash = '/';
    }
    f = fopen(path.s, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path.s);
        exit(2);
    }
    kl_buf_free(&path);
}

/* The list as one string "a|b|c", for comparisons (static buffer). */
static const char *joined(const kl_strv *l)
{
    static kl_buf b;
    size_t i;

    kl_buf_sets(&b, "");
    for (i = 0; i < l->n; i++) {
        if (i)
            kl_buf_adds(&b, "|");
        kl_buf_adds(&b, l->v[i]);
    }
    return b.s;
}

/* Check that parse(text) succeeds and gives the list want ("a|b"). */
static void check_list(int (*parse)(const char *, size_t, kl_strv *,
                                    kl_err *),
                       const char *text, const char *want)
{
    kl_strv l = KL_STRV_INIT;
    kl_err err;

    CHECK(parse(text, strlen(text), &l, &err) == 0);
    CHECKF(strcmp(joined(&l), want) == 0, "%s", joined(&l));
    kl_strv_free(&l);
}

static void test_room(void)
{
    long *v = NULL;
    size_t cap = 0, n;

    for (n = 0; n < 100; n++) {
        if (!CHECK(kl_room(&v, &cap, n, sizeof *v) == 0 && cap > n))
            break;
        v[n] = (long)n;
    }
    CHECK(n == 100 && v[99] == 99 && cap >= 100);
    free(v);
}

static void test_normalize(void)
{
    static const char *const cases[][2] = {
        {"PyYAML", "pyyaml"},
        {"charset_normalizer", "charset-normalizer"},
        {"zope.interface", "zope-interface"},
        {"A__b-.-C", "a-b-c"},
        {"", ""},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = fz_dist_normalize(cases[i][0], strlen(cases[i][0]));

        CHECKF(n && strcmp(n, cases[i][1]) == 0, "%s -> %s", cases[i][0],
               n ? n : "(null)");
        free(n);
    }
    CHECK(fz_dist_is_dotted("a.b_c.d9", 8));
    CHECK(!fz_dist_is_dotted("a..b", 4) && !fz_dist_is_dotted(".a", 2) &&
          !fz_dist_is_dotted("a.", 2) && !fz_dist_is_dotted("9a", 2) &&
          !fz_dist_is_dotted("a-b", 3) && !fz_dist_is_dotted("", 0));
}

static void test_record(void)
{
    static const char text[] =
        "click/__init__.py,sha256=abc,123\r\n"
        "\"odd,name.txt\",sha256=x,1\n"
        "\"quo\"\"te.txt\",,\n"
        "\"unterminated,,\n"
        "../../../bin/click,sha256=y,2\n"
        "/abs/path.py,,\n"
        "a/../b.py,,\n"
        ",,\n"
        "\n"
        "click-8.1.7.dist-info/RECORD,,\n"
        "last_without_newline.py";

    check_list(fz_dist_parse_record, text,
               "click/__init__.py|odd,name.txt|quo\"te.txt|"
               "click-8.1.7.dist-info/RECORD|last_without_newline.py");
    check_list(fz_dist_parse_record, "", "");
}

static void test_metadata(void)
{
    static const char text[] =
        "Metadata-Version: 2.1\n"
        "Name: Rich\n"
        "Requires-Dist: pygments (>=2.13.0,<3.0.0)\n"
        "Requires-Dist: Markdown_It.Py>=2.2.0\n"
        "Requires-Dist: typing-extensions>=4; python_version < \"3.11\"\n"
        "Requires-Dist: ipywidgets ; extra == \"jupyter\"\n"
        "Requires-Dist: pytest; python_version>='3' and extra=='test'\n"
        "Requires-Dist: colorama;\n"
        " platform_system == 'Windows'\n"
        "Requires-Dist: extras-helper\n"
        "Requires-Dist: [not a name]\n"
        "Broken header without colon\n"
        "\n"
        "Requires-Dist: in-the-body\n";
    kl_strv req = KL_STRV_INIT;
    char *name = NULL;
    kl_err err;

    CHECK(fz_dist_parse_metadata(text, sizeof text - 1, &name, &req,
                                 &err) == 0);
    CHECKF(name && strcmp(name, "Rich") == 0, "%s", name ? name : "(null)");
    fz_strv_sort_unique(&req);
    CHECKF(strcmp(joined(&req), "colorama|extras-helper|markdown-it-py|"
                                "pygments|typing-extensions") == 0,
           "%s", joined(&req));
    CHECK(fz_strv_has(&req, "pygments") && !fz_strv_has(&req, "pytest"));
    free(name);
    kl_strv_free(&req);
    CHECK(fz_dist_parse_metadata("no headers at all", 17, &name, &req,
                                 &err) == 0 &&
          name == NULL && req.n == 0);
}

/* fz_dist_headers' callback for test_headers: "key=value;" into a kl_buf. */
static int collect_header(void *ctx, const char *key, size_t klen,
                          const char *value, size_t vlen)
{
    return kl_buf_addf(ctx, "%.*s=%.*s;", (int)klen, key, (int)vlen, value);
}

static void test_headers(void)
{
    static const char text[] =
        "Name: x\r\n"
        "License: line one\r\n"
        "        line two\r\n"
        "no colon\r\n"
        "Empty:\r\n"
        "\r\n"
        "Body: not a header\n";
    kl_buf got = KL_BUF_INIT;

    CHECK(fz_dist_headers(text, sizeof text - 1, "|", collect_header,
                          &got) == 0);
    CHECKF(strcmp(got.s, "Name= x;License= line one|        line two;"
                         "Empty=;") == 0, "%s", got.s);
    got.len = 0;
    CHECK(fz_dist_headers("A: 1\n B", 8, "\n", collect_header, &got) == 0);
    CHECKF(strcmp(got.s, "A= 1\n B;") == 0, "%s", got.s);
    kl_buf_free(&got);
}

static void test_entry_points(void)
{
    static const char text[] =
        "[console_scripts]\n"
        "tool = pkg.cli:main\n"
        "[gui_scripts]\n"
        "gui = pkg.gui:main\n"
        "# a comment\n"
        "[sqlalchemy.dialects]\n"
        "  mydb = mydb.dialect:Dialect [extra]\n"
        "other=mydb.other\n"
        "bad = not-a-module:x\n"
        "noequals\n"
        "[pkg.plugins]\n"
        "p = pkg.plugins.p\n";

    check_list(fz_dist_parse_entry_points, text,
               "mydb.dialect sqlalchemy.dialects|"
               "mydb.other sqlalchemy.dialects|pkg.plugins.p pkg.plugins");
    check_list(fz_dist_parse_entry_points, "x = before.any:section\n"
               "[unclosed\ny = in.unclosed\n", "");
}

/* A site directory with a few distributions, as pip leaves them. */
static void make_site(void)
{
    put("site/click/__init__.py", "");
    put("site/click/core.py", "");
    put("site/click-8.1.7.dist-info/METADATA",
        "Name: click\nRequires-Dist: colorama; platform_system=='Windows'\n");
    put("site/click-8.1.7.dist-info/RECORD",
        "click/__init__.py,,\nclick/core.py,,\n"
        "click-8.1.7.dist-info/RECORD,,\n");
    put("site/click-8.1.7.dist-info/INSTALLER", "pip\n");
    put("site/click-8.1.7.dist-info/direct_url.json", "{}\n");
    put("site/click-8.1.7.dist-info/licenses/LICENSE", "BSD\n");
    put("site/attr/__init__.py", "");
    put("site/attrs-24.2.0.dist-info/METADATA", "Name: attrs\n");
    put("site/attrs-24.2.0.dist-info/RECORD",
        "attr/__init__.py,,\nattrs/__init__.py,,\n");
    put("site/yaml/__init__.py", "");
    put("site/PyYAML-6.0.2.dist-info/METADATA", "Name: PyYAML\n");
    put("site/PyYAML-6.0.2.dist-info/RECORD",
        "yaml/__init__.py,,\n_yaml/__init__.py,,\n"
        "yaml/_yaml.cpython-311-x86_64-linux-gnu.so,,\n"
        "0123abcd__mypyc.cpython-311-x86_64-linux-gnu.so,,\n"
        "yaml/md__mypyc.abi3.so,,\n"
        "yaml/not_mypyc.cpython-311-x86_64-linux-gnu.so,,\n");
    put("site/PyYAML-6.0.2.dist-info/top_level.txt", "_yaml\nyaml\n");
    put("site/oldstyle/__init__.py", "");
    put("site/old_style-1.0.dist-info/METADATA", "Name: old-style\n");
    put("site/old_style-1.0.dist-info/top_level.txt", "oldstyle\n");
    put("site/loose.py", "");
}

static void test_index(void)
{
    static const char *const sfx[] = {".cpython-311-x86_64-linux-gnu.so",
                                      ".abi3.so", ".so"};
    kl_strv search = KL_STRV_INIT, sufs = KL_STRV_INIT, l = KL_STRV_INIT;
    kl_buf site = KL_BUF_INIT;
    fz_dists *d = NULL;
    fz_dist *o = NULL, *f = NULL;
    kl_err err;
    size_t i;

    make_site();
    kl_path_join(&site, root, "site");
    kl_strv_push(&search, site.s);
    for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
        kl_strv_push(&sufs, sfx[i]);
    CHECK(fz_dists_new(&search, &d, &err) == 0);
    CHECK(fz_dists_at(d, 0) == NULL); /* nothing read yet */

    CHECK(fz_dists_owner(d, site.s, "click/core.py", 0, &o, &err) == 0);
    CHECK(o && strcmp(o->key, "click") == 0 && strcmp(o->version, "8.1.7") == 0);
    CHECK(o && strcmp(o->info_base, "click-8.1.7.dist-info") == 0);
    CHECK(o && o->requires.n == 1);
    CHECK(fz_dists_owner(d, site.s, "click/gone.py", 0, &o, &err) == 0 &&
          o == NULL);
    CHECK(fz_dists_owner(d, site.s, "attr/__init__.py", 0, &o, &err) == 0 &&
          o && strcmp(o->name, "attrs") == 0);
    CHECK(fz_dists_owner(d, site.s, "yaml", 1, &o, &err) == 0 && o &&
          strcmp(o->name, "PyYAML") == 0);
    CHECK(o && strcmp(joined(&o->tops), "0123abcd__mypyc|_yaml|yaml") == 0);
    /* No RECORD: top_level.txt says what it owns. */
    CHECK(fz_dists_owner(d, site.s, "oldstyle/__init__.py", 0, &o, &err) == 0
          && o && strcmp(o->key, "old-style") == 0 && !o->has_record);
    CHECK(fz_dists_owner(d, site.s, "loose.py", 0, &o, &err) == 0 &&
          o == NULL);
    CHECK(fz_dists_owner(d, "/nonexistent-kiln-dir", "x.py", 0, &o,
                         &err) == 0 && o == NULL);

    CHECK(fz_dists_find(d, "pyyaml", &f, &err) == 0 && f &&
          strcmp(f->name, "PyYAML") == 0);
    CHECK(fz_dists_find(d, "numpy", &o, &err) == 0 && o == NULL);
    CHECK(fz_dists_find(d, "click", &o, &err) == 0 && o &&
          !fz_dist_requires(o, f));
    CHECK(fz_dist_mypyc(f, &sufs, &l, &err) == 0);
    CHECKF(strcmp(joined(&l), "0123abcd__mypyc|yaml.md__mypyc") == 0, "%s",
           joined(&l));
    kl_strv_free(&l);

    kl_path_join(&site, root, "site/click-8.1.7.dist-info");
    CHECK(fz_pkgdata_dist_info(site.s, "click-8.1.7.dist-info", &l,
                               &err) == 0);
    fz_strv_sort_unique(&l);
    CHECKF(strcmp(joined(&l), "click-8.1.7.dist-info/METADATA|"
                              "click-8.1.7.dist-info/RECORD|"
                              "click-8.1.7.dist-info/licenses/LICENSE") == 0,
           "%s", joined(&l));
    CHECK(l.n > 0 && strcmp(fz_pkgdata_src(l.v[0]) + strlen(site.s),
                            "/METADATA") == 0);
    kl_strv_free(&l);
    fz_dists_free(d);
    kl_strv_free(&search);
    kl_strv_free(&sufs);
    kl_buf_free(&site);
}

/* Installation roots a distribution vendors: directories its RECORD
 * shows holding a .dist-info directory, its own at the top not counted. */
static void test_vendor_roots(void)
{
    static const char *const files[] = {
        "pkg_resources/__init__.py",
        "setuptools-80.9.0.dist-info/RECORD",
        "setuptools/_vendor/jaraco.text-4.0.0.dist-info/RECORD",
        "setuptools/_vendor/jaraco/text/__init__.py",
        "setuptools/_vendor/more_itertools-10.3.0.dist-info/METADATA",
        "setuptools/_distutils/x.dist-info.py",
        "other/deep/vendored/zipp-3.19.2.dist-info/RECORD",
    };
    fz_dist d;
    kl_strv out = KL_STRV_INIT;
    kl_err err;
    size_t i;

    memset(&d, 0, sizeof d);
    for (i = 0; i < sizeof files / sizeof files[0]; i++)
        kl_strv_push(&d.files, files[i]);
    CHECK(fz_dist_vendor_roots(&d, &out, &err) == 0);
    CHECKF(strcmp(joined(&out), "other/deep/vendored|setuptools/_vendor") == 0,
           "%s", joined(&out));
    kl_strv_free(&out);
    kl_strv_free(&d.files);
}

static void test_native(void)
{
    static const uint8_t bin[] =
        "\0_cffi_backend\0"                    /* a whole C string */
        "\0time\0"                             /* a whole stdlib name */
        "use this module for the time being\0" /* English words */
        "\x01\x02pkg.sub.mod\x03"              /* dotted, alone */
        "xxpkg.other"                          /* glued to a name: no */
        "\0other.module\0"                     /* unknown top-level */
        "\0_cffi_backend\0"                    /* again */
        "\0pkg..bad\0\0pkg.9x\0"               /* not names */
        "\0pkg";                               /* at the end */
    kl_strv tops = KL_STRV_INIT, out = KL_STRV_INIT;
    kl_err err;

    kl_strv_push(&tops, "_cffi_backend");
    kl_strv_push(&tops, "pkg");
    kl_strv_push(&tops, "time");
    kl_strv_push(&tops, "this");
    fz_strv_sort_unique(&tops);
    CHECK(fz_native_scan(bin, sizeof bin - 1, &tops, &out, &err) == 0);
    CHECKF(strcmp(joined(&out), "_cffi_backend|pkg|pkg.sub.mod|time") == 0,
           "%s", joined(&out));
    kl_strv_free(&out);
    CHECK(fz_native_scan(NULL, 0, &tops, &out, &err) == 0 && out.n == 0);
    CHECK(fz_native_names("/nonexistent-kiln-file", &tops, &out, &err) < 0);
    kl_strv_free(&tops);
}

static void test_pkgdata(void)
{
    static const char want[] =
        "pkg/templates/base.html|pkg/templates/deep/more.txt|pkg/x.html";
    static const char want_whole[] =
        "pkg/sub/own.txt|pkg/templates/base.html|"
        "pkg/templates/deep/more.txt|pkg/x.html";
    kl_strv sufs = KL_STRV_INIT, l = KL_STRV_INIT;
    kl_buf dir = KL_BUF_INIT;
    kl_err err;
    int whole;

    kl_strv_push(&sufs, ".cpython-311-x86_64-linux-gnu.so");
    kl_strv_push(&sufs, ".so");
    CHECK(fz_pkgdata_is_data(NULL, "x.html", &sufs) && fz_pkgdata_is_data(NULL, "py.typed", &sufs));
    CHECK(!fz_pkgdata_is_data(NULL, "m.py", &sufs) && !fz_pkgdata_is_data(NULL, "m.pyi", &sufs) &&
          !fz_pkgdata_is_data(NULL, "m.pyc", &sufs) && !fz_pkgdata_is_data(NULL, "m.c", &sufs) &&
          !fz_pkgdata_is_data(NULL, "m.pxd", &sufs) && !fz_pkgdata_is_data(NULL, "libx.a", &sufs) &&
          !fz_pkgdata_is_data(NULL, "m.cpython-311-x86_64-linux-gnu.so", &sufs));
    put("pkg/__init__.py", "");
    put("pkg/x.html", "x");
    put("pkg/helper.c", "");
    put("pkg/__pycache__/a.cpython-311.pyc", "");
    put("pkg/templates/base.html", "b");
    put("pkg/templates/deep/more.txt", "m");
    put("pkg/templates/deep/code.py", "");
    put("pkg/sub/__init__.py", "");
    put("pkg/sub/own.txt", "o");
    kl_path_join(&dir, root, "pkg");
    for (whole = 0; whole < 2; whole++) {
        CHECK(fz_pkgdata_list(dir.s, "pkg", whole, &sufs, &l, &err) == 0);
        fz_strv_sort_unique(&l);
        CHECKF(strcmp(joined(&l), whole ? want_whole : want) == 0, "%s",
               joined(&l));
        kl_strv_free(&l);
    }
    CHECK(fz_pkgdata_list("/nonexistent-kiln-dir", "p", 0, &sufs, &l,
                          &err) == 0 && l.n == 0);
    kl_strv_free(&sufs);
    kl_buf_free(&dir);
}

int main(void)
{
    kl_buf cmd = KL_BUF_INIT;

    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_room();
    test_normalize();
    test_record();
    test_metadata();
    test_headers();
    test_entry_points();
    test_index();
    test_vendor_roots();
    test_native();
    test_pkgdata();
    if (kl_buf_setf(&cmd, "rm -rf '%s'", root) == 0 && system(cmd.s) != 0)
        fprintf(stderr, "test_dist: could not remove %s\n", root);
    kl_buf_free(&cmd);
    return check_summary();
}
