/*
 * rt_files.h: a one-file program's contents as a read-only directory tree
 * under the program's own path ("<program>/pkg/data.txt"), anonymous
 * memory files, and the per-user cache that gives a package of the tree
 * or a native object real files (rt_cachedir.c, rt_cache.c). No Python
 * here: the libc layer (rt_libc.c) serves open(), stat() and readdir() on
 * those paths from this tree, whatever code asks. Errors are errno values, as
 * libc's are. See docs/runtime.md, "Paths under the program".
 */
#ifndef KILN_RT_FILES_H
#define KILN_RT_FILES_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../bundle/bundle.h"

/* ---- rt_libc.c: libc's path calls ---------------------------------------- */

/* libc's definition of `name` (in an extension module, the one the host's
 * objects are bound to), cached in *slot: looked up once (a race only
 * looks it up twice). Ends the process when libc lacks it: nothing
 * sensible is left. */
void *rt_libc_real(void **slot, const char *name);

/* A wrapper of libc function `name` (built with KILN_EXT). */
typedef struct rt_libc_hook {
    const char *name;
    void *hook;
} rt_libc_hook;

/* The wrappers an extension module puts in its host's slots for libc's
 * functions (src/ext/ext_hooks.c). */
extern const rt_libc_hook rt_libc_hooks[];
extern const size_t rt_libc_n_hooks;

/* True when another kiln runtime may load objects in this process: always
 * in an extension module (its host may be a program kiln built, or hold
 * other such modules); in a program, once an extension module kiln built
 * has handed it its tree (kiln_libc_add_tree). */
int rt_libc_other_runtimes(void);

/* True when dirp is a directory stream rt_libc.c's opendir opened in the
 * extension module's tree. */
int rt_libc_owns_dir(DIR *dirp);

/* ---- rt_memfd.c: memory files ---------------------------------------- */

/* rt_memfd_create's flags. */
#define RT_MEMFD_CLOEXEC 1u     /* close-on-exec */
#define RT_MEMFD_DROP_SOURCE 2u /* data lies in a read-only file mapping:
                                   its pages are dropped (MADV_DONTNEED)
                                   as they are copied */

/* Create a memfd called `name` holding data[0, size), sealed against
 * change and positioned at 0. The bytes are copied a megabyte at a time;
 * when sum is not NULL, *sum gets their checksum (kl_checksum with
 * KL_CHECKSUM_SEED), computed as they are copied, so that a caller can
 * check bytes it has not checked yet in the same pass. Returns the
 * descriptor, or -1 with err set (errno is kept). Once memfd_create has
 * refused (ENOSYS, EPERM, EACCES: a filter or a policy), later calls fail
 * at once with the same errno. */
int rt_memfd_create(const char *name, const void *data, size_t size,
                    unsigned flags, uint64_t *sum, kl_err *err);

/* True once memfd_create has refused memory files in this process. */
int rt_memfd_refused(void);

/* Serve the files of bundle v under root ("<root>/..."): modules' sources
 * (<root>/pkg/mod.py), extension modules, package data, distribution
 * metadata and program data, and the directories that hold them. *v is
 * copied, but its mapping, root and path (the program's name, for damage
 * messages) must live as long as the process; st is the program file's
 * stat, whose owner, device and times the tree reports. Call once, before
 * any thread starts. */
void rt_files_mount(const bundle_view *v, const char *root, const char *path,
                    const struct stat *st);

/* True when path names something under the mounted root: absolute, below
 * "<root>/" once "." and ".." are applied. Such a path can never exist on
 * disk (the program is a file). False before rt_files_mount(). */
int rt_files_claims(const char *path);

/* stat() of a claimed path: a read-only regular file or directory. 0, or
 * -1 with errno ENOENT or ENOTDIR. */
int rt_files_stat(const char *path, struct stat *st);

/* open() of a claimed path: a new memfd holding the file's bytes, sealed
 * (writes fail), close-on-exec when flags say O_CLOEXEC; where memory
 * files are refused, a read-only descriptor of a copy in the per-user
 * cache (rt_cachedir_object, kind "files"). -1 with errno:
 * EROFS for writing, truncating or creating, EISDIR for a directory
 * (ENOTSUP with O_DIRECTORY or O_PATH: directories have no descriptor),
 * ENOENT, ENOTDIR, EIO for a module's damaged source (which costs a
 * traceback its source lines, as the importer's get_source does), or
 * memfd_create's. Any other damaged file ends the process with status 126
 * and a one-line message. */
int rt_files_open(const char *path, int flags);

/* access() of a claimed path: 0, or -1 with errno ENOENT, ENOTDIR, EROFS
 * (W_OK) or EACCES (X_OK on a file). */
int rt_files_access(const char *path, int mode);

/* mkdir() of a claimed path: always -1, with errno EEXIST when it exists,
 * else EROFS. */
int rt_files_mkdir(const char *path);

/* unlink(), rmdir() or rename() of a claimed path: always -1, with errno
 * EROFS when it exists, else ENOENT or ENOTDIR. */
int rt_files_remove(const char *path);

/* The entry whose data a claimed path is, for dlopen(): a file entry, an
 * extension module's shared object, or a library the program carries
 * (kind shlib) at its location. 1 with *e set; 0 with errno ENOENT,
 * ENOTDIR, EISDIR or ENOEXEC (a module's source); -1 with errno ENOMEM. */
int rt_files_object(const char *path, const bundle_entry **e);

/* The bundle's checksum of a claimed file's stored bytes, mixed with its
 * size: files with equal sums hold equal bytes. -1 with errno ENOENT,
 * ENOTDIR or EISDIR. */
int rt_files_checksum(const char *path, uint64_t *sum);

/* A directory of the tree being read (opendir). */
typedef struct rt_files_dir rt_files_dir;

/* Open a claimed directory for reading: NULL with errno ENOENT, ENOTDIR
 * or ENOMEM. The caller frees it with rt_files_closedir(). */
rt_files_dir *rt_files_opendir(const char *path);

/* The next entry of d ("." and ".." first, then the names in byte order),
 * or NULL at the end. The record stays valid until the next call on d. */
struct dirent *rt_files_readdir(rt_files_dir *d);

/* Start d over from its first entry. */
void rt_files_rewinddir(rt_files_dir *d);

/* Free d. */
void rt_files_closedir(rt_files_dir *d);

/* ---- rt_cachedir.c: the per-user cache ---------------------------------- */

/* Set base to the per-user cache of kind ("files", "natives"),
 * $XDG_CACHE_HOME/kiln/KIND (an absolute XDG_CACHE_HOME; else
 * ~/.cache/kiln/KIND), made 0700 if missing. Fails, with errno EACCES,
 * when it is not a directory that is the user's alone (no other may read
 * or write it), or with mkdir's errno; the message names the directory. */
int rt_cachedir_base(const char *kind, kl_buf *base, kl_err *err);

/* True when the real file `file` (not a symbolic link) holds exactly
 * data[0, size). */
int rt_cachedir_same(const char *file, const uint8_t *data, uint64_t size);

/* Remove the file or tree at path, as far as possible. */
void rt_cachedir_remove(const char *path);

/* What rt_cachedir_put asks of the entry it puts in place: with write 0,
 * check what directory dir holds (1 all there with the program's bytes,
 * 0 missing or different, -1 error); with write 1, write it all into the
 * new, empty directory dir (0, or -1 with err set). */
typedef int (*rt_cachedir_fill)(void *ctx, const char *dir, int write,
                                kl_err *err);

/* Make directory `final` (in cache directory base) hold what fill writes,
 * unless it does already: written into a new directory in base and
 * renamed to final in one step, so that it appears whole. When two
 * processes write at once, the second uses the first one's copy; a copy
 * that differs from the program's bytes (changed after it was written) is
 * removed and written again. A process killed meanwhile leaves a
 * temporary name in base, never a partial final; before writing, one
 * that finds nobody else writing in base removes every such name. Fails
 * when it cannot be written, or keeps differing after a few tries. */
int rt_cachedir_put(const char *base, const char *final,
                    rt_cachedir_fill fill, void *ctx, kl_err *err);

/* Put the object data[0, size) called name (a file name) in the cache of
 * kind as <base>/<digest>/<name>, with mode, and set path to that file;
 * the digest covers the name and the bytes, so a path never names two
 * different objects. An existing copy is used once compared with data;
 * one that differs is replaced (rt_cachedir_put). */
int rt_cachedir_object(const char *kind, const char *name, const void *data,
                       size_t size, unsigned mode, kl_buf *path, kl_err *err);

/* ---- rt_cache.c: real files for a package of the tree ------------------ */

/* Make the files under tree directory <root>/<rel> (rel: "pkg" or
 * "pkg/sub"; root as mounted) real files in the per-user cache, once, and
 * put their real directory, <cache>/<name>-<digest>/<name>, in *dir. The
 * cache is $XDG_CACHE_HOME/kiln/files (or ~/.cache/kiln/files), made
 * 0700 and refused unless it is the user's alone; the digest covers the
 * files' names, sizes and checksums. A copy already there is used once
 * each file was compared with the program's bytes; one that differs is
 * replaced. The tree is written under a temporary name and renamed into
 * place, so concurrent first runs are safe. Programs and shared objects
 * (ELF, #!) are made executable. Fails with a message naming the path. */
int rt_cache_tree(const char *root, const char *rel, kl_buf *dir,
                  kl_err *err);

#endif
