/* SPDX-License-Identifier: MIT */
#include "opencore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "macos.h"
#include "strutil.h"
#include "strv.h"

#define APPLE_BOOT_GUID   "7C436110-AB2A-4BBB-A880-FE41995C9F82"
#define APPLE_VENDOR_GUID "4D1FDA02-38C7-4A6A-9CC6-4BCCA8B30102"

const struct oc_acpi_table *oc_acpi_table_find(const char *name)
{
        for (size_t i = 0; i < oc_n_acpi_tables; i++)
                if (streq(oc_acpi_tables[i].name, name))
                        return &oc_acpi_tables[i];
        return NULL;
}

const char *oc_model_for_macos(unsigned v)
{
        if (v >= 1015)
                return "MacPro7,1";
        if (v >= 1006)
                return "MacPro5,1";
        if (v == 1005)
                return "MacPro4,1";
        return "MacPro2,1";
}

bool oc_model_is_legacy(const char *model)
{
        return !streq(model, "MacPro7,1");
}

/* Kexts the profiles use: where OpenCore finds the binary and what the entry says. */
static const struct kext_info {
        const char *bundle, *executable, *comment;
} kexts[] = {
        { "Lilu.kext", "Contents/MacOS/Lilu", "Patch engine" },
        { "VMHide.kext", "Contents/MacOS/VMHide",
          "Hides the hypervisor (Sonoma Bluetooth, Sequoia Apple ID)" },
        { "AppleMCEReporterDisabler.kext", "",
          "No AppleMCEReporter panics on KVM (Monterey 12.3+)" },
        { "WhateverGreen.kext", "Contents/MacOS/WhateverGreen", "GPU fixes" },
        { "NootRX.kext", "Contents/MacOS/NootRX", "Navi 22 support (never with WhateverGreen)" },
        { "AppleALC.kext", "Contents/MacOS/AppleALC", "Audio codec support" },
};

static const struct kext_info *kext_find(const char *bundle)
{
        for (size_t i = 0; i < ELEMENTSOF(kexts); i++)
                if (streq(kexts[i].bundle, bundle))
                        return &kexts[i];
        return NULL;
}

/* GPU families: the kext and boot-args each needs (darwinkvm-docs Step 15, 16c, §5.7). */
static const struct gpu_family {
        const char *name, *kext, *boot_args;
        unsigned min_macos, max_macos;
} gpu_families[] = {
        { "none", NULL, NULL, 0, 0 },
        { "navi21", NULL, NULL, 1104, 0 },
        { "navi23", NULL, NULL, 1201, 0 },
        { "navi22", "NootRX.kext", NULL, 1300, 0 },
        { "navi10", "WhateverGreen.kext", "agdpmod=pikera", 1015, 0 },
        { "vega", "WhateverGreen.kext", NULL, 1013, 0 },
        { "polaris", "WhateverGreen.kext", NULL, 1012, 0 },
        { "gcn", "WhateverGreen.kext", "-radpg=15", 1008, 1200 },
        { "kepler", "WhateverGreen.kext", NULL, 1008, 1100 },
};

const char *const oc_gpu_families[] = { "none", "navi21",  "navi23", "navi22", "navi10",
                                        "vega", "polaris", "gcn",    "kepler", NULL };

static const struct gpu_family *gpu_family_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(gpu_families); i++)
                if (streq(gpu_families[i].name, name))
                        return &gpu_families[i];
        return NULL;
}

static void set(struct pl_node *root, const char *path, struct pl_node *v)
{
        _cleanup_free_ char *err = NULL;
        if (pl_path_set(root, path, v, &err) < 0) {
                /* Our own paths: a schema without them is a broken data file. */
                fprintf(stderr, "BUG: %s\n", err);
                abort();
        }
}

static void set_bool(struct pl_node *root, const char *path, bool v)
{
        set(root, path, pl_new_bool(v));
}

static void set_int(struct pl_node *root, const char *path, int64_t v)
{
        set(root, path, pl_new_integer(v));
}

static void set_str(struct pl_node *root, const char *path, const char *v)
{
        set(root, path, pl_new_string(v));
}

static void add_kext(const struct oc_schema *s, struct pl_node *root, const char *bundle)
{
        const struct kext_info *k = kext_find(bundle);
        struct pl_node *e = oc_entry_new(s, "Kernel > Add[]");
        pl_dict_set(e, "Arch", pl_new_string("Any"));
        pl_dict_set(e, "BundlePath", pl_new_string(bundle));
        pl_dict_set(e, "Comment", pl_new_string(k ? k->comment : ""));
        pl_dict_set(e, "Enabled", pl_new_bool(true));
        pl_dict_set(e, "ExecutablePath", pl_new_string(k ? k->executable : ""));
        pl_dict_set(e, "PlistPath", pl_new_string("Contents/Info.plist"));
        pl_array_append(pl_dict_get_array(pl_dict_get(root, "Kernel"), "Add"), e);
}

static void add_driver(const struct oc_schema *s, struct pl_node *root, const char *path)
{
        struct pl_node *e = oc_entry_new(s, "UEFI > Drivers[]");
        pl_dict_set(e, "Enabled", pl_new_bool(true));
        pl_dict_set(e, "Path", pl_new_string(path));
        pl_array_append(pl_dict_get_array(pl_dict_get(root, "UEFI"), "Drivers"), e);
}

static void add_acpi(const struct oc_schema *s, struct pl_node *root, const char *path,
                     const char *comment)
{
        struct pl_node *e = oc_entry_new(s, "ACPI > Add[]");
        pl_dict_set(e, "Comment", pl_new_string(comment));
        pl_dict_set(e, "Enabled", pl_new_bool(true));
        pl_dict_set(e, "Path", pl_new_string(path));
        pl_array_append(pl_dict_get_array(pl_dict_get(root, "ACPI"), "Add"), e);
}

static struct pl_node *data_hex(const char *hex)
{
        struct pl_node *n = NULL;
        char *err = NULL;
        if (pl_value_from_text(PL_DATA, hex, &n, &err) < 0)
                abort();
        return n;
}

/* csr-active-config with SIP off: the widest mask each release knows (SIP exists from 10.11). */
static const char *sip_disabled_mask(unsigned v)
{
        if (v >= 1100)
                return "FF0F0000";
        if (v >= 1013)
                return "E7030000";
        if (v >= 1011)
                return "67000000";
        return "00000000";
}

/* The CaseySJ IOPCIIsHotplugPort patch: PCI enumeration on KVM for Ventura and later. */
static void add_caseysj_patch(const struct oc_schema *s, struct pl_node *root)
{
        struct pl_node *e = oc_entry_new(s, "Kernel > Patch[]");
        pl_dict_set(e, "Arch", pl_new_string("x86_64"));
        pl_dict_set(
                e, "Base",
                pl_new_string("__ZN17IOPCIConfigurator18IOPCIIsHotplugPortEP16IOPCIConfigEntry"));
        pl_dict_set(e, "Comment",
                    pl_new_string("CaseySJ | IOPCIIsHotplugPort | Fix PCI bus enumeration on KVM | "
                                  "13.0+"));
        pl_dict_set(e, "Count", pl_new_integer(1));
        pl_dict_set(e, "Enabled", pl_new_bool(true));
        pl_dict_set(e, "Find", data_hex("8400754B"));
        pl_dict_set(e, "Identifier", pl_new_string("com.apple.iokit.IOPCIFamily"));
        pl_dict_set(e, "Limit", pl_new_integer(0));
        pl_dict_set(e, "Mask", data_hex("FF00FFFF"));
        /* The guide's snippet says 24.99.99 (and an old sample 23.99.99): too low for
         * Sequoia/Tahoe. */
        pl_dict_set(e, "MaxKernel", pl_new_string("29.99.99"));
        pl_dict_set(e, "MinKernel", pl_new_string("22.0.0"));
        pl_dict_set(e, "Replace", data_hex("0000EB00"));
        pl_dict_set(e, "ReplaceMask", data_hex("0000FF00"));
        pl_dict_set(e, "Skip", pl_new_integer(0));
        pl_array_append(pl_dict_get_array(pl_dict_get(root, "Kernel"), "Patch"), e);
}

static bool resolution_ok(const char *r)
{
        if (streq(r, "Max") || streq(r, ""))
                return true;
        unsigned w, h, b;
        char tail;
        int n = sscanf(r, "%ux%u@%u%c", &w, &h, &b, &tail);
        if (n == 3)
                return w > 0 && h > 0 && b > 0;
        n = sscanf(r, "%ux%u%c", &w, &h, &tail);
        return n == 2 && w > 0 && h > 0;
}

int oc_config_build(const struct oc_schema *s, const struct oc_profile *p, struct pl_node **ret,
                    char **reterr)
{
        unsigned v;
        if (!p->macos || macos_version_parse(p->macos, &v) < 0) {
                *reterr = xasprintf("macOS version \"%s\": expected e.g. 14, 13.6 or 10.14.6",
                                    strna(p->macos));
                return -EINVAL;
        }
        const char *model = p->model ? p->model : oc_model_for_macos(v);
        static const char *const models[] = { "MacPro7,1", "MacPro5,1", "MacPro4,1",
                                              "MacPro3,1", "MacPro2,1", NULL };
        if (!strv_contains((char **) models, model)) {
                *reterr = xasprintf("model %s: expected one of MacPro7,1, MacPro5,1, MacPro4,1, "
                                    "MacPro3,1, MacPro2,1 (only Mac Pro models)",
                                    model);
                return -EINVAL;
        }
        bool legacy = oc_model_is_legacy(model);
        if (!legacy && v < 1015) {
                *reterr = xasprintf("model MacPro7,1 needs Catalina 10.15 or later, not %s "
                                    "(use MacPro5,1)",
                                    p->macos);
                return -EINVAL;
        }
        if (legacy && v >= 1015) {
                *reterr = xasprintf("model %s runs at most Mojave 10.14, not %s (use MacPro7,1)",
                                    model, p->macos);
                return -EINVAL;
        }
        const struct gpu_family *gpu = gpu_family_find(p->gpu ? p->gpu : "none");
        if (!gpu) {
                _cleanup_free_ char *all = strv_join((char **) oc_gpu_families, ", ");
                *reterr = xasprintf("GPU family \"%s\": expected one of %s", p->gpu, all);
                return -EINVAL;
        }
        if ((gpu->min_macos && v < gpu->min_macos) || (gpu->max_macos && v > gpu->max_macos)) {
                char a[16], b[16];
                *reterr = xasprintf("GPU family %s works with macOS %s to %s, not %s", gpu->name,
                                    macos_version_format(gpu->min_macos, a, sizeof(a)),
                                    gpu->max_macos
                                            ? macos_version_format(gpu->max_macos, b, sizeof(b))
                                            : "the latest",
                                    p->macos);
                return -EINVAL;
        }
        if (p->resolution && !resolution_ok(p->resolution)) {
                *reterr = xasprintf("resolution \"%s\": expected WIDTHxHEIGHT[@BPP] or Max",
                                    p->resolution);
                return -EINVAL;
        }
        if (p->timeout < 0 || p->timeout > 3600) {
                *reterr = xasprintf("timeout %d: expected 0..3600 seconds", p->timeout);
                return -EINVAL;
        }

        _cleanup_pl_ struct pl_node *c = oc_key_default(&s->root, false);

        /* ACPI: our own tables only (rule 13). */
        if (legacy)
                add_acpi(s, c, "SSDT-EC.aml", "Dummy EC (darwinkvm ASL)");
        else {
                add_acpi(s, c, "SSDT-EC-USBX.aml", "Dummy EC and USB power (darwinkvm ASL)");
                add_acpi(s, c, "SSDT-PLUG.aml", "XCPM plugin-type on CPU 0 (darwinkvm ASL)");
        }

        /* Booter (16a/16b). */
        set_bool(c, "Booter.Quirks.EnableWriteUnprotector", false);
        set_bool(c, "Booter.Quirks.RebuildAppleMemoryMap", true);
        set_bool(c, "Booter.Quirks.SetupVirtualMap", false);
        set_bool(c, "Booter.Quirks.SyncRuntimePermissions", true);
        if (legacy) {
                set_bool(c, "Booter.Quirks.AllowRelocationBlock", true);
                set_bool(c, "Booter.Quirks.EnableSafeModeSlide", false);
                set_bool(c, "Booter.Quirks.FixupAppleEfiImages", true);
                /*
                 * 16b turns ProvideCustomSlide off, but AllowRelocationBlock only works
                 * with it (ocvalidate refuses the pair): keep it on.
                 */
                set_bool(c, "Booter.Quirks.ProvideCustomSlide", true);
        }

        /* Kernel. */
        add_kext(s, c, "Lilu.kext");
        if (!legacy) {
                add_kext(s, c, "VMHide.kext");
                add_kext(s, c, "AppleMCEReporterDisabler.kext");
        }
        if (gpu->kext)
                add_kext(s, c, gpu->kext);
        if (p->alcid > 0)
                add_kext(s, c, "AppleALC.kext");
        if (!legacy)
                add_caseysj_patch(s, c);
        set(c, "Kernel.Emulate.Cpuid1Data", pl_new_data(NULL, 0));
        set(c, "Kernel.Emulate.Cpuid1Mask", pl_new_data(NULL, 0));
        set_bool(c, "Kernel.Emulate.DummyPowerManagement", legacy);
        if (!legacy)
                set_bool(c, "Kernel.Quirks.ForceSecureBootScheme", true);
        /*
         * 16b sets DisableLinkeditJettison false, but an enabled Lilu requires it
         * (ocvalidate); it only acts on 11+, so true is harmless on the legacy profile.
         */
        set_bool(c, "Kernel.Quirks.DisableLinkeditJettison", true);
        set_bool(c, "Kernel.Quirks.PanicNoKextDump", true);
        set_bool(c, "Kernel.Quirks.PowerTimeoutKernelPanic", true);
        set_bool(c, "Kernel.Quirks.ProvideCurrentCpuInfo", true);
        set_bool(c, "Kernel.Scheme.CustomKernel", false);
        set_bool(c, "Kernel.Scheme.FuzzyMatch", legacy);
        /* The guide keeps x86_64 even for Tiger and Leopard, whose kernels are i386 only. */
        set_str(c, "Kernel.Scheme.KernelArch", v < 1006 ? "i386" : "x86_64");
        set_str(c, "Kernel.Scheme.KernelCache", "Auto");

        /* Misc. */
        if (legacy)
                set_str(c, "Misc.Boot.HibernateMode", "RTC");
        else
                set_bool(c, "Misc.Boot.PollAppleHotKeys", true);
        set_bool(c, "Misc.Boot.ShowPicker", p->show_picker);
        set_int(c, "Misc.Boot.Timeout", p->timeout);
        set_bool(c, "Misc.Debug.AppleDebug", true);
        set_bool(c, "Misc.Debug.ApplePanic", true);
        set_bool(c, "Misc.Debug.DisableWatchDog", true);
        set_int(c, "Misc.Debug.Target", 67);
        set_bool(c, "Misc.Security.AllowSetDefault", true);
        set_int(c, "Misc.Security.ExposeSensitiveData", 15);
        set_int(c, "Misc.Security.ScanPolicy", 0);
        /* x86legacy (Default) needs Big Sur; older guests and the legacy models boot unverified. */
        set_str(c, "Misc.Security.SecureBootModel", legacy || v < 1100 ? "Disabled" : "Default");
        set_str(c, "Misc.Security.Vault", "Optional");

        /* NVRAM. */
        struct buf args = BUF_INIT;
        if (p->verbose)
                buf_puts(&args, "-v keepsyms=1 debug=0x100");
        if (streq(model, "MacPro5,1") || streq(model, "MacPro4,1"))
                buf_printf(&args, "%s-nehalem_error_disable", args.len ? " " : "");
        if (gpu->boot_args)
                buf_printf(&args, "%s%s", args.len ? " " : "", gpu->boot_args);
        if (p->alcid > 0)
                buf_printf(&args, "%salcid=%d", args.len ? " " : "", p->alcid);
        struct pl_node *nv_add = pl_dict_get_dict(pl_dict_get(c, "NVRAM"), "Add");
        struct pl_node *vendor = pl_dict_set(nv_add, APPLE_VENDOR_GUID, pl_new_dict());
        pl_dict_set(vendor, "rtc-blacklist", pl_new_data(NULL, 0));
        struct pl_node *boot = pl_dict_set(nv_add, APPLE_BOOT_GUID, pl_new_dict());
        pl_dict_set(boot, "boot-args", pl_new_string(buf_str(&args)));
        buf_release(&args);
        pl_dict_set(boot, "csr-active-config",
                    data_hex(p->sip_disabled ? sip_disabled_mask(v) : "00000000"));
        pl_dict_set(boot, "prev-lang:kbd", pl_new_data("en:252", 6));
        pl_dict_set(boot, "run-efi-updater", pl_new_string("No"));
        struct pl_node *nv_del = pl_dict_get_dict(pl_dict_get(c, "NVRAM"), "Delete");
        struct pl_node *dv = pl_dict_set(nv_del, APPLE_VENDOR_GUID, pl_new_array());
        pl_array_append(dv, pl_new_string("rtc-blacklist"));
        struct pl_node *db = pl_dict_set(nv_del, APPLE_BOOT_GUID, pl_new_array());
        pl_array_append(db, pl_new_string("boot-args"));
        pl_array_append(db, pl_new_string("csr-active-config"));
        pl_array_append(db, pl_new_string("prev-lang:kbd"));
        set_bool(c, "NVRAM.LegacyOverwrite", false);

        /* PlatformInfo. */
        const struct smbios_identity *id = p->identity;
        uint8_t zero_rom[6] = { 0 };
        set_str(c, "PlatformInfo.Generic.SystemProductName", model);
        set_str(c, "PlatformInfo.Generic.SystemSerialNumber", id ? id->serial : "");
        set_str(c, "PlatformInfo.Generic.MLB", id ? id->mlb : "");
        set_str(c, "PlatformInfo.Generic.SystemUUID", id ? id->uuid : "");
        set(c, "PlatformInfo.Generic.ROM", pl_new_data(id ? id->rom : zero_rom, 6));

        /* UEFI. */
        set_int(c, "UEFI.APFS.MinDate", -1);
        set_int(c, "UEFI.APFS.MinVersion", -1);
        set_bool(c, "UEFI.ConnectDrivers", true);
        add_driver(s, c, "OpenRuntime.efi");
        if (legacy) {
                add_driver(s, c, "OpenPartitionDxe.efi");
                add_driver(s, c, "ResetNvramEntry.efi");
                add_driver(s, c, "HfsPlusLegacy.efi");
                set_str(c, "UEFI.Output.GopPassThrough", "Enabled");
                set_bool(c, "UEFI.Output.ReconnectGraphicsOnConnect", true);
                set_bool(c, "UEFI.Output.UgaPassThrough", true);
        } else {
                add_driver(s, c, "ResetNvramEntry.efi");
                add_driver(s, c, p->hfs_open ? "OpenHfsPlus.efi" : "HfsPlus.efi");
        }
        set_str(c, "UEFI.Output.Resolution", p->resolution ? p->resolution : "Max");
        (void) p->cpu; /* the guest sees the profile's CPU model whatever the host's vendor */
        *ret = TAKE_PTR(c);
        return 0;
}

int oc_efi_write(const char *dir, const struct pl_node *config, char **reterr)
{
        _cleanup_free_ char *acpi = xasprintf("%s/EFI/OC/ACPI", dir);
        int r = mkdir_p(acpi, 0755);
        if (r < 0) {
                *reterr = xasprintf("%s: cannot create: %s", acpi, strerror(-r));
                return r;
        }
        const struct pl_node *add = pl_dict_get_array(pl_dict_get(config, "ACPI"), "Add");
        for (size_t i = 0; i < pl_count(add); i++) {
                const char *path = pl_dict_get_string(pl_array_get(add, i), "Path");
                const struct oc_acpi_table *t = path ? oc_acpi_table_find(path) : NULL;
                if (!t)
                        continue; /* a table of the user's, not ours to write */
                _cleanup_free_ char *out = xasprintf("%s/%s", acpi, t->name);
                r = write_file_atomic(AT_FDCWD, out, t->data, t->len, 0644, reterr);
                if (r < 0)
                        return r;
        }
        for (const char *sub = "Kexts"; sub; sub = streq(sub, "Kexts")     ? "Drivers"
                                                   : streq(sub, "Drivers") ? "Tools"
                                                                           : NULL) {
                _cleanup_free_ char *d = xasprintf("%s/EFI/OC/%s", dir, sub);
                r = mkdir_p(d, 0755);
                if (r < 0) {
                        *reterr = xasprintf("%s: cannot create: %s", d, strerror(-r));
                        return r;
                }
        }
        _cleanup_free_ char *cfg = xasprintf("%s/EFI/OC/config.plist", dir);
        return pl_save_file(config, PL_FORMAT_XML, AT_FDCWD, cfg, reterr);
}

/* ---- memory ---- */

static const struct {
        const char *name;
        int code;
} memory_types[] = {
        { "DDR", 18 },  { "DDR2", 19 },   { "DDR3", 24 },   { "DDR4", 26 },
        { "DDR5", 34 }, { "LPDDR3", 29 }, { "LPDDR4", 30 }, { "LPDDR5", 35 },
};

int oc_memory_build(const struct oc_memory_options *o, struct pl_node **ret, char **reterr)
{
        unsigned total = o->total_slots ? o->total_slots : 12;
        const char *type = o->type ? o->type : "DDR4";
        int code = -1;
        for (size_t i = 0; i < ELEMENTSOF(memory_types); i++)
                if (strcasecmp(memory_types[i].name, type) == 0)
                        code = memory_types[i].code;
        if (code < 0) {
                *reterr = xasprintf("memory type %s: expected DDR, DDR2, DDR3, DDR4, DDR5, LPDDR3, "
                                    "LPDDR4 or LPDDR5",
                                    type);
                return -EINVAL;
        }
        if (o->slots == 0 || o->slots > total) {
                *reterr = xasprintf("%u modules do not fit %u slots", o->slots, total);
                return -EINVAL;
        }
        if (total == 12 && o->slots % 2 != 0) {
                *reterr = xasprintf("%u modules: the Mac Pro (2019) takes 2, 4, 6, 8, 10 or 12, "
                                    "so an odd count is reported as misconfigured",
                                    o->slots);
                return -EINVAL;
        }
        if (o->size_gb == 0 || o->size_gb % o->slots != 0) {
                *reterr = xasprintf("%u GB cannot be split evenly over %u modules", o->size_gb,
                                    o->slots);
                return -EINVAL;
        }
        unsigned per = o->size_gb / o->slots;
        if ((per & (per - 1)) != 0 || per > 256) {
                *reterr = xasprintf("%u GB over %u modules gives %u GB modules; module sizes "
                                    "are powers of two up to 256 GB",
                                    o->size_gb, o->slots, per);
                return -EINVAL;
        }
        unsigned speed = o->speed ? o->speed : 3200;
        if (speed > 65535) {
                *reterr = xasprintf("speed %u MHz: expected at most 65535", speed);
                return -EINVAL;
        }
        struct pl_node *m = pl_new_dict();
        pl_dict_set(m, "DataWidth", pl_new_integer(64));
        struct pl_node *devs = pl_dict_set(m, "Devices", pl_new_array());
        /* Fill the first slot of each channel before the second (A1, B1, ... then A2, B2, ...). */
        unsigned channels = (total + 1) / 2;
        for (unsigned i = 0; i < total; i++) {
                unsigned channel = i / 2, second = i % 2;
                unsigned order = second ? channels + channel : channel;
                bool filled = order < o->slots;
                struct pl_node *d = pl_array_append(devs, pl_new_dict());
                char loc[16], part[32], serial[16];
                snprintf(loc, sizeof(loc), "DIMM_%c%u", 'A' + channel, second + 1);
                snprintf(part, sizeof(part), "DKVM-%uGB-%s", per, type);
                snprintf(serial, sizeof(serial), "%08u", order + 1);
                pl_dict_set(d, "AssetTag", pl_new_string(""));
                pl_dict_set(d, "BankLocator", pl_new_string(""));
                pl_dict_set(d, "DeviceLocator", pl_new_string(loc));
                pl_dict_set(d, "Manufacturer", pl_new_string(filled ? "darwinkvm" : ""));
                pl_dict_set(d, "PartNumber", pl_new_string(filled ? part : ""));
                pl_dict_set(d, "SerialNumber", pl_new_string(filled ? serial : ""));
                /* SMBIOS type 17: size 0 is an empty slot. */
                pl_dict_set(d, "Size", pl_new_integer(filled ? (int64_t) per * 1024 : 0));
                pl_dict_set(d, "Speed", pl_new_integer(filled ? speed : 0));
        }
        pl_dict_set(m, "ErrorCorrection", pl_new_integer(3)); /* None */
        pl_dict_set(m, "FormFactor", pl_new_integer(9));      /* DIMM */
        pl_dict_set(m, "MaxCapacity", pl_new_integer((int64_t) o->size_gb << 30));
        pl_dict_set(m, "TotalWidth", pl_new_integer(64));
        pl_dict_set(m, "Type", pl_new_integer(code));
        /* A bit mask: Synchronous is bit 7 = 128 (the write-up's "7" is the bit number). */
        pl_dict_set(m, "TypeDetail", pl_new_integer(128));
        *ret = m;
        return 0;
}

int oc_memory_apply(struct pl_node *config, const struct oc_memory_options *o, char **reterr)
{
        struct pl_node *m = NULL;
        int r = oc_memory_build(o, &m, reterr);
        if (r < 0)
                return r;
        struct pl_node *pi = pl_dict_ensure_dict(config, "PlatformInfo");
        pl_dict_set(pi, "CustomMemory", pl_new_bool(true));
        /* Keep the schema's order: Memory right after Generic. */
        if (pl_dict_get(pi, "Memory"))
                pl_dict_set(pi, "Memory", m);
        else {
                ssize_t g = pl_dict_index(pi, "Generic");
                pl_dict_insert(pi, g >= 0 ? (size_t) g + 1 : SIZE_MAX, "Memory", m);
        }
        return 0;
}
