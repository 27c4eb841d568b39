/* SPDX-License-Identifier: MIT */
#include "catalog.h"

#include <errno.h>
#include <strings.h>

#include "alloc.h"
#include "plist.h"

static void product_release(struct catalog_product *p)
{
        free(p->id);
        free(p->pkg_url);
        free(p->integrity_url);
        free(p->dist_url);
        free(p->version);
        free(p->build);
        free(p->title);
}

struct catalog *catalog_free(struct catalog *c)
{
        if (c) {
                for (size_t i = 0; i < c->n; i++)
                        product_release(&c->products[i]);
                free(c->products);
                free(c);
        }
        return NULL;
}

static bool is_installer(const struct pl_node *product)
{
        const struct pl_node *emi = pl_dict_get_dict(product, "ExtendedMetaInfo");
        const struct pl_node *ids = pl_dict_get_dict(emi, "InstallAssistantPackageIdentifiers");
        return ids && pl_count(ids) > 0;
}

static uint64_t get_size(const struct pl_node *d, const char *key)
{
        int64_t v = 0;
        return pl_dict_get_integer(d, key, &v) && v > 0 ? (uint64_t) v : 0;
}

static int by_date_desc(const void *a, const void *b)
{
        const struct catalog_product *x = a, *y = b;
        if (x->post_date != y->post_date)
                return x->post_date > y->post_date ? -1 : 1;
        return strcmp(x->id, y->id);
}

int catalog_parse(const void *data, size_t len, struct catalog **ret, char **reterr)
{
        _cleanup_pl_ struct pl_node *root = NULL;
        int r = pl_parse(data, len, "catalog", &root, NULL, reterr);
        if (r < 0)
                return r;
        const struct pl_node *products = pl_dict_get_dict(root, "Products");
        if (!products) {
                *reterr = xstrdup("catalog: no Products dictionary");
                return -EBADMSG;
        }
        struct catalog *c = xcalloc(1, sizeof(*c));
        size_t cap = 0;
        for (size_t i = 0; i < pl_count(products); i++) {
                const struct pl_node *p = pl_dict_value_at(products, i);
                if (!pl_is(p, PL_DICT) || !is_installer(p))
                        continue;
                const struct pl_node *pkgs = pl_dict_get_array(p, "Packages");
                const struct pl_node *ia = NULL;
                for (size_t k = 0; k < pl_count(pkgs) && !ia; k++) {
                        const char *url = pl_dict_get_string(pl_array_get(pkgs, k), "URL");
                        if (url && endswith(url, "/InstallAssistant.pkg"))
                                ia = pl_array_get(pkgs, k);
                }
                if (!ia)
                        continue; /* before macOS 11: no single package to fetch */
                GROW(c->products, cap, c->n + 1);
                struct catalog_product *cp = &c->products[c->n++];
                *cp = (struct catalog_product){ 0 };
                cp->id = xstrdup(pl_dict_key_at(products, i));
                pl_get_date(pl_dict_get(p, "PostDate"), &cp->post_date);
                cp->pkg_url = xstrdup(pl_dict_get_string(ia, "URL"));
                cp->pkg_size = get_size(ia, "Size");
                const char *iu = pl_dict_get_string(ia, "IntegrityDataURL");
                cp->integrity_url = iu ? xstrdup(iu) : NULL;
                cp->integrity_size = get_size(ia, "IntegrityDataSize");
                const struct pl_node *dists = pl_dict_get_dict(p, "Distributions");
                const char *d = pl_dict_get_string(dists, "English");
                if (!d)
                        d = pl_dict_get_string(dists, "en");
                cp->dist_url = d ? xstrdup(d) : NULL;
        }
        if (c->n)
                qsort(c->products, c->n, sizeof(*c->products), by_date_desc);
        *ret = c;
        return 0;
}

/* The <string> after <key>@key</key> in @s, or NULL. */
static char *string_after_key(const char *s, const char *key)
{
        _cleanup_free_ char *k = xasprintf("<key>%s</key>", key);
        const char *p = strstr(s, k);
        if (!p)
                return NULL;
        p += strlen(k);
        p += strspn(p, " \t\r\n");
        const char *v = startswith(p, "<string>");
        if (!v)
                return NULL;
        const char *end = strstr(v, "</string>");
        if (!end || end - v > 64)
                return NULL;
        return xstrndup(v, (size_t) (end - v));
}

void catalog_product_set_dist(struct catalog_product *p, const char *dist)
{
        const char *aux = strstr(dist, "<auxinfo>");
        if (aux) {
                _cleanup_free_ char *section = NULL;
                const char *end = strstr(aux, "</auxinfo>");
                section = end ? xstrndup(aux, (size_t) (end - aux)) : xstrdup(aux);
                char *v = string_after_key(section, "macOSProductVersion");
                char *b = string_after_key(section, "macOSProductBuildVersion");
                if (!v)
                        v = string_after_key(section, "VERSION");
                if (!b)
                        b = string_after_key(section, "BUILD");
                free(p->version);
                free(p->build);
                p->version = v;
                p->build = b;
        }
        const char *t = strstr(dist, "<title>");
        if (t) {
                t += 7;
                const char *end = strstr(t, "</title>");
                if (end && end - t < 128) {
                        free(p->title);
                        p->title = xstrndup(t, (size_t) (end - t));
                }
        }
}

const struct catalog_product *catalog_find(const struct catalog *c, const char *version)
{
        size_t l = strlen(version);
        for (size_t i = 0; i < c->n; i++) {
                const char *v = c->products[i].version;
                if (v && strncmp(v, version, l) == 0 && (v[l] == 0 || v[l] == '.'))
                        return &c->products[i];
        }
        return NULL;
}
