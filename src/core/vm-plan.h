/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A VM spec checked against the host and with every "auto" resolved: the one
 * description of the machine that both the libvirt domain XML
 * (domain-xml.h) and the QEMU command line (qemu-argv.h) are written from, so
 * the two can never disagree.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "host.h"
#include "vmspec.h"

/* How the machine is built beyond the spec: the boot self-test's needs. */
struct vm_options {
        bool tcg;               /* force TCG (domain type 'qemu') */
        bool headless;          /* no display, no video device */
        const char *serial_log; /* the first serial port to this file */
};

struct vm_disk {
        const char *role; /* "opencore", "macos", "installer" */
        char *path;
        const char *format; /* "raw", "qcow2" (from the image's magic) */
        const char *bus;    /* "virtio", "sata" */
        unsigned boot_order;
        bool readonly;
};

struct vm_hostdev {
        char *bdf;         /* host address "0000:01:00.0" */
        char *rom;         /* NULL: none */
        unsigned port;     /* the guest pcie-root-port (and bus number) it sits behind */
        unsigned function; /* guest function: the GPU's audio is 1 */
        bool multifunction;
};

struct vm_plan {
        char *name;
        char *uuid;
        char *spec_path;
        char *vm_dir;
        const struct macos_release *release; /* only while building: borrowed from compat */
        char *macos_version, *macos_name;    /* "10.13", "High Sierra" */
        char *model;                         /* "MacPro7,1" */
        char *cpu_arg;                       /* "Cascadelake-Server,vendor=GenuineIntel" */
        bool kvm;                            /* domain type kvm, else qemu (TCG) */
        bool amd_host;                       /* topoext */
        bool topoext;
        unsigned cores; /* topology: 1 socket x cores x 2 threads */
        unsigned max_vcpus;
        unsigned vcpus; /* enabled */
        bool pin;
        int *vcpu_pins;    /* host CPU of each enabled vCPU */
        char *host_cpuset; /* the host's cores: emulator and I/O thread */
        bool iothread;
        uint64_t memory_kib;
        bool hugepages;
        char *fw_code, *fw_vars, *nvram;
        const char *fw_format;
        struct vm_disk disks[3];
        size_t n_disks;
        enum vm_display display;
        enum vm_video video;
        enum vm_net_mode net_mode;
        char *net_source;
        char *nic_model;
        char *mac;
        struct vm_hostdev *hostdevs;
        size_t n_hostdevs;
        char **usb_host; /* "046d:c52b" */
        char *evdev_keyboard, *evdev_mouse, *grab_toggle;
        bool emulated_input;
        enum vm_audio audio;
        char *serial_log;
        char **warnings; /* said, not fatal: TCG instead of KVM, ... */
};

/*
 * Checks @spec against the host (@h, read below @root) and the compatibility
 * data, and resolves it. Every problem is one line in *ret_errors ("PATH:LINE:
 * key: what, expected what"); the plan is returned only when there is none.
 */
int vm_plan_build(const struct vmspec *spec, const struct host *h, const struct root *root,
                  const struct compat *c, const struct vm_options *opts, struct vm_plan **ret,
                  char ***ret_errors);
struct vm_plan *vm_plan_free(struct vm_plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vm_plan *, vm_plan_free)

/* The host's physical cores as sibling lists from sysfs, sorted by first CPU; NULL-terminated
 * array of int arrays terminated by -1. */
int **host_cpu_cores(const struct root *root);
void host_cpu_cores_free(int **cores);

/* Whether KVM on this host can run a macOS guest (VT-x/AMD-V, /dev/kvm, not PVM); *why says why
 * not. */
bool vm_kvm_usable(const struct host *h, const char **why);

/* The qemu.conf cgroup_device_acl line evdev inputs need, or NULL without evdev. */
char *vm_plan_qemu_conf_acl(const struct vm_plan *p);
