/*
 * ext.h: what the extension module's entry point (ext_init.c) uses of the
 * rest of src/ext/: the host's path calls pointed at the runtime's tree.
 */
#ifndef KILN_EXT_H
#define KILN_EXT_H

#include "../runtime/rt.h"

/* Point the slots through which the objects loaded in the host process
 * (the python executable, libpython, extension modules, the libraries
 * they use) call libc's path functions (rt_libc_hooks' names) at
 * rt_libc.c's wrappers, which serve the paths under the extension
 * module's file from its tree and hand any other to the function the
 * slot would have called. Skips the C library and the dynamic loader
 * themselves and the object at address `self` (this extension module).
 * Objects loaded later keep libc's. In a program kiln built, which calls
 * its own wrappers directly, the module's tree is handed to them
 * (kiln_libc_add_tree). Returns 1 when the host is such a program, else
 * 0. */
int ext_hooks_install(const void *self);

#endif
