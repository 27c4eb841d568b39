/* SPDX-License-Identifier: MIT */
#include "verify.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "alloc.h"
#include "fileio.h"
#include "image.h"
#include "macro.h"
#include "plist.h"
#include "process.h"
#include "qemu-argv.h"
#include "strv.h"

/* Misc > Debug > Target: bit 0 enables logging, bit 3 sends it to the serial port. */
#define OC_TARGET_ENABLE 0x01
#define OC_TARGET_SERIAL 0x08
/* DisplayLevel: DEBUG_WARN, DEBUG_INFO (where the stage lines are) and DEBUG_ERROR. */
#define OC_LEVEL_NEEDED UINT64_C(0x80000042)

void verify_result_release(struct verify_result *r)
{
        boot_report_release(&r->report);
        free(r->opencore_note);
        free(r->serial_log);
        free(r->qemu_stderr);
        strv_free(r->argv);
        *r = (struct verify_result){};
}

/* A sparse copy of the file @from at @to. */
static int copy_file(const char *from, const char *to, char **reterr)
{
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (in < 0 || fstat(in, &st) < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", from, strerror(errno));
                return r;
        }
        _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", to, strerror(errno));
                return r;
        }
        _cleanup_free_ char *err = NULL;
        int r = copy_sparse(in, out, (uint64_t) st.st_size, &err);
        if (r < 0)
                *reterr = xasprintf("%s: %s", to, err);
        return r;
}

static int read_fd_all(int fd, char **ret, size_t *ret_len)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        char chunk[65536];
        ssize_t n;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                buf_put(&b, chunk, (size_t) n);
        if (n < 0)
                return -errno;
        *ret_len = b.len;
        *ret = buf_detach(&b);
        return 0;
}

int verify_enable_opencore_log(const char *image_path, char **reterr)
{
        static const char *const config = "EFI/OC/config.plist";
        _cleanup_(image_closep) struct image *im = NULL;
        int r = image_open(image_path, true, 0, &im, reterr);
        if (r < 0)
                return r;
        struct fat_volume *v = image_volume(im);
        _cleanup_close_ int fd = memfd_create("config.plist", MFD_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                *reterr = xasprintf("memfd: %s", strerror(errno));
                return r;
        }
        _cleanup_free_ char *err = NULL;
        r = fat_read_file(v, config, fd, &err);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", image_path, err);
                return r;
        }
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        r = read_fd_all(fd, &data, &len);
        if (r < 0) {
                *reterr = xasprintf("%s: %s: %s", image_path, config, strerror(-r));
                return r;
        }
        _cleanup_free_ char *name = xasprintf("%s:%s", image_path, config);
        _cleanup_(pl_freep) struct pl_node *root = NULL;
        enum pl_format format;
        r = pl_parse(data, len, name, &root, &format, reterr);
        if (r < 0)
                return r;
        if (!pl_is(root, PL_DICT)) {
                *reterr = xasprintf("%s: the root is not a dictionary", name);
                return -EINVAL;
        }
        struct pl_node *misc = pl_dict_ensure_dict(root, "Misc");
        struct pl_node *debug = pl_dict_ensure_dict(misc, "Debug");
        int64_t target = 0, level = 0;
        (void) pl_dict_get_integer(debug, "Target", &target);
        (void) pl_dict_get_integer(debug, "DisplayLevel", &level);
        pl_dict_set(debug, "Target", pl_new_integer(target | OC_TARGET_ENABLE | OC_TARGET_SERIAL));
        pl_dict_set(debug, "DisplayLevel", pl_new_integer(level | (int64_t) OC_LEVEL_NEEDED));
        /* OpenCore 0.8.4 and later set the port up only when asked to. */
        struct pl_node *serial = pl_dict_get_dict(misc, "Serial");
        if (serial)
                pl_dict_set(serial, "Init", pl_new_bool(true));
        _cleanup_free_ char *out = NULL;
        size_t out_len = 0;
        r = pl_serialize(root, format, &out, &out_len, reterr);
        if (r < 0)
                return r;
        _cleanup_close_ int in = memfd_create("config.plist.new", MFD_CLOEXEC);
        if (in < 0 || write_all(in, out, out_len) < 0 || lseek(in, 0, SEEK_SET) < 0) {
                r = -errno;
                *reterr = xasprintf("memfd: %s", strerror(errno));
                return r;
        }
        free(err);
        err = NULL;
        r = fat_put_file(v, config, in, out_len, -1, &err);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", image_path, err);
                return r;
        }
        return image_commit(im, reterr);
}

static struct vm_disk *find_disk(struct vm_plan *p, const char *role)
{
        for (size_t i = 0; i < p->n_disks; i++)
                if (streq(p->disks[i].role, role))
                        return &p->disks[i];
        return NULL;
}

int verify_vm(struct vm_plan *p, const struct root *root, const struct verify_options *o,
              struct verify_result *ret, char **reterr)
{
        *ret = (struct verify_result){};
        if (!p->serial_log) {
                *reterr = xstrdup("the plan has no serial log file");
                return -EINVAL;
        }
        int r = mkdir_p(o->work_dir, 0700);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", o->work_dir, strerror(-r));
                return r;
        }
        struct vm_disk *oc = find_disk(p, "opencore");
        if (!oc) {
                *reterr = xasprintf("%s: no OpenCore disk (disks.opencore) to boot", p->name);
                return -ENOENT;
        }
        _cleanup_free_ char *copy = xasprintf("%s/opencore.img", o->work_dir);
        if (streq(oc->format, "raw")) {
                r = copy_file(oc->path, copy, reterr);
        } else {
                char *argv[] = { (char *) "qemu-img",
                                 (char *) "convert",
                                 (char *) "-O",
                                 (char *) "raw",
                                 oc->path,
                                 copy,
                                 NULL };
                _cleanup_buf_ struct buf err = BUF_INIT;
                int status = 0;
                r = process_run(argv, NULL, &err, &status, reterr);
                if (r >= 0 && status != 0) {
                        *reterr = xasprintf("qemu-img convert %s: %s", oc->path,
                                            strempty(buf_str(&err)));
                        r = -EIO;
                }
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *err = NULL;
        r = verify_enable_opencore_log(copy, &err);
        if (r >= 0)
                ret->opencore_log = true;
        else if (r == -ENOENT)
                ret->opencore_note = xstrdup("no EFI/OC/config.plist on the OpenCore disk: "
                                             "OpenCore's own log was not enabled");
        else
                ret->opencore_note = xasprintf("OpenCore's log not enabled: %s", err);
        free(oc->path);
        oc->path = TAKE_PTR(copy);
        oc->format = "raw";

        /* A fresh variable store: the VM's own NVRAM keeps its boot entries. */
        _cleanup_free_ char *nvram = xasprintf("%s/nvram.fd", o->work_dir);
        (void) unlink(nvram);
        free(p->nvram);
        p->nvram = TAKE_PTR(nvram);
        free(err);
        err = NULL;
        r = qemu_prepare_nvram(p, root, &err);
        if (r < 0) {
                *reterr = TAKE_PTR(err);
                return r;
        }
        char **argv = NULL;
        r = qemu_argv_build(p, &argv, reterr);
        if (r < 0)
                return r;
        /* Whatever the guest writes to the other disks is thrown away. */
        argv = strv_push(argv, "-snapshot");
        argv = strv_push(argv, "-no-reboot");
        ret->argv = argv;
        ret->serial_log = xstrdup(p->serial_log);
        ret->qemu_stderr = xasprintf("%s/qemu-stderr.log", o->work_dir);
        return bootcheck_run_qemu(argv, p->serial_log, ret->qemu_stderr, boot_stages_opencore,
                                  boot_stages_opencore_n, o->timeout_ms, o->progress, &ret->report,
                                  reterr);
}
