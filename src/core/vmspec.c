/* SPDX-License-Identifier: MIT */
#include "vmspec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "host.h"
#include "strutil.h"
#include "strv.h"
#include "uuid.h"

struct vmspec_line {
        char *text;  /* as read, without the newline */
        int key;     /* index into keys[], -1: comment, blank or section line */
        char *raw;   /* key lines: the value as written */
        int section; /* index into sections[] of the section the line is in, -1: before any */
};

enum key_type {
        K_STR,       /* free text checked by the key's checker; empty: unset */
        K_PATH,      /* a host path; empty: unset (or auto) */
        K_UINT,      /* a number >= 1 */
        K_UINT_AUTO, /* a number >= 1, or auto (0) */
        K_BOOL,
        K_SIZE,
        K_ENUM,
        K_TRI,      /* auto, yes, no */
        K_BDF,      /* one PCI address; empty: unset */
        K_BDF_LIST, /* comma-separated PCI addresses */
        K_USB_LIST, /* comma-separated vvvv:pppp */
};

/* Returns NULL when @v is acceptable, else what was expected. */
typedef const char *(*value_check)(const char *v);

struct key_def {
        const char *section, *key;
        enum key_type type;
        size_t offset;
        const char *const *names; /* K_ENUM: value i is names[i] */
        value_check check;
        const char *help;
};

static const char *const sections[] = {
        "vm",      "cpu",         "memory", "firmware", "disks", "display",
        "network", "passthrough", "usb",    "input",    "audio", "smbios",
};

static const char *const display_names[] = { "spice", "vnc", "none", NULL };
static const char *const video_names[] = { "auto", "virtio", "vga", "none", NULL };
static const char *const net_names[] = { "user", "network", "bridge", "macvtap", "none", NULL };
static const char *const bus_names[] = { "auto", "virtio", "sata", NULL };
static const char *const audio_names[] = { "none", "hda", NULL };
static const char *const firmware_names[] = { "auto", "ovmf", "dudk", NULL };

static bool all_chars(const char *v, const char *set)
{
        for (const char *p = v; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr(set, *p))
                        return false;
        return true;
}

static const char *check_name(const char *v)
{
        return vm_name_is_valid(v)
                       ? NULL
                       : "1 to 64 letters, digits, '-', '_' or '.', not starting with '.'";
}

static const char *check_uuid(const char *v)
{
        struct uuid u;
        return uuid_parse(v, &u) == 0 ? NULL : "a UUID (8-4-4-4-12 hexadecimal digits)";
}

static const char *check_macos(const char *v)
{
        return *v && all_chars(v, ". -") ? NULL : "a macOS version or name (14, 10.13, sonoma)";
}

static const char *check_model(const char *v)
{
        static const char *const models[] = { "MacPro7,1", "MacPro5,1", "MacPro4,1",
                                              "MacPro3,1", "MacPro2,1", NULL };
        for (size_t i = 0; models[i]; i++)
                if (streq(v, models[i]))
                        return NULL;
        return "a Mac Pro model: MacPro7,1, MacPro5,1, MacPro4,1, MacPro3,1 or MacPro2,1";
}

static const char *check_cpu_model(const char *v)
{
        return isalpha((unsigned char) *v) && all_chars(v, "-_.,+=")
                       ? NULL
                       : "a QEMU CPU model (Cascadelake-Server, Westmere-v2,+rdrand)";
}

static const char *check_ifname(const char *v)
{
        return strlen(v) < 16 && *v != '-' && all_chars(v, "-_.:")
                       ? NULL
                       : "a network, bridge or interface name (default, br0, enp3s0)";
}

static const char *check_nic(const char *v)
{
        static const char *const models[] = { "virtio",        "vmxnet3", "e1000e",
                                              "e1000-82545em", "e1000",   NULL };
        for (size_t i = 0; models[i]; i++)
                if (streq(v, models[i]))
                        return NULL;
        return "virtio, vmxnet3, e1000e, e1000-82545em or e1000";
}

static const char *check_mac(const char *v)
{
        unsigned o[6];
        char tail;
        if (strlen(v) == 17 &&
            sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                   &tail) == 6 &&
            all_chars(v, ":") && !(o[0] & 1))
                return NULL;
        return "a unicast MAC address (52:54:00:12:34:56)";
}

static const char *check_grab_toggle(const char *v)
{
        static const char *const toggles[] = { "ctrl-ctrl", "alt-alt",    "shift-shift",
                                               "meta-meta", "scrolllock", "ctrl-scrolllock",
                                               NULL };
        for (size_t i = 0; toggles[i]; i++)
                if (streq(v, toggles[i]))
                        return NULL;
        return "ctrl-ctrl, alt-alt, shift-shift, meta-meta, scrolllock or ctrl-scrolllock";
}

static const char *check_serial(const char *v)
{
        return (strlen(v) == 12 || strlen(v) == 11) && all_chars(v, "")
                       ? NULL
                       : "a Mac serial number (11 or 12 letters and digits)";
}

static const char *check_mlb(const char *v)
{
        return (strlen(v) == 17 || strlen(v) == 13) && all_chars(v, "")
                       ? NULL
                       : "a board serial (MLB, 13 or 17 letters and digits)";
}

static const char *check_rom(const char *v)
{
        return strlen(v) == 12 && all_chars(v, "") && strspn(v, "0123456789abcdefABCDEF") == 12
                       ? NULL
                       : "a ROM value (12 hexadecimal digits, the NIC's MAC)";
}

#define KEY(sec, k, t, field, n, chk, h)               \
 {                                                     \
  sec, k, t, offsetof(struct vmspec, field), n, chk, h \
 }

static const struct key_def keys[] = {
        KEY("vm", "name", K_STR, name, NULL, check_name, "The libvirt domain name"),
        KEY("vm", "uuid", K_STR, uuid, NULL, check_uuid,
            "Fixed, so that redefining the VM keeps its identity and NVRAM"),
        KEY("vm", "macos", K_STR, macos, NULL, check_macos,
            "The macOS release the VM runs: 14, 10.13, sonoma (picks model, CPU, NIC, firmware)"),
        KEY("vm", "model", K_STR, model, NULL, check_model,
            "Mac model; empty: by macOS release (MacPro7,1 or MacPro5,1)"),
        KEY("cpu", "cores", K_UINT_AUTO, cores, NULL, NULL,
            "Guest cores, a power of two (1 socket, 2 threads each); auto: from the host"),
        KEY("cpu", "vcpus", K_UINT_AUTO, vcpus, NULL, NULL,
            "Enabled vCPUs (fake core count); auto: host threads minus the host's cores"),
        KEY("cpu", "host_cores", K_UINT, host_cores, NULL, NULL,
            "Physical cores kept for the host (and for the emulator and I/O threads)"),
        KEY("cpu", "pin", K_BOOL, pin, NULL, NULL,
            "Pin vCPUs to host threads from the sysfs sibling lists"),
        KEY("cpu", "iothread", K_BOOL, iothread, NULL, NULL,
            "A dedicated I/O thread attached to the virtio disks"),
        KEY("cpu", "topoext", K_TRI, topoext, NULL, NULL, "auto: on AMD hosts"),
        KEY("cpu", "model", K_STR, cpu_model, NULL, check_cpu_model,
            "QEMU -cpu model, vendor=GenuineIntel is added; empty: by Mac model"),
        KEY("memory", "size", K_SIZE, memory, NULL, NULL, "Guest memory (8G, 16384M)"),
        KEY("memory", "hugepages", K_BOOL, hugepages, NULL, NULL,
            "Back the memory with the host's reserved huge pages"),
        KEY("firmware", "type", K_ENUM, firmware, firmware_names, NULL,
            "auto: OVMF, or DUDK-Firmware for Mojave and older"),
        KEY("firmware", "code", K_PATH, code, NULL, NULL,
            "Firmware code image; empty: found through QEMU's firmware descriptors"),
        KEY("firmware", "vars", K_PATH, vars, NULL, NULL,
            "Variable store template; empty: the one paired with the code image"),
        KEY("firmware", "nvram", K_PATH, nvram, NULL, NULL,
            "This VM's variable store; empty: NAME_VARS.fd next to this file"),
        KEY("disks", "opencore", K_PATH, opencore, NULL, NULL,
            "The OpenCore image (FAT32, first boot device)"),
        KEY("disks", "macos", K_PATH, system_disk, NULL, NULL, "The macOS system disk"),
        KEY("disks", "installer", K_PATH, installer, NULL, NULL,
            "Installer or recovery image; empty: none"),
        KEY("disks", "bus", K_ENUM, disk_bus, bus_names, NULL,
            "auto: virtio on MacPro7,1, sata on the legacy profile"),
        KEY("display", "type", K_ENUM, display, display_names, NULL,
            "spice, vnc or none (none with a passed-through GPU)"),
        KEY("display", "video", K_ENUM, video, video_names, NULL,
            "auto: virtio on MacPro7,1, vga on the legacy profile; none without a display"),
        KEY("network", "mode", K_ENUM, net_mode, net_names, NULL,
            "user, network (libvirt), bridge, macvtap or none"),
        KEY("network", "source", K_STR, net_source, NULL, check_ifname,
            "network: the libvirt network (default); bridge: br0; macvtap: the host interface"),
        KEY("network", "model", K_STR, nic_model, NULL, check_nic,
            "NIC model; empty: by macOS release (virtio, vmxnet3, e1000e, e1000-82545em, e1000)"),
        KEY("network", "mac", K_STR, mac, NULL, check_mac, "Empty: derived from the UUID"),
        KEY("passthrough", "gpu", K_BDF, gpu, NULL, NULL,
            "The GPU's PCI address (see 'darwinkvm iommu --gpu')"),
        KEY("passthrough", "gpu_audio", K_BDF, gpu_audio, NULL, NULL,
            "Its HDMI/DP audio function, given to the guest as function 1 of the GPU"),
        KEY("passthrough", "gpu_rom", K_PATH, gpu_rom, NULL, NULL, "A VBIOS file for the GPU"),
        KEY("passthrough", "usb_controllers", K_BDF_LIST, usb_controllers, NULL, NULL,
            "USB controllers to pass, comma-separated"),
        KEY("passthrough", "nvme", K_BDF_LIST, nvme, NULL, NULL, "NVMe drives to pass"),
        KEY("passthrough", "pci", K_BDF_LIST, pci, NULL, NULL, "Other PCI devices to pass"),
        KEY("usb", "host", K_USB_LIST, usb_host, NULL, NULL,
            "Host USB devices by vendor:product (046d:c52b), comma-separated"),
        KEY("input", "evdev_keyboard", K_PATH, evdev_keyboard, NULL, NULL,
            "/dev/input/by-id/...-event-kbd shared with the host"),
        KEY("input", "evdev_mouse", K_PATH, evdev_mouse, NULL, NULL,
            "/dev/input/by-id/...-event-mouse"),
        KEY("input", "grab_toggle", K_STR, grab_toggle, NULL, check_grab_toggle,
            "The keys that switch keyboard and mouse between host and guest"),
        KEY("input", "emulated", K_TRI, emulated_input, NULL, NULL,
            "USB tablet and keyboard; auto: unless a GPU is passed through"),
        KEY("audio", "device", K_ENUM, audio, audio_names, NULL, "none or hda"),
        KEY("smbios", "serial", K_STR, smbios_serial, NULL, check_serial,
            "SystemSerialNumber (from the OpenCore identity)"),
        KEY("smbios", "mlb", K_STR, smbios_mlb, NULL, check_mlb, "MLB (board serial)"),
        KEY("smbios", "uuid", K_STR, smbios_uuid, NULL, check_uuid, "SystemUUID"),
        KEY("smbios", "rom", K_STR, smbios_rom, NULL, check_rom, "ROM"),
};

#define N_KEYS ELEMENTSOF(keys)

size_t vmspec_n_keys(void)
{
        return N_KEYS;
}

const char *vmspec_key_help(size_t i)
{
        return i < N_KEYS ? keys[i].help : NULL;
}

const char *vmspec_key_name(size_t i)
{
        static char names[N_KEYS][48];
        if (i >= N_KEYS)
                return NULL;
        if (!names[i][0])
                snprintf(names[i], sizeof(names[i]), "%s.%s", keys[i].section, keys[i].key);
        return names[i];
}

static int find_key(const char *section, const char *key)
{
        for (size_t i = 0; i < N_KEYS; i++)
                if (streq(keys[i].section, section) && streq(keys[i].key, key))
                        return (int) i;
        return -1;
}

static int find_section(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (streq(sections[i], name))
                        return (int) i;
        return -1;
}

static int key_by_name(const char *dotted)
{
        for (size_t i = 0; i < N_KEYS; i++)
                if (streq(vmspec_key_name(i), dotted))
                        return (int) i;
        return -1;
}

unsigned vmspec_key_line(const struct vmspec *s, const char *key)
{
        int k = key_by_name(key);
        return k >= 0 && s->key_lines ? s->key_lines[k] : 0;
}

char *vmspec_where(const struct vmspec *s, const char *key)
{
        unsigned line = vmspec_key_line(s, key);
        const char *path = s->path ? s->path : "vm.conf";
        if (line)
                return xasprintf("%s:%u: %s: ", path, line, key);
        return xasprintf("%s: %s: ", path, key);
}

bool vm_name_is_valid(const char *name)
{
        size_t n = strlen(name);
        return n >= 1 && n <= 64 && name[0] != '.' && name[0] != '-' && all_chars(name, "-_.");
}

char *vm_dir_for_name(const char *name)
{
        const char *dir = getenv("DARWINKVM_VMS_DIR");
        if (dir && *dir)
                return xasprintf("%s/%s", dir, name);
        if (geteuid() == 0)
                return xasprintf("/var/lib/darwinkvm/vms/%s", name);
        const char *data = getenv("XDG_DATA_HOME");
        if (data && *data == '/')
                return xasprintf("%s/darwinkvm/vms/%s", data, name);
        const char *home = getenv("HOME");
        return xasprintf("%s/.local/share/darwinkvm/vms/%s", home && *home ? home : "/", name);
}

char *vm_spec_path(const char *arg)
{
        if (strchr(arg, '/') || endswith(arg, ".conf"))
                return xstrdup(arg);
        _cleanup_free_ char *dir = vm_dir_for_name(arg);
        return xasprintf("%s/vm.conf", dir);
}

/* Field access through the key table. */
static void *field(struct vmspec *s, size_t k)
{
        return (char *) s + keys[k].offset;
}

static const void *cfield(const struct vmspec *s, size_t k)
{
        return (const char *) s + keys[k].offset;
}

struct vmspec *vmspec_new(void)
{
        struct vmspec *s = xcalloc(1, sizeof(*s));
        s->host_cores = 1;
        s->pin = true;
        s->iothread = true;
        s->topoext = VM_AUTO;
        s->memory = UINT64_C(8) << 30;
        s->display = VM_DISPLAY_SPICE;
        s->net_mode = VM_NET_NETWORK;
        s->net_source = xstrdup("default");
        s->grab_toggle = xstrdup("ctrl-ctrl");
        s->emulated_input = VM_AUTO;
        s->key_lines = xcalloc(N_KEYS, sizeof(unsigned));
        return s;
}

struct vmspec *vmspec_free(struct vmspec *s)
{
        if (!s)
                return NULL;
        for (size_t k = 0; k < N_KEYS; k++) {
                void *f = field(s, k);
                switch (keys[k].type) {
                case K_STR:
                case K_PATH:
                case K_BDF:
                        free(*(char **) f);
                        break;
                case K_BDF_LIST:
                case K_USB_LIST:
                        strv_free(*(char ***) f);
                        break;
                default:
                        break;
                }
        }
        for (size_t i = 0; i < s->n_lines; i++) {
                free(s->lines[i].text);
                free(s->lines[i].raw);
        }
        free(s->lines);
        free(s->key_lines);
        free(s->path);
        free(s);
        return NULL;
}

static bool parse_bool(const char *v, bool *ret)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(v, yes[i])) {
                        *ret = true;
                        return true;
                }
                if (streq(v, no[i])) {
                        *ret = false;
                        return true;
                }
        }
        return false;
}

/* "01:00.0" (domain 0 implied) or "0000:01:00.0", any case: the canonical form, or NULL. */
static char *normalize_bdf(const char *v)
{
        _cleanup_free_ char *s = ascii_strlower(xstrdup(v));
        if (strlen(s) == 7) {
                char *full = xasprintf("0000:%s", s);
                free(s);
                s = full;
        }
        return pci_bdf_is_valid(s) ? TAKE_PTR(s) : NULL;
}

static char *names_list(const char *const *names)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        for (size_t i = 0; names[i]; i++)
                buf_printf(&b, "%s%s", i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
        return buf_detach(&b);
}

/* Parses @raw into key @k of @s. Returns NULL or what was expected. */
static char *set_value(struct vmspec *s, size_t k, const char *raw)
{
        const struct key_def *d = &keys[k];
        void *f = field(s, k);
        switch (d->type) {
        case K_STR:
        case K_PATH: {
                const char *expected = *raw && d->check ? d->check(raw) : NULL;
                if (expected)
                        return xstrdup(expected);
                if (d->type == K_PATH && strchr(raw, '\n'))
                        return xstrdup("a path");
                free_and_strdup((char **) f, *raw ? raw : NULL);
                return NULL;
        }
        case K_UINT:
        case K_UINT_AUTO: {
                uint32_t n;
                if (d->type == K_UINT_AUTO && (!*raw || streq(raw, "auto"))) {
                        *(unsigned *) f = 0;
                        return NULL;
                }
                bool zero_ok = d->type == K_UINT;
                if (parse_u32(raw, &n) < 0 || n > 1024 || (n == 0 && !zero_ok))
                        return xstrdup(d->type == K_UINT_AUTO ? "a number from 1 to 1024, or auto"
                                                              : "a number from 0 to 1024");
                *(unsigned *) f = n;
                return NULL;
        }
        case K_BOOL:
                if (!parse_bool(raw, (bool *) f))
                        return xstrdup("yes or no");
                return NULL;
        case K_SIZE: {
                uint64_t v;
                /* A bare number is taken as MiB, as QEMU's -m does. */
                bool mib = *raw && raw[strspn(raw, "0123456789")] == 0 && strlen(raw) < 12;
                if (parse_size(raw, &v) < 0 || (mib && (v <<= 20, false)) ||
                    v < (UINT64_C(1) << 20))
                        return xstrdup("a size of at least 1M (8G, 16384M)");
                *(uint64_t *) f = v;
                return NULL;
        }
        case K_ENUM:
                for (int i = 0; d->names[i]; i++)
                        if (streq(raw, d->names[i])) {
                                *(int *) f = i;
                                return NULL;
                        }
                return names_list(d->names);
        case K_TRI: {
                bool b;
                if (streq(raw, "auto") || !*raw)
                        *(enum vm_tristate *) f = VM_AUTO;
                else if (parse_bool(raw, &b))
                        *(enum vm_tristate *) f = b ? VM_YES : VM_NO;
                else
                        return xstrdup("auto, yes or no");
                return NULL;
        }
        case K_BDF: {
                if (!*raw) {
                        free_and_strdup((char **) f, NULL);
                        return NULL;
                }
                char *bdf = normalize_bdf(raw);
                if (!bdf)
                        return xstrdup("a PCI address (0000:01:00.0)");
                free(*(char **) f);
                *(char **) f = bdf;
                return NULL;
        }
        case K_BDF_LIST:
        case K_USB_LIST: {
                _cleanup_strv_free_ char **parts = strv_split(raw, ", \t");
                _cleanup_strv_free_ char **out = xcalloc(1, sizeof(char *));
                STRV_FOREACH(p, parts) {
                        if (d->type == K_BDF_LIST) {
                                char *bdf = normalize_bdf(*p);
                                if (!bdf)
                                        return xasprintf("\001'%s' is not valid, expected a "
                                                         "comma-separated list of PCI "
                                                         "addresses (0000:00:14.0)",
                                                         *p);
                                out = strv_consume(out, bdf);
                        } else {
                                uint32_t vid, pid;
                                _cleanup_free_ char *id = ascii_strlower(xstrdup(*p));
                                char *colon = strchr(id, ':');
                                if (!colon || colon - id != 4 || strlen(colon + 1) != 4 ||
                                    (*colon = 0, parse_hex_u32(id, &vid) < 0) ||
                                    parse_hex_u32(colon + 1, &pid) < 0)
                                        return xasprintf("\001'%s' is not valid, expected a "
                                                         "comma-separated list of USB "
                                                         "vendor:product IDs (046d:c52b)",
                                                         *p);
                                *colon = ':';
                                out = strv_push(out, id);
                        }
                        if (strv_length(out) > 1) {
                                size_t n = strv_length(out);
                                for (size_t i = 0; i + 1 < n; i++)
                                        if (streq(out[i], out[n - 1]))
                                                return xasprintf("\001'%s' is listed twice, "
                                                                 "expected each device once",
                                                                 out[n - 1]);
                        }
                }
                strv_free(*(char ***) f);
                *(char ***) f = TAKE_PTR(out);
                return NULL;
        }
        }
        return NULL;
}

/* The value of key @k as written in the file; "" for unset. */
static char *format_value(const struct vmspec *s, size_t k)
{
        const struct key_def *d = &keys[k];
        const void *f = cfield(s, k);
        switch (d->type) {
        case K_STR:
        case K_PATH:
        case K_BDF:
                return xstrdup(strempty(*(char *const *) f));
        case K_UINT:
                return xasprintf("%u", *(const unsigned *) f);
        case K_UINT_AUTO:
                return *(const unsigned *) f ? xasprintf("%u", *(const unsigned *) f)
                                             : xstrdup("auto");
        case K_BOOL:
                return xstrdup(*(const bool *) f ? "yes" : "no");
        case K_SIZE: {
                uint64_t v = *(const uint64_t *) f;
                if (v % (UINT64_C(1) << 30) == 0)
                        return xasprintf("%" PRIu64 "G", v >> 30);
                if (v % (UINT64_C(1) << 20) == 0)
                        return xasprintf("%" PRIu64 "M", v >> 20);
                return xasprintf("%" PRIu64 "K", v >> 10);
        }
        case K_ENUM:
                return xstrdup(d->names[*(const int *) f]);
        case K_TRI: {
                enum vm_tristate t = *(const enum vm_tristate *) f;
                return xstrdup(t == VM_AUTO ? "auto" : t == VM_YES ? "yes" : "no");
        }
        case K_BDF_LIST:
        case K_USB_LIST: {
                char *const *l = *(char **const *) f;
                return l ? strv_join(l, ", ") : xstrdup("");
        }
        }
        return xstrdup("");
}

static char *did_you_mean(const char *section, const char *key)
{
        for (size_t i = 0; i < N_KEYS; i++)
                if (streq(keys[i].key, key) && !streq(keys[i].section, section))
                        return xasprintf("expected it in [%s]", keys[i].section);
        const char *best = NULL;
        unsigned best_d = 3;
        for (size_t i = 0; i < N_KEYS; i++) {
                if (!streq(keys[i].section, section))
                        continue;
                unsigned dist = edit_distance(key, keys[i].key);
                if (dist < best_d) {
                        best_d = dist;
                        best = keys[i].key;
                }
        }
        if (best)
                return xasprintf("did you mean '%s'?", best);
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "expected one of");
        for (size_t i = 0; i < N_KEYS; i++)
                if (streq(keys[i].section, section))
                        buf_printf(&b, " %s", keys[i].key);
        return buf_detach(&b);
}

int vmspec_parse(const char *path, const char *text, struct vmspec **ret, char **reterr)
{
        _cleanup_(vmspec_freep) struct vmspec *s = vmspec_new();
        s->path = xstrdup(path ? path : "vm.conf");
        size_t cap = 0;
        int section = -1;
        unsigned lineno = 0;
        if (!utf8_is_valid(text, strlen(text))) {
                *reterr = xasprintf("%s: not UTF-8 text, expected a vm.conf", s->path);
                return -EINVAL;
        }
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                _cleanup_free_ char *line = xstrndup(p, len);
                p += len + (nl ? 1 : 0);
                lineno++;
                /* Kept as read (a CRLF file stays CRLF where we do not change it). */
                GROW(s->lines, cap, s->n_lines + 1);
                struct vmspec_line *l = &s->lines[s->n_lines++];
                *l = (struct vmspec_line){ .text = xstrdup(line), .key = -1, .section = section };

                char *t = strstrip(line);
                if (!*t || *t == '#' || *t == ';')
                        continue;
                if (*t == '[') {
                        char *end = strchr(t, ']');
                        if (!end || strstrip(end + 1)[0]) {
                                *reterr = xasprintf("%s:%u: '%s': not a section header, "
                                                    "expected [section]",
                                                    s->path, lineno, t);
                                return -EINVAL;
                        }
                        *end = 0;
                        section = find_section(strstrip(t + 1));
                        if (section < 0) {
                                _cleanup_buf_ struct buf b = BUF_INIT;
                                for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                                        buf_printf(&b, "%s%s", i ? ", " : "", sections[i]);
                                *reterr = xasprintf("%s:%u: [%s]: unknown section, expected "
                                                    "one of %s",
                                                    s->path, lineno, strstrip(t + 1), buf_str(&b));
                                return -EINVAL;
                        }
                        l->section = section;
                        continue;
                }
                char *eq = strchr(t, '=');
                if (!eq) {
                        *reterr = xasprintf("%s:%u: '%s': not a setting, expected key = value",
                                            s->path, lineno, t);
                        return -EINVAL;
                }
                *eq = 0;
                char *key = strstrip(t), *value = eq + 1;
                value += strspn(value, " \t");
                /* An inline comment starts at " #". */
                char *hash = strstr(value, " #");
                if (hash)
                        *hash = 0;
                value = strstrip(value);
                if (section < 0) {
                        *reterr = xasprintf("%s:%u: %s: setting before any section, expected "
                                            "a [section] line first",
                                            s->path, lineno, key);
                        return -EINVAL;
                }
                int k = find_key(sections[section], key);
                if (k < 0) {
                        _cleanup_free_ char *hint = did_you_mean(sections[section], key);
                        *reterr = xasprintf("%s:%u: %s.%s: unknown key, %s", s->path, lineno,
                                            sections[section], key, hint);
                        return -EINVAL;
                }
                if (s->key_lines[k]) {
                        *reterr = xasprintf("%s:%u: %s: duplicate key (first on line %u), "
                                            "expected each key once",
                                            s->path, lineno, vmspec_key_name(k), s->key_lines[k]);
                        return -EINVAL;
                }
                s->key_lines[k] = lineno;
                l->key = k;
                l->raw = xstrdup(value);
                _cleanup_free_ char *expected = set_value(s, k, value);
                if (expected && expected[0] == '\001') {
                        /* A message about one item of a list, already whole. */
                        *reterr = xasprintf("%s:%u: %s: %s", s->path, lineno, vmspec_key_name(k),
                                            expected + 1);
                        return -EINVAL;
                }
                if (expected) {
                        *reterr = xasprintf("%s:%u: %s: '%s' is not valid, expected %s", s->path,
                                            lineno, vmspec_key_name(k), value, expected);
                        return -EINVAL;
                }
        }
        static const char *const required[] = { "vm.name", "vm.macos" };
        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                int k = key_by_name(required[i]);
                if (!*(char **) field(s, k)) {
                        *reterr = xasprintf("%s: %s: missing, expected %s", s->path, required[i],
                                            streq(required[i], "vm.name")
                                                    ? "the VM's name"
                                                    : "a macOS release (14, 10.13)");
                        return -EINVAL;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int vmspec_load(const char *path, struct vmspec **ret, char **reterr)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ char *err = NULL;
        size_t len = 0;
        int r = read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, &err);
        if (r < 0) {
                if (r == -ENOENT)
                        *reterr = xasprintf("%s: no such VM spec, expected a vm.conf or the "
                                            "name of a VM made by 'darwinkvm new'",
                                            path);
                else
                        *reterr = TAKE_PTR(err);
                return r;
        }
        if (strlen(text) != len) {
                *reterr = xasprintf("%s: holds NUL bytes, expected a text file", path);
                return -EINVAL;
        }
        return vmspec_parse(path, text, ret, reterr);
}

static void put_key_line(struct buf *b, const struct vmspec *s, size_t k, bool with_help)
{
        _cleanup_free_ char *v = format_value(s, k);
        if (with_help)
                buf_printf(b, "# %s\n", keys[k].help);
        if (*v)
                buf_printf(b, "%s = %s\n", keys[k].key, v);
        else
                buf_printf(b, "%s =\n", keys[k].key);
}

/* Whether key @k of @s differs from the default. */
static bool is_set(const struct vmspec *s, const struct vmspec *def, size_t k)
{
        _cleanup_free_ char *a = format_value(s, k), *b = format_value(def, k);
        return !streq(a, b);
}

char *vmspec_format(const struct vmspec *s)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        if (s->n_lines == 0) {
                buf_puts(&b, "# darwinkvm VM spec: one 'key = value' per line; see "
                             "darwinkvm-vm(1).\n"
                             "# Check it with 'darwinkvm vm xml NAME'; empty values mean auto.\n");
                for (size_t sec = 0; sec < ELEMENTSOF(sections); sec++) {
                        buf_printf(&b, "\n[%s]\n", sections[sec]);
                        for (size_t k = 0; k < N_KEYS; k++)
                                if (streq(keys[k].section, sections[sec]))
                                        put_key_line(&b, s, k, true);
                }
                return buf_detach(&b);
        }
        _cleanup_(vmspec_freep) struct vmspec *def = vmspec_new();
        bool present[N_KEYS] = { false };
        for (size_t i = 0; i < s->n_lines; i++)
                if (s->lines[i].key >= 0)
                        present[s->lines[i].key] = true;
        /* The last line of each section (not counting trailing blanks), where new keys go. */
        size_t last[ELEMENTSOF(sections)];
        bool seen[ELEMENTSOF(sections)] = { false };
        for (size_t i = 0; i < s->n_lines; i++) {
                const struct vmspec_line *l = &s->lines[i];
                _cleanup_free_ char *t = xstrdup(l->text);
                if (l->section >= 0 && *strstrip(t)) {
                        last[l->section] = i;
                        seen[l->section] = true;
                }
        }
        for (size_t i = 0; i < s->n_lines; i++) {
                const struct vmspec_line *l = &s->lines[i];
                if (l->key < 0)
                        buf_printf(&b, "%s\n", l->text);
                else {
                        _cleanup_free_ char *v = format_value(s, l->key);
                        if (streq(v, l->raw))
                                buf_printf(&b, "%s\n", l->text);
                        else {
                                const char *eq = strchr(l->text, '=');
                                const char *comment = eq ? strstr(eq, " #") : NULL;
                                size_t indent = strspn(l->text, " \t");
                                buf_printf(&b, "%.*s%s = %s%s\n", (int) indent, l->text,
                                           keys[l->key].key, v, comment ? comment : "");
                        }
                }
                if (l->section >= 0 && seen[l->section] && last[l->section] == i)
                        for (size_t k = 0; k < N_KEYS; k++)
                                if (!present[k] && streq(keys[k].section, sections[l->section]) &&
                                    is_set(s, def, k))
                                        put_key_line(&b, s, k, false);
        }
        for (size_t sec = 0; sec < ELEMENTSOF(sections); sec++) {
                if (seen[sec])
                        continue;
                bool header = false;
                for (size_t k = 0; k < N_KEYS; k++) {
                        if (!streq(keys[k].section, sections[sec]) || present[k] ||
                            !is_set(s, def, k))
                                continue;
                        if (!header)
                                buf_printf(&b, "\n[%s]\n", sections[sec]);
                        header = true;
                        put_key_line(&b, s, k, false);
                }
        }
        return buf_detach(&b);
}

int vmspec_write(const struct vmspec *s, const char *path, char **reterr)
{
        _cleanup_free_ char *text = vmspec_format(s);
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                int r = mkdir_p(dir, 0755);
                if (r < 0) {
                        *reterr =
                                xasprintf("%s: cannot create the directory: %s", dir, strerror(-r));
                        return r;
                }
        }
        return write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644, reterr);
}
