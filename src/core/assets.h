/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The pinned downloads (data/assets.tsv: name, version, kind, url, size,
 * sha256; "-" = not pinned) and how they end up in an EFI tree. A download
 * is accepted only when its size and SHA-256 match the pin; an unpinned asset
 * is refused unless the caller explicitly allows it (and then says so loudly).
 * Pins are written only by `fetch pins --update`, which a person runs.
 *
 * The EFI functions work on local files and need no network: the offline
 * path of `new` (--opencore-zip FILE) uses them directly.
 */

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"
#include "download.h"

struct asset {
        char *name;
        char *version; /* "-": none */
        char *kind;    /* opencore, kext, driver */
        char *url;
        uint64_t size; /* 0: not pinned */
        bool pinned;   /* sha256 is set */
        uint8_t sha256[SHA256_LEN];
};

struct asset_table {
        char *path;
        struct asset *items;
        size_t n;
};

int asset_table_load(const char *path, struct asset_table **ret, char **reterr);
struct asset_table *asset_table_free(struct asset_table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct asset_table *, asset_table_free)
/* By name, case-insensitive. */
struct asset *asset_find(const struct asset_table *t, const char *name);
/* Rewrites the table file at @path (atomically), comments and order kept. */
int asset_table_save(const struct asset_table *t, const char *path, char **reterr);

/* The file name the URL ends in. */
char *asset_file_name(const struct asset *a);
/* The URL, or @server + "/" + the file name when a server is given. */
char *asset_url(const struct asset *a, const char *server);

struct asset_fetch_options {
        const char *server;    /* replaces the URL's directory (mirrors, tests) */
        char **mirrors;        /* directories tried in order after the URL fails (strv or NULL) */
        const char *cache_dir; /* files land in CACHE/assets/NAME-VERSION/ */
        bool allow_unpinned;
        struct download_options download;
};

/*
 * Makes the verified file of @a available in the cache (downloading it unless
 * a verified copy is there) and returns its path. -EPERM for an unpinned asset
 * without allow_unpinned; *ret_warning is set when an unpinned one was let through.
 */
int asset_fetch(const struct asset *a, const struct asset_fetch_options *o, char **ret_path,
                char **ret_warning, char **reterr);

/* Downloads @a unverified and records its size and SHA-256 in @a (for `fetch pins --update`). */
int asset_pin_update(struct asset *a, const struct asset_fetch_options *o, bool *ret_changed,
                     char **reterr);

/* Computes size and SHA-256 of a local file. */
int file_sha256(const char *path, uint8_t out[SHA256_LEN], uint64_t *ret_size, char **reterr);

/* The drivers an EFI tree gets when the caller names none (darwinkvm-docs step 15). */
extern const char *const efi_default_drivers[];

/*
 * Extracts the X64 OpenCore boot files from an OpenCore release zip into
 * @esp_dir (the directory that holds EFI/): EFI/BOOT/BOOTx64.efi,
 * EFI/OC/OpenCore.efi, the drivers named in @drivers (NULL: the defaults) and
 * the empty OC folders. A named driver missing from the zip is an error.
 */
int efi_install_opencore(const char *zip, const char *esp_dir, const char *const *drivers,
                         char **reterr);
/*
 * Extracts the *.kext bundles (not dSYMs or apps) of a kext release zip into
 * ESP/EFI/OC/Kexts; @only (NULL: all) limits which. *ret_kexts: the names installed.
 */
int efi_install_kext(const char *zip, const char *esp_dir, const char *const *only,
                     char ***ret_kexts, char **reterr);
/* Copies a single driver file (HfsPlus.efi) into ESP/EFI/OC/Drivers. */
int efi_install_driver(const char *efi_file, const char *esp_dir, char **reterr);
