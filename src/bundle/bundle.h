/*
 * bundle.h: the kiln bundle format (docs/format.md) and the two sides that
 * speak it: the reader, used in place from a mapping by both the kiln command
 * and every built program, and the streaming writer, used by the kiln
 * command's emitters only.
 *
 * All integers are little-endian; every structure below lies at an offset
 * that is a multiple of 8, so the reader uses them straight from the mapping.
 */
#ifndef KILN_BUNDLE_H
#define KILN_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/kl_common.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the kiln bundle format is little-endian; big-endian hosts need byte swapping"
#endif

#define BUNDLE_VERSION 1
#define BUNDLE_PAGE 4096u
#define BUNDLE_SMALL_ALIGN 16u

#define BUNDLE_TRAILER_MAGIC "KILN\0BDL"
#define BUNDLE_HEADER_MAGIC "KILNHDR\0"

/* The last 48 bytes of a built program. */
typedef struct bundle_trailer {
    uint64_t bundle_offset;   /* file offset of the header, page-aligned */
    uint64_t bundle_size;     /* header .. end of payloads */
    uint64_t index_checksum;  /* kl_checksum of bundle[0, payload_off) */
    uint64_t bundle_checksum; /* kl_checksum of bundle[0, bundle_size) */
    uint32_t version;         /* BUNDLE_VERSION */
    uint32_t trailer_size;    /* sizeof(bundle_trailer) */
    char magic[8];            /* BUNDLE_TRAILER_MAGIC */
} bundle_trailer;

/* How the program starts. */
enum bundle_run_mode {
    BUNDLE_RUN_SCRIPT = 1, /* run module "__main__" as a script */
    BUNDLE_RUN_MODULE = 2, /* run_target as `python -m run_target` */
    BUNDLE_RUN_ENTRY = 3,  /* run_target is "pkg.mod:func"; exit(func()) */
    BUNDLE_RUN_INTERPRETER = 4, /* no target: the command line is python's
                                   (-c, -m, SCRIPT, -, the REPL) */
    BUNDLE_RUN_EXTENSION = 5   /* an extension module: run_target is the
                                  module whose code its namespace runs
                                  ("__main__": the script) */
};

/* At bundle offset 0. Offsets are relative to the start of the bundle. */
typedef struct bundle_header {
    char magic[8];            /* BUNDLE_HEADER_MAGIC */
    uint32_t version;         /* BUNDLE_VERSION */
    uint32_t header_size;     /* sizeof(bundle_header) */
    uint32_t entry_count;
    uint32_t hash_slots;      /* power of two, >= 2 * entry_count */
    uint64_t entries_off;     /* entry_count bundle_entry records */
    uint64_t hash_off;        /* hash_slots uint32_t: entry index + 1, 0 = empty */
    uint64_t strings_off;     /* NUL-terminated names and paths */
    uint64_t strings_size;
    uint64_t payload_off;     /* page-aligned */
    uint64_t payload_size;
    uint32_t python_hex;      /* PY_VERSION_HEX of the compiling interpreter */
    uint32_t run_mode;        /* enum bundle_run_mode */
    uint32_t run_target_off;  /* string: module name or "mod:func" */
    uint32_t run_target_len;
    uint32_t flags;           /* reserved, 0 */
    uint32_t folder_off;      /* string: the folder of a folder program,
                                 relative to the program's directory */
    uint32_t folder_len;      /* 0: a one-file program, no folder */
    uint32_t runtime_path_off; /* string: directories searched on disk for
                                  modules after the bundle, ':'-separated,
                                  $ORIGIN the program's directory */
    uint32_t runtime_path_len; /* 0: none, nothing looked up on disk */
    uint32_t options_off;     /* string: interpreter options fixed at build
                                 time, one "NAME" or "NAME VALUE" per line
                                 (docs/format.md) */
    uint32_t options_len;     /* 0: none, python's defaults */
    uint32_t pagesum_off;     /* BUNDLE_PAGE-sized pages of [0, pagesum_off)
                                 each have a uint64_t kl_checksum here, in
                                 order (page 0 with pagesum_check taken as
                                 zero); 0: none */
    uint64_t pagesum_check;   /* kl_checksum of those page checksums */
} bundle_header;

enum bundle_kind {
    BUNDLE_KIND_MODULE = 1,    /* bytecode; aux = UTF-8 source */
    BUNDLE_KIND_PACKAGE = 2,   /* bytecode of __init__; aux = source */
    BUNDLE_KIND_NAMESPACE = 3, /* namespace package: no payload */
    BUNDLE_KIND_EXTENSION = 4, /* extension module shared object */
    BUNDLE_KIND_SHLIB = 5,     /* shared library, looked up by soname */
    BUNDLE_KIND_DATA = 6,      /* program data (--add-data), by path */
    BUNDLE_KIND_PKGDATA = 7,   /* a non-code file of a package, by path */
    BUNDLE_KIND_METADATA = 8,  /* a file of a distribution's .dist-info
                                  directory, by path */
    BUNDLE_KIND_MAX = 8
};

/* Lookup namespaces: each kind belongs to exactly one. */
enum bundle_ns {
    BUNDLE_NS_MODULE = 0, /* MODULE, PACKAGE, NAMESPACE, EXTENSION */
    BUNDLE_NS_LIB = 1,    /* SHLIB */
    BUNDLE_NS_FILE = 2    /* DATA, PKGDATA, METADATA */
};

#define BUNDLE_FLAG_DATA_ZSTD 0x01u
#define BUNDLE_FLAG_AUX_ZSTD 0x02u
/* The data part is not in the bundle: it is the file <folder>/<path> next
 * to the program, of data_size bytes with checksum data_check, stored as
 * it is (never compressed). Only for kinds whose data is a file. */
#define BUNDLE_FLAG_EXTERNAL 0x04u
/* The aux part is the module's source, even when it is empty (a module
 * without this flag was built without its source). Only for modules and
 * packages. */
#define BUNDLE_FLAG_SOURCE 0x08u
/* The package's files are to be real files at run time (a one-file
 * program writes them to a per-user cache once): code that hands their
 * paths to native code or to other programs needs them on disk. Only for
 * packages. */
#define BUNDLE_FLAG_FILES 0x10u
#define BUNDLE_FLAGS_KNOWN 0x1fu

typedef struct bundle_entry {
    uint32_t name_off;     /* strings: module name, soname or file path */
    uint32_t name_len;
    uint32_t path_off;     /* strings: relative file path, e.g. "json/decoder.py" */
    uint32_t path_len;
    uint8_t kind;          /* enum bundle_kind */
    uint8_t flags;         /* BUNDLE_FLAG_* */
    uint16_t reserved0;
    uint32_t reserved1;
    uint64_t data_off;     /* relative to the payload area */
    uint64_t data_size;    /* stored bytes */
    uint64_t data_raw_size;/* bytes after decompression */
    uint64_t data_check;   /* kl_checksum of the stored bytes */
    uint64_t aux_off;
    uint64_t aux_size;
    uint64_t aux_raw_size;
    uint64_t aux_check;
} bundle_entry;

_Static_assert(sizeof(bundle_trailer) == 48, "trailer layout");
_Static_assert(sizeof(bundle_header) == 128, "header layout");
_Static_assert(sizeof(bundle_entry) == 88, "entry layout");

/* ---- reader ------------------------------------------------------------ */

/* What a lazily opened view has checked of its index so far. */
struct bundle_lazy;

/* A validated view of a bundle inside a caller-owned mapping of a whole
 * file; valid as long as the mapping is. Holds no allocation unless it
 * was opened lazily (bundle_close frees that). */
typedef struct bundle_view {
    const uint8_t *file;
    uint64_t file_size;
    const uint8_t *base;           /* the header */
    bundle_trailer trailer;        /* a copy: the file's may be unaligned */
    const bundle_header *header;
    const bundle_entry *entries;
    const uint32_t *slots;
    const char *strings;
    const uint8_t *payload;
    struct bundle_lazy *lazy;      /* NULL when the whole index was checked */
} bundle_view;

/* Which payload of an entry. */
enum bundle_part { BUNDLE_PART_DATA = 0, BUNDLE_PART_AUX = 1 };

/* Find the bundle at the end of file[0, size) and check its trailer, header,
 * the bounds of every table, and the index checksum. Does not read payloads.
 * Fills *v; allocates nothing. Fails with a message meant for a user. */
int bundle_open(bundle_view *v, const void *file, uint64_t size, kl_err *err);

/* Open like bundle_open, but check only what does not grow with the
 * number of entries: the trailer, the header, the page checksums of the
 * index and the header's own page. Each other page of the index is
 * checked against its checksum the first time a lookup (bundle_find,
 * bundle_find_prefix) reads it, and each entry a lookup meets as
 * bundle_open checks it; damage found then makes the lookup return NULL
 * and bundle_damage() say what. A bundle without page checksums is
 * checked whole here. Entries reached any other way (walking the entry
 * table) need bundle_check_index first. Allocates; free with
 * bundle_close. */
int bundle_open_lazy(bundle_view *v, const void *file, uint64_t size,
                     kl_err *err);

/* Free what bundle_open_lazy allocated; the view is unusable after. */
void bundle_close(bundle_view *v);

/* The damage a lookup in lazily opened view v found (it stays found), or
 * NULL. */
const kl_err *bundle_damage(const bundle_view *v);

/* Check the whole index of v now, as bundle_open does (nothing to do for
 * a view bundle_open opened). Fails with a message for the user. */
int bundle_check_index(const bundle_view *v, kl_err *err);

/* True when file[0, size) ends with a bundle trailer (a quick check). */
int bundle_present(const void *file, uint64_t size);

/* The namespace an entry kind is looked up in. */
enum bundle_ns bundle_kind_ns(unsigned kind);

/* Short lower-case name of a kind ("module", "extension", ...). */
const char *bundle_kind_name(unsigned kind);

/* Find the entry named name[0, len) in namespace ns; NULL if absent. O(1)
 * expected: one hash, then a linear probe of the open-addressing table. */
const bundle_entry *bundle_find(const bundle_view *v, enum bundle_ns ns,
                                const char *name, size_t len);

/* How many pages the page checksums of an index whose pagesum_off is off
 * cover: [0, off) in BUNDLE_PAGE-sized pages, the last one partial. */
static inline uint64_t bundle_pagesum_count(uint64_t off)
{
    return (off + BUNDLE_PAGE - 1) / BUNDLE_PAGE;
}

/* The first entry (in bundle order) of namespace ns whose name starts
 * with prefix[0, len), or NULL: a binary search of the entry table. */
const bundle_entry *bundle_find_prefix(const bundle_view *v,
                                      enum bundle_ns ns, const char *prefix,
                                      size_t len);

/* The entry's NUL-terminated name and relative path (never NULL; bounds were
 * checked by bundle_open). */
const char *bundle_entry_name(const bundle_view *v, const bundle_entry *e);
const char *bundle_entry_path(const bundle_view *v, const bundle_entry *e);

/* Short lower-case name of a run mode ("script", "module", "entry"), "?"
 * for an unknown one. */
const char *bundle_run_mode_name(uint32_t mode);

/* The run target string of the header ("" when none). */
const char *bundle_run_target(const bundle_view *v);

/* The folder that holds the external entries' files, relative to the
 * program's directory ("_internal"); "" for a one-file program. */
const char *bundle_folder(const bundle_view *v);

/* The directories the program searches on disk for modules after its
 * bundle, ':'-separated, as --runtime-path gave them ("" for none). */
const char *bundle_runtime_path(const bundle_view *v);

/* The interpreter options fixed at build time, one "NAME" or
 * "NAME VALUE" per '\n'-terminated line ("" for none). */
const char *bundle_options(const bundle_view *v);

/* True when entries of this kind may live in a file next to the program
 * (their data is a whole file: extension modules, shared libraries, data,
 * package data, metadata). */
int bundle_kind_can_be_external(unsigned kind);

/* True when path is relative and stays inside the folder it is joined
 * to: not empty, no leading '/', no empty, "." or ".." component. Every
 * external entry's path is. */
int bundle_path_inside(const char *path);

/* Check that bytes[0, size), read from the file of external entry e, are
 * what the bundle recorded: the same size and checksum. The message says
 * the file is damaged (or was replaced), naming the entry. */
int bundle_check_external(const bundle_view *v, const bundle_entry *e,
                          const void *bytes, uint64_t size, kl_err *err);

/* Give the bytes of one part of an entry, checked against its checksum and
 * decompressed if stored compressed. On success *data points either into
 * the mapping (and *owned is NULL) or into a new malloc'd buffer that is
 * also returned in *owned for the caller to free. A missing part gives
 * size 0. The data part of an external entry is not in the bundle: asking
 * for it is an error (read its file and use bundle_check_external()). */
int bundle_read(const bundle_view *v, const bundle_entry *e,
                enum bundle_part part, const uint8_t **data, size_t *size,
                uint8_t **owned, kl_err *err);

/* The stored bytes of one part of an entry that is stored as is (neither
 * compressed nor external), bounds-checked but NOT checked against its
 * checksum: for a caller that checks them while it copies them once
 * (kl_sum against e->data_check or e->aux_check) or reads only what a
 * damaged image cannot mislead (the ELF reader checks every offset).
 * *data points into the mapping. Fails for any other part. */
int bundle_span(const bundle_view *v, const bundle_entry *e,
                enum bundle_part part, const uint8_t **data, size_t *size,
                kl_err *err);

/* Check the whole-bundle checksum and every entry's payload checksums and
 * decompressed sizes. External entries' files are not read here (the
 * bundle does not know where the program lies): the caller checks them
 * with bundle_check_external(). */
int bundle_verify(const bundle_view *v, kl_err *err);

/* The order of entries in a bundle's entry table: by namespace, then by
 * name bytes. Negative, zero or positive as for strcmp; zero means the two
 * cannot both be in one bundle. */
int bundle_entry_order(unsigned kind_a, const char *name_a, unsigned kind_b,
                       const char *name_b);

/* ---- writer (kiln command only) --------------------------------------- */

/* Eight bytes of a payload replaced as it is stored: bytes [off, off + 8)
 * become bytes[] (an edited entry of a dynamic section). */
typedef struct bundle_patch {
    uint64_t off;
    uint8_t bytes[8];
} bundle_patch;

/* Where the bytes of one payload come from, and how they are stored. */
typedef struct bundle_source {
    const void *bytes;     /* these size bytes; or NULL to read fd */
    int fd;                /* when bytes is NULL: bytes [0, size) of fd */
    uint64_t size;
    const void *head;      /* when head_size > 0, these bytes replace the */
    size_t head_size;      /* first head_size bytes (an edited header)    */
    int level;             /* zstd level; 0 stores the bytes as they are */
    const bundle_patch *patches; /* n_patches more replacements, each */
    size_t n_patches;            /* inside [head_size, size)          */
} bundle_source;

/* A bundle being written to a file, in three steps:
 *   1. bundle_writer_add() for every entry, in bundle_entry_order(), and
 *      bundle_writer_set_run();
 *   2. bundle_writer_begin() with the output file;
 *   3. bundle_writer_put() once per entry, in the same order, then
 *      bundle_writer_finish().
 * Payloads go to the file as they are put: memory use does not grow with
 * their size. The same entries and bytes always give the same file. */
typedef struct bundle_writer bundle_writer;

/* A new empty writer; NULL when out of memory. */
bundle_writer *bundle_writer_new(void);

/* Free w (NULL is fine). Closes nothing: the file is the caller's. */
void bundle_writer_free(bundle_writer *w);

/* Declare the next entry: its kind, name and path (both copied). Fails on
 * an unknown kind, an empty or oversized name, a name already declared in
 * the same namespace, or one out of order. */
int bundle_writer_add(bundle_writer *w, unsigned kind, const char *name,
                      const char *path, kl_err *err);

/* Mark the entry declared last as a package whose files are real files at
 * run time (BUNDLE_FLAG_FILES). Fails for an entry that is not a
 * package. */
int bundle_writer_mark_files(bundle_writer *w, kl_err *err);

/* Make the program search the directories of `paths` (':'-separated, none
 * empty; copied) on disk for modules after its bundle. Before
 * bundle_writer_begin(). */
int bundle_writer_set_runtime_path(bundle_writer *w, const char *paths,
                                   kl_err *err);

/* Fix the program's interpreter options: text is one "NAME" or
 * "NAME VALUE" per '\n'-terminated line (copied). Before
 * bundle_writer_begin(). */
int bundle_writer_set_options(bundle_writer *w, const char *text,
                              kl_err *err);

/* Make the bundle a folder program's: external entries' files lie in
 * `folder` (copied; one path component, not "." or "..") next to the
 * program. Before bundle_writer_begin(). */
int bundle_writer_set_folder(bundle_writer *w, const char *folder,
                             kl_err *err);

/* Set how the program starts and which Python compiled its bytecode. */
int bundle_writer_set_run(bundle_writer *w, enum bundle_run_mode mode,
                          const char *target, uint32_t python_hex,
                          kl_err *err);

/* Lay out the index and start the payload area. The bundle will begin at
 * file offset `at` (a multiple of BUNDLE_PAGE) of fd, which is open for
 * reading and writing; what fd holds before `at` is left alone. */
int bundle_writer_begin(bundle_writer *w, int fd, uint64_t at, kl_err *err);

/* Store the payloads of the next declared entry: data and aux (either may
 * be NULL for none; a module's or package's aux is its source, and its
 * entry gets BUNDLE_FLAG_SOURCE when aux is not NULL). A source that is smaller compressed is stored
 * compressed; otherwise as it is. Errors name the entry. */
int bundle_writer_put(bundle_writer *w, const bundle_source *data,
                      const bundle_source *aux, kl_err *err);

/* Store the next declared entry as external (BUNDLE_FLAG_EXTERNAL): the
 * bytes of data are written, as they are, to out (a file open for writing
 * that the caller names and closes) instead of the bundle; the entry
 * records their size and checksum. Needs bundle_writer_set_folder() and a
 * kind that bundle_kind_can_be_external(). `what` names out in errors. */
int bundle_writer_put_external(bundle_writer *w, const bundle_source *data,
                               int out, const char *what, kl_err *err);

/* After the last put: write the index, the checksums and the trailer. The
 * file then ends with the trailer. */
int bundle_writer_finish(bundle_writer *w, kl_err *err);

#endif
