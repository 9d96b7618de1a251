/*
 * kl_err.c: one-line error messages.
 */
#include "kl_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kl_err_set(kl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int kl_err_prefix(kl_err *err, const char *fmt, ...)
{
    char head[512];
    char tail[sizeof err->msg];
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(tail, err->msg, sizeof tail);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", head, tail) < 0)
        err->msg[0] = '\0';
    return -1;
}

int kl_err_oom(kl_err *err)
{
    return kl_err_set(err, "out of memory");
}
