/* SPDX-License-Identifier: MIT */
#include "compat.h"

#include <errno.h>

#include "alloc.h"
#include "buf.h"
#include "macos.h"
#include "strutil.h"
#include "strv.h"

#define DATA_MAX (16u << 20)

static int load(const char *dir, const char *name, const char *const *cols, struct tsv **ret,
                char **reterr)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        int r = tsv_load(path, DATA_MAX, ret, reterr);
        if (r < 0)
                return r;
        return tsv_require_columns(*ret, cols, reterr);
}

static int parse_version_field(const struct tsv *t, size_t row, int col, bool required,
                               unsigned *ret, char **reterr)
{
        const char *s = tsv_field(t, row, col);
        if (!*s && !required) {
                *ret = 0;
                return 0;
        }
        if (macos_version_parse(s, ret) < 0) {
                *reterr = xasprintf("%s:%u: column '%s': '%s' is not a macOS version "
                                    "(expected e.g. 10.14 or 26)",
                                    t->path, t->lines[row], t->header[col], s);
                return -EINVAL;
        }
        return 0;
}

static int load_releases(struct compat *c, char **reterr)
{
        static const char *const cols[] = {
                "version",       "name",       "arch",      "mac_model",   "qemu_cpu",
                "firmware",      "min_isa",    "nic_model", "video_model", "disk_bus",
                "install_media", "hfs_driver", "notes",     NULL
        };
        int r = load(c->data_dir, "macos-versions.tsv", cols, &c->macos_tsv, reterr);
        if (r < 0)
                return r;
        const struct tsv *t = c->macos_tsv;
        int col[ELEMENTSOF(cols) - 1];
        for (size_t i = 0; i < ELEMENTSOF(col); i++)
                col[i] = tsv_column(t, cols[i]);
        c->releases = xcalloc(t->n_rows ? t->n_rows : 1, sizeof(*c->releases));
        for (size_t i = 0; i < t->n_rows; i++) {
                struct macos_release *m = &c->releases[c->n_releases++];
                r = parse_version_field(t, i, col[0], true, &m->version, reterr);
                if (r < 0)
                        return r;
                const char **f[] = { &m->version_str, &m->name,          &m->arch,
                                     &m->mac_model,   &m->qemu_cpu,      &m->firmware,
                                     &m->min_isa,     &m->nic_model,     &m->video_model,
                                     &m->disk_bus,    &m->install_media, &m->hfs_driver,
                                     &m->notes };
                for (size_t k = 0; k < ELEMENTSOF(f); k++)
                        *f[k] = tsv_field(t, i, col[k]);
                if (!streq(m->min_isa, "-") && !streq(m->min_isa, "sse3") &&
                    !streq(m->min_isa, "sse4") && !streq(m->min_isa, "sse4_1") &&
                    !streq(m->min_isa, "sse4_2") && !streq(m->min_isa, "avx2")) {
                        *reterr = xasprintf("%s:%u: column 'min_isa': '%s' is not one of "
                                            "sse3, sse4, sse4_1, sse4_2, avx2, -",
                                            t->path, t->lines[i], m->min_isa);
                        return -EINVAL;
                }
        }
        return 0;
}

static int load_gpus(struct compat *c, char **reterr)
{
        static const char *const cols[] = { "vendor",       "chart_group",  "family",
                                            "model",        "first_macos",  "first_version",
                                            "last_macos",   "last_version", "status",
                                            "requirements", "notes",        NULL };
        int r = load(c->data_dir, "gpu-compat.tsv", cols, &c->gpu_tsv, reterr);
        if (r < 0)
                return r;
        const struct tsv *t = c->gpu_tsv;
        int col[ELEMENTSOF(cols) - 1];
        for (size_t i = 0; i < ELEMENTSOF(col); i++)
                col[i] = tsv_column(t, cols[i]);
        c->gpus = xcalloc(t->n_rows ? t->n_rows : 1, sizeof(*c->gpus));
        for (size_t i = 0; i < t->n_rows; i++) {
                struct gpu_model *g = &c->gpus[c->n_gpus++];
                g->vendor = tsv_field(t, i, col[0]);
                g->chart_group = tsv_field(t, i, col[1]);
                g->family = tsv_field(t, i, col[2]);
                g->model = tsv_field(t, i, col[3]);
                g->first_macos = tsv_field(t, i, col[4]);
                g->last_macos = tsv_field(t, i, col[6]);
                g->status = tsv_field(t, i, col[8]);
                g->requirements = tsv_field(t, i, col[9]);
                g->notes = tsv_field(t, i, col[10]);
                r = parse_version_field(t, i, col[5], false, &g->first_version, reterr);
                if (r < 0)
                        return r;
                r = parse_version_field(t, i, col[7], false, &g->last_version, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_id(const void *a, const void *b)
{
        const struct gpu_id *x = a, *y = b;
        uint32_t kx = (uint32_t) x->vendor_id << 16 | x->device_id;
        uint32_t ky = (uint32_t) y->vendor_id << 16 | y->device_id;
        if (kx != ky)
                return kx < ky ? -1 : 1;
        return (x->model > y->model) - (x->model < y->model);
}

static int load_ids(struct compat *c, char **reterr)
{
        static const char *const cols[] = { "vendor_id", "device_id", "pci_name", "vendor",
                                            "family",    "model",     NULL };
        int r = load(c->data_dir, "gpu-pci-ids.tsv", cols, &c->ids_tsv, reterr);
        if (r < 0)
                return r;
        const struct tsv *t = c->ids_tsv;
        int col[ELEMENTSOF(cols) - 1];
        for (size_t i = 0; i < ELEMENTSOF(col); i++)
                col[i] = tsv_column(t, cols[i]);
        c->ids = xcalloc(t->n_rows ? t->n_rows : 1, sizeof(*c->ids));
        for (size_t i = 0; i < t->n_rows; i++) {
                uint32_t v, d;
                if (parse_hex_u32(tsv_field(t, i, col[0]), &v) < 0 || v > 0xffff ||
                    parse_hex_u32(tsv_field(t, i, col[1]), &d) < 0 || d > 0xffff) {
                        *reterr = xasprintf("%s:%u: expected 4-digit hexadecimal vendor_id and "
                                            "device_id, found '%s' and '%s'",
                                            t->path, t->lines[i], tsv_field(t, i, col[0]),
                                            tsv_field(t, i, col[1]));
                        return -EINVAL;
                }
                const char *vendor = tsv_field(t, i, col[3]);
                const char *family = tsv_field(t, i, col[4]);
                const char *model = tsv_field(t, i, col[5]);
                size_t k;
                for (k = 0; k < c->n_gpus; k++)
                        if (streq(c->gpus[k].vendor, vendor) && streq(c->gpus[k].family, family) &&
                            streq(c->gpus[k].model, model))
                                break;
                if (k == c->n_gpus) {
                        *reterr = xasprintf("%s:%u: no row in gpu-compat.tsv for %s '%s' / '%s'",
                                            t->path, t->lines[i], vendor, family, model);
                        return -EINVAL;
                }
                c->ids[c->n_ids++] = (struct gpu_id){ .vendor_id = (uint16_t) v,
                                                      .device_id = (uint16_t) d,
                                                      .pci_name = tsv_field(t, i, col[2]),
                                                      .model = k };
        }
        qsort(c->ids, c->n_ids, sizeof(*c->ids), cmp_id);
        return 0;
}

int compat_load(const char *data_dir, struct compat **ret, char **reterr)
{
        _cleanup_(compat_freep) struct compat *c = xcalloc(1, sizeof(*c));
        c->data_dir = xstrdup(data_dir);
        static const char *const cpu_cols[] = { "vendor", "earliest_generation",
                                                "required_instruction_set", "macos_min", NULL };
        int r = load_releases(c, reterr);
        if (r >= 0)
                r = load_gpus(c, reterr);
        if (r >= 0)
                r = load_ids(c, reterr);
        if (r >= 0)
                r = load(c->data_dir, "cpu-compat.tsv", cpu_cols, &c->cpu_tsv, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

struct compat *compat_free(struct compat *c)
{
        if (!c)
                return NULL;
        free(c->releases);
        free(c->gpus);
        free(c->ids);
        tsv_free(c->macos_tsv);
        tsv_free(c->gpu_tsv);
        tsv_free(c->ids_tsv);
        tsv_free(c->cpu_tsv);
        free(c->data_dir);
        free(c);
        return NULL;
}

/* "Big Sur", "big-sur", "bigsur" and "BIG_SUR" are the same name. */
static bool name_matches(const char *name, const char *query)
{
        const char *a = name, *b = query;
        for (;;) {
                while (*a == ' ' || *a == '-' || *a == '_')
                        a++;
                while (*b == ' ' || *b == '-' || *b == '_')
                        b++;
                if (!*a || !*b)
                        return !*a && !*b;
                if ((*a | 0x20) != (*b | 0x20))
                        return false;
                a++;
                b++;
        }
}

const struct macos_release *compat_macos_find(const struct compat *c, const char *query,
                                              const char *arch)
{
        unsigned v;
        bool numeric = macos_version_parse(query, &v) == 0;
        const struct macos_release *fallback = NULL;
        for (size_t i = 0; i < c->n_releases; i++) {
                const struct macos_release *m = &c->releases[i];
                if (numeric ? m->version != v : !name_matches(m->name, query))
                        continue;
                if (arch ? streq(m->arch, arch) : !streq(m->arch, "ppc"))
                        return m;
                if (!fallback && !arch)
                        fallback = m;
        }
        return fallback;
}

bool compat_isa_met(const char *min_isa, const struct host_cpu *cpu)
{
        if (streq(min_isa, "-"))
                return true;
        if (streq(min_isa, "sse3"))
                return host_cpu_has(cpu, "pni");
        if (streq(min_isa, "sse4"))
                /* The Sierra tier lists Phenom II, which has SSE4a but not SSE4.1. */
                return host_cpu_has(cpu, "sse4_1") || host_cpu_has(cpu, "sse4a");
        if (streq(min_isa, "sse4_1"))
                return host_cpu_has(cpu, "sse4_1");
        if (streq(min_isa, "sse4_2"))
                return host_cpu_has(cpu, "sse4_2");
        if (streq(min_isa, "avx2"))
                return host_cpu_has(cpu, "avx2");
        return false;
}

const struct macos_release *compat_macos_newest_for_cpu(const struct compat *c,
                                                        const struct host_cpu *cpu)
{
        const struct macos_release *best = NULL;
        for (size_t i = 0; i < c->n_releases; i++) {
                const struct macos_release *m = &c->releases[i];
                if (streq(m->arch, "ppc") || !compat_isa_met(m->min_isa, cpu))
                        continue;
                if (!best || m->version > best->version)
                        best = m;
        }
        return best;
}

const char *compat_cpu_earliest(const struct compat *c, const char *vendor, const char *min_isa)
{
        static const struct {
                const char *token, *chart;
        } tiers[] = {
                { "sse3", "SSE3" }, { "sse4", "SSE4" }, { "sse4_1", "SSE4.1" }, { "avx2", "AVX2" }
        };

        const char *chart = NULL;
        for (size_t i = 0; i < ELEMENTSOF(tiers); i++)
                if (streq(tiers[i].token, min_isa))
                        chart = tiers[i].chart;
        if (!chart)
                return NULL;
        const struct tsv *t = c->cpu_tsv;
        int cv = tsv_column(t, "vendor"), cg = tsv_column(t, "earliest_generation"),
            ci = tsv_column(t, "required_instruction_set");
        for (size_t i = 0; i < t->n_rows; i++)
                if (streq(tsv_field(t, i, cv), vendor) && streq(tsv_field(t, i, ci), chart))
                        return tsv_field(t, i, cg);
        return NULL;
}

const struct macos_release *compat_macos_at_most(const struct compat *c, unsigned version)
{
        const struct macos_release *best = NULL;
        for (size_t i = 0; i < c->n_releases; i++) {
                const struct macos_release *m = &c->releases[i];
                if (streq(m->arch, "ppc") || m->version > version)
                        continue;
                if (!best || m->version > best->version)
                        best = m;
        }
        return best;
}

const char *gpu_support_to_string(enum gpu_support s)
{
        switch (s) {
        case GPU_SUPPORT_SUPPORTED:
                return "supported";
        case GPU_SUPPORT_UNSUPPORTED:
                return "unsupported";
        case GPU_SUPPORT_UNCERTAIN:
                return "uncertain";
        default:
                return "unknown";
        }
}

/* Boot-args the requirements text names without a condition ("boot-arg X if ..." is optional). */
static void extract_requirements(const char *req, char ***boot_args, char ***kexts)
{
        for (const char *p = req; (p = strstr(p, "boot-arg "));) {
                p += 9;
                size_t n = strcspn(p, " ;,)");
                const char *after = p + n;
                bool conditional = startswith(after, " if") || startswith(after, " when") ||
                                   startswith(after, " to ");
                if (n && !conditional) {
                        _cleanup_free_ char *arg = xstrndup(p, n);
                        if (!strv_contains(*boot_args, arg))
                                *boot_args = strv_push(*boot_args, arg);
                }
                p = after;
        }
        static const char *const known[] = { "WhateverGreen", "NootRX", "Lilu" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                _cleanup_free_ char *needle = xasprintf("%s required", known[i]);
                if (strstr(req, needle) && !strv_contains(*kexts, known[i]))
                        *kexts = strv_push(*kexts, known[i]);
        }
}

/* Page-level rules of the charts for cards the ID table does not list, by the codename in pci.ids.
 */
static const char *unsupported_by_codename(uint32_t vendor, const char *pci_name)
{
        static const struct {
                uint32_t vendor;
                const char *prefix;
                const char *why;
        } rules[] = {
                { 0x10de, "TU1", "NVIDIA Turing: never supported by macOS" },
                { 0x10de, "GA1", "NVIDIA Ampere: never supported by macOS" },
                { 0x10de, "AD1", "NVIDIA Ada Lovelace: never supported by macOS" },
                { 0x10de, "GH1", "NVIDIA Hopper: never supported by macOS" },
                { 0x10de, "GB2", "NVIDIA Blackwell: never supported by macOS" },
                { 0x1002, "Navi 24", "AMD Navi 24: no macOS driver" },
                { 0x1002, "Navi 3", "AMD RDNA3 (Navi 3x): no macOS driver" },
                { 0x1002, "Navi 4", "AMD RDNA4 (Navi 4x): no macOS driver" },
        };

        if (!pci_name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (rules[i].vendor == vendor && startswith(pci_name, rules[i].prefix))
                        return rules[i].why;
        return NULL;
}

void compat_gpu_verdict(const struct compat *c, uint32_t vendor, uint32_t device,
                        const char *pci_name, struct gpu_verdict *ret)
{
        struct gpu_verdict v = { .boot_args = xcalloc(1, sizeof(char *)),
                                 .kexts = xcalloc(1, sizeof(char *)) };
        v.vendor = vendor == 0x1002   ? "AMD"
                   : vendor == 0x10de ? "NVIDIA"
                   : vendor == 0x8086 ? "Intel"
                                      : NULL;
        _cleanup_strv_free_ char **models = xcalloc(1, sizeof(char *));
        bool any_supported = false, any_uncertain = false, any = false;
        for (size_t i = 0; i < c->n_ids; i++) {
                const struct gpu_id *id = &c->ids[i];
                if (id->vendor_id != vendor || id->device_id != device)
                        continue;
                const struct gpu_model *g = &c->gpus[id->model];
                any = true;
                if (!strv_contains(models, g->model))
                        models = strv_push(models, g->model);
                if (!v.family)
                        v.family = g->family;
                if (!v.requirements)
                        v.requirements = g->requirements;
                if (streq(g->status, "supported")) {
                        any_supported = true;
                        if (g->first_version &&
                            (!v.first_version || g->first_version < v.first_version))
                                v.first_version = g->first_version;
                        if (g->last_version > v.last_version)
                                v.last_version = g->last_version;
                } else if (streq(g->status, "unknown"))
                        any_uncertain = true;
                extract_requirements(g->requirements, &v.boot_args, &v.kexts);
        }
        if (any) {
                v.models = strv_join(models, ", ");
                v.support = any_supported   ? GPU_SUPPORT_SUPPORTED
                            : any_uncertain ? GPU_SUPPORT_UNCERTAIN
                                            : GPU_SUPPORT_UNSUPPORTED;
                if (v.support != GPU_SUPPORT_SUPPORTED)
                        v.reason = xasprintf("%s: %s", v.family, v.requirements);
        } else if (vendor == 0x8086 || (pci_name && strstr(pci_name, "Integrated"))) {
                v.support = GPU_SUPPORT_UNSUPPORTED;
                v.reason = xstrdup("integrated GPUs cannot be passed through to macOS (the guide "
                                   "supports dedicated PCIe GPUs only)");
        } else {
                const char *why = unsupported_by_codename(vendor, pci_name);
                v.support = why ? GPU_SUPPORT_UNSUPPORTED : GPU_SUPPORT_UNKNOWN;
                v.reason = xstrdup(why ? why : "not in the compatibility data");
        }
        /* The AMD reset bug hits every AMD generation except RDNA2 (Navi 21, 22, 23). */
        if (vendor == 0x1002 && v.support != GPU_SUPPORT_UNSUPPORTED)
                v.reset_bug = !(v.family && (startswith(v.family, "Navi 21") ||
                                             startswith(v.family, "Navi 22") ||
                                             startswith(v.family, "Navi 23")));
        *ret = v;
}

void gpu_verdict_release(struct gpu_verdict *v)
{
        free(v->models);
        strv_free(v->boot_args);
        strv_free(v->kexts);
        free(v->reason);
        *v = (struct gpu_verdict){ 0 };
}

size_t compat_gpu_search(const struct compat *c, const char *query, size_t **ret)
{
        size_t *r = xcalloc(c->n_gpus ? c->n_gpus : 1, sizeof(size_t)), n = 0;
        for (size_t i = 0; i < c->n_gpus; i++) {
                const struct gpu_model *g = &c->gpus[i];
                _cleanup_free_ char *full = xasprintf("%s %s", g->vendor, g->model);
                if (ascii_strcasestr(g->model, query) || ascii_strcasestr(g->family, query) ||
                    ascii_strcasestr(full, query))
                        r[n++] = i;
        }
        *ret = r;
        return n;
}

size_t compat_gpu_ids_of(const struct compat *c, size_t model, size_t **ret)
{
        size_t *r = xcalloc(c->n_ids ? c->n_ids : 1, sizeof(size_t)), n = 0;
        for (size_t i = 0; i < c->n_ids; i++)
                if (c->ids[i].model == model)
                        r[n++] = i;
        *ret = r;
        return n;
}
