/* SPDX-License-Identifier: MIT */
#include "vfio.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "hostfs.h"
#include "iommu.h"
#include "macro.h"
#include "strv.h"

static const struct host_pci_device *find_device(const struct host *h, const char *bdf)
{
        for (size_t i = 0; i < h->pci.n_devices; i++)
                if (streq(h->pci.devices[i].bdf, bdf))
                        return &h->pci.devices[i];
        return NULL;
}

/* The kernel module behind a PCI driver: its sysfs "module" link, else the name itself. */
static char *driver_module(const struct root *r, const char *driver)
{
        _cleanup_free_ char *link = xasprintf("/sys/bus/pci/drivers/%s/module", driver);
        char *m = NULL;
        if (root_link_basename(r, link, &m) == 0)
                return m;
        /* Drivers whose module has another name, for sysfs without the link. */
        static const char *const renamed[][2] = { { "xhci_hcd", "xhci_pci" },
                                                  { "ehci-pci", "ehci_pci" },
                                                  { "i801_smbus", "i2c_i801" } };
        for (size_t i = 0; i < ELEMENTSOF(renamed); i++)
                if (streq(driver, renamed[i][0]))
                        return xstrdup(renamed[i][1]);
        m = xstrdup(driver);
        for (char *p = m; *p; p++)
                if (*p == '-')
                        *p = '_';
        return m;
}

void vfio_target_release(struct vfio_target *t)
{
        strv_free(t->bdfs);
        strv_free(t->ids);
        strv_free(t->modules);
        *t = (struct vfio_target){ 0 };
}

int vfio_target_make(const struct host *h, const struct root *r, char *const *bdfs,
                     bool allow_boot_display, struct vfio_target *ret, char **reterr)
{
        struct vfio_target t = { .bdfs = xcalloc(1, sizeof(char *)),
                                 .ids = xcalloc(1, sizeof(char *)),
                                 .modules = xcalloc(1, sizeof(char *)) };
        STRV_FOREACH(b, (char **) bdfs) {
                const struct host_pci_device *d = find_device(h, *b);
                if (!pci_bdf_is_valid(*b) || !d) {
                        *reterr = xasprintf("%s: no such PCI device (see 'darwinkvm iommu')", *b);
                        vfio_target_release(&t);
                        return -ENODEV;
                }
                if (pci_class_is_ignorable(d->class_code)) {
                        *reterr = xasprintf("%s: a bridge; bridges are never passed through", *b);
                        vfio_target_release(&t);
                        return -ECANCELED;
                }
                const struct host_iommu_group *g =
                        d->iommu_group >= 0 ? host_iommu_group_find(h, d->iommu_group) : NULL;
                if (!g) {
                        *reterr = xasprintf("%s: in no IOMMU group; turn the IOMMU on first "
                                            "(darwinkvm host kernel-params --recommended)",
                                            *b);
                        vfio_target_release(&t);
                        return -ENXIO;
                }
                if (strv_length(g->unknown_bdfs) > 0) {
                        *reterr = xasprintf("%s: IOMMU group %d lists %s, which could not be "
                                            "read; refusing to guess",
                                            *b, g->id, g->unknown_bdfs[0]);
                        vfio_target_release(&t);
                        return -ECANCELED;
                }
                for (size_t i = 0; i < g->n_devices; i++) {
                        const struct host_pci_device *o = &h->pci.devices[g->devices[i]];
                        if (o->has_ids && pci_class_is_ignorable(o->class_code))
                                continue;
                        bool boot_display_ok =
                                allow_boot_display && pci_class_is_display(o->class_code);
                        if (o->has_ids && pci_class_is_display(o->class_code) && o->boot_vga == 1 &&
                            !boot_display_ok) {
                                *reterr = xasprintf(
                                        "%s: %s is the boot display, the host's screen; for "
                                        "single-GPU passthrough install the hook (darwinkvm host "
                                        "hooks install --vm NAME), which hands it over only while "
                                        "the VM runs",
                                        *b, o->bdf);
                                vfio_target_release(&t);
                                return -ECANCELED;
                        }
                        if (!o->has_ids || (pci_device_is_host_essential(o) && !boot_display_ok)) {
                                *reterr = xasprintf(
                                        "%s: IOMMU group %d also holds %s (class %06x), which "
                                        "the host needs; a whole group goes or nothing (an ACS "
                                        "override kernel could split it)",
                                        *b, g->id, o->bdf, o->class_code);
                                vfio_target_release(&t);
                                return -ECANCELED;
                        }
                        if (!strv_contains(t.bdfs, o->bdf))
                                t.bdfs = strv_push(t.bdfs, o->bdf);
                }
        }
        strv_sort(t.bdfs);
        STRV_FOREACH(b, t.bdfs) {
                const struct host_pci_device *d = find_device(h, *b);
                _cleanup_free_ char *id = xasprintf("%04x:%04x", d->vendor, d->device);
                if (!strv_contains(t.ids, id))
                        t.ids = strv_push(t.ids, id);
                if (d->driver && !streq(d->driver, "vfio-pci")) {
                        _cleanup_free_ char *m = driver_module(r, d->driver);
                        if (!strv_contains(t.modules, m))
                                t.modules = strv_push(t.modules, m);
                }
        }
        *ret = t;
        return 0;
}

/* ---------------- at boot ---------------- */

static const char *const vfio_modules[] = { "vfio_pci", "vfio", "vfio_iommu_type1" };

static int read_for_edit(struct change_set *cs, const struct root *r, const char *path, char **ret,
                         size_t *ret_len, bool *ret_exists, char **reterr)
{
        return change_set_current(cs, r, path, ret, ret_len, ret_exists, reterr);
}

/* initramfs-tools: one module a line. */
static int plan_initramfs_tools(struct change_set *cs, const struct root *r, char **reterr)
{
        const char *path = "/etc/initramfs-tools/modules";
        _cleanup_free_ char *cur = NULL;
        size_t len;
        bool exists;
        int k = read_for_edit(cs, r, path, &cur, &len, &exists, reterr);
        if (k < 0)
                return k;
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_put(&b, cur, len);
        bool added = false;
        /* vfio_pci first: it must be there before the GPU drivers. */
        static const char *const order[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                bool have = false;
                for (const char *p = cur; *p;) {
                        size_t n = strcspn(p, "\n");
                        size_t s = strspn(p, " \t");
                        size_t w = s < n ? strcspn(p + s, " \t\n") : 0;
                        if (w == strlen(order[i]) && strncmp(p + s, order[i], w) == 0)
                                have = true;
                        p += n + (p[n] == '\n');
                }
                if (have)
                        continue;
                if (!added) {
                        if (b.len > 0 && buf_str(&b)[b.len - 1] != '\n')
                                buf_putc(&b, '\n');
                        buf_puts(&b, "# darwinkvm: vfio-pci before the GPU drivers\n");
                        added = true;
                }
                buf_printf(&b, "%s\n", order[i]);
        }
        k = change_set_write(cs, r, path, buf_str(&b), b.len, 0644, reterr);
        if (k < 0 || !added)
                return k;
        char *argv[] = { (char *) "update-initramfs", (char *) "-u", (char *) "-k", (char *) "all",
                         NULL };
        change_set_command(cs, COMMAND_REGEN, argv);
        return 0;
}

static int plan_dracut(struct change_set *cs, const struct root *r, char **reterr)
{
        const char *text = "# Written by darwinkvm (host vfio boot): vfio-pci in the initramfs\n"
                           "force_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"
                           "install_items+=\" /etc/modprobe.d/darwinkvm-vfio.conf \"\n";
        const char *path = "/etc/dracut.conf.d/darwinkvm-vfio.conf";
        _cleanup_free_ char *cur = NULL;
        size_t len;
        bool exists;
        int k = read_for_edit(cs, r, path, &cur, &len, &exists, reterr);
        if (k < 0)
                return k;
        k = change_set_write(cs, r, path, text, strlen(text), 0644, reterr);
        if (k < 0 || (exists && streq(cur, text)))
                return k;
        char *argv[] = { (char *) "dracut", (char *) "-f", (char *) "--regenerate-all", NULL };
        change_set_command(cs, COMMAND_REGEN, argv);
        return 0;
}

/* mkinitcpio.conf: MODULES=(...), a bash array, maybe over several lines. */
static int plan_mkinitcpio(struct change_set *cs, const struct root *r, char **reterr)
{
        const char *path = "/etc/mkinitcpio.conf";
        _cleanup_free_ char *cur = NULL;
        size_t len;
        bool exists;
        int k = read_for_edit(cs, r, path, &cur, &len, &exists, reterr);
        if (k < 0)
                return k;
        const char *m = NULL;
        for (const char *p = cur; *p;) {
                size_t n = strcspn(p, "\n");
                size_t s = strspn(p, " \t");
                if (strncmp(p + s, "MODULES=(", 9) == 0) {
                        if (m) {
                                *reterr = xasprintf("%s: MODULES= is set twice; keep one and run "
                                                    "again",
                                                    path);
                                return -EEXIST;
                        }
                        m = p + s;
                }
                p += n + (p[n] == '\n');
        }
        if (!m) {
                *reterr =
                        xasprintf("%s: no MODULES=(...) line; add MODULES=() and run again", path);
                return -ENOENT;
        }
        const char *open = m + 8, *close = strchr(open, ')');
        if (!close) {
                *reterr = xasprintf("%s: MODULES=( is not closed", path);
                return -EINVAL;
        }
        _cleanup_free_ char *inner = xstrndup(open + 1, (size_t) (close - open - 1));
        if (strpbrk(inner, "\"'$#")) {
                *reterr = xasprintf("%s: MODULES uses quotes, variables or comments; edit it by "
                                    "hand",
                                    path);
                return -EINVAL;
        }
        _cleanup_strv_free_ char **mods = strv_split(inner, " \t\n");
        _cleanup_strv_free_ char **now = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < ELEMENTSOF(vfio_modules); i++)
                now = strv_push(now, vfio_modules[i]);
        bool changed = false;
        for (size_t i = 0; i < ELEMENTSOF(vfio_modules); i++)
                changed |= !strv_contains(mods, vfio_modules[i]);
        STRV_FOREACH(x, mods)
                if (**x && !strv_contains(now, *x))
                        now = strv_push(now, *x);
        if (!changed)
                return change_set_write(cs, r, path, cur, len, 0644, reterr);
        _cleanup_free_ char *j = strv_join(now, " ");
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_put(&b, cur, (size_t) (open + 1 - cur));
        buf_puts(&b, j);
        buf_put(&b, close, len - (size_t) (close - cur));
        k = change_set_write(cs, r, path, buf_str(&b), b.len, 0644, reterr);
        if (k < 0)
                return k;
        char *argv[] = { (char *) "mkinitcpio", (char *) "-P", NULL };
        change_set_command(cs, COMMAND_REGEN, argv);
        return 0;
}

int vfio_boot_plan(const struct root *r, const struct vfio_target *t, struct change_set *cs,
                   char **reterr)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        _cleanup_free_ char *ids = strv_join(t->ids, ",");
        _cleanup_free_ char *fns = strv_join(t->bdfs, " ");
        buf_printf(&b,
                   "# Written by darwinkvm (host vfio boot): vfio-pci takes %s at boot.\n"
                   "options vfio-pci ids=%s\n",
                   fns, ids);
        STRV_FOREACH(m, t->modules)
                buf_printf(&b, "softdep %s pre: vfio-pci\n", *m);
        int k = change_set_write(cs, r, "/etc/modprobe.d/darwinkvm-vfio.conf", buf_str(&b), b.len,
                                 0644, reterr);
        if (k < 0)
                return k;
        if (root_exists(r, "/etc/initramfs-tools/modules"))
                return plan_initramfs_tools(cs, r, reterr);
        if (root_exists(r, "/etc/mkinitcpio.conf"))
                return plan_mkinitcpio(cs, r, reterr);
        if (root_exists(r, "/etc/dracut.conf") || root_is_dir(r, "/etc/dracut.conf.d"))
                return plan_dracut(cs, r, reterr);
        *reterr = xstrdup("no initramfs-tools, mkinitcpio or dracut configuration found: add "
                          "vfio_pci, vfio and vfio_iommu_type1 to your initramfs by hand");
        return -EOPNOTSUPP;
}

/* ---------------- at run time ---------------- */

int prep_write_attr(struct prep *p, const char *path, const char *value, char **reterr)
{
        int shown = (int) strcspn(value, "\n");
        if (p->dry_run) {
                prep_log(p, "would write '%.*s' to %s", shown, value, path);
                return 0;
        }
        int k = root_write_attr(p->root, path, value, reterr);
        if (k < 0)
                return k;
        prep_log(p, "wrote '%.*s' to %s", shown, value, path);
        return 0;
}

char *vfio_current_driver(const struct root *r, const char *bdf)
{
        _cleanup_free_ char *link = xasprintf("/sys/bus/pci/devices/%s/driver", bdf);
        char *d = NULL;
        return root_link_basename(r, link, &d) == 0 ? d : NULL;
}

int vfio_bind_device(struct prep *p, const char *bdf, char **ret_driver, char **reterr)
{
        _cleanup_free_ char *drv = vfio_current_driver(p->root, bdf);
        if (drv && streq(drv, "vfio-pci")) {
                prep_log(p, "%s: bound to vfio-pci already", bdf);
                *ret_driver = xstrdup("vfio-pci");
                return 0;
        }
        _cleanup_free_ char *ov = xasprintf("/sys/bus/pci/devices/%s/driver_override", bdf);
        int k = prep_write_attr(p, ov, "vfio-pci", reterr);
        if (k < 0)
                return k;
        if (drv) {
                _cleanup_free_ char *unbind = xasprintf("/sys/bus/pci/drivers/%s/unbind", drv);
                k = prep_write_attr(p, unbind, bdf, reterr);
        }
        if (k >= 0)
                k = prep_write_attr(p, "/sys/bus/pci/drivers_probe", bdf, reterr);
        if (k < 0) {
                /* Not half-bound: the override goes, the old driver takes the device back. */
                _cleanup_free_ char *ignored = NULL;
                (void) prep_write_attr(p, ov, "\n", &ignored);
                if (drv) {
                        _cleanup_free_ char *bind = xasprintf("/sys/bus/pci/drivers/%s/bind", drv);
                        (void) prep_write_attr(p, bind, bdf, &ignored);
                }
                return k;
        }
        *ret_driver = xstrdup(drv ? drv : "");
        return 0;
}

int vfio_restore_device(struct prep *p, const char *bdf, const char *driver, char **reterr)
{
        if (streq(driver, "vfio-pci")) {
                prep_log(p, "%s: was bound to vfio-pci before; left so", bdf);
                return 0;
        }
        _cleanup_free_ char *ov = xasprintf("/sys/bus/pci/devices/%s/driver_override", bdf);
        int k = prep_write_attr(p, ov, "\n", reterr);
        if (k < 0)
                return k;
        _cleanup_free_ char *cur = vfio_current_driver(p->root, bdf);
        if (cur && streq(cur, "vfio-pci")) {
                k = prep_write_attr(p, "/sys/bus/pci/drivers/vfio-pci/unbind", bdf, reterr);
                if (k < 0)
                        return k;
        }
        if (*driver) {
                _cleanup_free_ char *bind = xasprintf("/sys/bus/pci/drivers/%s/bind", driver);
                return prep_write_attr(p, bind, bdf, reterr);
        }
        return prep_write_attr(p, "/sys/bus/pci/drivers_probe", bdf, reterr);
}

static int ensure_vfio_driver(struct prep *p, char **reterr)
{
        if (root_is_dir(p->root, "/sys/bus/pci/drivers/vfio-pci"))
                return 0;
        char *argv[] = { (char *) "modprobe", (char *) "vfio-pci", NULL };
        return prep_run(p, argv, reterr);
}

int vfio_bind(struct prep *p, const struct vfio_target *t, char **reterr)
{
        int k = ensure_vfio_driver(p, reterr);
        if (k < 0)
                return k;
        if (!p->dry_run && (k = root_mkdir_p(p->root, VFIO_STATE_DIR, 0755)) < 0) {
                *reterr = xasprintf("%s: cannot create: %s", VFIO_STATE_DIR, strerror(-k));
                return k;
        }
        STRV_FOREACH(b, t->bdfs) {
                _cleanup_free_ char *state = xasprintf(VFIO_STATE_DIR "/%s", *b);
                _cleanup_free_ char *drv = NULL;
                k = vfio_bind_device(p, *b, &drv, reterr);
                if (k < 0)
                        return k;
                /* The first binding's driver is the original one: never overwrite it. */
                if (p->dry_run || root_exists(p->root, state) || streq(drv, "vfio-pci"))
                        continue;
                _cleanup_free_ char *text = xasprintf("%s\n", drv);
                k = root_write_file_atomic(p->root, state, text, strlen(text), 0644, NULL, reterr);
                if (k < 0)
                        return k;
                prep_log(p, "%s: was %s", *b, *drv ? drv : "without a driver");
        }
        return 0;
}

int vfio_unbind(struct prep *p, const struct vfio_target *t, char **reterr)
{
        STRV_FOREACH(b, t->bdfs) {
                _cleanup_free_ char *state = xasprintf(VFIO_STATE_DIR "/%s", *b);
                _cleanup_free_ char *drv = NULL;
                int k = root_read_line(p->root, state, &drv);
                if (k == -ENODATA)
                        drv = xstrdup("");
                else if (k < 0) {
                        prep_log(p, "%s: not bound by darwinkvm (no %s); left alone", *b, state);
                        continue;
                }
                k = vfio_restore_device(p, *b, drv, reterr);
                if (k < 0)
                        return k;
                if (!p->dry_run)
                        (void) root_unlink(p->root, state);
        }
        return 0;
}
