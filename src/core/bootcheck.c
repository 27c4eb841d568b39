/* SPDX-License-Identifier: MIT */
#include "bootcheck.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "macro.h"

extern char **environ;

const struct boot_stage boot_stages_opencore[] = {
        { "firmware", "the firmware started a boot disk",
          "BdsDxe: starting Boot\nBdsDxe: loading Boot" },
        { "opencore", "OpenCore started", "OC: Starting OpenCore" },
        { "picker", "OpenCore showed its boot picker", "OCB: Showing menu" },
};
const size_t boot_stages_opencore_n = ELEMENTSOF(boot_stages_opencore);

void boot_report_release(struct boot_report *r)
{
        free(r->tail);
        r->tail = NULL;
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Finds any of the '\n'-separated @markers in @hay[from..len); returns the end offset or 0. */
static size_t find_marker(const char *hay, size_t len, size_t from, const char *markers)
{
        const char *m = markers;
        size_t best = 0;
        while (*m) {
                const char *end = strchr(m, '\n');
                size_t mlen = end ? (size_t) (end - m) : strlen(m);
                if (mlen > 0 && from < len) {
                        const char *hit = memmem(hay + from, len - from, m, mlen);
                        if (hit) {
                                size_t off = (size_t) (hit - hay) + mlen;
                                if (!best || off < best)
                                        best = off;
                        }
                }
                m += mlen + (end ? 1 : 0);
        }
        return best;
}

/* The last @lines lines of @text, without terminal escape sequences and carriage returns. */
static char *log_tail(const char *text, size_t len, unsigned lines)
{
        _cleanup_buf_ struct buf clean = {};
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) text[i];
                if (c == 0x1b) {
                        /* CSI: ESC [ params final-byte */
                        if (i + 1 < len && text[i + 1] == '[') {
                                i += 2;
                                while (i < len && !((unsigned char) text[i] >= 0x40 &&
                                                    (unsigned char) text[i] <= 0x7e))
                                        i++;
                        } else
                                i++;
                        continue;
                }
                if (c == '\r' || c == 0)
                        continue;
                if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
                        buf_putc(&clean, (char) c);
        }
        const char *s = buf_str(&clean);
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '\n')
                n--;
        size_t start = n;
        unsigned seen = 0;
        while (start > 0) {
                if (s[start - 1] == '\n' && ++seen == lines)
                        break;
                start--;
        }
        return xstrndup(s + start, n - start);
}

int bootcheck_watch(const char *serial_path, const struct boot_stage *stages, size_t n_stages,
                    uint64_t timeout_ms, boot_alive_fn alive, void *userdata,
                    const struct progress_sink *progress, struct boot_report *ret, char **reterr)
{
        if (n_stages > BOOT_STAGES_MAX) {
                *reterr = xasprintf("at most %d boot stages", BOOT_STAGES_MAX);
                return -EINVAL;
        }
        *ret = (struct boot_report){ .n_stages = n_stages };
        uint64_t start = now_ms();
        _cleanup_buf_ struct buf log = {};
        _cleanup_close_ int fd = -1;
        size_t next = 0, pos = 0, reported = 0;
        progress_stage(progress, "boot", "starting", 0, (unsigned) n_stages);
        for (;;) {
                /* Asked before reading, so that what a guest wrote just before it stopped counts.
                 */
                int status = 0;
                bool exited = !alive(userdata, &status);
                if (fd < 0)
                        fd = open(serial_path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        char chunk[16384];
                        ssize_t n;
                        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                                buf_put(&log, chunk, (size_t) n);
                }
                uint64_t t = now_ms() - start;
                while (next < n_stages) {
                        size_t end =
                                find_marker(log.s ? log.s : "", log.len, pos, stages[next].markers);
                        if (!end)
                                break;
                        ret->reached[next] = true;
                        ret->at_ms[next] = t;
                        pos = end;
                        next++;
                }
                if (next > reported) {
                        progress_stage(progress, "boot", stages[next - 1].name, (unsigned) next,
                                       (unsigned) n_stages);
                        reported = next;
                }
                if (next == n_stages)
                        break;
                if (exited) {
                        ret->guest_exited = true;
                        ret->exit_status = status;
                        break;
                }
                if (t >= timeout_ms)
                        break;
                struct timespec nap = { 0, 50 * 1000 * 1000 };
                nanosleep(&nap, NULL);
        }
        progress_finish(progress, "boot");
        ret->elapsed_ms = now_ms() - start;
        ret->tail = log_tail(log.s ? log.s : "", log.len, 12);
        return 0;
}

struct qemu_child {
        pid_t pid;
        bool reaped;
};

static bool qemu_alive(void *userdata, int *ret_status)
{
        struct qemu_child *c = userdata;
        int status;
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        if (r == 0)
                return true;
        c->reaped = true;
        if (r > 0)
                *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
}

static void stop_child(struct qemu_child *c)
{
        if (c->reaped)
                return;
        kill(c->pid, SIGTERM);
        for (int i = 0; i < 40; i++) {
                if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
                        c->reaped = true;
                        return;
                }
                struct timespec nap = { 0, 50 * 1000 * 1000 };
                nanosleep(&nap, NULL);
        }
        kill(c->pid, SIGKILL);
        (void) waitpid(c->pid, NULL, 0);
        c->reaped = true;
}

int bootcheck_run_qemu(char *const argv[], const char *serial_path, const char *stderr_path,
                       const struct boot_stage *stages, size_t n_stages, uint64_t timeout_ms,
                       const struct progress_sink *progress, struct boot_report *ret, char **reterr)
{
        /* A fresh log: an old one would show stages this run never reached. */
        int lfd = open(serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (lfd < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", serial_path, strerror(errno));
                return r;
        }
        close(lfd);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, stderr_path ? stderr_path : "/dev/null",
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        struct qemu_child child = {};
        int r = posix_spawnp(&child.pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                *reterr = xasprintf("%s: %s", argv[0], strerror(r));
                return -r;
        }
        r = bootcheck_watch(serial_path, stages, n_stages, timeout_ms, qemu_alive, &child, progress,
                            ret, reterr);
        stop_child(&child);
        return r;
}
