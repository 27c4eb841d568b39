/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>

#include "alloc.h"
#include "host.h"
#include "strutil.h"
#include "strv.h"

#define SMALL_FILE_MAX (1u << 20)

void host_memory_parse(const char *meminfo, struct host_memory *mem)
{
        bool total = false;
        for (const char *line = meminfo; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                char buf[128];
                /* A last line without its newline was cut short: "MemTotal: 3276" is not 3 MiB. */
                if (nl && len < sizeof(buf)) {
                        memcpy(buf, line, len);
                        buf[len] = 0;
                        char *colon = strchr(buf, ':');
                        if (colon) {
                                *colon = 0;
                                char *val = colon + 1;
                                char *unit = strstr(val, " kB");
                                if (unit)
                                        *unit = 0;
                                uint64_t v;
                                bool sized = streq(buf, "MemTotal") || streq(buf, "MemAvailable") ||
                                             streq(buf, "Hugepagesize");
                                if ((unit || !sized) && parse_u64(val, &v) == 0) {
                                        if (streq(buf, "MemTotal")) {
                                                mem->total_kib = v;
                                                total = true;
                                        } else if (streq(buf, "MemAvailable"))
                                                mem->available_kib = v;
                                        else if (streq(buf, "HugePages_Total"))
                                                mem->hugepages_total = v;
                                        else if (streq(buf, "Hugepagesize"))
                                                mem->hugepage_kib = v;
                                }
                        }
                }
                line = nl ? nl + 1 : NULL;
        }
        if (!total || mem->total_kib == 0)
                mem->error = xstrdup("no valid 'MemTotal' in /proc/meminfo");
}

void host_memory_load(const struct root *root, struct host_memory *mem)
{
        _cleanup_free_ char *text = NULL;
        int r = root_read_file(root, "/proc/meminfo", SMALL_FILE_MAX, &text, NULL);
        if (r < 0) {
                mem->error = xasprintf("cannot read /proc/meminfo: %s", strerror(-r));
                return;
        }
        host_memory_parse(text, mem);
}

static enum tristate read_bool_param(const struct root *root, const char *path)
{
        _cleanup_free_ char *s = NULL;
        if (root_read_line(root, path, &s) < 0)
                return TRI_UNKNOWN;
        if (streq(s, "Y") || streq(s, "1") || streq(s, "y"))
                return TRI_YES;
        if (streq(s, "N") || streq(s, "0") || streq(s, "n"))
                return TRI_NO;
        return TRI_UNKNOWN;
}

void host_kvm_load(const struct root *root, struct host_kvm *kvm)
{
        kvm->mod_kvm = root_is_dir(root, "/sys/module/kvm");
        kvm->mod_intel = root_is_dir(root, "/sys/module/kvm_intel");
        kvm->mod_amd = root_is_dir(root, "/sys/module/kvm_amd");
        kvm->mod_pvm = root_is_dir(root, "/sys/module/kvm_pvm");
        kvm->ignore_msrs = read_bool_param(root, "/sys/module/kvm/parameters/ignore_msrs");
        kvm->nested =
                kvm->mod_intel ? read_bool_param(root, "/sys/module/kvm_intel/parameters/nested")
                : kvm->mod_amd ? read_bool_param(root, "/sys/module/kvm_amd/parameters/nested")
                               : TRI_UNKNOWN;

        struct stat st;
        int r = root_stat(root, "/dev/kvm", &st, true);
        if (r == -ENOENT)
                return;
        kvm->dev_present = true;
        if (r < 0) {
                kvm->dev_error = xasprintf("cannot stat /dev/kvm: %s", strerror(-r));
                return;
        }
        /* Opening it is the only real test of usability (permissions, ACLs, LSMs). */
        int fd = root_openat(root, "/dev/kvm", O_RDWR | O_NOCTTY | O_NONBLOCK, 0);
        if (fd < 0) {
                kvm->dev_error = xasprintf("cannot open /dev/kvm read-write: %s", strerror(-fd));
                return;
        }
        close(fd);
        kvm->dev_usable = true;
}

static char *module_name_of(const char *path_or_name)
{
        const char *slash = strrchr(path_or_name, '/');
        const char *base = slash ? slash + 1 : path_or_name;
        size_t n = strcspn(base, ".");
        char *m = xstrndup(base, n);
        for (char *p = m; *p; p++)
                if (*p == '-')
                        *p = '_';
        return m;
}

static void add_modules_from(const struct root *root, const char *path, bool dep, char ***list,
                             char **error)
{
        _cleanup_free_ char *text = NULL;
        int r = root_read_file(root, path, 64u << 20, &text, NULL);
        if (r < 0) {
                if (!*error)
                        *error = xasprintf("cannot read %s: %s", path, strerror(-r));
                return;
        }
        for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                if (dep) {
                        char *colon = strchr(line, ':');
                        if (colon)
                                *colon = 0;
                }
                if (*line && (endswith(line, ".ko") || strstr(line, ".ko.")))
                        *list = strv_consume(*list, module_name_of(line));
                line = nl ? nl + 1 : NULL;
        }
}

void host_modules_load(const struct root *root, struct host_modules *mods)
{
        if (root_list_dir(root, "/sys/module", &mods->loaded) < 0)
                mods->loaded = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *rel = NULL;
        if (root_read_line(root, "/proc/sys/kernel/osrelease", &rel) < 0 || strchr(rel, '/') ||
            streq(rel, "..")) {
                mods->available_error = xstrdup("cannot read the kernel release from "
                                                "/proc/sys/kernel/osrelease");
                mods->available = xcalloc(1, sizeof(char *));
                return;
        }
        mods->kernel_release = str_printable(rel, 128);
        mods->available = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *dep = xasprintf("/lib/modules/%s/modules.dep", rel);
        _cleanup_free_ char *builtin = xasprintf("/lib/modules/%s/modules.builtin", rel);
        char *err_dep = NULL, *err_builtin = NULL;
        add_modules_from(root, dep, true, &mods->available, &err_dep);
        add_modules_from(root, builtin, false, &mods->available, &err_builtin);
        if (err_dep && err_builtin)
                mods->available_error = TAKE_PTR(err_dep);
        free(err_dep);
        free(err_builtin);
        strv_sort(mods->available);
}

const char *bootloader_to_string(enum bootloader b)
{
        static const char *const names[BOOTLOADER_COUNT] = {
                [BOOTLOADER_UNKNOWN] = "unknown",
                [BOOTLOADER_GRUB] = "grub",
                [BOOTLOADER_SYSTEMD_BOOT] = "systemd-boot",
                [BOOTLOADER_KERNELSTUB] = "kernelstub",
                [BOOTLOADER_GRUBBY] = "grubby",
        };
        return b < BOOTLOADER_COUNT ? names[b] : "unknown";
}

static void detect_bootloader(const struct root *root, struct host_system *sys)
{
        /* Most specific first: Pop!_OS has systemd-boot driven by kernelstub, Fedora has GRUB
         * driven by grubby. */
        static const struct {
                const char *path;
                enum bootloader kind;
        } probes[] = {
                { "/etc/kernelstub/configuration", BOOTLOADER_KERNELSTUB },
                { "/usr/sbin/grubby", BOOTLOADER_GRUBBY },
                { "/usr/bin/grubby", BOOTLOADER_GRUBBY },
                { "/boot/loader/loader.conf", BOOTLOADER_SYSTEMD_BOOT },
                { "/efi/loader/loader.conf", BOOTLOADER_SYSTEMD_BOOT },
                { "/boot/efi/loader/loader.conf", BOOTLOADER_SYSTEMD_BOOT },
                { "/etc/default/grub", BOOTLOADER_GRUB },
                { "/boot/grub/grub.cfg", BOOTLOADER_GRUB },
                { "/boot/grub2/grub.cfg", BOOTLOADER_GRUB },
        };

        for (size_t i = 0; i < ELEMENTSOF(probes); i++) {
                struct stat st;
                if (root_stat(root, probes[i].path, &st, true) == 0 && S_ISREG(st.st_mode)) {
                        sys->bootloader = probes[i].kind;
                        sys->bootloader_evidence = xstrdup(probes[i].path);
                        return;
                }
        }
}

static char *os_release_value(const char *text, const char *key)
{
        size_t kl = strlen(key);
        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                if (len > kl && strncmp(line, key, kl) == 0 && line[kl] == '=') {
                        _cleanup_free_ char *v = xstrndup(line + kl + 1, len - kl - 1);
                        strstrip(v);
                        size_t n = strlen(v);
                        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                                v[n - 1] = 0;
                                return str_printable(v + 1, 128);
                        }
                        return str_printable(v, 128);
                }
                line = nl ? nl + 1 : NULL;
        }
        return NULL;
}

void host_system_load(const struct root *root, struct host_system *sys)
{
        _cleanup_free_ char *cmdline = NULL;
        int r = root_read_file(root, "/proc/cmdline", SMALL_FILE_MAX, &cmdline, NULL);
        if (r < 0)
                sys->cmdline_error = xasprintf("cannot read /proc/cmdline: %s", strerror(-r));
        else {
                cmdline[strcspn(cmdline, "\n")] = 0;
                strstrip(cmdline);
                if (!*cmdline)
                        sys->cmdline_error = xstrdup("/proc/cmdline is empty");
                else if (!utf8_is_valid(cmdline, strlen(cmdline)))
                        sys->cmdline_error = xstrdup("/proc/cmdline is not text");
                else {
                        sys->cmdline = str_printable(cmdline, 4096);
                        sys->cmdline_args = strv_split(sys->cmdline, " \t");
                }
        }
        sys->uefi = root_is_dir(root, "/sys/firmware/efi");

        _cleanup_free_ char *osr = NULL;
        r = root_read_file(root, "/etc/os-release", SMALL_FILE_MAX, &osr, NULL);
        if (r < 0)
                r = root_read_file(root, "/usr/lib/os-release", SMALL_FILE_MAX, &osr, NULL);
        if (r < 0)
                sys->os_error = xasprintf("cannot read /etc/os-release: %s", strerror(-r));
        else {
                sys->os_id = os_release_value(osr, "ID");
                sys->os_id_like = os_release_value(osr, "ID_LIKE");
                sys->os_pretty_name = os_release_value(osr, "PRETTY_NAME");
                if (!sys->os_id)
                        sys->os_error = xstrdup("no ID= in /etc/os-release");
        }

        if (root_list_dir(root, "/sys/class/iommu", &sys->iommu_units) < 0)
                sys->iommu_units = xcalloc(1, sizeof(char *));
        sys->acpi_dmar = root_exists(root, "/sys/firmware/acpi/tables/DMAR");
        sys->acpi_ivrs = root_exists(root, "/sys/firmware/acpi/tables/IVRS");
        detect_bootloader(root, sys);

        sys->chassis_type = -1;
        _cleanup_free_ char *ct = NULL;
        int v;
        if (root_read_line(root, "/sys/class/dmi/id/chassis_type", &ct) == 0 &&
            parse_int(ct, &v) == 0 && v >= 0)
                sys->chassis_type = v;
        _cleanup_free_ char *bv = NULL, *bn = NULL;
        if (root_read_line(root, "/sys/class/dmi/id/board_vendor", &bv) == 0)
                sys->board_vendor = str_printable(bv, 64);
        if (root_read_line(root, "/sys/class/dmi/id/board_name", &bn) == 0)
                sys->board_name = str_printable(bn, 64);
}

/* Fields of a colon-separated /etc/passwd or /etc/group line. */
static char **split_colon(const char *line)
{
        char **f = xcalloc(1, sizeof(char *));
        const char *p = line;
        for (;;) {
                size_t n = strcspn(p, ":");
                f = strv_consume(f, xstrndup(p, n));
                if (!p[n])
                        break;
                p += n + 1;
        }
        return f;
}

void host_user_load(const struct root *root, const char *name, struct host_user *user)
{
        user->name = xstrdup(name);
        user->groups = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        int r = root_read_file(root, "/etc/passwd", 16u << 20, &passwd, NULL);
        if (r < 0) {
                user->error = xasprintf("cannot read /etc/passwd: %s", strerror(-r));
                return;
        }
        _cleanup_free_ char *gid = NULL;
        for (char *line = passwd; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                _cleanup_strv_free_ char **f = split_colon(line);
                if (strv_length(f) >= 4 && streq(f[0], name)) {
                        user->exists = true;
                        user->is_root = streq(f[2], "0");
                        gid = xstrdup(f[3]);
                        break;
                }
                line = nl ? nl + 1 : NULL;
        }
        if (!user->exists)
                return;
        r = root_read_file(root, "/etc/group", 16u << 20, &group, NULL);
        if (r < 0) {
                user->error = xasprintf("cannot read /etc/group: %s", strerror(-r));
                return;
        }
        for (char *line = group; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                _cleanup_strv_free_ char **f = split_colon(line);
                if (strv_length(f) >= 4) {
                        _cleanup_strv_free_ char **members = strv_split(f[3], ",");
                        if ((gid && streq(f[2], gid)) || strv_contains(members, name))
                                if (!strv_contains(user->groups, f[0]))
                                        user->groups = strv_push(user->groups, f[0]);
                }
                line = nl ? nl + 1 : NULL;
        }
        strv_sort(user->groups);
}
