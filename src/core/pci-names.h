/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Device, vendor and class names from pci.ids, through libpci (the only module
 * that touches libpci). The ID file is looked up inside the root first
 * (fixtures carry their own), then on the running system. Names are loaded
 * lazily, on the first lookup.
 */

#include <stddef.h>
#include <stdint.h>

#include "root.h"

struct pci_names;

/*
 * @ids (NULL: all) are the devices, vendor << 16 | device, whose names will be
 * asked for (their vendors' names too): only those lines of pci.ids are handed
 * to libpci, which then loads in a fraction of the time. Class names are
 * always there.
 */
struct pci_names *pci_names_new(const struct root *root, const uint32_t *ids, size_t n_ids);
struct host_pci;
/* Names for @pci's devices (see pci_names_new()). */
struct pci_names *pci_names_for_host(const struct root *root, const struct host_pci *pci);
struct pci_names *pci_names_free(struct pci_names *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pci_names *, pci_names_free)

/* Each returns a borrowed string valid until the next call, or NULL when unknown. */
const char *pci_names_vendor(struct pci_names *n, uint32_t vendor);
const char *pci_names_device(struct pci_names *n, uint32_t vendor, uint32_t device);
/* The subclass name ("VGA compatible controller"), else the class name. */
const char *pci_names_class(struct pci_names *n, uint32_t class_code);
/* The ID file in use (host path), or NULL when none was found. */
const char *pci_names_source(const struct pci_names *n);
