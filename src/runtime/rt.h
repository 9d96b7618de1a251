/*
 * rt.h: the runtime stub that every built program is. It maps its own file,
 * finds the bundle, starts CPython with the bundle's importer installed,
 * runs the program and exits as python would.
 */
#ifndef KILN_RT_H
#define KILN_RT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../bundle/bundle.h"

/* Exit status when the program file itself cannot be used (damaged bundle,
 * no /proc): the shell's "found but cannot execute". */
#define RT_EXIT_DAMAGED 126

/* The running program: its own file, mapped read-only for the life of the
 * process, and the bundle inside it. */
typedef struct rt_program {
    const uint8_t *map;
    uint64_t map_size;
    char *path;          /* absolute path of the program; malloc'd */
    bundle_view bundle;
} rt_program;

/* Map the running executable and open its bundle. On failure err says why
 * in a way meant for the user. The mapping is never unmapped. */
int rt_program_open(rt_program *prog, kl_err *err);

/* Tell the kernel that bytes [data, data + size) of the program mapping,
 * just copied or unmarshalled, are not needed any more, so that they stop
 * counting towards the process's resident memory. Pages are only dropped
 * from this process's mapping (they stay in the page cache) and are read
 * again if touched. Pointers outside the mapping are ignored. */
void rt_program_release(const rt_program *prog, const void *data, size_t size);

/* Initialize the interpreter in two phases with the bundle importer first on
 * sys.meta_path, so that encodings and every later import come from the
 * bundle. Returns 0, or -1 with err set (Python is then not usable). */
int rt_python_start(rt_program *prog, int argc, char **argv, kl_err *err);

/* Run the program as its bundle says and finalize the interpreter. Returns
 * the process exit status; may not return (SystemExit, KeyboardInterrupt). */
int rt_run_main(rt_program *prog);

/* Create the importer object and put it at sys.meta_path[0]. Sets a Python
 * exception and returns -1 on failure. */
int rt_importer_install(rt_program *prog);

/* Remove PathFinder from sys.meta_path so no module is looked up on disk. */
int rt_importer_remove_path_finder(void);

/* The installed importer (borrowed), or NULL before installation. */
PyObject *rt_importer_get(void);

/* Look up module `name` and return a new ModuleSpec for it, None when the
 * bundle does not hold it, or NULL with an exception set. */
PyObject *rt_importer_find_spec(PyObject *importer, PyObject *name);

/* Return a new code object for bundled module `name`, with co_filename set
 * to its path inside the program. NULL with an exception set. */
PyObject *rt_importer_get_code(PyObject *importer, PyObject *name);

/* Create an extension module from bundle entry e for spec: the shared object
 * is copied into a memfd and loaded from /proc/self/fd/N by CPython's own
 * extension loader (imp is the _imp module). The memfd stays open for the
 * life of the process. New reference, or NULL with an exception set. */
PyObject *rt_extension_create(const rt_program *prog, PyObject *imp,
                              const bundle_entry *e, PyObject *spec);

/* Run the second phase of an extension module's initialization through
 * _imp (imp). Returns 0, or -1 with an exception set. */
int rt_extension_exec(PyObject *imp, PyObject *module);

#endif
