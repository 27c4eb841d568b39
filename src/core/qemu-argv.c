/* SPDX-License-Identifier: MIT */
#include "qemu-argv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "strutil.h"
#include "strv.h"

#define OSK "ourhardworkbythesewordsguardedpleasedontsteal(c)AppleComputerInc"

_printf_(2, 3) static char **pushf(char **argv, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        return strv_consume(argv, s);
}

/* QEMU's option syntax doubles a comma inside a value. */
static char *qemu_escape(const char *s)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        for (; *s; s++) {
                if (*s == ',')
                        buf_putc(&b, ',');
                buf_putc(&b, *s);
        }
        return buf_detach(&b);
}

int qemu_argv_build(const struct vm_plan *p, char ***ret_argv, char **reterr)
{
        if (p->net_mode == VM_NET_NETWORK && !streq(p->net_source, "default")) {
                *reterr = xasprintf("%s: network.mode = network (%s) needs libvirt, expected "
                                    "mode user or bridge for a plain QEMU command line",
                                    p->spec_path, p->net_source);
                return -EINVAL;
        }
        if (p->net_mode == VM_NET_MACVTAP) {
                *reterr = xasprintf("%s: network.mode = macvtap needs libvirt, expected mode "
                                    "user or bridge for a plain QEMU command line",
                                    p->spec_path);
                return -EINVAL;
        }
        char **a = xcalloc(1, sizeof(char *));
        a = strv_push(a, "qemu-system-x86_64");
        a = strv_push(a, "-name");
        a = pushf(a, "%s", p->name);
        a = strv_push(a, "-uuid");
        a = strv_push(a, p->uuid);
        a = strv_push(a, "-machine");
        a = pushf(a, "q35,accel=%s", p->kvm ? "kvm" : "tcg");
        a = strv_push(a, "-nodefaults");
        a = strv_push(a, "-m");
        a = pushf(a, "%" PRIu64 "M", p->memory_kib >> 10);
        if (p->hugepages) {
                a = strv_push(a, "-mem-path");
                a = strv_push(a, "/dev/hugepages");
                a = strv_push(a, "-mem-prealloc");
        }
        a = strv_push(a, "-smp");
        a = pushf(a, "%u,sockets=1,dies=1,cores=%u,threads=2,maxcpus=%u", p->vcpus, p->cores,
                  p->max_vcpus);
        if (p->iothread) {
                a = strv_push(a, "-object");
                a = strv_push(a, "iothread,id=iothread1");
        }
        _cleanup_free_ char *code = p->fw_code ? qemu_escape(p->fw_code) : NULL;
        _cleanup_free_ char *nvram = qemu_escape(p->nvram);
        if (code) {
                a = strv_push(a, "-drive");
                a = pushf(a, "if=pflash,format=%s,unit=0,readonly=on,file=%s", p->fw_format, code);
                a = strv_push(a, "-drive");
                a = pushf(a, "if=pflash,format=%s,unit=1,file=%s", p->fw_format, nvram);
        }
        a = strv_push(a, "-rtc");
        a = strv_push(a, "base=utc,driftfix=slew");
        if (p->kvm) {
                a = strv_push(a, "-global");
                a = strv_push(a, "kvm-pit.lost_tick_policy=delay");
        }
        a = strv_push(a, "-boot");
        a = strv_push(a, "menu=on,strict=on");

        /* Disks, in boot order. */
        unsigned sata = 0;
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct vm_disk *d = &p->disks[i];
                _cleanup_free_ char *path = qemu_escape(d->path);
                a = strv_push(a, "-drive");
                a = pushf(a, "if=none,id=%s,format=%s,cache=none,aio=threads,discard=unmap,file=%s",
                          d->role, d->format, path);
                a = strv_push(a, "-device");
                if (streq(d->bus, "virtio"))
                        a = pushf(a, "virtio-blk-pci,drive=%s,bootindex=%u%s", d->role,
                                  d->boot_order, p->iothread ? ",iothread=iothread1" : "");
                else
                        a = pushf(a, "ide-hd,bus=ide.%u,drive=%s,bootindex=%u", sata++, d->role,
                                  d->boot_order);
        }

        /* Network. */
        if (p->net_mode != VM_NET_NONE) {
                a = strv_push(a, "-netdev");
                if (p->net_mode == VM_NET_BRIDGE)
                        a = pushf(a, "bridge,id=net0,br=%s", p->net_source);
                else
                        a = strv_push(a, "user,id=net0");
                a = strv_push(a, "-device");
                a = pushf(a, "%s,netdev=net0,mac=%s",
                          streq(p->nic_model, "virtio") ? "virtio-net-pci" : p->nic_model, p->mac);
        }

        /* Passed-through PCI devices, each behind its own root port; the GPU's audio as
         * function 1 of the GPU. */
        unsigned last_port = 0;
        for (size_t i = 0; i < p->n_hostdevs; i++) {
                const struct vm_hostdev *d = &p->hostdevs[i];
                if (d->port != last_port) {
                        last_port = d->port;
                        a = strv_push(a, "-device");
                        a = pushf(a, "pcie-root-port,id=rp%u,bus=pcie.0,chassis=%u", d->port,
                                  d->port);
                }
                _cleanup_free_ char *rom = d->rom ? qemu_escape(d->rom) : NULL;
                a = strv_push(a, "-device");
                a = pushf(a, "vfio-pci,host=%s,bus=rp%u,addr=00.%u%s%s%s", d->bdf, d->port,
                          d->function, d->multifunction ? ",multifunction=on" : "",
                          rom ? ",romfile=" : "", strempty(rom));
        }
        if (strv_length(p->usb_host) || p->emulated_input) {
                a = strv_push(a, "-device");
                a = strv_push(a, "qemu-xhci,id=xhci");
        }
        STRV_FOREACH(u, p->usb_host) {
                a = strv_push(a, "-device");
                a = pushf(a, "usb-host,bus=xhci.0,vendorid=0x%.4s,productid=0x%.4s", *u, *u + 5);
        }

        /* Inputs. */
        if (p->emulated_input) {
                a = strv_push(a, "-device");
                a = strv_push(a, "usb-tablet,bus=xhci.0");
                a = strv_push(a, "-device");
                a = strv_push(a, "usb-kbd,bus=xhci.0");
        }
        if (p->evdev_keyboard) {
                _cleanup_free_ char *dev = qemu_escape(p->evdev_keyboard);
                a = strv_push(a, "-object");
                a = pushf(a, "input-linux,id=kbd0,evdev=%s,grab_all=on,repeat=on,grab-toggle=%s",
                          dev, p->grab_toggle);
        }
        if (p->evdev_mouse) {
                _cleanup_free_ char *dev = qemu_escape(p->evdev_mouse);
                a = strv_push(a, "-object");
                a = pushf(a, "input-linux,id=mouse0,evdev=%s", dev);
        }

        /* Display. */
        if (p->video != VM_VIDEO_NONE) {
                a = strv_push(a, "-device");
                a = strv_push(a, p->video == VM_VIDEO_VIRTIO ? "virtio-vga" : "VGA");
        }
        a = strv_push(a, "-display");
        if (p->display == VM_DISPLAY_SPICE) {
                a = strv_push(a, "none");
                a = strv_push(a, "-spice");
                a = strv_push(a, "addr=127.0.0.1,port=5930,disable-ticketing=on");
        } else if (p->display == VM_DISPLAY_VNC)
                a = strv_push(a, "vnc=127.0.0.1:0");
        else
                a = strv_push(a, "none");

        /* Audio. */
        if (p->audio == VM_AUDIO_HDA) {
                a = strv_push(a, "-audiodev");
                a = strv_push(a, "none,id=snd0");
                a = strv_push(a, "-device");
                a = strv_push(a, "ich9-intel-hda");
                a = strv_push(a, "-device");
                a = strv_push(a, "hda-duplex,audiodev=snd0");
        }
        if (p->serial_log) {
                _cleanup_free_ char *log = qemu_escape(p->serial_log);
                a = strv_push(a, "-serial");
                a = pushf(a, "file:%s", log);
        }

        /* The guide's qemu:commandline, in its order. */
        a = strv_push(a, "-global");
        a = strv_push(a, "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off");
        a = strv_push(a, "-device");
        a = strv_push(a, "isa-applesmc,osk=" OSK);
        a = strv_push(a, "-cpu");
        a = pushf(a, "%s%s", p->cpu_arg, p->topoext ? ",+topoext" : "");
        *ret_argv = a;
        return 0;
}

int qemu_prepare_nvram(const struct vm_plan *p, const struct root *root, char **reterr)
{
        if (!p->fw_vars || access(p->nvram, F_OK) == 0)
                return 0;
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        int r = root_read_file(root, p->fw_vars, 64 << 20, &data, &n);
        if (r < 0) {
                *reterr = xasprintf("%s: cannot read the variable store template: %s", p->fw_vars,
                                    strerror(-r));
                return r;
        }
        return write_file_atomic(AT_FDCWD, p->nvram, data, n, 0600, reterr);
}
