/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli-vm.h"
#include "cli.h"
#include "domain-xml.h"
#include "output.h"
#include "qemu-argv.h"
#include "strutil.h"
#include "strv.h"
#include "virt.h"
#include "vm-plan.h"
#include "vmspec.h"

/* The spec, checked against the host: the plan, or an exit code after printing every problem. */
static int load_plan(struct cli_context *ctx, const struct cli_args *args, const char *arg,
                     struct vm_plan **ret)
{
        struct vm_options o = {
                .tcg = cli_flag(args, "tcg"),
                .headless = cli_flag(args, "headless"),
                .serial_log = cli_arg(args, "serial"),
        };
        return cli_load_vm_plan(ctx, arg, &o, ret);
}

static int do_xml(struct cli_context *ctx, const struct cli_args *args, const char *arg)
{
        _cleanup_(vm_plan_freep) struct vm_plan *p = NULL;
        int r = load_plan(ctx, args, arg, &p);
        if (r != 0)
                return r;
        _cleanup_free_ char *xml = NULL, *err = NULL;
        if (domain_xml_build(p, &xml, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        _cleanup_free_ char *acl = vm_plan_qemu_conf_acl(p);
        if (acl && ctx->verbosity >= 0)
                fprintf(stderr,
                        "darwinkvm: note: evdev inputs need in /etc/libvirt/qemu.conf:\n  %s\n",
                        acl);
        return cli_write(xml);
}

static int do_qemu(struct cli_context *ctx, const struct cli_args *args, const char *arg)
{
        _cleanup_(vm_plan_freep) struct vm_plan *p = NULL;
        int r = load_plan(ctx, args, arg, &p);
        if (r != 0)
                return r;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *err = NULL;
        if (qemu_argv_build(p, &argv, &err) < 0)
                return cli_error(EXIT_PROBLEM, "%s", err);
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "name", p->name);
                out_json_strv(&w, "argv", argv);
                json_end_object(&w);
                return out_json_end(&w);
        }
        if (cli_flag(args, "print")) {
                _cleanup_buf_ struct buf b = BUF_INIT;
                STRV_FOREACH(a, argv) {
                        if (a != argv)
                                buf_putc(&b, ' ');
                        buf_put_shell_quoted(&b, *a);
                }
                buf_putc(&b, '\n');
                return cli_write(buf_str(&b));
        }
        if (qemu_prepare_nvram(p, ctx->root, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        fflush(stdout);
        execvp(argv[0], argv);
        return cli_error(EXIT_ENV, "%s: %s", argv[0], strerror(errno));
}

/* The domain name of @arg: a spec's vm.name, or @arg itself. */
static int domain_name(const char *arg, char **ret)
{
        if (!strchr(arg, '/') && !endswith(arg, ".conf")) {
                *ret = xstrdup(arg);
                return 0;
        }
        _cleanup_(vmspec_freep) struct vmspec *spec = NULL;
        _cleanup_free_ char *err = NULL;
        int r = vmspec_load(arg, &spec, &err);
        if (r < 0)
                return cli_error(r == -ENOENT ? EXIT_ENV : EXIT_USAGE, "%s", err);
        *ret = xstrdup(spec->name);
        return 0;
}

static int connect(const struct cli_args *args, struct virt_conn **ret)
{
        _cleanup_free_ char *err = NULL;
        if (virt_open(cli_arg(args, "connect"), ret, &err) < 0)
                return cli_error(EXIT_ENV, "cannot connect to libvirt: %s", err);
        return 0;
}

static int exit_for(int r)
{
        return r == -ECONNREFUSED || r == -EIO ? EXIT_ENV : EXIT_PROBLEM;
}

static int do_define(struct cli_context *ctx, const struct cli_args *args, const char *arg)
{
        _cleanup_(vm_plan_freep) struct vm_plan *p = NULL;
        int r = load_plan(ctx, args, arg, &p);
        if (r != 0)
                return r;
        return cli_vm_define(ctx, p, cli_arg(args, "connect"), NULL);
}

static int do_simple(struct cli_context *ctx, const struct cli_args *args, const char *op,
                     const char *arg)
{
        _cleanup_free_ char *name = NULL, *err = NULL;
        int r = domain_name(arg, &name);
        if (r != 0)
                return r;
        _cleanup_(virt_closep) struct virt_conn *c = NULL;
        r = connect(args, &c);
        if (r != 0)
                return r;
        if (streq(op, "start")) {
                r = virt_start(c, name, &err);
                if (r < 0)
                        return cli_error(exit_for(r), "%s", err);
                if (ctx->verbosity >= 0)
                        printf("Started %s on %s\n", name, virt_uri(c));
                return EXIT_OK;
        }
        if (streq(op, "stop")) {
                unsigned timeout = 120;
                const char *t = cli_arg(args, "timeout");
                if (t && (parse_u32(t, &timeout) < 0 || timeout == 0))
                        return cli_usage_error(ctx, "--timeout: '%s' is not a number of seconds",
                                               t);
                r = virt_stop(c, name, cli_flag(args, "force"), timeout, &err);
                if (r == -EALREADY) {
                        if (ctx->verbosity >= 0)
                                printf("%s is not running\n", name);
                        return EXIT_OK;
                }
                if (r < 0)
                        return cli_error(exit_for(r), "%s", err);
                if (ctx->verbosity >= 0)
                        printf("Stopped %s\n", name);
                return EXIT_OK;
        }
        if (streq(op, "undefine")) {
                r = virt_undefine(c, name, cli_flag(args, "nvram"), &err);
                if (r < 0)
                        return cli_error(exit_for(r), "%s", err);
                if (ctx->verbosity >= 0)
                        printf("Undefined %s on %s%s\n", name, virt_uri(c),
                               cli_flag(args, "nvram") ? " and removed its NVRAM" : "");
                return EXIT_OK;
        }
        /* status */
        struct virt_status s;
        r = virt_status(c, name, &s, &err);
        if (r < 0)
                return cli_error(exit_for(r), "%s", err);
        const char *owner = s.owner == VIRT_OURS ? "darwinkvm" : "not darwinkvm";
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "name", name);
                json_kv_string(&w, "uri", virt_uri(c));
                json_kv_string(&w, "state", s.state);
                json_kv_string(&w, "reason", s.reason);
                json_kv_string(&w, "uuid", s.uuid);
                json_kv_bool(&w, "darwinkvm", s.owner == VIRT_OURS);
                json_kv_string(&w, "spec", s.spec);
                json_kv_bool(&w, "persistent", s.persistent);
                json_kv_bool(&w, "autostart", s.autostart);
                json_kv_uint(&w, "vcpus", s.vcpus);
                json_kv_uint(&w, "memory_kib", s.memory_kib);
                json_end_object(&w);
                r = out_json_end(&w);
        } else {
                _cleanup_buf_ struct buf b = BUF_INIT;
                buf_printf(&b, "%s: %s (%s)\n", name, s.state, s.reason);
                buf_printf(&b, "  uri:     %s\n", virt_uri(c));
                buf_printf(&b, "  uuid:    %s\n", strna(s.uuid));
                buf_printf(&b, "  made by: %s\n", owner);
                if (s.spec)
                        buf_printf(&b, "  spec:    %s\n", s.spec);
                buf_printf(&b, "  vcpus:   %u\n", s.vcpus);
                buf_printf(&b, "  memory:  %llu MiB\n", (unsigned long long) s.memory_kib >> 10);
                r = cli_write(buf_str(&b));
        }
        virt_status_release(&s);
        return r;
}

int verb_vm(struct cli_context *ctx, const struct cli_args *args)
{
        const char *op = args->positional[0], *arg = args->positional[1];
        if (!arg)
                return cli_usage_error(ctx, "'vm %s' needs a VM name or a path to a vm.conf", op);
        if (streq(op, "xml"))
                return do_xml(ctx, args, arg);
        if (streq(op, "qemu"))
                return do_qemu(ctx, args, arg);
        if (streq(op, "define"))
                return do_define(ctx, args, arg);
        if (streq(op, "start") || streq(op, "stop") || streq(op, "undefine") || streq(op, "status"))
                return do_simple(ctx, args, op, arg);
        return cli_usage_error(ctx,
                               "unknown action '%s', expected xml, qemu, define, undefine, "
                               "start, stop or status",
                               op);
}
