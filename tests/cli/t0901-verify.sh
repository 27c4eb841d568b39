#!/bin/bash
# SPDX-License-Identifier: MIT
# `verify` boots a VM built from synthetic assets: a GRUB EFI program in place
# of OpenCore that prints OpenCore's own log lines on the serial console. It
# must report each stage, leave the VM's files untouched, and fail (exit 1, with
# the log's last lines) when the picker never shows.
bin=$(realpath "$1")
tests_dir=$(realpath "$2")
helpers=$tests_dir/helpers
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1
if [ ! -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || ! command -v qemu-system-x86_64 >/dev/null ||
	! command -v grub-mkstandalone >/dev/null; then
	echo "1..0 # SKIP OVMF, QEMU or GRUB missing"
	exit 0
fi

# make_vm DIR LINE...: a VM whose OpenCore disk prints LINEs
make_vm() {
	local dir=$1
	shift
	mkdir -p "$dir/tree/EFI/BOOT" "$dir/tree/EFI/OC"
	bash "$helpers/make-marker-efi.sh" "$dir/tree/EFI/BOOT/BOOTx64.efi" "$@" || return 1
	cat >"$dir/tree/EFI/OC/config.plist" <<'PLIST'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Misc</key>
	<dict>
		<key>Debug</key>
		<dict>
			<key>DisplayLevel</key>
			<integer>2</integer>
			<key>Target</key>
			<integer>0</integer>
		</dict>
		<key>Serial</key>
		<dict>
			<key>Init</key>
			<false/>
		</dict>
	</dict>
</dict>
</plist>
PLIST
	"$bin" -q image build "$dir/OpenCore.img" --from "$dir/tree" --seed verify || return 1
	"$bin" -q disk create "$dir/macOS.qcow2" --size 1G || return 1
	cat >"$dir/vm.conf" <<CONF
[vm]
name = $(basename "$dir")
uuid = 5b1d0c2e-8f3a-4c6d-9e7f-0a1b2c3d4e5f
macos = 14
[cpu]
cores = 1
[memory]
size = 1G
[disks]
opencore = $dir/OpenCore.img
macos = $dir/macOS.qcow2
[display]
type = none
[network]
mode = user
CONF
}

ok_vm=$tmp/good
check "a VM from synthetic assets" 0 make_vm "$ok_vm" "OC: Starting OpenCore..." "OCB: Showing menu..."
before=$(sha256sum "$ok_vm/OpenCore.img" "$ok_vm/macOS.qcow2")
check "verify reaches the picker" 0 "$bin" verify "$ok_vm/vm.conf" --timeout 120
contains "firmware stage" "$out" "ok    firmware"
contains "opencore stage" "$out" "ok    opencore"
contains "verdict" "$out" "verdict: boots to the OpenCore picker"
after=$(sha256sum "$ok_vm/OpenCore.img" "$ok_vm/macOS.qcow2")
if [ "$before" = "$after" ]; then pass "the VM's disks are untouched"; else fail "the VM's disks changed"; fi
if [ ! -e "$ok_vm/verify-test_VARS.fd" ] && [ ! -e "$ok_vm/good_VARS.fd" ]; then pass "the VM's NVRAM was not created"; else fail "verify wrote the VM's NVRAM"; fi
run "$bin" image cat "$ok_vm/verify/opencore.img" EFI/OC/config.plist
target=$(printf '%s' "$out" | python3 -c 'import plistlib,sys; d=plistlib.loads(sys.stdin.buffer.read())["Misc"]; print(d["Debug"]["Target"], hex(d["Debug"]["DisplayLevel"]), d["Serial"]["Init"])')
if [ "$target" = "9 0x80000042 True" ]; then pass "the copy logs to serial"; else fail "the copy's log settings" "$target"; fi

check "verify --json" 0 "$bin" --json verify "$ok_vm/vm.conf"
stages=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], [s["name"] for s in d["stages"] if s["reached"]], d["accel"])')
contains "json stages" "$stages" "True ['firmware', 'opencore', 'picker']"

bad_vm=$tmp/nopicker
check "a VM whose OpenCore never shows the picker" 0 make_vm "$bad_vm" "OC: Starting OpenCore..." "OC: something went wrong"
check "verify fails without the picker" 1 "$bin" verify "$bad_vm/vm.conf" --timeout 60
contains "picker failed" "$out" "fail  picker"
contains "log tail" "$out" "| OC: something went wrong"

check "bad --timeout" 2 "$bin" verify "$ok_vm/vm.conf" --timeout soon
check "unknown VM" 3 "$bin" verify "$tmp/none/vm.conf"
done_testing
