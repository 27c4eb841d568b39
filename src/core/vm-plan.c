/* SPDX-License-Identifier: MIT */
#include "vm-plan.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "iommu.h"
#include "strutil.h"
#include "strv.h"
#include "uuid.h"

/* Collects the problems of one spec; every message starts with the key's place in the file. */
struct problems {
        const struct vmspec *spec;
        char **list;
};

_printf_(3, 4) static void problem(struct problems *p, const char *key, const char *fmt, ...)
{
        _cleanup_free_ char *where = vmspec_where(p->spec, key);
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        p->list = strv_consume(p->list, xasprintf("%s%s", where, what));
}

static int cmp_int(const void *a, const void *b)
{
        return *(const int *) a - *(const int *) b;
}

/* "0,8", "0-1", "3": the CPUs, sorted, -1 terminated; NULL when not a list. */
static int *parse_cpu_list(const char *s)
{
        _cleanup_strv_free_ char **parts = strv_split(s, ",");
        _cleanup_free_ int *cpus = NULL;
        size_t n = 0, cap = 0;
        STRV_FOREACH(p, parts) {
                unsigned a, b;
                char tail;
                int k = sscanf(*p, "%u-%u%c", &a, &b, &tail);
                if (k == 1)
                        b = a;
                else if (k != 2 || b < a || b - a > 1024)
                        return NULL;
                for (unsigned c = a; c <= b; c++) {
                        GROW(cpus, cap, n + 2);
                        cpus[n++] = (int) c;
                }
        }
        if (n == 0)
                return NULL;
        qsort(cpus, n, sizeof(int), cmp_int);
        cpus[n] = -1;
        return TAKE_PTR(cpus);
}

void host_cpu_cores_free(int **cores)
{
        for (size_t i = 0; cores && cores[i]; i++)
                free(cores[i]);
        free(cores);
}

static int cmp_core(const void *a, const void *b)
{
        return (*(int *const *) a)[0] - (*(int *const *) b)[0];
}

int **host_cpu_cores(const struct root *root)
{
        _cleanup_strv_free_ char **names = NULL;
        if (root_list_dir(root, "/sys/devices/system/cpu", &names) < 0)
                return NULL;
        int **cores = NULL;
        size_t n = 0, cap = 0;
        STRV_FOREACH(name, names) {
                const char *num = startswith(*name, "cpu");
                if (!num || !*num || strspn(num, "0123456789") != strlen(num))
                        continue;
                _cleanup_free_ char *path = xasprintf(
                        "/sys/devices/system/cpu/%s/topology/thread_siblings_list", *name);
                _cleanup_free_ char *line = NULL;
                int *cpus = NULL;
                if (root_read_line(root, path, &line) < 0 || !(cpus = parse_cpu_list(line))) {
                        host_cpu_cores_free(cores);
                        return NULL;
                }
                bool dup = false;
                for (size_t i = 0; i < n && !dup; i++)
                        dup = cores[i][0] == cpus[0];
                if (dup) {
                        free(cpus);
                        continue;
                }
                GROW(cores, cap, n + 2);
                cores[n++] = cpus;
                cores[n] = NULL;
        }
        if (n == 0)
                return NULL;
        qsort(cores, n, sizeof(int *), cmp_core);
        return cores;
}

bool vm_kvm_usable(const struct host *h, const char **why)
{
        const char *reason = NULL;
        if (!h->kvm.dev_present)
                reason = "no /dev/kvm";
        else if (h->kvm.mod_pvm)
                reason = "/dev/kvm is kvm_pvm (nested PVM), which cannot run UEFI firmware";
        else if (!host_cpu_has(&h->cpu, "vmx") && !host_cpu_has(&h->cpu, "svm"))
                reason = "the CPU shows no vmx or svm flag";
        if (why)
                *why = reason;
        return !reason;
}

/* The first release of the data whose Mac model is @model: its QEMU CPU model. */
static const char *cpu_for_model(const struct compat *c, const char *model)
{
        for (size_t i = 0; i < c->n_releases; i++)
                if (streq(c->releases[i].mac_model, model) && !streq(c->releases[i].qemu_cpu, "-"))
                        return c->releases[i].qemu_cpu;
        return NULL;
}

/* "Westmere-v2,+rdrand" -> "Westmere-v2,vendor=GenuineIntel,+rdrand": the model, then the vendor
 * macOS needs, then the features. */
static char *cpu_arg(const char *model)
{
        const char *comma = strchr(model, ',');
        if (!comma)
                return xasprintf("%s,vendor=GenuineIntel", model);
        if (strstr(model, "vendor="))
                return xstrdup(model);
        return xasprintf("%.*s,vendor=GenuineIntel%s", (int) (comma - model), model, comma);
}

static char *resolve_path(const struct vm_plan *p, const char *path)
{
        if (path[0] == '/')
                return xstrdup(path);
        return xasprintf("%s/%s", p->vm_dir, path);
}

static bool regular_file(const struct root *root, const char *path)
{
        struct stat st;
        return root_stat(root, path, &st, true) == 0 && S_ISREG(st.st_mode);
}

static const char *image_format(const struct root *root, const char *path)
{
        _cleanup_close_ int fd = root_openat(root, path, O_RDONLY | O_CLOEXEC, 0);
        unsigned char magic[4];
        if (fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "QFI\xfb", 4) == 0)
                return "qcow2";
        return "raw";
}

static const struct host_pci_device *find_pci(const struct host *h, const char *bdf)
{
        for (size_t i = 0; i < h->pci.n_devices; i++)
                if (streq(h->pci.devices[i].bdf, bdf))
                        return &h->pci.devices[i];
        return NULL;
}

struct pt_item {
        const char *key;
        const char *bdf;
};

static void check_passthrough(struct problems *pr, const struct vmspec *s, const struct host *h,
                              struct pt_item *items, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const char *key = items[i].key, *bdf = items[i].bdf;
                for (size_t j = 0; j < i; j++)
                        if (streq(items[j].bdf, bdf)) {
                                problem(pr, key,
                                        "%s is already given in %s, expected each device "
                                        "once",
                                        bdf, items[j].key);
                                break;
                        }
                const struct host_pci_device *d = find_pci(h, bdf);
                if (!d) {
                        problem(pr, key,
                                "%s does not exist on this host, expected a PCI address "
                                "from 'darwinkvm iommu'",
                                bdf);
                        continue;
                }
                uint32_t cls = d->class_code >> 8;
                if (d->has_ids && pci_class_is_ignorable(d->class_code)) {
                        problem(pr, key,
                                "%s is a bridge or host-internal device (class %04x), "
                                "expected an endpoint: bridges are never passed",
                                bdf, cls);
                        continue;
                }
                if (d->has_ids && streq(key, "passthrough.gpu") &&
                    !pci_class_is_display(d->class_code))
                        problem(pr, key,
                                "%s is not a display controller (class %04x), expected "
                                "the GPU's VGA function",
                                bdf, cls);
                if (d->has_ids && streq(key, "passthrough.usb_controllers") && cls != 0x0c03)
                        problem(pr, key,
                                "%s is not a USB controller (class %04x), expected one "
                                "from 'darwinkvm iommu --usb'",
                                bdf, cls);
                if (d->has_ids && streq(key, "passthrough.nvme") && cls != 0x0108)
                        problem(pr, key,
                                "%s is not an NVMe controller (class %04x), expected "
                                "one from 'darwinkvm iommu --nvme'",
                                bdf, cls);
                if (d->iommu_group < 0) {
                        problem(pr, key,
                                "%s has no IOMMU group (the IOMMU is off), expected the "
                                "IOMMU on: see 'darwinkvm doctor'",
                                bdf);
                        continue;
                }
                const struct host_iommu_group *g = host_iommu_group_find(h, d->iommu_group);
                for (size_t m = 0; g && m < g->n_devices; m++) {
                        const struct host_pci_device *o = &h->pci.devices[g->devices[m]];
                        if (streq(o->bdf, bdf) ||
                            (o->has_ids && pci_class_is_ignorable(o->class_code)))
                                continue;
                        bool passed = false;
                        for (size_t j = 0; j < n && !passed; j++)
                                passed = streq(items[j].bdf, o->bdf);
                        if (!passed) {
                                problem(pr, key,
                                        "%s shares IOMMU group %d with %s (class "
                                        "%04x), which is not passed through, expected "
                                        "the whole group passed (add it to "
                                        "passthrough.pci) or a device in its own group",
                                        bdf, d->iommu_group, o->bdf, o->class_code >> 8);
                                break;
                        }
                }
        }
        (void) s;
}

static void plan_cpu(struct problems *pr, const struct vmspec *s, const struct host *h,
                     const struct root *root, struct vm_plan *p)
{
        int **cores = host_cpu_cores(root);
        unsigned n_cores = 0, logical = h->cpu.logical;
        for (size_t i = 0; cores && cores[i]; i++)
                n_cores++;
        if (!cores) {
                n_cores = h->cpu.cores;
                if (s->pin)
                        problem(pr, "cpu.pin",
                                "the host's CPU sibling lists (/sys/devices/"
                                "system/cpu/*/topology) cannot be read, expected "
                                "pin = no");
        }
        if (logical == 0 || n_cores == 0) {
                problem(pr, "cpu.vcpus",
                        "the host's CPU count cannot be read (/proc/cpuinfo), "
                        "expected a readable host");
                host_cpu_cores_free(cores);
                return;
        }
        unsigned tpc = logical / n_cores ? logical / n_cores : 1;
        if (s->host_cores >= n_cores) {
                problem(pr, "cpu.host_cores",
                        "%u leaves none of the host's %u cores to the "
                        "guest, expected at most %u",
                        s->host_cores, n_cores, n_cores - 1);
                host_cpu_cores_free(cores);
                return;
        }
        /* The host threads the guest may use: those of the cores not kept, in core order, each
         * core's siblings together (hybrid CPUs have cores with and without SMT). */
        _cleanup_free_ int *usable = xcalloc(logical + 1, sizeof(int));
        unsigned available = 0, kept_threads = 0;
        if (cores) {
                for (size_t c = 0; cores[c]; c++)
                        for (size_t k = 0; cores[c][k] >= 0; k++) {
                                if (c < s->host_cores)
                                        kept_threads++;
                                else if (available < logical)
                                        usable[available++] = cores[c][k];
                        }
        } else {
                kept_threads = s->host_cores * tpc;
                available = logical - kept_threads;
        }
        unsigned vcpus = s->vcpus;
        if (!vcpus) {
                vcpus = available;
                if (vcpus > 1)
                        vcpus &= ~1u;
                if (vcpus > 64)
                        vcpus = 64;
        }
        unsigned cores_wanted = s->cores;
        if (!cores_wanted) {
                cores_wanted = 1;
                while (cores_wanted * 2 < vcpus)
                        cores_wanted *= 2;
        }
        if (cores_wanted & (cores_wanted - 1))
                problem(pr, "cpu.cores",
                        "%u is not a power of two, expected 1, 2, 4, 8, 16 or 32 "
                        "(XNU boots only those)",
                        cores_wanted);
        else if (vcpus > cores_wanted * 2)
                problem(pr, "cpu.vcpus",
                        "%u is more than the topology's %u (cpu.cores %u x 2 "
                        "threads), expected at most %u",
                        vcpus, cores_wanted * 2, cores_wanted, cores_wanted * 2);
        else if (vcpus > available)
                problem(pr, "cpu.vcpus",
                        "%u is more than the host's %u threads less the %u kept "
                        "for the host, expected at most %u",
                        vcpus, logical, kept_threads, available);
        p->cores = cores_wanted;
        p->max_vcpus = cores_wanted * 2;
        p->vcpus = vcpus;
        p->amd_host = h->cpu.vendor == CPU_VENDOR_AMD;
        p->topoext = s->topoext == VM_AUTO ? p->amd_host : s->topoext == VM_YES;
        p->iothread = s->iothread;
        p->pin = s->pin && cores && vcpus <= available;
        if (p->pin) {
                p->vcpu_pins = xcalloc(vcpus, sizeof(int));
                for (unsigned v = 0; v < vcpus; v++)
                        p->vcpu_pins[v] = usable[v];
                _cleanup_buf_ struct buf b = BUF_INIT;
                _cleanup_free_ int *kept = xcalloc(kept_threads + 1, sizeof(int));
                size_t nk = 0;
                for (unsigned c = 0; c < s->host_cores; c++)
                        for (size_t k = 0; cores[c][k] >= 0 && nk < kept_threads; k++)
                                kept[nk++] = cores[c][k];
                qsort(kept, nk, sizeof(int), cmp_int);
                for (size_t k = 0; k < nk; k++)
                        buf_printf(&b, "%s%d", k ? "," : "", kept[k]);
                p->host_cpuset = buf_detach(&b);
        }
        host_cpu_cores_free(cores);
}

static void plan_firmware(struct problems *pr, const struct vmspec *s, const struct host *h,
                          const struct root *root, struct vm_plan *p)
{
        bool dudk =
                s->firmware == VM_FIRMWARE_DUDK || (s->firmware == VM_FIRMWARE_AUTO && p->release &&
                                                    streq(p->release->firmware, "dudk"));
        /* Asked for by the release only: DUDK when installed, else OVMF with a warning. */
        if (dudk && s->firmware == VM_FIRMWARE_AUTO && !s->code && !h->firmware.dudk_code) {
                dudk = false;
                p->warnings = strv_consume(
                        p->warnings,
                        xasprintf("macOS %s wants DUDK-Firmware (/usr/share/DarwinUDK/x64/"
                                  "DUDK_CODE.fd), which is not installed: using OVMF, which may "
                                  "not boot it",
                                  p->release->version_str));
        }
        const char *code = s->code, *vars = s->vars;
        if (dudk) {
                code = code ? code : h->firmware.dudk_code;
                vars = vars ? vars : h->firmware.dudk_vars;
                if (!code)
                        problem(pr, "firmware.type",
                                "dudk, but DUDK-Firmware is not installed, expected "
                                "/usr/share/DarwinUDK/x64/DUDK_CODE.fd (or type = ovmf)");
        } else {
                code = code ? code : h->firmware.code;
                vars = vars ? vars : (s->code ? NULL : h->firmware.vars);
                if (!code)
                        problem(pr, "firmware.code",
                                "no OVMF found through QEMU's firmware "
                                "descriptors, expected the ovmf package "
                                "installed or a path");
                else if (!s->code && h->firmware.secure_boot)
                        p->warnings = strv_consume(
                                p->warnings, xasprintf("only a Secure Boot OVMF build was found "
                                                       "(%s); OpenCore is unsigned",
                                                       code));
        }
        if (code && !vars)
                problem(pr, "firmware.vars",
                        "no variable store template paired with %s, "
                        "expected a path (OVMF_VARS_4M.fd)",
                        code);
        if (code && s->code && !regular_file(root, code))
                problem(pr, "firmware.code", "%s does not exist, expected a firmware image", code);
        if (vars && s->vars && !regular_file(root, vars))
                problem(pr, "firmware.vars",
                        "%s does not exist, expected a variable store "
                        "template",
                        vars);
        p->fw_code = code ? resolve_path(p, code) : NULL;
        p->fw_vars = vars ? resolve_path(p, vars) : NULL;
        p->fw_format = !dudk && !s->code && h->firmware.format ? "raw" : "raw";
        if (!dudk && !s->code && streq_ptr(h->firmware.format, "qcow2"))
                p->fw_format = "qcow2";
        p->nvram = s->nvram ? resolve_path(p, s->nvram)
                            : xasprintf("%s/%s_VARS.fd", p->vm_dir, p->name);
}

static void plan_disks(struct problems *pr, const struct vmspec *s, const struct root *root,
                       struct vm_plan *p)
{
        const char *bus = s->disk_bus == VM_DISK_BUS_VIRTIO                     ? "virtio"
                          : s->disk_bus == VM_DISK_BUS_SATA                     ? "sata"
                          : p->release && streq(p->release->disk_bus, "virtio") ? "virtio"
                                                                                : "sata";

        const struct {
                const char *role, *key, *path;
        } disks[] = {
                { "opencore", "disks.opencore", s->opencore },
                { "macos", "disks.macos", s->system_disk },
                { "installer", "disks.installer", s->installer },
        };

        if (!s->opencore)
                problem(pr, "disks.opencore",
                        "missing, expected the OpenCore image (darwinkvm "
                        "image opencore)");
        for (size_t i = 0; i < ELEMENTSOF(disks); i++) {
                if (!disks[i].path)
                        continue;
                _cleanup_free_ char *path = resolve_path(p, disks[i].path);
                if (!regular_file(root, path)) {
                        problem(pr, disks[i].key, "%s does not exist, expected a disk image file",
                                path);
                        continue;
                }
                struct vm_disk *d = &p->disks[p->n_disks++];
                d->role = disks[i].role;
                d->format = image_format(root, path);
                d->path = TAKE_PTR(path);
                d->bus = bus;
                d->boot_order = (unsigned) p->n_disks;
        }
}

static void plan_devices(struct problems *pr, const struct vmspec *s, const struct host *h,
                         const struct root *root, const struct vm_options *o, struct vm_plan *p)
{
        /* Display. */
        p->display = o->headless ? VM_DISPLAY_NONE : s->display;
        p->video = s->video;
        if (o->headless)
                p->video = VM_VIDEO_NONE;
        else if (p->video == VM_VIDEO_AUTO) {
                if (s->display == VM_DISPLAY_NONE && s->gpu)
                        p->video = VM_VIDEO_NONE;
                else
                        p->video = p->release && streq(p->release->video_model, "virtio")
                                           ? VM_VIDEO_VIRTIO
                                           : VM_VIDEO_VGA;
        }

        /* Network. */
        p->net_mode = s->net_mode;
        if ((s->net_mode == VM_NET_BRIDGE || s->net_mode == VM_NET_MACVTAP) &&
            (!s->net_source || streq(s->net_source, "default")))
                problem(pr, "network.source", "missing for mode %s, expected the %s",
                        s->net_mode == VM_NET_BRIDGE ? "bridge" : "macvtap",
                        s->net_mode == VM_NET_BRIDGE ? "host bridge (br0)"
                                                     : "host interface (enp3s0)");
        else if (s->net_mode == VM_NET_BRIDGE) {
                _cleanup_free_ char *path = xasprintf("/sys/class/net/%s/bridge", s->net_source);
                if (!root_is_dir(root, path))
                        problem(pr, "network.source",
                                "%s is not a bridge on this host, expected "
                                "a bridge (ip link add br0 type bridge)",
                                s->net_source);
        } else if (s->net_mode == VM_NET_MACVTAP) {
                _cleanup_free_ char *path = xasprintf("/sys/class/net/%s", s->net_source);
                if (!root_exists(root, path))
                        problem(pr, "network.source",
                                "%s is not a network interface on this "
                                "host, expected one from 'ip link'",
                                s->net_source);
        }
        p->net_source = xstrdup(s->net_source ? s->net_source : "default");
        p->nic_model = xstrdup(s->nic_model ? s->nic_model
                               : p->release ? p->release->nic_model
                                            : "virtio");
        if (s->mac)
                p->mac = ascii_strlower(xstrdup(s->mac));
        else {
                struct uuid u = { { 0 } };
                if (s->uuid)
                        (void) uuid_parse(s->uuid, &u);
                p->mac = xasprintf("52:54:00:%02x:%02x:%02x", u.b[13], u.b[14], u.b[15]);
        }

        /* PCI passthrough. */
        struct pt_item items[64];
        size_t n = 0;
        if (s->gpu_audio && !s->gpu)
                problem(pr, "passthrough.gpu_audio",
                        "set without passthrough.gpu, expected the "
                        "GPU too");
        if (s->gpu)
                items[n++] = (struct pt_item){ "passthrough.gpu", s->gpu };
        if (s->gpu && s->gpu_audio) {
                items[n++] = (struct pt_item){ "passthrough.gpu_audio", s->gpu_audio };
                if (!pci_same_slot(s->gpu, s->gpu_audio))
                        problem(pr, "passthrough.gpu_audio",
                                "%s is not a function of the GPU "
                                "%s, expected the same bus and slot",
                                s->gpu_audio, s->gpu);
        }

        const struct {
                const char *key;
                char **list;
        } lists[] = {
                { "passthrough.usb_controllers", s->usb_controllers },
                { "passthrough.nvme", s->nvme },
                { "passthrough.pci", s->pci },
        };

        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                STRV_FOREACH(b, lists[l].list)
                        if (n < ELEMENTSOF(items))
                                items[n++] = (struct pt_item){ lists[l].key, *b };
        check_passthrough(pr, s, h, items, n);
        if (s->gpu_rom) {
                _cleanup_free_ char *rom = resolve_path(p, s->gpu_rom);
                if (!s->gpu)
                        problem(pr, "passthrough.gpu_rom",
                                "set without passthrough.gpu, "
                                "expected the GPU too");
                else if (!regular_file(root, rom))
                        problem(pr, "passthrough.gpu_rom",
                                "%s does not exist, expected a VBIOS "
                                "file",
                                rom);
        }
        /* The GPU with its audio as function 1 and its other functions (USB-C, serial bus) as
         * 2, 3...: one multifunction device on one guest slot, as on the host. Every other device
         * behind its own root port. */
        p->hostdevs = xcalloc(n ? n : 1, sizeof(struct vm_hostdev));
        _cleanup_free_ bool *placed = xcalloc(n ? n : 1, sizeof(bool));
        unsigned port = 0;
        if (s->gpu) {
                port = 1;
                unsigned function = 2;
                for (size_t pass = 0; pass < 3; pass++)
                        for (size_t i = 0; i < n; i++) {
                                bool gpu = streq(items[i].key, "passthrough.gpu");
                                bool audio = streq(items[i].key, "passthrough.gpu_audio");
                                bool sibling = !gpu && !audio &&
                                               pci_same_slot(items[i].bdf, s->gpu) && function < 8;
                                if (placed[i] || !(pass == 0 ? gpu : pass == 1 ? audio : sibling))
                                        continue;
                                placed[i] = true;
                                struct vm_hostdev *d = &p->hostdevs[p->n_hostdevs++];
                                d->bdf = xstrdup(items[i].bdf);
                                d->port = port;
                                d->function = gpu ? 0 : audio ? 1 : function++;
                                if (gpu)
                                        d->rom = s->gpu_rom ? resolve_path(p, s->gpu_rom) : NULL;
                        }
                p->hostdevs[0].multifunction = p->n_hostdevs > 1;
        }
        for (size_t i = 0; i < n; i++) {
                if (placed[i])
                        continue;
                struct vm_hostdev *d = &p->hostdevs[p->n_hostdevs++];
                d->bdf = xstrdup(items[i].bdf);
                d->port = ++port;
        }

        /* USB, input, audio. */
        p->usb_host = xcalloc(1, sizeof(char *));
        STRV_FOREACH(u, s->usb_host)
                p->usb_host = strv_push(p->usb_host, *u);

        const struct {
                const char *key, *path;
                char **out;
        } evdev[] = {
                { "input.evdev_keyboard", s->evdev_keyboard, &p->evdev_keyboard },
                { "input.evdev_mouse", s->evdev_mouse, &p->evdev_mouse },
        };

        for (size_t i = 0; i < ELEMENTSOF(evdev); i++) {
                if (!evdev[i].path)
                        continue;
                if (!startswith(evdev[i].path, "/dev/input/by-id/") ||
                    !strstr(evdev[i].path, "event"))
                        problem(pr, evdev[i].key,
                                "%s is not an event node by id, expected "
                                "/dev/input/by-id/...-event-%s",
                                evdev[i].path, i == 0 ? "kbd" : "mouse");
                else if (!root_exists(root, evdev[i].path))
                        problem(pr, evdev[i].key,
                                "%s does not exist, expected one of "
                                "/dev/input/by-id/*event*",
                                evdev[i].path);
                *evdev[i].out = xstrdup(evdev[i].path);
        }
        p->grab_toggle = xstrdup(s->grab_toggle ? s->grab_toggle : "ctrl-ctrl");
        p->emulated_input = s->emulated_input == VM_AUTO ? !s->gpu : s->emulated_input == VM_YES;
        p->audio = s->audio;
        p->serial_log = o->serial_log ? xstrdup(o->serial_log) : NULL;
}

static char *dir_of(const char *path)
{
        _cleanup_free_ char *abs = NULL;
        if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                abs = xasprintf("%s/%s", cwd ? cwd : ".", path);
        } else
                abs = xstrdup(path);
        char *slash = strrchr(abs, '/');
        if (slash == abs)
                return xstrdup("/");
        *slash = 0;
        /* "./x/vm.conf" from the current directory: drop the "/." left behind. */
        size_t n = strlen(abs);
        if (n > 2 && streq(abs + n - 2, "/."))
                abs[n - 2] = 0;
        return TAKE_PTR(abs);
}

int vm_plan_build(const struct vmspec *spec, const struct host *h, const struct root *root,
                  const struct compat *c, const struct vm_options *opts, struct vm_plan **ret,
                  char ***ret_errors)
{
        static const struct vm_options no_options = { 0 };
        const struct vm_options *o = opts ? opts : &no_options;
        struct problems pr = { .spec = spec, .list = xcalloc(1, sizeof(char *)) };
        _cleanup_(vm_plan_freep) struct vm_plan *p = xcalloc(1, sizeof(*p));
        p->warnings = xcalloc(1, sizeof(char *));
        p->name = xstrdup(spec->name);
        _cleanup_free_ char *spec_dir = dir_of(spec->path ? spec->path : "vm.conf");
        const char *base = strrchr(spec->path ? spec->path : "vm.conf", '/');
        p->spec_path = xasprintf("%s/%s", streq(spec_dir, "/") ? "" : spec_dir,
                                 base         ? base + 1
                                 : spec->path ? spec->path
                                              : "vm.conf");
        p->vm_dir = TAKE_PTR(spec_dir);
        if (spec->uuid) {
                struct uuid u;
                char s[UUID_STRING_MAX];
                (void) uuid_parse(spec->uuid, &u);
                uuid_format_lower(&u, s);
                p->uuid = xstrdup(s);
        } else
                problem(&pr, "vm.uuid",
                        "missing, expected a fixed UUID (uuidgen) so that "
                        "redefining keeps the VM's identity");

        p->release = compat_macos_find(c, spec->macos, NULL);
        if (!p->release || streq(p->release->arch, "ppc")) {
                problem(&pr, "vm.macos",
                        p->release ? "'%s' is a PowerPC release, expected an Intel one (10.4 to "
                                     "26)"
                                   : "'%s' is not a known macOS release, expected 10.4 to 26 "
                                     "(darwinkvm compat macos)",
                        spec->macos);
                p->release = NULL;
        }
        p->model = xstrdup(spec->model  ? spec->model
                           : p->release ? p->release->mac_model
                                        : "MacPro7,1");
        const char *cpu = spec->cpu_model ? spec->cpu_model : cpu_for_model(c, p->model);
        p->cpu_arg = cpu_arg(cpu ? cpu : "Cascadelake-Server");
        if (p->release && !compat_isa_met(p->release->min_isa, &h->cpu) &&
            h->cpu.vendor != CPU_VENDOR_UNKNOWN)
                p->warnings = strv_consume(p->warnings,
                                           xasprintf("the host CPU lacks %s, which macOS %s needs",
                                                     p->release->min_isa, p->release->version_str));

        const char *why = NULL;
        p->kvm = !o->tcg && vm_kvm_usable(h, &why);
        if (!o->tcg && !p->kvm)
                p->warnings = strv_consume(
                        p->warnings,
                        xasprintf("KVM cannot run this guest (%s): the domain type is 'qemu' "
                                  "(TCG emulation, far too slow for macOS); see 'darwinkvm "
                                  "doctor'",
                                  why));

        plan_cpu(&pr, spec, h, root, p);

        p->memory_kib = spec->memory >> 10;
        if (!h->memory.error && h->memory.total_kib && p->memory_kib > h->memory.total_kib) {
                char want[32], have[32];
                problem(&pr, "memory.size", "%s is more than the host's %s, expected less",
                        format_bytes(spec->memory, want, sizeof(want)),
                        format_bytes(h->memory.total_kib << 10, have, sizeof(have)));
        }
        p->hugepages = spec->hugepages;
        if (spec->hugepages) {
                uint64_t have = h->memory.hugepages_total * h->memory.hugepage_kib;
                if (have < p->memory_kib) {
                        char want[32], got[32];
                        problem(&pr, "memory.hugepages",
                                "the host has %s of huge pages "
                                "reserved, expected at least %s "
                                "(vm.nr_hugepages = %" PRIu64 ")",
                                format_bytes(have << 10, got, sizeof(got)),
                                format_bytes(spec->memory, want, sizeof(want)),
                                p->memory_kib /
                                        (h->memory.hugepage_kib ? h->memory.hugepage_kib : 2048));
                }
        }

        plan_firmware(&pr, spec, h, root, p);
        plan_disks(&pr, spec, root, p);
        plan_devices(&pr, spec, h, root, o, p);

        if (strv_length(pr.list) > 0) {
                *ret_errors = pr.list;
                return -EINVAL;
        }
        strv_free(pr.list);
        *ret_errors = NULL;
        p->macos_version = xstrdup(p->release->version_str);
        p->macos_name = xstrdup(p->release->name);
        p->release = NULL;
        *ret = TAKE_PTR(p);
        return 0;
}

struct vm_plan *vm_plan_free(struct vm_plan *p)
{
        if (!p)
                return NULL;
        free(p->name);
        free(p->uuid);
        free(p->spec_path);
        free(p->vm_dir);
        free(p->model);
        free(p->macos_version);
        free(p->macos_name);
        free(p->cpu_arg);
        free(p->vcpu_pins);
        free(p->host_cpuset);
        free(p->fw_code);
        free(p->fw_vars);
        free(p->nvram);
        for (size_t i = 0; i < p->n_disks; i++)
                free(p->disks[i].path);
        free(p->net_source);
        free(p->nic_model);
        free(p->mac);
        for (size_t i = 0; i < p->n_hostdevs; i++) {
                free(p->hostdevs[i].bdf);
                free(p->hostdevs[i].rom);
        }
        free(p->hostdevs);
        strv_free(p->usb_host);
        free(p->evdev_keyboard);
        free(p->evdev_mouse);
        free(p->grab_toggle);
        free(p->serial_log);
        strv_free(p->warnings);
        free(p);
        return NULL;
}

char *vm_plan_qemu_conf_acl(const struct vm_plan *p)
{
        if (!p->evdev_keyboard && !p->evdev_mouse)
                return NULL;
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "cgroup_device_acl = [ \"/dev/null\", \"/dev/full\", \"/dev/zero\", "
                     "\"/dev/random\", \"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", "
                     "\"/dev/rtc\", \"/dev/hpet\", \"/dev/vfio/vfio\"");
        if (p->evdev_keyboard)
                buf_printf(&b, ", \"%s\"", p->evdev_keyboard);
        if (p->evdev_mouse)
                buf_printf(&b, ", \"%s\"", p->evdev_mouse);
        buf_puts(&b, " ]");
        return buf_detach(&b);
}
