#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Synthetic release assets for the end-to-end tests of `new`: an OpenCore
# release zip (formats.md 5.1) whose BOOTx64.efi is a given EFI program (the
# GRUB marker), kext release zips with real Info.plists (formats.md 5.2), the
# OcBinaryData drivers, and a pin table for all of them served from BASE_URL.
# Usage: make-e2e-assets.py OUTDIR BOOT_EFI BASE_URL PINS_TSV
import hashlib
import os
import plistlib
import sys
import zipfile

out, boot_efi, base, pins = sys.argv[1:5]
os.makedirs(out, exist_ok=True)


def efi(name):
    return b"MZ" + name.encode() + b"\0" * 256


def write_zip(name, members):
    with zipfile.ZipFile(os.path.join(out, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in members:
            if path.endswith("/"):
                z.writestr(zipfile.ZipInfo(path), b"")
            else:
                z.writestr(path, data)
    return name


drivers = ["OpenRuntime", "ResetNvramEntry", "OpenHfsPlus", "OpenPartitionDxe", "OpenCanopy",
           "Ext4Dxe", "AudioDxe"]
members = [("X64/", b""), ("X64/EFI/", b""), ("X64/EFI/BOOT/", b""),
           ("X64/EFI/BOOT/BOOTx64.efi", open(boot_efi, "rb").read()),
           ("X64/EFI/OC/", b""), ("X64/EFI/OC/OpenCore.efi", efi("OpenCore")),
           ("X64/EFI/OC/ACPI/", b""), ("X64/EFI/OC/Kexts/", b""), ("X64/EFI/OC/Tools/", b""),
           ("X64/EFI/OC/Tools/OpenShell.efi", efi("OpenShell")),
           ("IA32/EFI/BOOT/BOOTIA32.efi", efi("ia32")), ("Docs/Sample.plist", b"<plist/>")]
members += [("X64/EFI/OC/Drivers/%s.efi" % d, efi(d)) for d in drivers]
assets = [("OpenCorePkg", "1.0.7", "opencore", write_zip("OpenCore-1.0.7-RELEASE.zip", members))]

kpi = {"com.apple.kpi.bsd": "8.0.0", "com.apple.kpi.iokit": "8.0.0", "com.apple.kpi.libkern": "8.0.0"}
kexts = [
    ("Lilu", "1.7.1", "as.vit9696.Lilu", "Lilu", dict(kpi), "Lilu-1.7.1-RELEASE.zip"),
    ("VMHide", "2.0.0", "org.Carnations.VMHide", "VMHide", dict(kpi, **{"as.vit9696.Lilu": "1.7.0"}),
     "VMHide-2.0.0-RELEASE.zip"),
    ("WhateverGreen", "1.7.0", "as.vit9696.WhateverGreen", "WhateverGreen",
     dict(kpi, **{"as.vit9696.Lilu": "1.2.0"}), "WhateverGreen-1.7.0-RELEASE.zip"),
    ("AppleALC", "1.9.7", "as.vit9696.AppleALC", "AppleALC", dict(kpi, **{"as.vit9696.Lilu": "1.2.0"}),
     "AppleALC-1.9.7-RELEASE.zip"),
    ("AppleMCEReporterDisabler", "1.2", "org.xlnc.disabler.MCEReporter", None, {},
     "AppleMCEReporterDisabler.kext.zip"),
]
for name, version, ident, exe, libs, zipname in kexts:
    info = {"CFBundleIdentifier": ident, "CFBundleName": name, "CFBundleVersion": version,
            "CFBundleShortVersionString": version, "CFBundlePackageType": "KEXT",
            "OSBundleCompatibleVersion": "1.0.0", "OSBundleLibraries": libs, "OSBundleRequired": "Root"}
    m = [(name + ".kext/", b""), (name + ".kext/Contents/", b"")]
    if exe:
        info["CFBundleExecutable"] = exe
        m.append((name + ".kext/Contents/MacOS/" + exe, b"\xcf\xfa\xed\xfe" + name.encode() * 8))
    m.append((name + ".kext/Contents/Info.plist", plistlib.dumps(info)))
    m.append((name + ".kext.dSYM/Contents/Resources/DWARF/" + name, b"dwarf"))
    assets.append((name, version, "kext", write_zip(zipname, m)))

for d in ["HfsPlus", "HfsPlusLegacy"]:
    with open(os.path.join(out, d + ".efi"), "wb") as f:
        f.write(efi(d))
    assets.append((d, "-", "driver", d + ".efi"))

with open(pins, "w") as f:
    f.write("name\tversion\tkind\turl\tsize\tsha256\n# synthetic assets for the tests\n")
    for name, version, kind, file in assets:
        data = open(os.path.join(out, file), "rb").read()
        f.write("%s\t%s\t%s\t%s/%s\t%d\t%s\n" % (name, version, kind, base, file, len(data),
                                                 hashlib.sha256(data).hexdigest()))
