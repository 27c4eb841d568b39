/* SPDX-License-Identifier: MIT */
#include "hooks.h"

#include <errno.h>
#include <libkmod.h>
#include <stdarg.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "dlib.h"
#include "hostfs.h"
#include "macro.h"
#include "strv.h"
#include "vfio.h"

/*
 * libkmod is loaded when a module is first loaded or unloaded: linked, it costs
 * every run of darwinkvm 2.6 ms at start-up.
 */
#define LIBKMOD_SYMBOLS(X, T)          \
 X(T, kmod_module_new_from_name)       \
 X(T, kmod_module_probe_insert_module) \
 X(T, kmod_module_remove_module)       \
 X(T, kmod_module_unref)               \
 X(T, kmod_new)                        \
 X(T, kmod_unref)

struct libkmod_syms {
        LIBKMOD_SYMBOLS(DLIB_MEMBER, _)
};
static struct libkmod_syms lk;
static struct dlib libkmod_lib =
        DLIB_INIT("libkmod", "libkmod.so.2", &lk, struct libkmod_syms, LIBKMOD_SYMBOLS);

static const char *const reset_names[RESET_COUNT] = {
        [RESET_NONE] = "none",
        [RESET_VENDOR_RESET] = "vendor-reset",
        [RESET_SUSPEND] = "suspend",
};

const char *reset_workaround_to_string(enum reset_workaround w)
{
        return w < RESET_COUNT ? reset_names[w] : "none";
}

int reset_workaround_from_string(const char *s)
{
        for (int i = 0; i < RESET_COUNT; i++)
                if (streq(reset_names[i], s))
                        return i;
        return -EINVAL;
}

void hooks_config_release(struct hooks_config *c)
{
        strv_free(c->vms);
        free(c->gpu);
        *c = (struct hooks_config){ 0 };
}

static bool vm_name_ok(const char *s)
{
        if (!*s || strlen(s) > 200)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || *p == '/')
                        return false;
        return true;
}

int hooks_config_parse(const char *text, size_t len, struct hooks_config *ret, char **reterr)
{
        struct hooks_config c = { .vms = xcalloc(1, sizeof(char *)) };
        unsigned lineno = 0;
        if (memchr(text, 0, len)) {
                *reterr = xstrdup("contains a NUL byte");
                hooks_config_release(&c);
                return -EINVAL;
        }
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t n = nl ? (size_t) (nl - (text + i)) : len - i;
                _cleanup_free_ char *line = xstrndup(text + i, n);
                i += n + 1;
                lineno++;
                if (!*line || line[0] == '#')
                        continue;
                char *sp = strchr(line, ' ');
                if (!sp) {
                        *reterr = xasprintf("line %u: expected 'vm NAME', 'gpu BDF' or "
                                            "'reset-workaround W'",
                                            lineno);
                        hooks_config_release(&c);
                        return -EINVAL;
                }
                *sp = 0;
                const char *v = sp + 1;
                if (streq(line, "vm") && vm_name_ok(v)) {
                        if (!strv_contains(c.vms, v))
                                c.vms = strv_push(c.vms, v);
                } else if (streq(line, "gpu") && pci_bdf_is_valid(v))
                        free_and_strdup(&c.gpu, v);
                else if (streq(line, "reset-workaround") && reset_workaround_from_string(v) >= 0)
                        c.reset = (enum reset_workaround) reset_workaround_from_string(v);
                else {
                        *reterr = xasprintf("line %u: bad '%s' line", lineno, line);
                        hooks_config_release(&c);
                        return -EINVAL;
                }
        }
        *ret = c;
        return 0;
}

static int load_config(const struct root *r, struct hooks_config *ret, bool *ret_exists,
                       char **reterr)
{
        _cleanup_free_ char *text = NULL, *err = NULL;
        size_t len;
        int k = root_read_file(r, HOOKS_CONFIG, 1 << 20, &text, &len);
        if (k == -ENOENT) {
                *ret = (struct hooks_config){ .vms = xcalloc(1, sizeof(char *)) };
                *ret_exists = false;
                return 0;
        }
        if (k < 0) {
                *reterr = xasprintf("%s: %s", HOOKS_CONFIG, strerror(-k));
                return k;
        }
        k = hooks_config_parse(text, len, ret, &err);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", HOOKS_CONFIG, err);
                return k;
        }
        *ret_exists = true;
        return 0;
}

/* 'name' for sh, single quotes inside closed and reopened. */
static void put_sh_single(struct buf *b, const char *s)
{
        buf_putc(b, '\'');
        for (; *s; s++) {
                if (*s == '\'')
                        buf_puts(b, "'\\''");
                else
                        buf_putc(b, *s);
        }
        buf_putc(b, '\'');
}

static char *hook_script(char *const *vms)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "#!/bin/sh\n"
                     "# darwinkvm single-GPU hook, written by 'darwinkvm host hooks install'.\n"
                     "# libvirt runs it as: qemu VM OPERATION SUB-OPERATION. It acts for the\n"
                     "# VMs named below only; 'darwinkvm host hooks install --vm NAME' adds one.\n"
                     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                     "export PATH\n"
                     "case \"$1\" in\n");
        buf_puts(&b, "        ");
        for (size_t i = 0; vms[i]; i++) {
                if (i)
                        buf_puts(&b, " | ");
                put_sh_single(&b, vms[i]);
        }
        buf_puts(&b,
                 ") ;;\n"
                 "        *) exit 0 ;;\n"
                 "esac\n"
                 "log=/var/log/libvirt/darwinkvm-hook.log\n"
                 "case \"$2/$3\" in\n"
                 "        prepare/begin) exec darwinkvm hook prepare \"$1\" >>\"$log\" 2>&1 ;;\n"
                 "        release/end) exec darwinkvm hook release \"$1\" >>\"$log\" 2>&1 ;;\n"
                 "esac\n"
                 "exit 0\n");
        return buf_detach(&b);
}

static const char nosleep_unit[] =
        "# Written by darwinkvm: no suspend while a passthrough VM runs.\n"
        "[Unit]\n"
        "Description=Preventing sleep while libvirt domain \"%i\" is running\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        "ExecStart=/usr/bin/systemd-inhibit --what=sleep --why=\"Libvirt domain \\\"%i\\\" is "
        "running\" --who=%U --mode=block sleep infinity\n";

/* The GPU: the boot display device, else the only display device. */
static const struct host_pci_device *default_gpu(const struct host *h)
{
        const struct host_pci_device *only = NULL;
        size_t n = 0;
        for (size_t i = 0; i < h->pci.n_devices; i++) {
                const struct host_pci_device *d = &h->pci.devices[i];
                if (!d->has_ids || !pci_class_is_display(d->class_code))
                        continue;
                if (d->boot_vga == 1)
                        return d;
                only = d;
                n++;
        }
        return n == 1 ? only : NULL;
}

static const struct host_pci_device *find_device(const struct host *h, const char *bdf)
{
        for (size_t i = 0; i < h->pci.n_devices; i++)
                if (streq(h->pci.devices[i].bdf, bdf))
                        return &h->pci.devices[i];
        return NULL;
}

int hooks_install_plan(const struct host *h, const struct compat *c, const struct root *r,
                       char *const *vms, const char *gpu, int reset, struct change_set *cs,
                       char ***ret_notes, char **reterr)
{
        char **notes = xcalloc(1, sizeof(char *));
        struct hooks_config conf;
        bool have_conf;
        int k = load_config(r, &conf, &have_conf, reterr);
        if (k < 0) {
                strv_free(notes);
                return k;
        }
        /* Someone else's hook (RisingPrism, akshaycodes) is not ours to overwrite. */
        _cleanup_free_ char *old = NULL;
        if (root_read_file(r, HOOKS_SCRIPT, 1 << 20, &old, NULL) == 0 &&
            !strstr(old, "darwinkvm single-GPU hook")) {
                *reterr = xasprintf("%s exists and is not darwinkvm's (RisingPrism's or "
                                    "akshaycodes' scripts?); uninstall it with its own "
                                    "uninstaller or move it aside, then run again",
                                    HOOKS_SCRIPT);
                hooks_config_release(&conf);
                strv_free(notes);
                return -ECANCELED;
        }
        STRV_FOREACH(v, (char **) vms) {
                if (!vm_name_ok(*v)) {
                        *reterr = xasprintf("'%s' is not a usable VM name", *v);
                        hooks_config_release(&conf);
                        strv_free(notes);
                        return -EINVAL;
                }
                if (!strv_contains(conf.vms, *v))
                        conf.vms = strv_push(conf.vms, *v);
        }
        if (strv_length(conf.vms) == 0) {
                *reterr = xstrdup("name the VMs the hook acts for with --vm NAME");
                hooks_config_release(&conf);
                strv_free(notes);
                return -EINVAL;
        }
        const struct host_pci_device *g = gpu ? find_device(h, gpu) : NULL;
        if (gpu && !g) {
                *reterr = xasprintf("%s: no such PCI device", gpu);
                hooks_config_release(&conf);
                strv_free(notes);
                return -ENODEV;
        }
        if (!g && conf.gpu)
                g = find_device(h, conf.gpu);
        if (!g)
                g = default_gpu(h);
        if (!g) {
                *reterr = xstrdup("no GPU to hand over found; name it with --gpu BDF");
                hooks_config_release(&conf);
                strv_free(notes);
                return -ENODEV;
        }
        free_and_strdup(&conf.gpu, g->bdf);

        struct gpu_verdict v;
        compat_gpu_verdict(c, g->vendor, g->device, NULL, &v);
        if (reset >= 0)
                conf.reset = (enum reset_workaround) reset;
        else if (v.reset_bug) {
                conf.reset = host_module_available(h, "vendor_reset") ? RESET_VENDOR_RESET
                                                                      : RESET_SUSPEND;
                notes = strv_consume(
                        notes, xasprintf("%s (%s) has the AMD reset bug: using the %s workaround "
                                         "(--reset-workaround vendor-reset|suspend|none)",
                                         g->bdf, v.family ? v.family : "AMD",
                                         reset_workaround_to_string(conf.reset)));
        } else if (!have_conf)
                conf.reset = RESET_NONE;
        gpu_verdict_release(&v);

        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_printf(&b,
                   "# darwinkvm single-GPU hook, written by 'darwinkvm host hooks install'\n"
                   "gpu %s\nreset-workaround %s\n",
                   conf.gpu, reset_workaround_to_string(conf.reset));
        STRV_FOREACH(x, conf.vms)
                buf_printf(&b, "vm %s\n", *x);
        _cleanup_free_ char *script = hook_script(conf.vms);
        k = change_set_write(cs, r, HOOKS_CONFIG, buf_str(&b), b.len, 0644, reterr);
        if (k >= 0)
                k = change_set_write(cs, r, HOOKS_SCRIPT, script, strlen(script), 0755, reterr);
        if (k >= 0)
                k = change_set_write(cs, r, HOOKS_NOSLEEP, nosleep_unit, strlen(nosleep_unit), 0644,
                                     reterr);
        hooks_config_release(&conf);
        if (k < 0) {
                strv_free(notes);
                return k;
        }
        *ret_notes = notes;
        return 0;
}

/* ---------------- modules (libkmod) ---------------- */

static bool module_loaded(const struct root *r, const char *name)
{
        _cleanup_free_ char *p = xasprintf("/sys/module/%s", name);
        return root_is_dir(r, p);
}

/* Unloads (@load false) or loads a module of the running kernel; only the real host's. */
static int kmod_change(struct prep *p, const char *name, bool load, char **reterr)
{
        if (p->print_only) {
                prep_log(p, "would %s module %s", load ? "load" : "unload", name);
                return 0;
        }
        int r = dlib_load(&libkmod_lib, reterr);
        if (r < 0)
                return r;
        struct kmod_ctx *ctx = lk.kmod_new(NULL, NULL);
        if (!ctx) {
                *reterr = xstrdup("libkmod: cannot open the module index");
                return -ENOMEM;
        }
        struct kmod_module *mod = NULL;
        int k = lk.kmod_module_new_from_name(ctx, name, &mod);
        if (k >= 0)
                k = load ? lk.kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL)
                         : lk.kmod_module_remove_module(mod, 0);
        if (mod)
                lk.kmod_module_unref(mod);
        lk.kmod_unref(ctx);
        if (k < 0) {
                *reterr = xasprintf("%s module %s: %s", load ? "loading" : "unloading", name,
                                    strerror(-k));
                return k;
        }
        prep_log(p, "%s module %s", load ? "loaded" : "unloaded", name);
        return 0;
}

/* ---------------- prepare / release ---------------- */

struct steps {
        char *path;
        char **lines; /* "vtcon /sys/class/vtconsole/vtcon0/bind" */
};

static int steps_save(struct prep *p, struct steps *s, char **reterr)
{
        if (p->dry_run)
                return 0;
        _cleanup_free_ char *text = strv_join(s->lines, "\n");
        _cleanup_free_ char *withnl = xasprintf("%s%s", text, *text ? "\n" : "");
        return root_write_file_atomic(p->root, s->path, withnl, strlen(withnl), 0644, NULL, reterr);
}

static int step_done(struct prep *p, struct steps *s, char **reterr, const char *fmt, ...)
        _printf_(4, 5);

static int step_done(struct prep *p, struct steps *s, char **reterr, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        s->lines = strv_consume(s->lines, xvasprintf(fmt, ap));
        va_end(ap);
        return steps_save(p, s, reterr);
}

/* The GPU modules to unload, dependents first; only those loaded. */
static char **gpu_modules(const struct root *r, const struct vfio_target *t)
{
        char **l = xcalloc(1, sizeof(char *));
        static const char *const nvidia[] = { "nvidia_drm", "nvidia_modeset", "nvidia_uvm",
                                              "nvidia" };
        static const char *const display[] = { "amdgpu", "radeon", "nouveau", "i915" };
        STRV_FOREACH(m, t->modules) {
                if (streq(*m, "nvidia")) {
                        for (size_t i = 0; i < ELEMENTSOF(nvidia); i++)
                                if (module_loaded(r, nvidia[i]) && !strv_contains(l, nvidia[i]))
                                        l = strv_push(l, nvidia[i]);
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(display); i++)
                        if (streq(*m, display[i]) && module_loaded(r, *m) && !strv_contains(l, *m))
                                l = strv_push(l, *m);
        }
        return l;
}

static int undo_step(struct prep *p, const char *line, const char *vm, char **reterr)
{
        const char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : "";
        if (strncmp(line, "nosleep ", 8) == 0) {
                _cleanup_free_ char *unit = xasprintf("libvirt-nosleep@%s.service", arg);
                char *argv[] = { (char *) "systemctl", (char *) "stop", unit, NULL };
                return prep_run(p, argv, reterr);
        }
        if (strncmp(line, "display-manager ", 16) == 0) {
                char *argv[] = { (char *) "systemctl", (char *) "start", (char *) arg, NULL };
                return prep_run(p, argv, reterr);
        }
        if (strncmp(line, "vtcon ", 6) == 0)
                return prep_write_attr(p, arg, "1", reterr);
        if (strncmp(line, "framebuffer ", 12) == 0) {
                /* "efi-framebuffer efi-framebuffer.0" */
                _cleanup_free_ char *drv = xstrndup(arg, strcspn(arg, " "));
                const char *dev = arg + strlen(drv) + (arg[strlen(drv)] == ' ');
                _cleanup_free_ char *bind = xasprintf("/sys/bus/platform/drivers/%s/bind", drv);
                return prep_write_attr(p, bind, dev, reterr);
        }
        if (strncmp(line, "module ", 7) == 0)
                return kmod_change(p, arg, true, reterr);
        if (strncmp(line, "vfio ", 5) == 0) {
                _cleanup_free_ char *bdf = xstrndup(arg, strcspn(arg, " "));
                const char *drv = arg + strlen(bdf) + (arg[strlen(bdf)] == ' ');
                return vfio_restore_device(p, bdf, drv, reterr);
        }
        if (strncmp(line, "suspend", 7) == 0) {
                char *argv[] = { (char *) "rtcwake", (char *) "-m", (char *) "mem",
                                 (char *) "-s",      (char *) "2",  NULL };
                return prep_run(p, argv, reterr);
        }
        *reterr = xasprintf("hook state of '%s': unknown step '%s'", vm, line);
        return -EINVAL;
}

static char *state_path(const char *vm)
{
        return xasprintf(HOOKS_STATE_DIR "/%s.state", vm);
}

static int release_steps(struct prep *p, struct steps *s, const char *vm, char **reterr)
{
        int first = 0;
        for (size_t i = strv_length(s->lines); i-- > 0;) {
                _cleanup_free_ char *err = NULL;
                int k = undo_step(p, s->lines[i], vm, &err);
                if (k < 0) {
                        /* Keep going: every other step still gives the host back. */
                        prep_log(p, "failed: %s", err);
                        if (!first) {
                                first = k;
                                *reterr = TAKE_PTR(err);
                        }
                }
        }
        return first;
}

static int prepare_steps(struct prep *p, const struct vfio_target *t,
                         const struct hooks_config *conf, const char *vm, struct steps *s,
                         char **reterr)
{
        const struct root *r = p->root;
        int k;

        _cleanup_free_ char *unit = xasprintf("libvirt-nosleep@%s.service", vm);
        char *nosleep[] = { (char *) "systemctl", (char *) "start", unit, NULL };
        if ((k = prep_run(p, nosleep, reterr)) < 0 ||
            (k = step_done(p, s, reterr, "nosleep %s", vm)) < 0)
                return k;

        if (root_exists(r, "/etc/systemd/system/display-manager.service")) {
                char *argv[] = { (char *) "systemctl", (char *) "stop",
                                 (char *) "display-manager.service", NULL };
                if ((k = prep_run(p, argv, reterr)) < 0 ||
                    (k = step_done(p, s, reterr, "display-manager display-manager.service")) < 0)
                        return k;
        } else
                prep_log(p, "no display-manager.service: nothing to stop");

        _cleanup_strv_free_ char **vt = NULL;
        if (root_list_dir(r, "/sys/class/vtconsole", &vt) == 0)
                STRV_FOREACH(v, vt) {
                        _cleanup_free_ char *bind = xasprintf("/sys/class/vtconsole/%s/bind", *v);
                        _cleanup_free_ char *cur = NULL;
                        if (root_read_line(r, bind, &cur) < 0 || !streq(cur, "1"))
                                continue;
                        if ((k = prep_write_attr(p, bind, "0", reterr)) < 0 ||
                            (k = step_done(p, s, reterr, "vtcon %s", bind)) < 0)
                                return k;
                }

        static const char *const fbs[][2] = { { "efi-framebuffer", "efi-framebuffer.0" },
                                              { "simple-framebuffer", "simple-framebuffer.0" },
                                              { "vesa-framebuffer", "vesa-framebuffer.0" } };
        for (size_t i = 0; i < ELEMENTSOF(fbs); i++) {
                _cleanup_free_ char *dev =
                        xasprintf("/sys/bus/platform/drivers/%s/%s", fbs[i][0], fbs[i][1]);
                if (!root_exists(r, dev))
                        continue;
                _cleanup_free_ char *unbind =
                        xasprintf("/sys/bus/platform/drivers/%s/unbind", fbs[i][0]);
                if ((k = prep_write_attr(p, unbind, fbs[i][1], reterr)) < 0 ||
                    (k = step_done(p, s, reterr, "framebuffer %s %s", fbs[i][0], fbs[i][1])) < 0)
                        return k;
        }

        if (conf->reset == RESET_VENDOR_RESET) {
                if (!module_loaded(r, "vendor_reset") &&
                    (k = kmod_change(p, "vendor_reset", true, reterr)) < 0)
                        return k;
                _cleanup_free_ char *rm =
                        xasprintf("/sys/bus/pci/devices/%s/reset_method", conf->gpu);
                if ((k = prep_write_attr(p, rm, "device_specific", reterr)) < 0)
                        return k;
        }

        _cleanup_strv_free_ char **mods = gpu_modules(r, t);
        STRV_FOREACH(m, mods)
                if ((k = kmod_change(p, *m, false, reterr)) < 0 ||
                    (k = step_done(p, s, reterr, "module %s", *m)) < 0)
                        return k;

        if (!root_is_dir(r, "/sys/bus/pci/drivers/vfio-pci") &&
            (k = kmod_change(p, "vfio_pci", true, reterr)) < 0)
                return k;
        STRV_FOREACH(b, t->bdfs) {
                _cleanup_free_ char *drv = NULL;
                if ((k = vfio_bind_device(p, *b, &drv, reterr)) < 0 ||
                    (k = step_done(p, s, reterr, "vfio %s %s", *b, drv)) < 0)
                        return k;
        }
        if (conf->reset == RESET_SUSPEND)
                return step_done(p, s, reterr, "suspend");
        return 0;
}

int hook_prepare(struct prep *p, const struct host *h, const char *vm, char **reterr)
{
        if (!vm_name_ok(vm)) {
                *reterr = xasprintf("'%s' is not a VM name", vm);
                return -EINVAL;
        }
        struct hooks_config conf;
        bool have;
        int k = load_config(p->root, &conf, &have, reterr);
        if (k < 0)
                return k;
        if (!strv_contains(conf.vms, vm)) {
                prep_log(p, "%s: not a darwinkvm single-GPU VM; nothing to do", vm);
                hooks_config_release(&conf);
                return 0;
        }
        if (!conf.gpu) {
                *reterr = xasprintf("%s: no 'gpu' line", HOOKS_CONFIG);
                hooks_config_release(&conf);
                return -EINVAL;
        }
        struct steps s = { .path = state_path(vm), .lines = xcalloc(1, sizeof(char *)) };
        if (root_exists(p->root, s.path)) {
                *reterr = xasprintf("%s exists: a previous prepare was not released; run "
                                    "'darwinkvm hook release %s' first",
                                    s.path, vm);
                free(s.path);
                strv_free(s.lines);
                hooks_config_release(&conf);
                return -EBUSY;
        }
        if (!p->dry_run && (k = root_mkdir_p(p->root, HOOKS_STATE_DIR, 0755)) < 0) {
                *reterr = xasprintf("%s: cannot create: %s", HOOKS_STATE_DIR, strerror(-k));
                free(s.path);
                strv_free(s.lines);
                hooks_config_release(&conf);
                return k;
        }
        prep_log(p, "prepare %s: GPU %s, reset workaround %s", vm, conf.gpu,
                 reset_workaround_to_string(conf.reset));
        /* Which functions go: the GPU's whole group (its audio function too). */
        struct vfio_target t;
        char *bdfs[] = { conf.gpu, NULL };
        k = vfio_target_make(h, p->root, bdfs, /* allow_boot_display= */ true, &t, reterr);
        if (k >= 0) {
                k = prepare_steps(p, &t, &conf, vm, &s, reterr);
                vfio_target_release(&t);
        }
        if (k < 0) {
                /* Never a black screen: give back what was taken, newest first. */
                prep_log(p, "prepare failed: %s; giving the host back", *reterr);
                _cleanup_free_ char *ignored = NULL;
                (void) release_steps(p, &s, vm, &ignored);
                if (!p->dry_run)
                        (void) root_unlink(p->root, s.path);
        }
        free(s.path);
        strv_free(s.lines);
        hooks_config_release(&conf);
        return k;
}

int hook_release(struct prep *p, const char *vm, char **reterr)
{
        if (!vm_name_ok(vm)) {
                *reterr = xasprintf("'%s' is not a VM name", vm);
                return -EINVAL;
        }
        _cleanup_free_ char *path = state_path(vm);
        _cleanup_free_ char *text = NULL;
        int k = root_read_file(p->root, path, 1 << 20, &text, NULL);
        if (k == -ENOENT) {
                prep_log(p, "%s: nothing prepared (no %s); nothing to release", vm, path);
                return 0;
        }
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, strerror(-k));
                return k;
        }
        struct steps s = { .path = path, .lines = strv_split(text, "\n") };
        size_t j = strv_length(s.lines);
        prep_log(p, "release %s: %zu step%s to undo", vm, j, j == 1 ? "" : "s");
        k = release_steps(p, &s, vm, reterr);
        strv_free(s.lines);
        if (k >= 0 && !p->dry_run)
                (void) root_unlink(p->root, path);
        return k;
}
