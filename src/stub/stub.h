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

/* End the program as python does once its code has run: when failed, the
 * pending exception printed (SystemExit exits the process with its code
 * there) and status 1; then the interpreter finalized (status 120 when
 * flushing failed); an uncaught KeyboardInterrupt ends the process by
 * SIGINT. Returns the exit status. */
int stub_run_end(int failed);

/* Make sys.excepthook print tracebacks with bundled source lines where
 * the built-in hook cannot (3.11, 3.12). -1 with an exception set. */
int stub_install_excepthook(void);

/* ---- stub_interp.c: an interpreter program ------------------------------ */

/* Pre-initialize with pre (the build's options applied) and CPython
 * parsing argv (-E, -I, -X utf8, -X dev) over them. A failure ends the
 * process as python's would (Py_ExitStatusException). */
PyStatus stub_interp_preinit(PyPreConfig *pre, int argc, char **argv);

/* Make c, which holds the build's options and argv, python's: argv
 * parsed by CPython (its errors, --version and --help end the process at
 * initialization), site imported, sys.path[0] computed, bytecode of
 * modules on disk written, the usage naming argv0. */
PyStatus stub_interp_config(PyConfig *c, const char *argv0);

/* After the main phase: sys.path as python's (PYTHONPATH when the
 * environment counts, then prog's --runtime-path), PathFinder kept after
 * the bundle importer, and the path entry finders site's start cached
 * before the bundle's path hook was in forgotten. -1 with an exception
 * set. */
int stub_interp_paths(const rt_program *prog);

/* Run prog's runtime hooks, then what the command line names (Py_RunMain:
 * -c, -m, SCRIPT, stdin, the REPL, -i) and finalize. Returns the exit
 * status python's would have; a KeyboardInterrupt ends the process by
 * SIGINT. */
int stub_interp_run(const rt_program *prog);

#endif
