/*
 * kl_common.h: what every part of kiln shares, the command and the built
 * programs alike: error reporting, checksums and name hashing, growable
 * buffers and string lists, and whole-file helpers (read, map, write all).
 * JSON strings and what the kiln command says besides errors (warnings,
 * progress). Nothing here knows Python or the bundle format.
 *
 * Error convention used everywhere in kiln: a function that can fail returns
 * 0 on success and -1 on failure, and on failure fills the kl_err its caller
 * passed as the last argument with one line saying what failed and where.
 * Callers add context with kl_err_prefix() and pass the same kl_err up.
 * The one exception is the buffer and list helpers below, which can fail
 * only when memory runs out: they return -1 and leave the message to the
 * caller (kl_err_oom()).
 */
#ifndef KILN_KL_COMMON_H
#define KILN_KL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define KILN_VERSION "0.1.0"

#if defined(__GNUC__)
#define KL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KL_PRINTF(f, a)
#endif

/* ---- kl_err.c: errors ---------------------------------------------------- */

/* One line describing the most recent failure. */
typedef struct kl_err {
    char msg[1024];
} kl_err;

/* Replace err's message with the formatted text. Returns -1 so that callers
 * can write `return kl_err_set(err, ...)`. err may be NULL. */
int kl_err_set(kl_err *err, const char *fmt, ...) KL_PRINTF(2, 3);

/* Put the formatted text and ": " in front of err's message. Returns -1. */
int kl_err_prefix(kl_err *err, const char *fmt, ...) KL_PRINTF(2, 3);

/* Set err to "out of memory". Returns -1. */
int kl_err_oom(kl_err *err);

/* ---- kl_checksum.c: checksums and name hashing ---------------------------- */

/* Checksum of n bytes at p, continuing from seed (use KL_CHECKSUM_SEED to
 * start). FNV-1a over little-endian 64-bit words, then the tail bytes: any
 * change to a single word always changes the result. Not cryptographic.
 * Because it works word by word, the checksum of a || b equals the
 * checksum of b seeded with the checksum of a whenever a's length is a
 * multiple of 8. */
#define KL_CHECKSUM_SEED UINT64_C(0xcbf29ce484222325)

/* The start of the one symbol an extension module's template exports: its
 * PyInit function, named PyInit_<module> by the build (elf_rename_export)
 * within the bytes this name takes. */
#define KL_EXT_INIT_PREFIX "PyInit_kiln_extension_module_"
uint64_t kl_checksum(uint64_t seed, const void *p, size_t n);

/* The same checksum computed over bytes that arrive in pieces of any size:
 * kl_sum_init, kl_sum_add for each piece, then kl_sum_end gives what
 * kl_checksum(seed, all pieces) gives. Holds no allocation. */
typedef struct kl_sum {
    uint64_t h;
    uint8_t tail[8];  /* bytes of an incomplete word */
    size_t ntail;
} kl_sum;
void kl_sum_init(kl_sum *s, uint64_t seed);
void kl_sum_add(kl_sum *s, const void *p, size_t n);
uint64_t kl_sum_end(const kl_sum *s);

/* 32-bit hash of a name used by the bundle's lookup table. */
uint32_t kl_name_hash(const char *name, size_t len);

/* Add a and b into *out; returns 0, or -1 when the sum overflows. */
static inline int kl_add_size(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a > UINT64_MAX - b)
        return -1;
    *out = a + b;
    return 0;
}

/* Round n up to a multiple of a (a power of two or not; a > 0). */
static inline uint64_t kl_align(uint64_t n, uint64_t a)
{
    return (n + a - 1) / a * a;
}

/* ---- kl_buf.c: growable strings and string lists ------------------------- */

/* A growable NUL-terminated string. KL_BUF_INIT is an empty buffer; s is
 * NULL until the first byte is added. The buffer owns s; kl_buf_free()
 * releases it. */
typedef struct kl_buf {
    char *s;
    size_t len;
    size_t cap;
} kl_buf;
#define KL_BUF_INIT {NULL, 0, 0}

/* Append n bytes / a string. -1 when out of memory (the buffer keeps what
 * it held). */
int kl_buf_add(kl_buf *b, const void *p, size_t n);
int kl_buf_adds(kl_buf *b, const char *s);
/* Append the formatted text. -1 when out of memory. */
int kl_buf_addf(kl_buf *b, const char *fmt, ...) KL_PRINTF(2, 3);

/* Make the buffer hold exactly the formatted text / a string. -1 when out
 * of memory. */
int kl_buf_setf(kl_buf *b, const char *fmt, ...) KL_PRINTF(2, 3);
int kl_buf_sets(kl_buf *b, const char *s);

/* Set b to dir + "/" + name (just name when dir is empty). Nothing is cut:
 * a path too long for the file system is refused by the call that uses
 * it. -1 when out of memory. */
int kl_path_join(kl_buf *b, const char *dir, const char *name);

/* Release the memory; the buffer is empty again. */
void kl_buf_free(kl_buf *b);

/* Take the text: a malloc'd string the caller frees (never NULL: "" when
 * empty, NULL only when out of memory); the buffer is empty again. */
char *kl_buf_detach(kl_buf *b);

/* A growable list of owned strings. KL_STRV_INIT is an empty list. */
typedef struct kl_strv {
    char **v;
    size_t n;
    size_t cap;
} kl_strv;
#define KL_STRV_INIT {NULL, 0, 0}

/* Make room for one more item in the growable array *v (a pointer to an
 * array pointer) holding n items of `size` bytes, *cap allocated: doubles
 * it when full. -1 when out of memory (the array is unchanged). */
int kl_room(void *v, size_t *cap, size_t n, size_t size);

/* Append a copy of s. -1 when out of memory. */
int kl_strv_push(kl_strv *l, const char *s);

/* Append s itself: the list takes ownership (and frees s on failure). */
int kl_strv_take(kl_strv *l, char *s);

/* Free every string and the list; the list is empty again. */
void kl_strv_free(kl_strv *l);

/* New malloc'd a + b + c; NULL when out of memory. */
char *kl_str_join3(const char *a, const char *b, const char *c);

/* ---- kl_file.c: files ------------------------------------------------------ */

/* Open path for reading and check that it is a regular file (a FIFO or a
 * device is refused at once, never waited on). On success *fd is a new
 * descriptor the caller closes and *size the file's size. */
int kl_open_regular(const char *path, int *fd, uint64_t *size, kl_err *err);

/* True when path names a directory / a regular file (symbolic links
 * followed). */
int kl_is_dir(const char *path);
int kl_is_file(const char *path);

/* Read the whole regular file at path into a new malloc'd buffer
 * (NUL-terminated for convenience; the NUL is not counted in *len). The
 * caller frees *out. */
int kl_read_file(const char *path, uint8_t **out, size_t *len, kl_err *err);

/* A read-only mapping of a whole file. */
typedef struct kl_map {
    const uint8_t *data; /* NULL for an empty file */
    uint64_t size;
} kl_map;

/* Map the regular file at path read-only and privately. An empty file
 * gives data NULL and size 0. Release with kl_unmap(). */
int kl_map_file(const char *path, kl_map *m, kl_err *err);

/* Unmap m (which may be empty); m is empty afterwards. */
void kl_unmap(kl_map *m);

/* Create every missing directory above path (mode 0777 less the umask);
 * one that exists already is fine. */
int kl_make_parents(const char *path, kl_err *err);

/* Files that appear whole or not at all. kl_temp_beside creates a new
 * empty file next to path (same directory, name ".BASENAME.kiln-XXXXXX",
 * so the rename cannot cross file systems): *tmp gets its name, *fd a
 * descriptor open for reading and writing. kl_temp_commit gives it `mode`,
 * closes fd and renames it over path; on failure it removes the temporary
 * file and path is left as it was. kl_temp_discard closes fd (when >= 0)
 * and removes the temporary file, for the caller's own failures. */
int kl_temp_beside(const char *path, kl_buf *tmp, int *fd, kl_err *err);
int kl_temp_commit(const kl_buf *tmp, int fd, const char *path, unsigned mode,
                   kl_err *err);
void kl_temp_discard(const kl_buf *tmp, int fd);

/* Make n bytes at p the contents of path, atomically (kl_temp_beside),
 * with `mode`. On failure path is left as it was. */
int kl_file_replace(const char *path, const void *p, size_t n, unsigned mode,
                    kl_err *err);

/* ---- kl_fd.c: whole buffers on open descriptors -------------------------- */

/* Write all n bytes at p to fd, retrying after short writes and EINTR.
 * `what` names the destination in the message ("cannot write WHAT: ..."). */
int kl_write_all(int fd, const void *p, size_t n, const char *what,
                 kl_err *err);

/* Read exactly n bytes of fd at offset off into buf; a file that ends
 * first is an error ("WHAT changed while it was read"). */
int kl_read_at(int fd, void *buf, size_t n, uint64_t off, const char *what,
               kl_err *err);

/* ---- kl_json.c: JSON strings ---------------------------------------------- */

/* Also escape <, > and & (as \u003c ...), so that the text can sit inside
 * an HTML <script> element. */
#define KL_JSON_HTML 1u

/* Append s[0, n) to b as a JSON string literal, quotes included: `"` and
 * `\` escaped, control characters and DEL as \u00XX (\n, \r, \t
 * short), U+2028 and U+2029 escaped, and every byte that is not part of
 * well-formed UTF-8 replaced by \ufffd, so the result is valid UTF-8 JSON
 * for any bytes. flags: KL_JSON_HTML or 0. -1 when out of memory. */
int kl_json_str(kl_buf *b, const char *s, size_t n, unsigned flags);

/* ---- kl_msg.c: what the kiln command says besides errors ------------------ */

/* How much the command says on stderr. */
enum kl_verbosity {
    KL_QUIET = -1,  /* errors only */
    KL_NORMAL = 0,  /* warnings, the summary, progress on a terminal */
    KL_VERBOSE = 1  /* and every entry and missing import */
};

/* Set the verbosity for the rest of the run, and whether progress is
 * shown: only when stderr is a terminal and not KL_QUIET. Resets the
 * warning count. */
void kl_msg_setup(enum kl_verbosity v);

/* The verbosity set by kl_msg_setup (KL_NORMAL before). */
enum kl_verbosity kl_msg_verbosity(void);

/* Print "kiln: warning: TEXT" on stderr unless quiet, and count it. */
void kl_warn(const char *fmt, ...) KL_PRINTF(1, 2);

/* Warnings given since kl_msg_setup. */
unsigned kl_warn_count(void);

/* Print "kiln: TEXT" on stderr unless quiet (not counted). */
void kl_note(const char *fmt, ...) KL_PRINTF(1, 2);

/* Show "kiln: STAGE DONE/TOTAL" (total 0: "kiln: STAGE DONE") on one
 * line of the terminal that the next call overwrites, at most about ten
 * times a second; nothing when progress is off. Warnings and notes clear
 * it first. */
void kl_progress(const char *stage, size_t done, size_t total);

/* Clear the progress line, if one is shown. */
void kl_progress_end(void);

#endif
