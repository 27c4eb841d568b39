/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * How the core library reports progress on long work (downloads, image
 * writes, boots) without printing: the caller passes a sink and the CLI draws
 * a bar from it. A NULL sink or callback means nobody is watching.
 */

#include <stdint.h>

struct progress_sink {
        /* @total 0: unknown. Called often; the receiver rate-limits. */
        void (*update)(void *userdata, const char *label, uint64_t done, uint64_t total);
        /* The step is over (successfully or not). */
        void (*finish)(void *userdata, const char *label);
        void *userdata;
        /* Work counted in stages, not bytes: "boot: opencore (2 of 3)". */
        void (*stage)(void *userdata, const char *label, const char *stage, unsigned done,
                      unsigned total);
};

static inline void progress_update(const struct progress_sink *p, const char *label, uint64_t done,
                                   uint64_t total)
{
        if (p && p->update)
                p->update(p->userdata, label, done, total);
}

static inline void progress_stage(const struct progress_sink *p, const char *label,
                                  const char *stage, unsigned done, unsigned total)
{
        if (p && p->stage)
                p->stage(p->userdata, label, stage, done, total);
}

static inline void progress_finish(const struct progress_sink *p, const char *label)
{
        if (p && p->finish)
                p->finish(p->userdata, label);
}
