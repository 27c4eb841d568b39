/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Running an outside program (qemu-img, update-grub, iasl...) and collecting
 * what it printed. The core library never lets a child write to our terminal:
 * output is captured or discarded.
 */

#include "buf.h"

/*
 * Runs @argv (argv[0] looked up in PATH) with stdin from /dev/null. Stdout and
 * stderr go into @out and @err when given, else to /dev/null. *ret_status is
 * the exit code, or 128 + the signal number. Returns 0 when the program ran
 * (whatever its status), -errno when it could not be started.
 */
int process_run(char *const argv[], struct buf *out, struct buf *err, int *ret_status,
                char **reterr);

/* Whether @name is an executable in PATH (or a path to one). */
bool process_find_program(const char *name, char **ret_path);
