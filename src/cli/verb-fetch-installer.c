/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "alloc.h"
#include "catalog.h"
#include "chunklist.h"
#include "cli.h"
#include "download.h"
#include "fileio.h"
#include "output.h"
#include "strutil.h"

static int net_fail(int r, const char *err)
{
        if (r == -EINTR)
                return cli_error(EXIT_INTERRUPTED, "%s", err);
        if (download_error_is_network(r))
                return cli_error(EXIT_NETWORK, "%s", err);
        if (r == -EBADMSG || r == -EKEYREJECTED || r == -ENOKEY)
                return cli_error(EXIT_PROBLEM, "%s", err);
        return cli_error(EXIT_ENV, "%s", err);
}

static void format_date(int64_t t, char out[16])
{
        time_t tt = (time_t) t;
        struct tm tm;
        if (t <= 0 || !gmtime_r(&tt, &tm))
                snprintf(out, 16, "-");
        else
                strftime(out, 16, "%Y-%m-%d", &tm);
}

int verb_fetch_installer(struct cli_context *ctx, const struct cli_args *args,
                         const struct download_options *dl)
{
        const char *macos = cli_arg(args, "macos");
        bool list = cli_flag(args, "list");
        if (!macos && !list)
                return cli_usage_error(ctx, "fetch installer needs --macos VERSION or --list");
        const char *url = cli_arg(args, "server");
        if (!url)
                url = getenv("DARWINKVM_CATALOG_URL");
        if (!url || !*url)
                url = CATALOG_DEFAULT_URL;

        _cleanup_free_ char *err = NULL, *text = NULL;
        size_t len = 0;
        char *urls[] = { (char *) url, NULL };
        struct download_options o = *dl;
        int r = download_to_memory(urls, 256u << 20, &o, &text, &len, &err);
        if (r < 0)
                return net_fail(r, err);
        _cleanup_(catalog_freep) struct catalog *c = NULL;
        r = catalog_parse(text, len, &c, &err);
        if (r < 0)
                return cli_error(EXIT_PROBLEM, "%s: %s", url, err);

        /* Version and build live in each product's dist. */
        for (size_t i = 0; i < c->n; i++) {
                struct catalog_product *p = &c->products[i];
                if (!p->dist_url)
                        continue;
                char *du[] = { p->dist_url, NULL };
                _cleanup_free_ char *dist = NULL, *e = NULL;
                size_t dlen;
                r = download_to_memory(du, 4u << 20, &o, &dist, &dlen, &e);
                if (r == -EINTR)
                        return net_fail(r, e);
                if (r >= 0)
                        catalog_product_set_dist(p, dist);
                else
                        cli_warn(ctx, "product %s: %s", p->id, e);
        }

        if (list) {
                if (ctx->json) {
                        struct json_writer w;
                        out_json_begin(ctx, &w);
                        json_begin_array(&w);
                        for (size_t i = 0; i < c->n; i++) {
                                const struct catalog_product *p = &c->products[i];
                                char date[16];
                                format_date(p->post_date, date);
                                json_begin_object(&w);
                                json_kv_string(&w, "product", p->id);
                                json_kv_string(&w, "version", p->version);
                                json_kv_string(&w, "build", p->build);
                                json_kv_string(&w, "title", p->title);
                                json_kv_string(&w, "date", date);
                                json_kv_uint(&w, "size", p->pkg_size);
                                json_kv_bool(&w, "integrity_data", p->integrity_url != NULL);
                                json_end_object(&w);
                        }
                        json_end_array(&w);
                        return out_json_end(&w);
                }
                printf("%-12s %-9s %-10s %-10s %s\n", "PRODUCT", "VERSION", "BUILD", "DATE",
                       "SIZE");
                for (size_t i = 0; i < c->n; i++) {
                        const struct catalog_product *p = &c->products[i];
                        char date[16], size[32];
                        format_date(p->post_date, date);
                        format_bytes(p->pkg_size, size, sizeof(size));
                        printf("%-12s %-9s %-10s %-10s %s\n", p->id, strna(p->version),
                               strna(p->build), date, size);
                }
                return EXIT_OK;
        }

        const struct catalog_product *p = catalog_find(c, macos);
        if (!p)
                return cli_error(EXIT_PROBLEM,
                                 "%s: no full installer for macOS %s (see 'fetch "
                                 "installer --list')",
                                 url, macos);
        if (!p->integrity_url)
                return cli_error(EXIT_PROBLEM,
                                 "product %s has no integrity data: refusing an "
                                 "unverifiable download",
                                 p->id);
        if (!startswith(url, "https://"))
                cli_warn(ctx,
                         "the catalog %s is not HTTPS: the integrity data is only as "
                         "trustworthy as the link",
                         url);
        char *iu[] = { p->integrity_url, NULL };
        _cleanup_free_ char *idata = NULL;
        size_t ilen = 0;
        r = download_to_memory(iu, 64u << 20, &o, &idata, &ilen, &err);
        if (r < 0)
                return net_fail(r, err);
        if (p->integrity_size && ilen != p->integrity_size)
                return cli_error(EXIT_PROBLEM, "%s: %zu bytes, the catalog says %" PRIu64,
                                 p->integrity_url, ilen, p->integrity_size);
        /* Installer integrity lists carry a bare digest: the trust anchor is the HTTPS catalog. */
        _cleanup_(chunklist_freep) struct chunklist *cl = NULL;
        r = chunklist_parse((const uint8_t *) idata, ilen, NULL, 0,
                            CHUNKLIST_ALLOW_UNSIGNED | CHUNKLIST_ALLOW_BAD_SIGNATURE, &cl, NULL,
                            &err);
        if (r < 0)
                return cli_error(EXIT_PROBLEM, "%s: %s", p->integrity_url, err);
        if (p->pkg_size && cl->total_size != p->pkg_size)
                return cli_error(EXIT_PROBLEM,
                                 "%s: the chunks cover %" PRIu64
                                 " bytes, the catalog says %" PRIu64,
                                 p->integrity_url, cl->total_size, p->pkg_size);
        const char *out = cli_arg(args, "output");
        if (!out)
                out = ".";
        r = mkdir_p(out, 0755);
        if (r < 0)
                return cli_error(EXIT_ENV, "%s: %s", out, strerror(-r));
        _cleanup_free_ char *dest = xasprintf("%s/InstallAssistant.pkg", out);
        char *pu[] = { p->pkg_url, NULL };
        struct download_verify v = { .chunklist = cl };
        r = download_file(pu, dest, &v, &o, &err);
        if (r < 0)
                return net_fail(r, err);
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "product", p->id);
                json_kv_string(&w, "version", p->version);
                json_kv_string(&w, "build", p->build);
                json_kv_string(&w, "path", dest);
                json_end_object(&w);
                return out_json_end(&w);
        }
        printf("%s\n", dest);
        return EXIT_OK;
}
