/*
 * stub.h: the executable part of a built program, around the runtime
 * core: main, the interpreter's start with the bundle importer in place,
 * the run modes (script, -m, entry point) and an exit as python's.
 */
#ifndef KILN_STUB_H
#define KILN_STUB_H

#include "../runtime/rt.h"

/* Exit status when the program file itself cannot be used (damaged bundle,
 * no /proc): the shell's "found but cannot execute". */
#define STUB_EXIT_DAMAGED RT_EXIT_DAMAGED

/* ---- stub_start.c ---------------------------------------------------------- */

/* Initialize the interpreter in two phases with the bundle importer first on
 * sys.meta_path, so that encodings and every later import come from the
 * bundle. Returns 0, or -1 with err set (Python is then not usable). */
int stub_python_start(rt_program *prog, int argc, char **argv, kl_err *err);

/* ---- stub_hooks.c ---------------------------------------------------------- */

/* Run the program's runtime hooks (prog->options.hooks), in order: each
 * is imported as the bundled module it is, so a hook's globals are its
 * own and it stays in sys.modules. Returns 0, or -1 with the exception
 * of the hook that failed set. */
int stub_run_hooks(const rt_program *prog);

/* ---- stub_run.c ------------------------------------------------------------ */

/* Run the program as its bundle says and finalize the interpreter. Returns
 * the process exit status; may not return (SystemExit, KeyboardInterrupt). */
int stub_run(rt_program *prog);

#endif
