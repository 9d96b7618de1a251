/*
 * bundle_reader.c: validate a bundle in place and look entries up in it.
 *
 * Nothing here allocates except bundle_read() when it decompresses. Every
 * offset and length taken from the file is checked against the mapping
 * before it is used; arithmetic on them goes through kl_add_size().
 */
#include "bundle.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Largest decompressed part accepted: guards against absurd sizes in a
 * damaged index before malloc sees them. */
#define BUNDLE_MAX_RAW (UINT64_C(1) << 34)

static const char bundle_damaged[] =
    "the program's bundle is damaged (%s); rebuild it with kiln build";

/* True when [off, off + len) lies inside [0, limit). */
static int bundle_in_range(uint64_t off, uint64_t len, uint64_t limit)
{
    uint64_t end;

    if (kl_add_size(off, len, &end) < 0)
        return 0;
    return end <= limit;
}

int bundle_present(const void *file, uint64_t size)
{
    if (size < sizeof(bundle_trailer))
        return 0;
    return memcmp((const uint8_t *)file + size - 8, BUNDLE_TRAILER_MAGIC, 8) == 0;
}

enum bundle_ns bundle_kind_ns(unsigned kind)
{
    switch (kind) {
    case BUNDLE_KIND_SHLIB:
        return BUNDLE_NS_LIB;
    case BUNDLE_KIND_DATA:
    case BUNDLE_KIND_PKGDATA:
    case BUNDLE_KIND_METADATA:
        return BUNDLE_NS_FILE;
    default:
        return BUNDLE_NS_MODULE;
    }
}

const char *bundle_kind_name(unsigned kind)
{
    static const char *const names[] = {
        "?", "module", "package", "namespace", "extension", "shlib", "data",
        "pkgdata", "metadata",
    };

    return kind <= BUNDLE_KIND_MAX ? names[kind] : "?";
}

int bundle_kind_can_be_external(unsigned kind)
{
    return kind == BUNDLE_KIND_EXTENSION || kind == BUNDLE_KIND_SHLIB ||
           bundle_kind_ns(kind) == BUNDLE_NS_FILE;
}

/* bundle_path_inside() of s[0, n); when one_part, also no '/' at all. */
static int bundle_path_stays_inside(const char *s, size_t n, int one_part)
{
    size_t i = 0;

    if (n == 0)
        return 0;
    while (i <= n) {
        size_t j = i;

        while (j < n && s[j] != '/')
            j++;
        if (j == i || (j - i == 1 && s[i] == '.') ||
            (j - i == 2 && s[i] == '.' && s[i + 1] == '.'))
            return 0;
        if (j < n && one_part)
            return 0;
        i = j + 1;
    }
    return 1;
}

int bundle_path_inside(const char *path)
{
    return bundle_path_stays_inside(path, strlen(path), 0);
}

/* Check what an external entry must be: a kind whose data is a file, in a
 * folder program, stored as it is, at a path inside the folder. */
static int bundle_check_external_entry(const bundle_view *v,
                                       const bundle_entry *e)
{
    return bundle_kind_can_be_external(e->kind) &&
           v->header->folder_len > 0 && e->data_off == 0 &&
           !(e->flags & BUNDLE_FLAG_DATA_ZSTD) &&
           e->data_raw_size == e->data_size &&
           bundle_path_stays_inside(v->strings + e->path_off, e->path_len, 0);
}

const char *bundle_run_mode_name(uint32_t mode)
{
    switch (mode) {
    case BUNDLE_RUN_SCRIPT: return "script";
    case BUNDLE_RUN_MODULE: return "module";
    case BUNDLE_RUN_ENTRY: return "entry";
    case BUNDLE_RUN_INTERPRETER: return "interpreter";
    default: return "?";
    }
}

int bundle_entry_order(unsigned kind_a, const char *name_a, unsigned kind_b,
                       const char *name_b)
{
    enum bundle_ns a = bundle_kind_ns(kind_a), b = bundle_kind_ns(kind_b);

    if (a != b)
        return a < b ? -1 : 1;
    return strcmp(name_a, name_b);
}

/* Check one entry's strings and payload bounds against the view. */
static int bundle_check_entry(const bundle_view *v, const bundle_entry *e,
                              uint32_t i, kl_err *err)
{
    const bundle_header *h = v->header;
    char what[96];

    if (e->kind == 0 || e->kind > BUNDLE_KIND_MAX) {
        snprintf(what, sizeof what, "entry %u has unknown kind %u", i, e->kind);
        return kl_err_set(err, bundle_damaged, what);
    }
    if (!bundle_in_range(e->name_off, (uint64_t)e->name_len + 1,
                         h->strings_size) ||
        !bundle_in_range(e->path_off, (uint64_t)e->path_len + 1,
                         h->strings_size) ||
        v->strings[(uint64_t)e->name_off + e->name_len] != '\0' ||
        v->strings[(uint64_t)e->path_off + e->path_len] != '\0') {
        snprintf(what, sizeof what, "entry %u has a bad name", i);
        return kl_err_set(err, bundle_damaged, what);
    }
    /* One test for the common case: no flag but compression. */
    if ((e->flags & ~(BUNDLE_FLAG_DATA_ZSTD | BUNDLE_FLAG_AUX_ZSTD)) != 0 &&
        ((e->flags & ~BUNDLE_FLAGS_KNOWN) != 0 ||
         ((e->flags & BUNDLE_FLAG_EXTERNAL) &&
          !bundle_check_external_entry(v, e)) ||
         ((e->flags & BUNDLE_FLAG_SOURCE) && e->kind != BUNDLE_KIND_MODULE &&
          e->kind != BUNDLE_KIND_PACKAGE) ||
         ((e->flags & BUNDLE_FLAG_FILES) && e->kind != BUNDLE_KIND_PACKAGE))) {
        snprintf(what, sizeof what, "entry %u has bad flags", i);
        return kl_err_set(err, bundle_damaged, what);
    }
    if ((!bundle_in_range(e->data_off, e->data_size, h->payload_size) &&
         !(e->flags & BUNDLE_FLAG_EXTERNAL)) ||
        !bundle_in_range(e->aux_off, e->aux_size, h->payload_size) ||
        e->data_raw_size > BUNDLE_MAX_RAW || e->aux_raw_size > BUNDLE_MAX_RAW) {
        snprintf(what, sizeof what, "entry %u points outside the bundle", i);
        return kl_err_set(err, bundle_damaged, what);
    }
    return 0;
}

int bundle_open(bundle_view *v, const void *file, uint64_t size, kl_err *err)
{
    const uint8_t *f = file;
    const bundle_trailer *t = &v->trailer;
    const bundle_header *h;
    uint64_t start, index_end, n;
    uint32_t i;

    memset(v, 0, sizeof *v);
    if (!bundle_present(file, size))
        return kl_err_set(err, "no kiln bundle at the end of the file "
                               "(not a kiln program, or a truncated one)");
    memcpy(&v->trailer, f + size - sizeof *t, sizeof *t);
    if (t->version != BUNDLE_VERSION)
        return kl_err_set(err, "bundle format version %u, this kiln reads "
                               "version %d; rebuild with this kiln",
                          t->version, BUNDLE_VERSION);
    if (t->trailer_size != sizeof *t || t->bundle_offset % BUNDLE_PAGE != 0 ||
        !bundle_in_range(t->bundle_offset, t->bundle_size, size - sizeof *t) ||
        t->bundle_offset + t->bundle_size != size - sizeof *t ||
        t->bundle_size < sizeof *h)
        return kl_err_set(err, bundle_damaged, "bad trailer, or file cut short");
    start = t->bundle_offset;
    h = (const bundle_header *)(f + start);
    if (memcmp(h->magic, BUNDLE_HEADER_MAGIC, 8) != 0 ||
        h->version != BUNDLE_VERSION || h->header_size != sizeof *h)
        return kl_err_set(err, bundle_damaged, "bad header");
    if (h->hash_slots < 16 || (h->hash_slots & (h->hash_slots - 1)) != 0 ||
        h->hash_slots / 2 < h->entry_count)
        return kl_err_set(err, bundle_damaged, "bad hash table size");
    n = (uint64_t)h->entry_count * sizeof(bundle_entry);
    if (h->entries_off % 8 || h->hash_off % 4 ||
        !bundle_in_range(h->entries_off, n, h->payload_off) ||
        !bundle_in_range(h->hash_off, (uint64_t)h->hash_slots * 4,
                         h->payload_off) ||
        !bundle_in_range(h->strings_off, h->strings_size, h->payload_off) ||
        h->strings_size == 0 ||
        !bundle_in_range(h->payload_off, h->payload_size, t->bundle_size) ||
        (start + h->payload_off) % BUNDLE_PAGE != 0)
        return kl_err_set(err, bundle_damaged, "index outside the bundle");
    index_end = h->payload_off;
    if (kl_checksum(KL_CHECKSUM_SEED, h, index_end) != t->index_checksum)
        return kl_err_set(err, bundle_damaged, "index checksum mismatch");

    v->file = f;
    v->file_size = size;
    v->base = f + start;
    v->header = h;
    v->entries = (const bundle_entry *)(v->base + h->entries_off);
    v->slots = (const uint32_t *)(v->base + h->hash_off);
    v->strings = (const char *)(v->base + h->strings_off);
    v->payload = v->base + h->payload_off;
    if (v->strings[0] != '\0' || v->strings[h->strings_size - 1] != '\0')
        return kl_err_set(err, bundle_damaged, "bad string table");
    if (h->run_target_len > 0 &&
        (!bundle_in_range(h->run_target_off, (uint64_t)h->run_target_len + 1,
                          h->strings_size) ||
         v->strings[h->run_target_off + h->run_target_len] != '\0'))
        return kl_err_set(err, bundle_damaged, "bad run target");
    if (h->folder_len > 0 &&
        (!bundle_in_range(h->folder_off, (uint64_t)h->folder_len + 1,
                          h->strings_size) ||
         v->strings[h->folder_off + h->folder_len] != '\0' ||
         !bundle_path_stays_inside(v->strings + h->folder_off, h->folder_len,
                                   1)))
        return kl_err_set(err, bundle_damaged, "bad folder name");
    if (h->runtime_path_len > 0 &&
        (!bundle_in_range(h->runtime_path_off,
                          (uint64_t)h->runtime_path_len + 1,
                          h->strings_size) ||
         v->strings[h->runtime_path_off + h->runtime_path_len] != '\0'))
        return kl_err_set(err, bundle_damaged, "bad runtime path");
    if (h->options_len > 0 &&
        (!bundle_in_range(h->options_off, (uint64_t)h->options_len + 1,
                          h->strings_size) ||
         v->strings[h->options_off + h->options_len] != '\0' ||
         v->strings[h->options_off + h->options_len - 1] != '\n'))
        return kl_err_set(err, bundle_damaged, "bad interpreter options");
    for (i = 0; i < h->entry_count; i++)
        if (bundle_check_entry(v, &v->entries[i], i, err) < 0)
            return -1;
    for (i = 0; i < h->hash_slots; i++)
        if (v->slots[i] > h->entry_count)
            return kl_err_set(err, bundle_damaged, "bad hash slot");
    return 0;
}

const bundle_entry *bundle_find(const bundle_view *v, enum bundle_ns ns,
                                const char *name, size_t len)
{
    const bundle_header *h = v->header;
    uint32_t mask = h->hash_slots - 1;
    uint32_t slot = (kl_name_hash(name, len) + (uint32_t)ns) & mask;
    uint32_t probes;

    for (probes = 0; probes <= mask; probes++) {
        uint32_t idx = v->slots[slot];
        const bundle_entry *e;

        if (idx == 0)
            return NULL;
        e = &v->entries[idx - 1];
        if (e->name_len == len && bundle_kind_ns(e->kind) == ns &&
            memcmp(v->strings + e->name_off, name, len) == 0)
            return e;
        slot = (slot + 1) & mask;
    }
    return NULL;
}

const bundle_entry *bundle_find_prefix(const bundle_view *v,
                                      enum bundle_ns ns, const char *prefix,
                                      size_t len)
{
    uint32_t lo = 0, hi = v->header->entry_count;
    const bundle_entry *e;

    /* The entry table is in bundle_entry_order: the first entry of ns
     * whose name is not below prefix starts the run of names with it. */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        enum bundle_ns m;
        int c;

        e = &v->entries[mid];
        m = bundle_kind_ns(e->kind);
        if (m != ns) {
            c = m < ns ? -1 : 1;
        } else {
            c = memcmp(v->strings + e->name_off, prefix,
                       e->name_len < len ? e->name_len : len);
            if (c == 0 && e->name_len < len)
                c = -1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == v->header->entry_count)
        return NULL;
    e = &v->entries[lo];
    if (bundle_kind_ns(e->kind) != ns || e->name_len < len ||
        memcmp(v->strings + e->name_off, prefix, len) != 0)
        return NULL;
    return e;
}

const char *bundle_entry_name(const bundle_view *v, const bundle_entry *e)
{
    return v->strings + e->name_off;
}

const char *bundle_entry_path(const bundle_view *v, const bundle_entry *e)
{
    return v->strings + e->path_off;
}

const char *bundle_run_target(const bundle_view *v)
{
    if (v->header->run_target_len == 0)
        return "";
    return v->strings + v->header->run_target_off;
}

const char *bundle_runtime_path(const bundle_view *v)
{
    if (v->header->runtime_path_len == 0)
        return "";
    return v->strings + v->header->runtime_path_off;
}

const char *bundle_options(const bundle_view *v)
{
    if (v->header->options_len == 0)
        return "";
    return v->strings + v->header->options_off;
}

const char *bundle_folder(const bundle_view *v)
{
    if (v->header->folder_len == 0)
        return "";
    return v->strings + v->header->folder_off;
}

int bundle_check_external(const bundle_view *v, const bundle_entry *e,
                          const void *bytes, uint64_t size, kl_err *err)
{
    assert(e->flags & BUNDLE_FLAG_EXTERNAL);
    if (size != e->data_size ||
        kl_checksum(KL_CHECKSUM_SEED, bytes, (size_t)size) != e->data_check)
        return kl_err_set(err, "%s/%s is damaged or was replaced (%s); "
                               "rebuild the program with kiln build",
                          bundle_folder(v), bundle_entry_path(v, e),
                          size != e->data_size ? "size mismatch"
                                               : "checksum mismatch");
    return 0;
}

int bundle_span(const bundle_view *v, const bundle_entry *e,
                enum bundle_part part, const uint8_t **data, size_t *size,
                kl_err *err)
{
    uint64_t off = part == BUNDLE_PART_DATA ? e->data_off : e->aux_off;
    uint64_t stored = part == BUNDLE_PART_DATA ? e->data_size : e->aux_size;
    uint64_t raw = part == BUNDLE_PART_DATA ? e->data_raw_size : e->aux_raw_size;
    unsigned zflag = part == BUNDLE_PART_DATA ? BUNDLE_FLAG_DATA_ZSTD
                                              : BUNDLE_FLAG_AUX_ZSTD;

    *data = NULL;
    *size = 0;
    if ((part == BUNDLE_PART_DATA && (e->flags & BUNDLE_FLAG_EXTERNAL)) ||
        (e->flags & zflag))
        return kl_err_set(err, "%s: its data is not stored as is in the "
                               "bundle (internal error)",
                          bundle_entry_name(v, e));
    if (!bundle_in_range(off, stored, v->header->payload_size))
        return kl_err_set(err, bundle_damaged, "entry outside the bundle");
    if (raw != stored)
        return kl_err_set(err, bundle_damaged, "size mismatch");
    *data = v->payload + off;
    *size = (size_t)stored;
    return 0;
}

int bundle_read(const bundle_view *v, const bundle_entry *e,
                enum bundle_part part, const uint8_t **data, size_t *size,
                uint8_t **owned, kl_err *err)
{
    uint64_t off = part == BUNDLE_PART_DATA ? e->data_off : e->aux_off;
    uint64_t stored = part == BUNDLE_PART_DATA ? e->data_size : e->aux_size;
    uint64_t raw = part == BUNDLE_PART_DATA ? e->data_raw_size : e->aux_raw_size;
    uint64_t check = part == BUNDLE_PART_DATA ? e->data_check : e->aux_check;
    unsigned zflag = part == BUNDLE_PART_DATA ? BUNDLE_FLAG_DATA_ZSTD
                                              : BUNDLE_FLAG_AUX_ZSTD;
    const uint8_t *src;
    uint8_t *buf;
    size_t got;

    *data = NULL;
    *size = 0;
    *owned = NULL;
    if (part == BUNDLE_PART_DATA && (e->flags & BUNDLE_FLAG_EXTERNAL))
        return kl_err_set(err, "%s: its data is the file %s/%s, not in the "
                               "bundle (internal error)",
                          bundle_entry_name(v, e), bundle_folder(v),
                          bundle_entry_path(v, e));
    if (!bundle_in_range(off, stored, v->header->payload_size))
        return kl_err_set(err, bundle_damaged, "entry outside the bundle");
    src = v->payload + off;
    if (kl_checksum(KL_CHECKSUM_SEED, src, stored) != check)
        return kl_err_set(err, "%s: " "the program's bundle is damaged "
                               "(checksum mismatch); rebuild it with kiln build",
                          bundle_entry_name(v, e));
    if (!(e->flags & zflag)) {
        if (raw != stored)
            return kl_err_set(err, bundle_damaged, "size mismatch");
        *data = src;
        *size = (size_t)stored;
        return 0;
    }
    if (raw > BUNDLE_MAX_RAW)
        return kl_err_set(err, bundle_damaged, "entry too large");
    buf = malloc(raw ? (size_t)raw : 1);
    if (buf == NULL)
        return kl_err_set(err, "%s: out of memory (%llu bytes)",
                          bundle_entry_name(v, e), (unsigned long long)raw);
    got = ZSTD_decompress(buf, (size_t)raw, src, (size_t)stored);
    if (ZSTD_isError(got) || got != raw) {
        free(buf);
        return kl_err_set(err, "%s: the program's bundle is damaged (%s); "
                               "rebuild it with kiln build",
                          bundle_entry_name(v, e),
                          ZSTD_isError(got) ? ZSTD_getErrorName(got)
                                            : "size mismatch");
    }
    *data = buf;
    *size = (size_t)raw;
    *owned = buf;
    return 0;
}

int bundle_verify(const bundle_view *v, kl_err *err)
{
    const bundle_header *h = v->header;
    uint32_t i;

    if (kl_checksum(KL_CHECKSUM_SEED, v->base, v->trailer.bundle_size) !=
        v->trailer.bundle_checksum)
        return kl_err_set(err, bundle_damaged, "bundle checksum mismatch");
    for (i = 0; i < h->entry_count; i++) {
        const bundle_entry *e = &v->entries[i];
        int part;

        for (part = BUNDLE_PART_DATA; part <= BUNDLE_PART_AUX; part++) {
            const uint8_t *d;
            size_t n;
            uint8_t *owned;

            if (part == BUNDLE_PART_DATA && (e->flags & BUNDLE_FLAG_EXTERNAL))
                continue;
            if (bundle_read(v, e, (enum bundle_part)part, &d, &n, &owned,
                            err) < 0)
                return -1;
            free(owned);
        }
    }
    return 0;
}
