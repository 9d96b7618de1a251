/*
 * fz_policy.c: the import graph's rules for what no bytecode shows and
 * what it leaves out: modules that C code of the standard library
 * imports, optional imports of distributions the importer does not
 * require, developer tools reached only optionally, and modules every
 * program needs.
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
#if PY_VERSION_HEX >= 0x030E0000
    {"_ctypes", {"ctypes._layout", NULL}}, /* a Structure's fields */
#endif
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

/* Developer tools: not followed from an optional import of the standard
 * library (inside a function) or of a distribution (inside a function or
 * a try block), only from module-level imports, from the app itself, or
 * --hidden-import: the standard library and libraries reach each of them
 * only through functions an application rarely calls (pickle's self-test
 * imports doctest, which imports pdb, pydoc, unittest, ...; rich's pager
 * imports pydoc). The CPython test suite and its test-only extension
 * modules, and tools of the interactive interpreter or a developer's
 * machine. */
static const char *const fz_lazy_tools[] = {
    "test", "idlelib", "turtledemo", "lib2to3", "tkinter", "turtle",
    "__phello__", "_testcapi", "_testinternalcapi", "_testbuffer",
    "_testmultiphase", "_testclinic", "_testimportmultiple",
    "_testsinglephase", "_xxtestfuzz", "_ctypes_test", "xxlimited",
    "xxlimited_35", "xxsubtype", "pydoc_data", "doctest", "pdb", "pydoc",
    "unittest", "ensurepip", "venv",
};

/* Module names compiled code carries for a lookup it makes only on
 * demand, so that finding them among an extension module's strings says
 * nothing: every Cython module names asyncio.coroutines, imported only
 * when a function's _is_coroutine is read (and asyncio brings
 * concurrent.futures and multiprocessing with it). */
static const char *const fz_native_on_demand[] = {"asyncio.coroutines"};

int fz_policy_native_skip(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof fz_native_on_demand / sizeof *fz_native_on_demand;
         i++)
        if (strcmp(name, fz_native_on_demand[i]) == 0)
            return 1;
    return 0;
}

/* Codecs are looked up by name at run time, and uncaught exceptions are
 * printed through traceback. */
const char *const fz_policy_always[] = {"traceback", "linecache", "warnings",
                                        NULL};

const char *const fz_policy_startup[] = {
    "encodings", "encodings.aliases", "encodings.utf_8", "encodings.latin_1",
    "encodings.ascii", NULL,
};

/* runpy runs -m, site is imported unless -S (and adds exit, quit and the
 * REPL's completion), readline gives the REPL line editing and
 * rlcompleter its completion. */
const char *const fz_policy_interpreter[] = {"runpy", "site", "readline",
                                             "rlcompleter", NULL};

/* 3.13's REPL is the _pyrepl package, run as a module. */
#if PY_VERSION_HEX >= 0x030D0000
const char *const fz_policy_interpreter_repl = "_pyrepl";
#else
const char *const fz_policy_interpreter_repl = NULL;
#endif

const char *const *fz_policy_hidden(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof fz_hidden / sizeof fz_hidden[0]; i++)
        if (strcmp(fz_hidden[i].module, name) == 0)
            return fz_hidden[i].needs;
    return NULL;
}

/* The developer tool that name lies in, or NULL. */
static const char *fz_policy_tool(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof fz_lazy_tools / sizeof fz_lazy_tools[0]; i++)
        if (fz_name_within(name, fz_lazy_tools[i]))
            return fz_lazy_tools[i];
    return NULL;
}

int fz_policy_leave_out(const fz_policy_case *c, unsigned *omit,
                        kl_buf *detail, kl_err *err)
{
    const char *tool = fz_policy_tool(c->name);
    int r = 0;

    *omit = 0;
    if (tool != NULL && !fz_name_within(c->importer, tool) &&
        ((c->from == FZ_FROM_STDLIB && c->lazy) ||
         (c->from == FZ_FROM_DIST && c->guarded))) {
        *omit = PLAN_OMIT_DEV_TOOL;
        r = kl_buf_setf(detail, "%s is a developer tool %s imports only "
                                "optionally", tool, c->importer);
    } else if ((!c->guarded && !c->speculative) || c->from == FZ_FROM_APP ||
               c->stdlib || c->dist_in) {
        return 0;
    } else if (c->from == FZ_FROM_STDLIB) {
        *omit = PLAN_OMIT_OPTIONAL;
        r = kl_buf_setf(detail, "the standard library imports %s only "
                                "optionally", c->dist ? c->dist->name : c->name);
    } else if (c->dist != NULL && c->from_dist != NULL &&
               strcmp(c->dist->key, c->from_dist->key) != 0 &&
               !fz_dist_requires(c->from_dist, c->dist)) {
        *omit = PLAN_OMIT_OPTIONAL;
        r = kl_buf_setf(detail, "%s does not require %s", c->from_dist->name,
                        c->dist->name);
    }
    return r < 0 ? kl_err_oom(err) : 0;
}
