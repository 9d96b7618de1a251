/*
 * fz_policy.c: the import graph's rules for what no bytecode shows and
 * what it leaves out: modules that C code imports, developer tools the
 * standard library reaches only lazily, and modules every program needs.
 */
#include "fz_graph.h"

#include <string.h>

/* Modules that C code imports at run time. */
static const struct {
    const char *module;
    const char *const needs[12];
} fz_hidden[] = {
    {"_asyncio", {"asyncio", "asyncio.events", "asyncio.base_futures",
                  "asyncio.exceptions", "asyncio.base_tasks",
                  "asyncio.coroutines", "heapq", "inspect", "traceback",
                  "weakref", NULL}},
    {"_curses_panel", {"_curses", NULL}},
    {"_datetime", {"time", "_strptime", NULL}},
    {"_decimal", {"collections", "collections.abc", "numbers", "contextvars",
                  NULL}},
    {"_elementtree", {"copy", "xml.etree.ElementPath", "pyexpat", NULL}},
    {"_pickle", {"copyreg", "_compat_pickle", "functools", NULL}},
    {"_sqlite3", {"collections", NULL}},
    {"_ssl", {"_socket", NULL}},
    {"_zoneinfo", {"zoneinfo._common", "zoneinfo._tzpath", NULL}},
    {"array", {"collections.abc", NULL}},
    {"time", {"_strptime", NULL}},
};

/* Not followed from the standard library's lazy imports (imports inside
 * functions), only from module-level imports, from modules outside the
 * standard library, or --hidden-import: the standard library reaches each
 * of them only through functions an application rarely calls (pickle's
 * self-test imports doctest, which imports pdb, pydoc, unittest, ...). The
 * CPython test suite and its test-only extension modules, and tools of the
 * interactive interpreter or a developer's machine. */
static const char *const fz_lazy_tools[] = {
    "test", "idlelib", "turtledemo", "lib2to3", "tkinter", "turtle",
    "__phello__", "_testcapi", "_testinternalcapi", "_testbuffer",
    "_testmultiphase", "_testclinic", "_testimportmultiple",
    "_testsinglephase", "_xxtestfuzz", "_ctypes_test", "xxlimited",
    "xxlimited_35", "xxsubtype", "pydoc_data", "doctest", "pdb", "pydoc",
    "unittest", "ensurepip", "venv",
};

/* Codecs are looked up by name at run time, and uncaught exceptions are
 * printed through traceback. */
const char *const fz_policy_always[] = {"traceback", "linecache", "warnings",
                                        NULL};

const char *const *fz_policy_hidden(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof fz_hidden / sizeof fz_hidden[0]; i++)
        if (strcmp(fz_hidden[i].module, name) == 0)
            return fz_hidden[i].needs;
    return NULL;
}

int fz_policy_skip_lazy(const char *name, const char *importer,
                        int importer_stdlib, int lazy)
{
    size_t i;

    for (i = 0; i < sizeof fz_lazy_tools / sizeof fz_lazy_tools[0]; i++) {
        if (!fz_name_within(name, fz_lazy_tools[i]))
            continue;
        return lazy && importer_stdlib &&
               !fz_name_within(importer, fz_lazy_tools[i]);
    }
    return 0;
}
