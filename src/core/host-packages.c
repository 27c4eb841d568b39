/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "alloc.h"
#include "host.h"
#include "strutil.h"
#include "strv.h"

/*
 * Installed versions come from the package database under the root (dpkg's
 * status file, pacman's local database); on other systems (rpm keeps a
 * binary database) we only see whether the program exists.
 */

struct component_info {
        const char *const *dpkg;
        const char *const *pacman;
        const char *const *files;
};

static const char *const qemu_dpkg[] = { "qemu-system-x86", "qemu-kvm", NULL };
static const char *const qemu_pacman[] = { "qemu-full", "qemu-base", "qemu-desktop",
                                           "qemu-system-x86", NULL };
static const char *const qemu_files[] = { "/usr/bin/qemu-system-x86_64", "/usr/libexec/qemu-kvm",
                                          NULL };
static const char *const libvirt_dpkg[] = { "libvirt-daemon-system", "libvirt-daemon", NULL };
static const char *const libvirt_pacman[] = { "libvirt", NULL };
static const char *const libvirt_files[] = { "/usr/sbin/libvirtd", "/usr/sbin/virtqemud", NULL };
static const char *const vmm_dpkg[] = { "virt-manager", NULL };
static const char *const vmm_pacman[] = { "virt-manager", NULL };
static const char *const vmm_files[] = { "/usr/bin/virt-manager", NULL };
static const char *const ovmf_dpkg[] = { "ovmf", NULL };
static const char *const ovmf_pacman[] = { "edk2-ovmf", NULL };
static const char *const ovmf_files[] = { NULL };

static const struct component_info components[HOST_COMPONENT_COUNT] = {
        [HOST_COMPONENT_QEMU] = { qemu_dpkg, qemu_pacman, qemu_files },
        [HOST_COMPONENT_LIBVIRT] = { libvirt_dpkg, libvirt_pacman, libvirt_files },
        [HOST_COMPONENT_VIRT_MANAGER] = { vmm_dpkg, vmm_pacman, vmm_files },
        [HOST_COMPONENT_OVMF] = { ovmf_dpkg, ovmf_pacman, ovmf_files },
};

const char *host_component_to_string(enum host_component c)
{
        static const char *const names[HOST_COMPONENT_COUNT] = {
                [HOST_COMPONENT_QEMU] = "qemu",
                [HOST_COMPONENT_LIBVIRT] = "libvirt",
                [HOST_COMPONENT_VIRT_MANAGER] = "virt-manager",
                [HOST_COMPONENT_OVMF] = "ovmf",
        };
        return c < HOST_COMPONENT_COUNT ? names[c] : "unknown";
}

/* Finds the stanza of installed package @name in dpkg's status file; returns its Version. */
static char *dpkg_version(const char *status, const char *name)
{
        _cleanup_free_ char *needle = xasprintf("Package: %s\n", name);
        for (const char *p = status; (p = strstr(p, needle)); p++) {
                if (p != status && p[-1] != '\n')
                        continue;
                const char *end = strstr(p, "\n\n");
                size_t len = end ? (size_t) (end - p) : strlen(p);
                _cleanup_free_ char *stanza = xstrndup(p, len);
                /* Multi-arch packages have one stanza per architecture; any installed one counts.
                 */
                /* "install ok installed", or "hold ok installed" for a held package */
                const char *st = strstr(stanza, "\nStatus: ");
                if (!st)
                        continue;
                _cleanup_free_ char *state = xstrndup(st + 9, strcspn(st + 9, "\n"));
                if (!endswith(state, " ok installed"))
                        continue;
                const char *ver = strstr(stanza, "\nVersion: ");
                if (!ver)
                        return xstrdup("");
                ver += 10;
                _cleanup_free_ char *v = xstrndup(ver, strcspn(ver, "\n"));
                return str_printable(v, 64);
        }
        return NULL;
}

/* pacman keeps /var/lib/pacman/local/NAME-VERSION-REL/desc with %NAME% and %VERSION%. */
static char *pacman_version(const struct root *root, char **entries, const char *name)
{
        size_t nl = strlen(name);
        STRV_FOREACH(e, entries) {
                if (strncmp(*e, name, nl) != 0 || (*e)[nl] != '-')
                        continue;
                _cleanup_free_ char *path = xasprintf("/var/lib/pacman/local/%s/desc", *e);
                _cleanup_free_ char *desc = NULL;
                if (root_read_file(root, path, 1u << 20, &desc, NULL) < 0)
                        continue;
                const char *n = strstr(desc, "%NAME%\n");
                const char *v = strstr(desc, "%VERSION%\n");
                if (!n || !v)
                        continue;
                n += 7;
                if (strncmp(n, name, nl) != 0 || (n[nl] != '\n' && n[nl] != 0))
                        continue;
                v += 10;
                _cleanup_free_ char *ver = xstrndup(v, strcspn(v, "\n"));
                return str_printable(ver, 64);
        }
        return NULL;
}

/* What the guide names (OpenRGB, Docker, openrazer-daemon), by package and by program. */
static void find_gpu_daemons(const struct root *root, const char *status, char **pacman,
                             struct host_gpu_daemons *daemons)
{
        static const char *const dpkg_names[] = { "openrgb", "docker.io", "docker-ce",
                                                  "openrazer-daemon" };
        static const char *const pacman_names[] = { "openrgb", "docker", "openrazer-daemon" };
        static const char *const files[] = { "/usr/bin/openrgb", "/usr/bin/dockerd",
                                             "/usr/sbin/dockerd", "/usr/bin/openrazer-daemon" };
        char **found = xcalloc(1, sizeof(char *));
        for (size_t i = 0; status && i < ELEMENTSOF(dpkg_names); i++) {
                _cleanup_free_ char *v = dpkg_version(status, dpkg_names[i]);
                if (v && !strv_contains(found, dpkg_names[i]))
                        found = strv_push(found, dpkg_names[i]);
        }
        for (size_t i = 0; pacman && i < ELEMENTSOF(pacman_names); i++) {
                _cleanup_free_ char *v = pacman_version(root, pacman, pacman_names[i]);
                if (v && !strv_contains(found, pacman_names[i]))
                        found = strv_push(found, pacman_names[i]);
        }
        if (strv_length(found) == 0)
                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        if (root_exists(root, files[i]))
                                found = strv_push(found, files[i]);
        strv_sort(found);
        daemons->found = found;
}

void host_packages_load(const struct root *root, struct host_package *pkgs,
                        struct host_gpu_daemons *daemons)
{
        _cleanup_free_ char *status = NULL;
        if (root_read_file(root, "/var/lib/dpkg/status", 256u << 20, &status, NULL) < 0)
                status = NULL;
        _cleanup_strv_free_ char **pacman = NULL;
        if (root_list_dir(root, "/var/lib/pacman/local", &pacman) < 0)
                pacman = NULL;

        for (size_t c = 0; c < HOST_COMPONENT_COUNT; c++) {
                struct host_package *p = &pkgs[c];
                const struct component_info *ci = &components[c];
                for (size_t i = 0; status && !p->installed && ci->dpkg[i]; i++) {
                        char *v = dpkg_version(status, ci->dpkg[i]);
                        if (v) {
                                p->installed = true;
                                p->package = xstrdup(ci->dpkg[i]);
                                p->version = *v ? v : (free(v), NULL);
                                p->source = "dpkg";
                        }
                }
                for (size_t i = 0; pacman && !p->installed && ci->pacman[i]; i++) {
                        char *v = pacman_version(root, pacman, ci->pacman[i]);
                        if (v) {
                                p->installed = true;
                                p->package = xstrdup(ci->pacman[i]);
                                p->version = v;
                                p->source = "pacman";
                        }
                }
                for (size_t i = 0; !p->installed && ci->files[i]; i++)
                        if (root_exists(root, ci->files[i])) {
                                p->installed = true;
                                p->package = xstrdup(ci->files[i]);
                                p->source = "file";
                        }
        }
        find_gpu_daemons(root, status, pacman, daemons);
}
