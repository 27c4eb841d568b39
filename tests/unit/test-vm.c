/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "compat.h"
#include "domain-xml.h"
#include "host.h"
#include "qemu-argv.h"
#include "strv.h"
#include "virt.h"
#include "vm-plan.h"
#include "vmspec.h"

/* The VM spec, its plan on fixture hosts, the domain XML and libvirt's test driver. */

static const char spec_text[] = "# My VM, edited by hand.\n"
                                "[vm]\n"
                                "name = Sonoma   # the domain name\n"
                                "uuid = 3F0D6B0E-0C39-4A5E-9F4E-7C1D2A0B8E11\n"
                                "macos = 14\n"
                                "\n"
                                "[cpu]\n"
                                "; keep two cores for the host\n"
                                "host_cores = 2\n"
                                "\n"
                                "[disks]\n"
                                "opencore = /proc/cpuinfo\n";

static struct vmspec *parse_ok(const char *text)
{
        struct vmspec *s = NULL;
        _cleanup_free_ char *err = NULL;
        int r = vmspec_parse("vm.conf", text, &s, &err);
        if (r < 0)
                fail_msg("%s", err);
        return s;
}

static char *parse_err(const char *text)
{
        struct vmspec *s = NULL;
        char *err = NULL;
        assert_int_equal(vmspec_parse("vm.conf", text, &s, &err), -EINVAL);
        assert_null(s);
        return err;
}

static void test_parse(void **state)
{
        (void) state;
        _cleanup_(vmspec_freep) struct vmspec *s = parse_ok(spec_text);
        assert_string_equal(s->name, "Sonoma");
        assert_string_equal(s->macos, "14");
        assert_int_equal(s->host_cores, 2);
        assert_true(s->pin);                            /* default */
        assert_int_equal(s->memory, UINT64_C(8) << 30); /* default */
        assert_int_equal(s->cores, 0);                  /* auto */
        assert_int_equal(vmspec_key_line(s, "cpu.host_cores"), 9);
        assert_int_equal(vmspec_key_line(s, "cpu.cores"), 0);
        _cleanup_free_ char *where = vmspec_where(s, "cpu.host_cores");
        assert_string_equal(where, "vm.conf:9: cpu.host_cores: ");
}

static void test_parse_values(void **state)
{
        (void) state;
        _cleanup_(vmspec_freep) struct vmspec *s =
                parse_ok("[vm]\nname = a\nmacos = 10.13\n[memory]\nsize = 4096\n[passthrough]\n"
                         "gpu = 01:00.0\nusb_controllers = 0000:00:14.0,0000:08:00.3\n"
                         "[usb]\nhost = 046D:C52B\n[input]\nemulated = no\n[cpu]\ncores = auto\n"
                         "topoext = yes\n");
        assert_int_equal(s->memory, UINT64_C(4096) << 20); /* a bare number is MiB */
        assert_string_equal(s->gpu, "0000:01:00.0");
        assert_int_equal(strv_length(s->usb_controllers), 2);
        assert_string_equal(s->usb_controllers[1], "0000:08:00.3");
        assert_string_equal(s->usb_host[0], "046d:c52b");
        assert_int_equal(s->emulated_input, VM_NO);
        assert_int_equal(s->topoext, VM_YES);
        assert_int_equal(s->cores, 0);
}

static void test_parse_errors(void **state)
{
        (void) state;

        static const struct {
                const char *text, *error;
        } cases[] = {
                { "[vm]\nnmae = x\n", "vm.conf:2: vm.nmae: unknown key, did you mean 'name'?" },
                { "[vm]\nname = a\nname = b\n",
                  "vm.conf:3: vm.name: duplicate key (first on line 2), expected each key once" },
                { "[cpu]\ncores = four\n",
                  "vm.conf:2: cpu.cores: 'four' is not valid, expected a number from 1 to 1024, "
                  "or auto" },
                { "[passthrough]\ngpu = 0000:01:00.8\n",
                  "vm.conf:2: passthrough.gpu: '0000:01:00.8' is not valid, expected a PCI "
                  "address (0000:01:00.0)" },
                { "[bogus]\n", "vm.conf:1: [bogus]: unknown section, expected one of vm, cpu, "
                               "memory, firmware, disks, display, network, passthrough, usb, "
                               "input, audio, smbios" },
                { "[vm]\njunk\n", "vm.conf:2: 'junk': not a setting, expected key = value" },
                { "name = x\n", "vm.conf:1: name: setting before any section, expected a "
                                "[section] line first" },
                { "[vm]\nname = x\n", "vm.conf: vm.macos: missing, expected a macOS release "
                                      "(14, 10.13)" },
                { "[vm\n", "vm.conf:1: '[vm': not a section header, expected [section]" },
                { "[vm]\ncores = 4\n", "vm.conf:2: vm.cores: unknown key, expected it in [cpu]" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *err = parse_err(cases[i].text);
                assert_string_equal(err, cases[i].error);
        }
}

static void test_format_keeps_comments(void **state)
{
        (void) state;
        _cleanup_(vmspec_freep) struct vmspec *s = parse_ok(spec_text);
        s->host_cores = 1;
        s->vcpus = 6;
        s->hugepages = true;
        free_and_strdup(&s->name, "Sonoma2");
        _cleanup_free_ char *text = vmspec_format(s);
        /* Unchanged lines verbatim, changed values in place with their comments, new keys at the
         * end of their section, new sections at the end. */
        assert_non_null(strstr(text, "# My VM, edited by hand.\n[vm]\nname = Sonoma2 # the "
                                     "domain name\n"));
        assert_non_null(strstr(text, "uuid = 3F0D6B0E-0C39-4A5E-9F4E-7C1D2A0B8E11\n"));
        assert_non_null(strstr(text, "; keep two cores for the host\nhost_cores = 1\nvcpus = 6\n"
                                     "\n[disks]\n"));
        assert_non_null(strstr(text, "\n[memory]\nhugepages = yes\n"));
        _cleanup_(vmspec_freep) struct vmspec *again = parse_ok(text);
        assert_string_equal(again->name, "Sonoma2");
        assert_int_equal(again->vcpus, 6);
        assert_int_equal(again->host_cores, 1);
        assert_true(again->hugepages);
        /* Formatting an unchanged spec gives the file back byte for byte. */
        _cleanup_(vmspec_freep) struct vmspec *same = parse_ok(spec_text);
        _cleanup_free_ char *back = vmspec_format(same);
        assert_string_equal(back, spec_text);
}

static void test_template_round_trip(void **state)
{
        (void) state;
        _cleanup_(vmspec_freep) struct vmspec *s = vmspec_new();
        s->name = xstrdup("New");
        s->uuid = xstrdup("0a0b0c0d-1e1f-4a2b-8c3d-4e5f6a7b8c9d");
        s->macos = xstrdup("15");
        s->opencore = xstrdup("/srv/OpenCore.img");
        s->usb_controllers = strv_split("0000:00:14.0 0000:08:00.3", " ");
        s->memory = UINT64_C(12) << 30;
        _cleanup_free_ char *text = vmspec_format(s);
        assert_non_null(strstr(text, "# The libvirt domain name\nname = New\n"));
        assert_non_null(strstr(text, "usb_controllers = 0000:00:14.0, 0000:08:00.3\n"));
        assert_non_null(strstr(text, "size = 12G\n"));
        _cleanup_(vmspec_freep) struct vmspec *back = parse_ok(text);
        _cleanup_free_ char *again = vmspec_format(back);
        assert_string_equal(again, text);
        assert_int_equal(back->memory, s->memory);
        assert_int_equal(back->pin, s->pin);

        char dir[] = "/tmp/dkvm-vmspec-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *path = xasprintf("%s/vms/New/vm.conf", dir);
        _cleanup_free_ char *err = NULL;
        assert_int_equal(vmspec_write(s, path, &err), 0);
        _cleanup_(vmspec_freep) struct vmspec *loaded = NULL;
        assert_int_equal(vmspec_load(path, &loaded, &err), 0);
        assert_string_equal(loaded->opencore, "/srv/OpenCore.img");
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_names(void **state)
{
        (void) state;
        assert_true(vm_name_is_valid("DarwinKVM-MP71"));
        assert_false(vm_name_is_valid(""));
        assert_false(vm_name_is_valid(".hidden"));
        assert_false(vm_name_is_valid("a/b"));
        setenv("DARWINKVM_VMS_DIR", "/x/vms", 1);
        _cleanup_free_ char *p = vm_spec_path("Sonoma");
        assert_string_equal(p, "/x/vms/Sonoma/vm.conf");
        _cleanup_free_ char *q = vm_spec_path("./my.conf");
        assert_string_equal(q, "./my.conf");
        unsetenv("DARWINKVM_VMS_DIR");
}

/* A plan on a committed fixture host. */
static struct vm_plan *plan_on(const char *host, const char *text, char ***ret_errors)
{
        const char *data = getenv("DARWINKVM_DATA_DIR");
        assert_non_null(data);
        _cleanup_free_ char *path = xasprintf("%s/../tests/fixtures/hosts/%s", data, host);
        _cleanup_(root_freep) struct root *root = NULL;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(root_open(path, &root, &err), 0);
        _cleanup_(compat_freep) struct compat *c = NULL;
        assert_int_equal(compat_load(data, &c, &err), 0);
        _cleanup_(host_freep) struct host *h = host_load(root, NULL);
        _cleanup_(vmspec_freep) struct vmspec *s = parse_ok(text);
        struct vm_plan *p = NULL;
        struct vm_options o = { 0 };
        int r = vm_plan_build(s, h, root, c, &o, &p, ret_errors);
        assert_true(r == 0 ? p != NULL : p == NULL);
        return p;
}

static void test_plan_pinning_6c12t(void **state)
{
        (void) state;
        char **errors = NULL;
        _cleanup_(vm_plan_freep) struct vm_plan *p = plan_on("no-avx2", spec_text, &errors);
        assert_null(errors);
        assert_non_null(p);
        /* 6 cores, 2 kept: 8 threads for the guest, topology 4 cores x 2. */
        assert_int_equal(p->vcpus, 8);
        assert_int_equal(p->cores, 4);
        assert_int_equal(p->max_vcpus, 8);
        /* Siblings (n, n+6): vCPU 2k on core k+2's first thread, 2k+1 on its second. */
        static const int want[] = { 2, 8, 3, 9, 4, 10, 5, 11 };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_int_equal(p->vcpu_pins[i], want[i]);
        assert_string_equal(p->host_cpuset, "0,1,6,7");
        assert_string_equal(p->model, "MacPro7,1");
        assert_string_equal(p->cpu_arg, "Cascadelake-Server,vendor=GenuineIntel");
        assert_string_equal(p->nic_model, "virtio");
        assert_string_equal(p->mac, "52:54:00:0b:8e:11");
        assert_string_equal(p->uuid, "3f0d6b0e-0c39-4a5e-9f4e-7c1d2a0b8e11");

        _cleanup_free_ char *xml = NULL, *err = NULL;
        assert_int_equal(domain_xml_build(p, &xml, &err), 0);
        assert_non_null(strstr(xml, "<domain type=\"kvm\""));
        assert_non_null(strstr(xml, "<vcpupin vcpu=\"1\" cpuset=\"8\"/>"));
        assert_non_null(strstr(xml, "<emulatorpin cpuset=\"0,1,6,7\"/>"));
        assert_non_null(strstr(xml, "<topology sockets=\"1\" dies=\"1\" cores=\"4\" "
                                    "threads=\"2\"/>"));
        _cleanup_strv_free_ char **argv = NULL;
        assert_int_equal(qemu_argv_build(p, &argv, &err), 0);
        assert_string_equal(argv[0], "qemu-system-x86_64");
        assert_true(strv_contains(argv, "8,sockets=1,dies=1,cores=4,threads=2,maxcpus=8"));
}

static void test_plan_errors(void **state)
{
        (void) state;
        char **errors = NULL;
        struct vm_plan *p = plan_on("intel-nvidia-single",
                                    "[vm]\nname = x\nmacos = 14\n[cpu]\ncores = 3\n"
                                    "[memory]\nsize = 64G\n[passthrough]\ngpu = 0000:00:14.0\n",
                                    &errors);
        assert_null(p);
        assert_int_equal(strv_length(errors), 5);
        assert_string_equal(errors[0], "vm.conf: vm.uuid: missing, expected a fixed UUID "
                                       "(uuidgen) so that redefining keeps the VM's identity");
        assert_string_equal(errors[1], "vm.conf:5: cpu.cores: 3 is not a power of two, expected "
                                       "1, 2, 4, 8, 16 or 32 (XNU boots only those)");
        assert_string_equal(errors[2], "vm.conf:7: memory.size: 64.0 GiB is more than the "
                                       "host's 31.1 GiB, expected less");
        assert_string_equal(errors[3], "vm.conf: disks.opencore: missing, expected the "
                                       "OpenCore image (darwinkvm image opencore)");
        assert_string_equal(errors[4], "vm.conf:9: passthrough.gpu: 0000:00:14.0 is not a "
                                       "display controller (class 0c03), expected the GPU's "
                                       "VGA function");
        strv_free(errors);
}

static void test_metadata_spec(void **state)
{
        (void) state;
        _cleanup_free_ char *spec = domain_xml_metadata_spec(
                "<vm xmlns=\"urn:darwinkvm:vm:1\"><spec>/a/vm.conf</spec><macos>14</macos></vm>");
        assert_string_equal(spec, "/a/vm.conf");
        assert_null(domain_xml_metadata_spec("<vm><macos>14</macos></vm>"));
        assert_null(domain_xml_metadata_spec("not xml"));
}

static void test_virt_test_driver(void **state)
{
        (void) state;
        char **errors = NULL;
        _cleanup_(vm_plan_freep) struct vm_plan *p = plan_on("no-avx2", spec_text, &errors);
        assert_non_null(p);
        _cleanup_free_ char *xml = NULL, *err = NULL;
        assert_int_equal(domain_xml_build(p, &xml, &err), 0);

        _cleanup_(virt_closep) struct virt_conn *c = NULL;
        assert_int_equal(virt_open("test:///default", &c, &err), 0);
        assert_string_equal(virt_uri(c), "test:///default");

        /* The test driver's own domain "test" was not made by us: hands off. */
        enum virt_owner owner;
        _cleanup_free_ char *uuid = NULL;
        assert_int_equal(virt_lookup(c, "test", &owner, &uuid, &err), 0);
        assert_int_equal(owner, VIRT_FOREIGN);
        assert_int_equal(virt_stop(c, "test", true, 1, &err), -EPERM);
        assert_non_null(strstr(err, "was not made by darwinkvm, refusing to stop it"));
        free(err);
        err = NULL;
        _cleanup_free_ char *foreign_xml = xstrdup(xml);
        char *name = strstr(foreign_xml, "<name>Sonoma</name>");
        assert_non_null(name);
        memcpy(name, "<name>test</name>  ", 19);
        assert_int_equal(virt_define(c, "test", foreign_xml, NULL, &err), -EEXIST);
        free(err);
        err = NULL;

        bool created = false;
        assert_int_equal(virt_lookup(c, "Sonoma", &owner, NULL, &err), 0);
        assert_int_equal(owner, VIRT_ABSENT);
        assert_int_equal(virt_define(c, "Sonoma", xml, &created, &err), 0);
        assert_true(created);
        assert_int_equal(virt_define(c, "Sonoma", xml, &created, &err), 0);
        assert_false(created);

        struct virt_status st;
        assert_int_equal(virt_status(c, "Sonoma", &st, &err), 0);
        assert_string_equal(st.state, "shut off");
        assert_int_equal(st.owner, VIRT_OURS);
        assert_string_equal(st.uuid, p->uuid);
        assert_string_equal(st.spec, p->spec_path);
        assert_int_equal(st.vcpus, 8);
        virt_status_release(&st);

        assert_int_equal(virt_start(c, "Sonoma", &err), 0);
        assert_int_equal(virt_start(c, "Sonoma", &err), -EALREADY);
        free(err);
        err = NULL;
        assert_int_equal(virt_status(c, "Sonoma", &st, &err), 0);
        assert_string_equal(st.state, "running");
        virt_status_release(&st);
        assert_int_equal(virt_stop(c, "Sonoma", false, 5, &err), 0);
        assert_int_equal(virt_stop(c, "Sonoma", false, 5, &err), -EALREADY);
        free(err);
        err = NULL;
        assert_int_equal(virt_undefine(c, "Sonoma", false, &err), 0);
        assert_int_equal(virt_status(c, "Sonoma", &st, &err), -ENOENT);
        assert_non_null(strstr(err, "no such domain"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_values),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_format_keeps_comments),
                cmocka_unit_test(test_template_round_trip),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_plan_pinning_6c12t),
                cmocka_unit_test(test_plan_errors),
                cmocka_unit_test(test_metadata_spec),
                cmocka_unit_test(test_virt_test_driver),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
