/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * `darwinkvm new`: from nothing to a defined, bootable macOS VM. First a plan
 * (what the host and the version decide: Mac model, CPU model, firmware, NIC,
 * disk bus, GPU, memory; what will be downloaded, written and changed), then
 * the steps, each idempotent so that a second run resumes where the first one
 * stopped: identity, config.plist, OpenCore and kexts, recovery image, the
 * OpenCore disk, the macOS disk, the VM spec. Defining the domain and the host
 * changes are the CLI's (they need libvirt and the change journal).
 *
 * One directory per VM (vm_dir_for_name()):
 *   vm.conf            the spec (written once; a user's edits are kept)
 *   esp/               the tree of the OpenCore disk: EFI/ and com.apple.recovery.boot/
 *   OpenCore.img       the OpenCore disk, built from esp/
 *   macOS.qcow2        the macOS system disk
 */

#include <stdbool.h>
#include <stdint.h>

#include "assets.h"
#include "compat.h"
#include "doctor.h"
#include "host.h"
#include "progress.h"
#include "recovery.h"
#include "root.h"

struct new_options {
        const char *name;
        const char *macos;   /* NULL: the newest this host can run */
        const char *gpu;     /* NULL: the doctor's choice; "none"; a PCI address */
        uint64_t disk_bytes; /* 0: 128 GiB */
        const char *seed;    /* identity, UUID and GUIDs from this seed; NULL: random */
        bool force;          /* a macOS the CPU cannot run */
        const char *data_dir;
        const char *pins; /* the pin table; NULL: DATA_DIR/assets.tsv */
        /* where things come from */
        bool offline;             /* no network: the cache and local files only */
        const char *opencore_zip; /* a local OpenCore release zip */
        const char *recovery_dir; /* a local folder with the recovery image and chunklist */
        bool no_recovery;
        struct asset_fetch_options assets;
        const char *recovery_server; /* NULL: Apple's */
        struct recovery_fetch_options recovery;
};

struct new_plan {
        char *name;
        char *dir;
        const struct macos_release *release;
        const char *model, *cpu_model, *nic_model, *disk_bus, *firmware;
        char *fw_code; /* NULL: none found */
        char *gpu_bdf, *gpu_audio_bdf, *gpu_name;
        const char *gpu_family; /* the OpenCore generator's name for it; NULL: none */
        enum passthrough_mode mode;
        uint64_t memory_mib;
        uint64_t disk_bytes;
        bool amd_host;
        char *opencore_version;
        char **downloads;     /* what will be fetched */
        char **writes;        /* files that will be written */
        char **host_changes;  /* what the host needs (applied by the CLI with --yes) */
        char **kernel_params; /* the parameters among them */
        char **warnings;
};

struct new_plan *new_plan_free(struct new_plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct new_plan *, new_plan_free)

/* Decides everything; -EINVAL with the reason when the choice cannot work. */
int new_plan_build(const struct host *h, const struct compat *c, const struct doctor_report *rep,
                   const struct new_options *o, struct new_plan **ret, char **reterr);

enum new_step_status {
        NEW_STEP_DONE,    /* did the work now */
        NEW_STEP_ALREADY, /* found done by an earlier run */
        NEW_STEP_SKIPPED, /* could not be done now (offline, no network); a later run does it */
        NEW_STEP_FAILED,
};

const char *new_step_status_to_string(enum new_step_status s);

#define NEW_MAX_STEPS 12

struct new_step {
        const char *id; /* "identity", "config", "opencore", ... */
        enum new_step_status status;
        char *detail;
};

struct new_report {
        struct new_step steps[NEW_MAX_STEPS];
        size_t n_steps;
        bool network_failed; /* a step was skipped because a server could not be reached */
        char *network_error; /* the first such error */
        bool unpinned;       /* a download was refused: no pin to check it against */
        char *unpinned_error;
        bool bootable; /* OpenCore itself is on the disk */
        char *spec_path;
};

void new_report_release(struct new_report *r);

/*
 * Runs the steps. Returns 0 when every step is done or skipped (see the
 * report), -errno with *reterr at the first failure (the report says which).
 */
int new_run(const struct new_plan *plan, const struct new_options *o, const struct host *h,
            const struct compat *c, const struct progress_sink *progress, struct new_report *ret,
            char **reterr);

struct change_set;

/*
 * The host changes @plan lists, as one change set of the journal recorded
 * under "new:NAME" (so that `rm NAME` can take them back): kernel parameters
 * through the bootloader, single-GPU hooks for this VM, or vfio-pci binding at
 * boot for a second GPU. *ret_notes: what the user should know, among it the
 * manual steps for a bootloader darwinkvm cannot edit (the other changes go on).
 */
int new_host_changes(const struct new_plan *plan, const struct host *h, const struct compat *c,
                     const struct root *r, struct change_set *cs, char ***ret_notes, char **reterr);

/* "new:NAME", the journal's name for the changes `new NAME` made. Newly allocated. */
char *new_journal_verb(const char *name);
