/* SPDX-License-Identifier: MIT */
#include "bootloader.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "macro.h"
#include "strutil.h"
#include "strv.h"

/* ---------------- the command line ---------------- */

char **cmdline_split(const char *s)
{
        char **l = xcalloc(1, sizeof(char *));
        const char *p = s;
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                        p++;
                if (!*p)
                        break;
                const char *start = p;
                bool quoted = false;
                while (*p && (quoted || !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))) {
                        if (*p == '"')
                                quoted = !quoted;
                        p++;
                }
                if (quoted) /* never closed: the quote is just a character */
                        for (p = start;
                             *p && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r');)
                                p++;
                l = strv_consume(l, xstrndup(start, (size_t) (p - start)));
        }
        return l;
}

/* The identity of an argument for replacing: "iommu", or "video=efifb" for video modes. */
static char *arg_key(const char *arg)
{
        size_t n = strcspn(arg, "=");
        if (strncmp(arg, "video=", 6) == 0)
                return xstrndup(arg, 6 + strcspn(arg + 6, ":"));
        return xstrndup(arg, n);
}

static bool key_single_valued(const char *key)
{
        static const char *const keys[] = {
                "intel_iommu",
                "amd_iommu",
                "iommu",
                "vfio-pci.ids",
                "pcie_acs_override",
                "kvm.ignore_msrs",
                "vfio_iommu_type1.allow_unsafe_interrupts",
                "default_hugepagesz",
                "hugepagesz",
                "hugepages",
                "isolcpus",
                "nohz_full",
                "rcu_nocbs",
        };
        if (strncmp(key, "video=", 6) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i], key))
                        return true;
        return false;
}

static bool arg_matches_removal(const char *arg, const char *rm)
{
        if (strchr(rm, '='))
                return streq(arg, rm);
        _cleanup_free_ char *k = xstrndup(arg, strcspn(arg, "="));
        return streq(k, rm);
}

char *cmdline_edit(const char *cmdline, char *const *add, char *const *remove)
{
        _cleanup_strv_free_ char **args = cmdline_split(cmdline);
        bool changed = false;
        STRV_FOREACH(rm, (char **) remove) {
                size_t j = 0;
                for (size_t i = 0; args[i]; i++) {
                        if (arg_matches_removal(args[i], *rm)) {
                                free(args[i]);
                                changed = true;
                        } else
                                args[j++] = args[i];
                }
                args[j] = NULL;
        }
        STRV_FOREACH(a, (char **) add) {
                if (strv_contains(args, *a))
                        continue;
                _cleanup_free_ char *key = arg_key(*a);
                bool replaced = false;
                if (key_single_valued(key)) {
                        size_t j = 0;
                        for (size_t i = 0; args[i]; i++) {
                                _cleanup_free_ char *k = arg_key(args[i]);
                                if (!streq(k, key))
                                        args[j++] = args[i];
                                else if (!replaced) {
                                        free(args[i]);
                                        args[j++] = xstrdup(*a);
                                        replaced = true;
                                } else
                                        free(args[i]);
                        }
                        args[j] = NULL;
                }
                if (!replaced)
                        args = strv_push(args, *a);
                changed = true;
        }
        if (!changed)
                return xstrdup(cmdline);
        return strv_join(args, " ");
}

/* ---------------- GRUB defaults: a shell fragment ---------------- */

struct scanner {
        const char *s;
        size_t len, pos;
        unsigned line;
};

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool ends_word(char c)
{
        return is_blank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' ||
               c == '>' || c == '(' || c == ')';
}

/*
 * Reads one shell word at the scanner's position: the unquoted value into @value (when
 * given), *ret_quote the first quoting seen, *ret_expands whether it has $ or `.
 */
static int scan_word(struct scanner *sc, struct buf *value, char *ret_quote, bool *ret_expands,
                     char **reterr)
{
        char quote = 0;
        bool expands = false;
        while (sc->pos < sc->len && !ends_word(sc->s[sc->pos])) {
                char c = sc->s[sc->pos];
                if (c == '\\') {
                        if (sc->pos + 1 >= sc->len) {
                                sc->pos++;
                                break;
                        }
                        char n = sc->s[sc->pos + 1];
                        sc->pos += 2;
                        if (n == '\n')
                                sc->line++; /* continuation */
                        else if (value)
                                buf_putc(value, n);
                        continue;
                }
                if (c == '\'') {
                        if (!quote)
                                quote = c;
                        unsigned start = sc->line;
                        sc->pos++;
                        while (sc->pos < sc->len && sc->s[sc->pos] != '\'') {
                                if (sc->s[sc->pos] == '\n')
                                        sc->line++;
                                if (value)
                                        buf_putc(value, sc->s[sc->pos]);
                                sc->pos++;
                        }
                        if (sc->pos >= sc->len) {
                                *reterr = xasprintf("line %u: unterminated single quote", start);
                                return -EINVAL;
                        }
                        sc->pos++;
                        continue;
                }
                if (c == '"') {
                        if (!quote)
                                quote = c;
                        unsigned start = sc->line;
                        sc->pos++;
                        while (sc->pos < sc->len && sc->s[sc->pos] != '"') {
                                char d = sc->s[sc->pos];
                                if (d == '\\' && sc->pos + 1 < sc->len) {
                                        char n = sc->s[sc->pos + 1];
                                        if (n == '\n') {
                                                sc->line++;
                                                sc->pos += 2;
                                                continue;
                                        }
                                        if (n == '"' || n == '\\' || n == '$' || n == '`') {
                                                if (value)
                                                        buf_putc(value, n);
                                                sc->pos += 2;
                                                continue;
                                        }
                                }
                                if (d == '$' || d == '`')
                                        expands = true;
                                if (d == '\n')
                                        sc->line++;
                                if (value)
                                        buf_putc(value, d);
                                sc->pos++;
                        }
                        if (sc->pos >= sc->len) {
                                *reterr = xasprintf("line %u: unterminated double quote", start);
                                return -EINVAL;
                        }
                        sc->pos++;
                        continue;
                }
                if (c == '$' || c == '`')
                        expands = true;
                if (value)
                        buf_putc(value, c);
                sc->pos++;
        }
        if (ret_quote)
                *ret_quote = quote;
        if (ret_expands)
                *ret_expands = expands;
        return 0;
}

static bool is_name_char(char c, bool first)
{
        return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (!first && c >= '0' && c <= '9');
}

void grub_assignment_release(struct grub_assignment *a)
{
        free(a->value);
        a->value = NULL;
}

int grub_find(const char *text, size_t len, const char *key, struct grub_assignment *ret,
              char **reterr)
{
        if (memchr(text, 0, len)) {
                *reterr = xstrdup("contains a NUL byte: not a shell file");
                return -EINVAL;
        }
        struct scanner sc = { .s = text, .len = len, .line = 1 };
        struct grub_assignment found = { 0 };
        bool have = false;
        size_t klen = strlen(key);
        bool command_start = true;
        while (sc.pos < sc.len) {
                char c = sc.s[sc.pos];
                if (is_blank(c)) {
                        sc.pos++;
                        continue;
                }
                if (c == '\n') {
                        sc.line++;
                        sc.pos++;
                        command_start = true;
                        continue;
                }
                if (c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
                        sc.pos++;
                        command_start = true;
                        continue;
                }
                if (c == '<' || c == '>') {
                        sc.pos++;
                        continue;
                }
                if (c == '#') { /* a word that starts with # is a comment, anywhere */
                        while (sc.pos < sc.len && sc.s[sc.pos] != '\n')
                                sc.pos++;
                        continue;
                }
                if (c == '\\' && sc.pos + 1 < sc.len && sc.s[sc.pos + 1] == '\n') {
                        sc.pos += 2;
                        sc.line++;
                        continue;
                }
                /* A word. Is it KEY=... at the start of a command? */
                unsigned line = sc.line;
                size_t start = sc.pos;
                if (command_start && sc.len - sc.pos >= 7 &&
                    memcmp(sc.s + sc.pos, "export", 6) == 0 && is_blank(sc.s[sc.pos + 6])) {
                        sc.pos += 7;
                        continue; /* still at a command start: the assignment follows */
                }
                size_t n = 0;
                while (start + n < sc.len && is_name_char(sc.s[start + n], n == 0))
                        n++;
                bool assign = command_start && n > 0 && start + n < sc.len &&
                              (sc.s[start + n] == '=' ||
                               (sc.s[start + n] == '+' && start + n + 1 < sc.len &&
                                sc.s[start + n + 1] == '='));
                if (assign && n == klen && memcmp(sc.s + start, key, klen) == 0) {
                        if (sc.s[start + n] == '+') {
                                *reterr = xasprintf("line %u: %s is appended to with +=; edit it "
                                                    "by hand",
                                                    line, key);
                                grub_assignment_release(&found);
                                return -EINVAL;
                        }
                        sc.pos = start + n + 1;
                        size_t vstart = sc.pos;
                        _cleanup_buf_ struct buf value = BUF_INIT;
                        buf_puts(&value, "");
                        char quote;
                        bool expands;
                        int k = scan_word(&sc, &value, &quote, &expands, reterr);
                        if (k < 0) {
                                grub_assignment_release(&found);
                                return k;
                        }
                        if (have) {
                                *reterr = xasprintf("%s is set twice (lines %u and %u); keep one "
                                                    "and run again",
                                                    key, found.line, line);
                                grub_assignment_release(&found);
                                return -EEXIST;
                        }
                        if (expands) {
                                *reterr = xasprintf("line %u: the value of %s uses $ or ` "
                                                    "(a variable or a command); edit it by hand",
                                                    line, key);
                                return -EINVAL;
                        }
                        found = (struct grub_assignment){ .value_start = vstart,
                                                          .value_end = sc.pos,
                                                          .value = buf_detach(&value),
                                                          .quote = quote,
                                                          .line = line };
                        have = true;
                        /* An assignment alone leaves us at a command start (prefix assignments
                         * before a command are rare in this file). */
                        continue;
                }
                if (assign) {
                        sc.pos = start + n + (sc.s[start + n] == '+' ? 2 : 1);
                        int k = scan_word(&sc, NULL, NULL, NULL, reterr);
                        if (k < 0) {
                                grub_assignment_release(&found);
                                return k;
                        }
                        continue;
                }
                int k = scan_word(&sc, NULL, NULL, NULL, reterr);
                if (k < 0) {
                        grub_assignment_release(&found);
                        return k;
                }
                if (sc.pos == start)
                        sc.pos++; /* a lone special character */
                command_start = false;
        }
        if (!have) {
                *reterr = xasprintf("no %s= line; add %s=\"\" and run again", key, key);
                return -EBADMSG;
        }
        *ret = found;
        return 0;
}

static void quote_value(struct buf *b, const char *v, char style)
{
        if (style == '\'' && !strchr(v, '\'')) {
                buf_printf(b, "'%s'", v);
                return;
        }
        if (style == 0 && *v &&
            strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_-.,:=/+@%") == strlen(v)) {
                buf_puts(b, v);
                return;
        }
        buf_putc(b, '"');
        for (const char *p = v; *p; p++) {
                if (*p == '"' || *p == '\\' || *p == '$' || *p == '`')
                        buf_putc(b, '\\');
                buf_putc(b, *p);
        }
        buf_putc(b, '"');
}

int grub_set(const char *text, size_t len, const char *key, const char *value, char **ret,
             size_t *ret_len, char **reterr)
{
        struct grub_assignment a;
        int k = grub_find(text, len, key, &a, reterr);
        if (k < 0)
                return k;
        _cleanup_buf_ struct buf b = BUF_INIT;
        if (streq(a.value, value)) {
                buf_put(&b, text, len);
        } else {
                buf_put(&b, text, a.value_start);
                quote_value(&b, value, a.quote);
                buf_put(&b, text + a.value_end, len - a.value_end);
        }
        grub_assignment_release(&a);
        *ret_len = b.len;
        buf_puts(&b, "");
        *ret = buf_detach(&b);
        return 0;
}

/* ---------------- loader entries ---------------- */

static bool is_options_line(const char *line, size_t n, size_t *ret_value)
{
        size_t i = 0;
        while (i < n && is_blank(line[i]))
                i++;
        if (n - i < 7 || memcmp(line + i, "options", 7) != 0)
                return false;
        if (n - i > 7 && !is_blank(line[i + 7]))
                return false;
        i += 7;
        while (i < n && is_blank(line[i]))
                i++;
        *ret_value = i;
        return true;
}

char *bls_entry_edit(const char *text, char *const *add, char *const *remove)
{
        /* Every argument of every options line, to know what is there already. */
        _cleanup_free_ char *all = xstrdup("");
        size_t last = SIZE_MAX, n_lines = 0;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n"), v;
                if (is_options_line(p, n, &v)) {
                        _cleanup_free_ char *o = xstrndup(p + v, n - v);
                        char *j = xasprintf("%s %s", all, o);
                        free(all);
                        all = j;
                        last = n_lines;
                }
                n_lines++;
                p += n + (p[n] == '\n');
        }
        _cleanup_strv_free_ char **have = cmdline_split(all);
        _cleanup_strv_free_ char **missing = xcalloc(1, sizeof(char *));
        STRV_FOREACH(a, (char **) add)
                if (!strv_contains(have, *a))
                        missing = strv_push(missing, *a);

        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "");
        size_t line = 0;
        for (const char *p = text; *p; line++) {
                size_t n = strcspn(p, "\n"), v;
                bool nl = p[n] == '\n';
                if (is_options_line(p, n, &v)) {
                        _cleanup_free_ char *o = xstrndup(p + v, n - v);
                        /* Single-valued keys are replaced on whichever line has them; the rest
                         * of the additions go to the last options line. */
                        _cleanup_strv_free_ char **here = xcalloc(1, sizeof(char *));
                        STRV_FOREACH(a, missing) {
                                _cleanup_free_ char *key = arg_key(*a);
                                bool on_line = false;
                                _cleanup_strv_free_ char **args = cmdline_split(o);
                                STRV_FOREACH(x, args) {
                                        _cleanup_free_ char *k = arg_key(*x);
                                        on_line |= streq(k, key);
                                }
                                if (line == last || (key_single_valued(key) && on_line))
                                        here = strv_push(here, *a);
                        }
                        _cleanup_free_ char *e = cmdline_edit(o, here, remove);
                        buf_put(&b, p, v);
                        if (*e && !is_blank(p[v - 1])) /* a bare "options" line */
                                buf_putc(&b, ' ');
                        buf_puts(&b, e);
                } else
                        buf_put(&b, p, n);
                if (nl)
                        buf_putc(&b, '\n');
                p += n + nl;
        }
        if (last == SIZE_MAX && strv_length(missing) > 0) {
                _cleanup_free_ char *j = strv_join(missing, " ");
                if (b.len > 0 && buf_str(&b)[b.len - 1] != '\n')
                        buf_putc(&b, '\n');
                buf_printf(&b, "options %s\n", j);
        }
        return buf_detach(&b);
}

/* ---------------- kernelstub ---------------- */

/* Skips a JSON string starting at s[i] == '"'; returns the index after it, or 0 if unterminated. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
        for (i++; i < len; i++) {
                if (s[i] == '\\')
                        i++;
                else if (s[i] == '"')
                        return i + 1;
        }
        return 0;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
                i++;
        return i;
}

/* Finds "key": at depth @depth inside the object starting at @from; returns the index after ':'. */
static size_t find_member(const char *s, size_t len, size_t from, const char *key)
{
        int depth = 0;
        size_t klen = strlen(key);
        for (size_t i = from; i < len;) {
                char c = s[i];
                if (c == '"') {
                        size_t e = skip_string(s, len, i);
                        if (!e)
                                return 0;
                        if (depth == 1 && e - i - 2 == klen && memcmp(s + i + 1, key, klen) == 0) {
                                size_t j = skip_ws(s, len, e);
                                if (j < len && s[j] == ':')
                                        return j + 1;
                        }
                        i = e;
                        continue;
                }
                if (c == '{' || c == '[')
                        depth++;
                else if (c == '}' || c == ']') {
                        if (--depth <= 0)
                                return 0;
                }
                i++;
        }
        return 0;
}

static int json_unescape(const char *s, size_t n, char **ret)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "");
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if ((unsigned char) c < 0x20)
                        return -EINVAL;
                if (c != '\\') {
                        buf_putc(&b, c);
                        continue;
                }
                if (++i >= n)
                        return -EINVAL;
                switch (s[i]) {
                case '"':
                case '\\':
                case '/':
                        buf_putc(&b, s[i]);
                        break;
                case 't':
                        buf_putc(&b, '\t');
                        break;
                default:
                        return -EINVAL; /* kernel options never need more */
                }
        }
        *ret = buf_detach(&b);
        return 0;
}

int kernelstub_edit(const char *text, size_t len, char *const *add, char *const *remove, char **ret,
                    char **reterr)
{
        if (memchr(text, 0, len)) {
                *reterr = xstrdup("contains a NUL byte: not JSON");
                return -EINVAL;
        }
        size_t i = skip_ws(text, len, 0);
        if (i >= len || text[i] != '{') {
                *reterr = xstrdup("not a JSON object");
                return -EINVAL;
        }
        size_t u = find_member(text, len, i, "user");
        u = u ? skip_ws(text, len, u) : 0;
        if (!u || u >= len || text[u] != '{') {
                *reterr = xstrdup("no \"user\" object");
                return -EINVAL;
        }
        size_t k = find_member(text, len, u, "kernel_options");
        k = k ? skip_ws(text, len, k) : 0;
        if (!k || k >= len || text[k] != '[') {
                *reterr = xstrdup("no \"kernel_options\" array in \"user\"");
                return -EINVAL;
        }
        /* The array's strings. */
        _cleanup_strv_free_ char **opts = xcalloc(1, sizeof(char *));
        size_t j = skip_ws(text, len, k + 1);
        size_t first_elem = j;
        while (j < len && text[j] != ']') {
                if (text[j] != '"') {
                        *reterr = xstrdup("\"kernel_options\" holds something other than strings");
                        return -EINVAL;
                }
                size_t e = skip_string(text, len, j);
                char *v;
                if (!e || json_unescape(text + j + 1, e - j - 2, &v) < 0) {
                        *reterr = xstrdup("\"kernel_options\": a bad string");
                        return -EINVAL;
                }
                opts = strv_consume(opts, v);
                j = skip_ws(text, len, e);
                if (j < len && text[j] == ',')
                        j = skip_ws(text, len, j + 1);
                else if (j < len && text[j] != ']') {
                        *reterr = xstrdup("\"kernel_options\": expected ',' or ']'");
                        return -EINVAL;
                }
        }
        if (j >= len) {
                *reterr = xstrdup("\"kernel_options\": unterminated array");
                return -EINVAL;
        }
        size_t close = j;
        _cleanup_free_ char *joined = strv_join(opts, " ");
        _cleanup_free_ char *edited = cmdline_edit(joined, add, remove);
        if (streq(edited, joined)) {
                *ret = xstrndup(text, len);
                return 0;
        }
        _cleanup_strv_free_ char **now = cmdline_split(edited);
        /* Keep the array's layout: one element a line with the same indentation, or inline. */
        bool multiline = memchr(text + k, '\n', close - k) != NULL;
        _cleanup_free_ char *indent = NULL, *close_indent = NULL;
        if (multiline) {
                size_t ls = first_elem;
                while (ls > 0 && text[ls - 1] != '\n')
                        ls--;
                indent = xstrndup(text + ls, first_elem - ls);
                if (first_elem == close) /* an empty array spread over lines */
                        indent = (free(indent), xstrdup("    "));
                size_t cs = close;
                while (cs > 0 && text[cs - 1] != '\n')
                        cs--;
                close_indent = xstrndup(text + cs, close - cs);
        }
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_put(&b, text, k + 1);
        for (size_t x = 0; now[x]; x++) {
                if (multiline)
                        buf_printf(&b, "\n%s", indent);
                buf_put_json_string(&b, now[x]);
                if (now[x + 1])
                        buf_puts(&b, multiline ? "," : ", ");
        }
        if (multiline)
                buf_printf(&b, "\n%s", close_indent);
        buf_put(&b, text + close, len - close);
        *ret = buf_detach(&b);
        return 0;
}

/* ---------------- the plan ---------------- */

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && streq(s + n - m, suffix);
}

/* /etc/kernel/cmdline: one line, its newline kept. */
static char *cmdline_edit_line(const char *text, char *const *add, char *const *remove)
{
        size_t n = strlen(text);
        size_t body = n;
        while (body > 0 && (text[body - 1] == '\n' || text[body - 1] == '\r'))
                body--;
        _cleanup_free_ char *line = xstrndup(text, body);
        _cleanup_free_ char *e = cmdline_edit(line, add, remove);
        if (streq(e, line))
                return xstrdup(text);
        return xasprintf("%s%s", e, body < n ? text + body : "\n");
}

static int edit_file(struct change_set *cs, const struct root *r, const char *path,
                     char *(*edit)(const char *, char *const *, char *const *), char *const *add,
                     char *const *remove, char **reterr)
{
        _cleanup_free_ char *cur = NULL;
        size_t len;
        bool exists;
        int k = change_set_current(cs, r, path, &cur, &len, &exists, reterr);
        if (k < 0)
                return k;
        if (!exists) {
                *reterr = xasprintf("%s: missing", path);
                return -ENOENT;
        }
        _cleanup_free_ char *out = edit(cur, add, remove);
        return change_set_write(cs, r, path, out, strlen(out), 0644, reterr);
}

/*
 * update-grub sources /etc/default/grub, then the .cfg files of /etc/default/grub.d in order: the
 * last file that sets @key is the one that counts (Ubuntu's cloud images set it there).
 */
static int grub_file_for(struct change_set *cs, const struct root *r, const char *key, char **ret,
                         char **reterr)
{
        _cleanup_strv_free_ char **names = NULL;
        char *found = NULL;
        if (root_list_dir(r, "/etc/default/grub.d", &names) == 0)
                STRV_FOREACH(n, names) {
                        if (!has_suffix(*n, ".cfg"))
                                continue;
                        _cleanup_free_ char *path = xasprintf("/etc/default/grub.d/%s", *n);
                        _cleanup_free_ char *text = NULL, *err = NULL;
                        size_t len;
                        bool exists;
                        int k = change_set_current(cs, r, path, &text, &len, &exists, reterr);
                        if (k < 0) {
                                free(found);
                                return k;
                        }
                        struct grub_assignment a;
                        k = grub_find(text, len, key, &a, &err);
                        if (k == -EBADMSG)
                                continue;
                        if (k < 0) {
                                *reterr = xasprintf("%s: %s", path, err);
                                free(found);
                                return k;
                        }
                        grub_assignment_release(&a);
                        free(found);
                        found = TAKE_PTR(path);
                }
        *ret = found ? found : xstrdup("/etc/default/grub");
        return 0;
}

static int edit_grub_var(struct change_set *cs, const struct root *r, const char *key,
                         char *const *add, char *const *remove, char **reterr)
{
        _cleanup_free_ char *path = NULL;
        int k = grub_file_for(cs, r, key, &path, reterr);
        if (k < 0)
                return k;
        _cleanup_free_ char *cur = NULL, *err = NULL, *out = NULL;
        size_t len, out_len;
        bool exists;
        k = change_set_current(cs, r, path, &cur, &len, &exists, reterr);
        if (k < 0)
                return k;
        if (!exists) {
                *reterr = xasprintf("%s: missing", path);
                return -ENOENT;
        }
        struct grub_assignment a;
        k = grub_find(cur, len, key, &a, &err);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, err);
                return k;
        }
        _cleanup_free_ char *edited = cmdline_edit(a.value, add, remove);
        grub_assignment_release(&a);
        k = grub_set(cur, len, key, edited, &out, &out_len, &err);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, err);
                return k;
        }
        return change_set_write(cs, r, path, out, out_len, 0644, reterr);
}

static int edit_entries(struct change_set *cs, const struct root *r, const char *dir,
                        const char *prefix, char *const *add, char *const *remove, size_t *ret_n,
                        char **reterr)
{
        _cleanup_strv_free_ char **names = NULL;
        *ret_n = 0;
        if (root_list_dir(r, dir, &names) < 0)
                return 0;
        STRV_FOREACH(n, names) {
                if (!has_suffix(*n, ".conf") ||
                    (prefix && strncmp(*n, prefix, strlen(prefix)) != 0))
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                _cleanup_free_ char *cur = NULL;
                size_t len;
                bool exists;
                int k = change_set_current(cs, r, path, &cur, &len, &exists, reterr);
                if (k < 0)
                        return k;
                if (strstr(cur, "$kernelopts")) {
                        *reterr = xasprintf("%s: the options come from $kernelopts in grubenv; "
                                            "run grubby --update-kernel=ALL instead",
                                            path);
                        return -EOPNOTSUPP;
                }
                k = edit_file(cs, r, path, bls_entry_edit, add, remove, reterr);
                if (k < 0)
                        return k;
                (*ret_n)++;
        }
        return 0;
}

/* The ESP's loader directory that the evidence names: "/boot/efi/loader/loader.conf" ->
 * /boot/efi/loader. */
static char *loader_dir(const char *evidence)
{
        const char *e = evidence ? strstr(evidence, "/loader/loader.conf") : NULL;
        if (!e)
                return xstrdup("/boot/loader");
        return xasprintf("%.*s/loader", (int) (e - evidence), evidence);
}

static void regen_grub(struct change_set *cs, const struct root *r)
{
        if (root_exists(r, "/usr/sbin/update-grub") || root_exists(r, "/sbin/update-grub")) {
                char *argv[] = { (char *) "update-grub", NULL };
                change_set_command(cs, COMMAND_REGEN, argv);
        } else if (root_is_dir(r, "/boot/grub2")) {
                char *argv[] = { (char *) "grub2-mkconfig", (char *) "-o",
                                 (char *) "/boot/grub2/grub.cfg", NULL };
                change_set_command(cs, COMMAND_REGEN, argv);
        } else {
                char *argv[] = { (char *) "grub-mkconfig", (char *) "-o",
                                 (char *) "/boot/grub/grub.cfg", NULL };
                change_set_command(cs, COMMAND_REGEN, argv);
        }
}

int bootloader_plan(const struct host *h, const struct root *r, struct change_set *cs,
                    char *const *add, char *const *remove, char **reterr)
{
        int k;
        size_t n;
        switch (h->system.bootloader) {
        case BOOTLOADER_GRUB:
                k = edit_grub_var(cs, r, "GRUB_CMDLINE_LINUX_DEFAULT", add, remove, reterr);
                if (k < 0)
                        return k;
                if (change_set_changes(cs))
                        regen_grub(cs, r);
                return 0;
        case BOOTLOADER_GRUBBY:
                /* Fedora: GRUB_CMDLINE_LINUX for kernels installed later, the BLS entries
                 * (what grubby --update-kernel=ALL edits) for the installed ones. */
                if (root_exists(r, "/etc/default/grub")) {
                        k = edit_grub_var(cs, r, "GRUB_CMDLINE_LINUX", add, remove, reterr);
                        if (k < 0)
                                return k;
                }
                return edit_entries(cs, r, "/boot/loader/entries", NULL, add, remove, &n, reterr);
        case BOOTLOADER_SYSTEMD_BOOT: {
                bool any = false;
                if (root_exists(r, "/etc/kernel/cmdline")) {
                        k = edit_file(cs, r, "/etc/kernel/cmdline", cmdline_edit_line, add, remove,
                                      reterr);
                        if (k < 0)
                                return k;
                        any = true;
                        /* Unified kernel images carry the command line inside: mkinitcpio
                         * builds them from this file. */
                        if (change_set_changes(cs) && root_exists(r, "/etc/mkinitcpio.conf")) {
                                char *argv[] = { (char *) "mkinitcpio", (char *) "-P", NULL };
                                change_set_command(cs, COMMAND_REGEN, argv);
                        }
                }
                _cleanup_free_ char *ld = loader_dir(h->system.bootloader_evidence);
                _cleanup_free_ char *entries = xasprintf("%s/entries", ld);
                k = edit_entries(cs, r, entries, NULL, add, remove, &n, reterr);
                if (k < 0)
                        return k;
                if (!any && n == 0) {
                        *reterr = xasprintf("systemd-boot: no /etc/kernel/cmdline and no entries "
                                            "in %s",
                                            entries);
                        return -ENOENT;
                }
                return 0;
        }
        case BOOTLOADER_KERNELSTUB: {
                const char *path = "/etc/kernelstub/configuration";
                _cleanup_free_ char *cur = NULL, *out = NULL, *err = NULL;
                size_t len;
                bool exists;
                k = change_set_current(cs, r, path, &cur, &len, &exists, reterr);
                if (k < 0)
                        return k;
                k = kernelstub_edit(cur, len, add, remove, &out, &err);
                if (k < 0) {
                        *reterr = xasprintf("%s: %s", path, err);
                        return k;
                }
                k = change_set_write(cs, r, path, out, strlen(out), 0644, reterr);
                if (k < 0)
                        return k;
                /* What kernelstub itself writes from the configuration: Pop!_OS's entries. */
                const char *esps[] = { "/boot/efi/loader/entries", "/efi/loader/entries",
                                       "/boot/loader/entries" };
                for (size_t i = 0; i < ELEMENTSOF(esps); i++)
                        if (root_is_dir(r, esps[i]))
                                return edit_entries(cs, r, esps[i], "Pop_OS-", add, remove, &n,
                                                    reterr);
                return 0;
        }
        default: {
                _cleanup_free_ char *a = strv_join((char **) add, " ");
                _cleanup_free_ char *rm = strv_join((char **) remove, " ");
                _cleanup_free_ char *what = *a && *rm ? xasprintf("add '%s' and remove '%s'", a, rm)
                                            : *a      ? xasprintf("add '%s'", a)
                                                      : xasprintf("remove '%s'", rm);
                *reterr = xasprintf(
                        "no GRUB, systemd-boot, kernelstub or grubby configuration found; do it "
                        "by hand: in your bootloader's kernel command line (the 'append' line "
                        "of syslinux.cfg, the options in rEFInd's refind_linux.conf, or the "
                        "firmware's boot entry) %s, reboot, and check /proc/cmdline",
                        what);
                return -EOPNOTSUPP;
        }
        }
}
