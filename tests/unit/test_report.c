/*
 * test_report.c: unit tests of the build report (src/report/): the JSON
 * of a plan written by the one-file emitter holds every entry with the
 * sizes its bundle stores, why, importers (each once) and group, and what
 * was left out; the page carries the same JSON and nothing external;
 * reports are told from other files; a program that does not hold the
 * plan is an error. Checks as in check.h.
 */
#include "../../src/emit/emit.h"
#include "../../src/report/report.h"
#include "check.h"


static char dir[] = "/tmp/kiln-test-report-XXXXXX";
static kl_buf stub = KL_BUF_INIT, datafile = KL_BUF_INIT, out = KL_BUF_INIT;

/* A plan of a script, an imported module, a standard library package,
 * site-packages code, a data file and two modules left out. */
static void make_plan(plan *p)
{
    static char code[5000];
    plan_entry *e;
    kl_err err;
    int ok = 1;

    memset(code, 'c', sizeof code);
    ok &= plan_add(p, BUNDLE_KIND_MODULE, "__main__", "app.py", NULL, &e,
                   &err) == 0 &&
          plan_part_copy(&e->data, code, 100, 0, &err) == 0 &&
          plan_part_copy(&e->aux, "print(1)\n", 9, 3, &err) == 0 &&
          plan_entry_origin(e, PLAN_WHY_RUN, NULL, NULL, &err) == 0;
    ok &= plan_add(p, BUNDLE_KIND_MODULE, "helper", "helper.py",
                   "imported by __main__", &e, &err) == 0 &&
          plan_part_copy(&e->data, code, sizeof code, 3, &err) == 0 &&
          plan_entry_origin(e, PLAN_WHY_IMPORT, NULL, "__main__, x, __main__",
                            &err) == 0 &&
          plan_entry_set_origin(e, "/home/u/app/helper.py", &err) == 0;
    ok &= plan_add(p, BUNDLE_KIND_PACKAGE, "encodings", "encodings/__init__.py",
                   NULL, &e, &err) == 0 &&
          plan_part_copy(&e->data, code, 200, 0, &err) == 0 &&
          plan_entry_origin(e, PLAN_WHY_ALWAYS, NULL, NULL, &err) == 0 &&
          plan_entry_set_origin(e, "/usr/lib/python3.11/encodings/__init__.py",
                                &err) == 0;
    ok &= plan_add(p, BUNDLE_KIND_MODULE, "vend", "vend.py", NULL, &e,
                   &err) == 0 &&
          plan_part_copy(&e->data, code, 50, 0, &err) == 0 &&
          plan_entry_set_origin(
              e, "/usr/lib/python3.11/site-packages/vend.py", &err) == 0;
    ok &= plan_add(p, BUNDLE_KIND_MODULE, "tool", "tool.py", NULL, &e,
                   &err) == 0 &&
          plan_part_copy(&e->data, code, 60, 0, &err) == 0 &&
          plan_entry_origin(e, PLAN_WHY_IMPORT, "tooldist", "helper",
                            &err) == 0;
    ok &= plan_add(p, BUNDLE_KIND_DATA, "res/q\"<x>.txt", "res/q\"<x>.txt",
                   "--add-data", &e, &err) == 0 &&
          plan_part_file(&e->data, datafile.s, 0, &err) == 0 &&
          plan_entry_origin(e, PLAN_WHY_DATA, NULL, NULL, &err) == 0;
    ok &= plan_omit(p, "gone", PLAN_OMIT_MISSING, "helper, helper, tool", NULL,
                    &err) == 0 &&
          plan_omit(p, "broken", PLAN_OMIT_BROKEN, "helper", "a\nb",
                    &err) == 0;
    ok &= plan_set_run(p, BUNDLE_RUN_SCRIPT, "", 0x030b07f0u, &err) == 0 &&
          plan_finish(p, &err) == 0;
    if (!CHECKF(ok, "making the plan: %s", err.msg))
        exit(2);
}

/* True when text holds s. */
static int has(const char *text, const char *s)
{
    return strstr(text, s) != NULL;
}

static void test_json(const report_input *in)
{
    kl_buf j = KL_BUF_INIT;
    kl_map m;
    bundle_view v;
    const bundle_entry *be;
    kl_err err;
    char want[128];

    if (!CHECKF(report_json(in, 0, &j, &err) == 0, "%s", err.msg))
        return;
    CHECK(kl_map_file(out.s, &m, &err) == 0 &&
          bundle_open(&v, m.data, m.size, &err) == 0);
    CHECK(strncmp(j.s, "{\"kiln_report\":1,", 17) == 0);
    CHECK(has(j.s, "\"python\":\"3.11.7\""));
    CHECK(has(j.s, "\"run\":{\"mode\":\"script\",\"target\":\"\"}"));
    snprintf(want, sizeof want, "\"size\":{\"program\":%llu,",
             (unsigned long long)m.size);
    CHECKF(has(j.s, want), "%s", want);
    /* helper is stored compressed: the report has the bundle's sizes. */
    be = bundle_find(&v, BUNDLE_NS_MODULE, "helper", 6);
    CHECK(be != NULL && (be->flags & BUNDLE_FLAG_DATA_ZSTD) &&
          be->data_size < 5000);
    if (be != NULL) {
        snprintf(want, sizeof want,
                 "\"name\":\"helper\",\"kind\":\"module\",\"path\":\"helper.py\""
                 ",\"stored\":%llu,\"raw\":5000,",
                 (unsigned long long)be->data_size);
        CHECKF(has(j.s, want), "%s", want);
        snprintf(want, sizeof want,
                 "\"data\":{\"stored\":%llu,\"raw\":5000,\"compressed\":true},"
                 "\"source\":null,",
                 (unsigned long long)be->data_size);
        CHECKF(has(j.s, want), "%s", want);
    }
    /* Why, importers once each, groups. */
    CHECK(has(j.s, "\"group\":\"application\",\"dist\":null,\"why\":\"import\""
                   ",\"importers\":[\"__main__\",\"x\"]"));
    CHECK(has(j.s, "\"group\":\"standard library\",\"dist\":null,"
                   "\"why\":\"always\""));
    CHECK(has(j.s, "\"group\":\"site-packages\",\"dist\":null,\"why\":null"));
    CHECK(has(j.s, "\"group\":\"tooldist\",\"dist\":\"tooldist\""));
    CHECK(has(j.s, "\"name\":\"res/q\\\"<x>.txt\""));
    CHECK(has(j.s, "\"group\":\"data\",\"dist\":null,\"why\":\"data\""));
    CHECK(has(j.s, "\"origin\":\"/home/u/app/helper.py\""));
    /* Left out, in the order found. */
    CHECK(has(j.s, "\"omitted\":[\n{\"name\":\"gone\",\"why\":\"missing\","
                   "\"importers\":[\"helper\",\"tool\"],\"detail\":null},\n"
                   "{\"name\":\"broken\",\"why\":\"broken\",\"importers\":"
                   "[\"helper\"],\"detail\":\"a\\nb\"}]}"));
    CHECK(has(j.s, "\"counts\":{\"entries\":6,\"modules\":5,\"omitted\":2}"));
    CHECK(has(j.s, "\"warnings\":3"));
    kl_unmap(&m);
    kl_buf_free(&j);
}

static void test_html(const report_input *in)
{
    kl_buf h = KL_BUF_INIT, j = KL_BUF_INIT;
    kl_err err;
    const char *data;

    if (!CHECKF(report_html(in, &h, &err) == 0, "%s", err.msg) ||
        !CHECK(report_json(in, KL_JSON_HTML, &j, &err) == 0))
        return;
    CHECK(strncmp(h.s, "<!DOCTYPE html>\n<!-- kiln report:", 33) == 0);
    data = strstr(h.s, "id=\"kiln-data\">");
    CHECK(data != NULL &&
          strncmp(data + 15, j.s, j.len) == 0 &&
          strncmp(data + 15 + j.len, "</script>", 9) == 0);
    CHECK(!has(h.s, "@KILN_DATA@"));
    CHECK(!has(h.s, "http:") && !has(h.s, "https:") && !has(h.s, "src="));
    CHECK(!has(j.s, "<x>") && has(j.s, "\\u003cx\\u003e"));
    kl_buf_free(&h);
    kl_buf_free(&j);
}

static void test_files(const report_input *in)
{
    kl_buf json = KL_BUF_INIT, html = KL_BUF_INIT;
    kl_err err;

    kl_path_join(&json, dir, "r.json");
    kl_path_join(&html, dir, "r.html");
    CHECK(!report_is_report(json.s));
    CHECKF(report_write(in, json.s, &err) == 0, "%s", err.msg);
    CHECKF(report_write(in, html.s, &err) == 0, "%s", err.msg);
    CHECK(report_is_report(json.s) && report_is_report(html.s));
    CHECK(!report_is_report(out.s) && !report_is_report(datafile.s));
    kl_buf_free(&json);
    kl_buf_free(&html);
}

static void test_program_without_the_plan(const report_input *in)
{
    report_input other = *in;
    kl_buf j = KL_BUF_INIT;
    plan empty;
    kl_err err;

    /* A program that does not hold the plan's entries. */
    plan_init(&empty);
    CHECK(plan_set_run(&empty, BUNDLE_RUN_SCRIPT, "", 0x030b07f0u, &err) == 0);
    CHECK(emit_onefile(&empty, stub.s, out.s, &err) == 0);
    CHECK(report_json(in, 0, &j, &err) < 0 && has(err.msg, "does not hold"));
    plan_free(&empty);
    /* No program at all. */
    other.program = "/nonexistent/prog";
    CHECK(report_json(&other, 0, &j, &err) < 0 && has(err.msg, "nonexistent"));
    kl_buf_free(&j);
}

int main(void)
{
    static const char *const app_dirs[] = {"/home/u/app"};
    report_input in;
    plan p;
    kl_err err;

    make_test_dir(dir, &stub);
    kl_path_join(&datafile, dir, "data.bin");
    file_put(datafile.s, "some data", 9);
    kl_path_join(&out, dir, "prog");
    plan_init(&p);
    make_plan(&p);
    if (!CHECKF(emit_onefile(&p, stub.s, out.s, &err) == 0, "%s", err.msg))
        return check_summary();
    in.plan = &p;
    in.program = out.s;
    in.app_dirs = app_dirs;
    in.n_app_dirs = 1;
    in.warnings = 3;

    test_json(&in);
    test_html(&in);
    test_files(&in);
    test_program_without_the_plan(&in);

    plan_free(&p);
    tmp_dir_remove(dir);
    kl_buf_free(&stub);
    kl_buf_free(&datafile);
    kl_buf_free(&out);
    return check_summary();
}
