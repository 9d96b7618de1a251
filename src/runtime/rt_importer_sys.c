/*
 * rt_importer_sys.c: the bundle importer's place among sys's import
 * hooks: its path hook first on sys.path_hooks, the --runtime-path
 * directories on sys.path.
 */
#include "rt.h"
#include "../elf/elf_reader.h"

#include <string.h>

int rt_importer_add_path_hook(void)
{
    PyObject *hooks = PySys_GetObject("path_hooks"), *hook;
    int r;

    if (rt_importer_get() == NULL || hooks == NULL || !PyList_Check(hooks))
        return 0;
    hook = PyObject_GetAttrString(rt_importer_get(), "_kiln_path_hook");
    if (hook == NULL)
        return -1;
    r = PyList_Insert(hooks, 0, hook);
    Py_DECREF(hook);
    return r;
}

int rt_importer_add_runtime_path(const rt_program *prog)
{
    const char *p = bundle_runtime_path(&prog->bundle);
    const char *slash = strrchr(prog->path, '/');
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    int origin_len = slash ? (int)(slash - prog->path) : 0;
    kl_buf dir = KL_BUF_INIT;
    int r = 0;

    if (path == NULL || !PyList_Check(path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    while (r == 0 && *p != '\0') {
        size_t n = strcspn(p, ":"), k = elf_origin_len(p, n);
        PyObject *s;

        r = kl_buf_setf(&dir, "%.*s%.*s", k ? origin_len : 0, prog->path,
                        (int)(n - k), p + k);
        if (r < 0) {
            PyErr_NoMemory();
            break;
        }
        s = PyUnicode_DecodeFSDefault(dir.s);
        r = s == NULL || PyList_Append(path, s) < 0 ? -1 : 0;
        Py_XDECREF(s);
        p += n + (p[n] == ':');
    }
    kl_buf_free(&dir);
    return r;
}
