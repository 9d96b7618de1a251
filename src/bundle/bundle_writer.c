/*
 * bundle_writer.c: collect entries and lay them out in the bundle format.
 *
 * Layout (docs/format.md): header, entry table sorted by (namespace, name),
 * hash table, string table, then the payload area starting on a page
 * boundary. Extension modules, shared libraries and data files start on a
 * page boundary (they can be mapped); bytecode and sources are packed at
 * 16-byte alignment to keep a stdlib-sized bundle small.
 */
#include "bundle.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

typedef struct writer_part {
    uint8_t *bytes;   /* stored bytes (compressed or not); owned */
    size_t size;
    size_t raw_size;
    int compressed;
} writer_part;

typedef struct writer_entry {
    char *name;       /* owned */
    char *path;       /* owned */
    unsigned kind;
    writer_part data;
    writer_part aux;
} writer_entry;

struct bundle_writer {
    writer_entry *items;
    size_t count;
    size_t cap;
    enum bundle_run_mode run_mode;
    char *run_target;  /* owned */
    uint32_t python_hex;
    int aux_level;     /* least compression level of aux parts */
};

bundle_writer *bundle_writer_new(void)
{
    return calloc(1, sizeof(bundle_writer));
}

void bundle_writer_free(bundle_writer *w)
{
    size_t i;

    if (w == NULL)
        return;
    for (i = 0; i < w->count; i++) {
        free(w->items[i].name);
        free(w->items[i].path);
        free(w->items[i].data.bytes);
        free(w->items[i].aux.bytes);
    }
    free(w->items);
    free(w->run_target);
    free(w);
}

/* Fill part with a copy of src, compressed when that is smaller. */
static int writer_part_set(writer_part *part, const void *src, size_t n,
                           int level, const char *name, kl_err *err)
{
    memset(part, 0, sizeof *part);
    part->raw_size = n;
    if (n == 0)
        return 0;
    if (level > 0) {
        size_t bound = ZSTD_compressBound(n);
        uint8_t *z = malloc(bound);
        size_t got;

        if (z == NULL)
            return kl_err_set(err, "%s: out of memory", name);
        got = ZSTD_compress(z, bound, src, n, level);
        if (ZSTD_isError(got)) {
            free(z);
            return kl_err_set(err, "%s: zstd: %s", name,
                              ZSTD_getErrorName(got));
        }
        if (got < n) {
            part->bytes = z;
            part->size = got;
            part->compressed = 1;
            return 0;
        }
        free(z);
    }
    part->bytes = malloc(n);
    if (part->bytes == NULL)
        return kl_err_set(err, "%s: out of memory", name);
    memcpy(part->bytes, src, n);
    part->size = n;
    return 0;
}

int bundle_writer_has(const bundle_writer *w, enum bundle_ns ns,
                      const char *name)
{
    size_t i;

    for (i = 0; i < w->count; i++)
        if (bundle_kind_ns(w->items[i].kind) == ns &&
            strcmp(w->items[i].name, name) == 0)
            return 1;
    return 0;
}

int bundle_writer_add(bundle_writer *w, unsigned kind, const char *name,
                      const char *path, const void *data, size_t data_size,
                      const void *aux, size_t aux_size, int compress_level,
                      kl_err *err)
{
    writer_entry *e;

    if (kind == 0 || kind > BUNDLE_KIND_MAX)
        return kl_err_set(err, "%s: unknown entry kind %u", name, kind);
    if (strlen(name) == 0 || strlen(name) > UINT32_MAX / 2 ||
        strlen(path) > UINT32_MAX / 2)
        return kl_err_set(err, "bad entry name '%s'", name);
    if (bundle_writer_has(w, bundle_kind_ns(kind), name))
        return kl_err_set(err, "%s: added to the bundle twice", name);
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        writer_entry *items = realloc(w->items, cap * sizeof *items);

        if (items == NULL)
            return kl_err_set(err, "out of memory");
        w->items = items;
        w->cap = cap;
    }
    e = &w->items[w->count];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->name = strdup(name);
    e->path = strdup(path);
    if (e->name == NULL || e->path == NULL)
        goto oom;
    if (writer_part_set(&e->data, data, data_size, compress_level, name,
                        err) < 0)
        goto fail;
    if (writer_part_set(&e->aux, aux, aux_size,
                        compress_level > w->aux_level ? compress_level
                                                      : w->aux_level,
                        name, err) < 0)
        goto fail;
    w->count++;
    return 0;

oom:
    kl_err_set(err, "out of memory");
fail:
    free(e->name);
    free(e->path);
    free(e->data.bytes);
    free(e->aux.bytes);
    return -1;
}

void bundle_writer_set_aux_level(bundle_writer *w, int level)
{
    w->aux_level = level;
}

int bundle_writer_set_run(bundle_writer *w, enum bundle_run_mode mode,
                          const char *target, uint32_t python_hex,
                          kl_err *err)
{
    char *copy = strdup(target ? target : "");

    if (copy == NULL)
        return kl_err_set(err, "out of memory");
    free(w->run_target);
    w->run_target = copy;
    w->run_mode = mode;
    w->python_hex = python_hex;
    return 0;
}

/* qsort order: namespace, then name bytes. */
static int writer_entry_cmp(const void *a, const void *b)
{
    const writer_entry *x = a, *y = b;
    int nx = bundle_kind_ns(x->kind), ny = bundle_kind_ns(y->kind);

    if (nx != ny)
        return nx < ny ? -1 : 1;
    return strcmp(x->name, y->name);
}

static uint64_t writer_align(uint64_t n, uint64_t a)
{
    return (n + a - 1) / a * a;
}

/* Where a payload of this kind must start. */
static uint64_t writer_payload_align(unsigned kind)
{
    switch (kind) {
    case BUNDLE_KIND_EXTENSION:
    case BUNDLE_KIND_SHLIB:
    case BUNDLE_KIND_DATA:
        return BUNDLE_PAGE;
    default:
        return BUNDLE_SMALL_ALIGN;
    }
}

/* Copy part into the payload area at offset at and describe it in the
 * entry fields given. Returns the offset just past it. */
static uint64_t writer_place(const writer_part *part, uint8_t *payload,
                             uint64_t at, uint64_t *off, uint64_t *size,
                             uint64_t *raw_size, uint64_t *check)
{
    *off = at;
    *size = part->size;
    *raw_size = part->raw_size;
    if (part->size)
        memcpy(payload + at, part->bytes, part->size);
    *check = kl_checksum(KL_CHECKSUM_SEED, part->bytes, part->size);
    return at + part->size;
}

int bundle_writer_finish(bundle_writer *w, uint64_t at, uint8_t **out,
                         size_t *size, kl_err *err)
{
    bundle_header h;
    bundle_trailer t;
    uint64_t strings_size = 1, payload_size = 0, total;
    uint8_t *buf;
    size_t i;
    uint32_t slots = 16;
    uint64_t str_at, pay_at;
    bundle_entry *entries;
    uint32_t *table;
    char *strings;
    uint8_t *payload;

    *out = NULL;
    *size = 0;
    if (at % BUNDLE_PAGE != 0)
        return kl_err_set(err, "internal: bundle offset not page-aligned");
    if (w->count > UINT32_MAX / 4)
        return kl_err_set(err, "too many entries");
    if (w->count > 1)
        qsort(w->items, w->count, sizeof *w->items, writer_entry_cmp);
    while (slots < w->count * 2)
        slots *= 2;

    for (i = 0; i < w->count; i++) {
        writer_entry *e = &w->items[i];

        strings_size += strlen(e->name) + 1 + strlen(e->path) + 1;
        payload_size = writer_align(payload_size, writer_payload_align(e->kind));
        payload_size += e->data.size;
        payload_size = writer_align(payload_size, BUNDLE_SMALL_ALIGN);
        payload_size += e->aux.size;
    }
    payload_size = writer_align(payload_size, 8); /* the trailer follows */
    strings_size += strlen(w->run_target ? w->run_target : "") + 1;
    if (strings_size > UINT32_MAX)
        return kl_err_set(err, "too many names for one bundle");

    memset(&h, 0, sizeof h);
    memcpy(h.magic, BUNDLE_HEADER_MAGIC, 8);
    h.version = BUNDLE_VERSION;
    h.header_size = sizeof h;
    h.entry_count = (uint32_t)w->count;
    h.hash_slots = slots;
    h.entries_off = sizeof h;
    h.hash_off = h.entries_off + w->count * sizeof(bundle_entry);
    h.strings_off = h.hash_off + (uint64_t)slots * 4;
    h.strings_size = strings_size;
    h.payload_off = writer_align(h.strings_off + strings_size, BUNDLE_PAGE);
    h.payload_size = payload_size;
    h.python_hex = w->python_hex;
    h.run_mode = w->run_mode;
    total = h.payload_off + payload_size + sizeof t;

    buf = calloc(1, (size_t)total);
    if (buf == NULL)
        return kl_err_set(err, "out of memory (%llu bytes for the bundle)",
                          (unsigned long long)total);
    entries = (bundle_entry *)(buf + h.entries_off);
    table = (uint32_t *)(buf + h.hash_off);
    strings = (char *)(buf + h.strings_off);
    payload = buf + h.payload_off;
    str_at = 1;
    pay_at = 0;
    for (i = 0; i < w->count; i++) {
        writer_entry *we = &w->items[i];
        bundle_entry *e = &entries[i];
        size_t nlen = strlen(we->name), plen = strlen(we->path);
        uint32_t slot;

        e->kind = (uint8_t)we->kind;
        e->name_off = (uint32_t)str_at;
        e->name_len = (uint32_t)nlen;
        memcpy(strings + str_at, we->name, nlen + 1);
        str_at += nlen + 1;
        e->path_off = (uint32_t)str_at;
        e->path_len = (uint32_t)plen;
        memcpy(strings + str_at, we->path, plen + 1);
        str_at += plen + 1;

        pay_at = writer_align(pay_at, writer_payload_align(we->kind));
        pay_at = writer_place(&we->data, payload, pay_at, &e->data_off,
                              &e->data_size, &e->data_raw_size, &e->data_check);
        pay_at = writer_align(pay_at, BUNDLE_SMALL_ALIGN);
        pay_at = writer_place(&we->aux, payload, pay_at, &e->aux_off,
                              &e->aux_size, &e->aux_raw_size, &e->aux_check);
        e->flags = (uint8_t)((we->data.compressed ? BUNDLE_FLAG_DATA_ZSTD : 0) |
                             (we->aux.compressed ? BUNDLE_FLAG_AUX_ZSTD : 0));

        slot = (kl_name_hash(we->name, nlen) + (uint32_t)bundle_kind_ns(we->kind)) &
               (slots - 1);
        while (table[slot] != 0)
            slot = (slot + 1) & (slots - 1);
        table[slot] = (uint32_t)i + 1;
    }
    h.run_target_off = (uint32_t)str_at;
    h.run_target_len = (uint32_t)strlen(w->run_target ? w->run_target : "");
    if (h.run_target_len)
        memcpy(strings + str_at, w->run_target, h.run_target_len + 1);
    memcpy(buf, &h, sizeof h);

    memset(&t, 0, sizeof t);
    t.bundle_offset = at;
    t.bundle_size = h.payload_off + payload_size;
    t.index_checksum = kl_checksum(KL_CHECKSUM_SEED, buf, h.payload_off);
    t.bundle_checksum = kl_checksum(KL_CHECKSUM_SEED, buf, t.bundle_size);
    t.version = BUNDLE_VERSION;
    t.trailer_size = sizeof t;
    memcpy(t.magic, BUNDLE_TRAILER_MAGIC, 8);
    memcpy(buf + t.bundle_size, &t, sizeof t);
    *out = buf;
    *size = (size_t)total;
    return 0;
}
