/*
 * emit_files.h: what the emitters share (src/emit/ only): a plan entry's
 * data opened for storing, storing an entry inside a bundle or beside
 * it.
 */
#ifndef KILN_EMIT_FILES_H
#define KILN_EMIT_FILES_H

#include "emit.h"

#include "../elf/elf_reader.h"

/* A plan entry's data opened for storing: src reads from memory or from
 * an open file; a shared object to strip is cut to its loadable part,
 * with the edited header in head, and a native object's fixed search
 * paths are hidden by patches (src points at both, so an emit_data is
 * not copied while open). */
typedef struct emit_data {
    bundle_source src;
    uint8_t head[ELF_HEADER_SIZE];
    bundle_patch patches[2];
} emit_data;

/* Open e's data part for storing into *d. Errors name the file. Close
 * with emit_data_close(), also after a failure. */
int emit_data_open(const plan_entry *e, emit_data *d, kl_err *err);

/* Close what emit_data_open() opened. */
void emit_data_close(emit_data *d);

/* Write a program to fd (open for reading and writing, empty): the stub
 * (mapped in stub), zero padding to a page, then the bundle of plan p.
 * With folder NULL every entry is stored inside the bundle; otherwise the
 * bundle names `folder` as the program's folder and each entry the plan
 * places outside is written as the file <folder_path>/<location>
 * (folder_path: that folder, being made; missing directories below it are
 * created). */
int emit_program_write(const plan *p, const kl_map *stub, int fd,
                       const char *folder, const char *folder_path,
                       kl_err *err);

/* Write the file out_path: the stub (or extension module template) in
 * image, zero padding to a page, then the bundle of plan p holding every
 * entry; written under a temporary name in the same directory (missing
 * parent directories are created), made executable and renamed over
 * out_path, so that on failure nothing is left and a file at out_path is
 * untouched. Refuses a directory at out_path. */
int emit_onefile_image(const plan *p, const kl_map *image,
                       const char *out_path, kl_err *err);

#endif
