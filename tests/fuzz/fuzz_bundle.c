/*
 * fuzz_bundle.c: libFuzzer target of the bundle reader (src/bundle/),
 * as the kiln command (inspect, verify) and every built program (each
 * start, each import) use it.
 *
 * An input is a file whose bundle is found from its end (the seeds,
 * tests/fuzz/seed_bundle.c, are bundles of real programs at offset 0).
 * Unless the input's own checksum is a multiple of FUZZ_RAW_SHARE (one
 * input in eight, whichever bytes a mutation changed), the checksums are
 * first made to match the mutated bytes, as far as the trailer and
 * header can be followed: every payload's, the index pages', the index's
 * and the whole bundle's, so that mutations reach what lies behind the
 * checksum checks; the other inputs are read as they are, for the damage
 * paths. The file is then opened in full (bundle_open): every entry is
 * looked up by its name, by mutated names and by prefix, and read; then
 * the bundle is verified. And lazily (bundle_open_lazy): the view is
 * asked for the names the string table holds (and a few a program asks
 * for) before bundle_check_index, as a starting program does; then its
 * index is checked whole. Where the full view was refused, what the lazy
 * one finds is read, and it is walked and verified as the full view is
 * (reading does not depend on how the view was opened).
 *
 * A compressed part whose frame may grow past FUZZ_MAX_RAW bytes is not
 * decompressed (nor the bundle verified): a sound bundle may hold one (a
 * few kilobytes of zstd make gigabytes of zeros), and its buffer would be
 * reported as a finding by libFuzzer's allocation limit.
 */
#include "../../src/bundle/bundle.h"
#include "fuzz.h"

/* One input in this many keeps its checksums. */
#define FUZZ_RAW_SHARE 8u
/* At most this many names of the string table are looked up lazily. */
#define FUZZ_MAX_NAMES 64
#define FUZZ_MAX_NAME_LEN 512
#define FUZZ_MAX_RAW (UINT64_C(64) << 20)

/* True when [off, off + len) lies inside [0, limit). */
static int fuzz_inside(uint64_t off, uint64_t len, uint64_t limit)
{
    return off <= limit && len <= limit - off;
}

/* The checksum of the stored bytes of one part at off, size, if they lie
 * in the payload area pay[0, pay_size); else the old check. */
static uint64_t fuzz_part_sum(const uint8_t *pay, uint64_t pay_size,
                              uint64_t off, uint64_t size, uint64_t old)
{
    if (!fuzz_inside(off, size, pay_size))
        return old;
    return kl_checksum(KL_CHECKSUM_SEED, pay + off, (size_t)size);
}

/* Give every entry of the bundle at base[0, bsize) whose parts lie in its
 * payload area the checksums of those parts. The header is read once:
 * in a damaged bundle the entries may lie over it, and each checksum
 * written may change it. */
static void fuzz_fix_payloads(uint8_t *base, uint64_t bsize)
{
    bundle_header h;
    bundle_entry *entries;
    const uint8_t *pay;
    uint64_t i;

    memcpy(&h, base, sizeof h);
    if (!fuzz_inside(h.payload_off, h.payload_size, bsize) ||
        h.entries_off % 8 != 0 || h.entries_off > bsize ||
        h.entry_count > (bsize - h.entries_off) / sizeof(bundle_entry))
        return;
    pay = base + h.payload_off;
    entries = (bundle_entry *)(base + h.entries_off);
    for (i = 0; i < h.entry_count; i++) {
        bundle_entry *e = &entries[i];

        if (!(e->flags & BUNDLE_FLAG_EXTERNAL))
            e->data_check = fuzz_part_sum(pay, h.payload_size, e->data_off,
                                          e->data_size, e->data_check);
        e->aux_check = fuzz_part_sum(pay, h.payload_size, e->aux_off,
                                     e->aux_size, e->aux_check);
    }
}

/* Give the bundle at base[0, bsize) page checksums of its index as it now
 * is, and their check, when its page checksum table lies inside it. */
static void fuzz_fix_pages(uint8_t *base, uint64_t bsize)
{
    bundle_header *h = (bundle_header *)base;
    uint64_t off = h->pagesum_off, n = bundle_pagesum_count(off), i;

    if (off == 0 || off % 8 != 0 || off > bsize || n > (bsize - off) / 8)
        return;
    h->pagesum_check = 0;
    for (i = 0; i < n; i++) {
        uint64_t at = i * BUNDLE_PAGE;
        uint64_t sum = kl_checksum(KL_CHECKSUM_SEED, base + at,
                                   (size_t)(off - at < BUNDLE_PAGE
                                                ? off - at
                                                : BUNDLE_PAGE));

        memcpy(base + off + i * 8, &sum, 8);
    }
    h->pagesum_check = kl_checksum(KL_CHECKSUM_SEED, base + off,
                                   (size_t)(n * 8));
}

/* Make the checksums of the file f[0, n) match its bytes, as far as its
 * trailer and header can be followed: payloads, index pages, the index,
 * the whole bundle (each covers what the ones before it changed). */
static void fuzz_fix_sums(uint8_t *f, size_t n)
{
    bundle_trailer t;
    uint8_t *base;
    uint64_t bsize;
    bundle_header *h;

    if (n < sizeof t)
        return;
    memcpy(&t, f + n - sizeof t, sizeof t);
    bsize = t.bundle_size;
    if (t.bundle_offset % BUNDLE_PAGE != 0 ||
        !fuzz_inside(t.bundle_offset, bsize, n - sizeof t) ||
        bsize < sizeof *h)
        return;
    base = f + t.bundle_offset;
    h = (bundle_header *)base;
    fuzz_fix_payloads(base, bsize);
    fuzz_fix_pages(base, bsize);
    if (h->payload_off <= bsize)
        t.index_checksum =
            kl_checksum(KL_CHECKSUM_SEED, base, (size_t)h->payload_off);
    t.bundle_checksum = kl_checksum(KL_CHECKSUM_SEED, base, (size_t)bsize);
    memcpy(f + n - sizeof t, &t, sizeof t);
}

/* Read the first and the last byte of p[0, n): a span the reader handed
 * out that reaches past the end of its buffer (the input, or a buffer it
 * allocated) is caught there, the buffers being exact. */
static uint64_t fuzz_touch(const uint8_t *p, size_t n)
{
    return n ? (uint64_t)p[0] + p[n - 1] : 0;
}

static volatile uint64_t fuzz_sink;

/* The contract of bundle_find: a found entry has the name asked for and
 * lies in the namespace asked for. */
static void fuzz_check_found(const bundle_view *v, const bundle_entry *e,
                             enum bundle_ns ns, const char *name, size_t len)
{
    if (e == NULL)
        return;
    FUZZ_REQUIRE(e->name_len == len && bundle_kind_ns(e->kind) == ns &&
                     memcmp(bundle_entry_name(v, e), name, len) == 0,
                 "bundle_find gives the entry named");
}

/* The contract of bundle_find_prefix: a found entry lies in namespace ns
 * and its name starts with the prefix. */
static void fuzz_check_prefix(const bundle_view *v, const bundle_entry *e,
                              enum bundle_ns ns, const char *prefix,
                              size_t len)
{
    if (e == NULL)
        return;
    FUZZ_REQUIRE(bundle_kind_ns(e->kind) == ns && e->name_len >= len &&
                     memcmp(bundle_entry_name(v, e), prefix, len) == 0,
                 "bundle_find_prefix gives a name with the prefix");
}

/* Look name[0, len) up in namespace ns of v, as a name and as a prefix of
 * every length up to three shorter. */
static void fuzz_lookup(const bundle_view *v, enum bundle_ns ns,
                        const char *name, size_t len)
{
    size_t cut;

    fuzz_check_found(v, bundle_find(v, ns, name, len), ns, name, len);
    for (cut = 0; cut <= 3 && cut <= len; cut++)
        fuzz_check_prefix(v, bundle_find_prefix(v, ns, name, len - cut), ns,
                          name, len - cut);
}

/* Look up names near name[0, len) that the bundle may not hold: its last
 * byte changed, one byte longer, and the name in the other namespaces. */
static void fuzz_lookup_near(const bundle_view *v, enum bundle_ns ns,
                             const char *name, size_t len)
{
    char *near = malloc(len + 2);
    int other;

    if (near == NULL)
        return;
    memcpy(near, name, len);
    near[len] = '.';
    near[len + 1] = '\0';
    fuzz_lookup(v, ns, near, len + 1);
    if (len > 0) {
        near[len - 1] = (char)(near[len - 1] + 1);
        fuzz_lookup(v, ns, near, len);
    }
    for (other = BUNDLE_NS_MODULE; other <= BUNDLE_NS_FILE; other++)
        if ((enum bundle_ns)other != ns)
            fuzz_lookup(v, (enum bundle_ns)other, name, len);
    free(near);
}

/* Whether part of entry e is compressed to more than FUZZ_MAX_RAW. */
static int fuzz_too_big(const bundle_entry *e, int part)
{
    return part == BUNDLE_PART_DATA
               ? (e->flags & BUNDLE_FLAG_DATA_ZSTD) &&
                     e->data_raw_size > FUZZ_MAX_RAW
               : (e->flags & BUNDLE_FLAG_AUX_ZSTD) &&
                     e->aux_raw_size > FUZZ_MAX_RAW;
}

/* Read both parts of entry e of v, as a program and `kiln inspect` do:
 * bundle_read, and bundle_span where the part is stored as it is. */
static void fuzz_read_entry(const bundle_view *v, const bundle_entry *e)
{
    int part;

    for (part = BUNDLE_PART_DATA; part <= BUNDLE_PART_AUX; part++) {
        const uint8_t *d;
        uint8_t *owned;
        size_t n;
        kl_err err;

        err.msg[0] = '\0';
        if (fuzz_too_big(e, part)) {
            /* not decompressed: see above */
        } else if (bundle_read(v, e, (enum bundle_part)part, &d, &n, &owned,
                               &err) == 0) {
            FUZZ_REQUIRE(n == 0 || d != NULL, "a read part has its bytes");
            fuzz_sink += fuzz_touch(d, n);
            free(owned);
        } else {
            fuzz_check_err(&err);
        }
        err.msg[0] = '\0';
        if (bundle_span(v, e, (enum bundle_part)part, &d, &n, &err) == 0)
            fuzz_sink += fuzz_touch(d, n);
        else
            fuzz_check_err(&err);
    }
    if (e->flags & BUNDLE_FLAG_EXTERNAL) {
        kl_err err;
        const char *name = bundle_entry_name(v, e);

        /* No file to read here: the entry's name stands in for it. */
        err.msg[0] = '\0';
        if (bundle_check_external(v, e, name, e->name_len, &err) < 0)
            fuzz_check_err(&err);
        bundle_path_inside(bundle_entry_path(v, e));
    }
}

/* What `kiln inspect` and a program read of the header: its strings. */
static void fuzz_header(const bundle_view *v)
{
    fuzz_sink += strlen(bundle_run_target(v)) + strlen(bundle_folder(v)) +
                 strlen(bundle_runtime_path(v)) + strlen(bundle_options(v)) +
                 strlen(bundle_run_mode_name(v->header->run_mode));
}

/* Walk the entry table of v (checked whole): names, lookups, reads, and
 * the order of neighbours. */
static void fuzz_walk(const bundle_view *v)
{
    uint32_t i;

    for (i = 0; i < v->header->entry_count; i++) {
        const bundle_entry *e = &v->entries[i];
        const char *name = bundle_entry_name(v, e);
        enum bundle_ns ns = bundle_kind_ns(e->kind);

        /* A NUL inside a name is damage no checksum of a written bundle
         * lets through; the strings end where the entry says. */
        FUZZ_REQUIRE(strlen(name) <= e->name_len &&
                         strlen(bundle_entry_path(v, e)) <= e->path_len,
                     "names and paths end where the entry says");
        fuzz_sink += strlen(bundle_kind_name(e->kind));
        fuzz_lookup(v, ns, name, e->name_len);
        fuzz_lookup_near(v, ns, name, e->name_len);
        fuzz_read_entry(v, e);
        if (i > 0)
            fuzz_sink += (uint64_t)bundle_entry_order(
                v->entries[i - 1].kind, bundle_entry_name(v, &v->entries[i - 1]),
                e->kind, name);
    }
}

/* Verify v whole, as `kiln inspect --verify` does (unless a part is too
 * big to decompress here). */
static void fuzz_verify(const bundle_view *v)
{
    kl_err err;
    uint32_t i;

    for (i = 0; i < v->header->entry_count; i++)
        if (fuzz_too_big(&v->entries[i], BUNDLE_PART_DATA) ||
            fuzz_too_big(&v->entries[i], BUNDLE_PART_AUX))
            return;
    err.msg[0] = '\0';
    if (bundle_verify(v, &err) < 0)
        fuzz_check_err(&err);
}

/* The names a starting program could ask a lazily opened bundle for:
 * the strings of its string table (found without trusting it, and
 * without reading past the file) and a few every program asks for. Fills
 * names[] with pointers into f or static strings; returns how many. */
static size_t fuzz_names(const uint8_t *f, size_t n, const char **names,
                         size_t *lens)
{
    static const char *const asked[] = {"__main__", "encodings",
                                        "encodings.utf_8", "", "libz.so.1"};
    bundle_trailer t;
    const bundle_header *h;
    uint64_t start, end, at;
    size_t k = 0, i;

    for (i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        names[k] = asked[i];
        lens[k++] = strlen(asked[i]);
    }
    if (n < sizeof t)
        return k;
    memcpy(&t, f + n - sizeof t, sizeof t);
    if (!fuzz_inside(t.bundle_offset, sizeof *h, n - sizeof t))
        return k;
    h = (const bundle_header *)(f + t.bundle_offset);
    start = t.bundle_offset + h->strings_off;
    if (h->strings_off > n || start > n)
        return k;
    end = h->strings_size < n - start ? start + h->strings_size : n;
    for (at = start; at < end && k < FUZZ_MAX_NAMES;) {
        const uint8_t *nul = memchr(f + at, '\0', (size_t)(end - at));
        uint64_t len = (nul ? (uint64_t)(nul - f) : end) - at;

        if (nul == NULL)
            break;
        if (len > 0 && len <= FUZZ_MAX_NAME_LEN) {
            names[k] = (const char *)f + at;
            lens[k++] = (size_t)len;
        }
        at += len + 1;
    }
    return k;
}

/* Open f[0, n) into v, lazily or in full: 0, or -1 (the message
 * checked) when it is refused. */
static int fuzz_open(bundle_view *v, const uint8_t *f, size_t n, int lazy)
{
    kl_err err;

    err.msg[0] = '\0';
    if ((lazy ? bundle_open_lazy : bundle_open)(v, f, n, &err) == 0)
        return 0;
    fuzz_check_err(&err);
    return -1;
}

/* Open f[0, n) lazily and use it as a program does: lookups by name
 * first, then the whole index checked; unless the full view was walked
 * already (walked), what the lookups found is read and the entry table
 * walked. */
static void fuzz_lazy(const uint8_t *f, size_t n, int walked)
{
    const char *names[FUZZ_MAX_NAMES];
    size_t lens[FUZZ_MAX_NAMES], k, i;
    bundle_view v;
    kl_err err;
    int ns;

    if (fuzz_open(&v, f, n, 1) < 0)
        return;
    fuzz_header(&v);
    k = fuzz_names(f, n, names, lens);
    for (i = 0; i < k; i++)
        for (ns = BUNDLE_NS_MODULE; ns <= BUNDLE_NS_FILE; ns++) {
            const bundle_entry *e =
                bundle_find(&v, (enum bundle_ns)ns, names[i], lens[i]);

            fuzz_lookup(&v, (enum bundle_ns)ns, names[i], lens[i]);
            if (e != NULL && !walked)
                fuzz_read_entry(&v, e);
        }
    if (bundle_damage(&v) != NULL)
        fuzz_check_err(bundle_damage(&v));
    err.msg[0] = '\0';
    if (bundle_check_index(&v, &err) < 0) {
        fuzz_check_err(&err);
    } else if (!walked) {
        fuzz_walk(&v);
        fuzz_verify(&v);
    }
    bundle_close(&v);
}

/* Open f[0, n) in full and use it as `kiln inspect --verify` does. 1
 * when it opened (and was walked), 0 when it was refused. */
static int fuzz_full(const uint8_t *f, size_t n)
{
    bundle_view v;
    kl_err err;

    if (fuzz_open(&v, f, n, 0) < 0)
        return 0;
    FUZZ_REQUIRE(bundle_present(f, n), "an opened bundle is present");
    FUZZ_REQUIRE(bundle_check_index(&v, &err) == 0,
                 "a bundle opened in full has its index checked");
    fuzz_header(&v);
    fuzz_walk(&v);
    fuzz_verify(&v);
    bundle_close(&v);
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *f = fuzz_dup(data, size);

    if (f == NULL)
        return 0;
    if (kl_checksum(KL_CHECKSUM_SEED, data, size) % FUZZ_RAW_SHARE != 0)
        fuzz_fix_sums(f, size);
    fuzz_lazy(f, size, fuzz_full(f, size));
    free(f);
    return 0;
}
