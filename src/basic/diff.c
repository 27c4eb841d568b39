/* SPDX-License-Identifier: MIT */
#include "diff.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "macro.h"

struct line {
        const char *s;
        size_t len; /* without the newline */
        bool newline;
};

static size_t split_lines(const char *s, size_t n, struct line **ret)
{
        struct line *l = NULL;
        size_t cap = 0, count = 0;
        for (size_t i = 0; i < n;) {
                const char *nl = memchr(s + i, '\n', n - i);
                size_t len = nl ? (size_t) (nl - (s + i)) : n - i;
                GROW(l, cap, count + 1);
                l[count++] = (struct line){ .s = s + i, .len = len, .newline = nl != NULL };
                i += len + (nl ? 1 : 0);
        }
        *ret = l;
        return count;
}

static bool line_eq(const struct line *a, const struct line *b)
{
        return a->len == b->len && a->newline == b->newline && memcmp(a->s, b->s, a->len) == 0;
}

enum op_kind {
        OP_SAME,
        OP_DEL,
        OP_ADD
};

struct op {
        enum op_kind kind;
        size_t a, b; /* line indexes (the one that applies) */
};

/* Beyond this many cells the middle is shown as one replaced block. */
#define LCS_MAX_CELLS (16u * 1024 * 1024)

static void edit_script(const struct line *a, size_t na, const struct line *b, size_t nb,
                        struct op **ret, size_t *ret_n)
{
        size_t head = 0;
        while (head < na && head < nb && line_eq(&a[head], &b[head]))
                head++;
        size_t tail = 0;
        while (tail < na - head && tail < nb - head &&
               line_eq(&a[na - 1 - tail], &b[nb - 1 - tail]))
                tail++;
        size_t ma = na - head - tail, mb = nb - head - tail;

        struct op *ops = xmalloc((na + nb + 1) * sizeof(*ops));
        size_t n = 0;
        for (size_t i = 0; i < head; i++)
                ops[n++] = (struct op){ OP_SAME, i, i };

        if (ma > 0 && mb > 0 && (uint64_t) (ma + 1) * (mb + 1) <= LCS_MAX_CELLS) {
                /* lcs[i][j]: LCS length of a[head+i..] and b[head+j..] */
                size_t w = mb + 1;
                uint32_t *lcs = xcalloc((ma + 1) * w, sizeof(uint32_t));
                for (size_t i = ma; i-- > 0;)
                        for (size_t j = mb; j-- > 0;)
                                lcs[i * w + j] =
                                        line_eq(&a[head + i], &b[head + j])
                                                ? lcs[(i + 1) * w + j + 1] + 1
                                                : MAX(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
                size_t i = 0, j = 0;
                while (i < ma || j < mb) {
                        if (i < ma && j < mb && line_eq(&a[head + i], &b[head + j])) {
                                ops[n++] = (struct op){ OP_SAME, head + i, head + j };
                                i++, j++;
                        } else if (i < ma &&
                                   (j == mb || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
                                ops[n++] = (struct op){ OP_DEL, head + i, head + j };
                                i++;
                        } else {
                                ops[n++] = (struct op){ OP_ADD, head + i, head + j };
                                j++;
                        }
                }
                free(lcs);
        } else {
                for (size_t i = 0; i < ma; i++)
                        ops[n++] = (struct op){ OP_DEL, head + i, head };
                for (size_t j = 0; j < mb; j++)
                        ops[n++] = (struct op){ OP_ADD, head + ma, head + j };
        }
        for (size_t i = 0; i < tail; i++)
                ops[n++] = (struct op){ OP_SAME, na - tail + i, nb - tail + i };
        *ret = ops;
        *ret_n = n;
}

static void put_line(struct buf *out, char mark, const struct line *l)
{
        buf_putc(out, mark);
        buf_put(out, l->s, l->len);
        buf_putc(out, '\n');
        if (!l->newline)
                buf_puts(out, "\\ No newline at end of file\n");
}

/* "start,count" as diff -u writes it: an empty range names the line before it. */
static void put_range(struct buf *out, size_t start, size_t count)
{
        if (count == 1)
                buf_printf(out, "%zu", start + 1);
        else
                buf_printf(out, "%zu,%zu", count == 0 ? start : start + 1, count);
}

char *diff_unified(const char *a, size_t a_len, const char *b, size_t b_len, const char *label_a,
                   const char *label_b, unsigned context)
{
        if (a_len == b_len && memcmp(a, b, a_len) == 0)
                return xstrdup("");
        _cleanup_free_ struct line *la = NULL, *lb = NULL;
        size_t na = split_lines(a, a_len, &la), nb = split_lines(b, b_len, &lb);
        _cleanup_free_ struct op *ops = NULL;
        size_t n_ops;
        edit_script(la, na, lb, nb, &ops, &n_ops);

        _cleanup_buf_ struct buf out = BUF_INIT;
        buf_printf(&out, "--- %s\n+++ %s\n", label_a, label_b);
        size_t i = 0;
        while (i < n_ops) {
                /* Find the next change. */
                while (i < n_ops && ops[i].kind == OP_SAME)
                        i++;
                if (i == n_ops)
                        break;
                size_t start = i >= context ? i - context : 0;
                /* Extend the hunk while the gap to the next change is at most 2 * context. */
                size_t end = i;
                for (;;) {
                        while (end < n_ops && ops[end].kind != OP_SAME)
                                end++;
                        size_t same = end;
                        while (same < n_ops && ops[same].kind == OP_SAME)
                                same++;
                        if (same < n_ops && same - end <= 2 * (size_t) context) {
                                end = same;
                                continue;
                        }
                        end = MIN(n_ops, end + context);
                        break;
                }
                size_t a0 = ops[start].a, b0 = ops[start].b, ca = 0, cb = 0;
                for (size_t k = start; k < end; k++) {
                        ca += ops[k].kind != OP_ADD;
                        cb += ops[k].kind != OP_DEL;
                }
                buf_puts(&out, "@@ -");
                put_range(&out, a0, ca);
                buf_puts(&out, " +");
                put_range(&out, b0, cb);
                buf_puts(&out, " @@\n");
                for (size_t k = start; k < end; k++) {
                        if (ops[k].kind == OP_SAME)
                                put_line(&out, ' ', &la[ops[k].a]);
                        else if (ops[k].kind == OP_DEL)
                                put_line(&out, '-', &la[ops[k].a]);
                        else
                                put_line(&out, '+', &lb[ops[k].b]);
                }
                i = end;
        }
        return buf_detach(&out);
}
