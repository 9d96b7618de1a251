/*
 * fz_names.h: module names: their form, containment and relative-import
 * resolution.
 * No Python here (the C unit tests use it directly).
 */
#ifndef KILN_FZ_NAMES_H
#define KILN_FZ_NAMES_H

#include "../common/kl_common.h"

/* True when s[0, n) is a dotted Python identifier path ("a.b_c.d"; bytes
 * beyond ASCII count as identifier characters). */
int fz_name_is_dotted(const char *s, size_t n);

/* True when name is module x or lies inside package x. */
int fz_name_within(const char *name, const char *x);

/* The absolute name of `import name` at relative `level` written in module
 * `from` (a package itself when from_is_package), as importlib resolves
 * it: *out is a new malloc'd name, or NULL when the import cannot be
 * resolved (a relative import outside a package, beyond the top-level
 * package, or in __main__). */
int fz_name_resolve(const char *from, int from_is_package, const char *name,
                    long level, char **out, kl_err *err);

#endif
