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
#include "dlib.h"
#include "domain-xml.h"
#include "strutil.h"

/*
 * libvirt is loaded when a verb first talks to it: linked, it costs every run of
 * darwinkvm 16 ms at start-up (GLib, GnuTLS...), most of the doctor's budget.
 */
#define LIBVIRT_SYMBOLS(X, T)  \
 X(T, virConnectClose)         \
 X(T, virConnectGetURI)        \
 X(T, virConnectOpenAuth)      \
 X(T, virDomainCreate)         \
 X(T, virDomainDefineXMLFlags) \
 X(T, virDomainDestroy)        \
 X(T, virDomainFree)           \
 X(T, virDomainGetAutostart)   \
 X(T, virDomainGetInfo)        \
 X(T, virDomainGetMetadata)    \
 X(T, virDomainGetState)       \
 X(T, virDomainGetUUIDString)  \
 X(T, virDomainIsActive)       \
 X(T, virDomainIsPersistent)   \
 X(T, virDomainLookupByName)   \
 X(T, virDomainShutdown)       \
 X(T, virDomainUndefine)       \
 X(T, virDomainUndefineFlags)  \
 X(T, virGetLastError)         \
 X(T, virGetLastErrorMessage)  \
 X(T, virInitialize)           \
 X(T, virSetErrorFunc)         \
 X(T, virConnectAuthPtrDefault)

struct libvirt_syms {
        LIBVIRT_SYMBOLS(DLIB_MEMBER, _)
};
static struct libvirt_syms lv;
static struct dlib libvirt_lib =
        DLIB_INIT("libvirt", "libvirt.so.0", &lv, struct libvirt_syms, LIBVIRT_SYMBOLS);

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
        const char *msg = lv.virGetLastErrorMessage();
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
        int k = dlib_load(&libvirt_lib, reterr);
        if (k < 0)
                return k;
        lv.virSetErrorFunc(NULL, quiet_errors);
        if (lv.virInitialize() < 0) {
                *reterr = last_error("libvirt");
                return -EIO;
        }
        const char *u = uri ? uri : virt_default_uri();
        virConnectPtr conn = lv.virConnectOpenAuth(u, *lv.virConnectAuthPtrDefault, 0);
        if (!conn) {
                *reterr = last_error(u);
                return -ECONNREFUSED;
        }
        struct virt_conn *c = xcalloc(1, sizeof(*c));
        c->conn = conn;
        char *actual = lv.virConnectGetURI(conn);
        c->uri = xstrdup(actual ? actual : u);
        free(actual);
        *ret = c;
        return 0;
}

struct virt_conn *virt_close(struct virt_conn *c)
{
        if (!c)
                return NULL;
        lv.virConnectClose(c->conn);
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
        return lv.virDomainLookupByName(c->conn, name);
}

static bool not_found(void)
{
        virErrorPtr e = lv.virGetLastError();
        return e && e->code == VIR_ERR_NO_DOMAIN;
}

static enum virt_owner owner_of(virDomainPtr d, char **ret_spec)
{
        char *md = lv.virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, DOMAIN_XML_NS,
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
                *ret_uuid = lv.virDomainGetUUIDString(d, uuid) == 0 ? xstrdup(uuid) : NULL;
        }
        lv.virDomainFree(d);
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
                lv.virDomainFree(d);
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
        virDomainPtr d = lv.virDomainDefineXMLFlags(c->conn, xml, 0);
        if (!d) {
                *reterr = last_error(name);
                return -EINVAL;
        }
        lv.virDomainFree(d);
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
        r = lv.virDomainUndefineFlags(d, flags);
        if (r < 0 && !remove_nvram) {
                /* Drivers without NVRAM support (test:///) refuse the flag. */
                virErrorPtr e = lv.virGetLastError();
                if (e && e->code == VIR_ERR_INVALID_ARG)
                        r = lv.virDomainUndefine(d);
        }
        if (r < 0)
                *reterr = last_error(name);
        lv.virDomainFree(d);
        return r < 0 ? -EIO : 0;
}

static int state_of(virDomainPtr d, int *ret_reason)
{
        int state = VIR_DOMAIN_NOSTATE, reason = 0;
        if (lv.virDomainGetState(d, &state, &reason, 0) < 0)
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
        if (lv.virDomainIsActive(d) == 1) {
                lv.virDomainFree(d);
                *reterr = xasprintf("%s: already running", name);
                return -EALREADY;
        }
        r = lv.virDomainCreate(d);
        if (r < 0)
                *reterr = last_error(name);
        lv.virDomainFree(d);
        return r < 0 ? -EIO : 0;
}

int virt_stop(struct virt_conn *c, const char *name, bool force, unsigned timeout_s, char **reterr)
{
        virDomainPtr d = NULL;
        int r = lookup_ours(c, name, "stop", &d, reterr);
        if (r < 0)
                return r;
        if (lv.virDomainIsActive(d) != 1) {
                lv.virDomainFree(d);
                *reterr = xasprintf("%s: not running", name);
                return -EALREADY;
        }
        if (force) {
                r = lv.virDomainDestroy(d);
                if (r < 0)
                        *reterr = last_error(name);
                lv.virDomainFree(d);
                return r < 0 ? -EIO : 0;
        }
        if (lv.virDomainShutdown(d) < 0) {
                *reterr = last_error(name);
                lv.virDomainFree(d);
                return -EIO;
        }
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (lv.virDomainIsActive(d) != 1)
                        break;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((unsigned) (now.tv_sec - start.tv_sec) >= timeout_s) {
                        lv.virDomainFree(d);
                        *reterr = xasprintf("%s: still running %u s after the ACPI shutdown "
                                            "request, expected the guest to power off (use "
                                            "--force to power it off)",
                                            name, timeout_s);
                        return -ETIMEDOUT;
                }
                usleep(100 * 1000);
        }
        lv.virDomainFree(d);
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
        ret->uuid = lv.virDomainGetUUIDString(d, uuid) == 0 ? xstrdup(uuid) : NULL;
        ret->owner = owner_of(d, &ret->spec);
        ret->persistent = lv.virDomainIsPersistent(d) == 1;
        int autostart = 0;
        ret->autostart = lv.virDomainGetAutostart(d, &autostart) == 0 && autostart;
        virDomainInfo info;
        if (lv.virDomainGetInfo(d, &info) == 0) {
                ret->vcpus = info.nrVirtCpu;
                ret->memory_kib = info.maxMem;
        }
        lv.virDomainFree(d);
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
