/* SPDX-License-Identifier: MIT */
#include "pci-names.h"

#include <ctype.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "alloc.h"
#include "buf.h"
#include "host.h"

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

/* The 4-digit hexadecimal number at the start of @p, or -1. */
static long hex4(const char *p)
{
        long v = 0;
        for (int i = 0; i < 4; i++) {
                int c = tolower((unsigned char) p[i]);
                if (!isxdigit(c))
                        return -1;
                v = v * 16 + (isdigit(c) ? c - '0' : c - 'a' + 10);
        }
        return v;
}

static bool wanted(uint32_t key, const uint32_t *ids, size_t n, bool vendor_only)
{
        for (size_t i = 0; i < n; i++)
                if (vendor_only ? ids[i] >> 16 == key >> 16 : ids[i] == key)
                        return true;
        return false;
}

/*
 * libpci parses the whole ID file (1.3 MB, some 10 ms) on the first look-up,
 * whatever is asked. A host has a few dozen distinct devices: hand libpci a
 * copy with just their vendor and device lines and the class list (a memfd),
 * which gives the same names for a fraction of the time. Returns the new fd,
 * or -1 to keep the whole file (a compressed file, a read error).
 */
static int filtered_copy(int fd, const uint32_t *ids, size_t n_ids)
{
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
            st.st_size > (64 << 20))
                return -1;
        size_t size = (size_t) st.st_size;
        _cleanup_free_ char *text = xmalloc(size + 1);
        size_t len = 0;
        while (len < size) {
                ssize_t k = pread(fd, text + len, size - len, (off_t) len);
                if (k <= 0)
                        return -1;
                len += (size_t) k;
        }
        text[len] = 0;
        if (len >= 2 && (unsigned char) text[0] == 0x1f && (unsigned char) text[1] == 0x8b)
                return -1;
        _cleanup_buf_ struct buf out = BUF_INIT;
        bool classes = false, vendor_kept = false;
        long vendor = -1;
        for (char *line = text; line < text + len;) {
                char *nl = memchr(line, '\n', (size_t) (text + len - line));
                size_t l = nl ? (size_t) (nl - line) + 1 : (size_t) (text + len - line);
                bool keep = false;
                if (line[0] == 'C' && line[1] == ' ')
                        classes = keep = true; /* the class list, at the end */
                else if (classes)
                        keep = line[0] == '\t';
                else if (line[0] != '\t' && line[0] != '#' && line[0] != '\n') {
                        vendor = hex4(line);
                        vendor_kept = keep =
                                vendor >= 0 && wanted((uint32_t) vendor << 16, ids, n_ids, true);
                } else if (vendor_kept && line[0] == '\t' && line[1] != '\t') {
                        long device = hex4(line + 1);
                        keep = device >= 0 && wanted((uint32_t) vendor << 16 | (uint32_t) device,
                                                     ids, n_ids, false);
                }
                if (keep)
                        buf_put(&out, line, l);
                line += l;
        }
        int mfd = memfd_create("pci.ids", MFD_CLOEXEC);
        if (mfd < 0)
                return -1;
        if (write(mfd, buf_str(&out), out.len) != (ssize_t) out.len) {
                close(mfd);
                return -1;
        }
        return mfd;
}

struct pci_names *pci_names_new(const struct root *root, const uint32_t *ids, size_t n_ids)
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
        if (n->fd >= 0 && ids) {
                int mfd = filtered_copy(n->fd, ids, n_ids);
                if (mfd >= 0) {
                        close(n->fd);
                        n->fd = mfd;
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

struct pci_names *pci_names_for_host(const struct root *root, const struct host_pci *pci)
{
        _cleanup_free_ uint32_t *ids = NULL;
        size_t n = host_pci_ids(pci, &ids);
        return pci_names_new(root, ids, n);
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
