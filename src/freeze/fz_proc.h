/*
 * fz_proc.h: running another program (an environment's python, pip) and
 * reading what it prints. No Python here.
 */
#ifndef KILN_FZ_PROC_H
#define KILN_FZ_PROC_H

#include "../common/kl_common.h"

/* Run argv (argv[0] a path, no PATH search, stdin /dev/null) and wait for
 * it. Its standard output is appended to out, or, when out is NULL, goes
 * with its standard error to log; its standard error is appended to log
 * and, when echo, copied to our standard error as it comes. When tail is
 * not NULL it receives the last non-empty line the program wrote to log.
 * *status is its exit status (128 + signal when killed). Fails only when
 * it cannot be started or waited for. */
int fz_proc_run(char *const argv[], kl_buf *out, kl_buf *log, int echo,
                kl_buf *tail, int *status, kl_err *err);

#endif
