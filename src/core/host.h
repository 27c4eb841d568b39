/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The host model: everything darwinkvm knows about the machine it runs on (or
 * about the fixture tree given with --root). host_load() never fails on bad
 * host data: each section keeps an `error` string saying why it could not be
 * read, and the checks report such a section as "unknown" with that reason.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root.h"

enum cpu_vendor {
        CPU_VENDOR_UNKNOWN, /* cpuinfo could not be read */
        CPU_VENDOR_INTEL,
        CPU_VENDOR_AMD,
        CPU_VENDOR_OTHER,
};

struct host_cpu {
        char *error;
        char *vendor_id;  /* "GenuineIntel" */
        char *model_name; /* "Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz" */
        enum cpu_vendor vendor;
        unsigned family, model, stepping;
        unsigned logical; /* logical processors */
        unsigned cores;   /* physical cores, all sockets */
        unsigned sockets;
        char **flags; /* of the first processor, sorted */
};

struct host_memory {
        char *error;
        uint64_t total_kib;
        uint64_t available_kib;
        uint64_t hugepages_total;
        uint64_t hugepage_kib;
};

struct host_pci_device {
        char *bdf; /* "0000:01:00.0" */
        char *error;
        uint32_t vendor, device, class_code; /* class_code: 0xCCSSPP */
        bool has_ids;                        /* vendor, device and class were read */
        char *driver;                        /* NULL: no driver bound */
        int iommu_group;                     /* -1: none */
        int boot_vga;                        /* -1: not said, 0, 1 */
        char *reset_method;
        /* Display devices only, from `resource`: the largest memory BAR and whether any BAR is
         * mapped above 4 GiB (Resizable BAR / Above 4G Decoding). bars_known is false without it.
         */
        bool bars_known;
        uint64_t bar_max;
        bool bar_above_4g;
};

struct host_iommu_group {
        int id;
        size_t *devices; /* indexes into host_pci.devices */
        size_t n_devices;
        char **unknown_bdfs; /* listed in the group but not in /sys/bus/pci/devices */
        char *error;
};

struct host_pci {
        char *error;
        struct host_pci_device *devices; /* sorted by BDF */
        size_t n_devices;
        char *groups_error;
        struct host_iommu_group *groups; /* sorted by id */
        size_t n_groups;
};

enum tristate {
        TRI_UNKNOWN = -1,
        TRI_NO = 0,
        TRI_YES = 1,
};

struct host_kvm {
        bool dev_present;
        bool dev_usable;
        char *dev_error; /* why /dev/kvm cannot be opened */
        bool mod_kvm, mod_intel, mod_amd, mod_pvm;
        enum tristate ignore_msrs;
        enum tristate nested;
};

struct host_modules {
        char *kernel_release;
        char **loaded;    /* /sys/module names, sorted */
        char **available; /* modules.dep and modules.builtin, '-' as '_', sorted */
        char *available_error;
};

enum bootloader {
        BOOTLOADER_UNKNOWN,
        BOOTLOADER_GRUB,
        BOOTLOADER_SYSTEMD_BOOT,
        BOOTLOADER_KERNELSTUB,
        BOOTLOADER_GRUBBY,
        BOOTLOADER_COUNT,
};

const char *bootloader_to_string(enum bootloader b);

struct host_system {
        char *cmdline;
        char *cmdline_error;
        char **cmdline_args;
        bool uefi;
        char *os_id, *os_id_like, *os_pretty_name;
        char *os_error;
        char **iommu_units; /* /sys/class/iommu entries */
        bool acpi_dmar, acpi_ivrs;
        enum bootloader bootloader;
        char *bootloader_evidence; /* the file that told */
        int chassis_type;          /* SMBIOS chassis type, -1 unknown */
        char *board_vendor, *board_name;
};

struct host_firmware {
        char *code;       /* host path of the OVMF CODE image */
        char *vars;       /* its VARS template */
        char *format;     /* of both images: "raw", or "qcow2" (Fedora's newer builds) */
        char *descriptor; /* the QEMU descriptor it came from, NULL: distro path list */
        bool secure_boot; /* only a Secure Boot build was found */
        char *dudk_code;  /* DUDK-Firmware (OVMF built with LINUX_LOADER), for Mojave and older */
        char *dudk_vars;
        char **notes; /* descriptors passed over, and why */
};

enum host_component {
        HOST_COMPONENT_QEMU,
        HOST_COMPONENT_LIBVIRT,
        HOST_COMPONENT_VIRT_MANAGER,
        HOST_COMPONENT_OVMF,
        HOST_COMPONENT_COUNT,
};

const char *host_component_to_string(enum host_component c);

struct host_package {
        bool installed;
        char *package; /* package name, or the binary path when found without a package database */
        char *version; /* NULL: unknown */
        const char *source; /* "dpkg", "pacman", "file" */
};

/* Software the guide says to avoid: daemons that hold the GPU and keep vfio-pci off it. */
struct host_gpu_daemons {
        char **found; /* package or program names, sorted */
};

struct host_user {
        char *name;
        bool exists;
        bool is_root;
        char **groups; /* supplementary and primary group names, sorted */
        char *error;
};

struct host {
        struct host_cpu cpu;
        struct host_memory memory;
        struct host_pci pci;
        struct host_kvm kvm;
        struct host_modules modules;
        struct host_system system;
        struct host_firmware firmware;
        struct host_package packages[HOST_COMPONENT_COUNT];
        struct host_gpu_daemons gpu_daemons;
        struct host_user user;
};

/*
 * Reads the host below @root. @user names the account that will run VMs (for
 * group membership); NULL skips that part. Returns a newly allocated host;
 * free it with host_free().
 */
struct host *host_load(const struct root *root, const char *user);
struct host *host_free(struct host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct host *, host_free)

/* The parts, each filling one section (host-*.c). */
void host_cpu_load(const struct root *root, struct host_cpu *cpu);
void host_memory_load(const struct root *root, struct host_memory *mem);
void host_pci_load(const struct root *root, struct host_pci *pci);
void host_kvm_load(const struct root *root, struct host_kvm *kvm);
void host_modules_load(const struct root *root, struct host_modules *mods);
void host_system_load(const struct root *root, struct host_system *sys);
void host_firmware_load(const struct root *root, struct host_firmware *fw);
void host_packages_load(const struct root *root, struct host_package *pkgs,
                        struct host_gpu_daemons *daemons);
void host_user_load(const struct root *root, const char *name, struct host_user *user);

/* Parsers, exposed for the unit tests. */
void host_cpu_parse(const char *cpuinfo, size_t n, struct host_cpu *cpu);
void host_memory_parse(const char *meminfo, struct host_memory *mem);

bool host_cpu_has(const struct host_cpu *cpu, const char *flag);
/* Frees what a host_cpu holds (for a host_cpu loaded on its own). */
void host_cpu_release(struct host_cpu *cpu);
bool host_module_loaded(const struct host *h, const char *name);
bool host_module_available(const struct host *h, const char *name);
/* The kernel command-line argument with key @key ("intel_iommu"), or NULL. */
const char *host_cmdline_get(const struct host *h, const char *key);
const struct host_iommu_group *host_iommu_group_find(const struct host *h, int id);
/* The distinct IDs (vendor << 16 | device) of the readable PCI devices. Returns the count; free()
 * *ret. */
size_t host_pci_ids(const struct host_pci *pci, uint32_t **ret);
/* "0000:01:00.0" (or a longer VMD domain: "10000:e1:00.0"). */
bool pci_bdf_is_valid(const char *s);
/* True for the PCI display classes (0x03xxxx). */
bool pci_class_is_display(uint32_t class_code);
