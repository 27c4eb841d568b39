/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "alloc.h"
#include "host.h"
#include "strutil.h"
#include "strv.h"

/*
 * "0000:01:00.0": domain, bus, device, function in lower-case hex. The domain
 * has four digits, or more behind an Intel VMD controller ("10000:e1:00.0").
 */
bool pci_bdf_is_valid(const char *s)
{
        static const char pattern[] = ":xx:xx.x";
        size_t len = strlen(s), domain = len - (sizeof(pattern) - 1);
        if (len < 12 || len > 16)
                return false;
        for (size_t i = 0; i < domain; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return false;
        const char *rest = s + domain;
        for (size_t i = 0; pattern[i]; i++) {
                if (pattern[i] == 'x' ? !strchr("0123456789abcdef", rest[i])
                                      : rest[i] != pattern[i])
                        return false;
        }
        return rest[7] <= '7' && rest[4] <= '1';
}

static void note(char **error, const char *attr, int r, bool parsed)
{
        if (*error)
                return;
        if (parsed || r == -ENODATA)
                *error = xasprintf("'%s' holds no hexadecimal value", attr);
        else
                *error = xasprintf("cannot read '%s': %s", attr, strerror(-r));
}

/* Reads a required hexadecimal attribute; on failure clears *ok and records why. */
static void read_hex_attr(int dfd, const char *attr, uint32_t *ret, char **error, bool *ok)
{
        _cleanup_free_ char *s = NULL;
        bool parsed = false;
        int r = dir_read_line(dfd, attr, &s);
        if (r == 0) {
                parsed = true;
                r = parse_hex_u32(s, ret);
        }
        if (r < 0) {
                *ok = false;
                note(error, attr, r, parsed);
        }
}

/* The BAR lines of sysfs `resource`: "0xSTART 0xEND 0xFLAGS", one per BAR, then the ROM. */
static void parse_bars(const char *text, struct host_pci_device *d)
{
        const char *line = text;
        for (int bar = 0; bar < 6 && line && *line; bar++) {
                unsigned long long start, end, flags;
                if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
                        return;
                /* bit 0x200 of the flags is IORESOURCE_MEM; I/O port BARs do not count */
                if (end > start && (flags & 0x200)) {
                        d->bar_max = MAX(d->bar_max, (uint64_t) (end - start + 1));
                        if (start > 0xffffffffULL)
                                d->bar_above_4g = true;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        d->bars_known = true;
}

static void load_device(const struct root *root, const char *bdf, struct host_pci_device *d)
{
        d->bdf = xstrdup(bdf);
        d->iommu_group = -1;
        d->boot_vga = -1;
        _cleanup_free_ char *path = xasprintf("/sys/bus/pci/devices/%s", bdf);
        _cleanup_close_ int dfd = root_open_dir(root, path);
        if (dfd < 0) {
                d->error = xasprintf("cannot open %s: %s", path, strerror(-dfd));
                return;
        }
        bool ok = true;
        read_hex_attr(dfd, "vendor", &d->vendor, &d->error, &ok);
        read_hex_attr(dfd, "device", &d->device, &d->error, &ok);
        read_hex_attr(dfd, "class", &d->class_code, &d->error, &ok);
        d->has_ids = ok && d->vendor <= 0xffff && d->device <= 0xffff && d->class_code <= 0xffffff;
        if (ok && !d->has_ids && !d->error)
                d->error = xstrdup("vendor, device or class out of range");
        _cleanup_free_ char *s = NULL;
        /* Only display devices have boot_vga: no need to ask the others. */
        if ((!d->has_ids || pci_class_is_display(d->class_code)) &&
            dir_read_line(dfd, "boot_vga", &s) == 0) {
                int v;
                if (parse_int(s, &v) == 0 && (v == 0 || v == 1))
                        d->boot_vga = v;
        }
        _cleanup_free_ char *res = NULL;
        if (d->has_ids && pci_class_is_display(d->class_code) &&
            dir_read_file(dfd, "resource", 64 * 1024, &res, NULL) == 0)
                parse_bars(res, d);
        free(s);
        s = NULL;
        if (dir_read_line(dfd, "reset_method", &s) == 0)
                d->reset_method = str_printable(s, 64);

        _cleanup_free_ char *drv = NULL;
        if (dir_link_basename(dfd, "driver", &drv) == 0)
                d->driver = str_printable(drv, 64);
        _cleanup_free_ char *grp = NULL;
        if (dir_link_basename(dfd, "iommu_group", &grp) == 0) {
                int g;
                if (parse_int(grp, &g) == 0 && g >= 0)
                        d->iommu_group = g;
        }
}

static int cmp_group(const void *a, const void *b)
{
        const struct host_iommu_group *x = a, *y = b;
        return (x->id > y->id) - (x->id < y->id);
}

static ssize_t find_device(const struct host_pci *pci, const char *bdf)
{
        /* devices are sorted by BDF: binary search */
        size_t lo = 0, hi = pci->n_devices;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(pci->devices[mid].bdf, bdf);
                if (c == 0)
                        return (ssize_t) mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

static void load_groups(const struct root *root, struct host_pci *pci)
{
        _cleanup_strv_free_ char **ids = NULL;
        int r = root_list_dir(root, "/sys/kernel/iommu_groups", &ids);
        if (r < 0) {
                pci->groups_error =
                        xasprintf("cannot list /sys/kernel/iommu_groups: %s", strerror(-r));
                return;
        }
        size_t cap = 0;
        STRV_FOREACH(id, ids) {
                int g;
                if (parse_int(*id, &g) < 0 || g < 0)
                        continue;
                GROW(pci->groups, cap, pci->n_groups + 1);
                struct host_iommu_group *grp = &pci->groups[pci->n_groups++];
                *grp = (struct host_iommu_group){ .id = g };
                _cleanup_free_ char *path = xasprintf("/sys/kernel/iommu_groups/%s/devices", *id);
                _cleanup_strv_free_ char **bdfs = NULL;
                r = root_list_dir(root, path, &bdfs);
                if (r < 0) {
                        grp->error = xasprintf("cannot list %s: %s", path, strerror(-r));
                        continue;
                }
                size_t dcap = 0;
                STRV_FOREACH(b, bdfs) {
                        ssize_t k = find_device(pci, *b);
                        if (k < 0) {
                                grp->unknown_bdfs =
                                        strv_consume(grp->unknown_bdfs, str_printable(*b, 32));
                                continue;
                        }
                        GROW(grp->devices, dcap, grp->n_devices + 1);
                        grp->devices[grp->n_devices++] = (size_t) k;
                        /* The group directory is authoritative over the device's own link. */
                        pci->devices[k].iommu_group = g;
                }
        }
        if (pci->n_groups > 1)
                qsort(pci->groups, pci->n_groups, sizeof(*pci->groups), cmp_group);
}

void host_pci_load(const struct root *root, struct host_pci *pci)
{
        _cleanup_strv_free_ char **bdfs = NULL;
        int r = root_list_dir(root, "/sys/bus/pci/devices", &bdfs);
        if (r < 0)
                pci->error = xasprintf("cannot list /sys/bus/pci/devices: %s", strerror(-r));
        else {
                size_t n = 0;
                STRV_FOREACH(b, bdfs)
                        n += pci_bdf_is_valid(*b);
                pci->devices = xcalloc(n ? n : 1, sizeof(*pci->devices));
                STRV_FOREACH(b, bdfs)
                        if (pci_bdf_is_valid(*b))
                                load_device(root, *b, &pci->devices[pci->n_devices++]);
        }
        load_groups(root, pci);
}

bool pci_class_is_display(uint32_t class_code)
{
        return (class_code >> 16) == 0x03;
}
