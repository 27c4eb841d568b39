/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * `darwinkvm verify`: boot a VM headless and report how far it got (firmware,
 * OpenCore, the picker) and when. The VM's own files stay untouched: the boot
 * runs from a copy of the OpenCore disk in which OpenCore's serial log is
 * switched on, a fresh copy of the NVRAM, and with every other disk in QEMU's
 * snapshot mode.
 */

#include "bootcheck.h"
#include "progress.h"
#include "root.h"
#include "vm-plan.h"

struct verify_options {
        uint64_t timeout_ms;
        const char *work_dir; /* copies and logs; created */
        const struct progress_sink *progress;
};

struct verify_result {
        struct boot_report report;
        bool opencore_log;   /* config.plist found and its serial log enabled in the copy */
        char *opencore_note; /* why not, when not */
        char *serial_log;    /* the captured console */
        char *qemu_stderr;   /* QEMU's messages */
        char **argv;         /* what ran */
};

void verify_result_release(struct verify_result *r);

/*
 * The plan must have been built with vm_options.headless and .serial_log (the
 * path the result names). Changes @p's OpenCore disk and NVRAM to the copies.
 */
int verify_vm(struct vm_plan *p, const struct root *root, const struct verify_options *o,
              struct verify_result *ret, char **reterr);

/*
 * Switches on OpenCore's log to the serial port in the config.plist inside the
 * raw OpenCore image @image (Misc.Debug.Target serial bit, DisplayLevel info,
 * Misc.Serial.Init). -ENOENT when the image has no EFI/OC/config.plist.
 */
int verify_enable_opencore_log(const char *image, char **reterr);
