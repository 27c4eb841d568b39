/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * OpenCore's config.plist for a macOS guest: the schema of the pinned
 * OpenCore release (data/oc-config-keys.tsv, filtered by the version in
 * data/assets.tsv, the one place that names it), a generator for the
 * DarwinKVM profiles, an ocvalidate-style checker with a VM lint, ProperTree's
 * OC Snapshot, and the PlatformInfo.Memory map. ACPI tables come from our own
 * ASL (src/acpi/SSDT-NAME.dsl), compiled with iasl at build time and embedded.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plist.h"
#include "smbios.h"

/* ---- ACPI tables built from src/acpi/SSDT-NAME.dsl ---- */

struct oc_acpi_table {
        const char *name; /* "SSDT-EC-USBX.aml" */
        const unsigned char *data;
        size_t len;
};

extern const struct oc_acpi_table oc_acpi_tables[];
extern const size_t oc_n_acpi_tables;
const struct oc_acpi_table *oc_acpi_table_find(const char *name);

/* ---- versions ---- */

/* "1.0.7" from data/assets.tsv, row OpenCorePkg, column version. */
int oc_pinned_version(const char *data_dir, char **ret, char **reterr);
/* Compares dotted versions ("1.0.7" < "1.0.10"). */
int oc_version_compare(const char *a, const char *b);
/* Darwin kernel versions "22.0.0" -> 220000; -1 when malformed. Empty is 0. */
long oc_kernel_version_parse(const char *s);

/* ---- schema ---- */

enum oc_kind {
        OC_KIND_SCALAR,
        OC_KIND_DICT,
        OC_KIND_ARRAY_DICT,   /* array of dicts with the fields in children */
        OC_KIND_ARRAY_STRING, /* array of strings */
        OC_KIND_MAP,          /* dict with free keys (GUIDs, device paths) */
};

struct oc_key {
        char *name;
        enum oc_kind kind;
        enum pl_type type;  /* scalars */
        bool multidata;     /* data, string or integer accepted */
        bool optional;      /* may be absent (the optional dicts) */
        bool map_of_arrays; /* OC_KIND_MAP: values are arrays of strings, else dicts */
        size_t fixed_len;   /* data(fixed): required length, 0 none */
        unsigned int_bits;  /* "32 bit": 32; 0: 64 */
        const char *sample; /* Sample.plist value text */
        const char *deflt;  /* the default for a new array entry */
        struct oc_key **children;
        size_t n_children;
};

struct oc_schema {
        char *version; /* the OpenCore version it describes */
        struct oc_key root;
        void *tsv;
};

int oc_schema_load(const char *data_dir, const char *version, struct oc_schema **ret,
                   char **reterr);
/* The schema of the release pinned in @data_dir/assets.tsv: the usual entry point. */
int oc_schema_load_pinned(const char *data_dir, struct oc_schema **ret, char **reterr);
struct oc_schema *oc_schema_free(struct oc_schema *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct oc_schema *, oc_schema_free)
/* The schema key at a path of names ("Kernel", "Add[]", "BundlePath"), NULL when unknown. */
const struct oc_key *oc_key_child(const struct oc_key *k, const char *name);
/* A new value for @k: its Sample.plist value, or its entry default when @entry. */
struct pl_node *oc_key_default(const struct oc_key *k, bool entry);
/* A new array entry with every field at its default. */
struct pl_node *oc_entry_new(const struct oc_schema *s, const char *array_path);

/* ---- generation ---- */

enum oc_cpu_vendor {
        OC_CPU_INTEL,
        OC_CPU_AMD,
};

struct oc_profile {
        const char *model;      /* NULL: from the macOS version */
        const char *macos;      /* "14", "10.14.6" (required) */
        enum oc_cpu_vendor cpu; /* the host's; the guest always sees the profile's CPU model */
        const char *gpu;        /* family (oc_gpu_families), NULL or "none" */
        const char *resolution; /* "1920x1080", NULL: Max */
        bool verbose;           /* -v keepsyms=1 debug=0x100 */
        bool show_picker;
        int timeout;
        bool sip_disabled;
        bool hfs_open; /* OpenHfsPlus.efi instead of HfsPlus.efi (MacPro7,1) */
        int alcid;     /* > 0: AppleALC with alcid=N */
        const struct smbios_identity *identity;
};

/* GPU families the generator knows, NULL-terminated. */
extern const char *const oc_gpu_families[];

/* The Mac model DarwinKVM uses for @macos (1015 style, see macos.h). */
const char *oc_model_for_macos(unsigned macos);
bool oc_model_is_legacy(const char *model);

int oc_config_build(const struct oc_schema *s, const struct oc_profile *p, struct pl_node **ret,
                    char **reterr);

/*
 * Writes @config to DIR/EFI/OC/config.plist and the profile's ACPI tables to
 * DIR/EFI/OC/ACPI/, creating directories, each file atomically. The kexts,
 * drivers and OpenCore itself come from the downloads.
 */
int oc_efi_write(const char *dir, const struct pl_node *config, char **reterr);

/* ---- validation ---- */

struct oc_finding {
        char *path; /* "Kernel.Add[2].MinKernel" */
        char *found;
        char *expected;
};

struct oc_findings {
        struct oc_finding *items;
        size_t n, cap;
};

void oc_findings_release(struct oc_findings *f);

struct oc_validate_options {
        const char *efi_dir; /* the OC directory (with ACPI/, Kexts/...), NULL: no file checks */
        const char *macos;   /* VM lint: target version, NULL: skip version rules */
        int host_avx2;       /* -1 unknown, 0 no, 1 yes */
        const struct smbios_db *models;
};

/* Never fails on a parsed config: everything becomes a finding. */
void oc_validate(const struct oc_schema *s, const struct pl_node *config,
                 const struct oc_validate_options *o, struct oc_findings *ret);

/* ---- snapshot ---- */

struct oc_snapshot_report {
        char **added, **removed, **problems; /* strv, human-readable lines */
};

void oc_snapshot_report_release(struct oc_snapshot_report *r);

/* @oc_dir is the OC directory. @clean: rebuild the four arrays from the files only. */
int oc_snapshot(const struct oc_schema *s, struct pl_node *config, const char *oc_dir, bool clean,
                struct oc_snapshot_report *report, char **reterr);

/* ---- memory ---- */

struct oc_memory_options {
        unsigned slots;       /* populated DIMMs */
        unsigned size_gb;     /* total guest memory */
        unsigned speed;       /* MHz, 0: 3200 */
        const char *type;     /* "DDR4" (default), "DDR3", ... */
        unsigned total_slots; /* 0: 12 (MacPro7,1) */
};

int oc_memory_build(const struct oc_memory_options *o, struct pl_node **ret, char **reterr);
/* Puts the Memory dict into PlatformInfo and sets CustomMemory. */
int oc_memory_apply(struct pl_node *config, const struct oc_memory_options *o, char **reterr);
