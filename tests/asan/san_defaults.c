/*
 * san_defaults.c: the sanitizer runtimes' defaults for `make asan`'s
 * builds of kiln, the runtime stub and the unit tests, compiled in so that
 * every program those build has them too, whatever environment a test
 * gives it.
 */

#define _GNU_SOURCE 1
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* True when a tracer (strace) is attached: the leak checker cannot work
 * under ptrace. Raw system calls: this runs before the C library's
 * wrappers in the runtime stub are ready. */
static int san_traced(void)
{
    char buf[4096];
    const char *t;
    long fd, n;

    fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status",
                 O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = syscall(SYS_read, fd, buf, sizeof buf - 1);
    syscall(SYS_close, fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    t = strstr(buf, "TracerPid:\t");
    return t != NULL && t[11] != '0';
}

/* Any finding ends the process with status 86, which no test expects;
 * every leak is reported but CPython's own (below), except under a
 * tracer. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return san_traced()
               ? "exitcode=86:detect_leaks=0:allocator_may_return_null=1:"
                 "print_summary=1:handle_abort=1"
               : "exitcode=86:detect_leaks=1:allocator_may_return_null=1:"
                 "print_summary=1:handle_abort=1";
}

/* A program kiln built ends without Py_FinalizeEx (docs/runtime.md, "Exit"),
 * and so does the kiln command: what CPython allocated stays allocated,
 * much of it referenced only from pymalloc's arenas, which the leak
 * checker does not scan; so do the native libraries a program loads
 * (OpenSSL's state). A leak is not reported when a frame of its
 * allocation lies in CPython's sources (Objects/, Python/, Modules/,
 * Parser/) or in a shared object (a library loaded from a file or from
 * memory, /proc/PID/fd/N): what kiln's own code allocates with no Python
 * code between it and main is checked; what it allocates when called
 * from Python (the importer) is not. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:Objects/\n"
           "leak:Python/\n"
           "leak:Modules/\n"
           "leak:Parser/\n"
           "leak:/proc/\n"
           "leak:.so\n";
}

/* Say nothing of the leaks suppressed: a test reads what a program
 * prints. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}

/* UBSan's reports end the process too (-fno-sanitize-recover=all), with
 * the same status. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:exitcode=86";
}
