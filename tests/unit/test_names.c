/*
 * test_names.c: unit tests of module-name helpers (src/freeze/fz_names.c):
 * relative imports resolved as importlib resolves them, package
 * containment, and what a dotted module name is. Checks as in check.h.
 */
#include "../../src/freeze/fz_names.h"
#include "check.h"

#include <string.h>

/* One `import name` at `level` in module `from`; want NULL when importlib
 * would refuse it ("attempted relative import ..."). */
static const struct {
    const char *from;
    int is_package;
    const char *name;
    long level;
    const char *want;
} resolve_cases[] = {
    {"app", 0, "json", 0, "json"},
    {"pkg.mod", 0, "os.path", 0, "os.path"},
    {"pkg.mod", 0, "", 0, ""},
    /* from . import x / from .sibling import y */
    {"pkg.mod", 0, "", 1, "pkg"},
    {"pkg.mod", 0, "sibling", 1, "pkg.sibling"},
    {"pkg.sub.mod", 0, "leaf", 1, "pkg.sub.leaf"},
    /* a package's own level is itself */
    {"pkg", 1, "", 1, "pkg"},
    {"pkg", 1, "helper", 1, "pkg.helper"},
    {"pkg.sub", 1, "x", 1, "pkg.sub.x"},
    /* climbing */
    {"pkg.sub.mod", 0, "helper", 2, "pkg.helper"},
    {"pkg.sub.mod", 0, "", 2, "pkg"},
    {"pkg.sub", 1, "helper", 2, "pkg.helper"},
    {"a.b.c.d", 0, "z", 3, "a.z"},
    /* beyond the top-level package */
    {"pkg.mod", 0, "x", 2, NULL},
    {"pkg", 1, "x", 2, NULL},
    {"a.b.c.d", 0, "z", 4, NULL},
    /* no package at all */
    {"app", 0, "x", 1, NULL},
    {"__main__", 0, "x", 1, NULL},
    {"__main__", 0, "", 1, NULL},
    /* long names are not cut */
    {"p0123456789.p0123456789.p0123456789.p0123456789.p0123456789.p0123456789"
     ".p0123456789.p0123456789.p0123456789.p0123456789.m", 0,
     "leaf_with_a_long_name", 1,
     "p0123456789.p0123456789.p0123456789.p0123456789.p0123456789.p0123456789"
     ".p0123456789.p0123456789.p0123456789.p0123456789.leaf_with_a_long_name"},
};

static void test_resolve(void)
{
    size_t i;

    for (i = 0; i < sizeof resolve_cases / sizeof resolve_cases[0]; i++) {
        char *got = (char *)"untouched";
        kl_err err;

        if (!CHECKF(fz_name_resolve(resolve_cases[i].from,
                                    resolve_cases[i].is_package,
                                    resolve_cases[i].name,
                                    resolve_cases[i].level, &got, &err) == 0,
                    "case %zu: %s", i, err.msg))
            continue;
        if (resolve_cases[i].want == NULL)
            CHECKF(got == NULL, "case %zu: %s resolved to %s", i,
                   resolve_cases[i].name, got);
        else
            CHECKF(got != NULL && strcmp(got, resolve_cases[i].want) == 0,
                   "case %zu: got %s, want %s", i, got ? got : "(none)",
                   resolve_cases[i].want);
        free(got);
    }
}

static void test_within(void)
{
    CHECK(fz_name_within("pkg", "pkg"));
    CHECK(fz_name_within("pkg.sub", "pkg"));
    CHECK(fz_name_within("pkg.sub.x", "pkg.sub"));
    CHECK(!fz_name_within("pkgx", "pkg"));
    CHECK(!fz_name_within("pk", "pkg"));
    CHECK(!fz_name_within("other.pkg", "pkg"));
    CHECK(!fz_name_within("pkg", "pkg.sub"));
}

/* What --keep-only, -m, --entry and --collect take for a module name. */
static void test_dotted(void)
{
    static const char *const good[] = {"json", "pkg.sub", "_x.y_2", "a.b.c",
                                       "caf\xc3\xa9", "__main__"};
    static const char *const bad[] = {"", ".", "pkg.", ".pkg", "pkg..mod",
                                      "2pkg", "pkg.2x", "a b", "a-b",
                                      "pkg/mod", "a:b"};
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(fz_name_is_dotted(good[i], strlen(good[i])));
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!fz_name_is_dotted(bad[i], strlen(bad[i])));
    /* only the first n bytes count */
    CHECK(fz_name_is_dotted("pkg.mod:func", 7));
    CHECK(!fz_name_is_dotted("pkg.:x", 4));
}

int main(void)
{
    test_resolve();
    test_within();
    test_dotted();
    return check_summary();
}
