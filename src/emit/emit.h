/*
 * emit.h: emitters turn a finished plan into an output. They decide
 * nothing: every entry, its bytes, its storage and its place come from the
 * plan. Only the one-file program exists so far.
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

#endif
