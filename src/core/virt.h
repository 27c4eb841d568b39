/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * libvirt through its C API (the only user of libvirt in darwinkvm): a
 * connection to any URI (qemu:///system, qemu:///session, qemu+ssh://,
 * qemu+tcp://, test:///default) and the domain operations `vm` needs. A domain
 * carries our mark (domain-xml.h); one without it is never redefined,
 * undefined or stopped by us.
 */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

struct virt_conn;

/* qemu:///system for root, qemu:///session otherwise ($LIBVIRT_DEFAULT_URI first). */
const char *virt_default_uri(void);
int virt_open(const char *uri, struct virt_conn **ret, char **reterr);
struct virt_conn *virt_close(struct virt_conn *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct virt_conn *, virt_close)
/* The URI actually connected to. */
const char *virt_uri(const struct virt_conn *c);

enum virt_owner {
        VIRT_ABSENT,  /* no domain of that name */
        VIRT_OURS,    /* made by darwinkvm */
        VIRT_FOREIGN, /* made by someone else: hands off */
};

/* Looks up @name: who made it, and its UUID (when it exists). */
int virt_lookup(struct virt_conn *c, const char *name, enum virt_owner *ret_owner, char **ret_uuid,
                char **reterr);
/* Defines (or redefines) the domain @xml describes, named @name; a foreign domain of that name is
 * refused (-EEXIST). *ret_created: it did not exist before. */
int virt_define(struct virt_conn *c, const char *name, const char *xml, bool *ret_created,
                char **reterr);
/* Undefines @name, keeping its NVRAM unless @remove_nvram. */
int virt_undefine(struct virt_conn *c, const char *name, bool remove_nvram, char **reterr);
/* Starts @name; -EALREADY when it runs. */
int virt_start(struct virt_conn *c, const char *name, char **reterr);
/* ACPI shutdown, waiting up to @timeout_s for it; @force: power off at once. -EALREADY when it was
 * not running; -ETIMEDOUT when it still runs after the wait. */
int virt_stop(struct virt_conn *c, const char *name, bool force, unsigned timeout_s, char **reterr);

struct virt_status {
        char *state;  /* "running", "shut off", "paused", ... */
        char *reason; /* "booted", "shutdown", "unknown", ... */
        char *uuid;
        enum virt_owner owner;
        char *spec; /* the vm.conf it was made from, when ours */
        bool persistent, autostart;
        unsigned vcpus;
        uint64_t memory_kib;
};

int virt_status(struct virt_conn *c, const char *name, struct virt_status *ret, char **reterr);
void virt_status_release(struct virt_status *s);
