/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * PowerPC guests (the guide's DarwinPPC): Mac OS X 10.0 to 10.6 DP1 on QEMU's
 * mac99 machine (PowerMac3,1) with OpenBIOS, always under TCG on x86 hosts.
 * The per-release facts (machine options, input devices, install media) come
 * from data/ppc-releases.tsv.
 */

#include <stdbool.h>

#include "macro.h"
#include "tsv.h"

struct ppc_release {
        const char *version; /* "10.4" */
        const char *name;    /* "Tiger" */
        const char *build;   /* "8L127", or "-" */
        const char *machine; /* "mac99,usb=off" */
        bool usb_input;      /* usb-tablet + usb-kbd */
        bool pci_testdev;
        char **media_urls; /* owned strv; empty when no source is known */
};

struct ppc_table {
        struct tsv *tsv;
        struct ppc_release *releases;
        size_t n;
};

int ppc_table_load(const char *data_dir, struct ppc_table **ret, char **reterr);
struct ppc_table *ppc_table_free(struct ppc_table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ppc_table *, ppc_table_free)

/* By version ("10.4", "10.4.8") or name ("tiger", "Snow Leopard"); NULL when unknown. */
const struct ppc_release *ppc_find(const struct ppc_table *t, const char *query);

struct ppc_guest {
        const char *name;
        const struct ppc_release *release;
        const char *disk;        /* raw or qcow2 system disk */
        const char *disk_format; /* "raw", "qcow2" */
        char *const *media;      /* install discs (ISO/toast), first on ide.0, others on ide.1 */
        const char *uuid;        /* 8-4-4-4-12 */
        const char *mac;         /* "52:54:00:xx:xx:xx" */
        unsigned memory_mib;     /* 2048 in the guide */
        unsigned width, height;  /* -g WxHx32 */
        const char *serial_log;  /* NULL: no serial file */
        bool headless;           /* -display none */
};

/* The qemu-system-ppc argument vector (argv[0] = "qemu-system-ppc"). Newly allocated strv. */
char **ppc_qemu_argv(const struct ppc_guest *g);
