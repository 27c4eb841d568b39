/* SPDX-License-Identifier: MIT */
#include "cli-progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "strutil.h"

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void format_eta(char *out, size_t n, double seconds)
{
        if (seconds < 0 || seconds > 99 * 3600) {
                snprintf(out, n, "--:--");
                return;
        }
        unsigned s = (unsigned) (seconds + 0.5);
        if (s >= 3600)
                snprintf(out, n, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
        else
                snprintf(out, n, "%u:%02u", s / 60, s % 60);
}

static void draw(struct cli_progress *p, const char *label, uint64_t done, uint64_t total, double t)
{
        double elapsed = t - p->start;
        double rate = elapsed > 0 ? (double) done / elapsed : 0;
        char sdone[32], stotal[32], srate[32], eta[32];
        format_bytes(done, sdone, sizeof(sdone));
        format_bytes(total, stotal, sizeof(stotal));
        format_bytes((uint64_t) rate, srate, sizeof(srate));
        format_eta(eta, sizeof(eta), rate > 0 && total ? (double) (total - done) / rate : -1);
        if (p->tty) {
                char bar[31];
                size_t fill = total ? (size_t) ((double) done / (double) total * 30) : 0;
                for (size_t i = 0; i < 30; i++)
                        bar[i] = i < fill ? '#' : (total ? '-' : ' ');
                bar[30] = 0;
                if (total)
                        fprintf(stderr, "\r\033[K%s [%s] %3u%% %s/%s %s/s ETA %s", label, bar,
                                (unsigned) (done * 100 / total), sdone, stotal, srate, eta);
                else
                        fprintf(stderr, "\r\033[K%s %s %s/s", label, sdone, srate);
                p->drawn = true;
        } else if (total) {
                fprintf(stderr, "%s: %s of %s (%u%%), %s/s, ETA %s\n", label, sdone, stotal,
                        (unsigned) (done * 100 / total), srate, eta);
        } else {
                fprintf(stderr, "%s: %s, %s/s\n", label, sdone, srate);
        }
        fflush(stderr);
        p->last_draw = t;
        p->last_done = done;
}

static void on_update(void *userdata, const char *label, uint64_t done, uint64_t total)
{
        struct cli_progress *p = userdata;
        if (p->quiet)
                return;
        double t = now();
        if (p->start == 0) {
                p->start = t;
                p->last_draw = t;
                return;
        }
        /* A bar 10 times a second; plain lines every 5 s. */
        double every = p->tty ? 0.1 : 5.0;
        if (t - p->last_draw < every && !(total && done == total))
                return;
        /* Nothing to say before a second has passed: short work shows no bar. */
        if (t - p->start < 1.0)
                return;
        draw(p, label, done, total, t);
}

static void on_stage(void *userdata, const char *label, const char *stage, unsigned done,
                     unsigned total)
{
        struct cli_progress *p = userdata;
        if (p->quiet)
                return;
        if (p->tty) {
                fprintf(stderr, "\r\033[K%s: %s (%u of %u)", label, stage, done, total);
                p->drawn = true;
        } else
                fprintf(stderr, "%s: %s (%u of %u)\n", label, stage, done, total);
        fflush(stderr);
}

static void on_finish(void *userdata, const char *label)
{
        struct cli_progress *p = userdata;
        (void) label;
        if (p->drawn)
                fputc('\n', stderr);
        p->drawn = false;
        p->start = 0;
        p->last_done = 0;
}

void cli_progress_init(struct cli_progress *p, const struct cli_context *ctx)
{
        *p = (struct cli_progress){
                .sink = { .update = on_update,
                          .finish = on_finish,
                          .userdata = p,
                          .stage = on_stage },
                .tty = isatty(STDERR_FILENO),
                .quiet = ctx->verbosity < 0,
        };
}
