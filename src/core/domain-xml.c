/* SPDX-License-Identifier: MIT */
#include "domain-xml.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "dlib.h"
#include "ppc.h"
#include "strutil.h"
#include "strv.h"

/*
 * libxml2 is loaded when a domain is first written or read: linked, it costs
 * every run of darwinkvm 2.8 ms at start-up.
 */
#define LIBXML2_SYMBOLS(X, T)       \
 X(T, xmlBufferContent)             \
 X(T, xmlBufferCreate)              \
 X(T, xmlBufferFree)                \
 X(T, xmlDocGetRootElement)         \
 X(T, xmlFreeDoc)                   \
 X(T, xmlFreeTextWriter)            \
 X(T, xmlNewTextWriterMemory)       \
 X(T, xmlNodeGetContent)            \
 X(T, xmlReadMemory)                \
 X(T, xmlStrEqual)                  \
 X(T, xmlTextWriterEndDocument)     \
 X(T, xmlTextWriterEndElement)      \
 X(T, xmlTextWriterSetIndent)       \
 X(T, xmlTextWriterSetIndentString) \
 X(T, xmlTextWriterStartElement)    \
 X(T, xmlTextWriterStartElementNS)  \
 X(T, xmlTextWriterWriteAttribute)  \
 X(T, xmlTextWriterWriteComment)    \
 X(T, xmlTextWriterWriteElementNS)  \
 X(T, xmlTextWriterWriteString)     \
 X(T, xmlFree)

struct libxml2_syms {
        LIBXML2_SYMBOLS(DLIB_MEMBER, _)
};
static struct libxml2_syms lx;
static struct dlib libxml2_lib =
        DLIB_INIT("libxml2", "libxml2.so.2", &lx, struct libxml2_syms, LIBXML2_SYMBOLS);

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define OSK     "ourhardworkbythesewordsguardedpleasedontsteal(c)AppleComputerInc"

/*
 * A thin layer over xmlTextWriter that remembers the first failure, so the
 * builder reads like the document it writes and checks once at the end.
 */
struct writer {
        xmlTextWriterPtr w;
        xmlBufferPtr buffer;
        bool failed;
};

static void w_check(struct writer *w, int r)
{
        if (r < 0)
                w->failed = true;
}

static void start(struct writer *w, const char *name)
{
        w_check(w, lx.xmlTextWriterStartElement(w->w, BAD_CAST name));
}

static void end(struct writer *w)
{
        w_check(w, lx.xmlTextWriterEndElement(w->w));
}

static void attr(struct writer *w, const char *name, const char *value)
{
        w_check(w, lx.xmlTextWriterWriteAttribute(w->w, BAD_CAST name, BAD_CAST value));
}

_printf_(3, 4) static void attrf(struct writer *w, const char *name, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *v = xvasprintf(fmt, ap);
        va_end(ap);
        attr(w, name, v);
}

static void text(struct writer *w, const char *s)
{
        w_check(w, lx.xmlTextWriterWriteString(w->w, BAD_CAST s));
}

/* <name attr=value ...>text</name>: @attrs is name, value pairs, NULL-terminated. */
static void elem(struct writer *w, const char *name, const char *content, ...)
{
        va_list ap;
        start(w, name);
        va_start(ap, content);
        for (const char *a; (a = va_arg(ap, const char *));)
                attr(w, a, va_arg(ap, const char *));
        va_end(ap);
        if (content)
                text(w, content);
        end(w);
}

/* An indented document in memory. Out of memory is fatal, as everywhere in darwinkvm. */
static int writer_begin(struct writer *w, char **reterr)
{
        int r = dlib_load(&libxml2_lib, reterr);
        if (r < 0)
                return r;
        *w = (struct writer){ .buffer = lx.xmlBufferCreate() };
        if (!w->buffer)
                abort();
        w->w = lx.xmlNewTextWriterMemory(w->buffer, 0);
        if (!w->w)
                abort();
        w_check(w, lx.xmlTextWriterSetIndent(w->w, 1));
        w_check(w, lx.xmlTextWriterSetIndentString(w->w, BAD_CAST "  "));
        return 0;
}

static int writer_finish(struct writer *w, const char *name, char **ret_xml, char **reterr)
{
        w_check(w, lx.xmlTextWriterEndDocument(w->w));
        lx.xmlFreeTextWriter(w->w);
        int r = 0;
        if (w->failed) {
                *reterr = xasprintf("%s: the domain XML could not be written", name);
                r = -EIO;
        } else
                *ret_xml = xstrdup((const char *) lx.xmlBufferContent(w->buffer));
        lx.xmlBufferFree(w->buffer);
        return r;
}

static void comment(struct writer *w, const char *s)
{
        /* "--" cannot appear in an XML comment (a spec path may hold one). */
        _cleanup_free_ char *safe = xstrdup(s);
        for (char *p = safe; (p = strstr(p, "--"));)
                p[1] = '=';
        w_check(w, lx.xmlTextWriterWriteComment(w->w, BAD_CAST safe));
}

static void write_metadata(struct writer *w, const struct vm_plan *p)
{
        start(w, "metadata");
        w_check(w, lx.xmlTextWriterStartElementNS(w->w, BAD_CAST DOMAIN_XML_NS_PREFIX,
                                                  BAD_CAST "vm", BAD_CAST DOMAIN_XML_NS));

        const struct {
                const char *name, *value;
        } items[] = {
                { "spec", p->spec_path },
                { "macos", p->macos_version },
                { "model", p->model },
        };

        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (items[i].value)
                        w_check(w, lx.xmlTextWriterWriteElementNS(
                                           w->w, BAD_CAST DOMAIN_XML_NS_PREFIX,
                                           BAD_CAST items[i].name, NULL, BAD_CAST items[i].value));
        end(w);
        end(w);
}

static void write_cpu_section(struct writer *w, const struct vm_plan *p)
{
        char buf[32];
        start(w, "vcpu");
        attr(w, "placement", "static");
        if (p->vcpus < p->max_vcpus)
                attrf(w, "current", "%u", p->vcpus);
        snprintf(buf, sizeof(buf), "%u", p->max_vcpus);
        text(w, buf);
        end(w);
        if (p->vcpus < p->max_vcpus) {
                /* Fake core count: the whole power-of-two topology, only some of it enabled. */
                start(w, "vcpus");
                for (unsigned i = 0; i < p->max_vcpus; i++) {
                        start(w, "vcpu");
                        attrf(w, "id", "%u", i);
                        attr(w, "enabled", i < p->vcpus ? "yes" : "no");
                        attr(w, "hotpluggable", i == 0 ? "no" : "yes");
                        if (i < p->vcpus)
                                attrf(w, "order", "%u", i + 1);
                        end(w);
                }
                end(w);
        }
        if (p->iothread)
                elem(w, "iothreads", "1", NULL);
        if (p->pin) {
                start(w, "cputune");
                for (unsigned i = 0; i < p->vcpus; i++) {
                        start(w, "vcpupin");
                        attrf(w, "vcpu", "%u", i);
                        attrf(w, "cpuset", "%d", p->vcpu_pins[i]);
                        end(w);
                }
                elem(w, "emulatorpin", NULL, "cpuset", p->host_cpuset, NULL);
                if (p->iothread)
                        elem(w, "iothreadpin", NULL, "iothread", "1", "cpuset", p->host_cpuset,
                             NULL);
                end(w);
        }
}

static void write_os(struct writer *w, const struct vm_plan *p)
{
        start(w, "os");
        elem(w, "type", "hvm", "arch", "x86_64", "machine", "q35", NULL);
        /* An explicit loader, never <os firmware='efi'> alone: libvirt would pick a Secure Boot
         * build with Microsoft's keys enrolled, which refuses unsigned OpenCore. */
        if (p->fw_code) {
                start(w, "loader");
                attr(w, "readonly", "yes");
                attr(w, "secure", "no");
                attr(w, "type", "pflash");
                if (!streq(p->fw_format, "raw"))
                        attr(w, "format", p->fw_format);
                text(w, p->fw_code);
                end(w);
        }
        if (p->fw_vars) {
                start(w, "nvram");
                attr(w, "template", p->fw_vars);
                if (!streq(p->fw_format, "raw"))
                        attr(w, "format", p->fw_format);
                text(w, p->nvram);
                end(w);
        }
        elem(w, "bootmenu", NULL, "enable", "yes", NULL);
        end(w);
        start(w, "features");
        elem(w, "acpi", NULL, NULL);
        elem(w, "apic", NULL, NULL);
        end(w);
}

static void write_cpu(struct writer *w, const struct vm_plan *p)
{
        start(w, "cpu");
        if (p->kvm) {
                attr(w, "mode", "host-passthrough");
                attr(w, "check", "none");
                attr(w, "migratable", "on");
        } else {
                /* TCG cannot pass the host CPU through; the -cpu argument below sets the model. */
                attr(w, "mode", "custom");
                attr(w, "match", "exact");
                attr(w, "check", "none");
                elem(w, "model", "qemu64", "fallback", "allow", NULL);
        }
        start(w, "topology");
        attr(w, "sockets", "1");
        attr(w, "dies", "1");
        attrf(w, "cores", "%u", p->cores);
        attr(w, "threads", "2");
        end(w);
        if (p->kvm)
                elem(w, "cache", NULL, "mode", "passthrough", NULL);
        if (p->topoext)
                elem(w, "feature", NULL, "policy", "require", "name", "topoext", NULL);
        end(w);

        start(w, "clock");
        attr(w, "offset", "utc");
        elem(w, "timer", NULL, "name", "rtc", "tickpolicy", "catchup", NULL);
        if (p->kvm)
                elem(w, "timer", NULL, "name", "pit", "tickpolicy", "delay", NULL);
        elem(w, "timer", NULL, "name", "hpet", "present", "yes", NULL);
        if (p->kvm)
                elem(w, "timer", NULL, "name", "tsc", "present", "yes", "mode", "native", NULL);
        end(w);
        elem(w, "on_poweroff", "destroy", NULL);
        elem(w, "on_reboot", "restart", NULL);
        elem(w, "on_crash", "restart", NULL);
}

static void write_disks(struct writer *w, const struct vm_plan *p)
{
        unsigned n_virtio = 0, n_sata = 0;
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct vm_disk *d = &p->disks[i];
                bool virtio = streq(d->bus, "virtio");
                char dev[8];
                snprintf(dev, sizeof(dev), "%s%c", virtio ? "vd" : "sd",
                         'a' + (virtio ? n_virtio++ : n_sata++));
                _cleanup_free_ char *c = xasprintf(" %s ", d->role);
                comment(w, c);
                start(w, "disk");
                attr(w, "type", "file");
                attr(w, "device", "disk");
                start(w, "driver");
                attr(w, "name", "qemu");
                attr(w, "type", d->format);
                attr(w, "cache", "none");
                attr(w, "discard", "unmap");
                /* The I/O thread the write-up creates but never attaches. */
                if (virtio && p->iothread)
                        attr(w, "iothread", "1");
                end(w);
                elem(w, "source", NULL, "file", d->path, NULL);
                elem(w, "target", NULL, "dev", dev, "bus", d->bus, NULL);
                char order[16];
                snprintf(order, sizeof(order), "%u", d->boot_order);
                elem(w, "boot", NULL, "order", order, NULL);
                if (d->readonly)
                        elem(w, "readonly", NULL, NULL);
                end(w);
        }
}

static void write_interface(struct writer *w, const struct vm_plan *p)
{
        if (p->net_mode == VM_NET_NONE)
                return;
        start(w, "interface");
        switch (p->net_mode) {
        case VM_NET_USER:
                attr(w, "type", "user");
                break;
        case VM_NET_NETWORK:
                attr(w, "type", "network");
                elem(w, "source", NULL, "network", p->net_source, NULL);
                break;
        case VM_NET_BRIDGE:
                attr(w, "type", "bridge");
                elem(w, "source", NULL, "bridge", p->net_source, NULL);
                break;
        case VM_NET_MACVTAP:
                attr(w, "type", "direct");
                elem(w, "source", NULL, "dev", p->net_source, "mode", "bridge", NULL);
                break;
        case VM_NET_NONE:
                break;
        }
        elem(w, "mac", NULL, "address", p->mac, NULL);
        elem(w, "model", NULL, "type", p->nic_model, NULL);
        end(w);
}

static void pci_address(struct writer *w, const char *bdf)
{
        unsigned domain, bus, slot, fn;
        if (sscanf(bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
                w->failed = true;
        start(w, "address");
        attrf(w, "domain", "0x%04x", domain);
        attrf(w, "bus", "0x%02x", bus);
        attrf(w, "slot", "0x%02x", slot);
        attrf(w, "function", "0x%x", fn);
        end(w);
}

static void write_hostdevs(struct writer *w, const struct vm_plan *p)
{
        if (p->n_hostdevs)
                elem(w, "controller", NULL, "type", "pci", "index", "0", "model", "pcie-root",
                     NULL);
        unsigned last_port = 0;
        for (size_t i = 0; i < p->n_hostdevs; i++)
                if (p->hostdevs[i].port != last_port) {
                        last_port = p->hostdevs[i].port;
                        start(w, "controller");
                        attr(w, "type", "pci");
                        attrf(w, "index", "%u", last_port);
                        attr(w, "model", "pcie-root-port");
                        end(w);
                }
        for (size_t i = 0; i < p->n_hostdevs; i++) {
                const struct vm_hostdev *d = &p->hostdevs[i];
                start(w, "hostdev");
                attr(w, "mode", "subsystem");
                attr(w, "type", "pci");
                attr(w, "managed", "yes");
                start(w, "source");
                pci_address(w, d->bdf);
                end(w);
                if (d->rom)
                        elem(w, "rom", NULL, "file", d->rom, NULL);
                /* The GPU's audio as function 1 of the GPU's guest slot: HDMI/DP audio needs
                 * them to be one multifunction device. */
                start(w, "address");
                attr(w, "type", "pci");
                attr(w, "domain", "0x0000");
                attrf(w, "bus", "0x%02x", d->port);
                attr(w, "slot", "0x00");
                attrf(w, "function", "0x%x", d->function);
                if (d->multifunction)
                        attr(w, "multifunction", "on");
                end(w);
                end(w);
        }
        STRV_FOREACH(u, p->usb_host) {
                char vid[8], pid[8];
                snprintf(vid, sizeof(vid), "0x%.4s", *u);
                snprintf(pid, sizeof(pid), "0x%.4s", *u + 5);
                start(w, "hostdev");
                attr(w, "mode", "subsystem");
                attr(w, "type", "usb");
                attr(w, "managed", "yes");
                start(w, "source");
                elem(w, "vendor", NULL, "id", vid, NULL);
                elem(w, "product", NULL, "id", pid, NULL);
                end(w);
                end(w);
        }
}

static void write_inputs_and_display(struct writer *w, const struct vm_plan *p)
{
        if (p->evdev_keyboard) {
                start(w, "input");
                attr(w, "type", "evdev");
                elem(w, "source", NULL, "dev", p->evdev_keyboard, "grab", "all", "grabToggle",
                     p->grab_toggle, "repeat", "on", NULL);
                end(w);
        }
        if (p->evdev_mouse) {
                start(w, "input");
                attr(w, "type", "evdev");
                elem(w, "source", NULL, "dev", p->evdev_mouse, NULL);
                end(w);
        }
        if (p->display == VM_DISPLAY_SPICE) {
                start(w, "graphics");
                attr(w, "type", "spice");
                elem(w, "listen", NULL, "type", "none", NULL);
                end(w);
        } else if (p->display == VM_DISPLAY_VNC) {
                start(w, "graphics");
                attr(w, "type", "vnc");
                attr(w, "port", "-1");
                attr(w, "autoport", "yes");
                elem(w, "listen", NULL, "type", "address", "address", "127.0.0.1", NULL);
                end(w);
        }
        start(w, "video");
        elem(w, "model", NULL, "type",
             p->video == VM_VIDEO_VIRTIO ? "virtio"
             : p->video == VM_VIDEO_VGA  ? "vga"
                                         : "none",
             NULL);
        end(w);
        if (p->audio == VM_AUDIO_HDA)
                elem(w, "sound", NULL, "model", "ich9", NULL);
}

static void write_devices(struct writer *w, const struct vm_plan *p)
{
        start(w, "devices");
        elem(w, "emulator", "/usr/bin/qemu-system-x86_64", NULL);
        write_disks(w, p);
        write_interface(w, p);
        write_hostdevs(w, p);
        write_inputs_and_display(w, p);
        start(w, "serial");
        if (p->serial_log) {
                attr(w, "type", "file");
                elem(w, "source", NULL, "path", p->serial_log, NULL);
        } else
                attr(w, "type", "pty");
        elem(w, "target", NULL, "port", "0", NULL);
        end(w);
        /* The guide's itco watchdog (action none) needs libvirt 9.1; the ICH9 chipset has its
         * TCO timer anyway, and QEMU's default for it is the same: no reboot. */
        elem(w, "memballoon", NULL, "model", "none", NULL);
        end(w);
}

static void write_commandline(struct writer *w, const struct vm_plan *p)
{
        _cleanup_strv_free_ char **args = xcalloc(1, sizeof(char *));
        args = strv_push(args, "-global");
        args = strv_push(args, "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off");
        args = strv_push(args, "-device");
        args = strv_push(args, "isa-applesmc,osk=" OSK);
        if (p->emulated_input) {
                args = strv_push(args, "-usb");
                args = strv_push(args, "-device");
                args = strv_push(args, "usb-tablet");
                args = strv_push(args, "-device");
                args = strv_push(args, "usb-kbd");
        }
        args = strv_push(args, "-cpu");
        args = strv_push(args, p->cpu_arg);
        w_check(w, lx.xmlTextWriterStartElementNS(w->w, BAD_CAST "qemu", BAD_CAST "commandline",
                                                  NULL));
        STRV_FOREACH(a, args) {
                w_check(w, lx.xmlTextWriterStartElementNS(w->w, BAD_CAST "qemu", BAD_CAST "arg",
                                                          NULL));
                attr(w, "value", *a);
                end(w);
        }
        end(w);
}

int domain_xml_build(const struct vm_plan *p, char **ret_xml, char **reterr)
{
        struct writer wr, *w = &wr;
        if (writer_begin(w, reterr) < 0)
                return -ENOENT;

        start(w, "domain");
        attr(w, "type", p->kvm ? "kvm" : "qemu");
        attr(w, "xmlns:qemu", QEMU_NS);
        _cleanup_free_ char *head =
                xasprintf(" Generated by darwinkvm from %s: edit that file and run 'darwinkvm "
                          "vm define', not this XML. ",
                          p->spec_path);
        comment(w, head);
        elem(w, "name", p->name, NULL);
        elem(w, "uuid", p->uuid, NULL);
        _cleanup_free_ char *title =
                xasprintf("macOS %s %s (%s)", p->macos_version, p->macos_name, p->model);
        elem(w, "title", title, NULL);
        write_metadata(w, p);
        char kib[32];
        snprintf(kib, sizeof(kib), "%" PRIu64, p->memory_kib);
        elem(w, "memory", kib, "unit", "KiB", NULL);
        elem(w, "currentMemory", kib, "unit", "KiB", NULL);
        start(w, "memoryBacking");
        if (p->hugepages)
                elem(w, "hugepages", NULL, NULL);
        elem(w, "nosharepages", NULL, NULL);
        end(w);
        write_cpu_section(w, p);
        write_os(w, p);
        write_cpu(w, p);
        write_devices(w, p);
        write_commandline(w, p);
        end(w);
        return writer_finish(w, p->name, ret_xml, reterr);
}

char *domain_xml_metadata_spec(const char *xml)
{
        _cleanup_free_ char *err = NULL;
        if (dlib_load(&libxml2_lib, &err) < 0)
                return NULL;
        xmlDocPtr doc = lx.xmlReadMemory(xml, (int) strlen(xml), "metadata.xml", NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return NULL;
        char *spec = NULL;
        xmlNodePtr root = lx.xmlDocGetRootElement(doc);
        for (xmlNodePtr n = root ? root->children : NULL; n && !spec; n = n->next)
                if (n->type == XML_ELEMENT_NODE && lx.xmlStrEqual(n->name, BAD_CAST "spec")) {
                        xmlChar *content = lx.xmlNodeGetContent(n);
                        if (content)
                                spec = xstrdup((const char *) content);
                        (*lx.xmlFree)(content);
                }
        lx.xmlFreeDoc(doc);
        return spec;
}

int domain_xml_build_ppc(const struct ppc_guest *g, char **ret_xml, char **reterr)
{
        struct writer wr, *w = &wr;
        if (writer_begin(w, reterr) < 0)
                return -ENOENT;
        start(w, "domain");
        /* No KVM for PowerPC guests on x86 hosts. */
        attr(w, "type", "qemu");
        attr(w, "xmlns:qemu", QEMU_NS);
        comment(w, " Generated by darwinkvm new (a PowerPC guest) ");
        elem(w, "name", g->name, NULL);
        elem(w, "uuid", g->uuid, NULL);
        _cleanup_free_ char *title = xasprintf("Mac OS X %s %s (PowerMac3,1, mac99)",
                                               g->release->version, g->release->name);
        elem(w, "title", title, NULL);
        char mib[32];
        snprintf(mib, sizeof(mib), "%u", g->memory_mib ? g->memory_mib : 2048);
        elem(w, "memory", mib, "unit", "MiB", NULL);
        elem(w, "vcpu", "1", "placement", "static", NULL);
        start(w, "os");
        elem(w, "type", "hvm", "arch", "ppc", "machine", "mac99", NULL);
        end(w);
        elem(w, "clock", NULL, "offset", "utc", NULL);
        elem(w, "on_poweroff", "destroy", NULL);
        elem(w, "on_reboot", "restart", NULL);
        elem(w, "on_crash", "destroy", NULL);
        start(w, "devices");
        elem(w, "emulator", "/usr/bin/qemu-system-ppc", NULL);
        start(w, "graphics");
        attr(w, "type", "spice");
        elem(w, "listen", NULL, "type", "none", NULL);
        end(w);
        /* Model "none": the VGA with EDID is one of the QEMU arguments below. */
        start(w, "video");
        elem(w, "model", NULL, "type", "none", NULL);
        end(w);
        end(w);
        start(w, "qemu:commandline");
        /* The launcher's argv after the parts libvirt sets itself (name, uuid, memory, smp). */
        char **argv = ppc_qemu_argv(g);
        bool skip = false;
        for (size_t i = 1; argv[i]; i++) {
                const char *a = argv[i];
                if (skip) {
                        skip = false;
                        continue;
                }
                if (streq(a, "-name") || streq(a, "-uuid") || streq(a, "-m") || streq(a, "-smp") ||
                    streq(a, "-accel") || streq(a, "-rtc")) {
                        skip = true;
                        continue;
                }
                if (streq(a, "-no-user-config") || streq(a, "-nodefaults"))
                        continue;
                if (streq(a, "-machine") && argv[i + 1]) {
                        /* libvirt says mac99; the release's options merge into it. */
                        const char *opts = startswith(argv[i + 1], "mac99,");
                        i++;
                        if (!opts)
                                continue;
                        elem(w, "qemu:arg", NULL, "value", "-machine", NULL);
                        elem(w, "qemu:arg", NULL, "value", opts, NULL);
                        continue;
                }
                elem(w, "qemu:arg", NULL, "value", a, NULL);
        }
        strv_free(argv);
        end(w);
        end(w);
        return writer_finish(w, g->name, ret_xml, reterr);
}
