/* SPDX-License-Identifier: MIT */
/*
 * The floor for a host scan: a bare C walk over the same sysfs files that
 * `darwinkvm iommu` reads (per device: vendor, device, class, the driver and
 * iommu_group links; then the group directories), printing nothing but a count.
 * Usage: walk ROOT
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t slurp(int dfd, const char *name)
{
        char buf[256];
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf));
        close(fd);
        return n > 0 ? (size_t) n : 0;
}

int main(int argc, char **argv)
{
        if (argc != 2)
                return 2;
        char path[4096];
        snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", argv[1]);
        DIR *d = opendir(path);
        if (!d)
                return 1;
        size_t bytes = 0, devices = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                int dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        continue;
                bytes += slurp(dfd, "vendor") + slurp(dfd, "device") + slurp(dfd, "class");
                char link[512];
                bytes += (size_t) readlinkat(dfd, "driver", link, sizeof(link));
                bytes += (size_t) readlinkat(dfd, "iommu_group", link, sizeof(link));
                close(dfd);
                devices++;
        }
        closedir(d);
        snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups", argv[1]);
        d = opendir(path);
        size_t groups = 0;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char sub[4200];
                snprintf(sub, sizeof(sub), "%s/%s/devices", path, de->d_name);
                DIR *g = opendir(sub);
                while (g && readdir(g))
                        ;
                if (g)
                        closedir(g);
                groups++;
        }
        if (d)
                closedir(d);
        printf("%zu devices, %zu groups, %zu bytes\n", devices, groups, bytes);
        return 0;
}
