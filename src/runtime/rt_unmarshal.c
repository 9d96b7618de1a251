/*
 * rt_unmarshal.c: a bundled module's code object from the marshal bytes
 * the bundle stores, read by the runtime's own reader of that format.
 *
 * It makes what CPython's marshal makes from the same bytes (the same
 * types, values and interning, code objects through the constructor
 * marshal uses, the same audit event), at less cost: an interned ASCII
 * string (a name, an attribute, most short constants) is made once per
 * process and kept in a table here, so that the next module naming it
 * takes the same object without allocating, hashing and looking up a new
 * string; a tuple that cannot be part of a reference cycle leaves the
 * garbage collector's list when it is made rather than at its first
 * collection; references back are kept in an array. Bytes the reader does
 * not expect in compiled code (a list, a dict, a set, a type code it does
 * not know) are given to CPython's marshal whole, which makes or refuses
 * them as it does for python.
 *
 * Used where the embedded Python lets the runtime call its code object
 * constructor (KILN_OWN_UNMARSHAL, mk/configure); elsewhere
 * rt_unmarshal_code is CPython's marshal. docs/runtime.md, "Reading
 * bytecode". */
#ifndef KILN_OWN_UNMARSHAL
#error "KILN_OWN_UNMARSHAL comes from mk/configure: 1 when _PyCode_New links"
#endif
#if KILN_OWN_UNMARSHAL
#define RT_OWN_UNMARSHAL 1
#define Py_BUILD_CORE 1
#else
#define RT_OWN_UNMARSHAL 0
#endif
#include "rt_importer.h"

#include <marshal.h>

#if RT_OWN_UNMARSHAL
#include <internal/pycore_code.h>
#include <internal/pycore_gc.h>
#if PY_VERSION_HEX >= 0x030D0000
#include <internal/pycore_unicodeobject.h>
#endif

#include <stdint.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rt_unmarshal.c reads words as little-endian (x86_64, aarch64)"
#endif

#ifdef KILN_EXT
/* The extension module template takes the constructor from its host
 * Python, whose libpython need not export it (3.13's hides it) and whose
 * internal structures may differ in another release of the same X.Y: the
 * reader is used only in a host of the very release the template was
 * built with that exports it. The template's references to the host are
 * weak, so a missing one is NULL; CPython's marshal reads the bytecode
 * then. */
extern const unsigned long Py_Version __attribute__((weak));
extern int _PyCode_Validate(struct _PyCodeConstructor *) __attribute__((weak));
extern PyCodeObject *_PyCode_New(struct _PyCodeConstructor *)
    __attribute__((weak));
#define UM_CONSTRUCTOR_FOUND()                                              \
    (&Py_Version != NULL && Py_Version >> 8 == PY_VERSION_HEX >> 8 &&     \
     _PyCode_Validate != NULL && _PyCode_New != NULL)
#else
#define UM_CONSTRUCTOR_FOUND() 1
#endif

/* The type codes of the marshal format (version 4, what pyc files hold)
 * that compiled code holds; any other is left to CPython's marshal. */
enum {
    UM_NONE = 'N', UM_FALSE = 'F', UM_TRUE = 'T',
    UM_STOPITER = 'S', UM_ELLIPSIS = '.', UM_INT = 'i',
    UM_BINARY_FLOAT = 'g', UM_BINARY_COMPLEX = 'y',
    UM_LONG = 'l', UM_BYTES = 's', UM_INTERNED = 't', UM_REF = 'r',
    UM_TUPLE = '(', UM_CODE = 'c', UM_UNICODE = 'u', UM_FROZENSET = '>',
    UM_ASCII = 'a', UM_ASCII_INTERNED = 'A', UM_SMALL_TUPLE = ')',
    UM_SHORT_ASCII = 'z', UM_SHORT_ASCII_INTERNED = 'Z'
};
#define UM_FLAG_REF 0x80
#define UM_MAX_DEPTH 2000 /* marshal's own limit */

/* One reading: the bytes left, the objects the stream may refer back to
 * (strong references, in the order marshal numbers them), and whether it
 * met something for CPython's marshal to read instead. */
typedef struct rt_um {
    const uint8_t *p, *end;
    PyObject **refs;
    size_t nrefs, cap;
    int depth;
    int give_up;   /* 1: left to CPython's marshal */
    int use_names; /* 1: in the main interpreter (um_names) */
} rt_um;

/* The characters of str, a compact ASCII string (what PyUnicode_New makes
 * for a maximum character below 128, and what interning keeps). */
static inline uint8_t *um_ascii_data(PyObject *str)
{
    assert(PyUnicode_IS_COMPACT_ASCII(str));
    return (uint8_t *)((PyASCIIObject *)str + 1);
}

/* ---- the process's interned ASCII names ----------------------------------- */

/* Open addressing on the name's bytes; each slot holds a strong reference
 * to an interned str. Only the main interpreter uses it (its strings are
 * its own), under the GIL. */
typedef struct um_name {
    PyObject *str; /* compact ASCII */
    uint32_t hash;
    uint32_t len;
} um_name;
static um_name *um_names;
static size_t um_names_cap, um_names_used;
static int um_names_off;   /* 1: Py_AtExit refused um_names_forget */
static int um_names_known; /* 1: um_names_forget is registered */

/* Forget the table at the end of Py_FinalizeEx (Py_AtExit): its strings
 * went with the interpreter, and a host that starts Python again (an
 * extension module's host may) starts with an empty table. */
static void um_names_forget(void)
{
    free(um_names);
    um_names = NULL;
    um_names_cap = um_names_used = 0;
    um_names_known = 0;
}

/* The slot for the name s[0, n) with hash h: the one holding it, or the
 * empty one where it would go. The table has an empty slot. */
static um_name *um_names_slot(const uint8_t *s, size_t n, uint32_t h)
{
    size_t mask = um_names_cap - 1, i = h & mask;

    for (;; i = (i + 1) & mask) {
        um_name *e = &um_names[i];

        if (e->str == NULL ||
            (e->hash == h && e->len == n &&
             memcmp(um_ascii_data(e->str), s, n) == 0))
            return e;
    }
}

/* Keep str (a new reference, stolen) as the interned name s[0, n) of hash
 * h, growing the table to stay at most half full (a short probe for the
 * names it lacks). On allocation failure the name is just not kept. */
static void um_names_add(const uint8_t *s, size_t n, uint32_t h, PyObject *str)
{
    um_name *e;

    if ((um_names_used + 1) * 2 > um_names_cap) {
        size_t cap = um_names_cap ? um_names_cap * 2 : 1024, i;
        um_name *old = um_names, *grown;

        if (!um_names_known && !um_names_off) {
            um_names_off = Py_AtExit(um_names_forget) < 0;
            um_names_known = !um_names_off;
        }
        if (um_names_off) {
            Py_DECREF(str);
            return;
        }
        if ((grown = calloc(cap, sizeof(*grown))) == NULL) {
            Py_DECREF(str);
            return;
        }
        um_names = grown;
        um_names_cap = cap;
        for (i = 0; old != NULL && i < cap / 2; i++)
            if (old[i].str != NULL)
                *um_names_slot(um_ascii_data(old[i].str), old[i].len,
                               old[i].hash) = old[i];
        free(old);
    }
    e = um_names_slot(s, n, h);
    if (e->str != NULL) {
        /* kept meanwhile by another thread (the GIL can pass while a
         * string is interned) */
        Py_DECREF(str);
        return;
    }
    e->str = str;
    e->hash = h;
    e->len = (uint32_t)n;
    um_names_used++;
}

/* ---- reading --------------------------------------------------------------- */

/* The next n bytes, or NULL (give up) when fewer are left. */
static const uint8_t *um_take(rt_um *um, size_t n)
{
    const uint8_t *at = um->p;

    if ((size_t)(um->end - um->p) < n) {
        um->give_up = 1;
        return NULL;
    }
    um->p += n;
    return at;
}

/* A little-endian signed 32-bit number into *v: 0, or -1 (give up). */
static int um_long(rt_um *um, int32_t *v)
{
    const uint8_t *b = um_take(um, 4);

    if (b == NULL)
        return -1;
    *v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
                   (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    return 0;
}

/* A size: a 32-bit number that must not be negative. */
static int um_size(rt_um *um, size_t *n)
{
    int32_t v;

    if (um_long(um, &v) < 0)
        return -1;
    if (v < 0) {
        um->give_up = 1;
        return -1;
    }
    *n = (size_t)v;
    return 0;
}

/* Make room for one more reference and return its index (its slot NULL
 * until filled), or -1 with an exception set. */
static Py_ssize_t um_ref_reserve(rt_um *um)
{
    if (um->nrefs == um->cap) {
        size_t cap = um->cap ? um->cap * 2 : 64;
        PyObject **grown = PyMem_Realloc(um->refs, cap * sizeof(*grown));

        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        um->refs = grown;
        um->cap = cap;
    }
    um->refs[um->nrefs] = NULL;
    return (Py_ssize_t)um->nrefs++;
}

/* Fill reference slot i with o (a new reference is taken). */
static void um_ref_set(rt_um *um, Py_ssize_t i, PyObject *o)
{
    assert(i >= 0 && (size_t)i < um->nrefs && um->refs[i] == NULL);
    Py_INCREF(o);
    um->refs[i] = o;
}

/* o registered as the next reference when flag says so. Returns o, or
 * NULL (o released) with an exception set. */
static inline PyObject *um_ref(rt_um *um, int flag, PyObject *o)
{
    Py_ssize_t i;

    if (o == NULL || !flag)
        return o;
    i = um_ref_reserve(um);
    if (i < 0) {
        Py_DECREF(o);
        return NULL;
    }
    um_ref_set(um, i, o);
    return o;
}

static PyObject *um_object(rt_um *um);

/* Intern *s as marshal does: immortal from 3.13 on (code's strings are),
 * and through the public call before, which is what marshal calls. */
static void um_intern(PyObject **s)
{
#if PY_VERSION_HEX >= 0x030D0000
    _PyUnicode_InternImmortal(PyInterpreterState_Get(), s);
#else
    PyUnicode_InternInPlace(s);
#endif
}

/* The next object: a reference back (nearly half of what compiled code
 * holds) taken here, anything else by um_object. */
static inline PyObject *um_next(rt_um *um)
{
    const uint8_t *b = um->p;

    if (um->end - b >= 5 && (b[0] & ~UM_FLAG_REF) == UM_REF) {
        uint32_t i = (uint32_t)b[1] | (uint32_t)b[2] << 8 |
                     (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24;

        if (i < um->nrefs && um->refs[i] != NULL) {
            um->p = b + 5;
            return Py_NewRef(um->refs[i]);
        }
    }
    return um_object(um);
}

/* A long integer of n 15-bit digits, least significant first (marshal's
 * form), negative when neg. New reference, or NULL: an exception set, or
 * um->give_up set for a digit marshal would refuse. */
static PyObject *um_bigint(rt_um *um, size_t n, int neg)
{
    const uint8_t *d = um_take(um, 2 * n);
    PyObject *v, *shift = NULL;
    size_t i;

    if (d == NULL)
        return NULL;
    if (n == 0 || (d[2 * n - 2] | d[2 * n - 1] << 8) == 0) {
        um->give_up = 1;
        return NULL;
    }
    v = PyLong_FromLong(0);
    shift = PyLong_FromLong(15);
    for (i = n; v != NULL && shift != NULL && i-- > 0;) {
        unsigned digit = d[2 * i] | (unsigned)d[2 * i + 1] << 8;
        PyObject *t, *dv;

        if (digit >= 1u << 15) {
            um->give_up = 1;
            Py_CLEAR(v);
            break;
        }
        t = PyNumber_Lshift(v, shift);
        dv = t ? PyLong_FromLong((long)digit) : NULL;
        Py_SETREF(v, dv ? PyNumber_Or(t, dv) : NULL);
        Py_XDECREF(t);
        Py_XDECREF(dv);
    }
    Py_XDECREF(shift);
    if (v != NULL && neg)
        Py_SETREF(v, PyNumber_Negative(v));
    return v;
}

/* Whether the n bytes at s, which end at or before end, are all ASCII, a
 * word at a time; *hash gets their hash for um_names when hash is not
 * NULL. */
static int um_ascii_hash(const uint8_t *s, size_t n, const uint8_t *end,
                         uint32_t *hash)
{
    uint64_t any = 0, h = UINT64_C(0xcbf29ce484222325), w;
    size_t i;

    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        any |= w;
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    if (n > 0) {
        /* the last bytes: a whole word read and cut when the data goes on
         * past them (little-endian: the first bytes are the low ones) */
        if (end - s >= 8) {
            memcpy(&w, s, 8);
            w &= (UINT64_C(1) << (8 * n)) - 1;
        } else {
            for (w = 0, i = 0; i < n; i++)
                w |= (uint64_t)s[i] << (8 * i);
        }
        any |= w;
        h = (h ^ w ^ n) * UINT64_C(0x100000001b3);
    }
    if (hash != NULL)
        *hash = (uint32_t)(h ^ h >> 32);
    return (any & UINT64_C(0x8080808080808080)) == 0;
}

/* An ASCII str of n bytes, interned when asked: from the process's names
 * when interned and known, else made as marshal makes it. */
static PyObject *um_ascii(rt_um *um, size_t n, int interned)
{
    const uint8_t *s = um_take(um, n);
    PyObject *str;
    uint32_t h = 0;

    if (s == NULL)
        return NULL;
    if (!um_ascii_hash(s, n, um->end,
                       interned && um->use_names ? &h : NULL)) {
        um->give_up = 1;
        return NULL;
    }
    if (interned && um->use_names) {
        if (um_names_cap > 0) {
            um_name *e = um_names_slot(s, n, h);

            if (e->str != NULL)
                return Py_NewRef(e->str);
        }
    }
    if (n == 1) {
        /* CPython's own string of that character, as marshal gets */
        str = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, s, 1);
        if (str == NULL)
            return NULL;
    } else {
        str = PyUnicode_New((Py_ssize_t)n, 127);
        if (str == NULL)
            return NULL;
        memcpy(um_ascii_data(str), s, n);
    }
    if (!interned)
        return str;
    um_intern(&str);
    if (um->use_names && PyUnicode_CHECK_INTERNED(str) &&
        PyUnicode_IS_COMPACT_ASCII(str))
        um_names_add(s, n, h, Py_NewRef(str));
    return str;
}

/* The n items of tuple t (just made, all NULL) read into it. When none
 * of them can take part in a reference cycle, the tuple is no longer
 * tracked by the garbage collector: CPython's own rule for tuples
 * (_PyTuple_MaybeUntrack), which its collector would otherwise apply at
 * the tuple's first collection, after visiting it. Returns t, or NULL
 * (t released). */
static PyObject *um_items(rt_um *um, PyObject *t, size_t n)
{
    int may_cycle = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        PyObject *o = um_next(um);

        if (o == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, o);
        may_cycle |= _PyObject_GC_MAY_BE_TRACKED(o);
    }
    if (!may_cycle && n > 0 && _PyObject_GC_IS_TRACKED(t))
        PyObject_GC_UnTrack(t);
    return t;
}

/* A code object, its fields in marshal's order, made as marshal makes it. */
static PyObject *um_code(rt_um *um, int flag)
{
    int32_t argcount, posonly, kwonly, stacksize, flags, firstlineno;
    PyObject *code = NULL, *consts = NULL, *names = NULL, *lpnames = NULL;
    PyObject *lpkinds = NULL, *filename = NULL, *name = NULL;
    PyObject *qualname = NULL, *linetable = NULL, *exctable = NULL;
    PyObject *v = NULL;
    Py_ssize_t idx = flag ? um_ref_reserve(um) : -1;

    if (flag && idx < 0)
        return NULL;
    if (um_long(um, &argcount) < 0 || um_long(um, &posonly) < 0 ||
        um_long(um, &kwonly) < 0 || um_long(um, &stacksize) < 0 ||
        um_long(um, &flags) < 0 ||
        (code = um_next(um)) == NULL || (consts = um_next(um)) == NULL ||
        (names = um_next(um)) == NULL || (lpnames = um_next(um)) == NULL ||
        (lpkinds = um_next(um)) == NULL ||
        (filename = um_next(um)) == NULL || (name = um_next(um)) == NULL ||
        (qualname = um_next(um)) == NULL ||
        um_long(um, &firstlineno) < 0 ||
        (linetable = um_next(um)) == NULL ||
        (exctable = um_next(um)) == NULL)
        goto done;
    if (!PyBytes_CheckExact(code) || !PyTuple_CheckExact(consts) ||
        !PyTuple_CheckExact(names) || !PyTuple_CheckExact(lpnames) ||
        !PyBytes_CheckExact(lpkinds) || !PyUnicode_CheckExact(filename) ||
        !PyUnicode_CheckExact(name) || !PyUnicode_CheckExact(qualname) ||
        !PyBytes_CheckExact(linetable) || !PyBytes_CheckExact(exctable)) {
        um->give_up = 1;
        goto done;
    }
    {
        struct _PyCodeConstructor con = {
            .filename = filename,
            .name = name,
            .qualname = qualname,
            .flags = flags,
            .code = code,
            .firstlineno = firstlineno,
            .linetable = linetable,
            .consts = consts,
            .names = names,
            .localsplusnames = lpnames,
            .localspluskinds = lpkinds,
            .argcount = argcount,
            .posonlyargcount = posonly,
            .kwonlyargcount = kwonly,
            .stacksize = stacksize,
            .exceptiontable = exctable,
        };

        if (_PyCode_Validate(&con) < 0 ||
            (v = (PyObject *)_PyCode_New(&con)) == NULL)
            goto done;
    }
    if (flag)
        um_ref_set(um, idx, v);
done:
    Py_XDECREF(code);
    Py_XDECREF(consts);
    Py_XDECREF(names);
    Py_XDECREF(lpnames);
    Py_XDECREF(lpkinds);
    Py_XDECREF(filename);
    Py_XDECREF(name);
    Py_XDECREF(qualname);
    Py_XDECREF(linetable);
    Py_XDECREF(exctable);
    return v;
}

/* One object. New reference, or NULL: with an exception set, or with
 * um->give_up set and no exception. */
static PyObject *um_object(rt_um *um)
{
    const uint8_t *b;
    PyObject *v = NULL;
    int code, flag;
    size_t n;
    int32_t i;

    if (++um->depth > UM_MAX_DEPTH || (b = um_take(um, 1)) == NULL) {
        um->give_up = 1;
        return NULL;
    }
    code = *b & ~UM_FLAG_REF;
    flag = (*b & UM_FLAG_REF) != 0;
    switch (code) {
    case UM_NONE:
        v = Py_NewRef(Py_None);
        break;
    case UM_FALSE:
        v = Py_NewRef(Py_False);
        break;
    case UM_TRUE:
        v = Py_NewRef(Py_True);
        break;
    case UM_ELLIPSIS:
        v = Py_NewRef(Py_Ellipsis);
        break;
    case UM_STOPITER:
        v = Py_NewRef(PyExc_StopIteration);
        break;
    case UM_INT:
        if (um_long(um, &i) == 0)
            v = um_ref(um, flag, PyLong_FromLong(i));
        break;
    case UM_BINARY_FLOAT:
        if ((b = um_take(um, 8)) != NULL) {
            double x = PyFloat_Unpack8((const char *)b, 1);

            v = um_ref(um, flag, x == -1.0 && PyErr_Occurred()
                                     ? NULL : PyFloat_FromDouble(x));
        }
        break;
    case UM_BINARY_COMPLEX:
        if ((b = um_take(um, 16)) != NULL) {
            Py_complex c;

            c.real = PyFloat_Unpack8((const char *)b, 1);
            c.imag = PyFloat_Unpack8((const char *)b + 8, 1);
            v = um_ref(um, flag, PyErr_Occurred()
                                     ? NULL : PyComplex_FromCComplex(c));
        }
        break;
    case UM_LONG:
        if (um_long(um, &i) < 0)
            break;
        if (i == INT32_MIN) {
            um->give_up = 1;
            break;
        }
        v = um_ref(um, flag, um_bigint(um, (size_t)(i < 0 ? -i : i), i < 0));
        break;
    case UM_BYTES:
        if (um_size(um, &n) == 0 && (b = um_take(um, n)) != NULL)
            v = um_ref(um, flag, PyBytes_FromStringAndSize(
                                     (const char *)b, (Py_ssize_t)n));
        break;
    case UM_SHORT_ASCII:
    case UM_SHORT_ASCII_INTERNED:
        if ((b = um_take(um, 1)) != NULL)
            v = um_ref(um, flag, um_ascii(um, *b,
                                          code == UM_SHORT_ASCII_INTERNED));
        break;
    case UM_ASCII:
    case UM_ASCII_INTERNED:
        if (um_size(um, &n) == 0)
            v = um_ref(um, flag, um_ascii(um, n, code == UM_ASCII_INTERNED));
        break;
    case UM_UNICODE:
    case UM_INTERNED:
        if (um_size(um, &n) == 0 && (b = um_take(um, n)) != NULL) {
            v = n ? PyUnicode_DecodeUTF8((const char *)b, (Py_ssize_t)n,
                                         "surrogatepass")
                  : PyUnicode_New(0, 0);
            if (v != NULL && code == UM_INTERNED)
                um_intern(&v);
            v = um_ref(um, flag, v);
        }
        break;
    case UM_SMALL_TUPLE:
        if ((b = um_take(um, 1)) == NULL)
            break;
        n = *b;
        goto tuple;
    case UM_TUPLE:
        if (um_size(um, &n) < 0)
            break;
    tuple:
        v = um_ref(um, flag, PyTuple_New((Py_ssize_t)n));
        if (v != NULL)
            v = um_items(um, v, n);
        break;
    case UM_FROZENSET:
        if (um_size(um, &n) < 0)
            break;
        {
            /* made from its items at once: marshal's reference number is
             * taken before them, as here */
            Py_ssize_t idx = flag ? um_ref_reserve(um) : -1;
            PyObject *items = flag && idx < 0 ? NULL
                                              : PyTuple_New((Py_ssize_t)n);

            if (items != NULL && (items = um_items(um, items, n)) != NULL) {
                v = PyFrozenSet_New(n ? items : NULL);
                Py_DECREF(items);
                if (v != NULL && flag)
                    um_ref_set(um, idx, v);
            }
        }
        break;
    case UM_CODE:
        v = um_code(um, flag);
        break;
    case UM_REF:
        if (um_long(um, &i) == 0) {
            if (i < 0 || (size_t)i >= um->nrefs || um->refs[i] == NULL)
                um->give_up = 1;
            else
                v = Py_NewRef(um->refs[i]);
        }
        break;
    default:
        um->give_up = 1;
        break;
    }
    um->depth--;
    return v;
}

PyObject *rt_unmarshal_code(const uint8_t *data, size_t size)
{
    rt_um um = {data, data + size, NULL, 0, 0, 0, 0,
                PyInterpreterState_Get() == PyInterpreterState_Main()};
    PyObject *v;
    size_t i;

#ifdef Py_GIL_DISABLED
    um.use_names = 0;
#endif
    if (!UM_CONSTRUCTOR_FOUND())
        return PyMarshal_ReadObjectFromString((const char *)data,
                                              (Py_ssize_t)size);
    /* the event CPython's marshal raises for these bytes */
    if (PySys_Audit("marshal.loads", "y#", (const char *)data,
                    (Py_ssize_t)size) < 0)
        return NULL;
    v = um_object(&um);
    for (i = 0; i < um.nrefs; i++)
        Py_XDECREF(um.refs[i]);
    PyMem_Free(um.refs);
    if (v != NULL)
        return v;
    /* CPython's marshal makes what this reader does not, and says what
     * is wrong with bytes that are */
    PyErr_Clear();
    return PyMarshal_ReadObjectFromString((const char *)data,
                                          (Py_ssize_t)size);
}

#else

PyObject *rt_unmarshal_code(const uint8_t *data, size_t size)
{
    return PyMarshal_ReadObjectFromString((const char *)data,
                                          (Py_ssize_t)size);
}

#endif
