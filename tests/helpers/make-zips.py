#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Synthetic OpenCore and kext release zips (formats.md 5.1, 5.2) and hostile
# zips, for tests. Usage: make-zips.py OUTDIR
import os
import stat
import sys
import zipfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def efi(name):
    return b"MZ" + name.encode() + b"\0" * 64


def write(path, members, symlinks=()):
    with zipfile.ZipFile(os.path.join(out, path), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            if name.endswith("/"):
                z.writestr(zipfile.ZipInfo(name), b"")
            else:
                z.writestr(name, data)
        for name, target in symlinks:
            zi = zipfile.ZipInfo(name)
            zi.create_system = 3
            zi.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(zi, target)


drivers = ["OpenRuntime", "ResetNvramEntry", "OpenHfsPlus", "OpenCanopy", "OpenPartitionDxe", "Ext4Dxe"]
oc = [("X64/", b""), ("X64/EFI/", b""), ("X64/EFI/BOOT/", b""),
      ("X64/EFI/BOOT/BOOTx64.efi", efi("Bootstrap")),
      ("X64/EFI/BOOT/.contentFlavour", b"OpenCore"), ("X64/EFI/BOOT/.contentVisibility", b"Disabled"),
      ("X64/EFI/OC/OpenCore.efi", efi("OpenCore")),
      ("X64/EFI/OC/ACPI/", b""), ("X64/EFI/OC/Tools/OpenShell.efi", efi("OpenShell")),
      ("IA32/EFI/BOOT/BOOTIA32.efi", efi("ia32")), ("Docs/Sample.plist", b"<plist/>"),
      ("Utilities/macserial/macserial.linux", b"\x7fELF")]
oc += [("X64/EFI/OC/Drivers/%s.efi" % d, efi(d)) for d in drivers]
write("OpenCore-1.0.7-RELEASE.zip", oc)


def kext(name, execname=True):
    m = [(name + ".kext/", b""), (name + ".kext/Contents/", b""),
         (name + ".kext/Contents/Info.plist", b"<plist><dict><key>CFBundleIdentifier</key><string>x." + name.encode() + b"</string></dict></plist>")]
    if execname:
        m.append((name + ".kext/Contents/MacOS/" + name, b"\xcf\xfa\xed\xfe" + name.encode()))
    m.append((name + ".kext.dSYM/Contents/Resources/DWARF/" + name, b"dwarf"))
    return m


write("Lilu-1.7.1-RELEASE.zip", kext("Lilu"))
write("VMHide-2.0.0-RELEASE.zip", kext("VMHide"))
write("AppleMCEReporterDisabler.kext.zip", kext("AppleMCEReporterDisabler", False))
write("AppleALC-1.9.7-RELEASE.zip", kext("AppleALC") + kext("AppleALCU") + [("alc-verb", b"x")])
# Hostile ones.
write("evil-dotdot.zip", kext("Evil") + [("Evil.kext/../../../escaped", b"gotcha")])
write("evil-abs.zip", kext("Evil") + [("/tmp/dkvm-absolute-escape", b"gotcha")])
write("evil-symlink.zip", kext("Evil"), symlinks=[("Evil.kext/Contents/Resources", "/etc")])
with zipfile.ZipFile(os.path.join(out, "evil-bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("Bomb.kext/Contents/Info.plist", b"<plist/>")
    z.writestr("Bomb.kext/Contents/MacOS/Bomb", b"\0" * (64 << 20))
with open(os.path.join(out, "not-a-zip.zip"), "wb") as f:
    f.write(b"PK\x03\x04garbage" * 10)
