/*
 * report_json.c: the report as JSON: the program's parts, every entry
 * with its sizes read back from the written bundle and why it is in, and
 * what was left out (docs/report.md describes the layout).
 */
#include "report.h"

#include "../bundle/bundle.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* JSON text being written to b, with the flags of its strings. Appends
 * stop at the first failure, which `oom` remembers. */
typedef struct rj {
    kl_buf *b;
    unsigned flags;
    int oom;
} rj;

/* Append literal text. */
static void rj_raw(rj *w, const char *text)
{
    if (!w->oom && kl_buf_adds(w->b, text) < 0)
        w->oom = 1;
}

/* Append s as a JSON string, or null when s is NULL. */
static void rj_str(rj *w, const char *s)
{
    if (s == NULL)
        rj_raw(w, "null");
    else if (!w->oom && kl_json_str(w->b, s, strlen(s), w->flags) < 0)
        w->oom = 1;
}

/* Append `"key":` (the key is a plain word). */
static void rj_key(rj *w, const char *key)
{
    rj_raw(w, "\"");
    rj_raw(w, key);
    rj_raw(w, "\":");
}

/* Append `"key":` and then s as rj_str does. */
static void rj_key_str(rj *w, const char *key, const char *s)
{
    rj_key(w, key);
    rj_str(w, s);
}

/* Append `"key":N`. */
static void rj_key_num(rj *w, const char *key, uint64_t n)
{
    char num[24];

    snprintf(num, sizeof num, "%" PRIu64, n);
    rj_key(w, key);
    rj_raw(w, num);
}

/* Append a list "a, b, a" as a JSON array of its items, each once, in
 * the order they come first; [] for NULL. */
static void rj_list(rj *w, const char *list)
{
    const char *p = list;
    kl_strv seen = KL_STRV_INIT;
    kl_buf item = KL_BUF_INIT;
    size_t i;

    rj_raw(w, "[");
    while (p != NULL && *p != '\0' && !w->oom) {
        size_t n = strcspn(p, ",");

        if (kl_buf_setf(&item, "%.*s", (int)n, p) < 0) {
            w->oom = 1;
            break;
        }
        for (i = 0; i < seen.n && strcmp(seen.v[i], item.s) != 0; i++)
            ;
        if (i == seen.n) {
            if (seen.n > 0)
                rj_raw(w, ",");
            rj_str(w, item.s);
            if (kl_strv_push(&seen, item.s) < 0)
                w->oom = 1;
        }
        p += n;
        p += strspn(p, ", ");
    }
    rj_raw(w, "]");
    kl_buf_free(&item);
    kl_strv_free(&seen);
}

/* True when path lies below directory dir. */
static int report_below(const char *path, const char *dir, size_t dir_len)
{
    return dir_len > 0 && strncmp(path, dir, dir_len) == 0 &&
           (path[dir_len] == '/' || dir[dir_len - 1] == '/');
}

/* What the report groups by, for the whole plan. */
typedef struct report_groups {
    const report_input *in;
    const char *stdlib;  /* the standard library's directory, or NULL */
    size_t stdlib_len;
} report_groups;

/* The standard library's directory: where the `encodings` package, which
 * every program carries from there, lies. */
static void report_find_stdlib(const plan *p, report_groups *g)
{
    size_t i;

    g->stdlib = NULL;
    g->stdlib_len = 0;
    for (i = 0; i < p->n; i++) {
        const plan_entry *e = &p->entries[i];
        const char *end;

        if (e->kind != BUNDLE_KIND_PACKAGE ||
            strcmp(e->name, "encodings") != 0 || e->origin == NULL)
            continue;
        end = strstr(e->origin, "/encodings/__init__.py");
        if (end != NULL && end[22] == '\0') {
            g->stdlib = e->origin;
            g->stdlib_len = (size_t)(end - e->origin);
        }
        return;
    }
}

/* True when path lies in a site-packages (or Debian's dist-packages)
 * directory. */
static int report_in_site_packages(const char *path)
{
    return strstr(path, "/site-packages/") != NULL ||
           strstr(path, "/dist-packages/") != NULL;
}

/* The group entry e is drawn in: its distribution; "data" for --add-data
 * files; "application" for the script and runtime hooks;
 * "site-packages" for the rest of what lies in site-packages;
 * "application" for the app's own modules and files; "standard library"
 * for what lies in the standard library's directory; "other" for the
 * rest. */
static const char *report_group(const report_groups *g, const plan_entry *e)
{
    const char *file = plan_entry_file(e);
    size_t i;

    if (e->dist != NULL)
        return e->dist;
    if (e->kind == BUNDLE_KIND_DATA)
        return "data";
    if (strcmp(e->name, "__main__") == 0 || e->why == PLAN_WHY_HOOK)
        return "application";
    if (file == NULL)
        return "other";
    if (report_in_site_packages(file))
        return "site-packages";
    for (i = 0; i < g->in->n_app_dirs; i++)
        if (report_below(file, g->in->app_dirs[i],
                         strlen(g->in->app_dirs[i])))
            return "application";
    if (g->stdlib != NULL && report_below(file, g->stdlib, g->stdlib_len))
        return "standard library";
    return "other";
}

/* Append one part of an entry: {"stored":N,"raw":N,"compressed":B}, or
 * null for a part that holds nothing. */
static void rj_part(rj *w, uint64_t stored, uint64_t raw, int compressed)
{
    if (raw == 0 && stored == 0) {
        rj_raw(w, "null");
        return;
    }
    rj_raw(w, "{");
    rj_key_num(w, "stored", stored);
    rj_raw(w, ",");
    rj_key_num(w, "raw", raw);
    rj_raw(w, compressed ? ",\"compressed\":true}" : ",\"compressed\":false}");
}

/* Append plan entry e, stored as be in the program. */
static void rj_entry(rj *w, const report_groups *g, const plan_entry *e,
                     const bundle_entry *be)
{
    rj_raw(w, "{");
    rj_key_str(w, "name", e->name);
    rj_raw(w, ",");
    rj_key_str(w, "kind", bundle_kind_name(e->kind));
    rj_raw(w, ",");
    rj_key_str(w, "path", e->location);
    rj_raw(w, ",");
    rj_key_num(w, "stored", be->data_size + be->aux_size);
    rj_raw(w, ",");
    rj_key_num(w, "raw", be->data_raw_size + be->aux_raw_size);
    rj_raw(w, ",\"data\":");
    rj_part(w, be->data_size, be->data_raw_size,
            (be->flags & BUNDLE_FLAG_DATA_ZSTD) != 0);
    rj_raw(w, ",\"source\":");
    rj_part(w, be->aux_size, be->aux_raw_size,
            (be->flags & BUNDLE_FLAG_AUX_ZSTD) != 0);
    rj_raw(w, ",");
    rj_key_str(w, "group", report_group(g, e));
    rj_raw(w, ",");
    rj_key_str(w, "dist", e->dist);
    rj_raw(w, ",");
    rj_key_str(w, "why", e->why ? plan_why_name(e->why) : NULL);
    rj_raw(w, ",\"importers\":");
    rj_list(w, e->importers);
    rj_raw(w, ",");
    rj_key_str(w, "reason", e->reason);
    rj_raw(w, ",");
    rj_key_str(w, "origin", plan_entry_file(e));
    rj_raw(w, "}");
}

/* Append the left-out module o. */
static void rj_omission(rj *w, const plan_omission *o)
{
    rj_raw(w, "{");
    rj_key_str(w, "name", o->name);
    rj_raw(w, ",");
    rj_key_str(w, "why", plan_omit_name(o->why));
    rj_raw(w, ",\"importers\":");
    rj_list(w, o->importers);
    rj_raw(w, ",");
    rj_key_str(w, "detail", o->detail);
    rj_raw(w, "}");
}

/* Append the header fields: versions, program, run mode, the program's
 * parts and counts. */
static void rj_head(rj *w, const report_input *in, const bundle_view *v,
                    uint64_t modules)
{
    const plan *p = in->plan;
    char version[32];

    snprintf(version, sizeof version, "%u.%u.%u", p->python_hex >> 24,
             (p->python_hex >> 16) & 0xffu, (p->python_hex >> 8) & 0xffu);
    rj_raw(w, "{");
    rj_key_num(w, "kiln_report", REPORT_VERSION);
    rj_raw(w, ",");
    rj_key_str(w, "kiln", KILN_VERSION);
    rj_raw(w, ",");
    rj_key_str(w, "program", in->program);
    rj_raw(w, ",");
    rj_key_str(w, "python", version);
    rj_raw(w, ",\"run\":{");
    rj_key_str(w, "mode", bundle_run_mode_name(p->run_mode));
    rj_raw(w, ",");
    rj_key_str(w, "target", p->run_target ? p->run_target : "");
    rj_raw(w, "},\"size\":{");
    rj_key_num(w, "program", v->file_size);
    rj_raw(w, ",");
    rj_key_num(w, "runtime", v->trailer.bundle_offset);
    rj_raw(w, ",");
    rj_key_num(w, "index", v->header->payload_off);
    rj_raw(w, ",");
    rj_key_num(w, "payload", v->header->payload_size);
    rj_raw(w, ",");
    rj_key_num(w, "trailer", v->trailer.trailer_size);
    rj_raw(w, "},\"counts\":{");
    rj_key_num(w, "entries", p->n);
    rj_raw(w, ",");
    rj_key_num(w, "modules", modules);
    rj_raw(w, ",");
    rj_key_num(w, "omitted", p->n_omitted);
    rj_raw(w, "},");
    rj_key_num(w, "warnings", in->warnings);
}

int report_json(const report_input *in, unsigned flags, kl_buf *out,
                kl_err *err)
{
    const plan *p = in->plan;
    report_groups g = {in, NULL, 0};
    kl_map map = {NULL, 0};
    rj w = {out, flags, 0};
    bundle_view v;
    uint64_t modules = 0;
    size_t i;
    int r = -1;

    assert(in->program != NULL);
    if (kl_map_file(in->program, &map, err) < 0)
        return -1;
    if (bundle_open(&v, map.data, map.size, err) < 0) {
        kl_err_prefix(err, "%s", in->program);
        goto done;
    }
    report_find_stdlib(p, &g);
    for (i = 0; i < p->n; i++)
        modules += bundle_kind_ns(p->entries[i].kind) == BUNDLE_NS_MODULE;
    rj_head(&w, in, &v, modules);
    rj_raw(&w, ",\"entries\":[");
    for (i = 0; i < p->n; i++) {
        const plan_entry *e = &p->entries[i];
        const bundle_entry *be = bundle_find(&v, bundle_kind_ns(e->kind),
                                             e->name, strlen(e->name));

        if (be == NULL || be->kind != e->kind) {
            kl_err_set(err, "%s: the program does not hold %s %s (it "
                       "changed while the report was written)",
                       in->program, bundle_kind_name(e->kind), e->name);
            goto done;
        }
        rj_raw(&w, i ? ",\n" : "\n");
        rj_entry(&w, &g, e, be);
    }
    rj_raw(&w, "],\"omitted\":[");
    for (i = 0; i < p->n_omitted; i++) {
        rj_raw(&w, i ? ",\n" : "\n");
        rj_omission(&w, &p->omitted[i]);
    }
    rj_raw(&w, "]}\n");
    r = w.oom ? kl_err_oom(err) : 0;
done:
    kl_unmap(&map);
    return r;
}
