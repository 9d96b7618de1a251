/*
 * fz_proc.c: running another program (an environment's python, pip) and
 * reading what it prints, without a shell and without deadlock.
 */
#include "fz_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Remember the last non-empty line of log[from, end) in *tail. */
static int fz_proc_tail(const kl_buf *log, size_t from, kl_buf *tail)
{
    const char *s = log->s + from, *end = log->s + log->len, *line = NULL;
    const char *p = s;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *q = p;

        while (q < stop && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < stop)
            line = p;
        p = nl ? nl + 1 : end;
    }
    if (line == NULL)
        return 0;
    tail->len = 0;
    if (tail->s)
        tail->s[0] = '\0';
    return kl_buf_add(tail, line, strcspn(line, "\r\n"));
}

/* Read fds[0] (into out) and fds[1] (into log, echoed to stderr when
 * echo) until both reach end of file. fds[0] may be -1. */
static int fz_proc_drain(int fds[2], kl_buf *out, kl_buf *log, int echo,
                         kl_err *err)
{
    struct pollfd pf[2];
    char buf[8192];
    int open_fds = 0, i;

    for (i = 0; i < 2; i++) {
        pf[i].fd = fds[i];
        pf[i].events = POLLIN;
        open_fds += fds[i] >= 0;
    }
    while (open_fds > 0) {
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return kl_err_set(err, "waiting for a child process: %s",
                              strerror(errno));
        }
        for (i = 0; i < 2; i++) {
            ssize_t n;

            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            n = read(pf[i].fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
                continue;
            }
            if (kl_buf_add(i == 0 ? out : log, buf, (size_t)n) < 0)
                return kl_err_oom(err);
            if (i == 1 && echo)
                (void)!write(STDERR_FILENO, buf, (size_t)n);
        }
    }
    return 0;
}

int fz_proc_run(char *const argv[], kl_buf *out, kl_buf *log, int echo,
                kl_buf *tail, int *status, kl_err *err)
{
    posix_spawn_file_actions_t fa;
    int opipe[2] = {-1, -1}, epipe[2] = {-1, -1}, fds[2];
    size_t log_from = log->len;
    pid_t pid;
    int rc, ws, r = -1;

    *status = -1;
    if ((out && pipe2(opipe, O_CLOEXEC) < 0) || pipe2(epipe, O_CLOEXEC) < 0) {
        kl_err_set(err, "cannot run %s: %s", argv[0], strerror(errno));
        goto done;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out ? opipe[1] : epipe[1],
                                     STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, epipe[1], STDERR_FILENO);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        kl_err_set(err, "cannot run %s: %s", argv[0], strerror(rc));
        goto done;
    }
    if (out) {
        close(opipe[1]);
        opipe[1] = -1;
    }
    close(epipe[1]);
    epipe[1] = -1;
    fds[0] = out ? opipe[0] : -1;
    fds[1] = epipe[0];
    opipe[0] = epipe[0] = -1;
    r = fz_proc_drain(fds, out, log, echo, err);
    if (r < 0) {
        kill(pid, SIGKILL);
        if (fds[0] >= 0)
            close(fds[0]);
        if (fds[1] >= 0)
            close(fds[1]);
    }
    while (waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR) {
            r = kl_err_set(err, "waiting for %s: %s", argv[0],
                           strerror(errno));
            goto done;
        }
    }
    if (r == 0) {
        *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        if (tail && fz_proc_tail(log, log_from, tail) < 0)
            r = kl_err_oom(err);
    }
done:
    if (opipe[0] >= 0)
        close(opipe[0]);
    if (opipe[1] >= 0)
        close(opipe[1]);
    if (epipe[0] >= 0)
        close(epipe[0]);
    if (epipe[1] >= 0)
        close(epipe[1]);
    return r;
}
