/* SPDX-License-Identifier: MIT */
#include "download.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "fileio.h"
#include "strv.h"

/* 8 × 1 MiB: deep enough to ride out a slow write, small enough to stay in cache. */
#define SLOT_SIZE (1u << 20)
#define N_SLOTS   8

/*
 * The receiving thread (libcurl's callbacks) copies into the slot at @head; the
 * worker takes full slots from @tail, writes them to the .part file and feeds
 * the verifier. @count full slots are waiting; the slot being filled is not
 * counted, so the receiver may fill it while count < N_SLOTS.
 */
struct pipeline {
        pthread_mutex_t lock;
        pthread_cond_t have_data, have_room;
        uint8_t *slots[N_SLOTS];
        size_t lens[N_SLOTS];
        unsigned head, tail, count;
        size_t fill;
        bool closing;
        pthread_t thread;
        bool started;

        /* The worker's state (read by the receiver only when drained). */
        int fd;
        const char *part_path;
        uint64_t written; /* file offset of the next byte */
        const struct download_verify *verify;
        struct chunk_verifier cv;
        struct sha256 *whole;
        int error; /* set by the worker; the receiver aborts */
        char *errmsg;

        /* The receiver's state. */
        uint64_t received;     /* file offset of the next byte from the network */
        uint64_t total;        /* expected size or 0 */
        uint64_t server_total; /* the size the server gave in this answer, or UINT64_MAX */
        const struct download_options *o;
        const char *label;
};

static void *worker_main(void *userdata)
{
        struct pipeline *p = userdata;
        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (p->count == 0 && !p->closing)
                        pthread_cond_wait(&p->have_data, &p->lock);
                if (p->count == 0)
                        break;
                unsigned i = p->tail;
                bool failed = p->error < 0;
                pthread_mutex_unlock(&p->lock);

                int r = 0;
                _cleanup_free_ char *msg = NULL;
                if (!failed) {
                        r = pwrite_all(p->fd, p->slots[i], p->lens[i], (off_t) p->written);
                        if (r < 0)
                                msg = xasprintf("writing %s: %s", p->part_path, strerror(-r));
                        else {
                                if (p->verify->chunklist)
                                        r = chunk_verifier_feed(&p->cv, p->slots[i], p->lens[i],
                                                                &msg);
                                else if (p->whole)
                                        sha256_update(p->whole, p->slots[i], p->lens[i]);
                                p->written += p->lens[i];
                        }
                }

                pthread_mutex_lock(&p->lock);
                if (r < 0 && p->error == 0) {
                        p->error = r;
                        p->errmsg = TAKE_PTR(msg);
                }
                p->tail = (p->tail + 1) % N_SLOTS;
                p->count--;
                pthread_cond_broadcast(&p->have_room);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

/* Hands the slot being filled to the worker. Called with the lock held. */
static void commit_slot_locked(struct pipeline *p)
{
        if (p->fill == 0)
                return;
        p->lens[p->head] = p->fill;
        p->head = (p->head + 1) % N_SLOTS;
        p->count++;
        p->fill = 0;
        pthread_cond_signal(&p->have_data);
}

/* Waits until the worker has processed everything handed to it. */
static int drain(struct pipeline *p)
{
        pthread_mutex_lock(&p->lock);
        commit_slot_locked(p);
        while (p->count > 0)
                pthread_cond_wait(&p->have_room, &p->lock);
        int r = p->error;
        pthread_mutex_unlock(&p->lock);
        return r;
}

static int on_data(void *userdata, const void *data, size_t len)
{
        struct pipeline *p = userdata;
        const uint8_t *s = data;
        pthread_mutex_lock(&p->lock);
        while (len > 0 && p->error == 0) {
                while (p->count >= N_SLOTS && p->error == 0)
                        pthread_cond_wait(&p->have_room, &p->lock);
                if (p->error)
                        break;
                /* The slot at head is ours while count < N_SLOTS: copy without the lock. */
                size_t n = MIN(len, SLOT_SIZE - p->fill);
                uint8_t *dst = p->slots[p->head] + p->fill;
                pthread_mutex_unlock(&p->lock);
                memcpy(dst, s, n);
                pthread_mutex_lock(&p->lock);
                p->fill += n;
                s += n;
                len -= n;
                p->received += n;
                if (p->fill == SLOT_SIZE)
                        commit_slot_locked(p);
        }
        int r = p->error;
        pthread_mutex_unlock(&p->lock);
        if (r == 0)
                progress_update(p->o->progress, p->label, p->received, p->total);
        return r;
}

/* Sets the file back to @offset: the verifier restarts at the matching point. */
static int rewind_to(struct pipeline *p, uint64_t offset, char **reterr)
{
        if (ftruncate(p->fd, (off_t) offset) < 0) {
                int r = -errno;
                *reterr = xasprintf("truncating %s: %s", p->part_path, strerror(-r));
                return r;
        }
        p->written = p->received = offset;
        if (p->verify->chunklist) {
                /* Only ever rewound to 0 or to a chunk boundary. */
                uint64_t k = 0, off = 0;
                while (off < offset && k < p->verify->chunklist->n_chunks)
                        off += p->verify->chunklist->chunks[k++].size;
                chunk_verifier_release(&p->cv);
                chunk_verifier_init(&p->cv, p->verify->chunklist, k);
        } else if (p->whole)
                sha256_reset(p->whole);
        return 0;
}

static int on_begin(void *userdata, uint64_t start, uint64_t total)
{
        struct pipeline *p = userdata;
        if (start != p->received) {
                if (start != 0) {
                        pthread_mutex_lock(&p->lock);
                        p->error = -EREMOTEIO;
                        p->errmsg = xasprintf("the server sent bytes from %" PRIu64
                                              ", asked for %" PRIu64,
                                              start, p->received);
                        pthread_mutex_unlock(&p->lock);
                        return -EREMOTEIO;
                }
                /* The server ignored the Range: start over with what it sends. */
                int r = drain(p);
                if (r < 0)
                        return r;
                _cleanup_free_ char *err = NULL;
                r = rewind_to(p, 0, &err);
                if (r < 0) {
                        pthread_mutex_lock(&p->lock);
                        p->error = r;
                        p->errmsg = TAKE_PTR(err);
                        pthread_mutex_unlock(&p->lock);
                        return r;
                }
        }
        if (!p->verify->chunklist && p->total && total != UINT64_MAX && total != p->total) {
                pthread_mutex_lock(&p->lock);
                p->error = -EBADMSG;
                p->errmsg = xasprintf("the server has %" PRIu64 " bytes, the pin says %" PRIu64,
                                      total, p->total);
                pthread_mutex_unlock(&p->lock);
                return -EBADMSG;
        }
        if (!p->total && total != UINT64_MAX)
                p->total = total;
        p->server_total = total;
        return 0;
}

/*
 * Keeps the part of an existing .part file that still verifies: whole chunks
 * that match the chunklist, or (for a whole-file digest) the prefix, which is
 * hashed again. This is the only time a file is read back.
 */
static int resume_prefix(struct pipeline *p, char **reterr)
{
        struct stat st;
        if (fstat(p->fd, &st) < 0)
                return -errno;
        uint64_t have = (uint64_t) st.st_size, keep = 0;
        _cleanup_free_ uint8_t *buf = NULL;
        if (have == 0)
                return 0;
        if (p->total && have > p->total)
                return rewind_to(p, 0, reterr);
        buf = xmalloc(SLOT_SIZE);
        if (p->verify->chunklist) {
                const struct chunklist *c = p->verify->chunklist;
                struct sha256 *h = p->cv.hash;
                for (uint64_t k = 0; k < c->n_chunks && keep + c->chunks[k].size <= have; k++) {
                        uint64_t left = c->chunks[k].size, off = keep;
                        while (left > 0) {
                                ssize_t n =
                                        pread_full(p->fd, buf, MIN(left, SLOT_SIZE), (off_t) off);
                                if (n <= 0)
                                        break;
                                sha256_update(h, buf, (size_t) n);
                                off += (uint64_t) n;
                                left -= (uint64_t) n;
                        }
                        uint8_t d[SHA256_LEN];
                        sha256_final(h, d);
                        if (left > 0 || memcmp(d, c->chunks[k].sha256, SHA256_LEN) != 0)
                                break;
                        keep += c->chunks[k].size;
                }
                int r = rewind_to(p, keep, reterr);
                return r;
        }
        keep = have;
        if (p->whole) {
                uint64_t off = 0;
                while (off < have) {
                        ssize_t n = pread_full(p->fd, buf, MIN(have - off, SLOT_SIZE), (off_t) off);
                        if (n <= 0)
                                break;
                        sha256_update(p->whole, buf, (size_t) n);
                        off += (uint64_t) n;
                }
                keep = off;
                if (ftruncate(p->fd, (off_t) keep) < 0)
                        return -errno;
        }
        p->written = p->received = keep;
        return 0;
}

void download_options_defaults(struct download_options *o)
{
        if (o->retries == 0)
                o->retries = 4;
        else if (o->retries == UINT32_MAX)
                o->retries = 0;
        if (o->backoff_ms == 0)
                o->backoff_ms = 500;
}

bool download_error_is_network(int r)
{
        return r == -EHOSTUNREACH || r == -EREMOTEIO || r == -EKEYEXPIRED;
}

static bool status_retryable(long status)
{
        return status >= 500 || status == 408 || status == 429 || status == 0;
}

/* Sleeps @ms unless cancelled. */
static int backoff_sleep(unsigned ms, const struct download_options *o)
{
        for (unsigned waited = 0; waited < ms; waited += 50) {
                if (o->http.cancel && *o->http.cancel)
                        return -EINTR;
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        return 0;
}

static int finish_checks(struct pipeline *p, char **reterr)
{
        const struct download_verify *v = p->verify;
        if (v->chunklist)
                return chunk_verifier_finish(&p->cv, reterr);
        if (v->size && p->written != v->size) {
                *reterr = xasprintf("got %" PRIu64 " bytes, the pin says %" PRIu64, p->written,
                                    v->size);
                return -EBADMSG;
        }
        if (p->whole) {
                uint8_t d[SHA256_LEN];
                sha256_final(p->whole, d);
                if (memcmp(d, v->sha256, SHA256_LEN) != 0) {
                        char got[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
                        hex_encode(d, SHA256_LEN, got);
                        hex_encode(v->sha256, SHA256_LEN, want);
                        *reterr = xasprintf("SHA-256 is %s, the pin says %s", got, want);
                        return -EBADMSG;
                }
        }
        return 0;
}

static void pipeline_release(struct pipeline *p)
{
        if (p->started) {
                pthread_mutex_lock(&p->lock);
                p->closing = true;
                pthread_cond_signal(&p->have_data);
                pthread_mutex_unlock(&p->lock);
                pthread_join(p->thread, NULL);
        }
        for (unsigned i = 0; i < N_SLOTS; i++)
                free(p->slots[i]);
        chunk_verifier_release(&p->cv);
        sha256_free(p->whole);
        free(p->errmsg);
        if (p->fd >= 0)
                close(p->fd);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->have_data);
        pthread_cond_destroy(&p->have_room);
}

/* One mirror, with retries. Returns 0 when the whole file arrived, else an error. */
static int fetch_from(struct pipeline *p, const char *url, char **reterr)
{
        const struct download_options *o = p->o;
        unsigned failures = 0, backoff = o->backoff_ms;
        bool rewound = false;
        for (;;) {
                if (p->total && p->received == p->total)
                        return 0;
                uint64_t before = p->received;
                long status = 0;
                _cleanup_free_ char *err = NULL;
                p->server_total = UINT64_MAX;
                struct http_stream_callbacks cb = { on_begin, on_data, p };
                int r = http_get_stream(url, p->received, &o->http, &cb, &status, &err);
                int wr = drain(p);
                if (wr < 0) {
                        *reterr = xstrdup(p->errmsg ? p->errmsg : "worker failed");
                        return wr;
                }
                if (r == -EINTR || r == -EINVAL || r == -EBADMSG) {
                        *reterr = TAKE_PTR(err);
                        return r;
                }
                if (r == 0 && (status == 200 || status == 206)) {
                        /* A complete answer. With no size known, this is the end. */
                        if (!p->total || p->received == p->total)
                                return 0;
                        /* The whole file came and it is not the expected size: the checks say so.
                         */
                        if (p->server_total != UINT64_MAX && p->received == p->server_total)
                                return 0;
                        err = xasprintf("%s: the answer ended at byte %" PRIu64 " of %" PRIu64, url,
                                        p->received, p->total);
                } else if (r == 0 && status == 416 && p->received > 0 && !rewound) {
                        /*
                         * Nothing at or after our offset: the file ends where our .part does
                         * (the checks will tell), or the .part is longer than the file. Start
                         * over once to tell the two apart.
                         */
                        rewound = true;
                        r = rewind_to(p, 0, reterr);
                        if (r < 0)
                                return r;
                        continue;
                } else if (r == 0) {
                        _cleanup_free_ char *e = xasprintf("%s: HTTP %ld", url, status);
                        if (!status_retryable(status)) {
                                *reterr = TAKE_PTR(e);
                                return status == 401 || status == 403 ? -EKEYEXPIRED : -EREMOTEIO;
                        }
                        free(err);
                        err = TAKE_PTR(e);
                }
                /* Retryable. Progress made resets the count: a flaky link still finishes. */
                if (p->received > before) {
                        failures = 0;
                        backoff = o->backoff_ms;
                }
                if (++failures > o->retries) {
                        *reterr = TAKE_PTR(err);
                        return -EHOSTUNREACH;
                }
                r = backoff_sleep(backoff, o);
                if (r < 0) {
                        *reterr = xasprintf("%s: interrupted", url);
                        return r;
                }
                backoff = MIN(backoff * 2, 30000u);
        }
}

int download_file(char *const *urls, const char *dest, const struct download_verify *v,
                  const struct download_options *opts, char **reterr)
{
        struct download_options o = *opts;
        download_options_defaults(&o);
        _cleanup_free_ char *part = xasprintf("%s.part", dest);
        const char *base = strrchr(dest, '/') ? strrchr(dest, '/') + 1 : dest;
        struct pipeline p = {
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .have_data = PTHREAD_COND_INITIALIZER,
                .have_room = PTHREAD_COND_INITIALIZER,
                .fd = -1,
                .part_path = part,
                .verify = v,
                .o = &o,
                .label = o.label ? o.label : base,
                .total = v->chunklist ? v->chunklist->total_size : v->size,
        };
        int r = 0;

        p.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (p.fd < 0) {
                r = -errno;
                *reterr = xasprintf("%s: %s", part, strerror(-r));
                pipeline_release(&p);
                return r;
        }
        if (flock(p.fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                *reterr = xasprintf("%s: %s", part,
                                    r == -EWOULDBLOCK ? "another download of this file is running"
                                                      : strerror(-r));
                pipeline_release(&p);
                return r == -EWOULDBLOCK ? -EBUSY : r;
        }
        if (v->chunklist)
                chunk_verifier_init(&p.cv, v->chunklist, 0);
        else if (v->has_sha256)
                p.whole = sha256_new();
        for (unsigned i = 0; i < N_SLOTS; i++)
                p.slots[i] = xmalloc(SLOT_SIZE);

        _cleanup_free_ char *err = NULL;
        r = resume_prefix(&p, &err);
        if (r >= 0) {
                r = -pthread_create(&p.thread, NULL, worker_main, &p);
                p.started = r == 0;
        }
        /* A whole-file digest that fails after a resumed prefix: the old .part may be
         * stale (another version of the file), so try once more from byte 0. */
        bool resumed = p.received > 0 && !v->chunklist;
        for (unsigned round = 0; r >= 0 && round < 2; round++) {
                r = -EREMOTEIO;
                for (size_t i = 0; urls[i]; i++) {
                        free(err);
                        err = NULL;
                        r = fetch_from(&p, urls[i], &err);
                        if (r >= 0 || r == -EINTR || r == -EBADMSG || r == -EINVAL ||
                            !download_error_is_network(r))
                                break;
                }
                if (!urls[0])
                        err = xstrdup("no URL to download from");
                if (r >= 0)
                        r = finish_checks(&p, &err);
                if (r != -EBADMSG || !resumed || round > 0)
                        break;
                resumed = false;
                free(err);
                err = NULL;
                r = rewind_to(&p, 0, &err);
        }
        progress_finish(o.progress, p.label);

        if (r == -EBADMSG) {
                /* Keep the verified chunks for the next try; a bad whole file goes. */
                if (v->chunklist && p.cv.chunk < v->chunklist->n_chunks)
                        (void) ftruncate(p.fd,
                                         (off_t) chunklist_chunk_offset(v->chunklist, p.cv.chunk));
                else
                        (void) unlink(part);
                *reterr = xasprintf("%s: %s", base, err ? err : "verification failed");
        } else if (r < 0)
                *reterr = TAKE_PTR(err);
        else if (fdatasync(p.fd) < 0 || rename(part, dest) < 0) {
                r = -errno;
                *reterr = xasprintf("%s: %s", dest, strerror(-r));
        }
        pipeline_release(&p);
        return r;
}

int download_to_memory(char *const *urls, size_t max, const struct download_options *opts,
                       char **ret, size_t *ret_len, char **reterr)
{
        struct download_options o = *opts;
        download_options_defaults(&o);
        _cleanup_free_ char *err = NULL;
        int r = -EREMOTEIO;
        for (size_t i = 0; urls[i]; i++) {
                unsigned backoff = o.backoff_ms;
                for (unsigned attempt = 0;; attempt++) {
                        struct http_response resp = { 0 };
                        free(err);
                        err = NULL;
                        r = http_request("GET", urls[i], NULL, &o.http, max, &resp, &err);
                        long status = resp.status;
                        if (r >= 0 && status >= 200 && status < 300) {
                                *ret = TAKE_PTR(resp.body);
                                *ret_len = resp.body_len;
                                http_response_release(&resp);
                                return 0;
                        }
                        http_response_release(&resp);
                        if (r == -EINTR || r == -EFBIG || r == -EINVAL) {
                                *reterr = TAKE_PTR(err);
                                return r;
                        }
                        if (r >= 0) {
                                err = xasprintf("%s: HTTP %ld", urls[i], status);
                                r = status == 401 || status == 403 ? -EKEYEXPIRED : -EREMOTEIO;
                                if (!status_retryable(status))
                                        break;
                        }
                        if (attempt >= o.retries)
                                break;
                        if (backoff_sleep(backoff, &o) < 0) {
                                *reterr = xasprintf("%s: interrupted", urls[i]);
                                return -EINTR;
                        }
                        backoff = MIN(backoff * 2, 30000u);
                }
        }
        *reterr = err ? TAKE_PTR(err) : xstrdup("no URL to download from");
        return r;
}

char *download_cache_dir(void)
{
        const char *x = getenv("XDG_CACHE_HOME");
        if (x && x[0] == '/')
                return xasprintf("%s/darwinkvm", x);
        const char *home = getenv("HOME");
        return xasprintf("%s/.cache/darwinkvm", home && *home ? home : "/tmp");
}
