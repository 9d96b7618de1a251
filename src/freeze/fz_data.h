/*
 * fz_data.h: files given with --add-data, as plan entries. No Python here
 * (the C unit tests use it directly).
 */
#ifndef KILN_FZ_DATA_H
#define KILN_FZ_DATA_H

#include "../common/kl_common.h"
#include "../plan/plan.h"

/* Split an --add-data argument SRC:DEST into *src and the directory *dest
 * inside the program it names ("" for the top: "/", "." and "./" prefixes
 * and trailing slashes removed); both new malloc'd strings. DEST may not
 * climb out of the program. */
int fz_data_split(const char *spec, char **src, char **dest, kl_err *err);

/* Add the files one --add-data SRC:DEST argument names to p, as
 * PyInstaller does: a file SRC lands in DEST under its own name, a
 * directory SRC's files (recursively, sorted, __pycache__ left out) below
 * DEST. Stored at `level`. */
int fz_data_collect(const char *spec, int level, plan *p, kl_err *err);

#endif
