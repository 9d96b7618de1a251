/*
 * stub_start.c: start CPython for a built program.
 *
 * Two phases (docs/runtime.md): the core phase imports nothing from disk;
 * the importer is then put first on sys.meta_path; the main phase imports
 * encodings and opens the standard streams, now from the bundle. The
 * interpreter is isolated: PYTHON* variables, site and the user site are
 * ignored, and every path it would probe is given up front so that it looks
 * for no standard library on disk.
 */
#include "stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How the main phase is started (stub_python_main_phase). */
#ifndef KILN_INIT_MAIN
#error "KILN_INIT_MAIN comes from mk/configure: 1 when the Python has _Py_InitializeMain"
#endif

/* Convert a PyStatus failure into err. Returns -1. */
static int stub_status_err(PyStatus st, const char *what, kl_err *err)
{
    return kl_err_set(err, "cannot start Python (%s): %s%s%s", what,
                      st.func ? st.func : "", st.func ? ": " : "",
                      st.err_msg ? st.err_msg : "unknown error");
}

/* When the pending exception is a KeyboardInterrupt (SIGINT while the
 * interpreter starts, once it has its handler), print it and end the
 * process by SIGINT, as an uncaught one ends a running program; a failed
 * start is no damage to report. Else return, the exception kept. */
static void stub_start_interrupted(void)
{
    if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
        return;
    PyErr_Print();
    exit(stub_exit_sigint());
}

/* Set the wide-string config fields given (NULL-terminated) to the
 * UTF-8/locale string s. */
static PyStatus stub_config_set(PyConfig *c, wchar_t **const *fields,
                                const char *s)
{
    PyStatus st = PyStatus_Ok();

    for (; *fields != NULL && !PyStatus_Exception(st); fields++)
        st = PyConfig_SetBytesString(c, *fields, s);
    return st;
}

/* Fill the path fields so that path calculation has nothing to search for:
 * prefix and friends are the program's directory, sys.path is the
 * program's root (the program itself, as zipimport would have it, or a
 * folder program's folder) and so is stdlib_dir, so frozen modules get
 * __file__ values under it like bundled ones. */
static PyStatus stub_config_paths(PyConfig *c, const rt_program *prog)
{
    wchar_t **const at_program[] = {&c->executable, &c->base_executable,
                                    &c->program_name, NULL};
    wchar_t **const at_root[] = {&c->stdlib_dir, NULL};
    wchar_t **const at_dir[] = {&c->home, &c->prefix, &c->base_prefix,
                                &c->exec_prefix, &c->base_exec_prefix, NULL};
    wchar_t **const at_lib[] = {&c->platlibdir, NULL};
    const char *slash = strrchr(prog->path, '/');
    PyStatus st;
    wchar_t *wpath;
    char *dir;

    dir = slash != NULL && slash != prog->path
              ? strndup(prog->path, (size_t)(slash - prog->path))
              : strdup(prog->path);
    if (dir == NULL)
        return PyStatus_NoMemory();
    st = stub_config_set(c, at_program, prog->path);
    if (!PyStatus_Exception(st))
        st = stub_config_set(c, at_root, prog->root);
    if (!PyStatus_Exception(st))
        st = stub_config_set(c, at_dir, dir);
    if (!PyStatus_Exception(st))
        st = stub_config_set(c, at_lib, "lib");
    free(dir);
    if (PyStatus_Exception(st))
        return st;
    wpath = Py_DecodeLocale(prog->root, NULL);
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
static int stub_check_startup_modules(const rt_program *prog, kl_err *err)
{
    static const char *const names[] = {"encodings", "encodings.aliases",
                                        "encodings.utf_8"};
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const bundle_entry *e = rt_program_find(&prog->bundle,
                                                BUNDLE_NS_MODULE, names[i],
                                                strlen(names[i]));
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

/* Run CPython's main initialization phase after the core phase that c
 * (still valid, _init_main = 0) started: the standard streams, encodings,
 * the path-based finder, now with the bundle importer first on
 * sys.meta_path. Where the Python provides _Py_InitializeMain (3.11 to 3.13,
 * and 3.15) it is called; where it does not (3.14), c is given to
 * Py_InitializeFromConfig again with _init_main = 1, which reads the same
 * configuration again, finds the core phase done and runs the main phase
 * (docs/runtime.md, "Two phases"). */
static PyStatus stub_python_main_phase(PyConfig *c)
{
#if KILN_INIT_MAIN
    (void)c;
    return _Py_InitializeMain();
#else
    c->_init_main = 1;
    return Py_InitializeFromConfig(c);
#endif
}

/* The module "__main__" stands for, or NULL. In module mode "__main__" has
 * no entry of its own: it is the run module, or target.__main__ when the
 * target is a package. *alias is malloc'd. */
static int stub_main_alias(const rt_program *prog, char **alias, kl_err *err)
{
    const bundle_view *v = &prog->bundle;
    const char *target = bundle_run_target(v);
    const bundle_entry *e;
    size_t n = strlen(target);

    *alias = NULL;
    if (v->header->run_mode != BUNDLE_RUN_MODULE || n == 0)
        return 0;
    e = rt_program_find(v, BUNDLE_NS_MODULE, target, n);
    if (e != NULL && (e->kind == BUNDLE_KIND_PACKAGE ||
                      e->kind == BUNDLE_KIND_NAMESPACE))
        *alias = kl_str_join3(target, ".__main__", "");
    else
        *alias = strdup(target);
    return *alias ? 0 : kl_err_oom(err);
}

/* Append each string of l (UTF-8) to the wide-string list to. */
static PyStatus stub_config_list(PyWideStringList *to, const kl_strv *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        wchar_t *w = Py_DecodeLocale(l->v[i], NULL);
        PyStatus st;

        if (w == NULL)
            return PyStatus_NoMemory();
        st = PyWideStringList_Append(to, w);
        PyMem_RawFree(w);
        if (PyStatus_Exception(st))
            return st;
    }
    return PyStatus_Ok();
}

/* Apply the options the program was built with (rt_options) to the
 * configuration: what `python -O -u -W ... -X ...` would set, the hash
 * seed, and whether PYTHON* variables count (the interpreter is isolated
 * unless they do). */
static PyStatus stub_config_options(PyConfig *c, const rt_options *o)
{
    PyStatus st;

    c->isolated = !o->environment;
    c->use_environment = o->environment;
    c->optimization_level = o->optimize;
    c->buffered_stdio = !o->unbuffered;
    if (o->hash_seed_set) {
        c->use_hash_seed = 1;
        c->hash_seed = o->hash_seed;
    }
    if (o->dev_mode)
        c->dev_mode = 1;
    st = stub_config_list(&c->warnoptions, &o->warnings);
    if (!PyStatus_Exception(st))
        st = stub_config_list(&c->xoptions, &o->xoptions);
    return st;
}

/* __file__ of frozen standard library module `mod` (spec its __spec__,
 * named by origname) as python gives it: <stdlib>/<origname as a path>.py,
 * or .../__init__.py for a package; also its loader state's filename. 0,
 * or -1 with an exception set. */
static int stub_frozen_file(PyObject *mod, PyObject *spec, PyObject *state,
                            PyObject *origname, PyObject *stdlib)
{
    PyObject *locs, *rel, *file;
    int r = -1;

    locs = PyObject_GetAttrString(spec, "submodule_search_locations");
    if (locs == NULL)
        return -1;
    rel = PyObject_CallMethod(origname, "replace", "ss", ".", "/");
    file = rel == NULL ? NULL
           : PyUnicode_FromFormat("%U/%U%s", stdlib, rel,
                                  locs == Py_None ? ".py" : "/__init__.py");
    if (file != NULL && PyObject_SetAttrString(mod, "__file__", file) == 0 &&
        PyObject_SetAttrString(state, "filename", file) == 0)
        r = 0;
    Py_DECREF(locs);
    Py_XDECREF(rel);
    Py_XDECREF(file);
    return r;
}

/* Set sys._stdlib_dir to root, the program's root, where its bundled
 * standard library modules are, as python sets it to its own: path
 * calculation finds none on disk and leaves it None, so frozen modules
 * (os, codecs, io, ...) would have no __file__. Those imported from now on
 * get one from the importer; those imported while the interpreter started
 * get theirs here. -1 with an exception set. */
static int stub_stdlib_dir(PyObject *root)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *items, *name, *mod;
    Py_ssize_t i;
    int r = -1;

    if (PySys_SetObject("_stdlib_dir", root) < 0 ||
        (items = PyDict_Items(modules)) == NULL)
        return -1;
    for (i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *spec, *origin = NULL, *state = NULL, *origname = NULL;
        int skip;

        if (!PyArg_ParseTuple(PyList_GET_ITEM(items, i), "OO", &name, &mod))
            goto done;
        /* Only a frozen module without __file__ (asking a module for an
         * attribute it lacks costs an exception: its dict is asked). */
        spec = PyObject_GetAttrString(mod, "__spec__");
        skip = spec == NULL || spec == Py_None ||
               (origin = PyObject_GetAttrString(spec, "origin")) == NULL ||
               !PyUnicode_Check(origin) ||
               PyUnicode_CompareWithASCIIString(origin, "frozen") != 0 ||
               !PyModule_Check(mod) ||
               PyDict_GetItemString(PyModule_GetDict(mod), "__file__") ||
               (state = PyObject_GetAttrString(spec, "loader_state")) ==
                   NULL ||
               (origname = PyObject_GetAttrString(state, "origname")) ==
                   NULL ||
               !PyUnicode_Check(origname);
        PyErr_Clear();
        if (!skip && stub_frozen_file(mod, spec, state, origname, root) < 0)
            skip = -1;
        Py_XDECREF(spec);
        Py_XDECREF(origin);
        Py_XDECREF(state);
        Py_XDECREF(origname);
        if (skip < 0)
            goto done;
    }
    r = 0;
done:
    Py_DECREF(items);
    return r;
}

/* Set what tells the program apart: sys.frozen (unless interp: an
 * interpreter program acts as python), sys.kiln (a namespace: version,
 * program, files) and, when the program was built with --meipass,
 * sys._MEIPASS: root, where its files are (the program itself, or a
 * folder program's folder). -1 with an exception set. */
static int stub_set_sys_marks(const rt_program *prog, PyObject *root,
                              int interp)
{
    PyObject *impl = PySys_GetObject("implementation"); /* borrowed */
    PyObject *path, *kw = NULL, *none = NULL, *mark = NULL;
    int r = -1;

    if ((!interp && PySys_SetObject("frozen", Py_True) < 0) || impl == NULL)
        return -1;
    path = PyUnicode_DecodeFSDefault(prog->path);
    if (path != NULL)
        kw = Py_BuildValue("{s:s,s:O,s:O}", "version", KILN_VERSION,
                           "program", path, "files", root);
    if (kw != NULL)
        none = PyTuple_New(0);
    if (none != NULL)
        mark = PyObject_Call((PyObject *)Py_TYPE(impl), none, kw);
    if (mark != NULL && PySys_SetObject("kiln", mark) == 0 &&
        (!prog->options.meipass || PySys_SetObject("_MEIPASS", root) == 0))
        r = 0;
    Py_XDECREF(path);
    Py_XDECREF(kw);
    Py_XDECREF(none);
    Py_XDECREF(mark);
    return r;
}

int stub_python_start(rt_program *prog, int argc, char **argv, kl_err *err)
{
    const bundle_header *h = prog->bundle.header;
    const rt_options *o = &prog->options;
    int interp = h->run_mode == BUNDLE_RUN_INTERPRETER;
    int on_disk = interp || bundle_runtime_path(&prog->bundle)[0] != '\0';
    PyObject *root;
    PyPreConfig pre;
    PyConfig c;
    PyStatus st;
    char *alias;
    int r;

    if ((h->python_hex >> 16) != (PY_VERSION_HEX >> 16))
        return kl_err_set(err, "the bundle was compiled by Python %u.%u but "
                               "this program carries Python %d.%d; rebuild it",
                          h->python_hex >> 24, (h->python_hex >> 16) & 0xff,
                          PY_MAJOR_VERSION, PY_MINOR_VERSION);

    PyPreConfig_InitPythonConfig(&pre);
    pre.isolated = !o->environment;
    pre.use_environment = o->environment;
    pre.parse_argv = 0;
    if (o->utf8_mode >= 0)
        pre.utf8_mode = o->utf8_mode;
    if (o->dev_mode)
        pre.dev_mode = 1;
    st = interp ? stub_interp_preinit(&pre, argc, argv)
                : Py_PreInitialize(&pre);
    if (PyStatus_Exception(st))
        return stub_status_err(st, "pre-initialization", err);

    PyConfig_InitPythonConfig(&c);
    c.user_site_directory = 0;
    c.site_import = 0;
    c.parse_argv = 0;
    c.safe_path = 1;
    c.write_bytecode = 0;
    c.pathconfig_warnings = 0;
    c._init_main = 0;
    st = stub_config_options(&c, o);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesArgv(&c, argc, argv);
    if (!PyStatus_Exception(st))
        st = stub_config_paths(&c, prog);
    if (!PyStatus_Exception(st) && interp)
        st = stub_interp_config(&c, argc > 0 ? argv[0] : prog->path);
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&c);
    if (PyStatus_Exception(st)) {
        PyConfig_Clear(&c);
        if (interp)
            Py_ExitStatusException(st);
        return stub_status_err(st, "configuration", err);
    }

    if (stub_main_alias(prog, &alias, err) < 0)
        goto fail_config;
    r = rt_importer_install(prog, alias);
    free(alias);
    if (r == 0)
        r = rt_importer_load_install(rt_importer_get());
    if (r < 0)
        goto fail_config_py;
    if (stub_check_startup_modules(prog, err) < 0)
        goto fail_config;
    /* Only a program that keeps PathFinder looks modules up on disk, and
     * only such a program can import from zip files; any other sets up
     * the path-based importers only if it asks for them. */
    if (!on_disk && rt_external_defer(rt_importer_get()) < 0)
        goto fail_config_py;
    rt_importer_hold_zipimport(!on_disk);
    st = stub_python_main_phase(&c);
    rt_importer_hold_zipimport(0);
    PyConfig_Clear(&c);
    if (PyStatus_Exception(st)) {
        stub_start_interrupted();
        if (bundle_verify(&prog->bundle, err) < 0)
            return -1;
        return stub_status_err(st, "main phase", err);
    }
    if (rt_importer_add_path_hook() < 0 ||
        (interp ? stub_interp_paths(prog)
         : on_disk ? rt_importer_add_runtime_path(prog) : 0) < 0)
        goto fail_py;
    root = PyUnicode_DecodeFSDefault(prog->root);
    r = root == NULL || stub_stdlib_dir(root) < 0 ||
        stub_set_sys_marks(prog, root, interp) < 0;
    Py_XDECREF(root);
    if (r)
        goto fail_py;
    return 0;

fail_config_py:
    PyConfig_Clear(&c);
fail_py:
    stub_start_interrupted();
    PyErr_Print();
    return kl_err_set(err, "cannot install the bundle importer");
fail_config:
    PyConfig_Clear(&c);
    return -1;
}
