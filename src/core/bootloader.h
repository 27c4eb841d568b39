/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Kernel command-line editing in each bootloader's own configuration: GRUB's
 * /etc/default/grub (a shell fragment: any quoting, continuation lines),
 * systemd-boot (/etc/kernel/cmdline and the options lines of the loader
 * entries), kernelstub (/etc/kernelstub/configuration and Pop!_OS's entries),
 * grubby (Fedora: GRUB_CMDLINE_LINUX and the BLS entries). The edits go into
 * a change set; the journal shows and applies them.
 */

#include <stdbool.h>
#include <stddef.h>

#include "host.h"
#include "journal.h"

/*
 * @cmdline with @remove taken out (a bare key removes every KEY and KEY=...,
 * KEY=VALUE only that one) and @add put in: present already, nothing; a
 * single-valued key (intel_iommu, iommu, vfio-pci.ids...) with another value is
 * replaced in place; else appended. Unchanged input comes back byte for byte.
 * Newly allocated.
 */
char *cmdline_edit(const char *cmdline, char *const *add, char *const *remove);
/* Splits a kernel command line into arguments (double quotes kept, as the kernel does). */
char **cmdline_split(const char *cmdline);

/* A shell assignment found in a GRUB defaults file. */
struct grub_assignment {
        size_t value_start, value_end; /* the value word's bytes in the text */
        char *value;                   /* unquoted */
        char quote;                    /* the word's quoting: '"', '\'' or 0 */
        unsigned line;                 /* 1-based, of the assignment */
};

/*
 * Finds the one assignment of @key in @text (a /etc/default/grub). Errors
 * (with *reterr): -EBADMSG when missing, -EEXIST when set twice, -EINVAL for an
 * unterminated quote, a value built from variables or command substitution.
 */
int grub_find(const char *text, size_t len, const char *key, struct grub_assignment *ret,
              char **reterr);
void grub_assignment_release(struct grub_assignment *a);
/* @text with @key's value replaced by @value, quoted the way the file quoted it. */
int grub_set(const char *text, size_t len, const char *key, const char *value, char **ret,
             size_t *ret_len, char **reterr);

/* A loader entry (systemd-boot, BLS) with its options lines edited. Newly allocated. */
char *bls_entry_edit(const char *text, char *const *add, char *const *remove);

/* The kernel_options of the "user" object of a kernelstub configuration, edited. */
int kernelstub_edit(const char *text, size_t len, char *const *add, char *const *remove, char **ret,
                    char **reterr);

/*
 * Adds the edits for @h's bootloader to @cs, and the command that regenerates
 * the boot configuration. An unknown bootloader gives -EOPNOTSUPP with the exact
 * manual steps in *reterr.
 */
int bootloader_plan(const struct host *h, const struct root *r, struct change_set *cs,
                    char *const *add, char *const *remove, char **reterr);
