/*
 * bundle_writer.c: write a bundle to a file as its payloads arrive.
 *
 * Layout (docs/format.md): header, entry table in bundle_entry_order(),
 * hash table, string table, then the payload area starting on a page
 * boundary. Extension modules, shared libraries and data files start on a
 * page boundary (they can be mapped); bytecode and sources are packed at
 * 16-byte alignment to keep a stdlib-sized bundle small.
 *
 * Every name is declared before the first payload, so the size of the
 * index, and with it where the payload area starts, is known up front.
 * Payloads are then streamed to the file in declaration order, through one
 * reused buffer, their checksums computed on the way; the index, which
 * records where each payload went, is written last, at the front.
 */
#include "bundle.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <zstd.h>

/* Bytes read, compressed or checked per step when streaming a file. */
#define WRITER_CHUNK ((size_t)1 << 20)

typedef struct writer_entry {
    char *name;        /* owned */
    char *path;        /* owned */
    bundle_entry rec;  /* kind, flags and payload fields; strings at finish */
} writer_entry;

struct bundle_writer {
    writer_entry *items;
    size_t count;
    size_t cap;
    size_t next;           /* entry whose payloads the next put stores */
    enum bundle_run_mode run_mode;
    char *run_target;      /* owned */
    char *folder;          /* owned; NULL for a one-file program */
    char *runtime_path;    /* owned; NULL for none */
    char *options;         /* owned; NULL for none */
    uint32_t python_hex;
    int fd;                /* the output; -1 before begin */
    uint64_t at;           /* file offset of the bundle */
    bundle_header header;  /* laid out by begin */
    uint64_t end;          /* payload bytes written so far */
    uint8_t *buf;          /* WRITER_CHUNK bytes: source data */
    uint8_t *zbuf;         /* WRITER_CHUNK bytes: compressed data */
    ZSTD_CCtx *cctx;
};

static const uint8_t writer_zeros[BUNDLE_PAGE];

bundle_writer *bundle_writer_new(void)
{
    bundle_writer *w = calloc(1, sizeof *w);

    if (w != NULL)
        w->fd = -1;
    return w;
}

void bundle_writer_free(bundle_writer *w)
{
    size_t i;

    if (w == NULL)
        return;
    for (i = 0; i < w->count; i++) {
        free(w->items[i].name);
        free(w->items[i].path);
    }
    free(w->items);
    free(w->run_target);
    free(w->folder);
    free(w->runtime_path);
    free(w->options);
    free(w->buf);
    free(w->zbuf);
    ZSTD_freeCCtx(w->cctx);
    free(w);
}

int bundle_writer_add(bundle_writer *w, unsigned kind, const char *name,
                      const char *path, kl_err *err)
{
    writer_entry *e;

    if (w->fd >= 0)
        return kl_err_set(err, "%s: declared after the payloads began "
                               "(internal error)", name);
    if (kind == 0 || kind > BUNDLE_KIND_MAX)
        return kl_err_set(err, "%s: unknown entry kind %u", name, kind);
    if (strlen(name) == 0 || strlen(name) > UINT32_MAX / 2 ||
        strlen(path) > UINT32_MAX / 2)
        return kl_err_set(err, "bad entry name '%s'", name);
    if (w->count > 0) {
        const writer_entry *prev = &w->items[w->count - 1];
        int order = bundle_entry_order(prev->rec.kind, prev->name, kind, name);

        if (order == 0)
            return kl_err_set(err, "%s: added to the bundle twice", name);
        if (order > 0)
            return kl_err_set(err, "%s: declared out of order after %s "
                                   "(internal error)", name, prev->name);
    }
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        writer_entry *items = realloc(w->items, cap * sizeof *items);

        if (items == NULL)
            return kl_err_oom(err);
        w->items = items;
        w->cap = cap;
    }
    e = &w->items[w->count];
    memset(e, 0, sizeof *e);
    e->rec.kind = (uint8_t)kind;
    e->name = strdup(name);
    e->path = strdup(path);
    if (e->name == NULL || e->path == NULL) {
        free(e->name);
        free(e->path);
        return kl_err_oom(err);
    }
    w->count++;
    return 0;
}

int bundle_writer_mark_files(bundle_writer *w, kl_err *err)
{
    writer_entry *e;

    assert(w->count > 0 && w->fd < 0);
    e = &w->items[w->count - 1];
    if (e->rec.kind != BUNDLE_KIND_PACKAGE)
        return kl_err_set(err, "%s: only a package's files can be real "
                               "files (internal error)", e->name);
    e->rec.flags |= BUNDLE_FLAG_FILES;
    return 0;
}

int bundle_writer_set_run(bundle_writer *w, enum bundle_run_mode mode,
                          const char *target, uint32_t python_hex,
                          kl_err *err)
{
    char *copy;

    if (w->fd >= 0)
        return kl_err_set(err, "run mode set after the payloads began "
                               "(internal error)");
    copy = strdup(target ? target : "");
    if (copy == NULL)
        return kl_err_oom(err);
    free(w->run_target);
    w->run_target = copy;
    w->run_mode = mode;
    w->python_hex = python_hex;
    return 0;
}

int bundle_writer_set_folder(bundle_writer *w, const char *folder,
                             kl_err *err)
{
    char *copy;

    if (w->fd >= 0)
        return kl_err_set(err, "folder set after the payloads began "
                               "(internal error)");
    if (folder[0] == '\0' || strchr(folder, '/') != NULL ||
        strcmp(folder, ".") == 0 || strcmp(folder, "..") == 0 ||
        strlen(folder) > UINT32_MAX / 2)
        return kl_err_set(err, "'%s' cannot name the program's folder: it "
                               "must be one file name", folder);
    copy = strdup(folder);
    if (copy == NULL)
        return kl_err_oom(err);
    free(w->folder);
    w->folder = copy;
    return 0;
}

int bundle_writer_set_runtime_path(bundle_writer *w, const char *paths,
                                   kl_err *err)
{
    const char *p;
    char *copy;

    if (w->fd >= 0)
        return kl_err_set(err, "runtime path set after the payloads began "
                               "(internal error)");
    for (p = paths;; p++)
        if ((*p == ':' || *p == '\0') && (p == paths || p[-1] == ':'))
            return kl_err_set(err, "'%s' is not a list of directories: an "
                                   "entry is empty", paths);
        else if (*p == '\0')
            break;
    if (strlen(paths) > UINT32_MAX / 2)
        return kl_err_set(err, "the runtime path is too long");
    copy = strdup(paths);
    if (copy == NULL)
        return kl_err_oom(err);
    free(w->runtime_path);
    w->runtime_path = copy;
    return 0;
}

int bundle_writer_set_options(bundle_writer *w, const char *text,
                              kl_err *err)
{
    size_t n = strlen(text);
    char *copy;

    if (w->fd >= 0)
        return kl_err_set(err, "options set after the payloads began "
                               "(internal error)");
    if (n > 0 && text[n - 1] != '\n')
        return kl_err_set(err, "interpreter options do not end a line "
                               "(internal error)");
    if (n > UINT32_MAX / 2)
        return kl_err_set(err, "the interpreter options are too long");
    copy = n > 0 ? strdup(text) : NULL;
    if (n > 0 && copy == NULL)
        return kl_err_oom(err);
    free(w->options);
    w->options = copy;
    return 0;
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

int bundle_writer_begin(bundle_writer *w, int fd, uint64_t at, kl_err *err)
{
    bundle_header *h = &w->header;
    uint64_t strings_size = 1;
    uint32_t slots = 16;
    size_t i;

    assert(w->fd < 0);
    if (at % BUNDLE_PAGE != 0)
        return kl_err_set(err, "bundle offset %llu is not page-aligned "
                               "(internal error)", (unsigned long long)at);
    if (w->count > UINT32_MAX / 4)
        return kl_err_set(err, "too many entries for one bundle (%zu)",
                          w->count);
    while (slots < w->count * 2)
        slots *= 2;
    for (i = 0; i < w->count; i++)
        strings_size += strlen(w->items[i].name) + 1 +
                        strlen(w->items[i].path) + 1;
    strings_size += strlen(w->run_target ? w->run_target : "") + 1;
    if (w->folder != NULL)
        strings_size += strlen(w->folder) + 1;
    if (w->runtime_path != NULL)
        strings_size += strlen(w->runtime_path) + 1;
    if (w->options != NULL)
        strings_size += strlen(w->options) + 1;
    if (strings_size > UINT32_MAX)
        return kl_err_set(err, "too many names for one bundle");

    memset(h, 0, sizeof *h);
    memcpy(h->magic, BUNDLE_HEADER_MAGIC, 8);
    h->version = BUNDLE_VERSION;
    h->header_size = sizeof *h;
    h->entry_count = (uint32_t)w->count;
    h->hash_slots = slots;
    h->entries_off = sizeof *h;
    h->hash_off = h->entries_off + w->count * sizeof(bundle_entry);
    h->strings_off = h->hash_off + (uint64_t)slots * 4;
    h->strings_size = strings_size;
    h->pagesum_off = (uint32_t)kl_align(h->strings_off + strings_size, 8);
    if (h->pagesum_off != kl_align(h->strings_off + strings_size, 8))
        return kl_err_set(err, "the bundle's index is too large");
    h->payload_off = kl_align(h->pagesum_off +
                                  bundle_pagesum_count(h->pagesum_off) * 8,
                              BUNDLE_PAGE);
    h->python_hex = w->python_hex;
    h->run_mode = w->run_mode;

    w->buf = malloc(WRITER_CHUNK);
    w->zbuf = malloc(WRITER_CHUNK);
    w->cctx = ZSTD_createCCtx();
    if (w->buf == NULL || w->zbuf == NULL || w->cctx == NULL)
        return kl_err_oom(err);
    if (lseek(fd, (off_t)(at + h->payload_off), SEEK_SET) < 0)
        return kl_err_set(err, "cannot seek in the output: %s",
                          strerror(errno));
    w->fd = fd;
    w->at = at;
    w->end = 0;
    w->next = 0;
    return 0;
}

/* Append n payload bytes at p to the file. */
static int writer_emit(bundle_writer *w, const void *p, size_t n,
                       kl_err *err)
{
    if (kl_write_all(w->fd, p, n, "the program", err) < 0)
        return -1;
    w->end += n;
    return 0;
}

/* Append zero bytes until the payload area's end is a multiple of a. */
static int writer_pad(bundle_writer *w, uint64_t a, kl_err *err)
{
    uint64_t want = kl_align(w->end, a);

    while (w->end < want) {
        size_t n = want - w->end < sizeof writer_zeros
                       ? (size_t)(want - w->end) : sizeof writer_zeros;

        if (writer_emit(w, writer_zeros, n, err) < 0)
            return -1;
    }
    return 0;
}

/* Whether one of src's patches overlaps [off, off + n). */
static int writer_patched(const bundle_source *src, uint64_t off, size_t n)
{
    size_t i;

    for (i = 0; i < src->n_patches; i++)
        if (src->patches[i].off < off + n && src->patches[i].off + 8 > off)
            return 1;
    return 0;
}

/* Bytes [off, off + n) of src, head replacement and patches applied: in
 * place when src is in memory and neither is involved, else read into
 * w->buf. NULL with err set when the file cannot be read. */
static const uint8_t *writer_chunk(bundle_writer *w, const bundle_source *src,
                                   uint64_t off, size_t n, const char *name,
                                   kl_err *err)
{
    size_t i;

    assert(n <= WRITER_CHUNK);
    if (src->bytes != NULL && off >= src->head_size &&
        !writer_patched(src, off, n))
        return (const uint8_t *)src->bytes + off;
    if (src->bytes != NULL)
        memcpy(w->buf, (const uint8_t *)src->bytes + off, n);
    else if (kl_read_at(src->fd, w->buf, n, off, name, err) < 0)
        return NULL;
    if (off < src->head_size) {
        size_t k = src->head_size - off < n ? (size_t)(src->head_size - off)
                                            : n;

        memcpy(w->buf, (const uint8_t *)src->head + off, k);
    }
    for (i = 0; i < src->n_patches; i++) {
        const bundle_patch *pt = &src->patches[i];
        uint64_t k;

        for (k = 0; k < 8; k++)
            if (pt->off + k >= off && pt->off + k < off + n)
                w->buf[pt->off + k - off] = pt->bytes[k];
    }
    return w->buf;
}

/* The size of the chunk of src that starts at off. */
static size_t writer_chunk_size(const bundle_source *src, uint64_t off)
{
    return src->size - off < WRITER_CHUNK ? (size_t)(src->size - off)
                                          : WRITER_CHUNK;
}

/* Append src as it is to the payload area, or, when out >= 0, write it
 * to out (named `what` in errors) instead; fills *check. */
static int writer_copy(bundle_writer *w, const bundle_source *src,
                       const char *name, int out, const char *what,
                       uint64_t *check, kl_err *err)
{
    uint64_t off;
    kl_sum sum;

    kl_sum_init(&sum, KL_CHECKSUM_SEED);
    for (off = 0; off < src->size; off += WRITER_CHUNK) {
        size_t n = writer_chunk_size(src, off);
        const uint8_t *p = writer_chunk(w, src, off, n, name, err);

        if (p == NULL || (out < 0 ? writer_emit(w, p, n, err)
                                  : kl_write_all(out, p, n, what, err)) < 0)
            return -1;
        kl_sum_add(&sum, p, n);
    }
    *check = kl_sum_end(&sum);
    return 0;
}

/* Append src zstd-compressed at src->level, unless that is not smaller.
 * *stored is the compressed size, or 0 when compression did not pay and
 * nothing was kept. */
static int writer_compress(bundle_writer *w, const bundle_source *src,
                           const char *name, uint64_t *stored,
                           uint64_t *check, kl_err *err)
{
    uint64_t start = w->end, off = 0;
    kl_sum sum;
    size_t rc;

    *stored = 0;
    kl_sum_init(&sum, KL_CHECKSUM_SEED);
    rc = ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_and_parameters);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel,
                                    src->level);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setPledgedSrcSize(w->cctx, src->size);
    while (!ZSTD_isError(rc)) {
        size_t n = writer_chunk_size(src, off);
        int last = off + n == src->size;
        const uint8_t *p = writer_chunk(w, src, off, n, name, err);
        ZSTD_inBuffer in = {p, n, 0};

        if (p == NULL)
            return -1;
        off += n;
        do {
            ZSTD_outBuffer out = {w->zbuf, WRITER_CHUNK, 0};

            rc = ZSTD_compressStream2(w->cctx, &out, &in,
                                      last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(rc))
                break;
            if (w->end - start + out.pos >= src->size)
                goto not_smaller;
            if (writer_emit(w, w->zbuf, out.pos, err) < 0)
                return -1;
            kl_sum_add(&sum, w->zbuf, out.pos);
        } while (last ? rc != 0 : in.pos < in.size);
        if (last && !ZSTD_isError(rc))
            break;
    }
    if (ZSTD_isError(rc))
        return kl_err_set(err, "%s: zstd: %s", name, ZSTD_getErrorName(rc));
    *stored = w->end - start;
    *check = kl_sum_end(&sum);
    return 0;

not_smaller:
    if (lseek(w->fd, (off_t)(w->at + w->header.payload_off + start),
              SEEK_SET) < 0 ||
        ftruncate(w->fd, (off_t)(w->at + w->header.payload_off + start)) < 0)
        return kl_err_set(err, "cannot rewind the output: %s",
                          strerror(errno));
    w->end = start;
    return 0;
}

/* Append one payload and describe it in the entry fields given. */
static int writer_put_part(bundle_writer *w, const bundle_source *src,
                           const char *name, uint64_t *off, uint64_t *size,
                           uint64_t *raw_size, uint64_t *check,
                           int *compressed, kl_err *err)
{
    static const bundle_source none = {NULL, -1, 0, NULL, 0, 0, NULL, 0};
    uint64_t stored = 0;

    if (src == NULL)
        src = &none;
    assert(src->head_size <= src->size);
    *off = w->end;
    *raw_size = src->size;
    *compressed = 0;
    if (src->level > 0 && src->size > 0 &&
        writer_compress(w, src, name, &stored, check, err) < 0)
        return -1;
    if (stored > 0) {
        *size = stored;
        *compressed = 1;
        return 0;
    }
    *size = src->size;
    return writer_copy(w, src, name, -1, NULL, check, err);
}

int bundle_writer_put(bundle_writer *w, const bundle_source *data,
                      const bundle_source *aux, kl_err *err)
{
    writer_entry *e;
    bundle_entry *r;
    int zdata, zaux;

    assert(w->fd >= 0 && w->next < w->count);
    e = &w->items[w->next];
    r = &e->rec;
    if (writer_pad(w, writer_payload_align(r->kind), err) < 0 ||
        writer_put_part(w, data, e->name, &r->data_off, &r->data_size,
                        &r->data_raw_size, &r->data_check, &zdata, err) < 0 ||
        writer_pad(w, BUNDLE_SMALL_ALIGN, err) < 0 ||
        writer_put_part(w, aux, e->name, &r->aux_off, &r->aux_size,
                        &r->aux_raw_size, &r->aux_check, &zaux, err) < 0)
        return -1;
    r->flags = (uint8_t)((r->flags & BUNDLE_FLAG_FILES) |
                         (zdata ? BUNDLE_FLAG_DATA_ZSTD : 0) |
                         (zaux ? BUNDLE_FLAG_AUX_ZSTD : 0));
    if (aux != NULL && (r->kind == BUNDLE_KIND_MODULE ||
                        r->kind == BUNDLE_KIND_PACKAGE))
        r->flags |= BUNDLE_FLAG_SOURCE;
    w->next++;
    return 0;
}

int bundle_writer_put_external(bundle_writer *w, const bundle_source *data,
                               int out, const char *what, kl_err *err)
{
    writer_entry *e;
    bundle_entry *r;

    assert(w->fd >= 0 && w->next < w->count && out >= 0);
    e = &w->items[w->next];
    r = &e->rec;
    if (w->folder == NULL || !bundle_kind_can_be_external(r->kind))
        return kl_err_set(err, "%s: a %s cannot be a file next to the "
                               "program (internal error)", e->name,
                          bundle_kind_name(r->kind));
    assert(data->head_size <= data->size);
    if (writer_copy(w, data, e->name, out, what, &r->data_check, err) < 0)
        return -1;
    r->data_off = 0;
    r->data_size = r->data_raw_size = data->size;
    r->aux_off = w->end;
    r->aux_check = KL_CHECKSUM_SEED; /* of no bytes */
    r->flags = BUNDLE_FLAG_EXTERNAL;
    w->next++;
    return 0;
}

/* Give the index in buf (its header filled, pagesum_check zero) its page
 * checksums and their own checksum. */
static void writer_pagesums(uint8_t *buf)
{
    bundle_header *h = (bundle_header *)buf;
    uint8_t *table = buf + h->pagesum_off;
    uint64_t n = bundle_pagesum_count(h->pagesum_off), i, sum;

    assert(h->pagesum_check == 0);
    for (i = 0; i < n; i++) {
        uint64_t at = i * BUNDLE_PAGE;
        uint64_t len = h->pagesum_off - at < BUNDLE_PAGE ? h->pagesum_off - at
                                                         : BUNDLE_PAGE;

        sum = kl_checksum(KL_CHECKSUM_SEED, buf + at, (size_t)len);
        memcpy(table + i * 8, &sum, 8);
    }
    h->pagesum_check = kl_checksum(KL_CHECKSUM_SEED, table, (size_t)(n * 8));
}

/* Build the index (header, entries, hash table, strings, page checksums,
 * padding) in a new malloc'd buffer of header.payload_off bytes. */
static uint8_t *writer_index(bundle_writer *w)
{
    const bundle_header *h = &w->header;
    uint8_t *buf = calloc(1, (size_t)h->payload_off);
    bundle_entry *entries;
    uint32_t *table;
    char *strings;
    uint64_t str_at = 1;
    uint32_t mask = h->hash_slots - 1;
    bundle_header hdr = *h;
    size_t i;

    if (buf == NULL)
        return NULL;
    entries = (bundle_entry *)(buf + h->entries_off);
    table = (uint32_t *)(buf + h->hash_off);
    strings = (char *)(buf + h->strings_off);
    for (i = 0; i < w->count; i++) {
        writer_entry *we = &w->items[i];
        bundle_entry *e = &entries[i];
        size_t nlen = strlen(we->name), plen = strlen(we->path);
        uint32_t slot;

        *e = we->rec;
        e->name_off = (uint32_t)str_at;
        e->name_len = (uint32_t)nlen;
        memcpy(strings + str_at, we->name, nlen + 1);
        str_at += nlen + 1;
        e->path_off = (uint32_t)str_at;
        e->path_len = (uint32_t)plen;
        memcpy(strings + str_at, we->path, plen + 1);
        str_at += plen + 1;
        slot = (kl_name_hash(we->name, nlen) +
                (uint32_t)bundle_kind_ns(we->rec.kind)) & mask;
        while (table[slot] != 0)
            slot = (slot + 1) & mask;
        table[slot] = (uint32_t)i + 1;
    }
    hdr.run_target_off = (uint32_t)str_at;
    hdr.run_target_len = (uint32_t)strlen(w->run_target ? w->run_target : "");
    if (hdr.run_target_len)
        memcpy(strings + str_at, w->run_target, hdr.run_target_len + 1);
    str_at += hdr.run_target_len + 1;
    if (w->folder != NULL) {
        hdr.folder_off = (uint32_t)str_at;
        hdr.folder_len = (uint32_t)strlen(w->folder);
        memcpy(strings + str_at, w->folder, hdr.folder_len + 1);
        str_at += hdr.folder_len + 1;
    }
    if (w->runtime_path != NULL) {
        hdr.runtime_path_off = (uint32_t)str_at;
        hdr.runtime_path_len = (uint32_t)strlen(w->runtime_path);
        memcpy(strings + str_at, w->runtime_path, hdr.runtime_path_len + 1);
        str_at += hdr.runtime_path_len + 1;
    }
    if (w->options != NULL) {
        hdr.options_off = (uint32_t)str_at;
        hdr.options_len = (uint32_t)strlen(w->options);
        memcpy(strings + str_at, w->options, hdr.options_len + 1);
    }
    memcpy(buf, &hdr, sizeof hdr);
    writer_pagesums(buf);
    return buf;
}

int bundle_writer_finish(bundle_writer *w, kl_err *err)
{
    uint64_t pay_at = w->at + w->header.payload_off, off;
    bundle_trailer t;
    uint8_t *index;
    kl_sum sum;
    int r;

    assert(w->fd >= 0);
    if (w->next != w->count)
        return kl_err_set(err, "%zu of %zu entries have no payload "
                               "(internal error)", w->count - w->next,
                          w->count);
    if (writer_pad(w, 8, err) < 0) /* the trailer follows */
        return -1;
    w->header.payload_size = w->end;
    index = writer_index(w);
    if (index == NULL)
        return kl_err_oom(err);
    memset(&t, 0, sizeof t);
    t.bundle_offset = w->at;
    t.bundle_size = w->header.payload_off + w->end;
    t.index_checksum = kl_checksum(KL_CHECKSUM_SEED, index,
                                   (size_t)w->header.payload_off);
    t.version = BUNDLE_VERSION;
    t.trailer_size = sizeof t;
    memcpy(t.magic, BUNDLE_TRAILER_MAGIC, 8);
    r = lseek(w->fd, (off_t)w->at, SEEK_SET) < 0
            ? kl_err_set(err, "cannot seek in the output: %s", strerror(errno))
            : kl_write_all(w->fd, index, (size_t)w->header.payload_off,
                           "the program", err);
    free(index);
    if (r < 0)
        return -1;
    /* The whole-bundle checksum continues from the index's (the index
     * ends on a page boundary): read the payloads back from the file. */
    kl_sum_init(&sum, t.index_checksum);
    for (off = 0; off < w->end; off += WRITER_CHUNK) {
        size_t n = w->end - off < WRITER_CHUNK ? (size_t)(w->end - off)
                                               : WRITER_CHUNK;

        if (kl_read_at(w->fd, w->buf, n, pay_at + off, "the program being "
                       "written", err) < 0)
            return -1;
        kl_sum_add(&sum, w->buf, n);
    }
    t.bundle_checksum = kl_sum_end(&sum);
    if (lseek(w->fd, (off_t)(pay_at + w->end), SEEK_SET) < 0)
        return kl_err_set(err, "cannot seek in the output: %s",
                          strerror(errno));
    return kl_write_all(w->fd, &t, sizeof t, "the program", err);
}
