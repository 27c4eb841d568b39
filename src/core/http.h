/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The only user of libcurl. TLS verification is always on, the proxy
 * variables (http_proxy, https_proxy, no_proxy) are honoured, redirects are
 * followed, and a transfer that stalls is cut. Retries, resumption and
 * verification live one level up (download.h); this layer does one request.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_options {
        const char *user_agent;        /* NULL: "darwinkvm/VERSION" */
        const char *cookie;            /* "name=value[; ...]" or NULL */
        const char *content_type;      /* for POST bodies, or NULL */
        bool connection_close;         /* send "Connection: close" (Apple's servers expect it) */
        long connect_timeout_s;        /* 0: 20 s */
        long low_speed_time_s;         /* cut when under 1 KiB/s this long; 0: 30 s */
        volatile sig_atomic_t *cancel; /* set (by a signal handler) to stop: -EINTR */
};

struct http_response {
        long status;
        char **headers; /* "Name: value" lines of the final response (strv) */
        char *body;     /* NUL-terminated */
        size_t body_len;
};

void http_response_release(struct http_response *r);

/*
 * One request with the body kept in memory (at most @max_body bytes; more is
 * -EFBIG). @method "GET" or "POST" (with @body). Any HTTP status is a success
 * here; the caller looks at r->status. Transport failures: -EHOSTUNREACH (retryable),
 * -EINTR (cancelled), -EINVAL (bad URL).
 */
int http_request(const char *method, const char *url, const char *body,
                 const struct http_options *o, size_t max_body, struct http_response *ret,
                 char **reterr);

/* Every value of header @name (case-insensitive) in @r, in order; NULL-terminated, free with
 * strv_free. */
char **http_response_header_values(const struct http_response *r, const char *name);

struct http_stream_callbacks {
        /*
         * Called once before the first data byte of a 200/206 answer with the
         * file offset the data starts at (0 when the server ignored the Range)
         * and the full size when the server said it (else UINT64_MAX).
         */
        int (*begin)(void *userdata, uint64_t start, uint64_t total);
        /* The bytes, in order. A negative return aborts the transfer with it. */
        int (*data)(void *userdata, const void *buf, size_t len);
        void *userdata;
};

/*
 * GETs @url from byte @offset (a Range request when > 0) and streams a
 * 200/206 body to @cb. *ret_status gets the HTTP status (0 if none came). For
 * other statuses no data is delivered and 0 is returned. A callback's error is
 * returned as is; transport failures as in http_request.
 */
int http_get_stream(const char *url, uint64_t offset, const struct http_options *o,
                    const struct http_stream_callbacks *cb, long *ret_status, char **reterr);
