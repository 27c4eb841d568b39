/* SPDX-License-Identifier: MIT */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <strings.h>

/* curl's type-checking macros would expand our calls through the loaded pointers. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "alloc.h"
#include "buf.h"
#include "config.h"
#include "dlib.h"
#include "strv.h"

/*
 * libcurl is loaded on the first transfer: linked, it costs every run of
 * darwinkvm 8 ms at start-up, downloads or not.
 */
#define LIBCURL_SYMBOLS(X, T) \
 X(T, curl_easy_cleanup)      \
 X(T, curl_easy_getinfo)      \
 X(T, curl_easy_init)         \
 X(T, curl_easy_perform)      \
 X(T, curl_easy_setopt)       \
 X(T, curl_easy_strerror)     \
 X(T, curl_global_init)       \
 X(T, curl_slist_append)      \
 X(T, curl_slist_free_all)

struct libcurl_syms {
        LIBCURL_SYMBOLS(DLIB_MEMBER, _)
};
static struct libcurl_syms lc;
static struct dlib libcurl_lib =
        DLIB_INIT("libcurl", "libcurl.so.4", &lc, struct libcurl_syms, LIBCURL_SYMBOLS);

void http_response_release(struct http_response *r)
{
        strv_free(r->headers);
        free(r->body);
        *r = (struct http_response){ 0 };
}

struct transfer {
        CURL *curl;
        const struct http_options *o;
        char **headers; /* of the current (last) response */
        /* memory mode */
        struct buf body;
        size_t max_body;
        bool too_big;
        /* stream mode */
        const struct http_stream_callbacks *cb;
        uint64_t offset;
        bool begun;
        bool deliver;
        int cb_error;
};

static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
        struct transfer *t = userdata;
        size_t len = size * n;
        if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                /* A new response (after a redirect or a 100): forget the old headers. */
                strv_free(t->headers);
                t->headers = xcalloc(1, sizeof(char *));
                return len;
        }
        while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
                len--;
        if (len > 0) {
                _cleanup_free_ char *line = xstrndup(p, len);
                t->headers = strv_push(t->headers ? t->headers : xcalloc(1, sizeof(char *)), line);
        }
        return size * n;
}

static char **header_values(char **headers, const char *name)
{
        char **v = xcalloc(1, sizeof(char *));
        size_t l = strlen(name);
        STRV_FOREACH(h, headers)
                if (strncasecmp(*h, name, l) == 0 && (*h)[l] == ':') {
                        const char *s = *h + l + 1;
                        s += strspn(s, " \t");
                        v = strv_push(v, s);
                }
        return v;
}

char **http_response_header_values(const struct http_response *r, const char *name)
{
        return header_values(r->headers, name);
}

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
        struct transfer *t = userdata;
        size_t len = size * n;
        if (t->body.len + len > t->max_body) {
                t->too_big = true;
                return 0;
        }
        buf_put(&t->body, p, len);
        return len;
}

/* "bytes START-END/TOTAL" */
static void parse_content_range(const char *s, uint64_t *start, uint64_t *total)
{
        unsigned long long a, b;
        char tot[32];
        if (sscanf(s, "bytes %llu-%llu/%31s", &a, &b, tot) == 3) {
                *start = a;
                char *end;
                unsigned long long t = strtoull(tot, &end, 10);
                *total = *end == 0 && end != tot ? t : UINT64_MAX;
        }
}

static size_t on_stream(char *p, size_t size, size_t n, void *userdata)
{
        struct transfer *t = userdata;
        size_t len = size * n;
        if (!t->begun) {
                long status = 0;
                lc.curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
                t->begun = true;
                t->deliver = status == 200 || status == 206;
                if (t->deliver) {
                        uint64_t start = 0, total = UINT64_MAX;
                        if (status == 206) {
                                _cleanup_(strv_freep) char **cr =
                                        header_values(t->headers, "Content-Range");
                                if (cr[0])
                                        parse_content_range(cr[0], &start, &total);
                        } else {
                                curl_off_t cl = -1;
                                lc.curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                                                     &cl);
                                if (cl >= 0)
                                        total = (uint64_t) cl;
                        }
                        int r = t->cb->begin ? t->cb->begin(t->cb->userdata, start, total) : 0;
                        if (r < 0) {
                                t->cb_error = r;
                                return 0;
                        }
                }
        }
        if (!t->deliver)
                return len;
        int r = t->cb->data(t->cb->userdata, p, len);
        if (r < 0) {
                t->cb_error = r;
                return 0;
        }
        return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        struct transfer *t = userdata;
        return t->o->cancel && *t->o->cancel ? 1 : 0;
}

static struct curl_slist *setup(struct transfer *t, const char *url)
{
        const struct http_options *o = t->o;
        CURL *c = t->curl;
        struct curl_slist *hdrs = NULL;
        lc.curl_easy_setopt(c, CURLOPT_URL, url);
        lc.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        lc.curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        lc.curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        lc.curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        lc.curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        lc.curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        lc.curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        lc.curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s ?: 20L);
        lc.curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        lc.curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s ?: 30L);
        /* The largest receive buffer libcurl allows: fewer, larger callbacks. */
        lc.curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long) CURL_MAX_READ_SIZE);
        lc.curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent ?: "darwinkvm/" DKVM_VERSION);
        lc.curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        lc.curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
        lc.curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        lc.curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        lc.curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
        if (o->cookie)
                lc.curl_easy_setopt(c, CURLOPT_COOKIE, o->cookie);
        if (o->connection_close)
                hdrs = lc.curl_slist_append(hdrs, "Connection: close");
        if (o->content_type) {
                _cleanup_free_ char *h = xasprintf("Content-Type: %s", o->content_type);
                hdrs = lc.curl_slist_append(hdrs, h);
        }
        /* Never let curl add "Expect: 100-continue" to a POST. */
        hdrs = lc.curl_slist_append(hdrs, "Expect:");
        lc.curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        return hdrs;
}

static int result(struct transfer *t, CURLcode cc, const char *url, const char *errbuf,
                  char **reterr)
{
        if (cc == CURLE_OK)
                return 0;
        if (cc == CURLE_ABORTED_BY_CALLBACK) {
                *reterr = xasprintf("%s: interrupted", url);
                return -EINTR;
        }
        if (cc == CURLE_WRITE_ERROR && t->cb_error < 0)
                return t->cb_error;
        if (cc == CURLE_WRITE_ERROR && t->too_big) {
                *reterr = xasprintf("%s: the answer is larger than %zu bytes", url, t->max_body);
                return -EFBIG;
        }
        if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL) {
                *reterr = xasprintf("%s: not a usable http(s) URL", url);
                return -EINVAL;
        }
        *reterr = xasprintf("%s: %s", url, errbuf[0] ? errbuf : lc.curl_easy_strerror(cc));
        return -EHOSTUNREACH;
}

int http_request(const char *method, const char *url, const char *body,
                 const struct http_options *o, size_t max_body, struct http_response *ret,
                 char **reterr)
{
        int k = dlib_load(&libcurl_lib, reterr);
        if (k < 0)
                return k;
        struct transfer t = { .o = o, .max_body = max_body };
        char errbuf[CURL_ERROR_SIZE] = "";
        t.curl = lc.curl_easy_init();
        if (!t.curl)
                abort();
        struct curl_slist *hdrs = setup(&t, url);
        lc.curl_easy_setopt(t.curl, CURLOPT_ERRORBUFFER, errbuf);
        lc.curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, on_body);
        lc.curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
        /* Apple sometimes gzips without being asked: accept what libcurl can decode. */
        lc.curl_easy_setopt(t.curl, CURLOPT_ACCEPT_ENCODING, "");
        if (streq(method, "POST")) {
                lc.curl_easy_setopt(t.curl, CURLOPT_POST, 1L);
                lc.curl_easy_setopt(t.curl, CURLOPT_POSTFIELDS, body ? body : "");
                lc.curl_easy_setopt(t.curl, CURLOPT_POSTFIELDSIZE, (long) strlen(body ? body : ""));
        }
        CURLcode cc = lc.curl_easy_perform(t.curl);
        int r = result(&t, cc, url, errbuf, reterr);
        if (r >= 0) {
                lc.curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &ret->status);
                ret->headers = t.headers ? TAKE_PTR(t.headers) : xcalloc(1, sizeof(char *));
                ret->body_len = t.body.len;
                ret->body = t.body.s ? buf_detach(&t.body) : xstrdup("");
        }
        lc.curl_slist_free_all(hdrs);
        lc.curl_easy_cleanup(t.curl);
        strv_free(t.headers);
        buf_release(&t.body);
        return r;
}

int http_get_stream(const char *url, uint64_t offset, const struct http_options *o,
                    const struct http_stream_callbacks *cb, long *ret_status, char **reterr)
{
        int k = dlib_load(&libcurl_lib, reterr);
        if (k < 0)
                return k;
        struct transfer t = { .o = o, .cb = cb, .offset = offset };
        char errbuf[CURL_ERROR_SIZE] = "";
        t.curl = lc.curl_easy_init();
        if (!t.curl)
                abort();
        struct curl_slist *hdrs = setup(&t, url);
        lc.curl_easy_setopt(t.curl, CURLOPT_ERRORBUFFER, errbuf);
        lc.curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, on_stream);
        lc.curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
        /* CURLOPT_RANGE rather than RESUME_FROM: a server that ignores the Range and
         * answers 200 with the whole file is then handled by the caller (begin at 0). */
        char range[32];
        if (offset > 0) {
                snprintf(range, sizeof(range), "%" PRIu64 "-", offset);
                lc.curl_easy_setopt(t.curl, CURLOPT_RANGE, range);
        }
        CURLcode cc = lc.curl_easy_perform(t.curl);
        long status = 0;
        lc.curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
        *ret_status = status;
        int r;
        if (cc == CURLE_OK && !t.begun && (status == 200 || status == 206)) {
                /* An empty body never reaches the write callback. */
                uint64_t start = status == 206 ? offset : 0;
                r = cb->begin ? cb->begin(cb->userdata, start, start) : 0;
        } else
                r = result(&t, cc, url, errbuf, reterr);
        lc.curl_slist_free_all(hdrs);
        lc.curl_easy_cleanup(t.curl);
        strv_free(t.headers);
        return r;
}
