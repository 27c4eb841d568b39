/* SPDX-License-Identifier: MIT */
#include "doctor.h"

#include <stdarg.h>

#include "alloc.h"
#include "buf.h"
#include "macos.h"
#include "strutil.h"
#include "strv.h"

const char *check_status_to_string(enum check_status s)
{
        static const char *const names[CHECK_STATUS_COUNT] = {
                [CHECK_OK] = "ok",
                [CHECK_WARN] = "warn",
                [CHECK_FAIL] = "fail",
                [CHECK_UNKNOWN] = "unknown",
        };
        return s < CHECK_STATUS_COUNT ? names[s] : "unknown";
}

const char *passthrough_mode_to_string(enum passthrough_mode m)
{
        switch (m) {
        case PASSTHROUGH_SINGLE:
                return "single-gpu";
        case PASSTHROUGH_DUAL:
                return "dual-gpu";
        default:
                return "none";
        }
}

struct ctx {
        const struct host *h;
        const struct compat *c;
        struct pci_names *names;
        struct doctor_report *r;
        size_t cap;
};

/* Adds a check, taking ownership of the strings. @why and @fix may be NULL. */
static struct check_result *add(struct ctx *x, const char *id, enum check_status s, char *found,
                                char *why, char *fix)
{
        GROW(x->r->checks, x->cap, x->r->n_checks + 1);
        struct check_result *c = &x->r->checks[x->r->n_checks++];
        *c = (struct check_result){ .id = id, .status = s, .found = found, .why = why, .fix = fix };
        return c;
}

_printf_(1, 2) static char *f(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

char *pci_device_name(struct pci_names *names, const struct host_pci_device *d)
{
        if (!d->has_ids)
                return xstrdup("unreadable device");
        const char *vendor = names ? pci_names_vendor(names, d->vendor) : NULL;
        _cleanup_free_ char *v = vendor ? xstrdup(vendor) : NULL;
        const char *device = names ? pci_names_device(names, d->vendor, d->device) : NULL;
        if (v && device) {
                /* pci.ids vendor names are long: keep the part before any bracket or comma. */
                const char *br = strchr(v, '[');
                if (br && strchr(br, ']')) {
                        _cleanup_free_ char *inner = xstrndup(br + 1, strcspn(br + 1, "]"));
                        free(v);
                        v = TAKE_PTR(inner);
                } else
                        v[strcspn(v, ",")] = 0;
                return xasprintf("%s %s", v, device);
        }
        return xasprintf("%04x:%04x", d->vendor, d->device);
}

uint64_t doctor_default_guest_ram_mib(uint64_t total_kib)
{
        uint64_t quarter_mib = total_kib / 4 / 1024;
        uint64_t best = 1024;
        for (uint64_t g = 1024; g <= (1ull << 30); g *= 2) {
                uint64_t d_best = best > quarter_mib ? best - quarter_mib : quarter_mib - best;
                uint64_t d_g = g > quarter_mib ? g - quarter_mib : quarter_mib - g;
                if (d_g < d_best)
                        best = g;
        }
        /* macOS installs need 4 GiB; give that much when the host keeps at least as much. */
        if (best < 4096 && total_kib / 1024 >= 8192 - 512)
                best = 4096;
        return best;
}

/* ---------------- CPU ---------------- */

static void check_cpu(struct ctx *x)
{
        const struct host_cpu *cpu = &x->h->cpu;
        if (cpu->error) {
                add(x, "cpu.vendor", CHECK_UNKNOWN, xstrdup(cpu->error), NULL, NULL);
                add(x, "cpu.virtualization", CHECK_UNKNOWN, xstrdup(cpu->error), NULL, NULL);
                add(x, "cpu.instructions", CHECK_UNKNOWN, xstrdup(cpu->error), NULL, NULL);
                return;
        }
        _cleanup_free_ char *sockets = cpu->sockets > 1 ? f(", %u sockets", cpu->sockets) : NULL;
        char *found = f("%s (%s, %u core%s, %u thread%s%s)", cpu->model_name, cpu->vendor_id,
                        cpu->cores, cpu->cores == 1 ? "" : "s", cpu->logical,
                        cpu->logical == 1 ? "" : "s", strempty(sockets));
        if (cpu->vendor == CPU_VENDOR_OTHER)
                add(x, "cpu.vendor", CHECK_FAIL, found,
                    xstrdup("macOS guests need an Intel or AMD x86-64 CPU (AMD hosts present an "
                            "Intel CPUID to the guest)"),
                    xstrdup("use an Intel or AMD x86-64 host"));
        else
                add(x, "cpu.vendor", CHECK_OK, found, NULL, NULL);

        bool vmx = host_cpu_has(cpu, "vmx"), svm = host_cpu_has(cpu, "svm");
        bool hypervisor = host_cpu_has(cpu, "hypervisor");
        if (vmx || svm)
                add(x, "cpu.virtualization", CHECK_OK,
                    f("%s (%s) present", vmx ? "VT-x" : "AMD-V", vmx ? "vmx" : "svm"), NULL, NULL);
        else if (hypervisor)
                add(x, "cpu.virtualization", CHECK_FAIL,
                    xstrdup("no vmx/svm flag: this host is itself a virtual machine without "
                            "nested virtualization exposed"),
                    xstrdup("KVM needs hardware virtualization; without it guests run under TCG "
                            "emulation, far too slow for macOS"),
                    xstrdup("enable nested virtualization on the outer hypervisor, or run "
                            "darwinkvm on the physical machine"));
        else
                add(x, "cpu.virtualization", CHECK_FAIL,
                    f("no %s flag in /proc/cpuinfo", cpu->vendor == CPU_VENDOR_AMD ? "svm" : "vmx"),
                    xstrdup("KVM needs hardware virtualization"),
                    f("enable %s in the firmware (BIOS/UEFI) setup, then reboot",
                      cpu->vendor == CPU_VENDOR_AMD ? "SVM Mode" : "Intel VT-x"));

        static const struct {
                const char *flag, *label;
        } isa[] = { { "sse4_1", "SSE4.1" }, { "sse4_2", "SSE4.2" }, { "avx2", "AVX2" } };
        _cleanup_buf_ struct buf present = BUF_INIT, missing = BUF_INIT;
        for (size_t i = 0; i < ELEMENTSOF(isa); i++) {
                struct buf *b = host_cpu_has(cpu, isa[i].flag) ? &present : &missing;
                buf_printf(b, "%s%s", b->len ? ", " : "", isa[i].label);
        }
        const struct macos_release *newest = compat_macos_newest_for_cpu(x->c, cpu);
        char ver[16];
        if (!newest) {
                add(x, "cpu.instructions", CHECK_FAIL,
                    f("missing %s; not even SSE3", buf_str(&missing)),
                    xstrdup("every x86 macOS release needs at least SSE3"),
                    xstrdup("use a newer CPU"));
                return;
        }
        char *found_isa =
                missing.len
                        ? f("has %s; lacks %s: newest macOS %s (%s)",
                            present.len ? buf_str(&present) : "none of SSE4.1/SSE4.2/AVX2",
                            buf_str(&missing),
                            macos_version_format(newest->version, ver, sizeof(ver)), newest->name)
                        : f("SSE4.1, SSE4.2, AVX2: every macOS up to %s (%s)",
                            macos_version_format(newest->version, ver, sizeof(ver)), newest->name);
        if (host_cpu_has(cpu, "avx2"))
                add(x, "cpu.instructions", CHECK_OK, found_isa, NULL, NULL);
        else
                add(x, "cpu.instructions", CHECK_WARN, found_isa,
                    xstrdup("macOS 13 Ventura and later need AVX2 (CryptexFixup only gets them "
                            "to boot; AMD GPU acceleration still needs AVX2)"),
                    f("install macOS %s or older, or use a CPU with AVX2 (Intel Haswell, AMD "
                      "Excavator or newer)",
                      macos_version_format(newest->version, ver, sizeof(ver))));
}

/* ---------------- KVM ---------------- */

static void check_kvm(struct ctx *x)
{
        const struct host_kvm *k = &x->h->kvm;
        const struct host_cpu *cpu = &x->h->cpu;
        const char *mod = cpu->vendor == CPU_VENDOR_AMD     ? "kvm_amd"
                          : cpu->vendor == CPU_VENDOR_INTEL ? "kvm_intel"
                                                            : "kvm_intel (or kvm_amd)";
        if (!k->dev_present)
                add(x, "kvm.device", CHECK_FAIL, xstrdup("/dev/kvm does not exist"),
                    xstrdup("without KVM, QEMU emulates the CPU (TCG): macOS would be unusably "
                            "slow"),
                    k->mod_kvm
                            ? f("load the vendor module: modprobe %s", mod)
                            : f("enable virtualization in the firmware, then: modprobe %s", mod));
        else if (!k->dev_usable)
                add(x, "kvm.device", CHECK_WARN, f("/dev/kvm exists but %s", k->dev_error),
                    xstrdup("QEMU (or libvirt's qemu user) must open /dev/kvm read-write"),
                    xstrdup("add the user to the kvm group (usermod -aG kvm USER) and make sure "
                            "/dev/kvm is root:kvm mode 0660"));
        else
                add(x, "kvm.device", CHECK_OK, xstrdup("/dev/kvm present and usable"), NULL, NULL);

        if (k->mod_pvm)
                add(x, "kvm.nested", CHECK_FAIL,
                    xstrdup("KVM is provided by kvm_pvm (software nested virtualization)"),
                    xstrdup("PVM cannot run OVMF (it does not emulate the x87 init OVMF runs), "
                            "so no UEFI guest, and no macOS, can use KVM here; guests fall back "
                            "to TCG emulation"),
                    xstrdup("run on a physical host, or accept TCG emulation for tests only"));
        else if (cpu->error)
                add(x, "kvm.nested", CHECK_UNKNOWN,
                    f("cannot tell whether this host is a VM: %s", cpu->error), NULL, NULL);
        else if (host_cpu_has(cpu, "hypervisor"))
                add(x, "kvm.nested", CHECK_WARN,
                    xstrdup("this host is itself a virtual machine (nested KVM)"),
                    xstrdup("nested KVM works but is slower, and GPU passthrough needs the outer "
                            "hypervisor to pass the GPU and a vIOMMU first"),
                    xstrdup("run darwinkvm on the physical machine for GPU passthrough"));
        else if (k->mod_kvm)
                add(x, "kvm.nested", CHECK_OK,
                    f("bare metal (no hypervisor flag); %s nested=%s", mod,
                      k->nested == TRI_YES  ? "on"
                      : k->nested == TRI_NO ? "off"
                                            : "unknown"),
                    NULL, NULL);
        else
                add(x, "kvm.nested", CHECK_OK, xstrdup("bare metal (no hypervisor flag)"), NULL,
                    NULL);

        if (k->ignore_msrs == TRI_YES)
                add(x, "kvm.ignore_msrs", CHECK_OK, xstrdup("kvm.ignore_msrs=Y"), NULL, NULL);
        else if (k->ignore_msrs == TRI_NO)
                add(x, "kvm.ignore_msrs", CHECK_WARN, xstrdup("kvm.ignore_msrs=N"),
                    xstrdup("macOS reads model-specific registers KVM does not emulate; without "
                            "ignore_msrs the guest can crash or hang at boot"),
                    xstrdup("echo 'options kvm ignore_msrs=1 report_ignored_msrs=0' > "
                            "/etc/modprobe.d/kvm.conf, then reboot (or echo 1 > "
                            "/sys/module/kvm/parameters/ignore_msrs for now)"));
        else
                add(x, "kvm.ignore_msrs", CHECK_UNKNOWN,
                    xstrdup(k->mod_kvm ? "cannot read /sys/module/kvm/parameters/ignore_msrs"
                                       : "the kvm module is not loaded"),
                    NULL, NULL);
}

/* ---------------- memory, firmware ---------------- */

static void check_memory(struct ctx *x)
{
        const struct host_memory *m = &x->h->memory;
        if (m->error) {
                add(x, "memory.size", CHECK_UNKNOWN, xstrdup(m->error), NULL, NULL);
                return;
        }
        uint64_t guest = doctor_default_guest_ram_mib(m->total_kib);
        x->r->guest_ram_mib = guest;
        char host_s[32];
        format_bytes(m->total_kib * 1024, host_s, sizeof(host_s));
        char *found = f("%s of RAM; default guest RAM %llu GiB (a quarter, rounded to a power of "
                        "two)",
                        host_s, (unsigned long long) guest / 1024);
        if (m->total_kib < 6ull * 1024 * 1024)
                add(x, "memory.size", CHECK_FAIL, found,
                    xstrdup("macOS needs at least 4 GiB and the host needs its own share"),
                    xstrdup("add RAM: 8 GiB is the least for a usable guest, 16 GiB or more is "
                            "comfortable"));
        else if (m->total_kib < 15ull * 1024 * 1024)
                add(x, "memory.size", CHECK_WARN, found,
                    xstrdup("a 4 GiB guest installs but feels tight"),
                    xstrdup("16 GiB of host RAM or more gives the guest 4-8 GiB comfortably"));
        else
                add(x, "memory.size", CHECK_OK, found, NULL, NULL);
}

static void check_boot_firmware(struct ctx *x)
{
        if (x->h->system.uefi)
                add(x, "host.uefi", CHECK_OK, xstrdup("booted in UEFI mode (/sys/firmware/efi)"),
                    NULL, NULL);
        else
                add(x, "host.uefi", CHECK_WARN,
                    xstrdup("booted in legacy BIOS mode (no /sys/firmware/efi)"),
                    xstrdup("GPU passthrough works best on a UEFI-booted host: the GPU's UEFI "
                            "GOP is initialised and efifb can be released cleanly"),
                    xstrdup("switch the firmware to UEFI boot (CSM off) and reinstall the "
                            "bootloader in UEFI mode"));
        int ct = x->h->system.chassis_type;
        /* SMBIOS chassis types 8-10, 14 and 31-32 are portables. */
        if (ct == 8 || ct == 9 || ct == 10 || ct == 14 || ct == 31 || ct == 32)
                add(x, "host.chassis", CHECK_WARN, f("SMBIOS chassis type %d: a laptop", ct),
                    xstrdup("laptops are not eligible: their dGPU is usually wired through the "
                            "iGPU (no MUX) and cannot drive a display for the guest"),
                    xstrdup("use a desktop with a dedicated PCIe GPU"));
}

static void check_ovmf(struct ctx *x)
{
        const struct host_firmware *fw = &x->h->firmware;
        if (!fw->code) {
                add(x, "firmware.ovmf", CHECK_FAIL,
                    xstrdup("no usable x86_64 UEFI firmware (OVMF) for q35"),
                    xstrdup("macOS guests boot OpenCore on UEFI firmware"),
                    xstrdup("install OVMF (Debian/Ubuntu: ovmf; Fedora: edk2-ovmf; Arch: "
                            "edk2-ovmf)"));
                return;
        }
        char *found = fw->descriptor
                              ? f("%s + %s (%sfrom %s)", fw->code, fw->vars,
                                  streq(fw->format, "raw") ? "" : "qcow2 images; ", fw->descriptor)
                              : f("%s + %s (from the distribution path list; QEMU ships "
                                  "no usable firmware descriptor)",
                                  fw->code, fw->vars);
        if (fw->secure_boot)
                add(x, "firmware.ovmf", CHECK_WARN, found,
                    xstrdup("only a Secure Boot build was found; it needs SMM and may refuse "
                            "unsigned OpenCore once keys are enrolled"),
                    xstrdup("install the plain (non-secboot) OVMF build"));
        else
                add(x, "firmware.ovmf", CHECK_OK, found, NULL, NULL);
}

/* ---------------- IOMMU, vfio, bootloader, kernel parameters ---------------- */

static void check_iommu(struct ctx *x)
{
        const struct host *h = x->h;
        const struct host_system *s = &h->system;
        bool intel = h->cpu.vendor == CPU_VENDOR_INTEL;
        bool firmware = intel ? s->acpi_dmar : s->acpi_ivrs;
        const char *table = intel ? "DMAR" : "IVRS";
        const char *tech = intel ? "VT-d" : "AMD-Vi (IOMMU)";
        size_t units = strv_length(s->iommu_units);
        if (h->pci.n_groups > 0) {
                _cleanup_free_ char *u = strv_join(s->iommu_units, ", ");
                add(x, "iommu.enabled", CHECK_OK,
                    f("%zu IOMMU groups; units: %s%s%s%s", h->pci.n_groups,
                      units ? u : "none listed", firmware ? "; ACPI " : "", firmware ? table : "",
                      firmware ? " table present" : ""),
                    NULL, NULL);
        } else if (h->pci.groups_error && !firmware && units == 0)
                add(x, "iommu.enabled", CHECK_UNKNOWN, xstrdup(h->pci.groups_error), NULL, NULL);
        else {
                const char *arg = host_cmdline_get(h, "intel_iommu");
                bool cmd_on =
                        arg && (streq(arg, "intel_iommu=on") || startswith(arg, "intel_iommu=on,"));
                if (!firmware && host_cpu_has(&h->cpu, "hypervisor"))
                        add(x, "iommu.enabled", CHECK_FAIL,
                            xstrdup("no IOMMU groups: this host is a VM without a virtual IOMMU"),
                            xstrdup("GPU passthrough (VFIO) needs an active IOMMU"),
                            xstrdup("give the VM a virtual IOMMU and the GPU on the outer "
                                    "hypervisor, or run darwinkvm on the physical machine"));
                else if (!firmware)
                        add(x, "iommu.enabled", CHECK_FAIL,
                            f("no IOMMU groups and no ACPI %s table: %s is off in the firmware",
                              table, tech),
                            xstrdup("GPU passthrough (VFIO) needs an active IOMMU"),
                            f("enable %s in the firmware setup%s, then reboot", tech,
                              intel && !cmd_on ? " and add intel_iommu=on to the kernel command "
                                                 "line"
                                               : ""));
                else
                        add(x, "iommu.enabled", CHECK_FAIL,
                            f("ACPI %s table present but no IOMMU groups: the kernel did not "
                              "enable the IOMMU",
                              table),
                            xstrdup("GPU passthrough (VFIO) needs an active IOMMU"),
                            intel ? xstrdup("darwinkvm host kernel-params --add intel_iommu=on "
                                            "(it regenerates the bootloader config), reboot")
                                  : xstrdup("darwinkvm host kernel-params --remove amd_iommu=off "
                                            "--remove iommu=off, reboot"));
        }
}

static void check_vfio(struct ctx *x)
{
        const struct host *h = x->h;
        static const char *const mods[] = { "vfio", "vfio_pci", "vfio_iommu_type1" };
        _cleanup_buf_ struct buf loaded = BUF_INIT, avail = BUF_INIT, missing = BUF_INIT;
        for (size_t i = 0; i < ELEMENTSOF(mods); i++) {
                struct buf *b = host_module_loaded(h, mods[i])      ? &loaded
                                : host_module_available(h, mods[i]) ? &avail
                                                                    : &missing;
                buf_printf(b, "%s%s", b->len ? ", " : "", mods[i]);
        }
        if (missing.len && h->modules.available_error)
                add(x, "vfio.modules", CHECK_UNKNOWN,
                    f("%s%s%s; %s", loaded.len ? "loaded: " : "", buf_str(&loaded),
                      loaded.len ? "" : "none loaded", h->modules.available_error),
                    NULL, NULL);
        else if (missing.len)
                add(x, "vfio.modules", CHECK_FAIL, f("missing: %s", buf_str(&missing)),
                    xstrdup("VFIO hands PCI devices to the guest"),
                    xstrdup("install a kernel built with VFIO (CONFIG_VFIO_PCI): every "
                            "distribution kernel has it"));
        else if (avail.len)
                add(x, "vfio.modules", CHECK_OK,
                    f("available: %s%s%s (loaded on demand by libvirt)", buf_str(&avail),
                      loaded.len ? "; loaded: " : "", buf_str(&loaded)),
                    NULL, NULL);
        else
                add(x, "vfio.modules", CHECK_OK, f("loaded: %s", buf_str(&loaded)), NULL, NULL);
}

static void check_bootloader(struct ctx *x)
{
        const struct host_system *s = &x->h->system;
        if (s->bootloader == BOOTLOADER_UNKNOWN)
                add(x, "boot.loader", CHECK_WARN,
                    xstrdup("no GRUB, systemd-boot, kernelstub or grubby configuration found"),
                    xstrdup("kernel parameters for the IOMMU and VFIO are set in the bootloader"),
                    xstrdup("add the parameters by hand to your bootloader's kernel command "
                            "line, then check /proc/cmdline after a reboot"));
        else
                add(x, "boot.loader", CHECK_OK,
                    f("%s (%s)", bootloader_to_string(s->bootloader), s->bootloader_evidence), NULL,
                    NULL);
}

static const char *regen_command(enum bootloader b)
{
        switch (b) {
        case BOOTLOADER_GRUB:
                return "add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run update-grub "
                       "(or grub-mkconfig -o /boot/grub/grub.cfg)";
        case BOOTLOADER_SYSTEMD_BOOT:
                return "append to the options line of the default entry in "
                       "/boot/loader/entries/ (or to /etc/kernel/cmdline)";
        case BOOTLOADER_KERNELSTUB:
                return "kernelstub -a 'PARAMS'";
        case BOOTLOADER_GRUBBY:
                return "grubby --update-kernel=ALL --args='PARAMS'";
        default:
                return "add to your bootloader's kernel command line";
        }
}

static void check_cmdline(struct ctx *x)
{
        const struct host *h = x->h;
        if (h->system.cmdline_error) {
                add(x, "boot.cmdline", CHECK_UNKNOWN, xstrdup(h->system.cmdline_error), NULL, NULL);
                return;
        }
        _cleanup_strv_free_ char **missing = xcalloc(1, sizeof(char *));
        STRV_FOREACH(p, x->r->needed_params) {
                _cleanup_free_ char *key = xstrndup(*p, strcspn(*p, "="));
                const char *have = host_cmdline_get(h, key);
                if (!have || !streq(have, *p))
                        missing = strv_push(missing, *p);
        }
        _cleanup_free_ char *needed = strv_join(x->r->needed_params, " ");
        if (strv_length(missing) == 0) {
                add(x, "boot.cmdline", CHECK_OK,
                    f("has the needed parameters: %s", *needed ? needed : "(none needed)"), NULL,
                    NULL);
                return;
        }
        _cleanup_free_ char *m = strv_join(missing, " ");
        const char *how = regen_command(h->system.bootloader);
        char *fix;
        if (h->system.bootloader == BOOTLOADER_UNKNOWN)
                fix = f("%s: %s, then reboot", how, m);
        else {
                /* darwinkvm does it with a diff, a backup and undo; the manual way for reference.
                 */
                _cleanup_buf_ struct buf b = BUF_INIT;
                const char *at = strstr(how, "PARAMS");
                if (at) {
                        buf_put(&b, how, (size_t) (at - how));
                        buf_puts(&b, m);
                        buf_puts(&b, at + 6);
                } else
                        buf_printf(&b, "%s: %s", how, m);
                fix = f("darwinkvm host kernel-params --recommended, then reboot (by hand: %s)",
                        buf_str(&b));
        }
        add(x, "boot.cmdline", CHECK_WARN, f("missing: %s", m),
            xstrdup("these parameters turn the IOMMU on in passthrough mode and keep the host "
                    "off the GPU the guest gets"),
            fix);
}

/* ---------------- packages, groups ---------------- */

enum distro_family {
        DISTRO_DEBIAN,
        DISTRO_FEDORA,
        DISTRO_ARCH,
        DISTRO_SUSE,
        DISTRO_OTHER,
};

static enum distro_family distro_family(const struct host_system *s)
{
        _cleanup_free_ char *ids = xasprintf("%s %s", strempty(s->os_id), strempty(s->os_id_like));
        _cleanup_strv_free_ char **l = strv_split(ids, " ");
        if (strv_contains(l, "debian") || strv_contains(l, "ubuntu"))
                return DISTRO_DEBIAN;
        if (strv_contains(l, "fedora") || strv_contains(l, "rhel"))
                return DISTRO_FEDORA;
        if (strv_contains(l, "arch"))
                return DISTRO_ARCH;
        if (strv_contains(l, "suse") || strv_contains(l, "opensuse"))
                return DISTRO_SUSE;
        return DISTRO_OTHER;
}

static char *install_command(enum distro_family d, enum host_component c)
{
        static const char *const pkgs[][HOST_COMPONENT_COUNT] = {
                [DISTRO_DEBIAN] = { "qemu-system-x86 qemu-utils",
                                    "libvirt-daemon-system libvirt-clients", "virt-manager",
                                    "ovmf" },
                [DISTRO_FEDORA] = { "qemu-kvm qemu-img", "libvirt", "virt-manager", "edk2-ovmf" },
                [DISTRO_ARCH] = { "qemu-full", "libvirt dnsmasq", "virt-manager", "edk2-ovmf" },
                [DISTRO_SUSE] = { "qemu-x86 qemu-tools", "libvirt", "virt-manager",
                                  "qemu-ovmf-x86_64" },
        };
        static const char *const tools[] = {
                [DISTRO_DEBIAN] = "apt install",
                [DISTRO_FEDORA] = "dnf install",
                [DISTRO_ARCH] = "pacman -S",
                [DISTRO_SUSE] = "zypper install",
        };
        if (d == DISTRO_OTHER)
                return xasprintf("install %s with your package manager",
                                 host_component_to_string(c));
        return xasprintf("darwinkvm host setup --yes (the guide's whole list), or: %s %s", tools[d],
                         pkgs[d][c]);
}

static void check_packages(struct ctx *x)
{
        const struct host *h = x->h;
        enum distro_family d = distro_family(&h->system);

        static const struct {
                enum host_component c;
                const char *id;
                enum check_status missing;
                const char *why;
        } items[] = {
                { HOST_COMPONENT_QEMU, "packages.qemu", CHECK_FAIL, "QEMU runs the guest" },
                { HOST_COMPONENT_LIBVIRT, "packages.libvirt", CHECK_WARN,
                  "libvirt manages the VM (plain QEMU works without it)" },
                { HOST_COMPONENT_VIRT_MANAGER, "packages.virt-manager", CHECK_WARN,
                  "virt-manager is the guide's GUI for the VM (optional with darwinkvm)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                const struct host_package *p = &h->packages[items[i].c];
                if (p->installed)
                        add(x, items[i].id, CHECK_OK,
                            p->version ? f("%s %s (%s)", p->package, p->version, p->source)
                                       : f("%s (found; version unknown)", p->package),
                            NULL, NULL);
                else
                        add(x, items[i].id, items[i].missing, xstrdup("not installed"),
                            xstrdup(items[i].why), install_command(d, items[i].c));
        }
}

static void check_gpu_daemons(struct ctx *x)
{
        char *const *found = x->h->gpu_daemons.found;
        if (strv_length(found) == 0)
                return;
        _cleanup_free_ char *list = strv_join(found, ", ");
        _cleanup_strv_free_ char **units = xcalloc(1, sizeof(char *));
        for (size_t i = 0; found[i]; i++) {
                const char *d = found[i];
                const char *unit = strstr(d, "docker")    ? "docker.service docker.socket"
                                   : strstr(d, "openrgb") ? "openrgb.service"
                                                          : "openrazer-daemon.service";
                if (!strv_contains(units, unit))
                        units = strv_push(units, unit);
        }
        _cleanup_free_ char *u = strv_join(units, " ");
        add(x, "host.gpu_daemons", CHECK_WARN, f("installed: %s", list),
            xstrdup("daemons that hold the GPU (RGB control, containers, peripheral daemons) "
                    "keep vfio-pci from taking it"),
            f("stop them while the VM runs: systemctl disable --now %s (or remove the packages)",
              u));
}

static void check_dudk(struct ctx *x)
{
        const struct doctor_report *r = x->r;
        const struct host_firmware *fw = &x->h->firmware;
        if (!r->newest || !streq(r->newest->firmware, "dudk"))
                return;
        char v[16];
        if (fw->dudk_code)
                add(x, "firmware.dudk", CHECK_OK, f("%s + %s", fw->dudk_code, fw->dudk_vars), NULL,
                    NULL);
        else
                add(x, "firmware.dudk", CHECK_WARN,
                    f("no DUDK-Firmware (/usr/share/DarwinUDK), needed for macOS %s %s",
                      macos_version_format(r->newest->version, v, sizeof(v)), r->newest->name),
                    xstrdup("Mojave and older boot through HfsPlusLegacy.efi, which only an OVMF "
                            "built with LINUX_LOADER (DUDK-Firmware) can load"),
                    xstrdup("install the DUDK-Firmware package for your distribution (DarwinKVM's "
                            "extras/DUDK-Firmware: .deb, .rpm or .pkg.tar.zst)"));
}

static void check_groups(struct ctx *x)
{
        const struct host_user *u = &x->h->user;
        if (!u->name)
                return;
        if (u->error) {
                add(x, "user.groups", CHECK_UNKNOWN, xstrdup(u->error), NULL, NULL);
                return;
        }
        if (!u->exists) {
                add(x, "user.groups", CHECK_UNKNOWN, f("no user '%s' in /etc/passwd", u->name),
                    NULL, NULL);
                return;
        }
        if (u->is_root) {
                add(x, "user.groups", CHECK_OK, f("'%s' is root", u->name), NULL, NULL);
                return;
        }
        static const char *const wanted[] = { "kvm", "libvirt", "input" };
        _cleanup_strv_free_ char **missing = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
                if (!strv_contains(u->groups, wanted[i]))
                        missing = strv_push(missing, wanted[i]);
        _cleanup_free_ char *have = strv_join(u->groups, ", ");
        if (strv_length(missing) == 0) {
                add(x, "user.groups", CHECK_OK, f("'%s' is in kvm, libvirt and input", u->name),
                    NULL, NULL);
                return;
        }
        _cleanup_free_ char *m = strv_join(missing, ",");
        add(x, "user.groups", CHECK_WARN,
            f("'%s' is not in %s (groups: %s)", u->name, m, *have ? have : "none"),
            xstrdup("kvm opens /dev/kvm, libvirt talks to qemu:///system, input reads evdev "
                    "keyboards and mice"),
            f("darwinkvm host setup --user %s (usermod -aG %s %s), then log in again", u->name, m,
              u->name));
}

/* ---------------- GPUs and the verdict ---------------- */

static bool gpu_better(const struct gpu_verdict *a, const struct host_pci_device *da,
                       const struct gpu_verdict *b, const struct host_pci_device *db)
{
        bool sa = a->support == GPU_SUPPORT_SUPPORTED, sb = b->support == GPU_SUPPORT_SUPPORTED;
        if (sa != sb)
                return sa;
        if (a->last_version != b->last_version)
                return a->last_version > b->last_version;
        /* Prefer a GPU the host is not booting on: the host keeps its console. */
        return da->boot_vga != 1 && db->boot_vga == 1;
}

static void choose_gpu(struct ctx *x)
{
        const struct host *h = x->h;
        size_t n_display = 0;
        struct gpu_verdict best = { 0 };
        for (size_t i = 0; i < h->pci.n_devices; i++) {
                const struct host_pci_device *d = &h->pci.devices[i];
                if (!d->has_ids || !pci_class_is_display(d->class_code))
                        continue;
                n_display++;
                const char *pci =
                        x->names ? pci_names_device(x->names, d->vendor, d->device) : NULL;
                _cleanup_free_ char *pci_name = pci ? xstrdup(pci) : NULL;
                struct gpu_verdict v;
                compat_gpu_verdict(x->c, d->vendor, d->device, pci_name, &v);
                if (v.support == GPU_SUPPORT_UNSUPPORTED && d->vendor == 0x8086) {
                        gpu_verdict_release(&v);
                        continue; /* an iGPU is never the one to pass */
                }
                if (!x->r->gpu || gpu_better(&v, d, &best, x->r->gpu)) {
                        gpu_verdict_release(&best);
                        best = v;
                        x->r->gpu = d;
                } else
                        gpu_verdict_release(&v);
        }
        x->r->gpu_verdict = best;
        if (x->r->gpu) {
                x->r->gpu_name = pci_device_name(x->names, x->r->gpu);
                x->r->mode = n_display > 1 ? PASSTHROUGH_DUAL : PASSTHROUGH_SINGLE;
        }
}

static void needed_params(struct ctx *x)
{
        const struct host *h = x->h;
        char **p = xcalloc(1, sizeof(char *));
        /* Kernels built with CONFIG_INTEL_IOMMU_DEFAULT_ON need no intel_iommu=on: ask for it
         * only while the IOMMU is off, or where the command line already carries it. */
        if (h->cpu.vendor == CPU_VENDOR_INTEL &&
            (h->pci.n_groups == 0 || host_cmdline_get(h, "intel_iommu")))
                p = strv_push(p, "intel_iommu=on");
        p = strv_push(p, "iommu=pt");
        const struct host_pci_device *g = x->r->gpu;
        if (g && x->r->gpu_verdict.support == GPU_SUPPORT_SUPPORTED) {
                if (x->r->mode == PASSTHROUGH_SINGLE || g->boot_vga == 1)
                        p = strv_push(p, "video=efifb:off");
                if (x->r->mode == PASSTHROUGH_DUAL) {
                        /* Every function of the GPU's slot, in BDF order, without repeats. */
                        _cleanup_strv_free_ char **ids = xcalloc(1, sizeof(char *));
                        for (size_t i = 0; i < h->pci.n_devices; i++) {
                                const struct host_pci_device *d = &h->pci.devices[i];
                                if (!d->has_ids || !pci_same_slot(d->bdf, g->bdf))
                                        continue;
                                _cleanup_free_ char *id =
                                        xasprintf("%04x:%04x", d->vendor, d->device);
                                if (!strv_contains(ids, id))
                                        ids = strv_push(ids, id);
                        }
                        _cleanup_free_ char *j = strv_join(ids, ",");
                        p = strv_consume(p, xasprintf("vfio-pci.ids=%s", j));
                }
        }
        x->r->needed_params = p;
}

static void check_gpu(struct ctx *x)
{
        const struct host *h = x->h;
        struct doctor_report *r = x->r;
        const struct host_pci_device *boot = NULL;
        size_t unreadable = 0;
        for (size_t i = 0; i < h->pci.n_devices; i++) {
                if (h->pci.devices[i].boot_vga == 1)
                        boot = &h->pci.devices[i];
                unreadable += !h->pci.devices[i].has_ids;
        }
        if (h->pci.error)
                add(x, "gpu.boot", CHECK_UNKNOWN, xstrdup(h->pci.error), NULL, NULL);
        else if (boot && boot->has_ids) {
                _cleanup_free_ char *n = pci_device_name(x->names, boot);
                add(x, "gpu.boot", CHECK_OK,
                    f("%s [%04x:%04x] at %s, driver %s", n, boot->vendor, boot->device, boot->bdf,
                      boot->driver ? boot->driver : "none"),
                    NULL, NULL);
        } else if (boot)
                add(x, "gpu.boot", CHECK_UNKNOWN,
                    f("the boot display device %s could not be read: %s", boot->bdf,
                      boot->error ? boot->error : "bad IDs"),
                    NULL, NULL);
        else if (unreadable)
                add(x, "gpu.boot", CHECK_UNKNOWN,
                    f("%zu PCI device%s could not be read", unreadable, unreadable == 1 ? "" : "s"),
                    NULL, NULL);
        else
                add(x, "gpu.boot", CHECK_UNKNOWN,
                    xstrdup(r->gpu ? "no display device reports boot_vga=1"
                                   : "no display devices on the PCI bus"),
                    NULL, NULL);

        if (!r->gpu && (h->pci.error || unreadable)) {
                add(x, "gpu.macos", CHECK_UNKNOWN,
                    h->pci.error ? xstrdup(h->pci.error)
                                 : f("no readable GPU; %zu PCI device%s could not be read",
                                     unreadable, unreadable == 1 ? "" : "s"),
                    NULL, NULL);
                return;
        }
        if (!r->gpu) {
                add(x, "gpu.macos", CHECK_FAIL, xstrdup("no dedicated GPU found"),
                    xstrdup("without a passed-through, natively supported GPU macOS runs on a "
                            "VESA framebuffer without acceleration"),
                    xstrdup("install a macOS-supported AMD GPU (Polaris, Vega, Navi 10/21/23) in "
                            "a PCIe slot; see darwinkvm compat gpu"));
                return;
        }
        const struct gpu_verdict *v = &r->gpu_verdict;
        char a[16], b[16];
        if (v->support == GPU_SUPPORT_SUPPORTED) {
                char *found = f("%s at %s: %s, macOS %s to %s%s%s", r->gpu_name, r->gpu->bdf,
                                v->family, macos_version_format(v->first_version, a, sizeof(a)),
                                macos_version_format(v->last_version, b, sizeof(b)),
                                v->requirements && *v->requirements ? "; " : "",
                                strempty(v->requirements));
                if (v->reset_bug)
                        add(x, "gpu.macos", CHECK_WARN, found,
                            xstrdup("this AMD generation has the reset bug: the card does not "
                                    "reset between VM starts, and the second start shows a black "
                                    "screen (RDNA2, RX 6000, does not have it)"),
                            xstrdup("darwinkvm host hooks install --vm NAME --reset-workaround "
                                    "vendor-reset (or suspend: the hook's suspend/resume "
                                    "workaround)"));
                else
                        add(x, "gpu.macos", CHECK_OK, found, NULL, NULL);
        } else
                add(x, "gpu.macos", CHECK_FAIL,
                    f("%s at %s [%04x:%04x]: %s", r->gpu_name, r->gpu->bdf, r->gpu->vendor,
                      r->gpu->device, v->reason ? v->reason : gpu_support_to_string(v->support)),
                    xstrdup("macOS only accelerates GPUs it has drivers for"),
                    xstrdup("use a macOS-supported AMD GPU (Polaris, Vega, Navi 10/21/23); see "
                            "darwinkvm compat gpu"));

        const struct host_pci_device *g = r->gpu;
        char size[32];
        if (g->bars_known && (g->bar_max > (256ull << 20) || g->bar_above_4g))
                add(x, "gpu.bar", CHECK_WARN,
                    f("%s: largest BAR %s%s", g->bdf, format_bytes(g->bar_max, size, sizeof(size)),
                      g->bar_above_4g ? ", mapped above 4 GiB" : ""),
                    xstrdup(g->bar_max > (256ull << 20)
                                    ? "Resizable BAR (Smart Access Memory) is on: the guide has it "
                                      "off, it breaks passthrough to macOS"
                                    : "Above 4G Decoding is on: the guide has it off for "
                                      "passthrough"),
                    xstrdup("disable Resizable BAR / Smart Access Memory and Above 4G Decoding "
                            "in the firmware setup"));
        else if (g->bars_known)
                add(x, "gpu.bar", CHECK_OK,
                    f("%s: largest BAR %s below 4 GiB (no Resizable BAR)", g->bdf,
                      format_bytes(g->bar_max, size, sizeof(size))),
                    NULL, NULL);

        _cleanup_strv_free_ char **others = NULL;
        r->gpu_viability = iommu_judge(h, r->gpu, &others);
        _cleanup_free_ char *o = strv_join(others, ", ");
        switch (r->gpu_viability) {
        case IOMMU_VIABLE_CLEAN:
                add(x, "gpu.iommu_group", CHECK_OK,
                    f("%s is alone in IOMMU group %d (bridges aside)", r->gpu->bdf,
                      r->gpu->iommu_group),
                    NULL, NULL);
                break;
        case IOMMU_VIABLE_WHOLE_GROUP:
                add(x, "gpu.iommu_group", CHECK_WARN,
                    f("IOMMU group %d also holds %s", r->gpu->iommu_group, o),
                    xstrdup("every device of a group goes to the guest together"),
                    f("pass %s together with the GPU, or move the card to another slot", o));
                break;
        case IOMMU_VIABLE_ACS_OVERRIDE:
                add(x, "gpu.iommu_group", CHECK_FAIL,
                    f("IOMMU group %d also holds %s, which the host needs", r->gpu->iommu_group, o),
                    xstrdup("a group is passed whole; giving away the host's chipset, disk or "
                            "network controller breaks the host"),
                    xstrdup("move the GPU to a CPU-attached slot, update the firmware (grouping "
                            "can change), or use an ACS override kernel with "
                            "pcie_acs_override=downstream,multifunction (unsafe isolation)"));
                break;
        default:
                add(x, "gpu.iommu_group", h->pci.n_groups ? CHECK_FAIL : CHECK_UNKNOWN,
                    f("%s has no IOMMU group", r->gpu->bdf),
                    xstrdup("VFIO passes whole IOMMU groups"),
                    xstrdup("enable the IOMMU first (see iommu.enabled)"));
        }
}

static bool status_of(const struct doctor_report *r, const char *id, enum check_status s)
{
        for (size_t i = 0; i < r->n_checks; i++)
                if (streq(r->checks[i].id, id))
                        return r->checks[i].status == s;
        return false;
}

/* The newest macOS the CPU runs, and the newest the chosen GPU still has drivers in. */
static void choose_macos(struct ctx *x)
{
        struct doctor_report *r = x->r;
        const struct host *h = x->h;
        if (!h->cpu.error)
                r->newest_by_cpu = compat_macos_newest_for_cpu(x->c, &h->cpu);
        r->newest = r->newest_by_cpu;
        if (r->newest && r->gpu && r->gpu_verdict.support == GPU_SUPPORT_SUPPORTED &&
            r->gpu_verdict.last_version && r->gpu_verdict.last_version < r->newest->version)
                r->newest = compat_macos_at_most(x->c, r->gpu_verdict.last_version);
}

static void verdict(struct ctx *x)
{
        struct doctor_report *r = x->r;
        bool gpu_ok = r->gpu && r->gpu_verdict.support == GPU_SUPPORT_SUPPORTED;
        bool group_ok = r->gpu && (r->gpu_viability == IOMMU_VIABLE_CLEAN ||
                                   r->gpu_viability == IOMMU_VIABLE_WHOLE_GROUP);
        bool base_ok = status_of(r, "cpu.virtualization", CHECK_OK) &&
                       !status_of(r, "vfio.modules", CHECK_FAIL) &&
                       status_of(r, "iommu.enabled", CHECK_OK);
        r->passthrough_possible = gpu_ok && group_ok && base_ok;
        if (!r->gpu && status_of(r, "gpu.macos", CHECK_UNKNOWN))
                r->passthrough_summary = xstrdup("unknown: the PCI devices could not be read");
        else if (!r->gpu)
                r->passthrough_summary = xstrdup("not possible: no dedicated GPU");
        else if (!gpu_ok)
                r->passthrough_summary = f("not useful: %s is not supported by macOS", r->gpu_name);
        else if (r->passthrough_possible)
                r->passthrough_summary =
                        f("possible (%s): %s at %s%s", passthrough_mode_to_string(r->mode),
                          r->gpu_name, r->gpu->bdf,
                          r->gpu_viability == IOMMU_VIABLE_WHOLE_GROUP
                                  ? ", together with the rest of its IOMMU group"
                                  : "");
        else if (!status_of(r, "iommu.enabled", CHECK_OK))
                r->passthrough_summary = f("not yet: the IOMMU is off (%s at %s would be the GPU)",
                                           r->gpu_name, r->gpu->bdf);
        else if (!group_ok)
                r->passthrough_summary = f("only with an ACS override: %s shares IOMMU group %d "
                                           "with devices the host needs",
                                           r->gpu_name, r->gpu->iommu_group);
        else {
                static const char *const needed[] = { "cpu.virtualization", "iommu.enabled",
                                                      "vfio.modules" };
                _cleanup_buf_ struct buf b = BUF_INIT;
                for (size_t i = 0; i < ELEMENTSOF(needed); i++)
                        for (size_t k = 0; k < r->n_checks; k++)
                                if (streq(r->checks[k].id, needed[i]) &&
                                    r->checks[k].status != CHECK_OK)
                                        buf_printf(&b, "%s%s is %s", b.len ? ", " : "", needed[i],
                                                   check_status_to_string(r->checks[k].status));
                r->passthrough_summary = f("not yet: %s (%s at %s would be the GPU)", buf_str(&b),
                                           r->gpu_name, r->gpu->bdf);
        }

        char **fixes = xcalloc(1, sizeof(char *));
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < r->n_checks; i++) {
                        const struct check_result *c = &r->checks[i];
                        if (c->fix && c->status == (pass == 0 ? CHECK_FAIL : CHECK_WARN))
                                fixes = strv_consume(fixes, xasprintf("%s: %s", c->id, c->fix));
                }
        r->fixes = fixes;
}

struct doctor_report *doctor_run(const struct host *h, const struct compat *c,
                                 struct pci_names *names)
{
        struct ctx x = {
                .h = h, .c = c, .names = names, .r = xcalloc(1, sizeof(struct doctor_report))
        };
        check_cpu(&x);
        check_kvm(&x);
        check_memory(&x);
        check_boot_firmware(&x);
        check_iommu(&x);
        check_vfio(&x);
        choose_gpu(&x);
        needed_params(&x);
        check_bootloader(&x);
        check_cmdline(&x);
        check_ovmf(&x);
        check_packages(&x);
        check_groups(&x);
        check_gpu(&x);
        check_gpu_daemons(&x);
        choose_macos(&x);
        check_dudk(&x);
        verdict(&x);
        return x.r;
}

struct doctor_report *doctor_report_free(struct doctor_report *r)
{
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_checks; i++) {
                free(r->checks[i].found);
                free(r->checks[i].why);
                free(r->checks[i].fix);
        }
        free(r->checks);
        free(r->gpu_name);
        gpu_verdict_release(&r->gpu_verdict);
        free(r->passthrough_summary);
        strv_free(r->needed_params);
        strv_free(r->fixes);
        free(r);
        return NULL;
}

size_t doctor_count(const struct doctor_report *r, enum check_status s)
{
        size_t n = 0;
        for (size_t i = 0; i < r->n_checks; i++)
                n += r->checks[i].status == s;
        return n;
}
