#!/bin/bash
# SPDX-License-Identifier: MIT
# opencore snapshot on EFI trees built here: synthetic kext bundles (Info.plist
# written by the test) with dependency chains, plug-ins, a cycle, a missing
# dependency and a missing executable; the user's settings survive; --clean rebuilds.
bin=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

oc=$tmp/EFI/OC
mkdir -p "$oc/ACPI" "$oc/Drivers" "$oc/Tools" "$oc/Kexts"
kext() { # BUNDLE-PATH ID [EXECUTABLE|-] [DEP...]
	local dir=$oc/Kexts/$1 id=$2 exe=$3
	shift 3
	mkdir -p "$dir/Contents/MacOS"
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<plist version="1.0"><dict>'
		echo "<key>CFBundleIdentifier</key><string>$id</string>"
		[ "$exe" != - ] && echo "<key>CFBundleExecutable</key><string>$exe</string>"
		echo '<key>OSBundleLibraries</key><dict>'
		echo '<key>com.apple.kpi.libkern</key><string>8.0.0</string>'
		for d in "$@"; do echo "<key>$d</key><string>1.0</string>"; done
		echo '</dict></dict></plist>'
	} >"$dir/Contents/Info.plist"
	[ "$exe" != - ] && [ "$exe" != missing ] && : >"$dir/Contents/MacOS/$exe"
	return 0
}
# Names chosen so that alphabetical order is wrong for loading.
kext Lilu.kext as.vit9696.Lilu Lilu
kext AppleALC.kext as.vit9696.AppleALC AppleALC as.vit9696.Lilu
kext VMHide.kext com.carnations.VMHide VMHide as.vit9696.Lilu
kext AAA.kext org.test.AAA AAA org.test.ZZZ
kext ZZZ.kext org.test.ZZZ ZZZ as.vit9696.Lilu
kext Outer.kext org.test.Outer Outer
kext Outer.kext/Contents/PlugIns/Inner.kext org.test.Inner Inner
kext PlistOnly.kext org.test.PlistOnly -
for f in SSDT-EC-USBX.aml SSDT-PLUG.aml; do : >"$oc/ACPI/$f"; done
for f in OpenRuntime.efi ResetNvramEntry.efi HfsPlus.efi; do : >"$oc/Drivers/$f"; done
: >"$oc/Tools/OpenShell.efi"

"$bin" opencore config --macos 14 --seed snap -o "$oc/config.plist"
# The user's settings on an existing entry must survive.
"$bin" plist set "$oc/config.plist" "Kernel.Add[1].Comment" "my note"
"$bin" plist set "$oc/config.plist" "Kernel.Add[1].MinKernel" 23.0.0
check "snapshot exits 0" 0 "$bin" opencore snapshot "$oc"
contains "reports the new kext" "$out" "added    Kernel.Add: AppleALC.kext"
contains "reports the tool" "$out" "added    Misc.Tools: OpenShell.efi"
contains "drops the gone kext" "$out" "removed  Kernel.Add: AppleMCEReporterDisabler.kext (bundle gone)"
order=$(python3 -c '
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
print(" ".join(e["BundlePath"] for e in d["Kernel"]["Add"]))
for e in d["Kernel"]["Add"]:
    if e["BundlePath"] == "VMHide.kext": print("VMHIDE", e["Comment"], e["MinKernel"], e["ExecutablePath"])
    if e["BundlePath"] == "PlistOnly.kext": print("PLISTONLY", repr(e["ExecutablePath"]))
print("TOOLS", [t["Path"] for t in d["Misc"]["Tools"]], [t["Name"] for t in d["Misc"]["Tools"]])
' "$oc/config.plist")
first=$(head -1 <<<"$order")
pos() { local i=0; for w in $first; do [ "$w" = "$1" ] && echo $i; i=$((i + 1)); done; }
[ "$(pos Lilu.kext)" -lt "$(pos AppleALC.kext)" ] && pass "Lilu before AppleALC" || fail "order" "$first"
[ "$(pos ZZZ.kext)" -lt "$(pos AAA.kext)" ] && pass "dependency before dependant (ZZZ before AAA)" || fail "order" "$first"
[ "$(pos Lilu.kext)" -lt "$(pos ZZZ.kext)" ] && pass "chain: Lilu before ZZZ" || fail "order" "$first"
[ "$(pos Outer.kext)" -lt "$(pos Outer.kext/Contents/PlugIns/Inner.kext)" ] && pass "plug-in after its kext" || fail "order" "$first"
contains "user settings kept" "$order" "VMHIDE my note 23.0.0 Contents/MacOS/VMHide"
contains "plist-only kext has no executable" "$order" "PLISTONLY ''"
contains "tool named after its file" "$order" "TOOLS ['OpenShell.efi'] ['OpenShell']"
# The VM lint wants AppleMCEReporterDisabler (a plist-only kext): add it to the tree.
kext AppleMCEReporterDisabler.kext com.apple.driver.AppleMCEReporterDisabler -
check "snapshot picks it up" 0 "$bin" opencore snapshot "$oc"
contains "added" "$out" "added    Kernel.Add: AppleMCEReporterDisabler.kext"
check "the result validates against the tree" 0 "$bin" opencore validate "$oc/config.plist"

# validate reads the kexts' Info.plist too: a kext before the one it depends on is a finding.
python3 - "$oc/config.plist" "$tmp/swapped.plist" <<'PY'
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
add = d["Kernel"]["Add"]
a = [i for i, e in enumerate(add) if e["BundlePath"] == "AAA.kext"][0]
z = [i for i, e in enumerate(add) if e["BundlePath"] == "ZZZ.kext"][0]
add[a], add[z] = add[z], add[a]
plistlib.dump(d, open(sys.argv[2], "wb"))
PY
check "validate: dependency order from Info.plist" 1 "$bin" opencore validate --efi "$oc" "$tmp/swapped.plist"
contains "names it" "$out" "found it loads before org.test.ZZZ; expected AAA.kext after the kext providing org.test.ZZZ"

# Idempotent: a second run changes nothing.
cp "$oc/config.plist" "$tmp/once.plist"
check "second snapshot" 0 "$bin" opencore snapshot "$oc"
cmp -s "$oc/config.plist" "$tmp/once.plist" && pass "snapshot is idempotent" || fail "second run changed the file"

# File checks in validate: remove a file the config names.
rm "$oc/Drivers/HfsPlus.efi"
check "validate sees the missing driver" 1 "$bin" opencore validate "$oc/config.plist"
contains "names it" "$out" "UEFI.Drivers[2].Path: found no such file"
: >"$oc/Drivers/HfsPlus.efi"
rm "$oc/Kexts/VMHide.kext/Contents/MacOS/VMHide"
check "validate sees the missing executable" 1 "$bin" opencore validate "$oc/config.plist" --efi "$oc"
contains "names it" "$out" ".ExecutablePath: found no such file"
: >"$oc/Kexts/VMHide.kext/Contents/MacOS/VMHide"

# Problems: a missing executable, a missing dependency, a cycle.
kext Broken.kext org.test.Broken missing
kext Needy.kext org.test.Needy Needy org.test.Nowhere
kext CycA.kext org.test.CycA CycA org.test.CycB
kext CycB.kext org.test.CycB CycB org.test.CycA
check "snapshot with problems exits 1" 1 "$bin" opencore snapshot "$oc"
contains "missing executable" "$out" "problem  Broken.kext: executable Contents/MacOS/missing is missing"
contains "missing dependency" "$out" "problem  Needy.kext needs org.test.Nowhere, which no kext in Kexts/ provides"
contains "cycle" "$out" "problem  dependency cycle among CycA.kext, CycB.kext"
rm -rf "$oc/Kexts/Broken.kext" "$oc/Kexts/Needy.kext" "$oc/Kexts/CycA.kext" "$oc/Kexts/CycB.kext"

# --clean: rebuilt from the files, user settings gone.
rm "$oc/ACPI/SSDT-PLUG.aml"
check "clean snapshot" 0 "$bin" opencore snapshot --clean "$oc"
lacks "clean: no removal report" "$out" "removed"
run "$bin" plist get "$oc/config.plist" "ACPI.Add"
lacks "clean: SSDT-PLUG gone" "$out" "SSDT-PLUG"
comment=$(python3 -c 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); print([e["Comment"] for e in d["Kernel"]["Add"] if e["BundlePath"]=="VMHide.kext"][0] or "EMPTY")' "$oc/config.plist")
[ "$comment" = EMPTY ] && pass "clean: settings reset" || fail "clean kept" "$comment"
check "snapshot of a missing directory exits 2" 2 "$bin" opencore snapshot "$tmp/nowhere" "$oc/config.plist"
check "snapshot --output -" 0 "$bin" opencore snapshot "$oc" --output -
contains "prints the config" "$out" "<key>Kernel</key>"
done_testing
