/*
 * fz_project.c: a project's pyproject.toml, read with the embedded
 * CPython's tomllib: its name, its console and GUI scripts, and the
 * settings of its [tool.kiln] table with the line each is on.
 */
#include "fz_graph.h"

#include <stdlib.h>
#include <string.h>

void fz_project_free(fz_project *p)
{
    size_t i;

    for (i = 0; i < p->n_scripts; i++) {
        free(p->scripts[i].name);
        free(p->scripts[i].entry);
    }
    for (i = 0; i < p->n_settings; i++) {
        free(p->settings[i].key);
        free(p->settings[i].str);
        kl_strv_free(&p->settings[i].list);
    }
    free(p->scripts);
    free(p->settings);
    free(p->name);
    memset(p, 0, sizeof *p);
}

/* Skip spaces and tabs. */
static const char *fz_project_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* True when line s (up to its newline) is the table header [tool.kiln]
 * (spaces allowed around the dots and inside the brackets). */
static int fz_project_is_header(const char *s)
{
    static const char *const parts[] = {"[", "tool", ".", "kiln", "]"};
    size_t i;

    for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        s = fz_project_blank(s);
        if (strncmp(s, parts[i], strlen(parts[i])) != 0)
            return 0;
        s += strlen(parts[i]);
    }
    s = fz_project_blank(s);
    return *s == '\n' || *s == '\r' || *s == '#' || *s == '\0';
}

/* The 1-based line of `key = ...` inside [tool.kiln] in text, or of the
 * table header when the key is not found on a line of its own, or 0. */
static int fz_project_line(const char *text, const char *key)
{
    const char *s = text;
    int line = 1, header = 0;
    size_t klen = strlen(key);

    for (; *s; line++) {
        const char *nl = strchr(s, '\n');
        const char *t = fz_project_blank(s);

        if (*t == '[') {
            if (header)
                break;
            if (fz_project_is_header(t))
                header = line;
        } else if (header) {
            int quoted = *t == '"' || *t == '\'';

            if (strncmp(t + quoted, key, klen) == 0) {
                t = fz_project_blank(t + quoted + klen + quoted);
                if (*t == '=')
                    return line;
            }
        }
        if (nl == NULL)
            break;
        s = nl + 1;
    }
    return header;
}

/* Append one [tool.kiln] setting: key, its value's type and value. */
static int fz_project_setting(fz_project *p, const char *text,
                              const char *key, PyObject *v, kl_err *err)
{
    fz_setting *grown, *s;
    Py_ssize_t i;

    grown = realloc(p->settings, (p->n_settings + 1) * sizeof *grown);
    if (grown == NULL)
        return kl_err_oom(err);
    p->settings = grown;
    s = &p->settings[p->n_settings++];
    memset(s, 0, sizeof *s);
    s->key = strdup(key);
    if (s->key == NULL)
        return kl_err_oom(err);
    s->line = fz_project_line(text, key);
    s->type = FZ_SETTING_OTHER;
    if (PyBool_Check(v)) {
        s->type = FZ_SETTING_BOOL;
        s->flag = v == Py_True;
    } else if (PyUnicode_Check(v)) {
        s->type = FZ_SETTING_STR;
        s->str = strdup(PyUnicode_AsUTF8(v));
        if (s->str == NULL)
            return kl_err_oom(err);
    } else if (PyLong_Check(v)) {
        PyObject *text = PyObject_Str(v);

        s->type = FZ_SETTING_INT;
        s->str = text ? strdup(PyUnicode_AsUTF8(text)) : NULL;
        Py_XDECREF(text);
        if (s->str == NULL)
            return kl_err_oom(err);
    } else if (PyList_Check(v)) {
        s->type = FZ_SETTING_LIST;
        for (i = 0; i < PyList_Size(v); i++) {
            PyObject *item = PyList_GetItem(v, i);

            if (!PyUnicode_Check(item)) {
                s->type = FZ_SETTING_OTHER;
                break;
            }
            if (kl_strv_push(&s->list, PyUnicode_AsUTF8(item)) < 0)
                return kl_err_oom(err);
        }
    }
    if (s->type == FZ_SETTING_OTHER)
        s->type_name = Py_TYPE(v)->tp_name;
    return 0;
}

/* Add the entries of table `scripts` ([project.scripts] or
 * [project.gui-scripts]) as programs. */
static int fz_project_scripts(fz_project *p, const char *path,
                              const char *table, PyObject *scripts, int gui,
                              kl_err *err)
{
    PyObject *k, *v;
    Py_ssize_t pos = 0;

    if (scripts == NULL)
        return 0;
    if (!PyDict_Check(scripts))
        return kl_err_set(err, "%s: [project.%s] is not a table", path, table);
    while (PyDict_Next(scripts, &pos, &k, &v)) {
        fz_script *grown, *s;
        const char *entry;

        if (!PyUnicode_Check(v))
            return kl_err_set(err, "%s: [project.%s] %s: expected a string "
                              "\"module:function\"", path, table,
                              PyUnicode_AsUTF8(k));
        grown = realloc(p->scripts, (p->n_scripts + 1) * sizeof *grown);
        if (grown == NULL)
            return kl_err_oom(err);
        p->scripts = grown;
        s = &p->scripts[p->n_scripts++];
        s->gui = gui;
        s->name = strdup(PyUnicode_AsUTF8(k));
        entry = PyUnicode_AsUTF8(v);
        /* "pkg.mod:func [extra]": the extras are pip's business. */
        s->entry = strndup(entry, strcspn(entry, "["));
        if (s->name == NULL || s->entry == NULL)
            return kl_err_oom(err);
        while (*s->entry && strchr(" \t", s->entry[strlen(s->entry) - 1]))
            s->entry[strlen(s->entry) - 1] = '\0';
    }
    return 0;
}

/* Fill p from the parsed document `doc` of file path with text `text`. */
static int fz_project_fill(fz_project *p, const char *path, const char *text,
                           PyObject *doc, kl_err *err)
{
    PyObject *project = PyDict_GetItemString(doc, "project");
    PyObject *tool = PyDict_GetItemString(doc, "tool");
    PyObject *kiln = tool && PyDict_Check(tool)
                         ? PyDict_GetItemString(tool, "kiln") : NULL;
    PyObject *k, *v, *name;
    Py_ssize_t pos = 0;

    if (project != NULL) {
        if (!PyDict_Check(project))
            return kl_err_set(err, "%s: [project] is not a table", path);
        p->has_project = 1;
        name = PyDict_GetItemString(project, "name");
        if (name && PyUnicode_Check(name) &&
            (p->name = strdup(PyUnicode_AsUTF8(name))) == NULL)
            return kl_err_oom(err);
        if (fz_project_scripts(p, path, "scripts",
                               PyDict_GetItemString(project, "scripts"), 0,
                               err) < 0 ||
            fz_project_scripts(p, path, "gui-scripts",
                               PyDict_GetItemString(project, "gui-scripts"),
                               1, err) < 0)
            return -1;
    }
    if (kiln == NULL)
        return 0;
    if (!PyDict_Check(kiln))
        return kl_err_set(err, "%s:%d: tool.kiln is not a table", path,
                          fz_project_line(text, "kiln"));
    p->has_tool = 1;
    while (PyDict_Next(kiln, &pos, &k, &v))
        if (fz_project_setting(p, text, PyUnicode_AsUTF8(k), v, err) < 0)
            return -1;
    return 0;
}

int fz_project_read(const char *path, fz_project *p, kl_err *err)
{
    PyObject *toml = NULL, *doc = NULL;
    uint8_t *text = NULL;
    size_t len;
    int r = -1;

    memset(p, 0, sizeof *p);
    if (fz_python_start(err) < 0 ||
        kl_read_file(path, &text, &len, err) < 0)
        return -1;
    if (memchr(text, '\0', len) != NULL) {
        kl_err_set(err, "%s: not a TOML file (it holds NUL bytes)", path);
        goto done;
    }
    toml = PyImport_ImportModule("tomllib");
    if (toml == NULL) {
        PyErr_Clear();
        kl_err_set(err, "%s: reading pyproject.toml needs Python 3.11's "
                   "tomllib; this kiln embeds Python %s", path, PY_VERSION);
        goto done;
    }
    doc = PyObject_CallMethod(toml, "loads", "s#", (const char *)text,
                              (Py_ssize_t)len);
    if (doc == NULL) {
        fz_python_error(path, err);
        goto done;
    }
    r = fz_project_fill(p, path, (const char *)text, doc, err);
done:
    if (r < 0)
        fz_project_free(p);
    Py_XDECREF(toml);
    Py_XDECREF(doc);
    free(text);
    return r;
}
