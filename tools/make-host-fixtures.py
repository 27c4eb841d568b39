#!/usr/bin/env python3
"""Generate fake Linux host trees for darwinkvm tests.

Usage: tools/make-host-fixtures.py [--out DIR] [--pci-ids FILE] [NAME...]

Every fixture is described compactly below and rendered into
tests/fixtures/hosts/<name>/ (deleted and recreated each run).  Output is
deterministic: the same inputs always give byte-identical trees.
"""
import argparse
import json
import os
import random
import re
import shutil
import sys

ROOT_UUID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "fixtures", "hosts")

# ---------------------------------------------------------------- CPU data
_BASE_INTEL = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi "
               "mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon "
               "pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor "
               "ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt "
               "tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb "
               "invpcid_single ssbd ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase "
               "tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx rdseed adx smap clflushopt intel_pt xsaveopt "
               "xsavec xgetbv1 xsaves dtherm ida arat pln pts hwp hwp_notify hwp_act_window hwp_epp md_clear "
               "flush_l1d arch_capabilities")


def _flags(base, add="", drop=""):
    d = set(drop.split())
    out = [f for f in base.split() if f not in d]
    out += [f for f in add.split() if f not in out]
    return " ".join(out)


CPUS = {
    "i7-9700K": dict(vendor="GenuineIntel", family=6, model=158, stepping=13, microcode="0xf8",
                     name="Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz", mhz=3600.000, cache=12288,
                     cpuid=22, addr="39 bits physical, 48 bits virtual", flags=_BASE_INTEL,
                     bugs="spectre_v1 spectre_v2 spec_store_bypass swapgs taa itlb_multihit srbds mmio_stale_data retbleed gds"),
    "i5-8400": dict(vendor="GenuineIntel", family=6, model=158, stepping=10, microcode="0xf4",
                    name="Intel(R) Core(TM) i5-8400 CPU @ 2.80GHz", mhz=2800.000, cache=9216,
                    cpuid=22, addr="39 bits physical, 48 bits virtual", flags=_BASE_INTEL,
                    bugs="cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs itlb_multihit srbds mmio_stale_data retbleed gds"),
    "i7-12700K": dict(vendor="GenuineIntel", family=6, model=151, stepping=2, microcode="0x35",
                      name="12th Gen Intel(R) Core(TM) i7-12700K", mhz=3600.000, cache=25600,
                      cpuid=32, addr="46 bits physical, 48 bits virtual",
                      flags=_flags(_BASE_INTEL, "sha_ni umip pku ospke waitpkg gfni vaes vpclmulqdq rdpid "
                                   "movdiri movdir64b fsrm serialize arch_lbr ibt avx_vnni clwb", "mpx"),
                      bugs="spectre_v1 spectre_v2 spec_store_bypass swapgs eibrs_pbrsb"),
    "i5-4590": dict(vendor="GenuineIntel", family=6, model=60, stepping=3, microcode="0x28",
                    name="Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz", mhz=3300.000, cache=6144,
                    cpuid=13, addr="39 bits physical, 48 bits virtual",
                    flags=_flags(_BASE_INTEL, "pti", "vmx smx tpr_shadow vnmi flexpriority ept vpid ept_ad "
                                 "art sdbg mpx rdseed adx smap clflushopt intel_pt xsavec xgetbv1 xsaves "
                                 "hwp hwp_notify hwp_act_window hwp_epp 3dnowprefetch"),
                    bugs="cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs itlb_multihit srbds mmio_unknown"),
    "X5680": dict(vendor="GenuineIntel", family=6, model=44, stepping=2, microcode="0x1f",
                  name="Intel(R) Xeon(R) CPU           X5680  @ 3.33GHz", mhz=3333.000, cache=12288,
                  cpuid=11, addr="40 bits physical, 48 bits virtual",
                  flags=("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts "
                         "acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc "
                         "arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni "
                         "pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 cx16 xtpr pdcm pcid dca sse4_1 "
                         "sse4_2 popcnt aes lahf_lm epb pti ssbd ibrs ibpb stibp tpr_shadow vnmi flexpriority "
                         "ept vpid dtherm ida arat flush_l1d"),
                  bugs="cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs itlb_multihit mmio_unknown"),
    "Gold 6248": dict(vendor="GenuineIntel", family=6, model=85, stepping=7, microcode="0x5003604",
                      name="Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", mhz=2500.000, cache=28160,
                      cpuid=22, addr="46 bits physical, 48 bits virtual",
                      flags=_flags(_BASE_INTEL, "dca cat_l3 cdp_l3 intel_ppin mba rdt_a cqm avx512f avx512dq "
                                   "avx512cd avx512bw avx512vl avx512_vnni clwb pku ospke cqm_llc cqm_occup_llc "
                                   "cqm_mbm_total cqm_mbm_local", "sdbg"),
                      bugs="spectre_v1 spectre_v2 spec_store_bypass swapgs taa itlb_multihit mmio_stale_data retbleed gds"),
    "5950X": dict(vendor="AuthenticAMD", family=25, model=33, stepping=0, microcode="0xa201016",
                  name="AMD Ryzen 9 5950X 16-Core Processor", mhz=3400.000, cache=512,
                  cpuid=16, addr="48 bits physical, 48 bits virtual",
                  flags=("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx "
                         "fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good "
                         "nopl nonstop_tsc cpuid extd_apicid aperfmperf rapl pni pclmulqdq monitor ssse3 fma "
                         "cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm "
                         "extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce "
                         "topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate "
                         "ssbd mba ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a "
                         "rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves cqm_llc "
                         "cqm_occup_llc cqm_mbm_total cqm_mbm_local clzero irperf xsaveerptr rdpru wbnoinvd "
                         "arat npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists "
                         "pausefilter pfthreshold avic v_vmsave_vmload vgif v_spec_ctrl umip pku ospke vaes "
                         "vpclmulqdq rdpid overflow_recov succor smca fsrm"),
                  bugs="sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass srso"),
    "EPYC-guest": dict(vendor="AuthenticAMD", family=25, model=1, stepping=1, microcode="0x1000065",
                       name="AMD EPYC", mhz=2449.998, cache=512, cpuid=16,
                       addr="48 bits physical, 48 bits virtual",
                       flags=("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush "
                              "mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc "
                              "rep_good nopl cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 "
                              "sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand "
                              "hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch "
                              "topoext ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 erms invpcid "
                              "rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero "
                              "xsaveerptr rdpru wbnoinvd arat umip pku ospke vaes vpclmulqdq rdpid fsrm"),
                       bugs="sysret_ss_attrs null_seg spectre_v1 spectre_v2 spec_store_bypass srso"),
}


def topology(kind, sockets, cores, threads):
    """List of (cpu, package, core_id, siblings-list) in Linux enumeration order.
    kind 'intel': all first threads, then all second threads; 'amd' same (n, n+cores);
    'hybrid12': Alder Lake 8P(HT)+4E numbering."""
    out = []
    if kind == "hybrid12":
        for c in range(16):
            out.append((c, 0, (c // 2) * 4, "%d-%d" % (c - c % 2, c - c % 2 + 1)))
        for e in range(4):
            out.append((16 + e, 0, 32 + e, str(16 + e)))
        return out
    if kind == "xeon":  # Cascade Lake mesh: core ids have holes
        ids = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 16, 17, 18, 19, 20, 24, 25, 26, 27, 28][:cores]
    else:
        ids = list(range(cores))
    total = sockets * cores
    for t in range(threads):
        for s in range(sockets):
            for c in range(cores):
                n = t * total + s * cores + c
                sib = [str(s * cores + c + k * total) for k in range(threads)]
                out.append((n, s, ids[c], ",".join(sib)))
    return sorted(out)


def cpuinfo(cpu, topo, sockets):
    c = CPUS[cpu]
    per_pkg = len(topo) // sockets
    ncores = len({(p, k) for _, p, k, _ in topo}) // sockets
    blocks = []
    for n, pkg, core, _ in topo:
        apic = n if c["vendor"] == "AuthenticAMD" else n * 2
        rows = [("processor", n), ("vendor_id", c["vendor"]), ("cpu family", c["family"]),
                ("model", c["model"]), ("model name", c["name"]), ("stepping", c["stepping"]),
                ("microcode", c["microcode"]), ("cpu MHz", "%.3f" % c["mhz"]),
                ("cache size", "%d KB" % c["cache"]), ("physical id", pkg), ("siblings", per_pkg),
                ("core id", core), ("cpu cores", ncores), ("apicid", apic), ("initial apicid", apic),
                ("fpu", "yes"), ("fpu_exception", "yes"), ("cpuid level", c["cpuid"]), ("wp", "yes"),
                ("flags", c["flags"]), ("bugs", c["bugs"]), ("bogomips", "%.2f" % (c["mhz"] * 2)),
                ("clflush size", 64), ("cache_alignment", 64), ("address sizes", c["addr"]),
                ("power management", "")]
        txt = "".join("%s\t: %s\n" % (k if len(k) >= 8 else k + "\t", v) for k, v in rows)
        blocks.append(txt.replace("power management\t: \n", "power management:\n"))
    return "\n".join(blocks) + "\n"


def meminfo(gib):
    total = (gib * 1048576 * 972 // 1000) // 4 * 4
    free, avail = total * 61 // 100 // 4 * 4, total * 83 // 100 // 4 * 4
    rows = [("MemTotal", total), ("MemFree", free), ("MemAvailable", avail), ("Buffers", 204800),
            ("Cached", total // 6 // 4 * 4), ("SwapCached", 0), ("Active", total // 8 // 4 * 4),
            ("Inactive", total // 9 // 4 * 4), ("SwapTotal", 999420), ("SwapFree", 999420),
            ("Dirty", 148), ("Writeback", 0), ("AnonPages", total // 10 // 4 * 4),
            ("Mapped", 412316), ("Shmem", 98304), ("KReclaimable", 180224), ("Slab", 312320),
            ("PageTables", 24576), ("CommitLimit", total // 2 + 999420),
            ("Committed_AS", total // 5 // 4 * 4), ("VmallocTotal", 34359738367),
            ("VmallocUsed", 65536), ("AnonHugePages", 0), ("ShmemHugePages", 0)]
    s = "".join("%-16s%8d kB\n" % (k + ":", v) for k, v in rows)
    s += "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\n"
    s += "Hugepagesize:       2048 kB\nHugetlb:               0 kB\n"
    s += "DirectMap4k:      %8d kB\nDirectMap2M:    %10d kB\n" % (412000, total - 412000)
    return s


# ---------------------------------------------------------------- distributions
OS = {
    "debian12": dict(kernel="6.1.0-13-amd64", ko=".ko", release="""\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""),
    "ubuntu2404": dict(kernel="6.8.0-31-generic", ko=".ko.zst", release="""\
PRETTY_NAME="Ubuntu 24.04 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
"""),
    "fedora40": dict(kernel="6.8.5-301.fc40.x86_64", ko=".ko.xz", release="""\
NAME="Fedora Linux"
VERSION="40 (Workstation Edition)"
ID=fedora
VERSION_ID=40
VERSION_CODENAME=""
PLATFORM_ID="platform:f40"
PRETTY_NAME="Fedora Linux 40 (Workstation Edition)"
ANSI_COLOR="0;38;2;60;110;180"
LOGO=fedora-logo-icon
CPE_NAME="cpe:/o:fedoraproject:fedora:40"
DEFAULT_HOSTNAME="fedora"
HOME_URL="https://fedoraproject.org/"
DOCUMENTATION_URL="https://docs.fedoraproject.org/en-US/fedora/f40/system-administrators-guide/"
SUPPORT_URL="https://ask.fedoraproject.org/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_BUGZILLA_PRODUCT="Fedora"
REDHAT_BUGZILLA_PRODUCT_VERSION=40
REDHAT_SUPPORT_PRODUCT="Fedora"
REDHAT_SUPPORT_PRODUCT_VERSION=40
SUPPORT_END=2025-05-13
VARIANT="Workstation Edition"
VARIANT_ID=workstation
"""),
    "arch": dict(kernel="6.9.3-arch1-1", ko=".ko.zst", release="""\
NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
ANSI_COLOR="38;2;23;147;209"
HOME_URL="https://archlinux.org/"
DOCUMENTATION_URL="https://wiki.archlinux.org/"
SUPPORT_URL="https://bbs.archlinux.org/"
BUG_REPORT_URL="https://gitlab.archlinux.org/groups/archlinux/-/issues"
PRIVACY_POLICY_URL="https://terms.archlinux.org/docs/privacy-policy/"
LOGO=archlinux-logo
"""),
    "pop2204": dict(kernel="6.8.0-76060800-generic", ko=".ko", release="""\
NAME="Pop!_OS"
VERSION="22.04 LTS"
ID=pop
ID_LIKE="ubuntu debian"
PRETTY_NAME="Pop!_OS 22.04 LTS"
VERSION_ID="22.04"
HOME_URL="https://pop.system76.com"
SUPPORT_URL="https://support.system76.com"
BUG_REPORT_URL="https://github.com/pop-os/pop/issues"
PRIVACY_POLICY_URL="https://system76.com/privacy"
VERSION_CODENAME=jammy
UBUNTU_CODENAME=jammy
LOGO=distributor-logo-pop-os
"""),
}

# dpkg packages: name -> (section, installed-size, maintainer, version, description)
DEB_MAINT = "Debian QEMU Team <pkg-qemu-devel@lists.alioth.debian.org>"
DPKG = {
    "bash": ("shells", 7163, "Matthias Klose <doko@debian.org>", "5.2.15-2+b2",
             "GNU Bourne Again SHell", "required"),
    "coreutils": ("utils", 18062, "Michael Stone <mstone@debian.org>", "9.1-1",
                  "GNU core utilities", "required"),
    "libc6": ("libs", 12987, "GNU Libc Maintainers <debian-glibc@lists.debian.org>", "2.36-9+deb12u4",
              "GNU C Library: Shared libraries", "optional"),
    "docker.io": ("admin", 98211, "Debian Go Packaging Team <team+pkg-go@tracker.debian.org>",
                  "20.10.24+dfsg1-1+b3", "Linux container runtime", "optional"),
    "qemu-system-x86": ("misc", 46458, DEB_MAINT, "1:7.2+dfsg-7+deb12u18",
                        "QEMU full system emulation binaries (x86)", "optional"),
    "libvirt-daemon-system": ("admin", 506, "Debian Libvirt Maintainers <pkg-libvirt-maintainers@lists.alioth.debian.org>",
                              "9.0.0-4+deb12u2", "Libvirt daemon configuration files", "optional"),
    "virt-manager": ("admin", 10241, "Debian Libvirt Maintainers <pkg-libvirt-maintainers@lists.alioth.debian.org>",
                     "1:4.1.0-2", "desktop application for managing virtual machines", "optional"),
    "ovmf": ("misc", 71164, DEB_MAINT, "2022.11-6+deb12u2", "UEFI firmware for 64-bit x86 virtual machines",
             "optional"),
}
UBUNTU_VERSIONS = {"qemu-system-x86": "1:8.2.2+ds-0ubuntu1", "libvirt-daemon-system": "10.0.0-2ubuntu8",
                   "virt-manager": "1:4.1.0-3ubuntu0.1", "ovmf": "2024.02-2", "bash": "5.2.21-2ubuntu4",
                   "coreutils": "9.4-3ubuntu6", "libc6": "2.39-0ubuntu8", "docker.io": "24.0.7-0ubuntu4"}
PACMAN = {"qemu-full": ("9.0.0-1", "A full QEMU setup"),
          "libvirt": ("1:10.3.0-1", "API for controlling virtualization engines (openvz,kvm,qemu,virtualbox,xen,etc)"),
          "virt-manager": ("4.1.0-3", "Desktop user interface for managing virtual machines"),
          "edk2-ovmf": ("202402-1", "Firmware for Virtual Machines (x86_64, i686)")}
VIRT = ["qemu-system-x86", "libvirt-daemon-system", "virt-manager", "ovmf"]
BINARIES = {"qemu-system-x86": "usr/bin/qemu-system-x86_64", "libvirt-daemon-system": "usr/sbin/libvirtd",
            "virt-manager": "usr/bin/virt-manager", "qemu-full": "usr/bin/qemu-system-x86_64",
            "libvirt": "usr/sbin/libvirtd"}

MODDEP = [  # (path, deps) relative to lib/modules/<kver>, without the .ko suffix
    ("kernel/arch/x86/kvm/kvm", []),
    ("kernel/arch/x86/kvm/kvm-intel", ["kernel/arch/x86/kvm/kvm"]),
    ("kernel/arch/x86/kvm/kvm-amd", ["kernel/arch/x86/kvm/kvm", "kernel/drivers/crypto/ccp/ccp"]),
    ("kernel/drivers/crypto/ccp/ccp", []),
    ("kernel/drivers/iommu/iommufd/iommufd", []),
    ("kernel/drivers/vfio/vfio", ["kernel/drivers/iommu/iommufd/iommufd"]),
    ("kernel/drivers/vfio/vfio_iommu_type1", ["kernel/drivers/vfio/vfio", "kernel/drivers/iommu/iommufd/iommufd"]),
    ("kernel/drivers/vfio/pci/vfio-pci-core", ["kernel/drivers/vfio/vfio", "kernel/drivers/iommu/iommufd/iommufd"]),
    ("kernel/drivers/vfio/pci/vfio-pci", ["kernel/drivers/vfio/pci/vfio-pci-core", "kernel/drivers/vfio/vfio",
                                          "kernel/drivers/iommu/iommufd/iommufd"]),
    ("kernel/drivers/gpu/drm/drm", []),
    ("kernel/drivers/gpu/drm/amd/amdgpu/amdgpu", ["kernel/drivers/gpu/drm/drm"]),
    ("kernel/drivers/gpu/drm/nouveau/nouveau", ["kernel/drivers/gpu/drm/drm"]),
    ("kernel/drivers/gpu/drm/i915/i915", ["kernel/drivers/gpu/drm/drm"]),
    ("kernel/sound/core/snd", []),
    ("kernel/sound/pci/hda/snd-hda-codec", ["kernel/sound/core/snd"]),
    ("kernel/sound/pci/hda/snd-hda-intel", ["kernel/sound/pci/hda/snd-hda-codec", "kernel/sound/core/snd"]),
    ("kernel/drivers/usb/host/xhci-hcd", []),
    ("kernel/drivers/usb/host/xhci-pci", ["kernel/drivers/usb/host/xhci-hcd"]),
    ("kernel/drivers/net/ethernet/intel/e1000e/e1000e", []),
    ("kernel/drivers/net/ethernet/intel/igb/igb", []),
    ("kernel/drivers/net/ethernet/intel/i40e/i40e", []),
    ("kernel/drivers/net/ethernet/realtek/r8169", []),
    ("kernel/drivers/nvme/host/nvme", []),
]
BUILTIN = ["kernel/drivers/pci/pcieport.ko", "kernel/drivers/iommu/intel/iommu.ko",
           "kernel/drivers/iommu/amd/iommu.ko", "kernel/drivers/usb/core/usbcore.ko",
           "kernel/drivers/ata/ahci.ko"]
# PCI driver -> module name as it appears in /sys/module
DRV_MOD = {"nouveau": "nouveau", "snd_hda_intel": "snd_hda_intel", "xhci_hcd": "xhci_pci", "e1000e": "e1000e",
           "i801_smbus": "i2c_i801", "nvme": "nvme", "amdgpu": "amdgpu", "igb": "igb", "i915": "i915",
           "i2c-designware-pci": "i2c_designware_pci", "r8169": "r8169", "ast": "ast", "i40e": "i40e",
           "ioatdma": "ioatdma", "mei_me": "mei_me", "vfio-pci": "vfio_pci", "ehci-pci": "ehci_pci",
           "uhci_hcd": "uhci_hcd", "igc": "igc", "nvidia": "nvidia", "piix4_smbus": "i2c_piix4", "radeon": "radeon", "lpc_ich": "lpc_ich", "intel-spi": "spi_intel_pci"}


# ---------------------------------------------------------------- PCI model
class Dev:
    def __init__(self, line):
        f = line.split()
        f += ["-"] * (9 - len(f))
        self.bdf = "0000:" + f[0]
        self.parent = None if f[1] == "-" else "0000:" + f[1]
        self.vid, self.did = f[2].split(":")
        self.boot = f[3].endswith("*")
        self.cls = f[3].rstrip("*")
        self.drv = None if f[4] == "-" else f[4]
        self.grp = None if f[5] == "-" else f[5]
        self.reset = None if f[6] == "-" else f[6].replace(",", " ")
        self.sv, self.sd = (self.vid, "0000") if f[7] == "-" else f[7].split(":")
        self.rev = "00" if f[8] == "-" else f[8]
        self.key = tuple(int(x, 16) for x in re.split(r"[:.]", f[0]))


def parse_devs(text):
    devs = [Dev(l) for l in text.strip().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    return sorted(devs, key=lambda d: d.key)


def dev_paths(devs):
    """BDF -> path relative to root (sys/devices/pci0000:BB/.../BDF)."""
    by = {d.bdf: d for d in devs}
    paths = {}

    def p(d):
        if d.bdf not in paths:
            if d.parent:
                paths[d.bdf] = p(by[d.parent]) + "/" + d.bdf
            else:
                paths[d.bdf] = "sys/devices/pci0000:%s/%s" % (d.bdf[5:7], d.bdf)
        return paths[d.bdf]
    for d in devs:
        p(d)
    return paths


def group_numbers(devs):
    nums = {}
    for d in devs:
        if d.grp is not None and d.grp not in nums:
            nums[d.grp] = len(nums)
    return nums


def pci_ids_subset(src, devs):
    lines = open(src, encoding="utf-8", errors="replace").read().split("\n")
    want_dev = {(d.vid, d.did) for d in devs}
    want_ven = {d.vid for d in devs} | {d.sv for d in devs} - {"0000"}
    i = next(k for k, l in enumerate(lines) if re.match(r"[0-9a-f]{4}  ", l))
    out = lines[:i]
    ven, dev, found = None, None, set()
    cstart = next(k for k, l in enumerate(lines) if l.startswith("C "))
    for l in lines[i:cstart]:
        if re.match(r"[0-9a-f]{4}  ", l):
            ven, dev = l[:4], None
            if ven in want_ven:
                out.append(l)
                found.add(ven)
        elif re.match(r"\t[0-9a-f]{4}  ", l):
            dev = l[1:5]
            if (ven, dev) in want_dev:
                out.append(l)
                found.add((ven, dev))
        elif l.startswith("\t\t") and (ven, dev) in want_dev:
            out.append(l)
    missing = sorted((":".join(x) if isinstance(x, tuple) else x) for x in want_dev | want_ven if x not in found)
    out.append("")
    out.extend(lines[cstart:])
    return "\n".join(out), missing


# ---------------------------------------------------------------- tree writer
class Tree:
    def __init__(self, root):
        self.root = root

    def _p(self, rel):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def w(self, rel, data="", mode=0o644):
        p = self._p(rel)
        with open(p, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.chmod(p, mode)

    def keep(self, reldir):
        self.w(reldir + "/.keep")

    def ln(self, rel, target):
        p = self._p(rel)
        if os.path.lexists(p):
            os.unlink(p)
        os.symlink(target, p)


def up(rel_dir_depth):
    return "../" * rel_dir_depth


def gpu_resource(rebar):
    """sysfs `resource`: one "start end flags" line per BAR 0-5, the ROM, then unused slots.
    A GPU with Resizable BAR (and Above 4G Decoding) on maps its whole VRAM above 4 GiB."""
    bars = [(0xf6000000, 16 << 20, 0x40200),                     # BAR0: registers
            (0x7800000000, 16 << 30, 0x14220c) if rebar           # BAR2: VRAM, all 16 GiB
            else (0xe0000000, 256 << 20, 0x14220c),               # BAR2: the classic 256 MiB window
            None,
            (0xf0000000, 2 << 20, 0x14220c),
            (0xe000, 0x100, 0x40101),                             # I/O ports
            (0xf7000000, 512 << 10, 0x40200)]
    lines = []
    for b in bars + [(0xf7080000, 128 << 10, 0x46200)] + [None] * 6:
        if b is None:
            lines.append("0x%016x 0x%016x 0x%016x" % (0, 0, 0))
        else:
            start, size, flags = b
            lines.append("0x%016x 0x%016x 0x%016x" % (start, start + size - 1, flags))
    return "\n".join(lines) + "\n"


def write_pci(t, h, devs, pci_ids):
    paths = dev_paths(devs)
    nums = group_numbers(devs) if h["iommu"] else {}
    drivers = set()
    for d in devs:
        base = paths[d.bdf]
        depth = base.count("/")              # sys/devices/pci0000:00/BDF -> 3 ups to sys
        for k, v in (("vendor", d.vid), ("device", d.did), ("class", d.cls), ("subsystem_vendor", d.sv),
                     ("subsystem_device", d.sd), ("revision", d.rev)):
            t.w(base + "/" + k, "0x%s\n" % v)
        rootbus = int(base.split("/")[2][-2:], 16)
        t.w(base + "/numa_node", "%d\n" % (-1 if h["sockets"] == 1 else rootbus // 0x80))
        if d.cls.startswith("03"):
            t.w(base + "/boot_vga", "1\n" if d.boot else "0\n")
            t.w(base + "/resource", gpu_resource(d.bdf in h.get("rebar", ())))
        if d.reset:
            t.w(base + "/reset_method", d.reset + "\n")
        if h["iommu"] and d.grp is not None:
            t.ln(base + "/iommu_group", up(depth) + "kernel/iommu_groups/%d" % nums[d.grp])
            t.ln("sys/kernel/iommu_groups/%d/devices/%s" % (nums[d.grp], d.bdf), "../../../../" + base[4:])
        if d.drv:
            drivers.add(d.drv)
            t.ln(base + "/driver", up(depth) + "bus/pci/drivers/" + d.drv)
        t.ln("sys/bus/pci/devices/" + d.bdf, "../../../" + base[4:])
    for drv in drivers:
        t.keep("sys/bus/pci/drivers/" + drv)
    if not devs:
        t.keep("sys/bus/pci/devices")
    if not h["iommu"]:
        t.keep("sys/kernel/iommu_groups")
    text, missing = pci_ids_subset(pci_ids, devs)
    if missing:
        print("%s: not in pci.ids: %s" % (h["name"], missing), file=sys.stderr)
    t.w("usr/share/misc/pci.ids", text)
    return drivers, len(nums)


# ---------------------------------------------------------------- boot loaders
def cmdline(h):
    k = OS[h["os"]]["kernel"] if "kernel" not in h else h["kernel"]
    base = {"grub": "BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=%s ro" % (k, ROOT_UUID),
            "grubby": "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-%s root=UUID=%s ro rootflags=subvol=root" % (k, ROOT_UUID),
            "sdboot": "initrd=\\initramfs-linux.img root=UUID=%s rw" % ROOT_UUID,
            "kernelstub": "initrd=\\EFI\\Pop_OS-%s\\initrd.img root=UUID=%s ro" % (ROOT_UUID, ROOT_UUID),
            "none": "console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda rw"}[h["boot"]]
    return (base + " " + h["args"]).strip()


def write_boot(t, h):
    k = h.get("kernel", OS[h["os"]]["kernel"])
    args = h["args"]
    if h["boot"] == "grub":
        dist = "Ubuntu" if h["os"] == "ubuntu2404" else "Debian"
        t.w("etc/default/grub", """\
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo %s`
GRUB_CMDLINE_LINUX_DEFAULT="%s"
GRUB_CMDLINE_LINUX=""

# Uncomment to disable graphical terminal (grub-pc only)
#GRUB_TERMINAL=console
""" % (dist, args))
        t.w("boot/grub/grub.cfg", """\
#
# DO NOT EDIT THIS FILE
#
# It is automatically generated by grub-mkconfig using templates
# from /etc/grub.d and settings from /etc/default/grub
#
set default="0"
set timeout=5
menuentry '%s GNU/Linux' --class %s --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-simple-%s' {
\tinsmod gzio
\tinsmod part_gpt
\tinsmod ext2
\techo\t'Loading Linux %s ...'
\tlinux\t/boot/vmlinuz-%s root=UUID=%s ro %s
\tinitrd\t/boot/initrd.img-%s
}
""" % (dist, dist.lower(), ROOT_UUID, k, k, ROOT_UUID, args, k))
    elif h["boot"] == "sdboot":
        t.w("boot/loader/loader.conf", "default arch.conf\ntimeout 3\nconsole-mode max\neditor no\n")
        t.w("boot/loader/entries/arch.conf", "title Arch Linux\nlinux /vmlinuz-linux\n"
            "initrd /amd-ucode.img\ninitrd /initramfs-linux.img\noptions root=UUID=%s rw %s\n" % (ROOT_UUID, args))
        t.w("etc/kernel/cmdline", "root=UUID=%s rw %s\n" % (ROOT_UUID, args))
    elif h["boot"] == "grubby":
        t.w("usr/sbin/grubby", "", 0o755)
        t.w("etc/default/grub", """\
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR="$(sed 's, release .*$,,g' /etc/system-release)"
GRUB_DEFAULT=saved
GRUB_DISABLE_SUBMENU=true
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="rootflags=subvol=root %s"
GRUB_DISABLE_RECOVERY="true"
GRUB_ENABLE_BLSCFG=true
""" % args)
        t.w("boot/loader/entries/6a2b9c4d5e6f47a8b9c0d1e2f3a4b5c6-%s.conf" % k, """\
title Fedora Linux (%s) 40 (Workstation Edition)
version %s
linux /vmlinuz-%s
initrd /initramfs-%s.img
options root=UUID=%s ro rootflags=subvol=root %s
grub_users $grub_users
grub_arg --unrestricted
grub_class fedora
""" % (k, k, k, k, ROOT_UUID, args))
    elif h["boot"] == "kernelstub":
        opts = args.split()
        conf = {"default": {"kernel_options": ["quiet", "splash"], "esp_path": "/boot/efi", "setup_loader": False,
                            "manage_mode": False, "force_update": False, "live_mode": False, "config_rev": 3},
                "user": {"kernel_options": opts, "esp_path": "/boot/efi", "setup_loader": True,
                         "manage_mode": True, "force_update": False, "live_mode": False, "config_rev": 3}}
        t.w("etc/kernelstub/configuration", json.dumps(conf, indent=2) + "\n")
        t.w("boot/efi/loader/loader.conf", "default Pop_OS-current\n")
        t.w("boot/efi/loader/entries/Pop_OS-current.conf",
            "title Pop!_OS\nlinux /EFI/Pop_OS-%s/vmlinuz.efi\ninitrd /EFI/Pop_OS-%s/initrd.img\n"
            "options root=UUID=%s ro %s\n" % (ROOT_UUID, ROOT_UUID, ROOT_UUID, args))


# ---------------------------------------------------------------- firmware & packages
def fw_desc(desc, code, vars_, features, machines):
    return json.dumps({"description": desc, "interface-types": ["uefi"],
                       "mapping": {"device": "flash", "executable": {"filename": code, "format": "raw"},
                                   "nvram-template": {"filename": vars_, "format": "raw"}},
                       "targets": [{"architecture": "x86_64", "machines": machines}],
                       "features": features, "tags": []}, indent=4) + "\n"


def write_ovmf(t, os_):
    both = ["pc-i440fx-*", "pc-q35-*"]
    if os_ == "arch":
        d = "/usr/share/edk2/x64/"
        descs = [("60-edk2-ovmf-x86_64.json", "UEFI firmware for x86_64", "OVMF_CODE.4m.fd", "OVMF_VARS.4m.fd",
                  ["acpi-s3", "amd-sev", "verbose-dynamic"], both)]
    elif os_ == "fedora40":
        d = "/usr/share/edk2/ovmf/"
        descs = [("60-edk2-ovmf.json", "OVMF without SB+SMM, empty varstore", "OVMF_CODE.fd", "OVMF_VARS.fd",
                  ["acpi-s3", "amd-sev", "verbose-dynamic"], both)]
    else:
        d = "/usr/share/OVMF/"
        descs = [("40-edk2-x86_64-secure-enrolled.json",
                  "UEFI firmware for x86_64, with Secure Boot and SMM, SB enabled, MS certs enrolled",
                  "OVMF_CODE_4M.ms.fd", "OVMF_VARS_4M.ms.fd",
                  ["acpi-s3", "amd-sev", "enrolled-keys", "requires-smm", "secure-boot", "verbose-dynamic"],
                  ["pc-q35-*"]),
                 ("50-edk2-x86_64-secure.json", "UEFI firmware for x86_64, with Secure Boot and SMM",
                  "OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.fd",
                  ["acpi-s3", "amd-sev", "requires-smm", "secure-boot", "verbose-dynamic"], ["pc-q35-*"]),
                 ("60-edk2-x86_64.json", "UEFI firmware for x86_64", "OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd",
                  ["acpi-s3", "amd-sev", "verbose-dynamic"], both)]
    for fn, desc, code, vars_, feat, mach in descs:
        t.w("usr/share/qemu/firmware/" + fn, fw_desc(desc, d + code, d + vars_, feat, mach))
        for f in (code, vars_):
            t.w(d[1:] + f, bytes(range(16)))


def write_packages(t, h):
    pk = h["pkgs"]
    if h["os"] == "arch":
        for name in pk:
            ver, desc = PACMAN[name]
            t.w("var/lib/pacman/local/%s-%s/desc" % (name, ver),
                "%%NAME%%\n%s\n\n%%VERSION%%\n%s\n\n%%DESC%%\n%s\n\n%%ARCH%%\nx86_64\n\n"
                "%%INSTALLDATE%%\n1717000000\n\n%%VALIDATION%%\npgp\n\n" % (name, ver, desc))
            if name in BINARIES:
                t.w(BINARIES[name], "", 0o755)
        if "virt-manager" in pk:
            t.w("usr/bin/virt-manager", "", 0o755)
        if "edk2-ovmf" in pk:
            write_ovmf(t, "arch")
        return
    if h["os"] == "fedora40":
        for name in pk:
            if name in BINARIES:
                t.w(BINARIES[name], "", 0o755)
        if "ovmf" in pk:
            write_ovmf(t, "fedora40")
        return
    stanzas = []
    for name in ["bash", "coreutils", "libc6"] + [p for p in VIRT if p in pk] + \
            [p for p in pk if p not in VIRT]:
        sec, size, maint, ver, desc, prio = DPKG[name]
        if h["os"] == "ubuntu2404":
            ver, maint = UBUNTU_VERSIONS[name], "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>"
        stanzas.append("Package: %s\nStatus: install ok installed\nPriority: %s\nSection: %s\n"
                       "Installed-Size: %d\nMaintainer: %s\nArchitecture: %s\nVersion: %s\nDescription: %s\n"
                       % (name, prio, sec, size, maint, "all" if name == "ovmf" else "amd64", ver, desc))
        if name in BINARIES:
            t.w(BINARIES[name], "", 0o755)
    t.w("var/lib/dpkg/status", "\n".join(stanzas))
    if "ovmf" in pk:
        write_ovmf(t, "debian")


# ---------------------------------------------------------------- whole host
GROUPS = [("root", 0), ("daemon", 1), ("adm", 4), ("sudo", 27), ("audio", 29), ("video", 44),
          ("input", 104), ("kvm", 105), ("libvirt", 118), ("alice", 1000)]


def write_host(out, h, pci_ids):
    root = os.path.join(out, h["name"])
    shutil.rmtree(root, ignore_errors=True)
    t = Tree(root)
    o = OS[h["os"]]
    kver = h.get("kernel", o["kernel"])
    devs = parse_devs(h["pci"])
    # proc
    topo = topology(h["topo"], h["sockets"], h["cores"], h["threads"])
    t.w("proc/cpuinfo", cpuinfo(h["cpu"], topo, h["sockets"]))
    for n, pkg, core, sib in topo:
        b = "sys/devices/system/cpu/cpu%d/topology/" % n
        t.w(b + "thread_siblings_list", sib + "\n")
        t.w(b + "core_id", "%d\n" % core)
        t.w(b + "physical_package_id", "%d\n" % pkg)
    t.w("proc/cmdline", cmdline(h) + "\n")
    t.w("proc/meminfo", meminfo(h["mem"]))
    t.w("proc/sys/kernel/osrelease", kver + "\n")
    for rel, content in sorted(h.get("files", {}).items()):
        t.w(rel, content)
    # etc
    t.w("etc/os-release", o["release"])
    t.w("etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n")
    t.w("etc/group", "".join("%s:x:%d:%s\n" % (g, gid, "alice" if g in h["alice"] else "")
                             for g, gid in GROUPS))
    # firmware
    if h["uefi"]:
        t.w("sys/firmware/efi/fw_platform_size", "64\n")
    if h.get("acpi"):
        sig = h["acpi"].encode()
        t.w("sys/firmware/acpi/tables/" + h["acpi"], sig + bytes([48, 0, 0, 0, 1, 0]) + b"ALASKA A M I " +
            bytes(range(24)))
    for name in h["iommu"] or []:
        t.keep("sys/class/iommu/" + name)
    if h.get("dmi"):
        for k, v in zip(("chassis_type", "board_vendor", "board_name", "sys_vendor", "product_name"), h["dmi"]):
            t.w("sys/class/dmi/id/" + k, "%s\n" % v)
    # pci
    drivers, ngroups = write_pci(t, h, devs, pci_ids)
    # modules
    ko = o["ko"] if "kernel" not in h else ".ko"
    deps = list(MODDEP) + [(m, d) for m, d in h.get("moddep", [])]
    t.w("lib/modules/%s/modules.dep" % kver,
        "".join("%s%s:%s\n" % (m, ko, "".join(" " + x + ko for x in d)) for m, d in deps))
    t.w("lib/modules/%s/modules.builtin" % kver, "\n".join(BUILTIN) + "\n")
    mods = set(h["mods"]) | {DRV_MOD[d] for d in drivers if d in DRV_MOD}
    for m in sorted(mods):
        t.keep("sys/module/" + m)
    kvm = h["kvm"]
    if kvm:
        t.w("dev/kvm", "")
        t.w("sys/module/kvm/parameters/ignore_msrs", h["ignore_msrs"] + "\n")
        if kvm == "intel":
            t.w("sys/module/kvm_intel/parameters/nested", h["nested"] + "\n")
        elif kvm == "amd":
            t.w("sys/module/kvm_amd/parameters/nested", h["nested"] + "\n")
    write_boot(t, h)
    write_packages(t, h)
    t.w("FIXTURE.md", "# %s\n\n%s\n" % (h["name"], " ".join(h["doc"].split())))
    return dict(devices=len(devs), groups=ngroups, cpus=len(topo))


# ---------------------------------------------------------------- fixtures
# PCI table columns: BDF PARENT VID:DID CLASS(* = boot_vga) DRIVER GROUP RESET(a,b) SUBSYS REV
CFL_PCI = """
00:00.0 -       8086:3e30 060000  -             hb   -       1043:8694 0d
00:01.0 -       8086:1901 060400  pcieport      rp1  pm      1043:8694 0d
01:00.0 00:01.0 10de:1b81 030000* nouveau       gpu  flr,bus 1462:3306 a1
01:00.1 00:01.0 10de:10f0 040300  snd_hda_intel gpu  flr,bus 1462:3306 a1
00:14.0 -       8086:a36d 0c0330  xhci_hcd      usb  pm      1043:8694 10
00:17.0 -       8086:a352 010601  ahci          sata -       1043:8694 10
00:1b.0 -       8086:a340 060400  pcieport      rp17 pm      1043:8694 f0
02:00.0 00:1b.0 144d:a808 010802  nvme          nvme flr     144d:a801 00
00:1f.0 -       8086:a305 060100  -             lpc  -       1043:8694 10
00:1f.3 -       8086:a348 040300  snd_hda_intel lpc  flr     1043:8724 10
00:1f.4 -       8086:a323 0c0500  i801_smbus    lpc  -       1043:8694 10
00:1f.5 -       8086:a324 0c8000  -             lpc  -       1043:8694 10
00:1f.6 -       8086:15bc 020000  e1000e        eth  flr     1043:8672 10
"""

def server_pci():
    """Dual Xeon Gold 6248 (Cascade Lake-SP) with C620 PCH: exactly 200 functions in 60 groups."""
    L = []

    def add(bdf, parent, ids, cls, drv, grp, reset="-", sub="15d9:095d", rev="07"):
        L.append(" ".join((bdf, parent or "-", ids, cls, drv or "-", grp, reset, sub, rev)))

    def slot(bus, dev, fids, cls, drv, grp, funcs=None, parent=None):
        for k, did in enumerate(fids):
            add("%s:%s.%d" % (bus, dev, (funcs or range(8))[k]), parent, "8086:" + did, cls, drv, grp)
    # PCH on socket 0
    add("00:00.0", None, "8086:2020", "060000", None, "s0-dmi")
    slot("00", "04", ["2021"] * 8, "088000", "ioatdma", "s0-cbdma")
    slot("00", "05", ["2024", "2025", "2026"], "088000", None, "s0-vtd", [0, 2, 4])
    slot("00", "08", ["2014", "2015", "2016"], "088000", None, "s0-ubox")
    slot("00", "11", ["a1ec", "a1d2"], "ff0000", None, "pch-ssata", [0, 5])
    L[-1] = L[-1].replace("ff0000 -", "010601 ahci")
    slot("00", "14", ["a1af", "a1b1"], "0c0330", None, "pch-usb", [0, 2])
    L[-2] = L[-2].replace("0c0330 -", "0c0330 xhci_hcd")
    L[-1] = L[-1].replace("0c0330 -", "118000 -")
    slot("00", "16", ["a1ba", "a1bb", "a1be"], "078000", "mei_me", "pch-mei", [0, 1, 4])
    add("00:17.0", None, "8086:a182", "010601", "ahci", "pch-sata", rev="09")
    add("00:1c.0", None, "8086:a190", "060400", "pcieport", "pch-rp1", "pm", rev="f9")
    add("01:00.0", "00:1c.0", "8086:1521", "020000", "igb", "i350-0", "flr", "15d9:1521", "01")
    add("01:00.1", "00:1c.0", "8086:1521", "020000", "igb", "i350-1", "flr", "15d9:1521", "01")
    add("00:1c.5", None, "8086:a195", "060400", "pcieport", "pch-rp6", "pm", rev="f9")
    add("02:00.0", "00:1c.5", "1a03:1150", "060400", None, "bmc", "-", "1a03:1150", "04")
    add("03:00.0", "02:00.0", "1a03:2000", "030000*", "ast", "bmc", "-", "15d9:095d", "41")
    slot("00", "1f", ["a1c2", "a1a1", "a1a3", "a1a4"], "060100", None, "pch-lpc", [0, 2, 4, 5])
    L[-2] = L[-2].replace("060100 -", "0c0500 i801_smbus")
    for sock, (chip, unc, stacks) in enumerate((("00", "16", ("17", "3a", "5d")),
                                                 ("80", "84", ("85", "ae", "d7")))):
        if sock == 1:
            add("80:00.0", None, "8086:2020", "060000", None, "s1-dmi")
            slot("80", "04", ["2021"] * 8, "088000", "ioatdma", "s1-cbdma")
            slot("80", "05", ["2024", "2025", "2026"], "088000", None, "s1-vtd", [0, 2, 4])
            slot("80", "08", ["2014", "2015", "2016"], "088000", None, "s1-ubox")
        for st in stacks:
            slot(st, "05", ["2034", "2035", "2036"], "088000", None, "vtd-" + st, [0, 2, 4])
        # uncore (CHA, PCU, ...) on their own bus: one group per slot
        pcu = ["2080", "2081", "2082", "2083", "2084", "2085", "2086"][:7 if sock == 0 else 5]
        for dev, fids in (("08", ["208d"] * 8), ("09", ["208d"] * 8), ("0a", ["208d"] * 8),
                          ("0e", ["208e"] * 8), ("0f", ["208e"] * 8), ("1d", ["2054", "2055", "2056", "2057"]),
                          ("1e", pcu)):
            slot(unc, dev, fids, "088000", None, "unc%d-%s" % (sock, dev))
    # IIO stacks: root port -> endpoint
    nvme = 0
    for rp, bus, kind in (("17:00.0", "18", "x710"), ("17:02.0", "19", "nvme"), ("3a:00.0", "3b", "x710"),
                          ("5d:00.0", "5e", "nvme"), ("5d:02.0", "5f", "nvme"), ("85:00.0", "86", "gpu"),
                          ("ae:00.0", "af", "x710"), ("ae:02.0", "b0", "nvme"), ("d7:00.0", "d8", "nvme"),
                          ("d7:02.0", "d9", "nvme"), ("d7:03.0", "da", "nvme")):
        add(rp, None, "8086:" + ("2030" if rp.endswith("00.0") else "2032"), "060400", "pcieport",
            "rp-" + rp, "pm")
        if kind == "x710":
            for f in range(4):
                add("%s:00.%d" % (bus, f), rp, "8086:1572", "020000", "i40e", "x710-" + bus, "flr",
                    "8086:0000", "02")
        elif kind == "nvme":
            nvme += 1
            add(bus + ":00.0", rp, "8086:0a54", "010802", "nvme", "nvme-" + bus, "flr", "8086:4802", "00")
        else:  # Radeon Pro W5700 behind its Navi 10 switch, one group
            add("86:00.0", rp, "1002:1478", "060400", "pcieport", "w5700", "-", "0000:0000", "00")
            add("87:00.0", "86:00.0", "1002:1479", "060400", "pcieport", "w5700", "-", "1002:1479", "00")
            add("88:00.0", "87:00.0", "1002:7310", "030000", "amdgpu", "w5700", "bus", "1002:0b0c", "00")
            add("88:00.1", "87:00.0", "1002:ab38", "040300", "snd_hda_intel", "w5700", "bus", "1002:ab38", "00")
    return "\n".join(L) + "\n"


DEB_VIRT = ["qemu-system-x86", "libvirt-daemon-system", "virt-manager", "ovmf"]

HOSTS = [
    dict(name="intel-nvidia-single", os="debian12", boot="grub", uefi=True, cpu="i7-9700K", topo="intel",
         sockets=1, cores=8, threads=1, mem=32, args="quiet intel_iommu=on iommu=pt", acpi="DMAR",
         iommu=["dmar0"], kvm="intel", ignore_msrs="N", nested="Y", mods=["kvm", "kvm_intel"],
         alice={"alice", "kvm", "libvirt"}, pkgs=DEB_VIRT, pci=CFL_PCI,
         dmi=(3, "ASUSTeK COMPUTER INC.", "PRIME Z390-A", "ASUSTeK COMPUTER INC.", "System Product Name"),
         doc="""Desktop with an Intel Core i7-9700K (VT-x, AVX2), 32 GiB, Debian 12 booted by GRUB in UEFI mode,
         IOMMU on (intel_iommu=on iommu=pt) and a single NVIDIA GTX 1070 (bound to nouveau, boot VGA) alone
         in its IOMMU group with its HDMI audio function. KVM is loaded, vfio is available but not loaded,
         alice is in kvm and libvirt. Expected verdict: capable of passthrough with caveats - the only GPU
         is the boot GPU (the host loses its display) and the vfio modules/binding still need setting up."""),

    dict(name="amd-navi21", os="arch", boot="sdboot", uefi=True, cpu="5950X", topo="amd", sockets=1, cores=16,
         threads=2, mem=64, args="iommu=pt", acpi="IVRS", iommu=["ivhd0"], kvm="amd", ignore_msrs="Y",
         rebar={"0000:0b:00.0"},
         nested="1", mods=["kvm", "kvm_amd", "vfio", "vfio_pci", "vfio_iommu_type1", "vfio_pci_core"],
         alice={"alice", "kvm", "libvirt", "input"}, pkgs=list(PACMAN),
         dmi=(3, "Micro-Star International Co., Ltd.", "MAG X570 TOMAHAWK WIFI (MS-7C84)",
              "Micro-Star International Co., Ltd.", "MS-7C84"),
         pci="""
00:00.0 -       1022:1480 060000  -                  hb    -   1462:7c84 00
00:00.2 -       1022:1481 080600  -                  -     -   1022:1481 00
00:01.0 -       1022:1482 060000  -                  p1    -   0000:0000 00
00:01.1 -       1022:1483 060400  pcieport           rp1   pm  1462:7c84 00
01:00.0 00:01.1 144d:a80a 010802  nvme               nvme  flr 144d:a801 00
00:01.2 -       1022:1483 060400  pcieport           rp2   pm  1462:7c84 00
05:00.0 00:01.2 8086:1539 020000  igb                nic   flr 1462:7c84 03
00:03.0 -       1022:1482 060000  -                  p3    -   0000:0000 00
00:03.1 -       1022:1483 060400  pcieport           rp3   pm  1462:7c84 00
09:00.0 00:03.1 1002:1478 060400  pcieport           gpu   -   0000:0000 c1
0a:00.0 09:00.0 1002:1479 060400  pcieport           gpu   -   1002:1479 00
0b:00.0 0a:00.0 1002:73bf 030000* amdgpu             gpu   bus 1da2:438e c1
0b:00.1 0a:00.0 1002:ab28 040300  snd_hda_intel      gpu   bus 1002:ab28 00
0b:00.2 0a:00.0 1002:73a6 0c0330  xhci_hcd          gpu   bus 1002:0408 00
0b:00.3 0a:00.0 1002:73a4 0c8000  i2c-designware-pci gpu   bus 1002:0408 00
00:08.0 -       1022:1482 060000  -                  p8    -   0000:0000 00
00:08.1 -       1022:1484 060400  pcieport           rp8   -   1022:1484 00
0e:00.3 00:08.1 1022:149c 0c0330  xhci_hcd           usb   flr 1462:7c84 00
0e:00.4 00:08.1 1022:1487 040300  snd_hda_intel      hda   flr 1462:cc84 00
00:14.0 -       1022:790b 0c0500  piix4_smbus        fch   -   1462:7c84 61
00:14.3 -       1022:790e 060100  -                  fch   -   1462:7c84 51
""",
         doc="""Desktop with an AMD Ryzen 9 5950X (AMD-V, AVX2, 16c/32t), 64 GiB, Arch Linux with systemd-boot
         (UEFI), AMD IOMMU on (iommu=pt, IVRS present). The only GPU, a Radeon RX 6800 XT (Navi 21, amdgpu,
         boot VGA, bus reset only, Resizable BAR on: its 16 GiB VRAM BAR sits above 4 GiB), sits behind the
         Navi PCIe switch; its four functions and the two switch ports form one group that contains nothing
         else. vfio modules loaded, ignore_msrs=Y, alice in kvm,
         libvirt and input. Expected verdict: capable (single-GPU passthrough, host loses display while the VM
         runs; Navi 21 is supported by macOS)."""),
    dict(name="intel-igpu-amd-shared", os="fedora40", boot="grubby", uefi=True, cpu="i5-8400", topo="intel",
         sockets=1, cores=6, threads=1, mem=16, args="rhgb quiet intel_iommu=on", acpi="DMAR",
         iommu=["dmar0", "dmar1"], kvm="intel", ignore_msrs="N", nested="Y", mods=["kvm", "kvm_intel"],
         alice={"alice"}, pkgs=["qemu-system-x86", "libvirt-daemon-system", "virt-manager", "ovmf"],
         dmi=(3, "Gigabyte Technology Co., Ltd.", "Z390 UD", "Gigabyte Technology Co., Ltd.", "Z390 UD"),
         pci="""
00:00.0 -       8086:3ec2 060000  -             hb    -       1458:5000 07
00:01.0 -       8086:1901 060400  pcieport      share pm      1458:5000 07
01:00.0 00:01.0 1002:67df 030000  amdgpu        share bus     1da2:e366 e7
01:00.1 00:01.0 1002:aaf0 040300  snd_hda_intel share bus     1da2:aaf0 00
00:02.0 -       8086:3e92 030000* i915          igpu  flr     1458:d000 00
00:14.0 -       8086:a36d 0c0330  xhci_hcd      usb   pm      1458:5007 10
00:16.0 -       8086:a360 078000  mei_me        mei   -       1458:1c3a 10
00:17.0 -       8086:a352 010601  ahci          sata  -       1458:b005 10
00:1c.0 -       8086:a33c 060400  pcieport      share pm      1458:5001 f0
02:00.0 00:1c.0 10ec:8168 020000  r8169         share -       1458:e000 16
00:1f.0 -       8086:a305 060100  -             lpc   -       1458:5001 10
00:1f.3 -       8086:a348 040300  snd_hda_intel lpc   flr     1458:a0c8 10
00:1f.4 -       8086:a323 0c0500  i801_smbus    lpc   -       1458:5001 10
00:1f.5 -       8086:a324 0c8000  -             lpc   -       1458:5001 10
""",
         doc="""Desktop with an Intel Core i5-8400 (VT-x, AVX2, 6c/6t), 16 GiB, Fedora 40 with GRUB managed by
         grubby (BLS entries), UEFI. The host displays on the UHD 630 iGPU (i915, boot VGA, own group); a
         Radeon RX 580 (amdgpu, macOS-supported Polaris) is a second GPU, but its group also holds both CPU/PCH
         root ports and the Realtek NIC (no ACS). intel_iommu=on without iommu=pt; alice is in no groups; vfio
         not loaded; no dpkg/pacman database (binaries only). Expected verdict: not ready - the RX 580 cannot
         be isolated (shared IOMMU group with the NIC) and alice lacks kvm access."""),
    dict(name="iommu-off", os="ubuntu2404", boot="grub", uefi=True, cpu="i7-12700K", topo="hybrid12",
         sockets=1, cores=12, threads=1, mem=32, args="quiet splash", acpi=None, iommu=None, kvm="intel",
         ignore_msrs="N", nested="Y", mods=["kvm", "kvm_intel"], alice={"alice", "kvm"},
         pkgs=DEB_VIRT + ["docker.io"], moddep=[("updates/dkms/nvidia", [])],
         files={"usr/share/DarwinUDK/x64/DUDK_CODE.fd": "DUDK code image\n",
                "usr/share/DarwinUDK/x64/DUDK_VARS.fd": "DUDK vars image\n"},
         dmi=(3, "ASUSTeK COMPUTER INC.", "ROG STRIX Z690-A GAMING WIFI D4", "ASUSTeK COMPUTER INC.",
              "System Product Name"),
         pci="""
00:00.0 -       8086:4668 060000  -             - -       1043:8882 02
00:01.0 -       8086:460d 060400  pcieport      - pm      1043:8882 02
01:00.0 00:01.0 10de:1b06 030000* nvidia        - flr,bus 10de:120f a1
01:00.1 00:01.0 10de:10ef 040300  snd_hda_intel - flr,bus 10de:120f a1
00:02.0 -       8086:4680 030000  i915          - flr     1043:8882 0c
00:06.0 -       8086:464d 060400  pcieport      - pm      1043:8882 02
02:00.0 00:06.0 144d:a80a 010802  nvme          - flr     144d:a801 00
00:14.0 -       8086:7ae0 0c0330  xhci_hcd      - pm      1043:8882 11
00:17.0 -       8086:7ae2 010601  ahci          - -       1043:8882 11
00:1c.0 -       8086:7ab8 060400  pcieport      - pm      1043:8882 11
04:00.0 00:1c.0 8086:15f3 020000  igc           - flr     1043:87d2 03
00:1f.0 -       8086:7a84 060100  -             - -       1043:8882 11
00:1f.3 -       8086:7ad0 040300  snd_hda_intel - flr     1043:8882 11
00:1f.4 -       8086:7aa3 0c0500  i801_smbus    - -       1043:8882 11
00:1f.5 -       8086:7aa4 0c8000  intel-spi     - -       1043:8882 11
""",
         doc="""Desktop with an Intel Core i7-12700K (VT-x, AVX2, 8P+4E cores, 20 threads), 32 GiB, DUDK-Firmware and
         docker.io installed, Ubuntu
         24.04 with GRUB (UEFI), NVIDIA GTX 1080 Ti on the proprietary driver, but VT-d is off: no DMAR table,
         no sys/class/iommu, an empty sys/kernel/iommu_groups and no intel_iommu on the command line, so no
         device has an iommu_group link. Expected verdict: not capable until VT-d is enabled in firmware and
         intel_iommu=on is added (the GTX 1080 Ti is also not supported by current macOS)."""),
    dict(name="no-kvm", os="debian12", boot="grub", uefi=False, cpu="i5-4590", topo="intel", sockets=1,
         cores=4, threads=1, mem=8, args="quiet intel_iommu=on", acpi="DMAR", iommu=["dmar0"], kvm=None,
         mods=[], alice={"alice"}, pkgs=[],
         dmi=(3, "Hewlett-Packard", "1998", "Hewlett-Packard", "HP EliteDesk 800 G1 SFF"),
         pci="""
00:00.0 -       8086:0c00 060000  -             hb   -   103c:1998 06
00:01.0 -       8086:0c01 060400  pcieport      rp   pm  103c:1998 06
01:00.0 00:01.0 1002:67df 030000* amdgpu        gpu  bus 1da2:e387 ef
01:00.1 00:01.0 1002:aaf0 040300  snd_hda_intel gpu  bus 1da2:aaf0 00
00:14.0 -       8086:8cb1 0c0330  xhci_hcd      usb  pm  103c:1998 00
00:19.0 -       8086:15a1 020000  e1000e        eth  flr 103c:1998 00
00:1a.0 -       8086:8cad 0c0320  ehci-pci      ehci -   103c:1998 00
00:1b.0 -       8086:8ca0 040300  snd_hda_intel hda  flr 103c:1998 00
00:1f.0 -       8086:8cc6 060100  lpc_ich       lpc  -   103c:1998 00
00:1f.2 -       8086:8c82 010601  ahci          lpc  -   103c:1998 00
00:1f.3 -       8086:8ca2 0c0500  i801_smbus    lpc  -   103c:1998 00
""",
         doc="""Small-form-factor office PC with an Intel Core i5-4590 (Haswell, AVX2) whose VT-x is disabled in
         firmware (no vmx flag), 8 GiB, Debian 12 with GRUB booted in legacy BIOS mode (no sys/firmware/efi).
         VT-d works (DMAR, dmar0, IOMMU groups) and an RX 570 sits in its own group, but there is no /dev/kvm,
         no kvm module and no QEMU/libvirt packages. Expected verdict: not capable - no hardware
         virtualization (enable VT-x), plus legacy BIOS boot and missing packages."""),
    dict(name="no-avx2", os="debian12", boot="grub", uefi=True, cpu="X5680", topo="intel", sockets=1, cores=6,
         threads=2, mem=24, args="quiet intel_iommu=on iommu=pt", acpi="DMAR", iommu=["dmar0"], kvm="intel",
         ignore_msrs="N", nested="Y", mods=["kvm", "kvm_intel"], alice={"alice", "kvm", "libvirt"},
         pkgs=DEB_VIRT,
         dmi=(7, "Dell Inc.", "06FW8P", "Dell Inc.", "Precision WorkStation T7500"),
         pci="""
00:00.0 -       8086:3406 060000  -             hb   -       1028:0000 13
00:03.0 -       8086:340a 060400  pcieport      rp3  -       0000:0000 13
03:00.0 00:03.0 1002:6798 030000* radeon        gpu  bus     1002:3000 00
03:00.1 00:03.0 1002:aaa0 040300  snd_hda_intel gpu  bus     1002:aaa0 00
00:1a.0 -       8086:3a37 0c0300  uhci_hcd      usb  -       1028:02b4 00
00:1a.7 -       8086:3a3a 0c0320  ehci-pci      usb  -       1028:02b4 00
00:1b.0 -       8086:3a3e 040300  snd_hda_intel hda  -       1028:02b4 00
00:1f.0 -       8086:3a16 060100  lpc_ich       lpc  -       1028:02b4 00
00:1f.2 -       8086:3a22 010601  ahci          lpc  -       1028:02b4 00
00:1f.3 -       8086:3a30 0c0500  i801_smbus    lpc  -       1028:02b4 00
""",
         doc="""Dell Precision T7500 workstation with an Intel Xeon X5680 (Westmere, VT-x and SSE4.2 but no AVX or
         AVX2), 24 GiB, Debian 12 with GRUB (UEFI), IOMMU on, KVM loaded, and a Radeon HD 7970 (Tahiti, radeon
         driver) isolated in its own group. Expected verdict: not capable for current macOS - the CPU lacks
         AVX2, which macOS 13 and later require (older macOS may still work)."""),
    dict(name="server-200", os="debian12", boot="grub", uefi=True, cpu="Gold 6248", topo="xeon", sockets=2,
         cores=20, threads=2, mem=256, args="quiet intel_iommu=on iommu=pt", acpi="DMAR",
         iommu=["dmar%d" % i for i in range(8)], kvm="intel", ignore_msrs="N", nested="Y",
         mods=["kvm", "kvm_intel"], alice={"alice", "kvm", "libvirt"},
         pkgs=["qemu-system-x86", "libvirt-daemon-system", "ovmf"], pci=server_pci(),
         dmi=(23, "Supermicro", "X11DPU", "Supermicro", "SYS-2029U-TR4"),
         doc="""Dual-socket Supermicro rack server, 2 x Intel Xeon Gold 6248 (20c/40t each, 80 logical CPUs,
         AVX-512), 256 GiB, Debian 12 with GRUB (UEFI), VT-d on with iommu=pt. 200 PCI functions in 60 IOMMU
         groups across 9 PCI root buses: C620 PCH, CBDMA/uncore functions, three X710 quad-port NICs, seven
         Intel NVMe drives, the ASPEED BMC VGA (boot VGA, behind its AST1150 bridge) and a Radeon Pro W5700
         (Navi 10, behind its switch, alone in its group). QEMU and libvirt installed, no virt-manager.
         Expected verdict: capable - the W5700 is a secondary, isolated, macOS-supported GPU."""),
    dict(name="pop-dual-gpu", os="pop2204", boot="kernelstub", uefi=True, cpu="5950X", topo="amd", sockets=1,
         cores=16, threads=2, mem=64, args="quiet splash iommu=pt vfio-pci.ids=1002:73ff,1002:ab28",
         acpi="IVRS", iommu=["ivhd0"], kvm="amd", ignore_msrs="Y", nested="1",
         mods=["kvm", "kvm_amd", "vfio", "vfio_pci", "vfio_iommu_type1", "vfio_pci_core"],
         alice={"alice", "kvm", "libvirt", "input"}, pkgs=DEB_VIRT,
         dmi=(3, "ASUSTeK COMPUTER INC.", "ROG STRIX X570-E GAMING", "ASUSTeK COMPUTER INC.", "System Product Name"),
         pci="""
00:00.0 -       1022:1480 060000  -                  hb    -   1043:87c0 00
00:00.2 -       1022:1481 080600  -                  -     -   1022:1481 00
00:01.0 -       1022:1482 060000  -                  p1    -   0000:0000 00
00:01.1 -       1022:1483 060400  pcieport           rp1   pm  1043:87c0 00
01:00.0 00:01.1 10de:2503 030000* nvidia             host  flr 1043:87f3 a1
01:00.1 00:01.1 10de:228e 040300  snd_hda_intel      host  flr 1043:87f3 a1
00:03.0 -       1022:1482 060000  -                  p3    -   0000:0000 00
00:03.1 -       1022:1483 060400  pcieport           rp3   pm  1043:87c0 00
0b:00.0 00:03.1 1002:73ff 030000  vfio-pci           gpu   flr 1da2:e445 c1
0b:00.1 00:03.1 1002:ab28 040300  vfio-pci           gpu   flr 1002:ab28 00
00:08.0 -       1022:1482 060000  -                  p8    -   0000:0000 00
00:08.1 -       1022:1484 060400  pcieport           rp8   -   1022:1484 00
0e:00.3 00:08.1 1022:149c 0c0330  xhci_hcd           usb   flr 1043:87c0 00
0e:00.4 00:08.1 1022:1487 040300  snd_hda_intel      hda   flr 1043:87c4 00
00:14.0 -       1022:790b 0c0500  piix4_smbus        fch   -   1043:87c0 61
00:14.3 -       1022:790e 060100  -                  fch   -   1043:87c0 51
""",
         doc="""A ready dual-GPU desktop: AMD Ryzen 9 5950X, 64 GiB, Pop!_OS 22.04 with systemd-boot driven by
         kernelstub (UEFI). The host displays on an NVIDIA RTX 3060 (nvidia, boot VGA, unsupported by macOS);
         a Radeon RX 6600 XT (Navi 23) and its HDMI audio are bound to vfio-pci at boot through
         vfio-pci.ids, alone in their IOMMU group. iommu=pt, vfio loaded, ignore_msrs=Y, alice in kvm, libvirt
         and input, QEMU, libvirt, virt-manager and OVMF installed. Expected verdict: every check ok, newest
         macOS 26, dual-GPU passthrough of the RX 6600 XT possible."""),
    dict(name="pvm-nested", os="debian12", kernel="6.7.0-rc6-pvm", boot="none", uefi=False, cpu="EPYC-guest",
         topo="amd", sockets=1, cores=2, threads=1, mem=24, args="nested_pvm=1", acpi=None, iommu=None,
         kvm="pvm", ignore_msrs="N", mods=["kvm", "kvm_pvm"], alice={"alice", "kvm"},
         pkgs=["qemu-system-x86", "ovmf"], pci="", dmi=None,
         moddep=[("kernel/arch/x86/kvm/kvm-pvm", ["kernel/arch/x86/kvm/kvm"])],
         doc="""A Firecracker microVM on an AMD EPYC host: 2 vCPUs without vmx/svm (hypervisor flag set), 24
         GiB, Debian 12 running a PVM kernel (kvm + kvm_pvm loaded, nested_pvm=1) so /dev/kvm exists without
         hardware virtualization. Direct kernel boot (no UEFI, no boot loader files, no DMI), no PCI devices
         at all (pci=off), no IOMMU. Expected verdict: KVM usable through PVM for emulated macOS guests but
         GPU passthrough impossible (no IOMMU, no PCI devices)."""),
]


# ---------------------------------------------------------------- bad fixtures (derived from BASE)
def _files(root):
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if not os.path.islink(p) and f != "FIXTURE.md":
                yield p


def _doc(root, text):
    with open(os.path.join(root, "FIXTURE.md"), "w") as fh:
        fh.write("# %s\n\n%s\n" % (os.path.basename(root), " ".join(text.split())))


def _put(root, rel, data):
    with open(os.path.join(root, rel), "wb") as fh:
        fh.write(data)


def _devdirs(root):
    bus = os.path.join(root, "sys/bus/pci/devices")
    return [os.path.realpath(os.path.join(bus, b)) for b in sorted(os.listdir(bus))]


def bad_empty(root):
    for p in _files(root):
        open(p, "wb").close()
    _doc(root, """The intel-nvidia-single tree with every regular file present but empty (0 bytes); directories
    and symlinks are kept. Expected verdict: unknown (nothing readable), with reasons, and no crash.""")


def bad_garbage(root):
    rng = random.Random(20240601)

    def junk(n):
        b = bytearray(rng.getrandbits(8) for _ in range(n))
        for _ in range(n // 16 + 1):
            b[rng.randrange(n)] = 0
        return bytes(b)
    _put(root, "proc/cpuinfo", junk(3000) + b"\nflags\t\t: " + b"avx2 " * 20000)  # 100 KB line, no newline
    _put(root, "proc/meminfo", junk(900) + b"\nMemTotal:  \x00\x00 kB\n")
    _put(root, "proc/cmdline", junk(200) + b"intel_iommu=\x00on\n")
    _put(root, "etc/os-release", junk(400))
    _put(root, "etc/group", junk(300) + b"\nkvm:x:\xff\xfe:alice\x00\n")
    for i, d in enumerate(_devdirs(root)):
        _put(root, os.path.relpath(d, root) + "/vendor", junk(rng.randrange(1, 48)))
        _put(root, os.path.relpath(d, root) + "/device", junk(rng.randrange(1, 48)))
        _put(root, os.path.relpath(d, root) + "/class", b"0xZZZZ\n" if i % 2 else junk(rng.randrange(1, 48)))
    _doc(root, """The intel-nvidia-single tree where cpuinfo, meminfo, cmdline, os-release, group and every PCI
    vendor/device/class file hold seeded random binary bytes with NULs; cpuinfo ends in a 100 KB line with
    no newline and every other class file reads 0xZZZZ. Expected verdict: unknown, with reasons, no crash.""")


def bad_truncated(root):
    cpu = open(os.path.join(root, "proc/cpuinfo"), "rb").read()
    third = cpu.index(b"processor\t: 2\n")
    cut = cpu.index(b"flags", third) + 57
    _put(root, "proc/cpuinfo", cpu[:cut])
    _put(root, "proc/meminfo", b"MemTotal:       3276")
    dev = "sys/devices/pci0000:00/"
    os.unlink(os.path.join(root, dev + "0000:00:17.0/vendor"))
    os.unlink(os.path.join(root, dev + "0000:00:14.0/iommu_group"))
    os.symlink("../../../kernel/iommu_groups/42", os.path.join(root, dev + "0000:00:14.0/iommu_group"))
    os.unlink(os.path.join(root, dev + "0000:00:1f.4/driver"))
    os.symlink("../../../bus/pci/drivers/i2c_i801_gone", os.path.join(root, dev + "0000:00:1f.4/driver"))
    _doc(root, """The intel-nvidia-single tree cut short: cpuinfo stops mid-line inside the third processor
    block, meminfo stops mid-number after "MemTotal:       3276", 00:17.0 has no vendor file, 00:14.0's
    iommu_group points at group 42 which does not exist, and 00:1f.4's driver link dangles. Expected verdict:
    unknown where data is missing, with reasons, no crash.""")


def bad_loops(root):
    j = lambda rel: os.path.join(root, rel)
    os.unlink(j("sys/bus/pci/devices/0000:00:01.0"))
    os.symlink("0000:00:01.0", j("sys/bus/pci/devices/0000:00:01.0"))
    g = "sys/kernel/iommu_groups/%s/devices/"
    gpu = os.path.basename(os.readlink(j("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/iommu_group")))
    for a, b in (("0000:01:00.0", "0000:01:00.1"), ("0000:01:00.1", "0000:01:00.0")):
        os.unlink(j(g % gpu + a))
        os.symlink(b, j(g % gpu + a))
    os.unlink(j("proc/cpuinfo"))
    os.symlink("/proc/cpuinfo", j("proc/cpuinfo"))
    shutil.rmtree(j("sys/kernel/iommu_groups/5"))
    os.symlink("..", j("sys/kernel/iommu_groups/5"))
    _doc(root, """The intel-nvidia-single tree with symlink traps: sys/bus/pci/devices/0000:00:01.0 points at
    itself, the two GPU function links in group %s point at each other, proc/cpuinfo is an absolute link to
    /proc/cpuinfo (a loop once resolved inside the root) and sys/kernel/iommu_groups/5 is a link to "..".
    Expected verdict: unknown where data is unreachable, with reasons, no hang and no crash.""" % gpu)


BAD = {"bad-empty": bad_empty, "bad-garbage": bad_garbage, "bad-truncated": bad_truncated, "bad-loops": bad_loops}
BAD_LINKS = {  # symlinks that deliberately do not resolve inside the fixture
    "bad-truncated": {"sys/devices/pci0000:00/0000:00:14.0/iommu_group",
                      "sys/devices/pci0000:00/0000:00:1f.4/driver"},
    "bad-loops": {"sys/bus/pci/devices/0000:00:01.0", "sys/kernel/iommu_groups/7/devices/0000:01:00.0",
                  "sys/kernel/iommu_groups/7/devices/0000:01:00.1", "proc/cpuinfo"},
}


def resolve_inside(root, rel, depth=0):
    """Resolve rel (relative to root) the way darwinkvm does: absolute links are re-rooted. None if broken."""
    parts, cur = rel.split("/"), ""
    while parts:
        if depth > 40:
            return None
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = (cur + "/" + part).lstrip("/")
        full = os.path.join(root, nxt)
        if os.path.islink(full):
            tgt = os.readlink(full)
            base = "" if tgt.startswith("/") else cur
            parts = [p for p in (base + "/" + tgt).split("/")] + parts
            cur, depth = "", depth + 1
            continue
        if not os.path.lexists(full):
            return None
        cur = nxt
    return cur


def check(out, names):
    ok = True
    for name in names:
        root = os.path.join(out, name)
        broken = set()
        for d, dirs, files in os.walk(root):
            for f in dirs + files:
                p = os.path.join(d, f)
                if os.path.islink(p):
                    rel = os.path.relpath(p, root)
                    if resolve_inside(root, rel) is None:
                        broken.add(rel)
        want = BAD_LINKS.get(name, set())
        if broken != want:
            ok = False
            print("CHECK %s: unexpected broken links %s, missing %s" % (name, sorted(broken - want),
                                                                         sorted(want - broken)), file=sys.stderr)
    s = os.path.join(out, "server-200")
    if "server-200" in names:
        n, g = len(os.listdir(s + "/sys/bus/pci/devices")), len(os.listdir(s + "/sys/kernel/iommu_groups"))
        if (n, g) != (200, 60):
            ok = False
            print("CHECK server-200: %d devices, %d groups" % (n, g), file=sys.stderr)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--pci-ids", default="/usr/share/misc/pci.ids")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    os.umask(0o022)
    known = [h["name"] for h in HOSTS] + [b for b in BAD]
    for n in a.names:
        if n not in known:
            sys.exit("unknown fixture %s (known: %s)" % (n, ", ".join(known)))
    out = os.path.normpath(a.out)
    os.makedirs(out, exist_ok=True)
    for h in HOSTS:
        if not a.names or h["name"] in a.names or (h["name"] == BASE and set(a.names) & set(BAD)):
            r = write_host(out, h, a.pci_ids)
            print("%-24s %3d cpus %3d devices %3d groups" % (h["name"], r["cpus"], r["devices"], r["groups"]))
    for name, fn in BAD.items():
        if not a.names or name in a.names:
            root = os.path.join(out, name)
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(os.path.join(out, BASE), root, symlinks=True)
            fn(root)
            print("%-24s derived from %s" % (name, BASE))
    done = [n for n in [h["name"] for h in HOSTS] + list(BAD) if os.path.isdir(os.path.join(out, n))]
    sys.exit(0 if check(out, done) else 1)


BASE = "intel-nvidia-single"

if __name__ == "__main__":
    main()
