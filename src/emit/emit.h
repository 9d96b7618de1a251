/*
 * emit.h: emitters turn a finished plan into an output. They decide
 * nothing: every entry, its bytes, its storage and its place (inside the
 * program or a file next to it) come from the plan. Three outputs: the
 * one-file program, the folder program and the extension module.
 */
#ifndef KILN_EMIT_H
#define KILN_EMIT_H

#include "../plan/plan.h"

/* Write the one-file program for plan p (finished with plan_finish) to
 * out_path: the runtime stub at stub_path, zero padding to a page boundary,
 * then a bundle holding every entry. Payloads are streamed from memory and
 * files, so memory use does not grow with their size. The file appears
 * atomically: it is written under a temporary name in the same directory
 * (missing parent directories are created), made executable and renamed
 * over out_path; on failure nothing is left and a previous file at
 * out_path is untouched. */
int emit_onefile(const plan *p, const char *stub_path, const char *out_path,
                 kl_err *err);

/* Write the extension module `name` for plan p (finished) to out_path:
 * the template shared object at template_path with its entry point
 * renamed PyInit_<name>, zero padding to a page boundary, then a bundle
 * holding every entry; written as emit_onefile writes a program. Fails
 * for a name no PyInit_ symbol can carry or a template that is not one. */
int emit_extension(const plan *p, const char *template_path,
                   const char *name, const char *out_path, kl_err *err);

/* The folder of a folder program, next to its executable: where a
 * PyInstaller (6 and later) onedir build keeps its files too. */
#define EMIT_FOLDER "_internal"

/* What an emitter may do to what is already at its output path. */
typedef struct emit_replace {
    int force;                 /* replace whatever is there (--force) */
    const char *const *inputs; /* paths the build reads: a path that is or
                                  holds one is never replaced, even with
                                  force (the plan's own files and the stub
                                  are added by the emitter) */
    size_t n_inputs;
} emit_replace;

/* Write the folder program for plan p (finished) as the directory
 * out_dir: the executable out_dir/NAME (stub and bundle, as one-file) and
 * out_dir/EMIT_FOLDER holding every entry the plan places outside, each
 * as the file EMIT_FOLDER/<location>, indexed in the bundle with its size
 * and checksum. Everything is written into a temporary directory beside
 * out_dir and renamed into place, so out_dir is never half-written. What
 * is at out_dir is replaced when it is a program kiln wrote (a folder
 * program holding nothing else, or a one-file program) or a directory
 * holding no file, or anything but an input with rep->force; otherwise
 * the build is refused and nothing is touched. */
int emit_onedir(const plan *p, const char *stub_path, const char *out_dir,
                const char *name, const emit_replace *rep, kl_err *err);

/* The executable of the folder program in directory dir: the one regular
 * file there that carries a bundle naming a folder, put in *exe (dir/NAME).
 * Fails, saying why, when dir holds none or several. */
int emit_folder_program_exe(const char *dir, kl_buf *exe, kl_err *err);

#endif
