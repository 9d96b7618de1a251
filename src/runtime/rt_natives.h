/*
 * rt_natives.h: how a built program hands native code (extension modules,
 * the shared libraries it carries) to the dynamic loader: from memory, or
 * from the per-user cache where memory is refused. No Python here. See
 * docs/runtime.md, "Extension modules from memory" and "Where memory is
 * refused".
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
 * cache). */
typedef struct rt_dlpath {
    kl_buf path;
    int fd;
} rt_dlpath;
#define RT_DLPATH_INIT {KL_BUF_INIT, -1}

/* Place the shared object data[0, size), called name (its file name),
 * for the loader. In memory, a sealed memfd named name, given as
 * /proc/self/fd/N with one more slash after "fd/" each time N was given
 * before: glibc knows a loaded object by that string and returns it for a
 * later dlopen of the same string, so no string may name two objects.
 * In the cache, <cache>/natives/<digest>/<name> (rt_cachedir_object).
 * Which of the two is decided at the first object of the process and
 * kept: memory, unless KILN_NATIVE says cache, or (KILN_NATIVE unset)
 * memfd_create is refused, a memfd cannot be mapped executable (seccomp,
 * SELinux, a no-exec policy) or /proc/self/fd does not show it (no
 * /proc). The caller hands p->path to the loader, then rt_dlpath_close. */
int rt_dlpath_open(const char *name, const void *data, size_t size,
                   rt_dlpath *p, kl_err *err);

/* Close p's memfd (the loaded object needs none: its path string is never
 * handed out for other bytes) and free its path. */
void rt_dlpath_close(rt_dlpath *p);

/* True once native code is placed in the cache rather than in memory. */
int rt_dlpath_in_cache(void);

#endif
