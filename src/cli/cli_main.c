/*
 * cli_main.c: the `kiln` command: dispatch to build, inspect, extract and
 * analyze,
 * --version, --help.
 */
#include "cli.h"

#include <patchlevel.h>

#include <stdio.h>
#include <string.h>

static const char cli_usage[] =
    "usage: kiln COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  build      build an executable from a Python application\n"
    "  inspect    list or verify the contents of a built program, or the\n"
    "             licences of what it carries\n"
    "  extract    write entries of a built program out as files\n"
    "  analyze    list a program's native code, what it needs and the\n"
    "             oldest glibc it runs with\n"
    "\n"
    "  kiln --version     versions of kiln and of the embedded Python\n"
    "  kiln COMMAND --help\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(cli_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("kiln %s (Python %s)\n", KILN_VERSION, PY_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(cli_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "build") == 0)
        return cli_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "inspect") == 0)
        return cli_inspect(argc - 1, argv + 1);
    if (strcmp(argv[1], "extract") == 0)
        return cli_extract(argc - 1, argv + 1);
    if (strcmp(argv[1], "analyze") == 0)
        return cli_analyze(argc - 1, argv + 1);
    fprintf(stderr, "kiln: error: unknown command '%s' (see kiln --help)\n",
            argv[1]);
    return CLI_EXIT_USAGE;
}
