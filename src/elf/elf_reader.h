/*
 * elf_reader.h: what kiln needs to know about an ELF shared object or
 * executable, read from its bytes in memory: the part the dynamic loader
 * reads (what stripping keeps), and from the dynamic section the libraries
 * it needs (DT_NEEDED), its own name (DT_SONAME), its search paths
 * (DT_RPATH, DT_RUNPATH) and the symbol versions it needs from each library
 * (e.g. GLIBC_2.34 from libc.so.6); and for a built program, a copy of an
 * object with some needed libraries hidden from the loader. No Python
 * here: the kiln command and the built programs share it.
 *
 * Only 64-bit little-endian objects are read (x86_64, aarch64). Every
 * offset taken from the image is checked against its size first: a damaged
 * or hostile image gives an error, never a read outside it.
 */
#ifndef KILN_ELF_READER_H
#define KILN_ELF_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/kl_common.h"

/* Size of the ELF header that elf_cut_header() rewrites. */
#define ELF_HEADER_SIZE 64

/* One symbol version an object needs from a library. */
typedef struct elf_version_need {
    const char *file;     /* the library, e.g. "libc.so.6" */
    const char *version;  /* e.g. "GLIBC_2.34" */
} elf_version_need;

/* What elf_read() found. String pointers point into the image and live as
 * long as it does; the two arrays are malloc'd (elf_info_free). */
typedef struct elf_info {
    uint16_t type;            /* ET_DYN, ET_EXEC, ... */
    uint16_t machine;         /* EM_X86_64, EM_AARCH64, ... */
    int program;              /* an executable (ET_EXEC, or one naming an
                                 interpreter, PT_INTERP): run, not loaded */
    uint64_t loadable_size;   /* bytes from the start of the file to the end
                                 of the last segment, the program headers
                                 included: all the loader ever reads */
    const char *soname;       /* DT_SONAME, or NULL */
    const char *rpath;        /* DT_RPATH, or NULL */
    const char *runpath;      /* DT_RUNPATH, or NULL */
    const char **needed;      /* DT_NEEDED, in the order they appear */
    size_t n_needed;
    elf_version_need *version_needs; /* in the order of the version table */
    size_t n_version_needs;
} elf_info;

/* Read image[0, size). Fails with a one-line message on anything that is
 * not a well-formed 64-bit little-endian ELF object. On success the caller
 * frees info with elf_info_free(); on failure info holds nothing. */
int elf_read(const void *image, uint64_t size, elf_info *info, kl_err *err);

/* Free what elf_read() allocated in info (a zeroed info is fine). */
void elf_info_free(elf_info *info);

/* The image's ELF header (first ELF_HEADER_SIZE bytes, of an image that
 * elf_read() accepted) rewritten for the image cut to its loadable size:
 * the section header table is gone, so its fields are cleared. */
void elf_cut_header(const void *image, uint8_t out[ELF_HEADER_SIZE]);

/* Whether name is a whole string of the dynamic string table of
 * image[0, size) (where the names of the symbols it defines and uses, the
 * libraries it needs and its own name lie): e.g. "PyInit_foo" in an
 * extension module foo. 0 for anything elf_read() would refuse. */
int elf_dynstr_has(const void *image, uint64_t size, const char *name);

/* The length of the $ORIGIN or ${ORIGIN} that s[0, n) starts with (the
 * object's directory, in a DT_RPATH or DT_RUNPATH and in kiln's
 * --runtime-path), or 0. */
size_t elf_origin_len(const char *s, size_t n);

/* The dynamic tag the entries elf_fixed_paths() finds are given when a
 * program is built: a tag no loader knows, which it skips, in the range
 * reserved for operating systems. */
#define ELF_DT_HIDDEN_PATH 0x6b6c6e02

/* The file offsets (offs[0, *n), at most 2) of the DT_RPATH and
 * DT_RUNPATH entries of image[0, size) whose directories are all fixed
 * paths, none relative to the object ($ORIGIN): directories of the
 * machine the object was built or installed on, which a built program
 * must never search. 0, with *n 0 for an image elf_read() would refuse. */
int elf_fixed_paths(const void *image, uint64_t size, uint64_t offs[2],
                    size_t *n);

/* The dynamic tag elf_hide_needed() gives entries the loader must skip:
 * in the range reserved for operating systems (DT_LOOS..DT_HIOS), and
 * none that glibc knows. */
#define ELF_DT_HIDDEN_NEEDED 0x6b6c6e01

/* In the writable image[0, size) of a shared object, make the dynamic
 * loader ignore the DT_NEEDED entries naming one of names[0, n_names)
 * (libraries without a DT_SONAME, loaded beforehand with RTLD_GLOBAL,
 * which the loader could not match by name): their tag becomes
 * ELF_DT_HIDDEN_NEEDED. The loader checks each version-needs record
 * against the loaded object of that file name, so a record naming a
 * hidden library is pointed at the empty string, the main program's name
 * to glibc, with its versions made weak (the main program defines none:
 * no error); symbol lookups still ask for the exact versions, which the
 * hidden library defines. (glibc before 2.34 would then insist that the
 * main program define those symbols; the built programs need a newer one
 * anyway.) 1 when something was hidden, 0 when none of names is needed,
 * -1 when the image is not one elf_read() accepts. */
int elf_hide_needed(uint8_t *image, uint64_t size, const char *const *names,
                    size_t n_names, kl_err *err);

/* In the writable image[0, size) of a shared object that exports exactly
 * one symbol (an extension module's template), whose name starts with
 * prefix and is at least as long as name: name it `name` instead (the
 * rest of the old name's bytes zeroed) and file it under name's hash in
 * the GNU hash table (its Bloom filter set to let every name through), so
 * that the loader finds it by the new name and no other. Fails, saying
 * why, for any other image or a name too long. */
int elf_rename_export(uint8_t *image, uint64_t size, const char *prefix,
                      const char *name, kl_err *err);

#endif
