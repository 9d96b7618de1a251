/*
 * fz_compile.c: turn a module's source file into the bytecode and source
 * the bundle stores, compiling it with the embedded CPython or taking the
 * standard library's current .pyc files.
 */
#include "fz_graph.h"

#include <marshal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* New reference: `source` decoded as Python would (coding cookie or
 * UTF-8, universal newlines) and re-encoded as UTF-8. */
static PyObject *fz_source_utf8(PyObject *raw)
{
    PyObject *util, *text, *utf8;

    util = PyImport_ImportModule("importlib.util");
    if (util == NULL)
        return NULL;
    text = PyObject_CallMethod(util, "decode_source", "O", raw);
    Py_DECREF(util);
    if (text == NULL)
        return NULL;
    utf8 = PyUnicode_AsUTF8String(text);
    Py_DECREF(text);
    return utf8;
}

/* True when the 16-byte .pyc header hdr is current for source src (n
 * bytes, from file disk_path): timestamp-based with matching mtime and
 * size, or hash-based with matching hash, as importlib checks them. */
static int fz_pyc_current(const uint8_t *hdr, const char *disk_path,
                             const uint8_t *src, size_t n)
{
    uint32_t flags, mtime, size;
    struct stat st;
    PyObject *ext, *raw_magic, *imp, *hash;
    int ok = 0;

    memcpy(&flags, hdr + 4, 4);
    memcpy(&mtime, hdr + 8, 4);
    memcpy(&size, hdr + 12, 4);
    if (flags == 0)
        return stat(disk_path, &st) == 0 && mtime == (uint32_t)st.st_mtime &&
               size == (uint32_t)n;
    if (!(flags & 1))
        return 0;
    ext = PyImport_ImportModule("importlib._bootstrap_external");
    raw_magic = ext ? PyObject_GetAttrString(ext, "_RAW_MAGIC_NUMBER") : NULL;
    imp = PyImport_ImportModule("_imp");
    hash = raw_magic && imp ? PyObject_CallMethod(imp, "source_hash", "Oy#",
                                                  raw_magic, src,
                                                  (Py_ssize_t)n) : NULL;
    ok = hash != NULL && PyBytes_Check(hash) && PyBytes_GET_SIZE(hash) == 8 &&
         memcmp(PyBytes_AS_STRING(hash), hdr + 8, 8) == 0;
    PyErr_Clear();
    Py_XDECREF(ext);
    Py_XDECREF(raw_magic);
    Py_XDECREF(imp);
    Py_XDECREF(hash);
    return ok;
}

/* New reference to the code object in the embedded Python's own bytecode
 * cache (__pycache__) for source file disk_path at optimization level
 * optimize (its .opt-N.pyc above 0), when that .pyc is current;
 * NULL, with no exception set, when there is none to trust. Loading it is
 * about ten times faster than compiling. */
static PyObject *fz_cached_code(const char *disk_path, const uint8_t *src,
                                   size_t n, int optimize)
{
    PyObject *util, *from_source = NULL, *args = NULL, *kwargs = NULL;
    PyObject *cache = NULL, *magic = NULL, *code = NULL;
    uint8_t *pyc = NULL;
    size_t len;
    kl_err ignored;

    /* cache_from_source(path, optimization=...): the level goes by keyword;
     * the second positional parameter is the deprecated debug_override,
     * which would name the other file. */
    util = PyImport_ImportModule("importlib.util");
    if (util != NULL) {
        from_source = PyObject_GetAttrString(util, "cache_from_source");
        args = Py_BuildValue("(s)", disk_path);
        kwargs = optimize > 0 ? Py_BuildValue("{s:i}", "optimization", optimize)
                              : Py_BuildValue("{s:s}", "optimization", "");
        if (from_source != NULL && args != NULL && kwargs != NULL)
            cache = PyObject_Call(from_source, args, kwargs);
        magic = PyObject_GetAttrString(util, "MAGIC_NUMBER");
    }
    if (cache == NULL || magic == NULL || !PyUnicode_Check(cache) ||
        !PyBytes_Check(magic) || PyBytes_GET_SIZE(magic) != 4 ||
        kl_read_file(PyUnicode_AsUTF8(cache), &pyc, &len, &ignored) < 0 ||
        len < 16 || memcmp(pyc, PyBytes_AS_STRING(magic), 4) != 0 ||
        !fz_pyc_current(pyc, disk_path, src, n))
        goto done;
    code = PyMarshal_ReadObjectFromString((const char *)pyc + 16,
                                          (Py_ssize_t)(len - 16));
    if (code != NULL && !PyCode_Check(code))
        Py_CLEAR(code);
done:
    PyErr_Clear();
    free(pyc);
    Py_XDECREF(util);
    Py_XDECREF(from_source);
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    Py_XDECREF(cache);
    Py_XDECREF(magic);
    return code;
}

/* New reference: disk_path made absolute (the current directory in front
 * of a relative path), as the name to compile under. The compiler stores
 * that name as co_filename, and _imp._fix_co_filename replaces it by the
 * path inside the program only where the two differ: a script named
 * relatively ("app.py") would keep the compiler's own string, which
 * CPython 3.13 interns and marshal then writes differently, so the same
 * script would give other bytes when named by an absolute path. */
static PyObject *fz_compile_name(const char *disk_path)
{
    kl_buf abs = KL_BUF_INIT;
    char *cwd;
    PyObject *name;

    if (disk_path[0] == '/')
        return PyUnicode_DecodeFSDefault(disk_path);
    if ((cwd = getcwd(NULL, 0)) == NULL)
        return PyErr_SetFromErrno(PyExc_OSError);
    if (kl_path_join(&abs, cwd, disk_path) < 0) {
        free(cwd);
        return PyErr_NoMemory();
    }
    name = PyUnicode_DecodeFSDefault(abs.s);
    free(cwd);
    kl_buf_free(&abs);
    return name;
}

/* New reference: source bytes (NUL-terminated) compiled under the name
 * fname at optimization level optimize, then passed once through marshal, so that the code object is the
 * one loading a .pyc would give. marshal writes a compiled code object
 * and a loaded one slightly differently (which strings are interned, which
 * objects are shared), so without this a module's bytes would depend on
 * whether its .pyc was current (fz_cached_code) or not. NULL with a Python
 * exception set on failure. */
static PyObject *fz_compile_loaded(const uint8_t *bytes, PyObject *fname,
                                   PyCompilerFlags *flags, int optimize)
{
    PyObject *code, *dumped, *loaded;

    code = Py_CompileStringObject((const char *)bytes, fname, Py_file_input,
                                  flags, optimize);
    if (code == NULL)
        return NULL;
    dumped = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION);
    Py_DECREF(code);
    if (dumped == NULL)
        return NULL;
    loaded = PyMarshal_ReadObjectFromString(PyBytes_AS_STRING(dumped),
                                            PyBytes_GET_SIZE(dumped));
    Py_DECREF(dumped);
    return loaded;
}

int fz_compile(const char *disk_path, const char *rel, int use_cache,
               int optimize, PyObject **code, PyObject **marshalled, PyObject **source,
               kl_err *err)
{
    PyCompilerFlags flags = {0, PY_MINOR_VERSION};
    PyObject *fname = NULL, *relname = NULL, *raw = NULL, *imp = NULL, *r;
    uint8_t *bytes = NULL;
    size_t n;

    *code = *marshalled = *source = NULL;
    if (kl_read_file(disk_path, &bytes, &n, err) < 0)
        return -1;
    if (memchr(bytes, 0, n) != NULL) {
        free(bytes);
        return kl_err_set(err, "%s: source code contains a NUL byte",
                          disk_path);
    }
    fname = fz_compile_name(disk_path);
    relname = PyUnicode_DecodeFSDefault(rel);
    raw = PyBytes_FromStringAndSize((const char *)bytes, (Py_ssize_t)n);
    if (fname == NULL || relname == NULL || raw == NULL)
        goto fail_py;
    if (use_cache)
        *code = fz_cached_code(disk_path, bytes, n, optimize);
    if (*code == NULL &&
        (*code = fz_compile_loaded(bytes, fname, &flags, optimize)) == NULL)
        goto fail_py;
    imp = PyImport_ImportModule("_imp");
    if (imp == NULL)
        goto fail_py;
    r = PyObject_CallMethod(imp, "_fix_co_filename", "OO", *code, relname);
    if (r == NULL)
        goto fail_py;
    Py_DECREF(r);
    *marshalled = PyMarshal_WriteObjectToString(*code, Py_MARSHAL_VERSION);
    if (*marshalled == NULL)
        goto fail_py;
    *source = fz_source_utf8(raw);
    if (*source == NULL)
        goto fail_py;
    free(bytes);
    Py_DECREF(fname);
    Py_DECREF(relname);
    Py_DECREF(raw);
    Py_DECREF(imp);
    return 0;

fail_py:
    fz_python_error(disk_path, err);
    free(bytes);
    Py_XDECREF(fname);
    Py_XDECREF(relname);
    Py_XDECREF(raw);
    Py_XDECREF(imp);
    Py_CLEAR(*code);
    Py_CLEAR(*marshalled);
    Py_CLEAR(*source);
    return -1;
}
