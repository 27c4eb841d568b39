/* SPDX-License-Identifier: MIT */
#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "alloc.h"
#include "macro.h"
#include "strv.h"

extern char **environ;

static void close_pair(int p[2])
{
        for (int i = 0; i < 2; i++)
                if (p[i] >= 0) {
                        close(p[i]);
                        p[i] = -1;
                }
}

int process_run(char *const argv[], struct buf *out, struct buf *err, int *ret_status,
                char **reterr)
{
        /* posix_spawn() reports an exec failure only where it uses vfork semantics (not under
         * valgrind): check an explicit path first. */
        if (strchr(argv[0], '/') && access(argv[0], X_OK) < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", argv[0], strerror(errno));
                return r;
        }
        int pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
        if ((out && pipe2(pout, O_CLOEXEC) < 0) || (err && pipe2(perr, O_CLOEXEC) < 0)) {
                int r = -errno;
                *reterr = xasprintf("pipe: %s", strerror(errno));
                close_pair(pout);
                close_pair(perr);
                return r;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (out)
                posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
        else
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        if (err)
                posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
        else
                posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (pout[1] >= 0) {
                close(pout[1]);
                pout[1] = -1;
        }
        if (perr[1] >= 0) {
                close(perr[1]);
                perr[1] = -1;
        }
        if (r != 0) {
                *reterr = xasprintf("%s: %s", argv[0], strerror(r));
                close_pair(pout);
                close_pair(perr);
                return -r;
        }
        struct pollfd fds[2] = { { .fd = pout[0], .events = POLLIN },
                                 { .fd = perr[0], .events = POLLIN } };
        struct buf *bufs[2] = { out, err };
        while (fds[0].fd >= 0 || fds[1].fd >= 0) {
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (size_t i = 0; i < 2; i++) {
                        if (fds[i].fd < 0 || !fds[i].revents)
                                continue;
                        char chunk[8192];
                        ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                close(fds[i].fd);
                                fds[i].fd = -1;
                                continue;
                        }
                        buf_put(bufs[i], chunk, (size_t) n);
                }
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        *reterr = xasprintf("%s: waitpid: %s", argv[0], strerror(errno));
                        return r;
                }
        if (WIFEXITED(status))
                *ret_status = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                *ret_status = 128 + WTERMSIG(status);
        else
                *ret_status = 255;
        return 0;
}

bool process_find_program(const char *name, char **ret_path)
{
        if (strchr(name, '/')) {
                if (access(name, X_OK) != 0)
                        return false;
                if (ret_path)
                        *ret_path = xstrdup(name);
                return true;
        }
        const char *path = getenv("PATH");
        if (!path)
                path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
        _cleanup_strv_free_ char **dirs = strv_split(path, ":");
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *p = xasprintf("%s/%s", **d ? *d : ".", name);
                struct stat st;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        if (ret_path)
                                *ret_path = TAKE_PTR(p);
                        return true;
                }
        }
        return false;
}
