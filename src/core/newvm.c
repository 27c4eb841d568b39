/* SPDX-License-Identifier: MIT */
#include "newvm.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "alloc.h"
#include "bootloader.h"
#include "buf.h"
#include "chunklist.h"
#include "disk.h"
#include "fileio.h"
#include "hooks.h"
#include "image.h"
#include "journal.h"
#include "macos.h"
#include "opencore.h"
#include "plist.h"
#include "random.h"
#include "smbios.h"
#include "strutil.h"
#include "strv.h"
#include "uuid.h"
#include "vfio.h"
#include "vmspec.h"

#define DEFAULT_DISK_BYTES (UINT64_C(128) << 30)

struct new_plan *new_plan_free(struct new_plan *p)
{
        if (!p)
                return NULL;
        free(p->name);
        free(p->dir);
        free(p->fw_code);
        free(p->gpu_bdf);
        free(p->gpu_audio_bdf);
        free(p->gpu_name);
        free(p->opencore_version);
        strv_free(p->downloads);
        strv_free(p->writes);
        strv_free(p->host_changes);
        strv_free(p->kernel_params);
        strv_free(p->warnings);
        free(p);
        return NULL;
}

const char *new_step_status_to_string(enum new_step_status s)
{
        static const char *const names[] = { "done", "already", "skipped", "failed" };
        return s <= NEW_STEP_FAILED ? names[s] : "?";
}

void new_report_release(struct new_report *r)
{
        for (size_t i = 0; i < r->n_steps; i++)
                free(r->steps[i].detail);
        free(r->network_error);
        free(r->unpinned_error);
        free(r->spec_path);
        *r = (struct new_report){};
}

/* The OpenCore generator's family name for a GPU family of the compatibility data. */
static const char *oc_family_for(const char *family)
{
        static const struct {
                const char *needle, *family;
        } map[] = {
                { "Navi 21", "navi21" },  { "Navi 22", "navi22" }, { "Navi 23", "navi23" },
                { "Navi 10", "navi10" },  { "Navi 14", "navi10" }, { "Vega", "vega" },
                { "Polaris", "polaris" }, { "Lexa", "polaris" },   { "Kepler", "kepler" },
                { "GCN", "gcn" },         { "HD 7000", "gcn" },    { "HD 8000", "gcn" },
                { "R7 / R9", "gcn" },     { "Iceland", "gcn" },    { "Hainan", "gcn" },
        };

        if (!family)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strstr(family, map[i].needle))
                        return map[i].family;
        return NULL;
}

static const struct host_pci_device *find_device(const struct host *h, const char *bdf)
{
        /* "01:00.0" means domain 0000. */
        _cleanup_free_ char *full = strlen(bdf) == 7 ? xasprintf("0000:%s", bdf) : xstrdup(bdf);
        for (size_t i = 0; i < h->pci.n_devices; i++)
                if (strcasecmp(h->pci.devices[i].bdf, full) == 0)
                        return &h->pci.devices[i];
        return NULL;
}

/* The audio function on the GPU's slot (function 1 by convention, any audio class in fact). */
static const struct host_pci_device *gpu_audio(const struct host *h,
                                               const struct host_pci_device *gpu)
{
        size_t slot_len = strlen(gpu->bdf) - 1; /* "0000:01:00." */
        for (size_t i = 0; i < h->pci.n_devices; i++) {
                const struct host_pci_device *d = &h->pci.devices[i];
                if (d != gpu && strncmp(d->bdf, gpu->bdf, slot_len) == 0 &&
                    (d->class_code >> 8) == 0x0403)
                        return d;
        }
        return NULL;
}

int new_plan_build(const struct host *h, const struct compat *c, const struct doctor_report *rep,
                   const struct new_options *o, struct new_plan **ret, char **reterr)
{
        if (!vm_name_is_valid(o->name)) {
                *reterr = xasprintf("'%s' is not a VM name: letters, digits, '-', '_' and '.', "
                                    "1 to 64 characters",
                                    o->name);
                return -EINVAL;
        }
        _cleanup_(new_plan_freep) struct new_plan *p = xcalloc(1, sizeof(*p));
        p->name = xstrdup(o->name);
        p->dir = vm_dir_for_name(o->name);
        p->amd_host = h->cpu.vendor == CPU_VENDOR_AMD;

        /* The GPU first: it can lower the newest macOS. */
        const struct host_pci_device *gpu = NULL;
        if (o->gpu && streq(o->gpu, "none"))
                gpu = NULL;
        else if (o->gpu) {
                gpu = find_device(h, o->gpu);
                if (!gpu) {
                        *reterr = xasprintf("--gpu %s: no such PCI device on this host", o->gpu);
                        return -EINVAL;
                }
                if ((gpu->class_code >> 16) != 0x03) {
                        *reterr = xasprintf("--gpu %s: not a display controller (class %06x)",
                                            o->gpu, gpu->class_code);
                        return -EINVAL;
                }
        } else if (rep->gpu && rep->passthrough_possible)
                gpu = rep->gpu;

        struct gpu_verdict gv = {};
        if (gpu) {
                compat_gpu_verdict(c, gpu->vendor, gpu->device, NULL, &gv);
                if (gv.support == GPU_SUPPORT_UNSUPPORTED) {
                        *reterr = xasprintf("--gpu %s: macOS has no driver for it (%s)", gpu->bdf,
                                            gv.reason ? gv.reason : "unsupported");
                        gpu_verdict_release(&gv);
                        return -EINVAL;
                }
                p->gpu_bdf = xstrdup(gpu->bdf);
                const struct host_pci_device *audio = gpu_audio(h, gpu);
                if (audio)
                        p->gpu_audio_bdf = xstrdup(audio->bdf);
                p->gpu_name = gv.models ? xstrdup(gv.models)
                                        : xasprintf("%04x:%04x", gpu->vendor, gpu->device);
                p->gpu_family = oc_family_for(gv.family);
                p->mode = gpu == rep->gpu ? rep->mode : PASSTHROUGH_DUAL;
                if (gpu->boot_vga == 1)
                        p->mode = PASSTHROUGH_SINGLE;
        } else {
                p->mode = PASSTHROUGH_NONE;
                p->warnings =
                        strv_push(p->warnings, "no GPU passed through: the guest gets an emulated "
                                               "display without Metal acceleration");
        }

        if (o->macos) {
                p->release = compat_macos_find(c, o->macos, NULL);
                if (!p->release) {
                        *reterr = xasprintf("--macos %s: not a macOS release darwinkvm knows "
                                            "(see 'darwinkvm compat macos')",
                                            o->macos);
                        gpu_verdict_release(&gv);
                        return -EINVAL;
                }
                if (!compat_isa_met(p->release->min_isa, &h->cpu) && !o->force) {
                        *reterr =
                                xasprintf("--macos %s: this CPU lacks %s, which %s needs (--force "
                                          "to try anyway)",
                                          o->macos, p->release->min_isa, p->release->name);
                        gpu_verdict_release(&gv);
                        return -EINVAL;
                }
        } else {
                p->release = rep->newest_by_cpu ? rep->newest_by_cpu : &c->releases[0];
                if (gv.last_version && p->release->version > gv.last_version)
                        p->release = compat_macos_at_most(c, gv.last_version);
                if (!p->release) {
                        *reterr = xstrdup("no macOS release suits this host's CPU and GPU");
                        gpu_verdict_release(&gv);
                        return -EINVAL;
                }
        }
        if (gpu && gv.last_version && p->release->version > gv.last_version)
                p->warnings = strv_consume(
                        p->warnings, xasprintf("the %s is supported only up to macOS %u.%u: %s "
                                               "will have no GPU acceleration",
                                               p->gpu_name, gv.last_version / 100,
                                               gv.last_version % 100, p->release->name));
        if (gpu && !p->gpu_family)
                p->warnings = strv_consume(p->warnings,
                                           xasprintf("no OpenCore GPU profile for the %s family "
                                                     "'%s': the config gets no GPU boot-args",
                                                     p->gpu_name, strempty(gv.family)));
        gpu_verdict_release(&gv);

        p->model = p->release->mac_model;
        p->cpu_model = p->release->qemu_cpu;
        p->nic_model = p->release->nic_model;
        p->disk_bus = p->release->disk_bus;
        bool dudk = p->release->version <= 1014;
        p->firmware = dudk ? "DUDK-Firmware" : "OVMF";
        const char *code = dudk ? h->firmware.dudk_code : h->firmware.code;
        if (code)
                p->fw_code = xstrdup(code);
        else
                p->warnings = strv_consume(
                        p->warnings, xasprintf("no %s firmware found on this host: install it "
                                               "before starting the VM (see 'darwinkvm doctor')",
                                               p->firmware));
        p->memory_mib = rep->guest_ram_mib ? rep->guest_ram_mib : 4096;
        p->disk_bytes = o->disk_bytes ? o->disk_bytes : DEFAULT_DISK_BYTES;

        _cleanup_free_ char *err = NULL;
        if (oc_pinned_version(o->data_dir, &p->opencore_version, &err) < 0) {
                *reterr = TAKE_PTR(err);
                return -EINVAL;
        }
        _cleanup_free_ char *pins =
                o->pins ? xstrdup(o->pins) : xasprintf("%s/assets.tsv", o->data_dir);
        _cleanup_(asset_table_freep) struct asset_table *assets = NULL;
        if (asset_table_load(pins, &assets, &err) < 0) {
                *reterr = TAKE_PTR(err);
                return -EINVAL;
        }
        const struct asset *oc = asset_find(assets, "OpenCorePkg");
        size_t unpinned = 0;
        for (size_t i = 0; i < assets->n; i++)
                unpinned += !assets->items[i].pinned;
        if (o->opencore_zip)
                p->downloads =
                        strv_consume(p->downloads, xasprintf("OpenCore from %s", o->opencore_zip));
        else
                p->downloads = strv_consume(
                        p->downloads, xasprintf("OpenCore %s (%s)", p->opencore_version,
                                                oc && oc->pinned ? "pinned"
                                                                 : "NOT pinned yet: refused unless "
                                                                   "--allow-unpinned"));
        p->downloads = strv_consume(
                p->downloads, xasprintf("the kexts and drivers the config names (%s)",
                                        unpinned ? "some NOT pinned yet: see 'darwinkvm fetch "
                                                   "pins'"
                                                 : "pinned"));
        if (o->no_recovery)
                ;
        else if (o->recovery_dir)
                p->downloads = strv_consume(p->downloads,
                                            xasprintf("recovery image from %s", o->recovery_dir));
        else
                p->downloads =
                        strv_consume(p->downloads, xasprintf("macOS %s recovery image from Apple, "
                                                             "chunklist-verified",
                                                             p->release->name));
        p->writes = strv_consume(p->writes, xasprintf("%s/vm.conf", p->dir));
        p->writes = strv_consume(p->writes, xasprintf("%s/esp/ (EFI tree, config.plist "
                                                      "validated)",
                                                      p->dir));
        p->writes = strv_consume(p->writes, xasprintf("%s/OpenCore.img", p->dir));
        char size[32];
        format_bytes(p->disk_bytes, size, sizeof(size));
        p->writes = strv_consume(p->writes, xasprintf("%s/macOS.qcow2 (%s, sparse)", p->dir, size));

        /* The host changes: the parameters the doctor found missing, and the GPU's binding. */
        _cleanup_strv_free_ char **have =
                h->system.cmdline ? strv_split(h->system.cmdline, " ") : NULL;
        STRV_FOREACH(param, p->gpu_bdf ? rep->needed_params : NULL)
                if (!strv_contains(have, *param))
                        p->kernel_params = strv_push(p->kernel_params, *param);
        if (p->kernel_params) {
                _cleanup_free_ char *list = strv_join(p->kernel_params, " ");
                p->host_changes = strv_consume(p->host_changes,
                                               xasprintf("kernel parameters: add %s (darwinkvm "
                                                         "host kernel-params)",
                                                         list));
        }
        if (p->mode == PASSTHROUGH_SINGLE)
                p->host_changes = strv_consume(p->host_changes,
                                               xasprintf("single-GPU hooks for %s (darwinkvm host "
                                                         "hooks install --vm %s)",
                                                         p->name, p->name));
        else if (p->mode == PASSTHROUGH_DUAL)
                p->host_changes = strv_consume(
                        p->host_changes, xasprintf("bind %s to vfio-pci at boot (darwinkvm host "
                                                   "vfio --boot %s)",
                                                   p->gpu_bdf, p->gpu_bdf));
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- the steps ---- */

struct run {
        const struct new_plan *plan;
        const struct new_options *o;
        struct new_report *rep;
        char *esp;
        bool changed; /* the ESP tree changed: the image must be rebuilt */
};

static struct new_step *step(struct run *r, const char *id, enum new_step_status s, char *detail)
{
        struct new_step *st = &r->rep->steps[r->rep->n_steps++];
        st->id = id;
        st->status = s;
        st->detail = detail;
        return st;
}

/*
 * Whether a failed download only blocks its own step: the network (a later run
 * resumes) or a missing pin (a person records it). Notes the reason.
 */
static bool download_skippable(struct run *r, int err, const char *msg)
{
        if (download_error_is_network(err)) {
                r->rep->network_failed = true;
                if (!r->rep->network_error)
                        r->rep->network_error = xstrdup(msg);
                return true;
        }
        if (err == -EPERM) {
                r->rep->unpinned = true;
                if (!r->rep->unpinned_error)
                        r->rep->unpinned_error = xstrdup(msg);
                return true;
        }
        return false;
}

/* A failed download: skipped when download_skippable(), else an error. */
static int download_failed(struct run *r, const char *id, int err, char *msg, char **reterr)
{
        if (download_skippable(r, err, msg)) {
                step(r, id, NEW_STEP_SKIPPED, msg);
                return 0;
        }
        step(r, id, NEW_STEP_FAILED, xstrdup(msg));
        *reterr = msg;
        return err;
}

static int load_identity(struct run *r, struct vmspec **ret_spec, struct smbios_identity *id,
                         char **reterr)
{
        const struct new_plan *p = r->plan;
        _cleanup_free_ char *path = xasprintf("%s/vm.conf", p->dir);
        if (access(path, F_OK) == 0) {
                /* A second run keeps the identity (and the user's edits) of the first. */
                int k = vmspec_load(path, ret_spec, reterr);
                if (k < 0)
                        return k;
                struct vmspec *s = *ret_spec;
                if (s->smbios_serial && s->smbios_mlb && s->smbios_uuid) {
                        snprintf(id->model, sizeof(id->model), "%s", p->model);
                        snprintf(id->serial, sizeof(id->serial), "%s", s->smbios_serial);
                        snprintf(id->mlb, sizeof(id->mlb), "%s", s->smbios_mlb);
                        snprintf(id->uuid, sizeof(id->uuid), "%s", s->smbios_uuid);
                        const char *rom = s->smbios_rom ? s->smbios_rom : "";
                        for (size_t i = 0; i < 6 && strlen(rom) >= 2 * i + 2; i++) {
                                unsigned v;
                                char hex[3] = { rom[2 * i], rom[2 * i + 1], 0 };
                                if (sscanf(hex, "%x", &v) == 1)
                                        id->rom[i] = (uint8_t) v;
                        }
                        step(r, "identity", NEW_STEP_ALREADY,
                             xasprintf("%s, serial %s (from vm.conf)", p->model, id->serial));
                        return 0;
                }
        }
        _cleanup_(smbios_db_freep) struct smbios_db *db = NULL;
        int k = smbios_db_load(r->o->data_dir, &db, reterr);
        if (k < 0)
                return k;
        const struct smbios_model *m = smbios_db_find(db, p->model);
        if (!m) {
                *reterr = xasprintf("%s: not in macserial-models.tsv", p->model);
                return -EINVAL;
        }
        struct rng rng;
        rng_init(&rng, r->o->seed, "smbios");
        k = smbios_generate(db, m, &rng, 0, 0, id, reterr);
        if (k < 0)
                return k;
        step(r, "identity", NEW_STEP_DONE, xasprintf("%s, serial %s", p->model, id->serial));
        return 0;
}

/* The kexts (Kernel.Add[].BundlePath without .kext) and drivers (UEFI.Drivers[].Path) named. */
static void config_needs(const struct pl_node *config, char ***ret_kexts, char ***ret_drivers)
{
        struct pl_node *add = NULL, *drivers = NULL;
        char *err = NULL;
        if (pl_path_get(config, "Kernel.Add", &add, &err) == 0)
                for (size_t i = 0; pl_array_get(add, i); i++) {
                        const char *b = pl_dict_get_string(pl_array_get(add, i), "BundlePath");
                        /* Plugins inside a bundle come with it. */
                        if (b && endswith(b, ".kext") && !strchr(b, '/'))
                                *ret_kexts = strv_consume(*ret_kexts, xstrndup(b, strlen(b) - 5));
                }
        free(err);
        err = NULL;
        if (pl_path_get(config, "UEFI.Drivers", &drivers, &err) == 0)
                for (size_t i = 0; pl_array_get(drivers, i); i++) {
                        const char *d = pl_dict_get_string(pl_array_get(drivers, i), "Path");
                        if (d && endswith(d, ".efi"))
                                *ret_drivers =
                                        strv_consume(*ret_drivers, xstrndup(d, strlen(d) - 4));
                }
        free(err);
}

static bool exists(const char *dir, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        return access(p, F_OK) == 0;
}

/* Fetches @a (or finds it in the cache); offline runs never touch the network. */
static int fetch_asset(struct run *r, const struct asset *a, char **ret_path, char **reterr)
{
        if (r->o->offline) {
                _cleanup_free_ char *file = asset_file_name(a);
                _cleanup_free_ char *cached = xasprintf(
                        "%s/assets/%s-%s/%s", r->o->assets.cache_dir, a->name, a->version, file);
                if (access(cached, R_OK) != 0) {
                        *reterr =
                                xasprintf("%s %s: not in the cache (offline)", a->name, a->version);
                        return -EHOSTUNREACH;
                }
        }
        _cleanup_free_ char *warning = NULL;
        return asset_fetch(a, &r->o->assets, ret_path, &warning, reterr);
}

static int do_efi(struct run *r, const struct pl_node *config, const struct asset_table *assets,
                  char **reterr)
{
        _cleanup_strv_free_ char **kexts = NULL, **drivers = NULL, **zip_drivers = NULL;
        config_needs(config, &kexts, &drivers);
        /* Drivers that are assets of their own (OcBinaryData's HfsPlus); the rest ship with
         * OpenCore. */
        STRV_FOREACH(d, drivers) {
                const struct asset *a = asset_find(assets, *d);
                if (!a || !streq(a->kind, "driver"))
                        zip_drivers = strv_push(zip_drivers, *d);
        }
        if (exists(r->esp, "EFI/OC/OpenCore.efi") && exists(r->esp, "EFI/BOOT/BOOTx64.efi")) {
                step(r, "opencore", NEW_STEP_ALREADY, xstrdup("EFI/OC/OpenCore.efi"));
        } else {
                _cleanup_free_ char *zip = NULL, *err = NULL;
                int k = 0;
                if (r->o->opencore_zip)
                        zip = xstrdup(r->o->opencore_zip);
                else {
                        const struct asset *a = asset_find(assets, "OpenCorePkg");
                        if (!a) {
                                *reterr = xstrdup("assets.tsv: no OpenCorePkg row");
                                return -EINVAL;
                        }
                        k = fetch_asset(r, a, &zip, &err);
                }
                if (k < 0) {
                        k = download_failed(r, "opencore", k, TAKE_PTR(err), reterr);
                        if (k < 0)
                                return k;
                } else {
                        k = efi_install_opencore(zip, r->esp, (const char *const *) zip_drivers,
                                                 &err);
                        if (k < 0) {
                                step(r, "opencore", NEW_STEP_FAILED, xstrdup(err));
                                *reterr = TAKE_PTR(err);
                                return k;
                        }
                        step(r, "opencore", NEW_STEP_DONE, xasprintf("OpenCore from %s", zip));
                        r->changed = true;
                }
        }

        /*
         * Kexts and separate drivers: each one on its own, so a later run fetches what is
         * missing. A kext the config names must be pinned; a driver that is no asset of its
         * own came with OpenCore.
         */
        size_t done = 0, already = 0, skipped = 0;
        _cleanup_strv_free_ char **names = NULL, **wanted = NULL;
        STRV_FOREACH(kext, kexts)
                wanted = strv_consume(wanted, xasprintf("EFI/OC/Kexts/%s.kext", *kext));
        STRV_FOREACH(d, drivers) {
                const struct asset *a = asset_find(assets, *d);
                if (a && streq(a->kind, "driver"))
                        wanted = strv_consume(wanted, xasprintf("EFI/OC/Drivers/%s.efi", *d));
        }
        STRV_FOREACH(rel, wanted) {
                if (exists(r->esp, *rel)) {
                        already++;
                        continue;
                }
                bool kext = endswith(*rel, ".kext");
                const char *base = strrchr(*rel, '/') + 1;
                _cleanup_free_ char *name = xstrndup(base, strlen(base) - (kext ? 5 : 4));
                const struct asset *a = asset_find(assets, name);
                if (!a) {
                        *reterr = xasprintf("config.plist names %s, which assets.tsv does not pin",
                                            base);
                        step(r, "kexts", NEW_STEP_FAILED, xstrdup(*reterr));
                        return -EINVAL;
                }
                _cleanup_free_ char *file = NULL, *err = NULL;
                int k = fetch_asset(r, a, &file, &err);
                if (k < 0) {
                        if (!download_skippable(r, k, err)) {
                                step(r, "kexts", NEW_STEP_FAILED, xstrdup(err));
                                *reterr = TAKE_PTR(err);
                                return k;
                        }
                        skipped++;
                        continue;
                }
                const char *const only[] = { base, NULL };
                _cleanup_strv_free_ char **installed = NULL;
                k = kext ? efi_install_kext(file, r->esp, only, &installed, &err)
                         : efi_install_driver(file, r->esp, &err);
                if (k < 0) {
                        step(r, "kexts", NEW_STEP_FAILED, xstrdup(err));
                        *reterr = TAKE_PTR(err);
                        return k;
                }
                names = strv_push(names, name);
                done++;
                r->changed = true;
        }
        _cleanup_free_ char *list = names ? strv_join(names, ", ") : xstrdup("");
        if (skipped)
                step(r, "kexts", NEW_STEP_SKIPPED,
                     xasprintf("%zu installed now%s%s%s, %zu already, %zu not available now", done,
                               done ? " (" : "", list, done ? ")" : "", already, skipped));
        else if (done)
                step(r, "kexts", NEW_STEP_DONE,
                     xasprintf("%s%s", list, already ? " (and the ones already there)" : ""));
        else
                step(r, "kexts", NEW_STEP_ALREADY, xasprintf("%zu in place", already));
        return 0;
}

static int do_config(struct run *r, const struct host *h, const struct smbios_identity *id,
                     struct pl_node **ret_config, struct oc_schema **ret_schema, char **reterr)
{
        const struct new_plan *p = r->plan;
        int k = oc_schema_load(r->o->data_dir, p->opencore_version, ret_schema, reterr);
        if (k < 0)
                return k;
        _cleanup_free_ char *path = xasprintf("%s/EFI/OC/config.plist", r->esp);
        if (access(path, F_OK) == 0) {
                /* An earlier run's (or the user's edited) config stays. */
                k = pl_load_dict_file(AT_FDCWD, path, ret_config, NULL, reterr);
                if (k < 0)
                        return k;
                step(r, "config", NEW_STEP_ALREADY, xasprintf("%s", path));
                return 0;
        }
        struct oc_profile prof = {
                .model = p->model,
                .macos = p->release->version_str,
                .cpu = h->cpu.vendor == CPU_VENDOR_AMD ? OC_CPU_AMD : OC_CPU_INTEL,
                .gpu = p->gpu_family,
                .show_picker = true,
                .timeout = 5,
                .identity = id,
        };
        k = oc_config_build(*ret_schema, &prof, ret_config, reterr);
        if (k < 0)
                return k;
        k = oc_efi_write(r->esp, *ret_config, reterr);
        if (k < 0)
                return k;
        r->changed = true;
        step(r, "config", NEW_STEP_DONE,
             xasprintf("config.plist for %s, macOS %s, OpenCore %s", p->model,
                       p->release->version_str, p->opencore_version));
        return 0;
}

static int do_validate(struct run *r, const struct host *h, const struct oc_schema *schema,
                       const struct pl_node *config, char **reterr)
{
        _cleanup_(smbios_db_freep) struct smbios_db *db = NULL;
        int k = smbios_db_load(r->o->data_dir, &db, reterr);
        if (k < 0)
                return k;
        r->rep->bootable = exists(r->esp, "EFI/OC/OpenCore.efi");
        _cleanup_free_ char *oc_dir = xasprintf("%s/EFI/OC", r->esp);
        bool avx2 = strv_contains(h->cpu.flags, "avx2");
        struct oc_validate_options vo = {
                /* Without the downloads the files cannot be there yet: check the rest. */
                .efi_dir = r->rep->bootable && !r->rep->network_failed && !r->rep->unpinned ? oc_dir
                                                                                            : NULL,
                .macos = r->plan->release->version_str,
                .host_avx2 = h->cpu.error ? -1 : avx2,
                .models = db,
        };
        struct oc_findings f = {};
        oc_validate(schema, config, &vo, &f);
        if (f.n > 0) {
                _cleanup_buf_ struct buf b = BUF_INIT;
                for (size_t i = 0; i < f.n; i++)
                        buf_printf(&b, "%s%s: found %s; expected %s", i ? "\n" : "",
                                   f.items[i].path, f.items[i].found, f.items[i].expected);
                step(r, "validate", NEW_STEP_FAILED, xasprintf("%zu findings", f.n));
                *reterr = xasprintf("config.plist has %zu findings:\n%s", f.n, buf_str(&b));
                oc_findings_release(&f);
                return -EINVAL;
        }
        oc_findings_release(&f);
        step(r, "validate", NEW_STEP_DONE,
             xstrdup(vo.efi_dir ? "0 findings (schema, values, files, VM lint)"
                                : "0 findings (files not checked: downloads missing)"));
        return 0;
}

/* Copies @from to @to through the chunklist verifier; @to appears only when it verified. */
static int copy_verified(const char *from, const char *to, const struct chunklist *list,
                         char **reterr)
{
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                int k = -errno;
                *reterr = xasprintf("%s: %s", from, strerror(errno));
                return k;
        }
        _cleanup_atomic_file_ struct atomic_file out = { .dir_fd = -1, .fd = -1 };
        int k = atomic_file_open(AT_FDCWD, to, 0644, false, &out, reterr);
        if (k < 0)
                return k;
        struct chunk_verifier v;
        chunk_verifier_init(&v, list, 0);
        _cleanup_free_ uint8_t *buf = xmalloc(1 << 20);
        for (;;) {
                ssize_t n = read_full(in, buf, 1 << 20);
                if (n < 0) {
                        chunk_verifier_release(&v);
                        *reterr = xasprintf("%s: %s", from, strerror((int) -n));
                        return (int) n;
                }
                if (n == 0)
                        break;
                _cleanup_free_ char *err = NULL;
                k = chunk_verifier_feed(&v, buf, (size_t) n, &err);
                if (k < 0) {
                        chunk_verifier_release(&v);
                        *reterr = xasprintf("%s: %s", from, err);
                        return k;
                }
                k = atomic_file_write(&out, buf, (size_t) n, reterr);
                if (k < 0) {
                        chunk_verifier_release(&v);
                        return k;
                }
        }
        _cleanup_free_ char *err = NULL;
        k = chunk_verifier_finish(&v, &err);
        chunk_verifier_release(&v);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", from, err);
                return k;
        }
        return atomic_file_commit(&out, reterr);
}

static int do_recovery_local(struct run *r, const char *dest, char **reterr)
{
        const char *src = r->o->recovery_dir;
        /* A folder with BaseSystem.* or RecoveryImage.* (or its com.apple.recovery.boot). */
        static const char *const names[] = { "BaseSystem", "RecoveryImage" };
        for (int nested = 0; nested < 2; nested++)
                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        _cleanup_free_ char *base =
                                nested ? xasprintf("%s/com.apple.recovery.boot/%s", src, names[i])
                                       : xasprintf("%s/%s", src, names[i]);
                        _cleanup_free_ char *dmg = xasprintf("%s.dmg", base);
                        _cleanup_free_ char *cl = xasprintf("%s.chunklist", base);
                        if (access(dmg, R_OK) != 0 || access(cl, R_OK) != 0)
                                continue;
                        _cleanup_free_ char *cl_data = NULL;
                        size_t cl_len = 0;
                        int k = read_file_at(AT_FDCWD, cl, 1 << 20, &cl_data, &cl_len, reterr);
                        if (k < 0)
                                return k;
                        _cleanup_(chunklist_freep) struct chunklist *list = NULL;
                        _cleanup_free_ char *warning = NULL, *err = NULL;
                        k = chunklist_parse((const uint8_t *) cl_data, cl_len, r->o->recovery.keys,
                                            r->o->recovery.n_keys, r->o->recovery.chunklist_flags,
                                            &list, &warning, &err);
                        if (k < 0) {
                                *reterr = xasprintf("%s: %s", cl, err);
                                return k;
                        }
                        k = mkdir_p(dest, 0755);
                        if (k < 0) {
                                *reterr = xasprintf("%s: %s", dest, strerror(-k));
                                return k;
                        }
                        _cleanup_free_ char *out_cl = xasprintf("%s/%s.chunklist", dest, names[i]);
                        _cleanup_free_ char *out_dmg = xasprintf("%s/%s.dmg", dest, names[i]);
                        k = write_file_atomic(AT_FDCWD, out_cl, cl_data, cl_len, 0644, reterr);
                        if (k < 0)
                                return k;
                        k = copy_verified(dmg, out_dmg, list, reterr);
                        if (k < 0)
                                return k;
                        step(r, "recovery", NEW_STEP_DONE,
                             xasprintf("%s.dmg from %s, every chunk verified", names[i], src));
                        r->changed = true;
                        return 0;
                }
        *reterr = xasprintf("--recovery %s: no BaseSystem or RecoveryImage .dmg with its "
                            ".chunklist",
                            src);
        return -ENOENT;
}

static int do_recovery(struct run *r, char **reterr)
{
        _cleanup_free_ char *dest = xasprintf("%s/com.apple.recovery.boot", r->esp);
        if (r->o->no_recovery) {
                step(r, "recovery", NEW_STEP_SKIPPED, xstrdup("--no-recovery"));
                return 0;
        }
        if ((exists(dest, "BaseSystem.dmg") && exists(dest, "BaseSystem.chunklist")) ||
            (exists(dest, "RecoveryImage.dmg") && exists(dest, "RecoveryImage.chunklist"))) {
                step(r, "recovery", NEW_STEP_ALREADY, xasprintf("%s", dest));
                return 0;
        }
        if (r->o->recovery_dir)
                return do_recovery_local(r, dest, reterr);
        if (r->o->offline) {
                step(r, "recovery", NEW_STEP_SKIPPED,
                     xstrdup("offline: give --recovery DIR or run again online"));
                return 0;
        }
        struct recovery_target t = {};
        _cleanup_free_ char *err = NULL;
        int k = recovery_target_resolve(r->o->data_dir, r->plan->release->version_str, &t, &err);
        if (k < 0) {
                step(r, "recovery", NEW_STEP_FAILED, xstrdup(err));
                *reterr = TAKE_PTR(err);
                return k;
        }
        struct rng rng;
        rng_init(&rng, NULL, "recovery");
        struct recovery_info info = {};
        k = recovery_query(r->o->recovery_server, t.board_id, t.mlb, t.os, &rng,
                           &r->o->recovery.download, &info, &err);
        recovery_target_release(&t);
        if (k < 0)
                return download_failed(r, "recovery", k, TAKE_PTR(err), reterr);
        _cleanup_free_ char *image = NULL, *warning = NULL;
        k = recovery_fetch(&info, dest, &r->o->recovery, &image, &warning, &err);
        recovery_info_release(&info);
        if (k < 0)
                return download_failed(r, "recovery", k, TAKE_PTR(err), reterr);
        step(r, "recovery", NEW_STEP_DONE, xasprintf("%s, every chunk verified", image));
        r->changed = true;
        return 0;
}

static int do_image(struct run *r, const struct progress_sink *progress, char **reterr)
{
        _cleanup_free_ char *out = xasprintf("%s/OpenCore.img", r->plan->dir);
        if (access(out, F_OK) == 0 && !r->changed) {
                step(r, "image", NEW_STEP_ALREADY, xasprintf("%s", out));
                return 0;
        }
        struct image_build_options io = {
                .from = r->esp,
                .layout = IMAGE_LAYOUT_GPT,
                .format = IMAGE_FORMAT_RAW,
                .seed = r->o->seed,
                .timestamp = 0,
                .force = true,
        };
        struct image_build_result res;
        int k = image_build(out, &io, progress, &res, reterr);
        if (k < 0) {
                step(r, "image", NEW_STEP_FAILED, xstrdup(*reterr));
                return k;
        }
        char size[32];
        format_bytes(res.disk_bytes, size, sizeof(size));
        step(r, "image", NEW_STEP_DONE,
             xasprintf("%s (%s, %" PRIu64 " files)", out, size, res.files));
        return 0;
}

static int do_disk(struct run *r, char **reterr)
{
        _cleanup_free_ char *out = xasprintf("%s/macOS.qcow2", r->plan->dir);
        if (access(out, F_OK) == 0) {
                step(r, "disk", NEW_STEP_ALREADY, xasprintf("%s", out));
                return 0;
        }
        struct disk_create_options dopt = {
                .size = r->plan->disk_bytes,
                .format = DISK_FORMAT_QCOW2,
                .prealloc = DISK_PREALLOC_OFF,
        };
        struct disk_create_result res;
        int k = disk_create(out, &dopt, &res, reterr);
        if (k < 0) {
                step(r, "disk", NEW_STEP_FAILED, xstrdup(*reterr));
                return k;
        }
        char size[32];
        format_bytes(r->plan->disk_bytes, size, sizeof(size));
        step(r, "disk", NEW_STEP_DONE,
             xasprintf("%s (%s qcow2%s)", out, size, res.nocow ? ", nocow" : ""));
        return 0;
}

static int do_spec(struct run *r, struct vmspec *existing, const struct smbios_identity *id,
                   char **reterr)
{
        const struct new_plan *p = r->plan;
        _cleanup_free_ char *path = xasprintf("%s/vm.conf", p->dir);
        r->rep->spec_path = xstrdup(path);
        if (existing) {
                step(r, "spec", NEW_STEP_ALREADY, xasprintf("%s (kept as it is)", path));
                return 0;
        }
        _cleanup_(vmspec_freep) struct vmspec *s = vmspec_new();
        s->name = xstrdup(p->name);
        struct rng rng;
        rng_init(&rng, r->o->seed, "vm-uuid");
        struct uuid u;
        uuid_random(&rng, &u);
        char us[UUID_STRING_MAX];
        uuid_format_lower(&u, us);
        s->uuid = xstrdup(us);
        s->macos = xstrdup(p->release->version_str);
        s->memory = p->memory_mib << 20;
        s->opencore = xasprintf("%s/OpenCore.img", p->dir);
        s->system_disk = xasprintf("%s/macOS.qcow2", p->dir);
        if (p->gpu_bdf) {
                s->gpu = xstrdup(p->gpu_bdf);
                if (p->gpu_audio_bdf)
                        s->gpu_audio = xstrdup(p->gpu_audio_bdf);
        }
        s->smbios_serial = xstrdup(id->serial);
        s->smbios_mlb = xstrdup(id->mlb);
        s->smbios_uuid = xstrdup(id->uuid);
        s->smbios_rom = xasprintf("%02X%02X%02X%02X%02X%02X", id->rom[0], id->rom[1], id->rom[2],
                                  id->rom[3], id->rom[4], id->rom[5]);
        int k = vmspec_write(s, path, reterr);
        if (k < 0) {
                step(r, "spec", NEW_STEP_FAILED, xstrdup(*reterr));
                return k;
        }
        step(r, "spec", NEW_STEP_DONE, xasprintf("%s", path));
        return 0;
}

int new_run(const struct new_plan *plan, const struct new_options *o, const struct host *h,
            const struct compat *c, const struct progress_sink *progress, struct new_report *ret,
            char **reterr)
{
        (void) c;
        *ret = (struct new_report){};
        struct run r = { .plan = plan, .o = o, .rep = ret };
        _cleanup_free_ char *esp = xasprintf("%s/esp", plan->dir);
        r.esp = esp;
        int k = mkdir_p(esp, 0755);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", esp, strerror(-k));
                return k;
        }
        _cleanup_(vmspec_freep) struct vmspec *existing = NULL;
        struct smbios_identity id = {};
        k = load_identity(&r, &existing, &id, reterr);
        if (k < 0)
                return k;
        _cleanup_(pl_freep) struct pl_node *config = NULL;
        _cleanup_(oc_schema_freep) struct oc_schema *schema = NULL;
        k = do_config(&r, h, &id, &config, &schema, reterr);
        if (k < 0)
                return k;
        _cleanup_free_ char *assets_path =
                o->pins ? xstrdup(o->pins) : xasprintf("%s/assets.tsv", o->data_dir);
        _cleanup_(asset_table_freep) struct asset_table *assets = NULL;
        k = asset_table_load(assets_path, &assets, reterr);
        if (k < 0)
                return k;
        k = do_efi(&r, config, assets, reterr);
        if (k < 0)
                return k;
        k = do_validate(&r, h, schema, config, reterr);
        if (k < 0)
                return k;
        k = do_recovery(&r, reterr);
        if (k < 0)
                return k;
        k = do_image(&r, progress, reterr);
        if (k < 0)
                return k;
        k = do_disk(&r, reterr);
        if (k < 0)
                return k;
        return do_spec(&r, existing, &id, reterr);
}

char *new_journal_verb(const char *name)
{
        return xasprintf("new:%s", name);
}

int new_host_changes(const struct new_plan *plan, const struct host *h, const struct compat *c,
                     const struct root *r, struct change_set *cs, char ***ret_notes, char **reterr)
{
        int k;
        if (plan->kernel_params) {
                _cleanup_free_ char *err = NULL;
                k = bootloader_plan(h, r, cs, plan->kernel_params, NULL, &err);
                /* No bootloader darwinkvm can edit: the exact manual steps, and the rest goes on.
                 */
                if (k == -EOPNOTSUPP)
                        *ret_notes = strv_consume(*ret_notes, TAKE_PTR(err));
                else if (k < 0) {
                        *reterr = TAKE_PTR(err);
                        return k;
                }
        }
        if (plan->mode == PASSTHROUGH_SINGLE) {
                char *const vms[] = { plan->name, NULL };
                _cleanup_strv_free_ char **hook_notes = NULL;
                k = hooks_install_plan(h, c, r, vms, plan->gpu_bdf, -1, cs, &hook_notes, reterr);
                if (k < 0)
                        return k;
                STRV_FOREACH(n, hook_notes)
                        *ret_notes = strv_push(*ret_notes, *n);
        } else if (plan->mode == PASSTHROUGH_DUAL) {
                char *const bdfs[] = { plan->gpu_bdf, NULL };
                struct vfio_target t = {};
                k = vfio_target_make(h, r, bdfs, false, &t, reterr);
                if (k < 0)
                        return k;
                k = vfio_boot_plan(r, &t, cs, reterr);
                vfio_target_release(&t);
                if (k < 0)
                        return k;
        }
        return 0;
}
