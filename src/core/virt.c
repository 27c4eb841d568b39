/* SPDX-License-Identifier: MIT */
#include "virt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "alloc.h"
#include "domain-xml.h"
#include "strutil.h"

struct virt_conn {
        virConnectPtr conn;
        char *uri;
};

/* The core never prints: libvirt's default handler writes every error to stderr. */
static void quiet_errors(void *data, virErrorPtr err)
{
        (void) data;
        (void) err;
}

static char *last_error(const char *what)
{
        const char *msg = virGetLastErrorMessage();
        return xasprintf("%s: %s", what, msg ? msg : "unknown libvirt error");
}

const char *virt_default_uri(void)
{
        const char *env = getenv("LIBVIRT_DEFAULT_URI");
        if (env && *env)
                return env;
        return geteuid() == 0 ? "qemu:///system" : "qemu:///session";
}

int virt_open(const char *uri, struct virt_conn **ret, char **reterr)
{
        virSetErrorFunc(NULL, quiet_errors);
        if (virInitialize() < 0) {
                *reterr = last_error("libvirt");
                return -EIO;
        }
        const char *u = uri ? uri : virt_default_uri();
        virConnectPtr conn = virConnectOpenAuth(u, virConnectAuthPtrDefault, 0);
        if (!conn) {
                *reterr = last_error(u);
                return -ECONNREFUSED;
        }
        struct virt_conn *c = xcalloc(1, sizeof(*c));
        c->conn = conn;
        char *actual = virConnectGetURI(conn);
        c->uri = xstrdup(actual ? actual : u);
        free(actual);
        *ret = c;
        return 0;
}

struct virt_conn *virt_close(struct virt_conn *c)
{
        if (!c)
                return NULL;
        virConnectClose(c->conn);
        free(c->uri);
        free(c);
        return NULL;
}

const char *virt_uri(const struct virt_conn *c)
{
        return c->uri;
}

static virDomainPtr lookup(struct virt_conn *c, const char *name)
{
        return virDomainLookupByName(c->conn, name);
}

static bool not_found(void)
{
        virErrorPtr e = virGetLastError();
        return e && e->code == VIR_ERR_NO_DOMAIN;
}

static enum virt_owner owner_of(virDomainPtr d, char **ret_spec)
{
        char *md = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, DOMAIN_XML_NS,
                                        VIR_DOMAIN_AFFECT_CONFIG);
        if (!md)
                return VIRT_FOREIGN;
        if (ret_spec)
                *ret_spec = domain_xml_metadata_spec(md);
        free(md);
        return VIRT_OURS;
}

int virt_lookup(struct virt_conn *c, const char *name, enum virt_owner *ret_owner, char **ret_uuid,
                char **reterr)
{
        virDomainPtr d = lookup(c, name);
        if (!d) {
                if (!not_found()) {
                        *reterr = last_error(name);
                        return -EIO;
                }
                *ret_owner = VIRT_ABSENT;
                if (ret_uuid)
                        *ret_uuid = NULL;
                return 0;
        }
        *ret_owner = owner_of(d, NULL);
        if (ret_uuid) {
                char uuid[VIR_UUID_STRING_BUFLEN];
                *ret_uuid = virDomainGetUUIDString(d, uuid) == 0 ? xstrdup(uuid) : NULL;
        }
        virDomainFree(d);
        return 0;
}

/* Looks up @name for an operation that only ever touches our own domains. */
static int lookup_ours(struct virt_conn *c, const char *name, const char *what, virDomainPtr *ret,
                       char **reterr)
{
        virDomainPtr d = lookup(c, name);
        if (!d) {
                if (not_found()) {
                        *reterr = xasprintf("%s: no such domain on %s", name, c->uri);
                        return -ENOENT;
                }
                *reterr = last_error(name);
                return -EIO;
        }
        if (owner_of(d, NULL) != VIRT_OURS) {
                virDomainFree(d);
                *reterr = xasprintf("%s: the domain on %s was not made by darwinkvm, refusing to "
                                    "%s it",
                                    name, c->uri, what);
                return -EPERM;
        }
        *ret = d;
        return 0;
}

int virt_define(struct virt_conn *c, const char *name, const char *xml, bool *ret_created,
                char **reterr)
{
        enum virt_owner owner;
        int r = virt_lookup(c, name, &owner, NULL, reterr);
        if (r < 0)
                return r;
        if (owner == VIRT_FOREIGN) {
                *reterr = xasprintf("%s: a domain of this name exists on %s and was not made by "
                                    "darwinkvm, expected another vm.name (or remove it with "
                                    "'virsh undefine %s')",
                                    name, c->uri, name);
                return -EEXIST;
        }
        /* No VIR_DOMAIN_DEFINE_VALIDATE: the RNG check costs the daemon about 80 ms per define,
         * and our XML is checked against the schema by the tests (libvirt still parses it). */
        virDomainPtr d = virDomainDefineXMLFlags(c->conn, xml, 0);
        if (!d) {
                *reterr = last_error(name);
                return -EINVAL;
        }
        virDomainFree(d);
        if (ret_created)
                *ret_created = owner == VIRT_ABSENT;
        return 0;
}

int virt_undefine(struct virt_conn *c, const char *name, bool remove_nvram, char **reterr)
{
        virDomainPtr d = NULL;
        int r = lookup_ours(c, name, "undefine", &d, reterr);
        if (r < 0)
                return r;
        unsigned flags = remove_nvram ? VIR_DOMAIN_UNDEFINE_NVRAM : VIR_DOMAIN_UNDEFINE_KEEP_NVRAM;
        r = virDomainUndefineFlags(d, flags);
        if (r < 0 && !remove_nvram) {
                /* Drivers without NVRAM support (test:///) refuse the flag. */
                virErrorPtr e = virGetLastError();
                if (e && e->code == VIR_ERR_INVALID_ARG)
                        r = virDomainUndefine(d);
        }
        if (r < 0)
                *reterr = last_error(name);
        virDomainFree(d);
        return r < 0 ? -EIO : 0;
}

static int state_of(virDomainPtr d, int *ret_reason)
{
        int state = VIR_DOMAIN_NOSTATE, reason = 0;
        if (virDomainGetState(d, &state, &reason, 0) < 0)
                return -1;
        if (ret_reason)
                *ret_reason = reason;
        return state;
}

int virt_start(struct virt_conn *c, const char *name, char **reterr)
{
        virDomainPtr d = NULL;
        int r = lookup_ours(c, name, "start", &d, reterr);
        if (r < 0)
                return r;
        if (virDomainIsActive(d) == 1) {
                virDomainFree(d);
                *reterr = xasprintf("%s: already running", name);
                return -EALREADY;
        }
        r = virDomainCreate(d);
        if (r < 0)
                *reterr = last_error(name);
        virDomainFree(d);
        return r < 0 ? -EIO : 0;
}

int virt_stop(struct virt_conn *c, const char *name, bool force, unsigned timeout_s, char **reterr)
{
        virDomainPtr d = NULL;
        int r = lookup_ours(c, name, "stop", &d, reterr);
        if (r < 0)
                return r;
        if (virDomainIsActive(d) != 1) {
                virDomainFree(d);
                *reterr = xasprintf("%s: not running", name);
                return -EALREADY;
        }
        if (force) {
                r = virDomainDestroy(d);
                if (r < 0)
                        *reterr = last_error(name);
                virDomainFree(d);
                return r < 0 ? -EIO : 0;
        }
        if (virDomainShutdown(d) < 0) {
                *reterr = last_error(name);
                virDomainFree(d);
                return -EIO;
        }
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (virDomainIsActive(d) != 1)
                        break;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((unsigned) (now.tv_sec - start.tv_sec) >= timeout_s) {
                        virDomainFree(d);
                        *reterr = xasprintf("%s: still running %u s after the ACPI shutdown "
                                            "request, expected the guest to power off (use "
                                            "--force to power it off)",
                                            name, timeout_s);
                        return -ETIMEDOUT;
                }
                usleep(100 * 1000);
        }
        virDomainFree(d);
        return 0;
}

static const char *state_name(int state)
{
        switch (state) {
        case VIR_DOMAIN_RUNNING:
                return "running";
        case VIR_DOMAIN_BLOCKED:
                return "blocked";
        case VIR_DOMAIN_PAUSED:
                return "paused";
        case VIR_DOMAIN_SHUTDOWN:
                return "shutting down";
        case VIR_DOMAIN_SHUTOFF:
                return "shut off";
        case VIR_DOMAIN_CRASHED:
                return "crashed";
        case VIR_DOMAIN_PMSUSPENDED:
                return "suspended";
        default:
                return "no state";
        }
}

static const char *reason_name(int state, int reason)
{
        switch (state) {
        case VIR_DOMAIN_RUNNING: {
                static const char *const r[] = {
                        "unknown",       "booted",   "migrated",           "restored",
                        "from snapshot", "unpaused", "migration canceled", "save canceled",
                        "wakeup",        "crashed",  "post-copy",          "post-copy failed"
                };
                return reason >= 0 && (size_t) reason < ELEMENTSOF(r) ? r[reason] : "unknown";
        }
        case VIR_DOMAIN_PAUSED: {
                static const char *const r[] = { "unknown",       "user",
                                                 "migration",     "save",
                                                 "dump",          "I/O error",
                                                 "watchdog",      "from snapshot",
                                                 "shutting down", "snapshot",
                                                 "crashed",       "starting up",
                                                 "post-copy",     "post-copy failed",
                                                 "api error" };
                return reason >= 0 && (size_t) reason < ELEMENTSOF(r) ? r[reason] : "unknown";
        }
        case VIR_DOMAIN_SHUTOFF: {
                static const char *const r[] = { "unknown", "shutdown",      "destroyed",
                                                 "crashed", "migrated",      "saved",
                                                 "failed",  "from snapshot", "daemon" };
                return reason >= 0 && (size_t) reason < ELEMENTSOF(r) ? r[reason] : "unknown";
        }
        default:
                return "unknown";
        }
}

int virt_status(struct virt_conn *c, const char *name, struct virt_status *ret, char **reterr)
{
        *ret = (struct virt_status){ 0 };
        virDomainPtr d = lookup(c, name);
        if (!d) {
                if (not_found()) {
                        *reterr = xasprintf("%s: no such domain on %s", name, c->uri);
                        return -ENOENT;
                }
                *reterr = last_error(name);
                return -EIO;
        }
        int reason = 0, state = state_of(d, &reason);
        ret->state = xstrdup(state_name(state));
        ret->reason = xstrdup(reason_name(state, reason));
        char uuid[VIR_UUID_STRING_BUFLEN];
        ret->uuid = virDomainGetUUIDString(d, uuid) == 0 ? xstrdup(uuid) : NULL;
        ret->owner = owner_of(d, &ret->spec);
        ret->persistent = virDomainIsPersistent(d) == 1;
        int autostart = 0;
        ret->autostart = virDomainGetAutostart(d, &autostart) == 0 && autostart;
        virDomainInfo info;
        if (virDomainGetInfo(d, &info) == 0) {
                ret->vcpus = info.nrVirtCpu;
                ret->memory_kib = info.maxMem;
        }
        virDomainFree(d);
        return 0;
}

void virt_status_release(struct virt_status *s)
{
        free(s->state);
        free(s->reason);
        free(s->uuid);
        free(s->spec);
        *s = (struct virt_status){ 0 };
}
