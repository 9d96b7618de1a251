/*
 * fz_pkgdata.h: the files that go into a program beside modules: the
 * non-code files of packages, and the files of distributions' .dist-info
 * directories. No Python here (the C unit tests use it directly).
 */
#ifndef KILN_FZ_PKGDATA_H
#define KILN_FZ_PKGDATA_H

#include "../common/kl_common.h"

/* A list of files to add: each string is the location inside the program,
 * a NUL, then the file on disk ("pkg/x.txt\0/site/pkg/x.txt"), so that
 * sorting and fz_strv_sort_unique order and merge them by location. */

/* The file on disk of list item `item`. */
const char *fz_pkgdata_src(const char *item);

/* True when file `name` (at path, or NULL when only the name is known) is
 * package data: not code (.py, .pyc, .pyo, .pyi, an extension module: a
 * name ending in one of suffixes whose file defines PyInit_<name>; a
 * library such as libfoo.so that code loads with ctypes is data) and not
 * a file only building needs (.c, .h, .cpp, .hpp, .pyx, .pxd, .pxi, .a,
 * .o). */
int fz_pkgdata_is_data(const char *path, const char *name,
                       const kl_strv *suffixes);

/* Append to out the package data of the package in directory dir, whose
 * location inside the program is loc ("pkg/sub"): every data file in dir,
 * and in its subdirectories that are not packages of their own (no
 * __init__.py), or in every subdirectory when whole_tree; never in
 * __pycache__. A directory that cannot be read adds nothing. */
int fz_pkgdata_list(const char *dir, const char *loc, int whole_tree,
                    const kl_strv *suffixes, kl_strv *out, kl_err *err);

/* Append to out the files of .dist-info directory `info` (recursively:
 * licenses/ too) at location base/<path>, except what only the installer
 * reads: INSTALLER, REQUESTED and direct_url.json (which holds paths of
 * the build machine). */
int fz_pkgdata_dist_info(const char *info, const char *base, kl_strv *out,
                         kl_err *err);

#endif
