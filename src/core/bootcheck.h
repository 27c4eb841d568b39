/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The boot self-test: start a guest headless with its serial console in a
 * file, watch the file for the lines each boot stage prints (the firmware
 * choosing a disk, OpenCore starting, OpenCore showing its picker), and say how
 * far it got and when. The guest is always stopped afterwards: under KVM on
 * some hosts OVMF hangs rather than exits, so nothing here waits for QEMU.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "progress.h"

struct boot_stage {
        const char *name;    /* "firmware" */
        const char *what;    /* "OVMF chose a boot disk" */
        const char *markers; /* alternatives, separated by '\n' */
};

#define BOOT_STAGES_MAX 8

/* OVMF, then OpenCore's own log lines (Misc > Debug > Target with the serial bit). */
extern const struct boot_stage boot_stages_opencore[];
extern const size_t boot_stages_opencore_n;

struct boot_report {
        size_t n_stages;
        bool reached[BOOT_STAGES_MAX];
        uint64_t at_ms[BOOT_STAGES_MAX]; /* since the start */
        uint64_t elapsed_ms;
        bool guest_exited; /* the guest stopped by itself */
        int exit_status;   /* when it did */
        char *tail;        /* the last lines of the serial log, escapes removed */
};

void boot_report_release(struct boot_report *r);

/* Whether the guest is still running; @userdata from bootcheck_watch's caller. */
typedef bool (*boot_alive_fn)(void *userdata, int *ret_exit_status);

/*
 * Polls @serial_path until every stage has been seen in order, the guest stops
 * (@alive returns false) or @timeout_ms passes. Fills @ret; returns 0, or
 * -errno when the log cannot be read at all.
 */
int bootcheck_watch(const char *serial_path, const struct boot_stage *stages, size_t n_stages,
                    uint64_t timeout_ms, boot_alive_fn alive, void *userdata,
                    const struct progress_sink *progress, struct boot_report *ret, char **reterr);

/*
 * Starts @argv (a qemu-system command that writes its first serial port to
 * @serial_path), watches it as above, then stops it (SIGTERM, then SIGKILL).
 * QEMU's own stderr goes to @stderr_path (or /dev/null).
 */
int bootcheck_run_qemu(char *const argv[], const char *serial_path, const char *stderr_path,
                       const struct boot_stage *stages, size_t n_stages, uint64_t timeout_ms,
                       const struct progress_sink *progress, struct boot_report *ret,
                       char **reterr);
