# rt_reexec.py: the command lines the standard library builds to start
# sys.executable again (multiprocessing's spawn children, its forkserver and
# its resource tracker), recognised exactly and run as python runs them, so
# that none of them reaches the program's own main code; and the program's
# main script given to multiprocessing's children from the bundle, under
# __mp_main__, as python gives them the script's file. Compiled by the
# Python kiln embeds when kiln is built (mk/glue_code.py) and run by
# rt_glue.c only when the command line may be one of these.
import re as _re
import sys as _sys

# What subprocess._args_from_interpreter_flags() may put before -c (-X
# takes the next argument).
_FLAG = _re.compile(r"-(?:[dBSvbqIEsP]+|O+|W.+)\Z", _re.S)
# spawn's frozen form: --multiprocessing-fork NAME=INT|None ... with
# spawn_main's arguments, pipe_handle among them.
_KWARG = _re.compile(r"(?:tracker_fd|pipe_handle|parent_pid)="
                     r"(?:-?[0-9]+|None)\Z")
# The -c programs, as multiprocessing writes them.
_PROGRAMS = (
    _re.compile(r"from multiprocessing\.spawn import spawn_main; "
                r"spawn_main\((?:(?:tracker_fd|parent_pid)=(?:-?[0-9]+|None), )*"
                r"pipe_handle=[0-9]+(?:, (?:tracker_fd|parent_pid)="
                r"(?:-?[0-9]+|None))*\)\Z"),
    _re.compile(r"from multiprocessing\.forkserver import main; "
                r"main\([0-9]+, [0-9]+, .*\)\Z", _re.S),
    _re.compile(r"from multiprocessing\.resource_tracker import main;"
                r"main\([0-9]+\)\Z"),
)
# 3.14's forkserver program, followed by the parent's sys.argv[1:], which
# it takes as its own.
_FORKSERVER_ARGV = _re.compile(
    r"import sys; from multiprocessing\.forkserver import main; "
    r"main\([0-9]+, [0-9]+, .*, sys_argv=sys\.argv\[1:\], \*\*.*\)\Z",
    _re.S)


def _flags_end(args):
    """Where the interpreter flags at the start of args end."""
    i = 0
    while i < len(args):
        if args[i] == "-X" and i + 1 < len(args):
            i += 2
        elif _FLAG.match(args[i]):
            i += 1
        else:
            break
    return i


def _main_from_bundle(importer):
    """Make multiprocessing run the program's main script from the bundle
    where python would run it from its file (runpy.run_path), under the
    name __mp_main__, aliased as __main__."""
    from multiprocessing import spawn
    try:
        code = importer.get_code("__main__")
    except ImportError:
        return
    if code is None:
        return
    from_file = spawn._fixup_main_from_path

    def fixup(main_path):
        if main_path != code.co_filename:
            return from_file(main_path)
        current = _sys.modules["__main__"]
        if getattr(current, "__file__", None) == main_path:
            return None
        spawn.old_main_modules.append(current)
        main = type(_sys)("__mp_main__")
        main.__dict__.update(__file__=main_path, __cached__=None,
                             __loader__=importer, __spec__=None,
                             __package__="", __builtins__=__builtins__)
        _sys.modules["__main__"] = _sys.modules["__mp_main__"] = main
        exec(code, main.__dict__)
        return None

    spawn._fixup_main_from_path = fixup


def run(importer):
    """Run sys.argv if it is one of the standard library's own command
    lines for sys.executable, and say so; False (nothing done) for any
    other command line, which is the program's."""
    args = _sys.argv[1:]
    if args[:1] == ["--multiprocessing-fork"] and \
            all(_KWARG.match(a) for a in args[1:]) and \
            any(a.startswith("pipe_handle=") for a in args[1:]):
        _main_from_bundle(importer)
        from multiprocessing import spawn
        spawn.freeze_support()      # spawn_main, then SystemExit
        return True
    i = _flags_end(args)
    if args[i:i + 1] != ["-c"] or i + 1 >= len(args):
        return False
    program = args[i + 1]
    if not _FORKSERVER_ARGV.match(program) and (
            not any(p.match(program) for p in _PROGRAMS) or
            args[i + 2:] not in ([], ["--multiprocessing-fork"])):
        return False
    _main_from_bundle(importer)
    _sys.argv[:] = ["-c"] + args[i + 2:]
    main = _sys.modules["__main__"]
    exec(compile(program, "<string>", "exec"), main.__dict__)
    return True
