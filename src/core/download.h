/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Verified downloads: a file is streamed into DEST.part, checked while its
 * bytes arrive (per chunk against a chunklist, or whole against a pinned size
 * and SHA-256), and renamed to DEST only once every check passed. A .part left
 * by an interrupted run is resumed with a Range request (its verified prefix
 * kept); failing mirrors are tried in order, with retries and backoff on 5xx
 * answers and dropped connections. Hashing and writing run on a second thread
 * fed by a ring of buffers, so the receiving thread only copies.
 */

#include <stdint.h>

#include "chunklist.h"
#include "crypto.h"
#include "http.h"
#include "progress.h"

struct download_verify {
        const struct chunklist *chunklist; /* every chunk checked, size = total */
        bool has_sha256;
        uint8_t sha256[SHA256_LEN]; /* the whole file */
        uint64_t size;              /* exact size, or 0: not known */
};

struct download_options {
        struct http_options http;
        unsigned retries;    /* per mirror, after the first try; default 4 (UINT32_MAX: 0) */
        unsigned backoff_ms; /* first wait, doubled each time; default 500 */
        const struct progress_sink *progress;
        const char *label; /* for the progress display; NULL: the file name */
};

/* Apply the defaults to zero fields. */
void download_options_defaults(struct download_options *o);

/*
 * Downloads the first of @urls (a NULL-terminated list of mirrors) that works
 * into @dest. Errors: -EBADMSG the content failed a check (the message names
 * the chunk or both digests), -EHOSTUNREACH (transport) / -EREMOTEIO (HTTP
 * error, or a server answering nonsense) or -EKEYEXPIRED (HTTP 401/403: access
 * refused, e.g. an expired token) on every mirror, -EINTR cancelled (DEST.part kept for a
 * resume), other -errno from the file system (e.g. -EFBIG, -ENOSPC). DEST never exists unless
 * verified.
 */
int download_file(char *const *urls, const char *dest, const struct download_verify *v,
                  const struct download_options *o, char **reterr);

/* GET into memory with the same retry policy. */
int download_to_memory(char *const *urls, size_t max, const struct download_options *o, char **ret,
                       size_t *ret_len, char **reterr);

/* $XDG_CACHE_HOME/darwinkvm, else $HOME/.cache/darwinkvm (not created). */
char *download_cache_dir(void);

/* Whether an error from the functions above is a network failure (exit 4). */
bool download_error_is_network(int r);
