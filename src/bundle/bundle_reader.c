/*
 * bundle_reader.c: validate a bundle in place and look entries up in it.
 *
 * Nothing here allocates except bundle_read() when it decompresses and
 * bundle_open_lazy() for what it has checked. Every offset and length
 * taken from the file is checked against the mapping before it is used;
 * arithmetic on them goes through kl_add_size(). A lazily opened view
 * reads a page of its index only once its checksum is checked.
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

/* What a lazily opened view has checked of its index. */
struct bundle_lazy {
    const uint64_t *sums;  /* the page checksums (checked at open) */
    uint64_t pages;        /* how many */
    int all;               /* the whole index is checked */
    int damaged;           /* a lookup found damage, said in damage */
    kl_err damage;
    uint8_t checked[];     /* one bit per page */
};

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
    case BUNDLE_RUN_EXTENSION: return "extension";
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

/* True when the zstd frame src[0, n) can decompress to exactly raw
 * bytes: it records raw as its size (every frame kiln writes does), and
 * is long enough to hold that many bytes (a block gives at most
 * ZSTD_BLOCKSIZE_MAX bytes and takes at least 4: a 3-byte header and one
 * byte repeated). Checked before a buffer of raw bytes is allocated, so
 * that a size the frame cannot fill is reported as damage, not as an
 * allocation that fails. */
static int bundle_zstd_fits(const uint8_t *src, uint64_t n, uint64_t raw)
{
    return ZSTD_getFrameContentSize(src, (size_t)n) == raw &&
           raw / ZSTD_BLOCKSIZE_MAX <= n / 4;
}

/* Record damage found by a lookup in lazily opened view v: what names
 * it. Returns 0, for `return bundle_lazy_fail(...)` in a test. */
static int bundle_lazy_fail(const bundle_view *v, const char *what)
{
    struct bundle_lazy *z = v->lazy;

    if (!z->damaged)
        kl_err_set(&z->damage, bundle_damaged, what);
    z->damaged = 1;
    return 0;
}

/* Check page i of v's index against its checksum, once. */
static int bundle_lazy_page(const bundle_view *v, uint64_t i)
{
    struct bundle_lazy *z = v->lazy;
    uint64_t at = i * BUNDLE_PAGE, end = v->header->pagesum_off;
    char what[64];

    if (z->checked[i / 8] & (1u << (i % 8)))
        return 1;
    if (kl_checksum(KL_CHECKSUM_SEED, v->base + at,
                    (size_t)(end - at < BUNDLE_PAGE ? end - at
                                                    : BUNDLE_PAGE)) !=
        z->sums[i]) {
        snprintf(what, sizeof what, "page %llu of the index",
                 (unsigned long long)i);
        return bundle_lazy_fail(v, what);
    }
    z->checked[i / 8] |= (uint8_t)(1u << (i % 8));
    return 1;
}

/* Before reading v->base[off, off + len), all inside [0, pagesum_off):
 * when v was opened lazily, check the pages it covers. 1 when they are
 * sound (or were checked at open), 0 when one is damaged. */
static int bundle_see(const bundle_view *v, uint64_t off, uint64_t len)
{
    uint64_t p;

    if (v->lazy == NULL || v->lazy->all || len == 0)
        return 1;
    assert(off + len <= v->header->pagesum_off);
    for (p = off / BUNDLE_PAGE; p <= (off + len - 1) / BUNDLE_PAGE; p++)
        if (!bundle_lazy_page(v, p))
            return 0;
    return 1;
}

/* bundle_see() of the bytes at p (inside v's index). */
static int bundle_see_at(const bundle_view *v, const void *p, uint64_t len)
{
    return bundle_see(v, (uint64_t)((const uint8_t *)p - v->base), len);
}

/* bundle_see() of string s[off, off + len] of v's string table (its NUL
 * included) when that lies inside the table; 1 when it does not, for the
 * bounds check to report. */
static int bundle_see_string(const bundle_view *v, uint64_t off, uint64_t len)
{
    if (!bundle_in_range(off, len + 1, v->header->strings_size))
        return 1;
    return bundle_see(v, v->header->strings_off + off, len + 1);
}

/* In a lazily opened view, check entry e (number i) before a lookup uses
 * it: its page and its strings' pages, then as bundle_open checks every
 * entry. 1 sound (always, for a view checked whole), 0 damaged. */
static int bundle_lazy_entry(const bundle_view *v, const bundle_entry *e,
                             uint32_t i)
{
    kl_err err;

    if (v->lazy == NULL || v->lazy->all)
        return 1;
    if (!bundle_see_at(v, e, sizeof *e) ||
        !bundle_see_string(v, e->name_off, e->name_len) ||
        !bundle_see_string(v, e->path_off, e->path_len))
        return 0;
    if (bundle_check_entry(v, e, i, &err) < 0) {
        if (!v->lazy->damaged)
            v->lazy->damage = err;
        v->lazy->damaged = 1;
        return 0;
    }
    return 1;
}

/* The checks of bundle_open that read only the trailer and the header:
 * the tables' bounds. Fills *v. */
static int bundle_open_head(bundle_view *v, const void *file, uint64_t size,
                            kl_err *err)
{
    const uint8_t *f = file;
    const bundle_trailer *t = &v->trailer;
    const bundle_header *h;
    uint64_t start, n;

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
    if (h->pagesum_off != 0 &&
        (h->pagesum_off % 8 != 0 ||
         h->pagesum_off < h->strings_off + h->strings_size ||
         h->entries_off + n > h->pagesum_off ||
         h->hash_off + (uint64_t)h->hash_slots * 4 > h->pagesum_off ||
         !bundle_in_range(h->pagesum_off,
                          bundle_pagesum_count(h->pagesum_off) * 8,
                          h->payload_off)))
        return kl_err_set(err, bundle_damaged, "bad page checksums");

    v->file = f;
    v->file_size = size;
    v->base = f + start;
    v->header = h;
    v->entries = (const bundle_entry *)(v->base + h->entries_off);
    v->slots = (const uint32_t *)(v->base + h->hash_off);
    v->strings = (const char *)(v->base + h->strings_off);
    v->payload = v->base + h->payload_off;
    return 0;
}

/* The checks of the header's strings: the string table's ends, the run
 * target, folder, runtime path and options. In a lazily opened view the
 * pages they lie on are checked first. */
static int bundle_open_strings(const bundle_view *v, kl_err *err)
{
    const bundle_header *h = v->header;

    if (!bundle_see_string(v, 0, 0) ||
        !bundle_see_string(v, h->strings_size - 1, 0) ||
        (h->run_target_len > 0 &&
         !bundle_see_string(v, h->run_target_off, h->run_target_len)) ||
        (h->folder_len > 0 &&
         !bundle_see_string(v, h->folder_off, h->folder_len)) ||
        (h->runtime_path_len > 0 &&
         !bundle_see_string(v, h->runtime_path_off, h->runtime_path_len)) ||
        (h->options_len > 0 &&
         !bundle_see_string(v, h->options_off, h->options_len))) {
        *err = v->lazy->damage;
        return -1;
    }
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
    return 0;
}

/* The checks of bundle_open that read every entry and slot. */
static int bundle_check_entries(const bundle_view *v, kl_err *err)
{
    const bundle_header *h = v->header;
    uint32_t i;

    for (i = 0; i < h->entry_count; i++)
        if (bundle_check_entry(v, &v->entries[i], i, err) < 0)
            return -1;
    for (i = 0; i < h->hash_slots; i++)
        if (v->slots[i] > h->entry_count)
            return kl_err_set(err, bundle_damaged, "bad hash slot");
    return 0;
}

int bundle_open(bundle_view *v, const void *file, uint64_t size, kl_err *err)
{
    memset(v, 0, sizeof *v);
    if (bundle_open_head(v, file, size, err) < 0)
        return -1;
    if (kl_checksum(KL_CHECKSUM_SEED, v->base, v->header->payload_off) !=
        v->trailer.index_checksum)
        return kl_err_set(err, bundle_damaged, "index checksum mismatch");
    if (bundle_open_strings(v, err) < 0)
        return -1;
    return bundle_check_entries(v, err);
}

/* Check the page checksums of a lazily opened view against the header's
 * check, and the header's own page against them (with pagesum_check
 * taken as zero there). */
static int bundle_lazy_open_sums(bundle_view *v, kl_err *err)
{
    const bundle_header *h = v->header;
    struct bundle_lazy *z = v->lazy;
    uint64_t first = h->pagesum_off < BUNDLE_PAGE ? h->pagesum_off
                                                  : BUNDLE_PAGE;
    uint8_t page[BUNDLE_PAGE];
    bundle_header *copy = (bundle_header *)page;

    if (kl_checksum(KL_CHECKSUM_SEED, z->sums, (size_t)(z->pages * 8)) !=
        h->pagesum_check)
        return kl_err_set(err, bundle_damaged, "page checksums mismatch");
    memcpy(page, v->base, (size_t)first);
    copy->pagesum_check = 0;
    if (kl_checksum(KL_CHECKSUM_SEED, page, (size_t)first) != z->sums[0])
        return kl_err_set(err, bundle_damaged, "page 0 of the index");
    z->checked[0] |= 1;
    return 0;
}

int bundle_open_lazy(bundle_view *v, const void *file, uint64_t size,
                     kl_err *err)
{
    uint64_t pages;

    memset(v, 0, sizeof *v);
    if (bundle_open_head(v, file, size, err) < 0)
        return -1;
    if (v->header->pagesum_off == 0)
        return bundle_open(v, file, size, err);
    pages = bundle_pagesum_count(v->header->pagesum_off);
    v->lazy = calloc(1, sizeof *v->lazy + (size_t)(pages + 7) / 8);
    if (v->lazy == NULL)
        return kl_err_oom(err);
    v->lazy->pages = pages;
    v->lazy->sums = (const uint64_t *)(v->base + v->header->pagesum_off);
    if (bundle_lazy_open_sums(v, err) < 0 || bundle_open_strings(v, err) < 0) {
        bundle_close(v);
        return -1;
    }
    return 0;
}

void bundle_close(bundle_view *v)
{
    free(v->lazy);
    v->lazy = NULL;
}

const kl_err *bundle_damage(const bundle_view *v)
{
    return v->lazy != NULL && v->lazy->damaged ? &v->lazy->damage : NULL;
}

int bundle_check_index(const bundle_view *v, kl_err *err)
{
    struct bundle_lazy *z = v->lazy;
    uint64_t i;

    if (z == NULL || z->all)
        return 0;
    for (i = 0; i < z->pages; i++)
        if (!bundle_lazy_page(v, i)) {
            *err = z->damage;
            return -1;
        }
    if (bundle_check_entries(v, err) < 0)
        return -1;
    z->all = 1;
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
        const bundle_entry *e;
        uint32_t idx;

        if (!bundle_see_at(v, &v->slots[slot], sizeof *v->slots))
            return NULL;
        idx = v->slots[slot];
        if (idx == 0)
            return NULL;
        if (idx > h->entry_count) {
            if (v->lazy != NULL)
                bundle_lazy_fail(v, "bad hash slot");
            return NULL;
        }
        e = &v->entries[idx - 1];
        if (!bundle_lazy_entry(v, e, idx - 1))
            return NULL;
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
        if (!bundle_lazy_entry(v, e, mid))
            return NULL;
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
    if (!bundle_lazy_entry(v, e, lo))
        return NULL;
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
    if (!bundle_zstd_fits(src, stored, raw))
        return kl_err_set(err, "%s: the program's bundle is damaged (size "
                               "mismatch); rebuild it with kiln build",
                          bundle_entry_name(v, e));
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
