/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli.h"
#include "disk.h"
#include "domain-xml.h"
#include "fileio.h"
#include "output.h"
#include "ppc.h"
#include "random.h"
#include "strutil.h"
#include "strv.h"
#include "uuid.h"
#include "virt.h"
#include "vmspec.h"

/* A locally administered unicast MAC from QEMU's prefix; the guide's launchers all share one. */
static char *random_mac(struct rng *r)
{
        uint8_t b[3];
        rng_bytes(r, b, sizeof(b));
        return xasprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
}

static int write_text(const char *path, const char *text, mode_t mode)
{
        _cleanup_free_ char *err = NULL;
        if (write_file_atomic(AT_FDCWD, path, text, strlen(text), mode, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        return 0;
}

int verb_new_ppc(struct cli_context *ctx, const struct cli_args *args)
{
        const char *name = args->positional[0];
        const char *version = cli_arg(args, "macos");
        if (!vm_name_is_valid(name))
                return cli_usage_error(ctx, "'%s' is not a VM name", name);
        if (!version)
                return cli_usage_error(ctx, "--arch ppc needs --macos 10.0 to 10.6 (or a name: "
                                            "tiger, leopard...)");
        _cleanup_(ppc_table_freep) struct ppc_table *t = NULL;
        _cleanup_free_ char *err = NULL;
        if (ppc_table_load(cli_data_dir(ctx), &t, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        const struct ppc_release *rel = ppc_find(t, version);
        if (!rel)
                return cli_usage_error(ctx, "--macos %s: not a PowerPC release (10.0 to 10.6 DP1)",
                                       version);
        uint64_t disk_bytes = UINT64_C(32) << 30;
        const char *size = cli_arg(args, "disk-size");
        if (size && (parse_size(size, &disk_bytes) < 0 || disk_bytes < (UINT64_C(1) << 30)))
                return cli_usage_error(ctx, "--disk-size: '%s', expected a size of at least 1G",
                                       size);
        _cleanup_strv_free_ char **media = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < args->n; i++)
                if (streq(args->names[i], "iso")) {
                        if (access(args->values[i], R_OK) != 0)
                                return cli_usage_error(ctx, "--iso %s: %s", args->values[i],
                                                       strerror(errno));
                        media = strv_push(media, args->values[i]);
                }

        _cleanup_free_ char *dir = vm_dir_for_name(name);
        _cleanup_free_ char *disk = xasprintf("%s/Macintosh.img", dir);
        struct rng rng;
        rng_init(&rng, cli_arg(args, "seed"), "ppc");
        struct uuid u;
        uuid_random(&rng, &u);
        char us[UUID_STRING_MAX];
        uuid_format_lower(&u, us);
        _cleanup_free_ char *mac = random_mac(&rng);
        struct ppc_guest g = {
                .name = name,
                .release = rel,
                .disk = disk,
                .disk_format = "raw",
                .media = media,
                .uuid = us,
                .mac = mac,
                .memory_mib = 2048,
                .width = 1280,
                .height = 720,
        };
        if (cli_flag(args, "plan")) {
                printf("Plan for %s (%s): Mac OS X %s %s on mac99 (PowerMac3,1), OpenBIOS, TCG\n",
                       name, dir, rel->version, rel->name);
                printf("  machine:  %s, 2048 MiB, 1 vCPU, sungem NIC, VGA with EDID\n",
                       rel->machine);
                printf("  disk:     %s (raw, sparse)\n", disk);
                if (media[0])
                        STRV_FOREACH(m, media)
                                printf("  install:  %s\n", *m);
                else if (rel->media_urls[0])
                        STRV_FOREACH(m, rel->media_urls)
                                printf("  media:    %s (third-party archive, no checksum: check "
                                       "it yourself)\n",
                                       *m);
                else
                        printf("  media:    no source known for %s: give --iso FILE\n", rel->name);
                return EXIT_OK;
        }

        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return cli_error(EXIT_ENV, "%s: %s", dir, strerror(-r));
        if (access(disk, F_OK) != 0) {
                struct disk_create_options o = { .size = disk_bytes, .format = DISK_FORMAT_RAW };
                struct disk_create_result res;
                if (disk_create(disk, &o, &res, &err) < 0)
                        return cli_error(EXIT_ENV, "%s", err);
        }
        _cleanup_strv_free_ char **argv = ppc_qemu_argv(&g);
        _cleanup_buf_ struct buf sh = BUF_INIT;
        buf_puts(&sh, "#!/bin/sh\n# Mac OS X on QEMU mac99 (written by darwinkvm new --arch ppc)\n"
                      "exec");
        STRV_FOREACH(a, argv) {
                buf_putc(&sh, ' ');
                buf_put_shell_quoted(&sh, *a);
        }
        buf_puts(&sh, " \"$@\"\n");
        _cleanup_free_ char *launcher = xasprintf("%s/run-qemu.sh", dir);
        r = write_text(launcher, buf_str(&sh), 0755);
        if (r != 0)
                return r;
        _cleanup_free_ char *xml = NULL;
        if (domain_xml_build_ppc(&g, &xml, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        _cleanup_free_ char *xml_path = xasprintf("%s/domain.xml", dir);
        r = write_text(xml_path, xml, 0644);
        if (r != 0)
                return r;
        _cleanup_free_ char *conf = xasprintf("%s/ppc.conf", dir);
        _cleanup_free_ char *conf_text =
                xasprintf("# A PowerPC guest made by darwinkvm new --arch ppc\n"
                          "name = %s\nmacos = %s\nuuid = %s\nmac = %s\ndisk = %s\n",
                          name, rel->version, us, mac, disk);
        r = write_text(conf, conf_text, 0644);
        if (r != 0)
                return r;
        if (!ctx->json && ctx->verbosity >= 0) {
                printf("%s: Mac OS X %s %s on mac99 in %s\n", name, rel->version, rel->name, dir);
                printf("  launcher: %s\n  libvirt:  %s\n", launcher, xml_path);
        }
        _cleanup_free_ char *defined_on = NULL;
        if (!cli_flag(args, "no-define")) {
                _cleanup_(virt_closep) struct virt_conn *c = NULL;
                const char *uri = cli_arg(args, "connect");
                if (virt_open(uri, &c, &err) < 0) {
                        if (uri)
                                return cli_error(EXIT_ENV, "cannot connect to libvirt: %s", err);
                        cli_warn(ctx, "libvirt not reachable: use %s", launcher);
                } else {
                        bool created;
                        if (virt_define(c, name, xml, &created, &err) < 0)
                                return cli_error(EXIT_PROBLEM, "%s", err);
                        defined_on = xstrdup(virt_uri(c));
                }
        }
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "name", name);
                json_kv_string(&w, "macos", rel->version);
                json_kv_string(&w, "dir", dir);
                json_kv_string(&w, "launcher", launcher);
                json_kv_string(&w, "xml", xml_path);
                json_kv_string(&w, "libvirt", defined_on);
                out_json_strv(&w, "argv", argv);
                json_end_object(&w);
                return out_json_end(&w);
        }
        if (!media[0] && ctx->verbosity >= 0) {
                if (rel->media_urls[0])
                        printf("  install media (third-party archive, no checksum): %s\n",
                               rel->media_urls[0]);
                printf("  add the install disc: darwinkvm new %s --arch ppc --macos %s --iso "
                       "DISC.iso\n",
                       name, rel->version);
        }
        return EXIT_OK;
}
