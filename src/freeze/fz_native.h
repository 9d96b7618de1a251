/*
 * fz_native.h: module names read from the strings of an extension
 * module's file. No Python here (the C unit tests use it directly).
 */
#ifndef KILN_FZ_NATIVE_H
#define KILN_FZ_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/kl_common.h"

/* Append to out, sorted and each once, the strings of p[0, n) that may
 * name a module native code imports: a dotted Python name (ASCII) that is
 * a whole NUL-terminated string, or that contains a dot and stands between
 * bytes that cannot be part of a name; and whose first component is in
 * tops (a sorted list: the top-level names worth a look). */
int fz_native_scan(const uint8_t *p, size_t n, const kl_strv *tops,
                   kl_strv *out, kl_err *err);

/* fz_native_scan over the file at path (mapped, not read). */
int fz_native_names(const char *path, const kl_strv *tops, kl_strv *out,
                    kl_err *err);

#endif
