/*
 * rt_natives.h: how a built program hands native code (extension modules,
 * the shared libraries it carries, libraries code loads with dlopen) to
 * the dynamic loader: from memory, or from the per-user cache where memory
 * is refused. No Python here: the executable's libc layer
 * (src/stub/stub_libc.c) asks rt_natives.c what dlopen() should do. See
 * docs/native.md.
 */
#ifndef KILN_RT_NATIVES_H
#define KILN_RT_NATIVES_H

#include <stddef.h>

#include "../common/kl_common.h"

/* Exit status when the program's environment asks for something it does
 * not offer (KILN_NATIVE=bogus): a usage error, as python's for a bad
 * command line, told apart from the application's own status 1 and from a
 * damaged program (126). */
#define RT_EXIT_USAGE 2

/* ---- rt_dlpath.c: memory or cache, and the path the loader is given ---- */

/* Read the environment once, before the program runs: KILN_NATIVE
 * (memory, cache, or unset: memory, and the cache where memory is
 * refused) and KILN_VERBOSE (set and not "0": say on stderr, in one line,
 * when native code falls back to the cache and why). `program` (kept) is
 * the name messages start with. Fails on any other KILN_NATIVE, with a
 * message naming the variable and the values it takes. */
int rt_dlpath_setup(const char *program, kl_err *err);

/* A shared object placed where the dynamic loader can open it: path is
 * the string to hand it, fd the memfd behind it (-1 for a file in the
 * cache); damaged is set when its bytes failed their checksum. */
typedef struct rt_dlpath {
    kl_buf path;
    int fd;
    int damaged;
} rt_dlpath;
#define RT_DLPATH_INIT {KL_BUF_INIT, -1, 0}

/* Place the shared object data[0, size), called name (its file name),
 * for the loader. check is NULL when the bytes were checked already;
 * else they lie in the program's mapping, unchecked, and must have the
 * checksum *check: in memory they are checked as they are copied (their
 * pages dropped from the process as they go), before the cache is
 * written; bytes that fail set p->damaged and fail. In memory, a sealed
 * memfd named name, given as /proc/PID/fd/N (rt_dlpath.c says when
 * /proc/self/fd/N) with one more slash after "fd/" each time N was given
 * before: glibc knows a loaded object by that string and returns it for a
 * later dlopen of the same string, so no string may name two objects.
 * In the cache, <cache>/natives/<digest>/<name> (rt_cachedir_object).
 * Which of the two is decided at the first object of the process and
 * kept: memory, unless KILN_NATIVE says cache, or (KILN_NATIVE unset)
 * memfd_create is refused, a memfd cannot be mapped executable (seccomp,
 * SELinux, a no-exec policy) or /proc/self/fd does not show it (no
 * /proc). The caller hands p->path to the loader, then rt_dlpath_close. */
int rt_dlpath_open(const char *name, const void *data, size_t size,
                   const uint64_t *check, rt_dlpath *p, kl_err *err);

/* Set err to say that the bytes of name in the program are damaged and
 * mark p (p->damaged). Returns -1. */
int rt_dlpath_damaged(const char *name, rt_dlpath *p, kl_err *err);

/* Close p's memfd (the loaded object needs none: its path string is never
 * handed out for other bytes) and free its path. */
void rt_dlpath_close(rt_dlpath *p);

/* True once native code is placed in the cache rather than in memory. */
int rt_dlpath_in_cache(void);

/* ---- rt_natives.c: dlopen() of what the program carries ---------------- */

/* What dlopen(file, flags) does in a built program (the libc layer asks
 * first). file names something the program carries when it is a bare
 * name of a library it carries (a shlib entry) or, in a one-file program,
 * a path under the program (a library shipped as package data or with
 * --add-data, an extension module's file, a carried library's location):
 * that object is loaded once (rt_dlpath_open, or a folder program's file),
 * after the carried libraries it needs, and every later dlopen of it
 * returns the same object. 1 with *handle the object, or NULL when it
 * cannot be loaded (rt_natives_dlerror says why); 0 when file is none of
 * these and libc's dlopen must answer. Thread-safe. */
int rt_natives_dlopen(const char *file, int flags, void **handle);

/* dlopen(file, flags) of a bare name from code in the loaded object whose
 * link-map name is caller. libc's dlopen searches the RPATH or RUNPATH of
 * the object that calls it, whose $ORIGIN means nothing for an object
 * loaded from memory or the cache; so when caller is an object the
 * program loaded that way, its directories that start with $ORIGIN are
 * taken from its place in the program (<program>/pkg for
 * pkg/_mod.so), and the first file of that name the program holds there
 * is loaded as rt_natives_dlopen loads it: 1 with *handle. 0 when there is
 * none (the caller is not such an object, has no such directory, or the
 * program holds no such file), or in a folder program, whose files are
 * real. */
int rt_natives_dlopen_beside(const char *caller, const char *file, int flags,
                             void **handle);

/* The message of this thread's last failed rt_natives_dlopen, once
 * (later calls give NULL until the next failure); NULL when the last
 * failure was libc's. */
const char *rt_natives_dlerror(void);

/* Forget this thread's failure message: libc's dlopen failed since. */
void rt_natives_dlerror_clear(void);

#endif
