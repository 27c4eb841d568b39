/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The progress display behind a struct progress_sink: a bar with size, rate
 * and ETA redrawn on stderr when stderr is a terminal, otherwise one plain line
 * every few seconds (so CI logs and pipes see that work is going on). Quiet
 * mode shows nothing.
 */

#include <stdbool.h>
#include <stdint.h>

#include "progress.h"

struct cli_context;

struct cli_progress {
        struct progress_sink sink;
        bool tty;
        bool quiet;
        double start;     /* monotonic seconds of the first update */
        double last_draw; /* when we last drew */
        uint64_t last_done;
        bool drawn; /* a bar is on the screen and needs a newline */
};

/* Sets up @p for @ctx; pass &p->sink to the core library. */
void cli_progress_init(struct cli_progress *p, const struct cli_context *ctx);
