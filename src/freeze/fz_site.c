/*
 * fz_site.c: which installed packages an application is collected from:
 * a virtual environment (--venv, or the active VIRTUAL_ENV), another
 * interpreter's environment (--python), or the embedded Python's own; and
 * what pip installs for the build (--requirements, --pip, a pyproject)
 * into a staging directory that lives as long as the build.
 */
#include "fz_graph.h"
#include "fz_proc.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run by the environment's interpreter (-I): its X.Y, X.Y.Z, then every
 * sys.path entry that is not its standard library (site directories,
 * .pth entries), NUL-separated. */
static const char fz_site_query_code[] =
    "import os, sys, sysconfig\n"
    "v = sys.version_info\n"
    "std = set()\n"
    "for k in ('stdlib', 'platstdlib'):\n"
    "    try:\n"
    "        std.add(os.path.realpath(sysconfig.get_paths()[k]))\n"
    "    except Exception:\n"
    "        pass\n"
    "out = [b'%d.%d' % v[:2], b'%d.%d.%d' % v[:3]]\n"
    "for p in sys.path:\n"
    "    r = os.path.realpath(p) if p else ''\n"
    "    if not p or p.endswith('.zip') or r in std or (\n"
    "            os.path.basename(r) == 'lib-dynload'\n"
    "            and os.path.dirname(r) in std):\n"
    "        continue\n"
    "    out.append(os.fsencode(p))\n"
    "sys.stdout.buffer.write(b'\\0'.join(out) + b'\\0')\n";

/* Ask the interpreter `python` for its version and site directories, and
 * refuse one of another X.Y than the embedded CPython. `what` names it in
 * messages ("--venv DIR"). */
static int fz_site_query(fz_site *s, const char *python, const char *what,
                         kl_err *err)
{
    char *argv[] = {(char *)python, "-I", "-c", (char *)fz_site_query_code,
                    NULL};
    kl_buf out = KL_BUF_INIT, log = KL_BUF_INIT, tail = KL_BUF_INIT;
    char embedded[16];
    const char *p, *end, *version;
    int status, r = -1;

    if (access(python, X_OK) != 0)
        return kl_err_set(err, "%s: %s: %s", what, python, strerror(errno));
    if (fz_proc_run(argv, &out, &log, 0, &tail, &status, err) < 0)
        return kl_err_prefix(err, "%s", what);
    if (status != 0 || out.len == 0 || out.s[out.len - 1] != '\0') {
        kl_err_set(err, "%s: %s does not run as a Python 3 interpreter (%s)",
                   what, python, tail.len ? tail.s : "no output");
        goto done;
    }
    snprintf(embedded, sizeof embedded, "%d.%d", PY_MAJOR_VERSION,
             PY_MINOR_VERSION);
    end = out.s + out.len;
    version = out.s + strlen(out.s) + 1;
    if (version >= end || strcmp(out.s, embedded) != 0) {
        kl_err_set(err, "%s is Python %s, but this kiln embeds Python %s: use "
                   "an environment made with python%s, or build kiln for "
                   "%s (make PYTHON=python%s)", what,
                   version < end ? version : out.s, PY_VERSION, embedded,
                   out.s, out.s);
        goto done;
    }
    for (p = version + strlen(version) + 1; p < end; p += strlen(p) + 1)
        if (kl_is_dir(p) && kl_strv_push(&s->dirs, p) < 0) {
            kl_err_oom(err);
            goto done;
        }
    r = 0;
done:
    kl_buf_free(&out);
    kl_buf_free(&log);
    kl_buf_free(&tail);
    return r;
}

/* Pick the environment: --python, --venv, VIRTUAL_ENV, or the embedded
 * Python's own. */
static int fz_site_choose(fz_site *s, const fz_options *opt, kl_err *err)
{
    const char *venv = opt->venv;
    kl_buf what = KL_BUF_INIT, py = KL_BUF_INIT;
    int r;

    if (opt->python && opt->venv)
        return kl_err_set(err, "give --venv or --python, not both");
    if (opt->python) {
        s->python = strdup(opt->python);
        if (s->python == NULL || kl_buf_setf(&what, "--python %s",
                                             opt->python) < 0)
            return kl_err_oom(err);
        r = fz_site_query(s, s->python, what.s, err);
        kl_buf_free(&what);
        return r;
    }
    if (venv == NULL && (venv = getenv("VIRTUAL_ENV")) != NULL && *venv == 0)
        venv = NULL;
    if (venv == NULL) {
        s->own = 1;
        s->python = strdup(KILN_PYTHON_EXE);
        return s->python ? 0 : kl_err_oom(err);
    }
    if (kl_buf_setf(&what, "%s %s", opt->venv ? "--venv" : "VIRTUAL_ENV",
                    venv) < 0 ||
        kl_path_join(&py, venv, "bin/python") < 0) {
        kl_buf_free(&what);
        return kl_err_oom(err);
    }
    if (!kl_is_dir(venv))
        r = kl_err_set(err, "%s: not a directory", what.s);
    else if (access(py.s, X_OK) != 0)
        r = kl_err_set(err, "%s: no bin/python in it, so it is not a virtual "
                       "environment (python%d.%d -m venv DIR makes one)",
                       what.s, PY_MAJOR_VERSION, PY_MINOR_VERSION);
    else
        r = fz_site_query(s, py.s, what.s, err);
    s->python = kl_buf_detach(&py);
    kl_buf_free(&what);
    return r;
}

/* nftw callback: remove one file or (emptied) directory. */
static int fz_site_rm(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Run the environment's pip to install opt's --requirements and --pip
 * arguments into a new staging directory, which then comes first among
 * the site directories. pip's output goes to stderr unless quiet. */
static int fz_site_pip(fz_site *s, const fz_options *opt, kl_err *err)
{
    const char *tmp = getenv("TMPDIR");
    kl_buf dir = KL_BUF_INIT, log = KL_BUF_INIT, tail = KL_BUF_INIT;
    char **argv, *last;
    size_t n = 0, k;
    int status, r = -1;

    if (kl_buf_setf(&dir, "%s/kiln-pip-XXXXXX",
                    tmp && *tmp ? tmp : "/tmp") < 0)
        return kl_err_oom(err);
    if (mkdtemp(dir.s) == NULL) {
        kl_err_set(err, "cannot make pip's staging directory %s: %s", dir.s,
                   strerror(errno));
        kl_buf_free(&dir);
        return -1;
    }
    s->staging = kl_buf_detach(&dir);
    argv = calloc(12 + 2 * opt->n_requirements + opt->n_pips, sizeof *argv);
    if (s->staging == NULL || argv == NULL) {
        free(argv);
        return kl_err_oom(err);
    }
    argv[n++] = s->python;
    argv[n++] = "-m";
    argv[n++] = "pip";
    argv[n++] = "install";
    argv[n++] = "--target";
    argv[n++] = s->staging;
    argv[n++] = "--no-input";
    argv[n++] = "--disable-pip-version-check";
    argv[n++] = "--no-warn-script-location";
    if (opt->quiet)
        argv[n++] = "-q";
    for (k = 0; k < opt->n_requirements; k++) {
        argv[n++] = "-r";
        argv[n++] = (char *)opt->requirements[k];
    }
    for (k = 0; k < opt->n_pips; k++)
        argv[n++] = (char *)opt->pips[k];
    kl_note("installing with %s -m pip into %s", s->python, s->staging);
    if (fz_proc_run(argv, NULL, &log, !opt->quiet, &tail, &status, err) < 0)
        goto done;
    if (status != 0 && strstr(tail.len ? tail.s : "", "No module named pip"))
        kl_err_set(err, "%s has no pip: install it for that Python (python -m "
                   "ensurepip, or Debian's python3-pip), or name an "
                   "environment that has it (--venv DIR)", s->python);
    else if (status != 0)
        kl_err_set(err, "pip install failed (status %d): %s", status,
                   tail.len ? tail.s : "no message");
    if (status != 0)
        goto done;
    if (kl_strv_push(&s->dirs, s->staging) < 0) {
        kl_err_oom(err);
        goto done;
    }
    /* Staging first: what pip installed for this build wins. */
    last = s->dirs.v[s->dirs.n - 1];
    memmove(s->dirs.v + 1, s->dirs.v, (s->dirs.n - 1) * sizeof *s->dirs.v);
    s->dirs.v[0] = last;
    r = 0;
done:
    free(argv);
    kl_buf_free(&log);
    kl_buf_free(&tail);
    return r;
}

int fz_site_open(const fz_options *opt, fz_site **out, kl_err *err)
{
    fz_site *s = calloc(1, sizeof *s);

    *out = NULL;
    if (s == NULL)
        return kl_err_oom(err);
    if (fz_site_choose(s, opt, err) < 0 ||
        ((opt->n_requirements || opt->n_pips) && fz_site_pip(s, opt, err) < 0)) {
        fz_site_close(s);
        return -1;
    }
    /* pip installed everything the build asked for: with no environment
     * named, the embedded Python's own packages stay out. */
    if (s->staging)
        s->own = 0;
    *out = s;
    return 0;
}

void fz_site_close(fz_site *s)
{
    if (s == NULL)
        return;
    if (s->staging)
        nftw(s->staging, fz_site_rm, 16, FTW_DEPTH | FTW_PHYS);
    kl_strv_free(&s->dirs);
    free(s->staging);
    free(s->python);
    free(s);
}
