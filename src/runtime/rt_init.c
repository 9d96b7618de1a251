/*
 * rt_init.c: start CPython for a built program.
 *
 * Two phases (docs/runtime.md): the core phase imports nothing from disk;
 * the importer is then put first on sys.meta_path; the main phase imports
 * encodings and opens the standard streams, now from the bundle. The
 * interpreter is isolated: PYTHON* variables, site and the user site are
 * ignored, and every path it would probe is given up front so that it looks
 * for no standard library on disk.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Convert a PyStatus failure into err. Returns -1. */
static int rt_status_err(PyStatus st, const char *what, kl_err *err)
{
    return kl_err_set(err, "cannot start Python (%s): %s%s%s", what,
                      st.func ? st.func : "", st.func ? ": " : "",
                      st.err_msg ? st.err_msg : "unknown error");
}

/* Set one wide-string config field from a UTF-8/locale string. */
static PyStatus rt_config_set(PyConfig *c, wchar_t **field, const char *s)
{
    return PyConfig_SetBytesString(c, field, s);
}

/* Fill the path fields so that path calculation has nothing to search for:
 * prefix and friends are the program's directory, sys.path is the program
 * itself (as zipimport would have it) and stdlib_dir is the program, so
 * frozen modules get __file__ values under it like bundled ones. */
static PyStatus rt_config_paths(PyConfig *c, rt_program *prog)
{
    PyStatus st;
    char dir[4096];
    char *slash;
    wchar_t *wpath;

    snprintf(dir, sizeof dir, "%s", prog->path);
    slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir)
        *slash = '\0';
    st = rt_config_set(c, &c->executable, prog->path);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->base_executable, prog->path);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->program_name, prog->path);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->home, dir);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->prefix, dir);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->base_prefix, dir);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->exec_prefix, dir);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->base_exec_prefix, dir);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->stdlib_dir, prog->path);
    if (PyStatus_Exception(st)) return st;
    st = rt_config_set(c, &c->platlibdir, "lib");
    if (PyStatus_Exception(st)) return st;
    wpath = Py_DecodeLocale(prog->path, NULL);
    if (wpath == NULL)
        return PyStatus_NoMemory();
    c->module_search_paths_set = 1;
    st = PyWideStringList_Append(&c->module_search_paths, wpath);
    PyMem_RawFree(wpath);
    return st;
}

/* Check the payloads of the modules the main phase imports first. CPython
 * reports a failure there with a dump of its path configuration and no
 * word about the cause; a damaged bundle is better said in one line. */
static int rt_check_startup_modules(rt_program *prog, kl_err *err)
{
    static const char *const names[] = {"encodings", "encodings.aliases",
                                        "encodings.utf_8"};
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const bundle_entry *e = bundle_find(&prog->bundle, BUNDLE_NS_MODULE,
                                            names[i], strlen(names[i]));
        const uint8_t *data;
        uint8_t *owned;
        size_t size;

        if (e == NULL)
            continue;
        if (bundle_read(&prog->bundle, e, BUNDLE_PART_DATA, &data, &size,
                        &owned, err) < 0)
            return -1;
        free(owned);
    }
    return 0;
}

int rt_python_start(rt_program *prog, int argc, char **argv, kl_err *err)
{
    const bundle_header *h = prog->bundle.header;
    PyPreConfig pre;
    PyConfig c;
    PyStatus st;

    if ((h->python_hex >> 16) != (PY_VERSION_HEX >> 16))
        return kl_err_set(err, "the bundle was compiled by Python %u.%u but "
                               "this program carries Python %d.%d; rebuild it",
                          h->python_hex >> 24, (h->python_hex >> 16) & 0xff,
                          PY_MAJOR_VERSION, PY_MINOR_VERSION);

    PyPreConfig_InitPythonConfig(&pre);
    pre.isolated = 1;
    pre.use_environment = 0;
    pre.parse_argv = 0;
    st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st))
        return rt_status_err(st, "pre-initialization", err);

    PyConfig_InitPythonConfig(&c);
    c.isolated = 1;
    c.use_environment = 0;
    c.user_site_directory = 0;
    c.site_import = 0;
    c.parse_argv = 0;
    c.safe_path = 1;
    c.write_bytecode = 0;
    c.pathconfig_warnings = 0;
    c._init_main = 0;
    st = PyConfig_SetBytesArgv(&c, argc, argv);
    if (PyStatus_Exception(st))
        goto fail;
    st = rt_config_paths(&c, prog);
    if (PyStatus_Exception(st))
        goto fail;
    st = Py_InitializeFromConfig(&c);
    if (PyStatus_Exception(st))
        goto fail;
    PyConfig_Clear(&c);

    if (rt_importer_install(prog) < 0)
        goto fail_py;
    if (rt_check_startup_modules(prog, err) < 0)
        return -1;
    st = _Py_InitializeMain();
    if (PyStatus_Exception(st)) {
        if (bundle_verify(&prog->bundle, err) < 0)
            return -1;
        return rt_status_err(st, "main phase", err);
    }
    if (rt_importer_remove_path_finder() < 0)
        goto fail_py;
    if (PySys_SetObject("frozen", Py_True) < 0)
        goto fail_py;
    return 0;

fail:
    PyConfig_Clear(&c);
    return rt_status_err(st, "configuration", err);
fail_py:
    PyErr_Print();
    return kl_err_set(err, "cannot install the bundle importer");
}
