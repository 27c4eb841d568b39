/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The host report behind `darwinkvm doctor`: a list of checks, each with an
 * id, a status, what was found, why it matters and the exact fix, and a
 * verdict (the newest macOS this host can run, whether and how a GPU can be
 * passed through, and the ordered list of things to fix).
 */

#include <stdint.h>

#include "compat.h"
#include "host.h"
#include "iommu.h"
#include "pci-names.h"

enum check_status {
        CHECK_OK,
        CHECK_WARN,
        CHECK_FAIL,
        CHECK_UNKNOWN,
        CHECK_STATUS_COUNT,
};

const char *check_status_to_string(enum check_status s);

struct check_result {
        const char *id;
        enum check_status status;
        char *found;
        char *why; /* NULL when there is nothing to explain */
        char *fix; /* NULL when there is nothing to do */
};

enum passthrough_mode {
        PASSTHROUGH_NONE,
        PASSTHROUGH_SINGLE, /* the host's only GPU goes to the guest while it runs */
        PASSTHROUGH_DUAL,   /* the host keeps another GPU */
};

const char *passthrough_mode_to_string(enum passthrough_mode m);

struct doctor_report {
        struct check_result *checks;
        size_t n_checks;
        /* verdict */
        const struct macos_release *newest_by_cpu; /* NULL: unknown */
        const struct macos_release *newest;        /* with the chosen GPU's limit applied */
        const struct host_pci_device *gpu;         /* the GPU to pass through, NULL: none */
        char *gpu_name;
        struct gpu_verdict gpu_verdict;
        enum iommu_viability gpu_viability;
        enum passthrough_mode mode;
        bool passthrough_possible;
        char *passthrough_summary;
        uint64_t guest_ram_mib;
        char **needed_params; /* kernel parameters this host's plan needs */
        char **fixes;         /* ordered: failures first */
};

/* Runs every check. @names may be NULL (no device names). Returns a newly allocated report. */
struct doctor_report *doctor_run(const struct host *h, const struct compat *c,
                                 struct pci_names *names);
struct doctor_report *doctor_report_free(struct doctor_report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct doctor_report *, doctor_report_free)
/* Count of checks with status @s. */
size_t doctor_count(const struct doctor_report *r, enum check_status s);

/* The default guest RAM for a host with @total_kib: a quarter, rounded to a power of two GiB. */
uint64_t doctor_default_guest_ram_mib(uint64_t total_kib);
/* A human name for a PCI device: "NVIDIA GP104 [GeForce GTX 1070]" or "10de:1b81". Newly allocated.
 */
char *pci_device_name(struct pci_names *names, const struct host_pci_device *d);
