/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Apple's Internet Recovery protocol as macrecovery speaks it (formats.md 1):
 * a session cookie from GET /, a POST of board-id and MLB to
 * /InstallationPayload/RecoveryImage, a KEY: VALUE reply naming the image and
 * its chunklist; then the chunklist (checked against the trusted keys) and the
 * image, verified chunk by chunk while it streams.
 */

#include <stdbool.h>

#include "chunklist.h"
#include "download.h"
#include "random.h"

#define RECOVERY_DEFAULT_SERVER "http://osrecovery.apple.com"
#define RECOVERY_ZERO_MLB       "00000000000000000"

struct recovery_target {
        char *version; /* "14", or "latest" */
        char *name;    /* "Sonoma" */
        char *board_id;
        char *mlb;
        char *os; /* "default" or "latest" */
};

void recovery_target_release(struct recovery_target *t);

/*
 * The board, MLB and os for a macOS version ("14", "14.6", "sonoma",
 * "latest") from data/recovery-boards.tsv and data/macos-versions.tsv.
 */
int recovery_target_resolve(const char *data_dir, const char *macos, struct recovery_target *ret,
                            char **reterr);
/* Every version the data knows how to fetch, newest first. */
int recovery_target_list(const char *data_dir, struct recovery_target **ret, size_t *ret_n,
                         char **reterr);

struct recovery_info {
        char *product;         /* AP */
        char *image_url;       /* AU */
        char *image_hash;      /* AH (not a plain SHA-256; not checked) */
        char *image_token;     /* AT */
        char *chunklist_url;   /* CU */
        char *chunklist_hash;  /* CH */
        char *chunklist_token; /* CT */
};

void recovery_info_release(struct recovery_info *i);

/* The POST body (LF-separated, no trailing LF); random fields from @rng. */
char *recovery_post_body(const char *board_id, const char *mlb, const char *os, struct rng *rng);
/* Parses the KEY: VALUE reply; every one of the seven keys is required. */
int recovery_parse_reply(const char *text, struct recovery_info *ret, char **reterr);
/* The "session=..." cookie among Set-Cookie header values, or NULL. */
char *recovery_session_cookie(char *const *set_cookie);

/* Steps 1 and 2 against @server (NULL: Apple's). Network errors as download.h. */
int recovery_query(const char *server, const char *board_id, const char *mlb, const char *os,
                   struct rng *rng, const struct download_options *o, struct recovery_info *ret,
                   char **reterr);

struct recovery_fetch_options {
        const struct rsa_public_key *keys; /* trusted chunklist keys */
        size_t n_keys;
        unsigned chunklist_flags; /* CHUNKLIST_ALLOW_* */
        struct download_options download;
};

/*
 * Downloads the chunklist and the image into @out_dir (created): IMAGE.dmg
 * and IMAGE.chunklist (the names OpenCore looks for) appear only once the
 * image verified. *ret_image gets the image path; *ret_warning (may stay
 * NULL) what an ALLOW flag let through.
 */
int recovery_fetch(const struct recovery_info *info, const char *out_dir,
                   const struct recovery_fetch_options *o, char **ret_image, char **ret_warning,
                   char **reterr);

/*
 * Offline: checks a recovery directory already on disk (the first *.dmg in
 * name order and the .chunklist of the same base name, as OpenCore pairs
 * them) with the same checks as a download. *ret_image gets the image path.
 */
int recovery_verify_dir(const char *dir, const struct rsa_public_key *keys, size_t n_keys,
                        unsigned chunklist_flags, char **ret_image, char **ret_warning,
                        char **reterr);
