#!/bin/bash
# SPDX-License-Identifier: MIT
# opencore config: a golden config.plist per profile (model x macOS range x host CPU
# vendor), each parsed by python3's plistlib as a second opinion and clean under
# `opencore validate`; validate: one fixture per rule, made from a clean config by
# one edit, must report that rule's line and exit 1; memory; the EFI writer.
# DARWINKVM_TEST_REGENERATE=1 rewrites tests/golden/opencore/.
bin=$(realpath "$1")
tests=$2
source "$(dirname "$0")/lib.sh"
golden=$tests/golden/opencore
regen=${DARWINKVM_TEST_REGENERATE:-}

# name|macOS|expected model|extra options
profiles=(
	"macpro7-tahoe|26|MacPro7,1|"
	"macpro7-sonoma|14|MacPro7,1|"
	"macpro7-ventura|13|MacPro7,1|"
	"macpro7-monterey|12|MacPro7,1|"
	"macpro7-catalina|10.15|MacPro7,1|"
	"macpro5-mojave|10.14|MacPro5,1|"
	"macpro5-sierra|10.12|MacPro5,1|"
	"macpro4-leopard|10.5|MacPro4,1|"
	"macpro2-tiger|10.4|MacPro2,1|"
	"macpro7-navi10-full|15|MacPro7,1|--gpu navi10 --alcid 1 --resolution 1920x1080 --sip-off --no-picker --timeout 0 --size 32 --slots 4"
	"macpro5-polaris|10.14|MacPro5,1|--gpu polaris --model MacPro5,1"
)

plistcheck() { # FILE MODEL: plistlib reads it and finds the model
	python3 - "$1" "$2" <<'PY'
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
g = d["PlatformInfo"]["Generic"]
assert g["SystemProductName"] == sys.argv[2], g["SystemProductName"]
assert len(g["ROM"]) == 6 and len(g["MLB"]) in (13, 17)
assert set(d) == {"ACPI", "Booter", "DeviceProperties", "Kernel", "Misc", "NVRAM", "PlatformInfo", "UEFI"}
assert all(e["Path"].endswith(".efi") for e in d["UEFI"]["Drivers"])
PY
}

for p in "${profiles[@]}"; do
	IFS='|' read -r name ver model extra <<<"$p"
	for cpu in intel amd; do
		# shellcheck disable=SC2086
		check "$name/$cpu: config exits 0" 0 "$bin" opencore config --macos "$ver" --cpu "$cpu" --verbose-boot --seed "golden-$name" $extra -o "$tmp/$name-$cpu.plist"
		if [ -n "$regen" ] && [ "$cpu" = intel ]; then cp "$tmp/$name-$cpu.plist" "$golden/$name.plist"; fi
		if cmp -s "$tmp/$name-$cpu.plist" "$golden/$name.plist"; then pass "$name/$cpu: matches the golden file"; else fail "$name/$cpu: differs from $golden/$name.plist" "$(diff "$golden/$name.plist" "$tmp/$name-$cpu.plist" | head -20)"; fi
		if plistcheck "$tmp/$name-$cpu.plist" "$model" 2>"$tmp/py.err"; then pass "$name/$cpu: plistlib agrees"; else fail "$name/$cpu: plistlib" "$(cat "$tmp/py.err")"; fi
		check "$name/$cpu: validate finds nothing" 0 "$bin" opencore validate --macos "$ver" "$tmp/$name-$cpu.plist"
		[ -z "$out" ] && pass "$name/$cpu: no finding lines" || fail "$name/$cpu: findings" "$out"
	done
	# Loading and saving our own file gives the same bytes (both formats).
	cp "$tmp/$name-intel.plist" "$tmp/rt.plist"
	"$bin" plist convert "$tmp/rt.plist" -o "$tmp/rt.bin" && "$bin" plist convert "$tmp/rt.bin" -o "$tmp/rt2.plist"
	if cmp -s "$tmp/rt.plist" "$tmp/rt2.plist"; then pass "$name: xml -> binary -> xml is byte-identical"; else fail "$name: round trip differs"; fi
	"$bin" plist convert "$tmp/rt2.plist" -o "$tmp/rt2.bin"
	if cmp -s "$tmp/rt.bin" "$tmp/rt2.bin"; then pass "$name: binary output is stable"; else fail "$name: binary differs"; fi
done

sonoma=$golden/macpro7-sonoma.plist
contains "CaseySJ patch with MaxKernel 29.99.99" "$(cat "$sonoma")" "<string>29.99.99</string>"
lacks "no VirtualSMC" "$(cat "$sonoma")" "VirtualSMC"
contains "VMHide" "$(cat "$sonoma")" "<string>VMHide.kext</string>"
contains "SSDT-PLUG" "$(cat "$sonoma")" "<string>SSDT-PLUG.aml</string>"
contains "prev-lang:kbd en:252" "$(cat "$sonoma")" "<data>ZW46MjUy</data>"
if python3 -c 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); assert all("HideVerbose" not in e for e in d["UEFI"]["Drivers"])' "$sonoma"; then pass "no 1.0.8 Drivers[].HideVerbose in a 1.0.7 config"; else fail "HideVerbose in Drivers"; fi
mojave=$golden/macpro5-mojave.plist
contains "legacy: nehalem boot-arg" "$(cat "$mojave")" "-nehalem_error_disable"
contains "legacy: HfsPlusLegacy" "$(cat "$mojave")" "<string>HfsPlusLegacy.efi</string>"
contains "legacy: SSDT-EC" "$(cat "$mojave")" "<string>SSDT-EC.aml</string>"
run "$bin" plist get "$golden/macpro4-leopard.plist" Kernel.Scheme.KernelArch
contains "Leopard: i386 kernel" "$out" "i386"
run "$bin" plist get "$golden/macpro5-mojave.plist" Booter.Quirks.ProvideCustomSlide
contains "legacy: ProvideCustomSlide kept for AllowRelocationBlock" "$out" "true"
run "$bin" plist get "$golden/macpro7-navi10-full.plist" NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args
contains "navi10: pikera and alcid" "$out" "-v keepsyms=1 debug=0x100 agdpmod=pikera alcid=1"
run "$bin" plist get "$golden/macpro7-navi10-full.plist" PlatformInfo.Memory.TypeDetail
contains "memory TypeDetail is the Synchronous bit mask" "$out" "128"

# Refusals.
check "MacPro7,1 refused for Mojave" 2 "$bin" opencore config --macos 10.14 --model MacPro7,1
contains "says why" "$err" "MacPro7,1 needs Catalina"
check "iMac refused" 2 "$bin" opencore config --macos 14 --model iMac19,1
check "Kepler refused on Sonoma" 2 "$bin" opencore config --macos 14 --gpu kepler
check "missing --macos" 2 "$bin" opencore config
check "odd DIMM count refused" 2 "$bin" opencore config --macos 14 --size 24 --slots 3
contains "says why" "$err" "odd count"

# The EFI writer: config + our ACPI tables.
check "config --efi" 0 "$bin" opencore config --macos 14 --seed efi --efi "$tmp/img"
for f in config.plist ACPI/SSDT-EC-USBX.aml ACPI/SSDT-PLUG.aml; do
	[ -s "$tmp/img/EFI/OC/$f" ] && pass "EFI/OC/$f written" || fail "EFI/OC/$f missing"
done
check "acpi DIR" 0 "$bin" opencore acpi "$tmp/acpi"
[ "$(head -c 4 "$tmp/acpi/SSDT-EC.aml")" = SSDT ] && pass "SSDT-EC.aml is an SSDT" || fail "SSDT-EC.aml header"
if command -v iasl >/dev/null; then
	(cd "$tmp/acpi" && iasl -d SSDT-EC-USBX.aml >/dev/null 2>&1)
	contains "iasl disassembles our USBX" "$(cat "$tmp/acpi/SSDT-EC-USBX.dsl" 2>/dev/null)" "kUSBSleepPowerSupply"
fi

# memory alone.
check "memory --size 64" 0 "$bin" opencore memory --size 64 --slots 4 --speed 2933
contains "16 GB modules" "$out" "<integer>16384</integer>"
contains "speed" "$out" "<integer>2933</integer>"
check "memory that does not fit" 2 "$bin" opencore memory --size 48 --slots 4
contains "says why" "$err" "powers of two"
cp "$sonoma" "$tmp/mem.plist"
check "memory CONFIG" 0 "$bin" opencore memory "$tmp/mem.plist" --size 16 --slots 2
run "$bin" plist get "$tmp/mem.plist" PlatformInfo.CustomMemory
contains "CustomMemory set" "$out" "true"
check "validate after memory" 0 "$bin" opencore validate "$tmp/mem.plist"

# validate: one rule per fixture. Each line: description|expected line part|plist edits (;-separated)
base=$tmp/base.plist
cp "$sonoma" "$base"
rules=(
	"missing key|Kernel.Quirks.XhciPortLimit: found nothing (missing key)|delete Kernel.Quirks.XhciPortLimit"
	"unknown key|Kernel.Quirks.Bogus: found an unknown key|add Kernel.Quirks.Bogus --type bool true"
	"comment keys are fine||add Kernel.Quirks.#Comment --type string hello"
	"1.0.8 key in a 1.0.7 config|UEFI.Drivers[0].HideVerbose: found an unknown key|add UEFI.Drivers[0].HideVerbose --type bool false"
	"wrong type|Misc.Boot.Timeout: found a string; expected an integer|set Misc.Boot.Timeout --type string 5"
	"data length|PlatformInfo.Generic.ROM: found 5 bytes; expected 6 bytes|set PlatformInfo.Generic.ROM 0011223344"
	"32-bit integer|Misc.Security.ScanPolicy: found 4294967296; expected a 32-bit integer|set Misc.Security.ScanPolicy 4294967296"
	"vault case|Misc.Security.Vault: found \"optional\"|set Misc.Security.Vault optional"
	"MinKernel > MaxKernel|Kernel.Add[0].MinKernel: found \"24.0.0\" > \"20.0.0\"|set Kernel.Add[0].MinKernel 24.0.0;set Kernel.Add[0].MaxKernel 20.0.0"
	"MinKernel format|Kernel.Add[0].MinKernel: found \"x\"|set Kernel.Add[0].MinKernel x"
	"BundlePath suffix|Kernel.Add[0].BundlePath: found \"Lilu\"; expected a path ending in .kext|set Kernel.Add[0].BundlePath Lilu"
	"ExecutablePath of a known kext|Kernel.Add[0].ExecutablePath: found \"Contents/MacOS/lilu\"|set Kernel.Add[0].ExecutablePath Contents/MacOS/lilu"
	"PlistPath|Kernel.Add[0].PlistPath: found \"Info.plist\"; expected \"Contents/Info.plist\"|set Kernel.Add[0].PlistPath Info.plist"
	"duplicate kext|Kernel.Add[1].BundlePath: found a duplicate of \"Lilu.kext\"|set Kernel.Add[1].BundlePath Lilu.kext;set Kernel.Add[1].ExecutablePath Contents/MacOS/Lilu"
	"kext order|Kernel.Add[0].BundlePath: found VMHide.kext before it|delete Kernel.Add[0];add Kernel.Add[] --type dict;add Kernel.Add[2].Arch Any;add Kernel.Add[2].BundlePath Lilu.kext;add Kernel.Add[2].Comment x;add Kernel.Add[2].Enabled --type bool true;add Kernel.Add[2].ExecutablePath Contents/MacOS/Lilu;add Kernel.Add[2].MaxKernel x;add Kernel.Add[2].MinKernel '';add Kernel.Add[2].PlistPath Contents/Info.plist"
	"Lilu needs DisableLinkeditJettison|Kernel.Quirks.DisableLinkeditJettison: found false|set Kernel.Quirks.DisableLinkeditJettison false"
	"patch sizes|Kernel.Patch[0].Replace: found 3 bytes; expected 4 bytes (as Find)|set Kernel.Patch[0].Replace 000000;set Kernel.Patch[0].ReplaceMask ''"
	"patch mask bits|Kernel.Patch[0].Find: found bits outside Mask at byte 1|set Kernel.Patch[0].Find 84FF754B"
	"Arch enum|Kernel.Patch[0].Arch: found \"x64\"|set Kernel.Patch[0].Arch x64"
	"path characters|ACPI.Add[0].Path: found \"SSDT EC.aml\" with ' '|set ACPI.Add[0].Path 'SSDT EC.aml'"
	"ACPI suffix|ACPI.Add[1].Path: found \"SSDT-PLUG.dsl\"; expected a path ending in .aml or .bin|set ACPI.Add[1].Path SSDT-PLUG.dsl"
	"duplicate driver|UEFI.Drivers[1].Path: found a duplicate of \"OpenRuntime.efi\"|set UEFI.Drivers[1].Path OpenRuntime.efi"
	"two HFS+ drivers|UEFI.Drivers: found 2 HFS+ drivers; expected exactly one HFS+ driver|set UEFI.Drivers[1].Path OpenHfsPlus.efi"
	"LoadEarly|UEFI.Drivers[2].LoadEarly: found true|set UEFI.Drivers[2].LoadEarly true"
	"OpenRuntime needed|Booter.Quirks.ProvideCustomSlide: found true without OpenRuntime.efi|delete UEFI.Drivers[0]"
	"ProvideCustomSlide needed|Booter.Quirks.AllowRelocationBlock: found true with ProvideCustomSlide false|set Booter.Quirks.AllowRelocationBlock true;set Booter.Quirks.ProvideCustomSlide false"
	"ResizeAppleGpuBars|Booter.Quirks.ResizeAppleGpuBars: found 5; expected 0 or -1|set Booter.Quirks.ResizeAppleGpuBars 5"
	"DmgLoading Any|Misc.Security.DmgLoading: found \"Any\"|set Misc.Security.DmgLoading Any;set Misc.Security.SecureBootModel Default"
	"ScanPolicy lock bits|Misc.Security.ScanPolicy: found 0x100; expected bit 0|set Misc.Security.ScanPolicy 256"
	"SecureBootModel enum|Misc.Security.SecureBootModel: found \"j999\"|set Misc.Security.SecureBootModel j999"
	"NVRAM GUID|NVRAM.Delete.not-a-guid: found \"not-a-guid\"|add NVRAM.Delete.not-a-guid --type array"
	"csr-active-config length|csr-active-config: found another length; expected 4 bytes of data|set NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.csr-active-config 0308000000"
	"csr-active-status misnomer|csr-active-status: found csr-active-status|add NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.csr-active-status --type data 0308000000"
	"SystemUUID|PlatformInfo.Generic.SystemUUID: found \"nope\"|set PlatformInfo.Generic.SystemUUID nope"
	"unknown model|PlatformInfo.Generic.SystemProductName: found \"MacPro99,1\"; expected a Mac model OpenCore knows|set PlatformInfo.Generic.SystemProductName MacPro99,1"
	"serial format|PlatformInfo.Generic.SystemSerialNumber: found \"F5KZN00HPIQM\" (character 'I'|set PlatformInfo.Generic.SystemSerialNumber F5KZN00HPIQM"
	"MLB checksum|PlatformInfo.Generic.MLB: found \"F5K00000000K3F700\"; expected a board serial with a valid checksum|set PlatformInfo.Generic.MLB F5K00000000K3F700"
	"shared serial|PlatformInfo.Generic.SystemSerialNumber: found \"C02FPBZPHX87\", the serial in OSX-KVM|set PlatformInfo.Generic.SystemSerialNumber C02FPBZPHX87"
	"UpdateSMBIOSMode|PlatformInfo.UpdateSMBIOSMode: found \"Sometimes\"|set PlatformInfo.UpdateSMBIOSMode Sometimes"
	"Resolution format|UEFI.Output.Resolution: found \"huge\"|set UEFI.Output.Resolution huge"
	"UIScale|UEFI.Output.UIScale: found 3|set UEFI.Output.UIScale 3"
	"GopPassThrough|UEFI.Output.GopPassThrough: found \"On\"|set UEFI.Output.GopPassThrough On"
	"ConnectDrivers for HFS+|UEFI.ConnectDrivers: found false; expected true|set UEFI.ConnectDrivers false"
	"ReservedMemory alignment|UEFI.ReservedMemory[0]: found Address 4097|add UEFI.ReservedMemory[] --type dict;add UEFI.ReservedMemory[0].Address --type integer 4097;add UEFI.ReservedMemory[0].Comment x;add UEFI.ReservedMemory[0].Enabled --type bool false;add UEFI.ReservedMemory[0].Size --type integer 4096;add UEFI.ReservedMemory[0].Type Reserved"
	"non-ASCII string|Misc.Boot.PickerVariant: found non-ASCII|set Misc.Boot.PickerVariant Caf$(printf '\xc3\xa9')"
	"VM lint: VirtualSMC|Kernel.Add: found an SMC emulator kext|set Kernel.Add[2].BundlePath VirtualSMC.kext;set Kernel.Add[2].ExecutablePath Contents/MacOS/VirtualSMC"
	"VM lint: VMHide missing|Kernel.Add: found no VMHide.kext|delete Kernel.Add[1]"
	"VM lint: MCE reporter missing|Kernel.Add: found none; expected AppleMCEReporterDisabler|delete Kernel.Add[2]"
	"VM lint: Mac Pro only|found \"iMac19,1\"; expected a Mac Pro model|set PlatformInfo.Generic.SystemProductName iMac19,1"
	"VM lint: OVMF resolution|UEFI.Output.Resolution: found \"3840x2160\"; expected at most 2560x1600|set UEFI.Output.Resolution 3840x2160"
	"VM lint: HfsPlusLegacy on MacPro7,1|UEFI.Drivers: found HfsPlusLegacy.efi|set UEFI.Drivers[2].Path HfsPlusLegacy.efi"
	"VM lint: agdpmod without WhateverGreen|found agdpmod without WhateverGreen|set NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args agdpmod=pikera"
)
for r in "${rules[@]}"; do
	IFS='|' read -r desc want edits <<<"$r"
	cp "$base" "$tmp/rule.plist"
	IFS=';' read -ra steps <<<"$edits"
	ok=1
	for s in "${steps[@]}"; do
		eval "set -- $s"
		"$bin" plist "$1" "$tmp/rule.plist" "${@:2}" 2>"$tmp/edit.err" || { ok=0; fail "rule $desc: edit '$s' failed" "$(cat "$tmp/edit.err")"; }
	done
	[ $ok = 1 ] || continue
	run "$bin" opencore validate "$tmp/rule.plist"
	if [ -z "$want" ]; then
		[ "$rc" -eq 0 ] && pass "rule $desc: clean" || fail "rule $desc: expected clean" "$out"
		continue
	fi
	if [ "$rc" -eq 1 ] && [[ $out == *"$want"* ]]; then pass "rule $desc"; else fail "rule $desc: exit $rc" "want: $want" "got: $out"; fi
done

# Version-aware lint (the config does not say which macOS it is for).
check "lint: MacPro7,1 for Mojave" 1 "$bin" opencore validate --macos 10.14 "$sonoma"
contains "says so" "$out" "PlatformInfo.Generic.SystemProductName: found MacPro7,1 for 10.14"
contains "and SecureBootModel" "$out" "Misc.Security.SecureBootModel: found \"Default\" for 10.14"
check "lint: MacPro5,1 for Sonoma" 1 "$bin" opencore validate --macos 14 "$mojave"
check "lint: Tiger with an x86_64 kernel" 1 "$bin" opencore validate --macos 10.4 "$mojave"
contains "says so" "$out" "Kernel.Scheme.KernelArch: found \"x86_64\"; expected i386"
cp "$mojave" "$tmp/m5.plist"
"$bin" plist set "$tmp/m5.plist" NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args "keepsyms=1"
check "lint: nehalem boot-arg missing" 1 "$bin" opencore validate "$tmp/m5.plist"
contains "says so" "$out" "-nehalem_error_disable"
check "validate --json" 1 "$bin" --json opencore validate --macos 10.14 "$sonoma"
contains "json findings" "$out" '"findings":[{"path":"PlatformInfo.Generic.SystemProductName"'

# Unreadable input: exit 2, one line.
printf 'garbage' >"$tmp/garbage.plist"
check "validate: not a plist exits 2" 2 "$bin" opencore validate "$tmp/garbage.plist"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && pass "one-line error" || fail "error lines" "$err"
check "validate: missing file exits 2" 2 "$bin" opencore validate "$tmp/nope.plist"
printf '<plist><array/></plist>' >"$tmp/arr.plist"
check "validate: array root is one finding" 1 "$bin" opencore validate "$tmp/arr.plist"
contains "says so" "$out" "(root): found an array; expected a dict"
done_testing
