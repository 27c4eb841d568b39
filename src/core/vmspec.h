/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The per-VM spec, vm.conf: sections of `key = value` lines that a user edits
 * by hand. One table of keys (vmspec.c) drives parsing, writing (comments and
 * unknown-to-us layout kept), the template and the man page's list. Parsing
 * only checks syntax and types; vm_plan_build() (vm-plan.h) checks the values
 * against the host and resolves every "auto".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

enum vm_display {
        VM_DISPLAY_SPICE,
        VM_DISPLAY_VNC,
        VM_DISPLAY_NONE,
};

enum vm_video {
        VM_VIDEO_AUTO, /* by macOS version: virtio on MacPro7,1, vga on the legacy profile */
        VM_VIDEO_VIRTIO,
        VM_VIDEO_VGA,
        VM_VIDEO_NONE,
};

enum vm_net_mode {
        VM_NET_USER,    /* QEMU's user-mode network (no libvirt network needed) */
        VM_NET_NETWORK, /* a libvirt network ("default": NAT) */
        VM_NET_BRIDGE,  /* a host bridge (br0) */
        VM_NET_MACVTAP, /* macvtap on a host interface */
        VM_NET_NONE,
};

enum vm_disk_bus {
        VM_DISK_BUS_AUTO, /* by macOS version: virtio on MacPro7,1, sata on the legacy profile */
        VM_DISK_BUS_VIRTIO,
        VM_DISK_BUS_SATA,
};

enum vm_audio {
        VM_AUDIO_NONE,
        VM_AUDIO_HDA, /* an emulated ICH9 HD Audio */
};

enum vm_firmware_kind {
        VM_FIRMWARE_AUTO, /* by macOS version: OVMF, or DUDK-Firmware for Mojave and older */
        VM_FIRMWARE_OVMF,
        VM_FIRMWARE_DUDK,
};

enum vm_tristate {
        VM_AUTO = -1,
        VM_NO = 0,
        VM_YES = 1,
};

struct vmspec_line; /* the file as read, for writing it back with its comments */

struct vmspec {
        char *path; /* the file, for messages; NULL for a spec built in memory */

        /* [vm] */
        char *name;
        char *uuid;  /* 8-4-4-4-12, fixed: redefining keeps the domain and its NVRAM */
        char *macos; /* "14", "10.13", "sonoma" */
        char *model; /* NULL: by macOS version */

        /* [cpu] */
        unsigned cores;           /* guest topology cores (power of two); 0: auto */
        unsigned vcpus;           /* enabled vCPUs (fake core count); 0: auto */
        unsigned host_cores;      /* physical cores kept for the host */
        bool pin;                 /* vCPU pinning from the sysfs sibling lists */
        bool iothread;            /* an I/O thread for the virtio disks */
        enum vm_tristate topoext; /* auto: on AMD hosts */
        char *cpu_model;          /* QEMU -cpu model; NULL: by Mac model */

        /* [memory] */
        uint64_t memory; /* bytes */
        bool hugepages;

        /* [firmware] */
        enum vm_firmware_kind firmware;
        char *code, *vars; /* NULL: found on the host */
        char *nvram;       /* NULL: NAME_VARS.fd next to vm.conf */

        /* [disks] */
        char *opencore, *system_disk, *installer;
        enum vm_disk_bus disk_bus;

        /* [display] */
        enum vm_display display;
        enum vm_video video;

        /* [network] */
        enum vm_net_mode net_mode;
        char *net_source; /* network, bridge or interface name */
        char *nic_model;  /* NULL: by macOS version */
        char *mac;        /* NULL: derived from the UUID */

        /* [passthrough] */
        char *gpu, *gpu_audio, *gpu_rom;
        char **usb_controllers, **nvme, **pci;

        /* [usb] */
        char **usb_host; /* "046d:c52b" */

        /* [input] */
        char *evdev_keyboard, *evdev_mouse;
        char *grab_toggle;
        enum vm_tristate emulated_input; /* usb-tablet + usb-kbd; auto: unless a GPU is passed */

        /* [audio] */
        enum vm_audio audio;

        /* [smbios] (from the OpenCore identity) */
        char *smbios_serial, *smbios_mlb, *smbios_uuid, *smbios_rom;

        /* Where each key was read: line numbers indexed like the key table, 0: not in the file. */
        unsigned *key_lines;
        struct vmspec_line *lines;
        size_t n_lines;
};

/* A spec with every default set and no file behind it (the `new` flow fills it). */
struct vmspec *vmspec_new(void);
struct vmspec *vmspec_free(struct vmspec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vmspec *, vmspec_free)

/*
 * Parses @text (the contents of @path, which names it in messages). Errors are
 * one line: "PATH:LINE: section.key: what, expected what".
 */
int vmspec_parse(const char *path, const char *text, struct vmspec **ret, char **reterr);
/* Reads and parses the file @path. */
int vmspec_load(const char *path, struct vmspec **ret, char **reterr);

/*
 * The file text: the lines as read with values updated and comments kept, keys
 * set since then appended to their section; for a spec built in memory, the
 * commented template with every key.
 */
char *vmspec_format(const struct vmspec *s);
/* vmspec_format() written atomically to @path (its directory is created). */
int vmspec_write(const struct vmspec *s, const char *path, char **reterr);

/* "section.key" of key table entry @i, and how many keys there are. */
size_t vmspec_n_keys(void);
const char *vmspec_key_name(size_t i);
const char *vmspec_key_help(size_t i);
/* The line @key ("passthrough.gpu") was read from, 0 when it was not in the file. */
unsigned vmspec_key_line(const struct vmspec *s, const char *key);
/* "PATH:LINE: key: " (or "PATH: key: " for a key not in the file), the prefix of every error. */
char *vmspec_where(const struct vmspec *s, const char *key);

/* A VM name darwinkvm accepts: letters, digits, '-', '_', '.', 1 to 64 characters. */
bool vm_name_is_valid(const char *name);
/*
 * The directory of VM @name: $DARWINKVM_VMS_DIR/NAME when set, /var/lib/darwinkvm/vms/NAME
 * for root, else $XDG_DATA_HOME (default ~/.local/share)/darwinkvm/vms/NAME.
 */
char *vm_dir_for_name(const char *name);
/* @arg is a path to a vm.conf (contains '/' or ends in .conf) or a VM name: the vm.conf path. */
char *vm_spec_path(const char *arg);
