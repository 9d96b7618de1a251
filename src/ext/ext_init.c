/*
 * ext_init.c: entry point of an extension module kiln built (`kiln build
 * --target extension`): the template's one exported function, renamed
 * PyInit_<module> by the build. Imported by a host Python of the version
 * it was built for, it maps its own file, puts its bundle importer on the
 * host's sys.meta_path and runs the module's code (the script, or the
 * package or module given to -m) in the new module's namespace; the
 * modules that code imports come from the bundle, from memory.
 */
#include "ext.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The Python this template was compiled for, as "X.Y". */
#define EXT_STR(x) #x
#define EXT_XSTR(x) EXT_STR(x)
#define EXT_PY_XY EXT_XSTR(PY_MAJOR_VERSION) "." EXT_XSTR(PY_MINOR_VERSION)

/* The extension module's own file, mapped with its bundle, once per
 * process; ext_opened says whether it is. */
static rt_program ext_prog;
static int ext_opened;

/* The host is a program kiln built (ext_hooks_install says). */
static int ext_in_program;

/* The Python that first imported the module has ended (Py_FinalizeEx):
 * the runtime's importer and what it keeps belonged to it. */
static int ext_python_ended;

/* Py_AtExit's callback: the end of the Python the module was set up in. */
static void ext_note_end(void)
{
    ext_python_ended = 1;
}

/* True when the running Python's version (Py_GetVersion: "3.11.7 (...")
 * is the X.Y this template was compiled for. Called before any other
 * Python function: a host of another version may lack them. */
static int ext_same_python(void)
{
    const char *v = Py_GetVersion();
    size_t n = strlen(EXT_PY_XY);

    return strncmp(v, EXT_PY_XY, n) == 0 && (v[n] < '0' || v[n] > '9');
}

/* Put the absolute path of this shared object in *path: the name the
 * dynamic loader loaded it by, made absolute against the current
 * directory when it is relative. -1 with an exception set. */
static int ext_own_path(kl_buf *path)
{
    Dl_info info;
    char *cwd;
    int r;

    if (dladdr((void *)&ext_same_python, &info) == 0 ||
        info.dli_fname == NULL) {
        PyErr_SetString(PyExc_ImportError,
                        "cannot find the file this extension module was "
                        "loaded from (dladdr)");
        return -1;
    }
    if (info.dli_fname[0] == '/')
        r = kl_buf_sets(path, info.dli_fname);
    else if ((cwd = getcwd(NULL, 0)) == NULL) {
        PyErr_SetFromErrno(PyExc_ImportError);
        return -1;
    } else {
        r = kl_path_join(path, cwd, info.dli_fname);
        free(cwd);
    }
    if (r < 0)
        PyErr_NoMemory();
    return r;
}

/* Map the extension module's own file and open its bundle, once. -1 with
 * ImportError set saying why. */
static int ext_open(void)
{
    kl_buf path = KL_BUF_INIT;
    struct stat st;
    kl_err err;
    int r;

    if (ext_opened)
        return 0;
    if (ext_own_path(&path) < 0) {
        kl_buf_free(&path);
        return -1;
    }
    r = rt_program_open(&ext_prog, path.s, path.s, &err);
    kl_buf_free(&path);
    if (r < 0) {
        PyErr_Format(PyExc_ImportError, "%s", err.msg);
        return -1;
    }
    if (ext_prog.bundle.header->run_mode != BUNDLE_RUN_EXTENSION) {
        PyErr_Format(PyExc_ImportError, "%s: its bundle is not an extension "
                     "module's; rebuild it with kiln build --target "
                     "extension", ext_prog.path);
        return -1;
    }
    if (rt_dlpath_setup(ext_prog.path, &err) < 0) {
        PyErr_Format(PyExc_ImportError, "%s", err.msg);
        return -1;
    }
    rt_natives_mount(&ext_prog);
    if (stat(ext_prog.path, &st) == 0) {
        rt_files_mount(&ext_prog.bundle, ext_prog.root, ext_prog.path, &st);
        ext_in_program = ext_hooks_install((const void *)&ext_same_python);
    }
    ext_opened = 1;
    return 0;
}

/* Warn, once per process, about each top-level module the bundle carries,
 * not of the standard library, that the host imported from elsewhere
 * before: sys.modules is one per interpreter, so the extension module's
 * code gets the host's copy. -1 when a warning was turned into an
 * exception. */
static int ext_warn_shared(PyObject *name, PyObject *importer)
{
    const bundle_view *v = &ext_prog.bundle;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    uint32_t i;

    rt_program_check_index(v);
    for (i = 0; i < v->header->entry_count; i++) {
        const bundle_entry *e = &v->entries[i];
        const char *mod = bundle_entry_name(v, e);
        PyObject *m, *loader;
        int r;

        if (bundle_kind_ns(e->kind) != BUNDLE_NS_MODULE ||
            strchr(mod, '.') != NULL ||
            strcmp(mod, bundle_run_target(v)) == 0 ||
            rt_importer_in_stdlib(mod))
            continue;
        m = PyDict_GetItemString(modules, mod); /* borrowed */
        if (m == NULL)
            continue;
        loader = PyObject_GetAttrString(m, "__loader__");
        if (loader == NULL)
            PyErr_Clear();
        r = loader == importer
                ? 0
                : PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                                   "%U: the host imported %s before it, so "
                                   "%U uses the host's %s, not the one it "
                                   "carries (sys.modules is one per "
                                   "interpreter)",
                                   name, mod, name, mod);
        Py_XDECREF(loader);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* The module's Py_mod_exec slot: with the bundle importer in place, give
 * module the spec the bundle has for it and run its code, as importlib
 * runs a bundled module. 0, or -1 with an exception set. */
static int ext_exec(PyObject *module)
{
    PyObject *name, *importer, *spec = NULL, *r = NULL;
    int first = rt_importer_get() == NULL, status = -1;

    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_Format(PyExc_ImportError, "%s: a module kiln built runs in "
                     "the main interpreter only, not in a subinterpreter",
                     PyModule_GetName(module));
        return -1;
    }
    if (ext_python_ended) {
        PyErr_Format(PyExc_ImportError, "%s: a module kiln built is set up "
                     "once per process, and the Python that first imported "
                     "it has ended (Py_FinalizeEx); import it in a new "
                     "process", PyModule_GetName(module));
        return -1;
    }
    name = PyModule_GetNameObject(module);
    if (name == NULL || ext_open() < 0 ||
        (first && rt_importer_install_extension(&ext_prog, name,
                                                ext_in_program) < 0))
        goto done;
    if (first && Py_AtExit(ext_note_end) < 0) {
        PyErr_Format(PyExc_ImportError, "%U: the host's Python has no room "
                     "left for an exit function (Py_AtExit)", name);
        goto done;
    }
    importer = rt_importer_get();
    if (first && ext_warn_shared(name, importer) < 0)
        goto done;
    spec = rt_importer_find_spec(importer, name);
    if (spec == NULL)
        goto done;
    if (spec == Py_None) {
        PyErr_Format(PyExc_ImportError, "%U: its bundle does not hold its "
                     "code (%s); rebuild it", name,
                     bundle_run_target(&ext_prog.bundle));
        goto done;
    }
    if (PyObject_SetAttrString(module, "__spec__", spec) < 0 ||
        PyObject_SetAttrString(module, "__loader__", importer) < 0 ||
        (r = PyObject_GetAttrString(spec, "origin")) == NULL ||
        PyObject_SetAttrString(module, "__file__", r) < 0)
        goto done;
    Py_CLEAR(r);
    if ((r = PyObject_GetAttrString(spec, "submodule_search_locations")) ==
            NULL ||
        (r != Py_None && PyObject_SetAttrString(module, "__path__", r) < 0))
        goto done;
    Py_CLEAR(r);
    if ((r = PyObject_GetAttrString(spec, "parent")) == NULL ||
        PyObject_SetAttrString(module, "__package__", r) < 0)
        goto done;
    Py_CLEAR(r);
    r = PyObject_CallMethod(importer, "exec_module", "O", module);
    status = r == NULL ? -1 : 0;
done:
    Py_XDECREF(r);
    Py_XDECREF(name);
    Py_XDECREF(spec);
    return status;
}

static PyModuleDef_Slot ext_slots[] = {
    {Py_mod_exec, (void *)ext_exec},
#ifdef Py_mod_multiple_interpreters
    /* The runtime keeps one importer and one mapping per process. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static PyModuleDef ext_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kiln_extension",
    .m_size = 0,
    .m_slots = ext_slots,
};

/* The exported entry point, renamed PyInit_<module> by the build. Refuses
 * a host that is not the Python the module was built for before touching
 * anything else of it; otherwise returns the module definition, which the
 * host's import system creates and executes (multi-phase
 * initialization). */
__attribute__((visibility("default"))) PyObject *
PyInit_kiln_extension_module_name_placeholder_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx(void);

__attribute__((visibility("default"))) PyObject *
PyInit_kiln_extension_module_name_placeholder_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx(void)
{
    if (!ext_same_python()) {
        const char *v = Py_GetVersion();
        char version[32];

        snprintf(version, sizeof version, "%.*s", (int)strcspn(v, " "), v);
        PyErr_Format(PyExc_ImportError,
                     "this module was built by kiln for Python " EXT_PY_XY
                     " and cannot be imported by Python %s; build it again "
                     "with a kiln for that Python", version);
        return NULL;
    }
    return PyModuleDef_Init(&ext_def);
}
