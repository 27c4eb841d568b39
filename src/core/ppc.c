/* SPDX-License-Identifier: MIT */
#include "ppc.h"

#include "alloc.h"
#include "strutil.h"
#include "strv.h"

struct ppc_table *ppc_table_free(struct ppc_table *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++)
                strv_free(t->releases[i].media_urls);
        free(t->releases);
        tsv_free(t->tsv);
        free(t);
        return NULL;
}

static int parse_yes_no(const struct tsv *t, size_t row, const char *col, const char *v, bool *ret,
                        char **reterr)
{
        if (streq(v, "yes"))
                *ret = true;
        else if (streq(v, "no"))
                *ret = false;
        else {
                *reterr = xasprintf("%s:%u: %s: '%s', expected yes or no", t->path, t->lines[row],
                                    col, v);
                return -EINVAL;
        }
        return 0;
}

int ppc_table_load(const char *data_dir, struct ppc_table **ret, char **reterr)
{
        _cleanup_free_ char *path = xasprintf("%s/ppc-releases.tsv", data_dir);
        _cleanup_(ppc_table_freep) struct ppc_table *t = xcalloc(1, sizeof(*t));
        int r = tsv_load(path, 1 << 20, &t->tsv, reterr);
        if (r < 0)
                return r;
        static const char *const cols[] = { "version",    "name",      "build",
                                            "machine",    "usb_input", "pci_testdev",
                                            "media_base", "media",     NULL };
        r = tsv_require_columns(t->tsv, cols, reterr);
        if (r < 0)
                return r;
        int c[8];
        for (size_t i = 0; i < 8; i++)
                c[i] = tsv_column(t->tsv, cols[i]);
        t->releases = xcalloc(t->tsv->n_rows, sizeof(*t->releases));
        for (size_t row = 0; row < t->tsv->n_rows; row++) {
                struct ppc_release *rel = &t->releases[t->n];
                rel->version = tsv_field(t->tsv, row, c[0]);
                rel->name = tsv_field(t->tsv, row, c[1]);
                rel->build = tsv_field(t->tsv, row, c[2]);
                rel->machine = tsv_field(t->tsv, row, c[3]);
                r = parse_yes_no(t->tsv, row, cols[4], tsv_field(t->tsv, row, c[4]),
                                 &rel->usb_input, reterr);
                if (r < 0)
                        return r;
                r = parse_yes_no(t->tsv, row, cols[5], tsv_field(t->tsv, row, c[5]),
                                 &rel->pci_testdev, reterr);
                if (r < 0)
                        return r;
                const char *base = tsv_field(t->tsv, row, c[6]);
                _cleanup_strv_free_ char **files = strv_split(tsv_field(t->tsv, row, c[7]), " ");
                rel->media_urls = xcalloc(1, sizeof(char *));
                STRV_FOREACH(f, files)
                        if (!streq(*f, "-") && !streq(base, "-"))
                                rel->media_urls =
                                        strv_consume(rel->media_urls, xasprintf("%s%s", base, *f));
                t->n++;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

const struct ppc_release *ppc_find(const struct ppc_table *t, const char *query)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct ppc_release *rel = &t->releases[i];
                size_t vl = strlen(rel->version);
                /* "10.4" and "10.4.8", but not "10.40". */
                if (streq(query, rel->version) ||
                    (startswith(query, rel->version) && query[vl] == '.'))
                        return rel;
        }
        for (size_t i = 0; i < t->n; i++) {
                /* Names compare without case or blanks: "snowleopard", "Snow Leopard DP1". */
                _cleanup_free_ char *a = xstrdup(query), *b = xstrdup(t->releases[i].name);
                size_t ai = 0, bi = 0;
                for (size_t k = 0; a[k]; k++)
                        if (a[k] != ' ' && a[k] != '-')
                                a[ai++] = (char) (a[k] | 0x20);
                a[ai] = 0;
                for (size_t k = 0; b[k]; k++)
                        if (b[k] != ' ' && b[k] != '-')
                                b[bi++] = (char) (b[k] | 0x20);
                b[bi] = 0;
                if (ai > 0 && startswith(b, a))
                        return &t->releases[i];
        }
        return NULL;
}

static char **push(char **l, const char *s)
{
        return strv_push(l, s);
}

char **ppc_qemu_argv(const struct ppc_guest *g)
{
        const struct ppc_release *rel = g->release;
        char **a = xcalloc(1, sizeof(char *));
        a = push(a, "qemu-system-ppc");
        a = push(a, "-name");
        a = strv_consume(a, xasprintf("guest=%s", g->name));
        a = push(a, "-machine");
        a = push(a, rel->machine);
        /* x86 hosts have no PowerPC KVM: the guide's launchers use TCG too. */
        a = push(a, "-accel");
        a = push(a, "tcg");
        a = push(a, "-m");
        a = strv_consume(a, xasprintf("%u", g->memory_mib ? g->memory_mib : 2048));
        a = push(a, "-smp");
        a = push(a, "1,sockets=1,cores=1,threads=1");
        a = push(a, "-uuid");
        a = push(a, g->uuid);
        a = push(a, "-no-user-config");
        a = push(a, "-nodefaults");
        a = push(a, "-rtc");
        a = push(a, "base=utc");
        a = push(a, "-device");
        a = push(a, "ide-hd,bus=ide.0,drive=Macintosh");
        a = push(a, "-drive");
        a = strv_consume(a, xasprintf("if=none,format=%s,media=disk,id=Macintosh,file=%s,"
                                      "discard=unmap,detect-zeroes=unmap",
                                      g->disk_format ? g->disk_format : "raw", g->disk));
        size_t i = 0;
        STRV_FOREACH(m, (char **) g->media) {
                a = push(a, "-device");
                a = strv_consume(
                        a, xasprintf("ide-cd,bus=ide.%d,drive=Installer%zu", i == 0 ? 0 : 1, i));
                a = push(a, "-drive");
                a = strv_consume(a, xasprintf("if=none,format=raw,media=cdrom,readonly=on,"
                                              "id=Installer%zu,file=%s",
                                              i, *m));
                i++;
        }
        a = push(a, "-device");
        a = strv_consume(a, xasprintf("sungem,mac=%s,netdev=net0", g->mac));
        a = push(a, "-netdev");
        a = push(a, "user,id=net0");
        a = push(a, "-device");
        a = push(a, "VGA,edid=on");
        if (rel->usb_input) {
                a = push(a, "-device");
                a = push(a, "usb-tablet");
                a = push(a, "-device");
                a = push(a, "usb-kbd");
        }
        if (rel->pci_testdev) {
                a = push(a, "-device");
                a = push(a, "pci-testdev");
        }
        a = push(a, "-prom-env");
        a = push(a, "boot-args=-v");
        a = push(a, "-prom-env");
        a = push(a, "vga-ndrv?=true");
        a = push(a, "-prom-env");
        a = push(a, "auto-boot?=true");
        a = push(a, "-g");
        a = strv_consume(
                a, xasprintf("%ux%ux32", g->width ? g->width : 1280, g->height ? g->height : 720));
        /* From the CD while installing, from the disk afterwards. */
        a = push(a, "-boot");
        a = push(a, g->media && g->media[0] ? "order=d,menu=on,strict=on"
                                            : "order=c,menu=on,strict=on");
        if (g->serial_log) {
                a = push(a, "-serial");
                a = strv_consume(a, xasprintf("file:%s", g->serial_log));
        }
        if (g->headless) {
                a = push(a, "-display");
                a = push(a, "none");
                a = push(a, "-monitor");
                a = push(a, "none");
        }
        return a;
}
