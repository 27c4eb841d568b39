/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Apple's software-update catalogs (formats.md 3): the full-installer
 * products, each with its InstallAssistant.pkg and that package's integrity
 * data (a chunklist with a bare digest, checked the same streaming way). The
 * catalog is read through plist.h; version and build come from each
 * product's .dist file, scanned as data (its JavaScript is never run).
 */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define CATALOG_DEFAULT_URL                                                               \
 "https://swscan.apple.com/content/catalogs/others/"                                      \
 "index-26-15-14-13-12-10.16-10.15-10.14-10.13-10.12-10.11-10.10-10.9-mountainlion-lion-" \
 "snowleopard-leopard.merged-1.sucatalog"

struct catalog_product {
        char *id;
        int64_t post_date; /* unix seconds, 0: none */
        char *pkg_url;     /* InstallAssistant.pkg */
        uint64_t pkg_size;
        char *integrity_url; /* may be NULL (before macOS 11) */
        uint64_t integrity_size;
        char *dist_url; /* English dist, may be NULL */
        /* Filled from the dist (catalog_product_set_dist), else NULL. */
        char *version;
        char *build;
        char *title;
};

struct catalog {
        struct catalog_product *products; /* newest first */
        size_t n;
};

/* The installer products of a catalog plist (XML or binary). */
int catalog_parse(const void *data, size_t len, struct catalog **ret, char **reterr);
struct catalog *catalog_free(struct catalog *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct catalog *, catalog_free)

/* Version, build and title from the text of a .dist file. */
void catalog_product_set_dist(struct catalog_product *p, const char *dist);

/*
 * The newest product whose version is @version or starts with "@version."
 * (needs the dists read), or NULL.
 */
const struct catalog_product *catalog_find(const struct catalog *c, const char *version);
