/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The libvirt domain XML of a VM plan, written with libxml2 (the only user of
 * libxml2 in darwinkvm). The domain carries our mark in <metadata> so that
 * `vm define` can tell a domain it made from one a user made by hand.
 */

#include "vm-plan.h"

/* The namespace of our <metadata> element, <darwinkvm:vm>. */
#define DOMAIN_XML_NS        "urn:darwinkvm:vm:1"
#define DOMAIN_XML_NS_PREFIX "darwinkvm"

/* The whole <domain> document (newly allocated, UTF-8, indented). */
int domain_xml_build(const struct vm_plan *p, char **ret_xml, char **reterr);

/* The vm.conf path recorded in our <metadata> element @xml (as libvirt returns it), or NULL. */
char *domain_xml_metadata_spec(const char *xml);

struct ppc_guest;

/*
 * The libvirt domain of a PowerPC guest (type qemu, mac99, qemu-system-ppc):
 * the launcher's devices as QEMU arguments, since libvirt has no model of the
 * mac99 IDE buses, OpenBIOS prom-env or sungem.
 */
int domain_xml_build_ppc(const struct ppc_guest *g, char **ret_xml, char **reterr);
