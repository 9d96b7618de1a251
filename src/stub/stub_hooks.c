/*
 * stub_hooks.c: the runtime hooks a program was built with
 * (--runtime-hook), run in order before anything else of the program, in
 * every process of it, multiprocessing's children included: a hook can
 * set os.environ and sys.path, or patch modules, before the app sees
 * them.
 */
#include "stub.h"

int stub_run_hooks(const rt_program *prog)
{
    size_t i;

    for (i = 0; i < prog->options.hooks.n; i++) {
        PyObject *mod = PyImport_ImportModule(prog->options.hooks.v[i]);

        if (mod == NULL)
            return -1;
        Py_DECREF(mod);
    }
    return 0;
}
