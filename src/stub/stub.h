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
 * bundle. Returns 0, or -1 with err set (Python is then not usable). A
 * KeyboardInterrupt meanwhile (SIGINT once CPython has its handler) is
 * printed and ends the process by SIGINT (stub_exit_sigint), as an
 * uncaught one does once the program runs. */
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

/* End prog as python does once its code has run: when failed, a pending
 * SystemExit gives its status, any other exception is printed with status
 * 1; then stub_exit_python, or Py_FinalizeEx for a program built with
 * --full-finalize or in development mode (where SystemExit exits the
 * process itself) (status 120 when flushing stdout failed); an uncaught
 * KeyboardInterrupt ends the process by SIGINT. Returns the exit status,
 * for exit(). */
int stub_run_end(const rt_program *prog, int failed);

/* ---- stub_exit.c ------------------------------------------------------------ */

/* What Py_FinalizeEx does that can be seen from outside, without freeing
 * anything: threading._shutdown(), the atexit handlers, sys.stdout and
 * sys.stderr flushed, then every other open buffered file. Returns
 * status, or 120 when flushing stdout or stderr failed, whatever status
 * was, as python's exit does (after a traceback too: from 3.14 the flush
 * that follows a BrokenPipeError fails again). The interpreter stays
 * usable; the caller then exits. */
int stub_exit_python(int status);

/* End the process by SIGINT with the default action, as python ends after
 * an uncaught KeyboardInterrupt (a shell shows 130). Returns 128 + SIGINT,
 * the status to exit with should the process still run. */
int stub_exit_sigint(void);

/* The exit status of the pending SystemExit, taken from it as python
 * does: its code None 0, an int itself, anything else printed to
 * sys.stderr with status 1. The exception is cleared. */
int stub_exit_code(void);

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
