/*
 * plan.c: build, order and free a plan.
 */
#include "plan.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void plan_init(plan *p)
{
    memset(p, 0, sizeof *p);
}

/* Free what part owns; it is empty again. */
static void plan_part_clear(plan_part *part)
{
    free(part->bytes);
    free(part->file);
    memset(part, 0, sizeof *part);
}

const char *plan_why_name(unsigned why)
{
    static const char *const names[] = {
        "?", "run", "import", "entry point", "computed name", "native import",
        "collect", "hidden", "always", "data", "package data", "metadata",
        "runtime hook",
    };

    _Static_assert(sizeof names / sizeof names[0] == PLAN_WHY_MAX + 1,
                   "a name for every why");
    return why <= PLAN_WHY_MAX ? names[why] : "?";
}

const char *plan_omit_name(unsigned omit)
{
    static const char *const names[] = {
        "?", "missing", "optional", "excluded", "developer tool", "broken",
        "keep-only", "host",
    };

    _Static_assert(sizeof names / sizeof names[0] == PLAN_OMIT_MAX + 1,
                   "a name for every omission");
    return omit <= PLAN_OMIT_MAX ? names[omit] : "?";
}

void plan_free(plan *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        plan_entry *e = &p->entries[i];

        free(e->name);
        free(e->location);
        free(e->reason);
        free(e->dist);
        free(e->importers);
        free(e->origin);
        plan_part_clear(&e->data);
        plan_part_clear(&e->aux);
    }
    for (i = 0; i < p->n_omitted; i++) {
        free(p->omitted[i].name);
        free(p->omitted[i].importers);
        free(p->omitted[i].detail);
    }
    free(p->omitted);
    free(p->entries);
    free(p->run_target);
    free(p->runtime_path);
    free(p->options);
    plan_init(p);
}

void plan_place_outside(plan *p, unsigned kinds)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        plan_entry *e = &p->entries[i];

        e->outside = e->kind < 32 && (kinds & (1u << e->kind)) &&
                     bundle_kind_can_be_external(e->kind);
    }
}

int plan_add(plan *p, unsigned kind, const char *name, const char *location,
             const char *reason, plan_entry **out, kl_err *err)
{
    plan_entry *e;

    *out = NULL;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        plan_entry *grown = realloc(p->entries, cap * sizeof *grown);

        if (grown == NULL)
            return kl_err_oom(err);
        p->entries = grown;
        p->cap = cap;
    }
    e = &p->entries[p->n];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->name = strdup(name);
    e->location = strdup(location);
    e->reason = reason ? strdup(reason) : NULL;
    if (e->name == NULL || e->location == NULL ||
        (reason != NULL && e->reason == NULL)) {
        free(e->name);
        free(e->location);
        free(e->reason);
        return kl_err_oom(err);
    }
    p->n++;
    *out = e;
    return 0;
}

/* A malloc'd copy of s into *out (NULL stays NULL); -1 when out of
 * memory. */
static int plan_strdup(const char *s, char **out)
{
    *out = s ? strdup(s) : NULL;
    return s && *out == NULL ? -1 : 0;
}

int plan_entry_origin(plan_entry *e, unsigned why, const char *dist,
                      const char *importers, kl_err *err)
{
    char *d, *i;

    assert(why <= PLAN_WHY_MAX);
    if (plan_strdup(dist, &d) < 0)
        return kl_err_oom(err);
    if (plan_strdup(importers, &i) < 0) {
        free(d);
        return kl_err_oom(err);
    }
    free(e->dist);
    free(e->importers);
    e->why = why;
    e->dist = d;
    e->importers = i;
    return 0;
}

int plan_entry_set_origin(plan_entry *e, const char *path, kl_err *err)
{
    char *copy;

    if (plan_strdup(path, &copy) < 0)
        return kl_err_oom(err);
    free(e->origin);
    e->origin = copy;
    return 0;
}

const char *plan_entry_file(const plan_entry *e)
{
    return e->origin ? e->origin : e->data.file;
}

int plan_omit(plan *p, const char *name, unsigned why, const char *importers,
              const char *detail, kl_err *err)
{
    plan_omission *o;

    assert(why >= 1 && why <= PLAN_OMIT_MAX);
    if (p->n_omitted == p->cap_omitted) {
        size_t cap = p->cap_omitted ? p->cap_omitted * 2 : 32;
        plan_omission *grown = realloc(p->omitted, cap * sizeof *grown);

        if (grown == NULL)
            return kl_err_oom(err);
        p->omitted = grown;
        p->cap_omitted = cap;
    }
    o = &p->omitted[p->n_omitted];
    memset(o, 0, sizeof *o);
    o->why = why;
    if (plan_strdup(name, &o->name) < 0 ||
        plan_strdup(importers, &o->importers) < 0 ||
        plan_strdup(detail, &o->detail) < 0) {
        free(o->name);
        free(o->importers);
        return kl_err_oom(err);
    }
    p->n_omitted++;
    return 0;
}

int plan_part_copy(plan_part *part, const void *bytes, size_t n, int level,
                   kl_err *err)
{
    plan_part_clear(part);
    part->level = level;
    part->bytes = malloc(n ? n : 1);
    if (part->bytes == NULL)
        return kl_err_oom(err);
    if (n > 0)
        memcpy(part->bytes, bytes, n);
    part->size = n;
    return 0;
}

int plan_part_file(plan_part *part, const char *path, int level,
                   kl_err *err)
{
    plan_part_clear(part);
    part->level = level;
    part->file = strdup(path);
    return part->file ? 0 : kl_err_oom(err);
}

int plan_set_run(plan *p, enum bundle_run_mode mode, const char *target,
                 uint32_t python_hex, kl_err *err)
{
    char *copy = strdup(target ? target : "");

    if (copy == NULL)
        return kl_err_oom(err);
    free(p->run_target);
    p->run_target = copy;
    p->run_mode = mode;
    p->python_hex = python_hex;
    return 0;
}

/* qsort order: bundle order. */
static int plan_entry_cmp(const void *a, const void *b)
{
    const plan_entry *x = a, *y = b;

    return bundle_entry_order(x->kind, x->name, y->kind, y->name);
}

int plan_finish(plan *p, kl_err *err)
{
    size_t i;

    if (p->n > 1)
        qsort(p->entries, p->n, sizeof *p->entries, plan_entry_cmp);
    for (i = 1; i < p->n; i++) {
        const plan_entry *a = &p->entries[i - 1], *b = &p->entries[i];

        if (plan_entry_cmp(a, b) == 0)
            return kl_err_set(err, "%s: added to the program twice (%s; %s)",
                              b->name, a->reason ? a->reason : "?",
                              b->reason ? b->reason : "?");
    }
    return 0;
}
