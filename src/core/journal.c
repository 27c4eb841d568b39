/* SPDX-License-Identifier: MIT */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "diff.h"
#include "fileio.h"
#include "hostfs.h"
#include "macro.h"
#include "process.h"
#include "strutil.h"
#include "strv.h"

#define CONFIG_MAX (16u * 1024 * 1024)

void prep_init(struct prep *p, const struct root *root, bool dry_run)
{
        *p = (struct prep){ .root = root, .dry_run = dry_run, .diff = BUF_INIT };
        p->print_only = dry_run || !root->is_host;
        p->log = xcalloc(1, sizeof(char *));
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        long long t;
        if (sde && sscanf(sde, "%lld", &t) == 1)
                p->now = t;
        else
                p->now = (long long) time(NULL);
}

void prep_release(struct prep *p)
{
        strv_free(p->log);
        p->log = NULL;
        buf_release(&p->diff);
}

void prep_log(struct prep *p, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        p->log = strv_consume(p->log, xvasprintf(fmt, ap));
        va_end(ap);
}

static char *argv_to_shell(char *const *argv)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        for (size_t i = 0; argv[i]; i++) {
                if (i)
                        buf_putc(&b, ' ');
                buf_put_shell_quoted(&b, argv[i]);
        }
        return buf_detach(&b);
}

int prep_run(struct prep *p, char *const *argv, char **reterr)
{
        _cleanup_free_ char *s = argv_to_shell(argv);
        if (p->print_only) {
                prep_log(p, "would run: %s", s);
                return 0;
        }
        _cleanup_buf_ struct buf err = BUF_INIT;
        int status;
        int k = process_run(argv, NULL, &err, &status, reterr);
        if (k < 0)
                return k;
        if (status != 0) {
                const char *e = buf_str(&err);
                *reterr = xasprintf("'%s' failed with status %d%s%.*s", s, status, *e ? ": " : "",
                                    (int) strcspn(e, "\n"), e);
                return -EIO;
        }
        prep_log(p, "ran: %s", s);
        return 0;
}

/* ---------------- crash test hook ---------------- */

void journal_count_write(void)
{
        static long count = 0, limit = -2;
        if (limit == -2) {
                const char *e = getenv("DARWINKVM_TEST_CRASH_AFTER_WRITES");
                limit = e && *e ? strtol(e, NULL, 10) : -1;
        }
        if (limit >= 0 && ++count >= limit)
                _exit(99);
}

/* ---------------- change sets ---------------- */

void change_set_init(struct change_set *cs, const char *verb)
{
        *cs = (struct change_set){ .verb = xstrdup(verb) };
}

static void command_release(struct command *c)
{
        strv_free(c->argv);
}

void change_set_release(struct change_set *cs)
{
        for (size_t i = 0; i < cs->n_files; i++) {
                free(cs->files[i].path);
                free(cs->files[i].old);
                free(cs->files[i].new);
        }
        free(cs->files);
        for (size_t i = 0; i < cs->n_commands; i++)
                command_release(&cs->commands[i]);
        free(cs->commands);
        free(cs->verb);
        *cs = (struct change_set){ 0 };
}

static struct file_change *find_change(const struct change_set *cs, const char *path)
{
        for (size_t i = 0; i < cs->n_files; i++)
                if (streq(cs->files[i].path, path))
                        return &cs->files[i];
        return NULL;
}

static int read_current(const struct root *r, const char *path, char **ret, size_t *ret_len,
                        bool *ret_exists, struct stat *ret_st, char **reterr)
{
        struct stat st;
        int k = root_stat(r, path, &st, false);
        if (k == -ENOENT) {
                *ret = xstrdup("");
                *ret_len = 0;
                *ret_exists = false;
                return 0;
        }
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, strerror(-k));
                return k;
        }
        if (S_ISLNK(st.st_mode)) {
                *reterr = xasprintf("%s: is a symbolic link; darwinkvm edits regular files only",
                                    path);
                return -ELOOP;
        }
        if (!S_ISREG(st.st_mode)) {
                *reterr = xasprintf("%s: not a regular file", path);
                return -EINVAL;
        }
        k = root_read_file(r, path, CONFIG_MAX, ret, ret_len);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, strerror(-k));
                return k;
        }
        *ret_exists = true;
        if (ret_st)
                *ret_st = st;
        return 0;
}

int change_set_current(const struct change_set *cs, const struct root *r, const char *path,
                       char **ret, size_t *ret_len, bool *ret_exists, char **reterr)
{
        const struct file_change *c = find_change(cs, path);
        if (c) {
                *ret = xmalloc(c->new_len + 1);
                memcpy(*ret, c->new, c->new_len);
                (*ret)[c->new_len] = 0;
                *ret_len = c->new_len;
                *ret_exists = true;
                return 0;
        }
        return read_current(r, path, ret, ret_len, ret_exists, NULL, reterr);
}

int change_set_write(struct change_set *cs, const struct root *r, const char *path,
                     const char *data, size_t len, mode_t mode, char **reterr)
{
        if (path[0] != '/') {
                *reterr = xasprintf("%s: not an absolute path", path);
                return -EINVAL;
        }
        struct file_change *c = find_change(cs, path);
        if (!c) {
                struct file_change n = { .path = xstrdup(path), .mode = mode & 07777 };
                struct stat st;
                int k = read_current(r, path, &n.old, &n.old_len, &n.existed, &st, reterr);
                if (k < 0) {
                        free(n.path);
                        return k;
                }
                if (n.existed) {
                        n.mode = st.st_mode & 07777;
                        n.uid = st.st_uid;
                        n.gid = st.st_gid;
                } else {
                        free(n.old);
                        n.old = NULL;
                        n.uid = geteuid();
                        n.gid = getegid();
                }
                GROW(cs->files, cs->cap_files, cs->n_files + 1);
                c = &cs->files[cs->n_files++];
                *c = n;
        }
        free(c->new);
        c->new = xmalloc(len + 1);
        memcpy(c->new, data, len);
        c->new[len] = 0;
        c->new_len = len;
        return 0;
}

void change_set_command(struct change_set *cs, enum command_kind kind, char *const *argv)
{
        char **copy = xcalloc(1, sizeof(char *));
        for (size_t i = 0; argv[i]; i++)
                copy = strv_push(copy, argv[i]);
        GROW(cs->commands, cs->cap_commands, cs->n_commands + 1);
        cs->commands[cs->n_commands++] = (struct command){ .kind = kind, .argv = copy };
}

static bool file_change_is_noop(const struct file_change *c)
{
        return c->existed && c->old_len == c->new_len && memcmp(c->old, c->new, c->new_len) == 0;
}

bool change_set_changes(const struct change_set *cs)
{
        for (size_t i = 0; i < cs->n_files; i++)
                if (!file_change_is_noop(&cs->files[i]))
                        return true;
        return false;
}

/* ---------------- the entry file ---------------- */

const char *journal_state_to_string(enum journal_state s)
{
        switch (s) {
        case JOURNAL_PENDING:
                return "pending";
        case JOURNAL_COMPLETE:
                return "complete";
        case JOURNAL_UNDONE:
                return "undone";
        }
        return "unknown";
}

const char *file_state_to_string(enum file_state s)
{
        switch (s) {
        case FILE_IN_PLACE:
                return "in place";
        case FILE_ORIGINAL:
                return "original";
        case FILE_CHANGED:
                return "changed since";
        case FILE_BACKUP_MISSING:
                return "backup missing";
        }
        return "unknown";
}

/* A field of a tab-separated line: tab, newline, backslash and control bytes escaped. */
static void put_field(struct buf *b, const char *s)
{
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '\\')
                        buf_puts(b, "\\\\");
                else if (*p == '\t')
                        buf_puts(b, "\\t");
                else if (*p == '\n')
                        buf_puts(b, "\\n");
                else if (*p < 0x20 || *p == 0x7f)
                        buf_printf(b, "\\x%02x", *p);
                else
                        buf_putc(b, (char) *p);
        }
}

/* Splits one line into unescaped fields. NULL on a bad escape or a NUL byte. */
static char **split_fields(const char *line, size_t len)
{
        char **f = xcalloc(1, sizeof(char *));
        _cleanup_buf_ struct buf cur = BUF_INIT;
        buf_puts(&cur, "");
        for (size_t i = 0; i <= len; i++) {
                if (i == len || line[i] == '\t') {
                        f = strv_push(f, buf_str(&cur));
                        buf_reset(&cur);
                        buf_puts(&cur, "");
                        continue;
                }
                char c = line[i];
                if (c == 0) {
                        strv_free(f);
                        return NULL;
                }
                if (c != '\\') {
                        buf_putc(&cur, c);
                        continue;
                }
                if (++i >= len) {
                        strv_free(f);
                        return NULL;
                }
                switch (line[i]) {
                case '\\':
                        buf_putc(&cur, '\\');
                        break;
                case 't':
                        buf_putc(&cur, '\t');
                        break;
                case 'n':
                        buf_putc(&cur, '\n');
                        break;
                case 'x': {
                        int hi = i + 1 < len ? unhexchar(line[i + 1]) : -1;
                        int lo = i + 2 < len ? unhexchar(line[i + 2]) : -1;
                        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                                strv_free(f);
                                return NULL;
                        }
                        buf_putc(&cur, (char) (hi * 16 + lo));
                        i += 2;
                        break;
                }
                default:
                        strv_free(f);
                        return NULL;
                }
        }
        return f;
}

static const char *const command_kind_names[] = {
        [COMMAND_REGEN] = "regen",
        [COMMAND_RUN] = "run",
        [COMMAND_UNDO] = "undo",
};

char *journal_entry_format(const struct journal_entry *e)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "darwinkvm-journal 1\n");
        buf_puts(&b, "verb\t");
        put_field(&b, e->verb);
        buf_printf(&b, "\ntime\t%lld\n", e->time);
        for (size_t i = 0; i < e->n_files; i++) {
                const struct journal_file *f = &e->files[i];
                buf_printf(&b, "file\t%u\t%s\t%04o\t%u\t%u\t", f->index,
                           f->existed ? "edit" : "new", (unsigned) f->mode & 07777,
                           (unsigned) f->uid, (unsigned) f->gid);
                put_field(&b, f->path);
                buf_putc(&b, '\n');
        }
        STRV_FOREACH(d, e->dirs) {
                buf_puts(&b, "mkdir\t");
                put_field(&b, *d);
                buf_putc(&b, '\n');
        }
        for (size_t i = 0; i < e->n_commands; i++) {
                buf_puts(&b, command_kind_names[e->commands[i].kind]);
                STRV_FOREACH(a, e->commands[i].argv) {
                        buf_putc(&b, '\t');
                        put_field(&b, *a);
                }
                buf_putc(&b, '\n');
        }
        return buf_detach(&b);
}

void journal_entry_release(struct journal_entry *e)
{
        for (size_t i = 0; i < e->n_files; i++)
                free(e->files[i].path);
        free(e->files);
        for (size_t i = 0; i < e->n_commands; i++)
                command_release(&e->commands[i]);
        free(e->commands);
        free(e->verb);
        strv_free(e->dirs);
        *e = (struct journal_entry){ 0 };
}

static int parse_uint(const char *s, unsigned base, unsigned max, unsigned *ret)
{
        if (!*s || strlen(s) > 12)
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, (int) base);
        if (errno || *end || s[0] == '-' || s[0] == '+' || s[0] == ' ' || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int parse_entry_line(char **f, unsigned lineno, struct journal_entry *e, size_t *cap_files,
                            size_t *cap_commands, char **reterr)
{
        size_t n = strv_length(f);
        if (streq(f[0], "verb") && n == 2) {
                free_and_strdup(&e->verb, f[1]);
                return 0;
        }
        if (streq(f[0], "time") && n == 2) {
                char *end;
                errno = 0;
                e->time = strtoll(f[1], &end, 10);
                if (errno || !*f[1] || *end) {
                        *reterr = xasprintf("line %u: time '%s' is not a number", lineno, f[1]);
                        return -EINVAL;
                }
                return 0;
        }
        if (streq(f[0], "file")) {
                unsigned idx, mode, uid, gid;
                if (n != 7 || parse_uint(f[1], 10, 100000, &idx) < 0 ||
                    !(streq(f[2], "edit") || streq(f[2], "new")) ||
                    parse_uint(f[3], 8, 07777, &mode) < 0 ||
                    parse_uint(f[4], 10, UINT32_MAX - 1, &uid) < 0 ||
                    parse_uint(f[5], 10, UINT32_MAX - 1, &gid) < 0 || f[6][0] != '/') {
                        *reterr = xasprintf("line %u: expected 'file INDEX edit|new MODE UID GID "
                                            "/PATH'",
                                            lineno);
                        return -EINVAL;
                }
                for (size_t i = 0; i < e->n_files; i++)
                        if (e->files[i].index == idx || streq(e->files[i].path, f[6])) {
                                *reterr = xasprintf("line %u: file %u (%s) listed twice", lineno,
                                                    idx, f[6]);
                                return -EINVAL;
                        }
                GROW(e->files, *cap_files, e->n_files + 1);
                e->files[e->n_files++] = (struct journal_file){
                        .index = idx,
                        .path = xstrdup(f[6]),
                        .existed = streq(f[2], "edit"),
                        .mode = (mode_t) mode,
                        .uid = (uid_t) uid,
                        .gid = (gid_t) gid,
                };
                return 0;
        }
        if (streq(f[0], "mkdir") && n == 2 && f[1][0] == '/') {
                e->dirs = strv_push(e->dirs ? e->dirs : xcalloc(1, sizeof(char *)), f[1]);
                return 0;
        }
        for (size_t k = 0; k < ELEMENTSOF(command_kind_names); k++)
                if (streq(f[0], command_kind_names[k])) {
                        if (n < 2 || !*f[1]) {
                                *reterr =
                                        xasprintf("line %u: '%s' without a command", lineno, f[0]);
                                return -EINVAL;
                        }
                        char **argv = xcalloc(1, sizeof(char *));
                        for (size_t i = 1; i < n; i++)
                                argv = strv_push(argv, f[i]);
                        GROW(e->commands, *cap_commands, e->n_commands + 1);
                        e->commands[e->n_commands++] =
                                (struct command){ .kind = (enum command_kind) k, .argv = argv };
                        return 0;
                }
        *reterr = xasprintf("line %u: unknown record '%s'", lineno, f[0]);
        return -EINVAL;
}

int journal_entry_parse(const char *text, size_t len, struct journal_entry *ret, char **reterr)
{
        struct journal_entry e = { 0 };
        size_t cap_files = 0, cap_commands = 0;
        unsigned lineno = 0;
        bool header = false;
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t l = nl ? (size_t) (nl - (text + i)) : len - i;
                const char *line = text + i;
                i += l + 1;
                lineno++;
                if (!header) {
                        if (l != strlen("darwinkvm-journal 1") ||
                            memcmp(line, "darwinkvm-journal 1", l) != 0) {
                                *reterr = xstrdup("line 1: not a darwinkvm journal entry "
                                                  "(expected 'darwinkvm-journal 1')");
                                journal_entry_release(&e);
                                return -EINVAL;
                        }
                        header = true;
                        continue;
                }
                if (l == 0)
                        continue;
                _cleanup_strv_free_ char **f = split_fields(line, l);
                if (!f) {
                        *reterr = xasprintf("line %u: bad escape or NUL byte", lineno);
                        journal_entry_release(&e);
                        return -EINVAL;
                }
                int k = parse_entry_line(f, lineno, &e, &cap_files, &cap_commands, reterr);
                if (k < 0) {
                        journal_entry_release(&e);
                        return k;
                }
        }
        if (!header || !e.verb) {
                *reterr = xstrdup(!header ? "empty journal entry" : "no 'verb' line");
                journal_entry_release(&e);
                return -EINVAL;
        }
        *ret = e;
        return 0;
}

/* ---------------- on disk ---------------- */

static char *entry_dir(unsigned id)
{
        return xasprintf(JOURNAL_DIR "/%04u", id);
}

static char *entry_file(unsigned id, const char *name)
{
        return xasprintf(JOURNAL_DIR "/%04u/%s", id, name);
}

static char *backup_file(unsigned id, unsigned index, const char *suffix)
{
        return xasprintf(JOURNAL_DIR "/%04u/%u.%s", id, index, suffix);
}

static int journal_write(const struct root *r, const char *path, const char *data, size_t len,
                         char **reterr)
{
        int k = root_write_file_atomic(r, path, data, len, 0600, NULL, reterr);
        if (k >= 0)
                journal_count_write();
        return k;
}

static int set_state(const struct root *r, unsigned id, enum journal_state s, char **reterr)
{
        _cleanup_free_ char *path = entry_file(id, "state");
        _cleanup_free_ char *text = xasprintf("%s\n", journal_state_to_string(s));
        return journal_write(r, path, text, strlen(text), reterr);
}

static int list_ids(const struct root *r, unsigned **ret, size_t *ret_n)
{
        _cleanup_strv_free_ char **names = NULL;
        int k = root_list_dir(r, JOURNAL_DIR, &names);
        if (k == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (k < 0)
                return k;
        unsigned *ids = xcalloc(strv_length(names) + 1, sizeof(unsigned));
        size_t n = 0;
        STRV_FOREACH(s, names) {
                unsigned id;
                if (strlen(*s) == 4 && parse_uint(*s, 10, 9999, &id) == 0 && id > 0)
                        ids[n++] = id;
        }
        *ret = ids;
        *ret_n = n; /* root_list_dir sorts; four digits sort as numbers */
        return 0;
}

static int next_id(const struct root *r, unsigned *ret, char **reterr)
{
        _cleanup_free_ unsigned *ids = NULL;
        size_t n;
        int k = list_ids(r, &ids, &n);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", JOURNAL_DIR, strerror(-k));
                return k;
        }
        unsigned id = n ? ids[n - 1] + 1 : 1;
        if (id > 9999) {
                *reterr = xstrdup(JOURNAL_DIR ": journal full (9999 entries)");
                return -ENOSPC;
        }
        *ret = id;
        return 0;
}

/* Refuses what could not be written, before anything is. */
static int preflight(const struct root *r, const struct file_change *c, char **reterr)
{
        struct stat st;
        int k = root_stat(r, c->path, &st, false);
        if (k == 0) {
                if ((st.st_mode & 0222) == 0) {
                        *reterr = xasprintf("%s: is read-only (mode %04o); make it writable if "
                                            "the change is meant",
                                            c->path, (unsigned) st.st_mode & 07777);
                        return -EACCES;
                }
                if (!c->existed) {
                        *reterr = xasprintf("%s: appeared while the change was being planned",
                                            c->path);
                        return -EEXIST;
                }
        } else if (k != -ENOENT) {
                *reterr = xasprintf("%s: %s", c->path, strerror(-k));
                return k;
        }
        return 0;
}

static bool content_eq(const char *a, size_t alen, const char *b, size_t blen)
{
        return alen == blen && memcmp(a, b, alen) == 0;
}

static void diff_into(struct buf *out, const char *path, const char *a, size_t alen, bool a_exists,
                      const char *b, size_t blen, bool b_exists)
{
        _cleanup_free_ char *la = a_exists ? xasprintf("a%s", path) : xstrdup("/dev/null");
        _cleanup_free_ char *lb = b_exists ? xasprintf("b%s", path) : xstrdup("/dev/null");
        _cleanup_free_ char *d = diff_unified(a ? a : "", alen, b ? b : "", blen, la, lb, 3);
        buf_puts(out, d);
}

/* Puts the previous bytes (or no file) back. */
static int restore_file(const struct root *r, const char *path, bool existed, const char *old,
                        size_t old_len, mode_t mode, uid_t uid, gid_t gid, char **reterr)
{
        if (!existed) {
                int k = root_unlink(r, path);
                if (k < 0 && k != -ENOENT) {
                        *reterr = xasprintf("%s: cannot remove: %s", path, strerror(-k));
                        return k;
                }
                journal_count_write();
                return 0;
        }
        struct stat st = { .st_mode = mode, .st_uid = uid, .st_gid = gid };
        int k = root_write_file_atomic(r, path, old, old_len, mode, &st, reterr);
        if (k >= 0)
                journal_count_write();
        return k;
}

/* Removes the directories an entry created, children first, where they are empty. */
static void remove_dirs(const struct root *r, char *const *dirs)
{
        for (size_t i = strv_length(dirs); i-- > 0;) {
                const char *slash = strrchr(dirs[i], '/');
                if (!slash)
                        continue;
                _cleanup_free_ char *parent =
                        slash == dirs[i] ? xstrdup("/")
                                         : xstrndup(dirs[i], (size_t) (slash - dirs[i]));
                _cleanup_close_ int fd = root_openat(r, parent, O_PATH | O_DIRECTORY, 0);
                if (fd >= 0 && unlinkat(fd, slash + 1, AT_REMOVEDIR) == 0)
                        journal_count_write();
        }
}

static int run_commands(struct prep *p, const struct command *cmds, size_t n, bool undo,
                        char **reterr)
{
        for (size_t i = 0; i < n; i++) {
                size_t j = undo ? n - 1 - i : i;
                enum command_kind k = cmds[j].kind;
                if (k == COMMAND_REGEN || (undo ? k == COMMAND_UNDO : k == COMMAND_RUN)) {
                        int r = prep_run(p, cmds[j].argv, reterr);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int journal_apply(struct prep *p, struct change_set *cs, unsigned *ret_id, char **reterr)
{
        const struct root *r = p->root;
        *ret_id = 0;
        /* Drop what would not change. */
        size_t n = 0;
        for (size_t i = 0; i < cs->n_files; i++) {
                if (file_change_is_noop(&cs->files[i])) {
                        free(cs->files[i].path);
                        free(cs->files[i].old);
                        free(cs->files[i].new);
                } else
                        cs->files[n++] = cs->files[i];
        }
        cs->n_files = n;
        bool acts = false; /* commands of their own (usermod), journaled for their undo */
        for (size_t i = 0; i < cs->n_commands; i++)
                acts |= cs->commands[i].kind != COMMAND_REGEN;
        if (n == 0 && !acts)
                return 0;

        for (size_t i = 0; i < n; i++) {
                const struct file_change *c = &cs->files[i];
                diff_into(&p->diff, c->path, c->old, c->old_len, c->existed, c->new, c->new_len,
                          true);
        }
        for (size_t i = 0; i < n; i++) {
                int k = preflight(r, &cs->files[i], reterr);
                if (k < 0)
                        return k;
        }
        if (p->dry_run) {
                for (size_t i = 0; i < cs->n_commands; i++)
                        if (cs->commands[i].kind != COMMAND_UNDO) {
                                _cleanup_free_ char *s = argv_to_shell(cs->commands[i].argv);
                                prep_log(p, "would run: %s", s);
                        }
                return 0;
        }

        unsigned id;
        int k = next_id(r, &id, reterr);
        if (k < 0)
                return k;
        _cleanup_free_ char *dir = entry_dir(id);
        k = root_mkdir_p(r, JOURNAL_DIR, 0755);
        if (k >= 0)
                k = root_mkdir_p(r, dir, 0700);
        if (k < 0) {
                *reterr = xasprintf("%s: cannot create: %s", dir, strerror(-k));
                return k;
        }

        /* The directories new files need, parents first: created after the entry names them. */
        _cleanup_strv_free_ char **dirs = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                if (cs->files[i].existed)
                        continue;
                _cleanup_free_ char *d = xstrdup(cs->files[i].path);
                _cleanup_strv_free_ char **chain = xcalloc(1, sizeof(char *));
                for (char *slash = strrchr(d, '/'); slash && slash != d; slash = strrchr(d, '/')) {
                        *slash = 0;
                        if (root_is_dir(r, d))
                                break;
                        chain = strv_push(chain, d);
                }
                for (size_t j = strv_length(chain); j-- > 0;)
                        if (!strv_contains(dirs, chain[j]))
                                dirs = strv_push(dirs, chain[j]);
        }

        /* Write ahead: the backups and the entry before any target. */
        struct journal_entry e = { .id = id, .verb = cs->verb, .time = p->now, .dirs = dirs };
        e.files = xcalloc(n, sizeof(*e.files));
        e.n_files = n;
        e.commands = cs->commands;
        e.n_commands = cs->n_commands;
        for (size_t i = 0; i < n; i++) {
                const struct file_change *c = &cs->files[i];
                e.files[i] = (struct journal_file){ .index = (unsigned) i + 1,
                                                    .path = c->path,
                                                    .existed = c->existed,
                                                    .mode = c->mode,
                                                    .uid = c->uid,
                                                    .gid = c->gid };
        }
        _cleanup_free_ char *text = journal_entry_format(&e);
        free(e.files);
        for (size_t i = 0; i < n && k >= 0; i++) {
                const struct file_change *c = &cs->files[i];
                if (c->existed) {
                        _cleanup_free_ char *b = backup_file(id, (unsigned) i + 1, "old");
                        k = journal_write(r, b, c->old, c->old_len, reterr);
                }
                if (k >= 0) {
                        _cleanup_free_ char *b = backup_file(id, (unsigned) i + 1, "new");
                        k = journal_write(r, b, c->new, c->new_len, reterr);
                }
        }
        if (k >= 0)
                k = set_state(r, id, JOURNAL_PENDING, reterr);
        if (k >= 0) {
                _cleanup_free_ char *path = entry_file(id, "entry");
                k = journal_write(r, path, text, strlen(text), reterr);
        }
        if (k < 0)
                return k;

        size_t done = 0;
        STRV_FOREACH(d, dirs)
                if ((k = root_mkdir_p(r, *d, 0755)) < 0) {
                        *reterr = xasprintf("%s: cannot create: %s", *d, strerror(-k));
                        break;
                }
        for (; k >= 0 && done < n; done++) {
                const struct file_change *c = &cs->files[done];
                k = root_write_file_atomic(r, c->path, c->new, c->new_len, c->mode, NULL, reterr);
                if (k < 0)
                        break;
                journal_count_write();
                prep_log(p, "wrote %s", c->path);
        }
        if (k < 0) {
                /* Put back what was written; the entry says undone. */
                for (size_t i = done; i-- > 0;) {
                        const struct file_change *c = &cs->files[i];
                        _cleanup_free_ char *ignored = NULL;
                        (void) restore_file(r, c->path, c->existed, c->old, c->old_len, c->mode,
                                            c->uid, c->gid, &ignored);
                }
                remove_dirs(r, dirs);
                _cleanup_free_ char *ignored = NULL;
                (void) set_state(r, id, JOURNAL_UNDONE, &ignored);
                return k;
        }
        k = set_state(r, id, JOURNAL_COMPLETE, reterr);
        if (k < 0)
                return k;
        prep_log(p, "journal entry %u (%s)", id, cs->verb);
        *ret_id = id;
        return run_commands(p, cs->commands, cs->n_commands, false, reterr);
}

/* ---------------- status and undo ---------------- */

void journal_entries_free(struct journal_entry *e, size_t n)
{
        for (size_t i = 0; i < n; i++)
                journal_entry_release(&e[i]);
        free(e);
}

static int read_optional(const struct root *r, const char *path, char **ret, size_t *ret_len,
                         bool *ret_exists)
{
        int k = root_read_file(r, path, CONFIG_MAX, ret, ret_len);
        if (k == -ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                *ret_exists = false;
                return 0;
        }
        if (k < 0)
                return k;
        *ret_exists = true;
        return 0;
}

static void file_state_of(const struct root *r, unsigned id, struct journal_file *f)
{
        _cleanup_free_ char *oldp = backup_file(id, f->index, "old");
        _cleanup_free_ char *newp = backup_file(id, f->index, "new");
        _cleanup_free_ char *old = NULL, *new = NULL, *cur = NULL;
        size_t old_len = 0, new_len = 0, cur_len = 0;
        bool have_old, have_new, have_cur;
        if (read_optional(r, oldp, &old, &old_len, &have_old) < 0 ||
            read_optional(r, newp, &new, &new_len, &have_new) < 0 || !have_new ||
            (f->existed && !have_old)) {
                f->state = FILE_BACKUP_MISSING;
                return;
        }
        if (read_optional(r, f->path, &cur, &cur_len, &have_cur) < 0) {
                f->state = FILE_CHANGED;
                return;
        }
        if (have_cur && content_eq(cur, cur_len, new, new_len))
                f->state = FILE_IN_PLACE;
        else if ((!f->existed && !have_cur) ||
                 (f->existed && have_cur && content_eq(cur, cur_len, old, old_len)))
                f->state = FILE_ORIGINAL;
        else
                f->state = FILE_CHANGED;
}

static int load_entry(const struct root *r, unsigned id, struct journal_entry *ret, char **reterr)
{
        _cleanup_free_ char *path = entry_file(id, "entry");
        _cleanup_free_ char *text = NULL, *state = NULL;
        size_t len;
        int k = root_read_file(r, path, CONFIG_MAX, &text, &len);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, strerror(-k));
                return k;
        }
        _cleanup_free_ char *err = NULL;
        struct journal_entry e;
        k = journal_entry_parse(text, len, &e, &err);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, err);
                return k;
        }
        e.id = id;
        _cleanup_free_ char *sp = entry_file(id, "state");
        e.state = JOURNAL_PENDING;
        if (root_read_line(r, sp, &state) == 0) {
                if (streq(state, "complete"))
                        e.state = JOURNAL_COMPLETE;
                else if (streq(state, "undone"))
                        e.state = JOURNAL_UNDONE;
        }
        for (size_t i = 0; i < e.n_files; i++)
                file_state_of(r, id, &e.files[i]);
        *ret = e;
        return 0;
}

int journal_load(const struct root *r, struct journal_entry **ret, size_t *ret_n, char **reterr)
{
        _cleanup_free_ unsigned *ids = NULL;
        size_t n;
        int k = list_ids(r, &ids, &n);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", JOURNAL_DIR, strerror(-k));
                return k;
        }
        struct journal_entry *e = xcalloc(n + 1, sizeof(*e));
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                /* A crash between mkdir and the entry leaves a directory without one: nothing
                 * was written to a target then. */
                _cleanup_free_ char *ep = entry_file(ids[i], "entry");
                if (!root_exists(r, ep))
                        continue;
                k = load_entry(r, ids[i], &e[m], reterr);
                if (k < 0) {
                        journal_entries_free(e, m);
                        return k;
                }
                m++;
        }
        *ret = e;
        *ret_n = m;
        return 0;
}

/* What the files will hold once the newer entries are undone: checked before anything is written.
 */
struct virtual_file {
        char *path;
        char *data; /* NULL: absent */
        size_t len;
};

struct virtual_tree {
        struct virtual_file *files;
        size_t n, cap;
};

static void virtual_tree_release(struct virtual_tree *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->files[i].path);
                free(t->files[i].data);
        }
        free(t->files);
}

static struct virtual_file *virtual_get(struct virtual_tree *t, const struct root *r,
                                        const char *path)
{
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->files[i].path, path))
                        return &t->files[i];
        GROW(t->files, t->cap, t->n + 1);
        struct virtual_file *v = &t->files[t->n++];
        *v = (struct virtual_file){ .path = xstrdup(path) };
        bool exists = false;
        if (read_optional(r, path, &v->data, &v->len, &exists) < 0 || !exists) {
                free(v->data);
                v->data = NULL;
        }
        return v;
}

/* Checks that @e can be undone given @t, and updates @t as if it were. Nothing written. */
static int undo_check(struct prep *p, const struct journal_entry *e, struct virtual_tree *t,
                      char **reterr)
{
        const struct root *r = p->root;
        for (size_t i = e->n_files; i-- > 0;) {
                const struct journal_file *f = &e->files[i];
                _cleanup_free_ char *oldp = backup_file(e->id, f->index, "old");
                _cleanup_free_ char *newp = backup_file(e->id, f->index, "new");
                _cleanup_free_ char *old = NULL, *new = NULL;
                size_t old_len = 0, new_len = 0;
                bool have_old = false, have_new = false;
                if (read_optional(r, oldp, &old, &old_len, &have_old) < 0 ||
                    read_optional(r, newp, &new, &new_len, &have_new) < 0 || !have_new ||
                    (f->existed && !have_old)) {
                        *reterr = xasprintf("journal entry %u: the backup of %s is missing or "
                                            "unreadable (%s); nothing changed",
                                            e->id, f->path, have_new ? oldp : newp);
                        return -ENOENT;
                }
                struct virtual_file *v = virtual_get(t, r, f->path);
                if (v->data && content_eq(v->data, v->len, new, new_len)) {
                        free(v->data);
                        v->data = f->existed ? TAKE_PTR(old) : NULL;
                        v->len = f->existed ? old_len : 0;
                        continue;
                }
                if (f->existed ? (v->data && content_eq(v->data, v->len, old, old_len)) : !v->data)
                        continue; /* never applied (a crash before it), or undone already */
                diff_into(&p->diff, f->path, new, new_len, true, v->data, v->len, v->data != NULL);
                *reterr = xasprintf("journal entry %u: %s changed since darwinkvm wrote it (the "
                                    "diff shows how); nothing changed",
                                    e->id, f->path);
                return -EBUSY;
        }
        return 0;
}

static int undo_entry(struct prep *p, struct journal_entry *e, char **reterr)
{
        const struct root *r = p->root;
        for (size_t i = e->n_files; i-- > 0;) {
                struct journal_file *f = &e->files[i];
                file_state_of(r, e->id, f);
                if (f->state != FILE_IN_PLACE)
                        continue;
                _cleanup_free_ char *oldp = backup_file(e->id, f->index, "old");
                _cleanup_free_ char *newp = backup_file(e->id, f->index, "new");
                _cleanup_free_ char *old = NULL, *new = NULL;
                size_t old_len = 0, new_len = 0;
                bool have_old = false, have_new = false;
                int k = read_optional(r, oldp, &old, &old_len, &have_old);
                if (k >= 0)
                        k = read_optional(r, newp, &new, &new_len, &have_new);
                if (k < 0) {
                        *reterr = xasprintf("journal entry %u: %s: %s", e->id, oldp, strerror(-k));
                        return k;
                }
                diff_into(&p->diff, f->path, new, new_len, true, old, old_len, f->existed);
                if (p->dry_run)
                        continue;
                k = restore_file(r, f->path, f->existed, old, old_len, f->mode, f->uid, f->gid,
                                 reterr);
                if (k < 0)
                        return k;
                prep_log(p, "%s %s", f->existed ? "restored" : "removed", f->path);
        }
        if (p->dry_run) {
                for (size_t i = e->n_commands; i-- > 0;)
                        if (e->commands[i].kind != COMMAND_RUN) {
                                _cleanup_free_ char *s = argv_to_shell(e->commands[i].argv);
                                prep_log(p, "would run: %s", s);
                        }
                return 0;
        }
        remove_dirs(r, e->dirs);
        int k = set_state(r, e->id, JOURNAL_UNDONE, reterr);
        if (k < 0)
                return k;
        prep_log(p, "undid journal entry %u (%s)", e->id, e->verb);
        return run_commands(p, e->commands, e->n_commands, true, reterr);
}

static int undo_list(struct prep *p, struct journal_entry *all, size_t n, const bool *pick,
                     unsigned *ret_count, char **reterr)
{
        /* Check every entry first, newest first, each against what the files will hold once
         * the newer ones are undone. */
        unsigned count = 0;
        struct virtual_tree t = { 0 };
        for (size_t i = n; i-- > 0;) {
                if (!pick[i])
                        continue;
                int k = undo_check(p, &all[i], &t, reterr);
                if (k < 0) {
                        virtual_tree_release(&t);
                        return k;
                }
        }
        virtual_tree_release(&t);
        for (size_t i = n; i-- > 0;) {
                if (!pick[i])
                        continue;
                int k = undo_entry(p, &all[i], reterr);
                if (k < 0)
                        return k;
                count++;
        }
        if (ret_count)
                *ret_count = count;
        return 0;
}

int journal_undo(struct prep *p, unsigned id, char **reterr)
{
        struct journal_entry *all = NULL;
        size_t n = 0;
        int k = journal_load(p->root, &all, &n, reterr);
        if (k < 0)
                return k;
        _cleanup_free_ bool *pick = xcalloc(n + 1, sizeof(bool));
        bool found = false;
        for (size_t i = 0; i < n; i++) {
                if (id != 0 && all[i].id != id)
                        continue;
                found = true;
                pick[i] = all[i].state != JOURNAL_UNDONE;
                if (id != 0 && all[i].state == JOURNAL_UNDONE)
                        prep_log(p, "journal entry %u is undone already", id);
        }
        if (id != 0 && !found) {
                *reterr = xasprintf("no journal entry %u (see 'darwinkvm host status')", id);
                journal_entries_free(all, n);
                return -ENOENT;
        }
        /* Undoing one entry while a newer one holds the same file: the newer one must go first. */
        if (id != 0) {
                for (size_t i = 0; i < n; i++) {
                        if (!pick[i])
                                continue;
                        for (size_t j = i + 1; j < n; j++) {
                                if (all[j].state == JOURNAL_UNDONE)
                                        continue;
                                for (size_t a = 0; a < all[i].n_files; a++)
                                        for (size_t b = 0; b < all[j].n_files; b++)
                                                if (streq(all[i].files[a].path,
                                                          all[j].files[b].path) &&
                                                    all[j].files[b].state == FILE_IN_PLACE) {
                                                        *reterr = xasprintf(
                                                                "journal entry %u changed %s "
                                                                "after entry %u: undo %u first",
                                                                all[j].id, all[j].files[b].path,
                                                                all[i].id, all[j].id);
                                                        journal_entries_free(all, n);
                                                        return -EBUSY;
                                                }
                        }
                }
        }
        k = undo_list(p, all, n, pick, NULL, reterr);
        journal_entries_free(all, n);
        return k;
}

int journal_undo_verb(struct prep *p, const char *verb, unsigned *ret_count, char **reterr)
{
        struct journal_entry *all = NULL;
        size_t n = 0;
        int k = journal_load(p->root, &all, &n, reterr);
        if (k < 0)
                return k;
        _cleanup_free_ bool *pick = xcalloc(n + 1, sizeof(bool));
        for (size_t i = 0; i < n; i++)
                pick[i] = streq(all[i].verb, verb) && all[i].state != JOURNAL_UNDONE;
        k = undo_list(p, all, n, pick, ret_count, reterr);
        journal_entries_free(all, n);
        return k;
}

int journal_forget_verb(const struct root *r, const char *verb, unsigned *ret_count, char **reterr)
{
        struct journal_entry *e = NULL;
        size_t n = 0;
        int k = journal_load(r, &e, &n, reterr);
        if (k < 0)
                return k;
        unsigned count = 0;
        _cleanup_close_ int dfd = -1;
        for (size_t i = 0; i < n && k >= 0; i++) {
                if (!streq(e[i].verb, verb) || e[i].state != JOURNAL_UNDONE)
                        continue;
                if (dfd < 0) {
                        dfd = root_open_dir(r, JOURNAL_DIR);
                        if (dfd < 0) {
                                k = dfd;
                                *reterr = xasprintf("%s: %s", JOURNAL_DIR, strerror(-k));
                                break;
                        }
                }
                char name[16];
                snprintf(name, sizeof(name), "%04u", e[i].id);
                k = rm_rf_at(dfd, name);
                if (k < 0)
                        *reterr = xasprintf("%s/%s: %s", JOURNAL_DIR, name, strerror(-k));
                else
                        count++;
        }
        journal_entries_free(e, n);
        if (ret_count)
                *ret_count = count;
        return k < 0 ? k : 0;
}
