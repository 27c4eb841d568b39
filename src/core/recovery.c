/* SPDX-License-Identifier: MIT */
#include "recovery.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "strv.h"
#include "tsv.h"

#define USER_AGENT "InternetRecovery/1.0"

void recovery_target_release(struct recovery_target *t)
{
        free(t->version);
        free(t->name);
        free(t->board_id);
        free(t->mlb);
        free(t->os);
        *t = (struct recovery_target){ 0 };
}

void recovery_info_release(struct recovery_info *i)
{
        free(i->product);
        free(i->image_url);
        free(i->image_hash);
        free(i->image_token);
        free(i->chunklist_url);
        free(i->chunklist_hash);
        free(i->chunklist_token);
        *i = (struct recovery_info){ 0 };
}

struct usage {
        char *name, *board, *mlb, *os;
};

/*
 * The "recovery_urls.txt usage" column: "Sonoma: -m 00000000000000000 ;
 * Tahoe: -m 00000000000000000 -os latest". Entries for a real MLB or for
 * diagnostics are not fetch targets.
 */
static void parse_usages(struct tsv *boards, struct usage **ret, size_t *ret_n)
{
        int cb = tsv_column(boards, "board_id"), cu = boards->n_cols - 1;
        struct usage *u = NULL;
        size_t n = 0, cap = 0;
        for (size_t i = 0; i < boards->n_rows; i++) {
                _cleanup_free_ char *col = xstrdup(tsv_field(boards, i, cu));
                char *save = NULL;
                for (char *e = strtok_r(col, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
                        char *colon = strchr(e, ':');
                        if (!colon || strstr(e, "-diag") || strchr(e, '<'))
                                continue;
                        *colon = 0;
                        char *name = e + strspn(e, " ");
                        char *m = strstr(colon + 1, "-m ");
                        if (!m)
                                continue;
                        m += 3;
                        char mlb[32];
                        if (sscanf(m, "%31s", mlb) != 1 || strlen(mlb) != 17)
                                continue;
                        while (*name && name[strlen(name) - 1] == ' ')
                                name[strlen(name) - 1] = 0;
                        GROW(u, cap, n + 1);
                        u[n++] = (struct usage){
                                xstrdup(name),
                                xstrdup(tsv_field(boards, i, cb)),
                                xstrdup(mlb),
                                xstrdup(strstr(colon + 1, "-os latest") ? "latest" : "default"),
                        };
                }
        }
        *ret = u;
        *ret_n = n;
}

static void free_usages(struct usage *u, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(u[i].name);
                free(u[i].board);
                free(u[i].mlb);
                free(u[i].os);
        }
        free(u);
}

static int load_tables(const char *data_dir, struct tsv **boards, struct tsv **versions,
                       char **reterr)
{
        _cleanup_free_ char *bp = xasprintf("%s/recovery-boards.tsv", data_dir);
        _cleanup_free_ char *vp = xasprintf("%s/macos-versions.tsv", data_dir);
        int r = tsv_load(bp, 1 << 20, boards, reterr);
        if (r < 0)
                return r;
        r = tsv_load(vp, 1 << 20, versions, reterr);
        if (r < 0)
                return r;
        static const char *const bc[] = { "board_id", NULL };
        static const char *const vc[] = { "version", "name", "arch", NULL };
        r = tsv_require_columns(*boards, bc, reterr);
        return r < 0 ? r : tsv_require_columns(*versions, vc, reterr);
}

int recovery_target_list(const char *data_dir, struct recovery_target **ret, size_t *ret_n,
                         char **reterr)
{
        _cleanup_(tsv_freep) struct tsv *boards = NULL, *versions = NULL;
        int r = load_tables(data_dir, &boards, &versions, reterr);
        if (r < 0)
                return r;
        struct usage *u;
        size_t nu;
        parse_usages(boards, &u, &nu);
        int cv = tsv_column(versions, "version"), cn = tsv_column(versions, "name"),
            ca = tsv_column(versions, "arch");
        struct recovery_target *t = NULL;
        size_t n = 0, cap = 0;
        for (size_t i = 0; i < versions->n_rows; i++) {
                if (!streq(tsv_field(versions, i, ca), "x86_64"))
                        continue;
                const char *name = tsv_field(versions, i, cn);
                for (size_t k = 0; k < nu; k++)
                        if (strcasecmp(u[k].name, name) == 0) {
                                GROW(t, cap, n + 1);
                                t[n++] = (struct recovery_target){
                                        xstrdup(tsv_field(versions, i, cv)),
                                        xstrdup(name),
                                        xstrdup(u[k].board),
                                        xstrdup(u[k].mlb),
                                        xstrdup(u[k].os),
                                };
                                break;
                        }
        }
        free_usages(u, nu);
        *ret = t;
        *ret_n = n;
        return 0;
}

int recovery_target_resolve(const char *data_dir, const char *macos, struct recovery_target *ret,
                            char **reterr)
{
        struct recovery_target *t = NULL;
        size_t n = 0;
        int r = recovery_target_list(data_dir, &t, &n, reterr);
        if (r < 0)
                return r;
        ssize_t found = -1;
        if (strcasecmp(macos, "latest") == 0)
                found = n ? 0 : -1;
        for (size_t i = 0; i < n && found < 0; i++) {
                size_t l = strlen(t[i].version);
                /* "14", "14.6", "10.13", "10.13.6" and the name all pick the release. */
                if (strcasecmp(macos, t[i].name) == 0 ||
                    (strncmp(macos, t[i].version, l) == 0 && (macos[l] == 0 || macos[l] == '.')))
                        found = (ssize_t) i;
        }
        for (size_t i = 0; i < n; i++)
                if ((ssize_t) i != found)
                        recovery_target_release(&t[i]);
        if (found < 0) {
                free(t);
                *reterr = xasprintf("no recovery image is known for macOS \"%s\" (see 'darwinkvm "
                                    "fetch list')",
                                    macos);
                return -ENOENT;
        }
        *ret = t[found];
        free(t);
        return 0;
}

static void random_hex(struct rng *rng, char *out, size_t n)
{
        static const char digits[] = "0123456789ABCDEF";
        for (size_t i = 0; i < n; i++)
                out[i] = digits[rng_uniform(rng, 16)];
        out[n] = 0;
}

char *recovery_post_body(const char *board_id, const char *mlb, const char *os, struct rng *rng)
{
        char cid[17], k[65], fg[65];
        random_hex(rng, cid, 16);
        random_hex(rng, k, 64);
        random_hex(rng, fg, 64);
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_printf(&b, "cid=%s\nsn=%s\nbid=%s\nk=%s\nfg=%s", cid, mlb, board_id, k, fg);
        if (os)
                buf_printf(&b, "\nos=%s", os);
        return buf_detach(&b);
}

int recovery_parse_reply(const char *text, struct recovery_info *ret, char **reterr)
{
        static const char *const keys[] = { "AP", "AU", "AH", "AT", "CU", "CH", "CT" };
        char *vals[ELEMENTSOF(keys)] = { 0 };
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t l = strlen(line);
                if (l && line[l - 1] == '\r')
                        line[l - 1] = 0;
                char *sep = strstr(line, ": ");
                /* Exactly two parts, as macrecovery splits them. */
                if (!sep || strstr(sep + 2, ": "))
                        continue;
                *sep = 0;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (streq(line, keys[i]))
                                free_and_strdup(&vals[i], sep + 2);
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!vals[i] || !*vals[i]) {
                        *reterr = xasprintf("recovery server reply: no \"%s\" line", keys[i]);
                        for (size_t j = 0; j < ELEMENTSOF(keys); j++)
                                free(vals[j]);
                        return -EBADMSG;
                }
        *ret =
                (struct recovery_info){ vals[0], vals[1], vals[2], vals[3],
                                        vals[4], vals[5], vals[6] };
        if (!startswith(ret->image_url, "http://") && !startswith(ret->image_url, "https://")) {
                *reterr = xstrdup("recovery server reply: AU is not an http(s) URL");
                recovery_info_release(ret);
                return -EBADMSG;
        }
        if (!startswith(ret->chunklist_url, "http://") &&
            !startswith(ret->chunklist_url, "https://")) {
                *reterr = xstrdup("recovery server reply: CU is not an http(s) URL");
                recovery_info_release(ret);
                return -EBADMSG;
        }
        return 0;
}

char *recovery_session_cookie(char *const *set_cookie)
{
        for (size_t i = 0; set_cookie && set_cookie[i]; i++) {
                const char *s = set_cookie[i];
                for (;;) {
                        s += strspn(s, " ");
                        size_t len = strcspn(s, ";");
                        if (startswith(s, "session=") && len > 8)
                                return xstrndup(s, len);
                        if (!s[len])
                                break;
                        s += len + 1;
                }
        }
        return NULL;
}

static int http_status_error(const char *url, long status, char **reterr)
{
        *reterr = xasprintf("%s: HTTP %ld", url, status);
        return -EREMOTEIO;
}

int recovery_query(const char *server, const char *board_id, const char *mlb, const char *os,
                   struct rng *rng, const struct download_options *o, struct recovery_info *ret,
                   char **reterr)
{
        if (!server)
                server = RECOVERY_DEFAULT_SERVER;
        size_t sl = strlen(server);
        if (sl && server[sl - 1] == '/')
                sl--;
        struct http_options h = o->http;
        h.user_agent = USER_AGENT;
        h.connection_close = true;

        _cleanup_free_ char *root = xasprintf("%.*s/", (int) sl, server);
        struct http_response resp = { 0 };
        int r = http_request("GET", root, NULL, &h, 1 << 20, &resp, reterr);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                http_response_release(&resp);
                return http_status_error(root, resp.status, reterr);
        }
        _cleanup_strv_free_ char **sc = http_response_header_values(&resp, "Set-Cookie");
        http_response_release(&resp);
        _cleanup_free_ char *cookie = recovery_session_cookie(sc);
        if (!cookie) {
                *reterr = xasprintf("%s: no session cookie in the answer", root);
                return -EREMOTEIO;
        }

        _cleanup_free_ char *url =
                xasprintf("%.*s/InstallationPayload/RecoveryImage", (int) sl, server);
        _cleanup_free_ char *body = recovery_post_body(board_id, mlb, os, rng);
        h.cookie = cookie;
        h.content_type = "text/plain";
        r = http_request("POST", url, body, &h, 1 << 20, &resp, reterr);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                long st = resp.status;
                http_response_release(&resp);
                r = http_status_error(url, st, reterr);
                if (st == 400 || st == 404) {
                        free(*reterr);
                        *reterr = xasprintf("%s: HTTP %ld: the server does not know board-id %s "
                                            "with MLB %s",
                                            url, st, board_id, mlb);
                }
                return r;
        }
        r = recovery_parse_reply(resp.body, ret, reterr);
        http_response_release(&resp);
        return r;
}

static char *url_basename(const char *url)
{
        const char *q = url + strcspn(url, "?#");
        const char *s = q;
        while (s > url && s[-1] != '/')
                s--;
        return xstrndup(s, (size_t) (q - s));
}

static bool safe_file_name(const char *s)
{
        return *s && !streq(s, ".") && !streq(s, "..") && !strchr(s, '/');
}

int recovery_fetch(const struct recovery_info *info, const char *out_dir,
                   const struct recovery_fetch_options *o, char **ret_image, char **ret_warning,
                   char **reterr)
{
        _cleanup_free_ char *image_name = url_basename(info->image_url);
        if (!safe_file_name(image_name) || !endswith(image_name, ".dmg")) {
                *reterr = xasprintf("recovery server reply: AU \"%s\" does not name a .dmg",
                                    info->image_url);
                return -EBADMSG;
        }
        int r = mkdir_p(out_dir, 0755);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", out_dir, strerror(-r));
                return r;
        }

        struct download_options dl = o->download;
        dl.http.user_agent = USER_AGENT;
        dl.http.connection_close = true;
        _cleanup_free_ char *ct = xasprintf("AssetToken=%s", info->chunklist_token);
        dl.http.cookie = ct;
        char *curls[] = { info->chunklist_url, NULL };
        _cleanup_free_ char *cl_data = NULL;
        size_t cl_len = 0;
        r = download_to_memory(curls, 64 << 20, &dl, &cl_data, &cl_len, reterr);
        if (r < 0)
                return r;
        _cleanup_(chunklist_freep) struct chunklist *cl = NULL;
        r = chunklist_parse((const uint8_t *) cl_data, cl_len, o->keys, o->n_keys,
                            o->chunklist_flags, &cl, ret_warning, reterr);
        if (r < 0)
                return r;

        _cleanup_free_ char *at = xasprintf("AssetToken=%s", info->image_token);
        dl.http.cookie = at;
        _cleanup_free_ char *image = xasprintf("%s/%s", out_dir, image_name);
        char *iurls[] = { info->image_url, NULL };
        struct download_verify v = { .chunklist = cl };
        if (!dl.label)
                dl.label = image_name;
        r = download_file(iurls, image, &v, &dl, reterr);
        if (r < 0)
                return r;

        /* OpenCore pairs IMAGE.dmg with IMAGE.chunklist. */
        _cleanup_free_ char *clpath =
                xasprintf("%s/%.*s.chunklist", out_dir, (int) (strlen(image_name) - 4), image_name);
        r = write_file_atomic(AT_FDCWD, clpath, cl_data, cl_len, 0644, reterr);
        if (r < 0) {
                (void) unlink(image);
                return r;
        }
        *ret_image = TAKE_PTR(image);
        return 0;
}

static int first_dmg(const char *dir, char **ret, char **reterr)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", dir, strerror(-r));
                return r;
        }
        char *best = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (endswith(de->d_name, ".dmg") && de->d_name[0] != '.' &&
                    (!best || strcmp(de->d_name, best) < 0))
                        free_and_strdup(&best, de->d_name);
        if (!best) {
                *reterr = xasprintf("%s: no .dmg image", dir);
                return -ENOENT;
        }
        *ret = best;
        return 0;
}

int recovery_verify_dir(const char *dir, const struct rsa_public_key *keys, size_t n_keys,
                        unsigned chunklist_flags, char **ret_image, char **ret_warning,
                        char **reterr)
{
        _cleanup_free_ char *name = NULL;
        int r = first_dmg(dir, &name, reterr);
        if (r < 0)
                return r;
        _cleanup_free_ char *image = xasprintf("%s/%s", dir, name);
        _cleanup_free_ char *clpath =
                xasprintf("%s/%.*s.chunklist", dir, (int) (strlen(name) - 4), name);
        _cleanup_free_ char *cl_data = NULL;
        size_t cl_len = 0;
        r = read_file_at(AT_FDCWD, clpath, 64u << 20, &cl_data, &cl_len, reterr);
        if (r < 0)
                return r;
        _cleanup_(chunklist_freep) struct chunklist *cl = NULL;
        r = chunklist_parse((const uint8_t *) cl_data, cl_len, keys, n_keys, chunklist_flags, &cl,
                            ret_warning, reterr);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(image, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                *reterr = xasprintf("%s: %s", image, strerror(-r));
                return r;
        }
        struct chunk_verifier v;
        chunk_verifier_init(&v, cl, 0);
        _cleanup_free_ uint8_t *buf = xmalloc(1u << 20);
        _cleanup_free_ char *err = NULL;
        for (;;) {
                ssize_t n = read_full(fd, buf, 1u << 20);
                if (n < 0) {
                        r = (int) n;
                        err = xasprintf("reading: %s", strerror(-r));
                        break;
                }
                if (n == 0) {
                        r = chunk_verifier_finish(&v, &err);
                        break;
                }
                r = chunk_verifier_feed(&v, buf, (size_t) n, &err);
                if (r < 0)
                        break;
        }
        chunk_verifier_release(&v);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", image, err);
                return r;
        }
        *ret_image = TAKE_PTR(image);
        return 0;
}
