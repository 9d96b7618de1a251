/*
 * test_data.c: unit tests of --add-data (src/freeze/fz_data.c): where
 * SRC:DEST puts each file inside the program, on a real directory tree,
 * and what it refuses. Checks as in check.h.
 */
#include "../../src/freeze/fz_data.h"
#include "check.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/kiln-test-data-XXXXXX";

static void put_file(const char *rel, const char *text)
{
    kl_buf path = KL_BUF_INIT;
    FILE *f;

    kl_path_join(&path, root, rel);
    f = fopen(path.s, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path.s);
        exit(2);
    }
    kl_buf_free(&path);
}

static void put_dir(const char *rel)
{
    kl_buf path = KL_BUF_INIT;

    kl_path_join(&path, root, rel);
    if (mkdir(path.s, 0755) < 0 && errno != EEXIST) {
        perror(path.s);
        exit(2);
    }
    kl_buf_free(&path);
}

/* rm -r of what the tests made below root. */
static void remove_tree(const char *dir)
{
    kl_buf cmd = KL_BUF_INIT;

    if (strncmp(dir, "/tmp/kiln-test-data-", 20) == 0 &&
        kl_buf_setf(&cmd, "rm -rf '%s'", dir) == 0 && system(cmd.s) != 0)
        fprintf(stderr, "test_data: could not remove %s\n", dir);
    kl_buf_free(&cmd);
}

static const struct {
    const char *spec;
    const char *src;
    const char *dest;
} split_cases[] = {
    {"a.txt:.", "a.txt", ""},
    {"a.txt:", "a.txt", ""},
    {"a.txt:/", "a.txt", ""},
    {"a.txt:./", "a.txt", ""},
    {"a.txt:res", "a.txt", "res"},
    {"a.txt:res/", "a.txt", "res"},
    {"a.txt://res//", "a.txt", "res"},
    {"a.txt:./res/sub", "a.txt", "res/sub"},
    {"a.txt:././res", "a.txt", "res"},
    {"dir/with:colon:dest", "dir/with:colon", "dest"},
    {"/abs/path/x:y", "/abs/path/x", "y"},
};

static void test_split(void)
{
    size_t i;
    char *src, *dest;
    kl_err err;

    for (i = 0; i < sizeof split_cases / sizeof split_cases[0]; i++) {
        if (!CHECKF(fz_data_split(split_cases[i].spec, &src, &dest, &err) == 0,
                    "%s: %s", split_cases[i].spec, err.msg))
            continue;
        CHECKF(strcmp(src, split_cases[i].src) == 0, "%s: src %s",
               split_cases[i].spec, src);
        CHECKF(strcmp(dest, split_cases[i].dest) == 0, "%s: dest '%s'",
               split_cases[i].spec, dest);
        free(src);
        free(dest);
    }
    err.msg[0] = 0;
    CHECK(fz_data_split("nocolon", &src, &dest, &err) < 0);
    CHECKF(strstr(err.msg, "SRC:DEST") != NULL, "%s", err.msg);
    CHECK(src == NULL && dest == NULL);
    CHECK(fz_data_split(":dest", &src, &dest, &err) < 0);
    CHECK(fz_data_split("a:../up", &src, &dest, &err) < 0);
    CHECKF(strstr(err.msg, "inside the program") != NULL, "%s", err.msg);
    CHECK(fz_data_split("a:res/../../up", &src, &dest, &err) < 0);
}

/* The plan entry named name, or NULL. */
static const plan_entry *entry(const plan *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->entries[i].name, name) == 0)
            return &p->entries[i];
    return NULL;
}

/* Entry `name` is a data file read from root/rel, at level. */
static void check_entry(const plan *p, const char *name, const char *rel,
                        int level)
{
    const plan_entry *e = entry(p, name);
    kl_buf want = KL_BUF_INIT;

    kl_path_join(&want, root, rel);
    if (CHECKF(e != NULL, "%s not in the plan", name)) {
        CHECK(e->kind == BUNDLE_KIND_DATA && e->why == PLAN_WHY_DATA);
        CHECK(strcmp(e->location, name) == 0);
        CHECKF(e->data.file && strcmp(e->data.file, want.s) == 0, "%s: %s",
               name, e->data.file ? e->data.file : "(none)");
        CHECK(e->data.bytes == NULL && e->aux.file == NULL);
        CHECK(e->data.level == level);
        CHECK(e->reason && strncmp(e->reason, "--add-data ", 11) == 0);
    }
    kl_buf_free(&want);
}

static void collect(plan *p, const char *src_rel, const char *dest,
                    int level, int expect_ok)
{
    kl_buf spec = KL_BUF_INIT;
    kl_err err;
    int r;

    kl_buf_setf(&spec, "%s/%s:%s", root, src_rel, dest);
    err.msg[0] = 0;
    r = fz_data_collect(spec.s, level, p, &err);
    if (expect_ok)
        CHECKF(r == 0, "%s: %s", spec.s, err.msg);
    else
        CHECKF(r < 0 && err.msg[0] != 0, "%s accepted", spec.s);
    kl_buf_free(&spec);
}

static void test_collect(void)
{
    kl_buf fifo = KL_BUF_INIT;
    plan p;
    kl_err err;

    put_dir("assets");
    put_dir("assets/img");
    put_dir("assets/__pycache__");
    put_dir("assets/empty");
    put_file("assets/a.txt", "a");
    put_file("assets/img/logo.png", "png");
    put_file("assets/__pycache__/x.pyc", "pyc");
    put_file("single.cfg", "cfg");
    kl_path_join(&fifo, root, "assets/img/pipe");
    CHECK(mkfifo(fifo.s, 0600) == 0);

    plan_init(&p);
    /* a directory: its files below DEST, __pycache__ and the FIFO left out */
    collect(&p, "assets", "res", 0, 1);
    check_entry(&p, "res/a.txt", "assets/a.txt", 0);
    check_entry(&p, "res/img/logo.png", "assets/img/logo.png", 0);
    CHECK(entry(&p, "res/__pycache__/x.pyc") == NULL);
    CHECK(entry(&p, "res/img/pipe") == NULL);
    CHECK(p.n == 2);
    /* a file: into DEST under its own name; the top of the program */
    collect(&p, "single.cfg", "conf", 3, 1);
    check_entry(&p, "conf/single.cfg", "single.cfg", 3);
    collect(&p, "single.cfg", ".", 0, 1);
    check_entry(&p, "single.cfg", "single.cfg", 0);
    /* a directory to the top */
    collect(&p, "assets/img", ".", 0, 1);
    check_entry(&p, "logo.png", "assets/img/logo.png", 0);
    CHECK(p.n == 5);
    CHECK(plan_finish(&p, &err) == 0);
    /* the same destination twice is refused when the plan is finished */
    collect(&p, "single.cfg", "conf", 0, 1);
    err.msg[0] = 0;
    CHECK(plan_finish(&p, &err) < 0);
    CHECKF(strstr(err.msg, "conf/single.cfg") && strstr(err.msg, "twice"),
           "%s", err.msg);
    plan_free(&p);

    /* what is refused: a missing SRC, a FIFO (at once, not waited on) */
    plan_init(&p);
    collect(&p, "missing", "x", 0, 0);
    collect(&p, "assets/img/pipe", "x", 0, 0);
    CHECK(p.n == 0);
    plan_free(&p);
    kl_buf_free(&fifo);
}

int main(void)
{
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_split();
    test_collect();
    remove_tree(root);
    return check_summary();
}
