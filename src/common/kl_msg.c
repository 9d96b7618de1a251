/*
 * kl_msg.c: what the kiln command says on stderr besides errors:
 * warnings (counted), notes, and a progress line on a terminal. Every
 * part of the command calls these directly; nothing is passed back up.
 */
#include "kl_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* The state of one run of the command. */
static struct {
    enum kl_verbosity verbosity;
    int progress;        /* progress is shown (stderr is a terminal) */
    size_t shown;        /* width of the progress line on screen, 0: none */
    double last;         /* when it was drawn, seconds */
    unsigned warnings;
} kl_msg;

void kl_msg_setup(enum kl_verbosity v)
{
    kl_progress_end();
    kl_msg.verbosity = v;
    kl_msg.progress = v != KL_QUIET && isatty(STDERR_FILENO);
    kl_msg.warnings = 0;
    kl_msg.last = 0;
}

enum kl_verbosity kl_msg_verbosity(void)
{
    return kl_msg.verbosity;
}

/* Print "kiln: PREFIX" and the formatted text on stderr, clearing the
 * progress line first. */
static void kl_msg_print(const char *prefix, const char *fmt, va_list ap)
{
    kl_progress_end();
    fprintf(stderr, "kiln: %s", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void kl_warn(const char *fmt, ...)
{
    va_list ap;

    kl_msg.warnings++;
    if (kl_msg.verbosity == KL_QUIET)
        return;
    va_start(ap, fmt);
    kl_msg_print("warning: ", fmt, ap);
    va_end(ap);
}

unsigned kl_warn_count(void)
{
    return kl_msg.warnings;
}

void kl_note(const char *fmt, ...)
{
    va_list ap;

    if (kl_msg.verbosity == KL_QUIET)
        return;
    va_start(ap, fmt);
    kl_msg_print("", fmt, ap);
    va_end(ap);
}

/* Seconds on the monotonic clock. */
static double kl_msg_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kl_progress(const char *stage, size_t done, size_t total)
{
    double now;
    int n;

    if (!kl_msg.progress)
        return;
    now = kl_msg_now();
    if (kl_msg.shown > 0 && now - kl_msg.last < 0.1)
        return;
    kl_msg.last = now;
    n = total > 0 ? fprintf(stderr, "\rkiln: %s %zu/%zu", stage, done, total)
                  : fprintf(stderr, "\rkiln: %s %zu", stage, done);
    /* Blank what a longer earlier line left. */
    if (n > 0 && (size_t)n - 1 < kl_msg.shown)
        fprintf(stderr, "%*s", (int)(kl_msg.shown - ((size_t)n - 1)), "");
    if (n > 0 && (size_t)n - 1 > kl_msg.shown)
        kl_msg.shown = (size_t)n - 1;
    fflush(stderr);
}

void kl_progress_end(void)
{
    if (kl_msg.shown == 0)
        return;
    fprintf(stderr, "\r%*s\r", (int)kl_msg.shown, "");
    fflush(stderr);
    kl_msg.shown = 0;
}
