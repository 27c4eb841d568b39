/* SPDX-License-Identifier: MIT */
#include "pci-names.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>

#include <pci/pci.h>

#include "alloc.h"

struct pci_names {
        struct pci_access *pacc;
        int fd; /* the ID file, opened through the root */
        bool ready;
        char *source;
        char buf[256];
};

static const char *const id_files[] = {
        "/usr/share/misc/pci.ids",
        "/usr/share/hwdata/pci.ids",
        "/usr/share/pci.ids",
};

/*
 * libpci's error handler must not return, and its default one exits the
 * process, which a library must not do: a broken pci.ids (libpci calls the
 * handler on a parse error) jumps back to the lookup, which then gives up on
 * names for good. Lookups happen on one thread only.
 */
static jmp_buf lookup_jmp;

_noreturn_ static void quiet_error(char *msg, ...)
{
        (void) msg;
        longjmp(lookup_jmp, 1);
}

static void quiet_warning(char *msg, ...)
{
        (void) msg;
}

struct pci_names *pci_names_new(const struct root *root)
{
        struct pci_names *n = xcalloc(1, sizeof(*n));
        n->fd = -1;
        for (size_t i = 0; i < ELEMENTSOF(id_files) && n->fd < 0; i++) {
                int fd = root_openat(root, id_files[i], O_RDONLY, 0);
                if (fd >= 0) {
                        n->fd = fd;
                        n->source = xstrdup(id_files[i]);
                }
        }
        /* A fixture without its own pci.ids falls back to the system's. */
        if (n->fd < 0 && !root->is_host)
                for (size_t i = 0; i < ELEMENTSOF(id_files) && n->fd < 0; i++) {
                        int fd = open(id_files[i], O_RDONLY | O_CLOEXEC);
                        if (fd >= 0) {
                                n->fd = fd;
                                n->source = xasprintf("%s (system)", id_files[i]);
                        }
                }
        n->pacc = pci_alloc();
        n->pacc->error = quiet_error;
        n->pacc->warning = quiet_warning;
        /* Without pci_init() the debug hook is unset, and libpci calls it on a missing name. */
        n->pacc->debug = quiet_warning;
        /* No ~/.pciids-cache (a hidden input) and no DNS look-ups: pci.ids only. */
        n->pacc->id_lookup_mode = 0;
        /* The path goes through /proc/self/fd so that libpci reads the file we opened inside the
         * root. */
        char *path = n->fd >= 0 ? xasprintf("/proc/self/fd/%d", n->fd) : xstrdup("/nonexistent");
        pci_set_name_list_path(n->pacc, path, /* to_be_freed= */ 1);
        return n;
}

struct pci_names *pci_names_free(struct pci_names *n)
{
        if (!n)
                return NULL;
        if (n->pacc)
                pci_cleanup(n->pacc);
        if (n->fd >= 0)
                close(n->fd);
        free(n->source);
        free(n);
        return NULL;
}

static const int flags = PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;

/* Loads the list once; false when there is none or it is broken. */
static bool loaded(struct pci_names *n)
{
        if (n->fd < 0)
                return false;
        if (n->ready)
                return true;
        if (setjmp(lookup_jmp) != 0 || !pci_load_name_list(n->pacc)) {
                close(n->fd);
                n->fd = -1;
                return false;
        }
        n->ready = true;
        return true;
}

const char *pci_names_vendor(struct pci_names *n, uint32_t vendor)
{
        if (!loaded(n))
                return NULL;
        return pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_VENDOR | flags,
                               (int) vendor);
}

const char *pci_names_device(struct pci_names *n, uint32_t vendor, uint32_t device)
{
        if (!loaded(n))
                return NULL;
        return pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_DEVICE | flags,
                               (int) vendor, (int) device);
}

const char *pci_names_class(struct pci_names *n, uint32_t class_code)
{
        if (!loaded(n))
                return NULL;
        const char *s = pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_CLASS | flags,
                                        (int) (class_code >> 8));
        if (!s)
                s = pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_CLASS | flags,
                                    (int) (class_code >> 16) << 8);
        return s;
}

const char *pci_names_source(const struct pci_names *n)
{
        return n->source;
}
