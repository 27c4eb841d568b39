/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for host preparation's parsers of files it then rewrites:
 * GRUB defaults (find and set), kernel command lines, loader entries,
 * kernelstub configuration, journal entries (parse, format, parse again must
 * agree), hooks.conf, and the unified diff. The first byte picks the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "bootloader.h"
#include "diff.h"
#include "hooks.h"
#include "journal.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t which = data[0] % 6;
        const char *text = (const char *) data + 1;
        size_t n = size - 1;
        char *s = xmalloc(n + 1);
        memcpy(s, text, n);
        s[n] = 0;
        char *add[] = { (char *) "iommu=pt", (char *) "video=efifb:off", NULL };
        char *rm[] = { (char *) "quiet", NULL };
        char *err = NULL;
        switch (which) {
        case 0: {
                struct grub_assignment a;
                if (grub_find(text, n, "GRUB_CMDLINE_LINUX_DEFAULT", &a, &err) == 0) {
                        char *edited = cmdline_edit(a.value, add, rm), *out = NULL;
                        size_t len;
                        /* What was set reads back as the value. */
                        if (grub_set(text, n, "GRUB_CMDLINE_LINUX_DEFAULT", edited, &out, &len,
                                     &err) == 0) {
                                struct grub_assignment b;
                                char *err2 = NULL;
                                if (grub_find(out, len, "GRUB_CMDLINE_LINUX_DEFAULT", &b, &err2) !=
                                            0 ||
                                    strcmp(b.value, edited) != 0)
                                        __builtin_trap();
                                grub_assignment_release(&b);
                                free(err2);
                        }
                        free(out);
                        free(edited);
                        grub_assignment_release(&a);
                }
                break;
        }
        case 1: {
                char *e = cmdline_edit(s, add, rm);
                char *again = cmdline_edit(e, add, rm);
                if (strcmp(e, again) != 0) /* idempotent */
                        __builtin_trap();
                free(again);
                free(e);
                break;
        }
        case 2: {
                char *e = bls_entry_edit(s, add, rm);
                char *again = bls_entry_edit(e, add, rm);
                if (strcmp(e, again) != 0)
                        __builtin_trap();
                free(again);
                free(e);
                char *out = NULL;
                if (kernelstub_edit(text, n, add, rm, &out, &err) == 0)
                        free(out);
                break;
        }
        case 3: {
                struct journal_entry e;
                if (journal_entry_parse(text, n, &e, &err) == 0) {
                        char *f = journal_entry_format(&e);
                        struct journal_entry e2;
                        char *err2 = NULL;
                        if (journal_entry_parse(f, strlen(f), &e2, &err2) != 0)
                                __builtin_trap();
                        char *f2 = journal_entry_format(&e2);
                        if (strcmp(f, f2) != 0)
                                __builtin_trap();
                        free(f2);
                        free(f);
                        free(err2);
                        journal_entry_release(&e2);
                        journal_entry_release(&e);
                }
                break;
        }
        case 4: {
                struct hooks_config c;
                if (hooks_config_parse(text, n, &c, &err) == 0)
                        hooks_config_release(&c);
                break;
        }
        case 5: {
                /* Diff the two halves. */
                size_t half = n / 2;
                free(diff_unified(text, half, text + half, n - half, "a", "b", 3));
                break;
        }
        }
        free(err);
        free(s);
        return 0;
}
