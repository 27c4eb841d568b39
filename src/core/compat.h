/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The compatibility knowledge in data/: macOS releases and what each needs,
 * GPU families and their macOS range, the PCI-ID to GPU mapping, the CPU
 * instruction-set tiers. Loaded from TSV files at run time (--data-dir).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "tsv.h"

struct macos_release {
        unsigned version; /* 1014 */
        const char *version_str, *name, *arch, *mac_model, *qemu_cpu, *firmware, *min_isa,
                *nic_model, *video_model, *disk_bus, *install_media, *hfs_driver, *notes;
};

struct gpu_model {
        const char *vendor, *chart_group, *family, *model, *first_macos, *last_macos, *status,
                *requirements, *notes;
        unsigned first_version, last_version; /* 0: not stated */
};

struct gpu_id {
        uint16_t vendor_id, device_id;
        const char *pci_name;
        size_t model; /* index into compat.gpus */
};

struct compat {
        char *data_dir;
        struct tsv *macos_tsv, *gpu_tsv, *ids_tsv, *cpu_tsv;
        struct macos_release *releases; /* newest first, as in the file */
        size_t n_releases;
        struct gpu_model *gpus;
        size_t n_gpus;
        struct gpu_id *ids; /* sorted by vendor_id, device_id */
        size_t n_ids;
};

int compat_load(const char *data_dir, struct compat **ret, char **reterr);
struct compat *compat_free(struct compat *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct compat *, compat_free)

/*
 * A release by version ("10.14", "14.3") or name ("Big Sur", "bigsur",
 * "ventura"); @arch NULL prefers x86. NULL when unknown.
 */
const struct macos_release *compat_macos_find(const struct compat *c, const char *query,
                                              const char *arch);
/* Whether @cpu has the instruction set a release needs ("sse3", "sse4", "sse4_1", "avx2", "-"). */
bool compat_isa_met(const char *min_isa, const struct host_cpu *cpu);
/* The newest x86 release whose instruction-set minimum @cpu meets, or NULL. */
const struct macos_release *compat_macos_newest_for_cpu(const struct compat *c,
                                                        const struct host_cpu *cpu);
/*
 * The earliest CPU generation of @vendor ("Intel", "AMD") that the CPU chart
 * lists for instruction-set tier @min_isa (a macos_release.min_isa), or NULL.
 */
const char *compat_cpu_earliest(const struct compat *c, const char *vendor, const char *min_isa);
/* The newest release whose version is <= @version, x86 only. */
const struct macos_release *compat_macos_at_most(const struct compat *c, unsigned version);

enum gpu_support {
        GPU_SUPPORT_UNKNOWN, /* not in the data */
        GPU_SUPPORT_SUPPORTED,
        GPU_SUPPORT_UNSUPPORTED,
        GPU_SUPPORT_UNCERTAIN, /* the chart itself says unknown */
};

const char *gpu_support_to_string(enum gpu_support s);

/* What the data says about one PCI GPU. Strings are borrowed from the compat data, or owned where
 * noted. */
struct gpu_verdict {
        enum gpu_support support;
        const char *vendor; /* AMD, NVIDIA, Intel */
        const char *family;
        char *models; /* owned: "RX 6800, RX 6800 XT, RX 6900 XT" */
        unsigned first_version, last_version;
        const char *requirements;
        char **boot_args; /* owned strv: unconditional boot-args the family needs */
        char **kexts;     /* owned strv: kexts the family needs */
        bool reset_bug;
        char *reason; /* owned: why, when not plainly supported */
};

void compat_gpu_verdict(const struct compat *c, uint32_t vendor, uint32_t device,
                        const char *pci_name, struct gpu_verdict *ret);
void gpu_verdict_release(struct gpu_verdict *v);
/* The GPU rows whose model or family contains @query (case-insensitive). Returns a newly allocated
 * index array. */
size_t compat_gpu_search(const struct compat *c, const char *query, size_t **ret);
/* The PCI IDs mapped to GPU row @model. Returns a newly allocated index array into c->ids. */
size_t compat_gpu_ids_of(const struct compat *c, size_t model, size_t **ret);
