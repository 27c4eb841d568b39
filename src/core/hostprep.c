/* SPDX-License-Identifier: MIT */
#include "hostprep.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "hostfs.h"
#include "macro.h"
#include "strv.h"
#include "vfio.h"

/* ---------------- bridge ---------------- */

static bool ifname_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

int bridge_plan(const struct root *r, const char *nic, struct change_set *cs, char **reterr)
{
        if (!ifname_ok(nic)) {
                *reterr = xasprintf("'%s' is not an interface name", nic);
                return -EINVAL;
        }
        _cleanup_free_ char *dir = xasprintf("/sys/class/net/%s", nic);
        if (!root_exists(r, dir)) {
                *reterr = xasprintf("%s: no such network interface", nic);
                return -ENODEV;
        }
        _cleanup_free_ char *wl = xasprintf("%s/wireless", dir);
        _cleanup_free_ char *phy = xasprintf("%s/phy80211", dir);
        if (root_exists(r, wl) || root_exists(r, phy)) {
                *reterr = xasprintf("%s is Wi-Fi: an access point drops frames from the guest's "
                                    "own MAC address, so a bridge over Wi-Fi does not work; use "
                                    "an Ethernet interface or the default NAT network",
                                    nic);
                return -EOPNOTSUPP;
        }
        _cleanup_free_ char *br = xasprintf("%s/bridge", dir);
        _cleanup_free_ char *brif = xasprintf("%s/brport", dir);
        if (root_exists(r, br) || root_exists(r, brif)) {
                *reterr = xasprintf("%s is a bridge, or in one already", nic);
                return -EEXIST;
        }
        int k;
        if (root_is_dir(r, "/run/NetworkManager")) {
                const char *bridge = "# Written by darwinkvm (host bridge)\n"
                                     "[connection]\n"
                                     "id=darwinkvm-br0\n"
                                     "type=bridge\n"
                                     "interface-name=br0\n"
                                     "\n"
                                     "[bridge]\n"
                                     "stp=false\n"
                                     "\n"
                                     "[ipv4]\n"
                                     "method=auto\n"
                                     "\n"
                                     "[ipv6]\n"
                                     "method=auto\n";
                _cleanup_free_ char *port = xasprintf("# Written by darwinkvm (host bridge)\n"
                                                      "[connection]\n"
                                                      "id=darwinkvm-br0-%s\n"
                                                      "type=ethernet\n"
                                                      "interface-name=%s\n"
                                                      "master=br0\n"
                                                      "slave-type=bridge\n",
                                                      nic, nic);
                _cleanup_free_ char *pp = xasprintf(
                        "/etc/NetworkManager/system-connections/darwinkvm-br0-%s.nmconnection",
                        nic);
                k = change_set_write(cs, r,
                                     "/etc/NetworkManager/system-connections/"
                                     "darwinkvm-br0.nmconnection",
                                     bridge, strlen(bridge), 0600, reterr);
                if (k >= 0)
                        k = change_set_write(cs, r, pp, port, strlen(port), 0600, reterr);
                if (k < 0)
                        return k;
                char *argv[] = { (char *) "nmcli", (char *) "connection", (char *) "reload", NULL };
                change_set_command(cs, COMMAND_REGEN, argv);
                return 0;
        }
        /* networkd takes the first file (in name order) that matches: 10- comes early. */
        const char *netdev = "# Written by darwinkvm (host bridge)\n"
                             "[NetDev]\n"
                             "Name=br0\n"
                             "Kind=bridge\n";
        const char *network = "# Written by darwinkvm (host bridge)\n"
                              "[Match]\n"
                              "Name=br0\n"
                              "\n"
                              "[Network]\n"
                              "DHCP=yes\n";
        _cleanup_free_ char *port = xasprintf("# Written by darwinkvm (host bridge)\n"
                                              "[Match]\n"
                                              "Name=%s\n"
                                              "\n"
                                              "[Network]\n"
                                              "Bridge=br0\n",
                                              nic);
        _cleanup_free_ char *pp =
                xasprintf("/etc/systemd/network/10-darwinkvm-br0-%s.network", nic);
        k = change_set_write(cs, r, "/etc/systemd/network/10-darwinkvm-br0.netdev", netdev,
                             strlen(netdev), 0644, reterr);
        if (k >= 0)
                k = change_set_write(cs, r, "/etc/systemd/network/10-darwinkvm-br0.network",
                                     network, strlen(network), 0644, reterr);
        if (k >= 0)
                k = change_set_write(cs, r, pp, port, strlen(port), 0644, reterr);
        if (k < 0)
                return k;
        char *argv[] = { (char *) "networkctl", (char *) "reload", NULL };
        change_set_command(cs, COMMAND_REGEN, argv);
        return 0;
}

/* ---------------- setup ---------------- */

enum distro_family distro_family_of(const struct host_system *s)
{
        _cleanup_free_ char *ids =
                xasprintf("%s %s", s->os_id ? s->os_id : "", s->os_id_like ? s->os_id_like : "");
        _cleanup_strv_free_ char **l = strv_split(ids, " ");
        if (strv_contains(l, "debian") || strv_contains(l, "ubuntu"))
                return DISTRO_FAMILY_DEBIAN;
        if (strv_contains(l, "fedora") || strv_contains(l, "rhel"))
                return DISTRO_FAMILY_FEDORA;
        if (strv_contains(l, "arch"))
                return DISTRO_FAMILY_ARCH;
        if (strv_contains(l, "suse") || strv_contains(l, "opensuse"))
                return DISTRO_FAMILY_SUSE;
        return DISTRO_FAMILY_OTHER;
}

char **setup_install_argv(enum distro_family f)
{
        /* The guide's lists; Fedora's command also gets the firmware and image tool its own
         * table names (edk2-ovmf, qemu-img). */
        static const char *const cmds[] = {
                [DISTRO_FAMILY_DEBIAN] =
                        "apt-get install -y qemu-system-x86 qemu-utils libvirt-clients "
                        "libvirt-daemon-system libvirt-daemon-config-network bridge-utils "
                        "virt-manager ovmf dosfstools",
                [DISTRO_FAMILY_FEDORA] = "dnf install -y qemu-system-x86 qemu-img libvirt "
                                         "libvirt-daemon-config-network bridge-utils virt-manager "
                                         "edk2-ovmf dosfstools",
                [DISTRO_FAMILY_ARCH] = "pacman -S --needed --noconfirm virt-manager qemu-full vde2 "
                                       "iptables-nft nftables dnsmasq bridge-utils edk2-ovmf "
                                       "dosfstools",
                [DISTRO_FAMILY_SUSE] = "zypper --non-interactive install qemu-x86 qemu-tools "
                                       "libvirt virt-manager qemu-ovmf-x86_64 bridge-utils "
                                       "dosfstools",
        };
        if (f >= DISTRO_FAMILY_OTHER)
                return NULL;
        return strv_split(cmds[f], " ");
}

static const char *const acl_defaults[] = {
        "/dev/null", "/dev/full",  "/dev/zero", "/dev/random", "/dev/urandom",   "/dev/ptmx",
        "/dev/kvm",  "/dev/kqemu", "/dev/rtc",  "/dev/hpet",   "/dev/vfio/vfio",
};

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && streq(s + n - m, suffix);
}

/* qemu.conf: the cgroup_device_acl list with the evdev nodes in it. */
static int plan_evdev(const struct root *r, struct change_set *cs, char ***notes, char **reterr)
{
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_strv_free_ char **want = xcalloc(1, sizeof(char *));
        if (root_list_dir(r, "/dev/input/by-id", &ids) == 0)
                STRV_FOREACH(i, ids)
                        if (has_suffix(*i, "-event-kbd") || has_suffix(*i, "-event-mouse"))
                                want = strv_consume(want, xasprintf("/dev/input/by-id/%s", *i));
        if (strv_length(want) == 0) {
                *notes = strv_push(*notes, "no /dev/input/by-id/*-event-kbd or -event-mouse: "
                                           "no evdev devices to allow");
                return 0;
        }
        const char *path = "/etc/libvirt/qemu.conf";
        _cleanup_free_ char *cur = NULL;
        size_t len;
        bool exists;
        int k = change_set_current(cs, r, path, &cur, &len, &exists, reterr);
        if (k < 0)
                return k;
        /* An uncommented cgroup_device_acl = [ ... ] */
        const char *at = NULL;
        for (const char *p = cur; *p;) {
                size_t n = strcspn(p, "\n");
                size_t s = strspn(p, " \t");
                if (strncmp(p + s, "cgroup_device_acl", 17) == 0) {
                        if (at) {
                                *reterr = xasprintf("%s: cgroup_device_acl is set twice", path);
                                return -EEXIST;
                        }
                        at = p + s;
                }
                p += n + (p[n] == '\n');
        }
        _cleanup_strv_free_ char **entries = xcalloc(1, sizeof(char *));
        const char *end = NULL;
        if (at) {
                const char *open = strchr(at, '['), *close = open ? strchr(open, ']') : NULL;
                if (!open || !close) {
                        *reterr = xasprintf("%s: cgroup_device_acl is not a [ ... ] list", path);
                        return -EINVAL;
                }
                for (const char *q = open + 1; q < close;) {
                        const char *a = memchr(q, '"', (size_t) (close - q));
                        if (!a)
                                break;
                        const char *b = memchr(a + 1, '"', (size_t) (close - a - 1));
                        if (!b) {
                                *reterr = xasprintf("%s: cgroup_device_acl: unterminated string",
                                                    path);
                                return -EINVAL;
                        }
                        entries = strv_consume(entries, xstrndup(a + 1, (size_t) (b - a - 1)));
                        q = b + 1;
                }
                end = close + 1;
        } else
                for (size_t i = 0; i < ELEMENTSOF(acl_defaults); i++)
                        entries = strv_push(entries, acl_defaults[i]);
        bool changed = !at;
        STRV_FOREACH(w, want)
                if (!strv_contains(entries, *w)) {
                        entries = strv_push(entries, *w);
                        changed = true;
                }
        if (!changed)
                return 0;
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "");
        if (at)
                buf_put(&b, cur, (size_t) (at - cur));
        else {
                buf_put(&b, cur, len);
                if (len > 0 && cur[len - 1] != '\n')
                        buf_putc(&b, '\n');
                buf_puts(&b, "# darwinkvm: the evdev keyboard and mouse for the guest\n");
        }
        buf_puts(&b, "cgroup_device_acl = [\n");
        for (size_t i = 0; entries[i]; i++)
                buf_printf(&b, "    \"%s\"%s\n", entries[i], entries[i + 1] ? "," : "");
        buf_puts(&b, "]");
        if (at)
                buf_puts(&b, end);
        else
                buf_putc(&b, '\n');
        return change_set_write(cs, r, path, buf_str(&b), b.len, 0644, reterr);
}

int setup_plan(const struct host *h, const struct root *r, const struct setup_options *o,
               struct change_set *cs, char ***ret_notes, char **reterr)
{
        char **notes = xcalloc(1, sizeof(char *));
        int k = 0;
        if (o->user) {
                const struct host_user *u = &h->user;
                if (u->error || !u->exists) {
                        *reterr = xasprintf("user '%s': %s", o->user,
                                            u->error ? u->error : "not in /etc/passwd");
                        strv_free(notes);
                        return -ENOENT;
                }
                static const char *const groups[] = { "kvm", "libvirt", "input" };
                _cleanup_strv_free_ char **missing = xcalloc(1, sizeof(char *));
                for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                        if (!u->is_root && !strv_contains(u->groups, groups[i]))
                                missing = strv_push(missing, groups[i]);
                if (strv_length(missing) > 0) {
                        _cleanup_free_ char *list = strv_join(missing, ",");
                        char *argv[] = { (char *) "usermod", (char *) "-aG", list, (char *) o->user,
                                         NULL };
                        change_set_command(cs, COMMAND_RUN, argv);
                        STRV_FOREACH(g, missing) {
                                char *undo[] = { (char *) "gpasswd", (char *) "-d",
                                                 (char *) o->user, *g, NULL };
                                change_set_command(cs, COMMAND_UNDO, undo);
                        }
                        notes = strv_consume(notes, xasprintf("%s joins %s: log in again for "
                                                              "it to count",
                                                              o->user, list));
                }
        }
        if (o->evdev && (k = plan_evdev(r, cs, &notes, reterr)) < 0) {
                strv_free(notes);
                return k;
        }
        if (o->hugepage_bytes) {
                uint64_t page = (h->memory.hugepage_kib ? h->memory.hugepage_kib : 2048) * 1024;
                uint64_t n = (o->hugepage_bytes + page - 1) / page;
                _cleanup_free_ char *text = xasprintf("# Written by darwinkvm (host setup): "
                                                      "guest RAM in huge pages\n"
                                                      "vm.nr_hugepages = %llu\n",
                                                      (unsigned long long) n);
                const char *path = "/etc/sysctl.d/40-darwinkvm-hugepages.conf";
                k = change_set_write(cs, r, path, text, strlen(text), 0644, reterr);
                if (k < 0) {
                        strv_free(notes);
                        return k;
                }
                char *argv[] = { (char *) "sysctl", (char *) "-p", (char *) path, NULL };
                change_set_command(cs, COMMAND_RUN, argv);
        }
        *ret_notes = notes;
        return 0;
}

/* ---------------- governor ---------------- */

static char **cpu_governor_files(const struct root *r)
{
        char **l = xcalloc(1, sizeof(char *));
        _cleanup_strv_free_ char **cpus = NULL;
        if (root_list_dir(r, "/sys/devices/system/cpu", &cpus) < 0)
                return l;
        STRV_FOREACH(c, cpus) {
                if (strncmp(*c, "cpu", 3) != 0 || !(*c)[3] ||
                    strspn(*c + 3, "0123456789") != strlen(*c + 3))
                        continue;
                _cleanup_free_ char *f =
                        xasprintf("/sys/devices/system/cpu/%s/cpufreq/scaling_governor", *c);
                if (root_exists(r, f))
                        l = strv_push(l, f);
        }
        return l;
}

int governor_set(struct prep *p, const char *governor, char **reterr)
{
        _cleanup_strv_free_ char **files = cpu_governor_files(p->root);
        if (strv_length(files) == 0) {
                *reterr = xstrdup("no /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor: no "
                                  "frequency scaling here");
                return -ENODEV;
        }
        _cleanup_free_ char *avail = NULL;
        _cleanup_free_ char *af = xasprintf("%.*s/scaling_available_governors",
                                            (int) (strrchr(files[0], '/') - files[0]), files[0]);
        if (root_read_line(p->root, af, &avail) == 0) {
                _cleanup_strv_free_ char **l = strv_split(avail, " ");
                if (!strv_contains(l, governor)) {
                        *reterr = xasprintf("governor '%s' is not available (have: %s)", governor,
                                            avail);
                        return -EINVAL;
                }
        }
        _cleanup_buf_ struct buf state = BUF_INIT;
        buf_puts(&state, "");
        bool have_state = root_exists(p->root, GOVERNOR_STATE);
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *cur = NULL;
                if (root_read_line(p->root, *f, &cur) < 0)
                        continue;
                buf_printf(&state, "%s %s\n", *f, cur);
        }
        /* The state of the first change is the one to go back to. */
        if (!have_state && !p->dry_run) {
                int k = root_mkdir_p(p->root, "/var/lib/darwinkvm", 0755);
                if (k >= 0)
                        k = root_write_file_atomic(p->root, GOVERNOR_STATE, buf_str(&state),
                                                   state.len, 0644, NULL, reterr);
                else
                        *reterr = xasprintf("/var/lib/darwinkvm: %s", strerror(-k));
                if (k < 0)
                        return k;
        }
        STRV_FOREACH(f, files) {
                int k = prep_write_attr(p, *f, governor, reterr);
                if (k < 0)
                        return k;
        }
        return 0;
}

int governor_restore(struct prep *p, char **reterr)
{
        _cleanup_free_ char *text = NULL;
        int k = root_read_file(p->root, GOVERNOR_STATE, 1 << 20, &text, NULL);
        if (k == -ENOENT) {
                prep_log(p, "no %s: the governors were not changed by darwinkvm", GOVERNOR_STATE);
                return 0;
        }
        if (k < 0) {
                *reterr = xasprintf("%s: %s", GOVERNOR_STATE, strerror(-k));
                return k;
        }
        _cleanup_strv_free_ char **lines = strv_split(text, "\n");
        STRV_FOREACH(l, lines) {
                char *sp = strrchr(*l, ' ');
                if (!sp || strncmp(*l, "/sys/devices/system/cpu/cpu", 27) != 0 ||
                    strstr(*l, "..")) {
                        *reterr = xasprintf("%s: bad line '%s'", GOVERNOR_STATE, *l);
                        return -EINVAL;
                }
                *sp = 0;
                k = prep_write_attr(p, *l, sp + 1, reterr);
                if (k < 0)
                        return k;
        }
        if (!p->dry_run)
                (void) root_unlink(p->root, GOVERNOR_STATE);
        return 0;
}
