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
