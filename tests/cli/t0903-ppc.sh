#!/bin/bash
# SPDX-License-Identifier: MIT
# PowerPC guests: `new --arch ppc` writes the disk, the launcher and a libvirt
# domain that virt-xml-validate accepts; the launcher's QEMU starts OpenBIOS,
# which prints its banner on the serial console.
bin=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1
export DARWINKVM_VMS_DIR=$tmp/vms

check "plan" 0 "$bin" new tiger --arch ppc --macos 10.4 --plan
contains "plan: machine" "$out" "mac99,usb=off, 2048 MiB, 1 vCPU, sungem NIC, VGA with EDID"
contains "plan: media source named, unverified" "$out" "third-party archive, no checksum"
check "unknown ppc release" 2 "$bin" new x --arch ppc --macos 10.9
check "ppc needs --macos" 2 "$bin" new x --arch ppc
check "bad --arch" 2 "$bin" new x --arch arm
head -c 1048576 /dev/zero >"$tmp/disc.iso"
check "new --arch ppc" 0 "$bin" new tiger --arch ppc --macos tiger --iso "$tmp/disc.iso" --no-define --seed ppc
for f in Macintosh.img run-qemu.sh domain.xml ppc.conf; do
	[ -e "$tmp/vms/tiger/$f" ] && pass "wrote $f" || fail "no $f"
done
if command -v virt-xml-validate >/dev/null; then
	check "the domain validates" 0 virt-xml-validate "$tmp/vms/tiger/domain.xml" domain
fi
contains "domain: type qemu, ppc mac99" "$(cat "$tmp/vms/tiger/domain.xml")" "<type arch=\"ppc\" machine=\"mac99\">hvm</type>"
contains "launcher: the disc" "$(cat "$tmp/vms/tiger/run-qemu.sh")" "ide-cd,bus=ide.0,drive=Installer0"
contains "launcher: pci-testdev for Tiger" "$(cat "$tmp/vms/tiger/run-qemu.sh")" "pci-testdev"
check "same seed, same files" 0 "$bin" new tiger2 --arch ppc --macos 10.4 --iso "$tmp/disc.iso" --no-define --seed ppc
if diff <(sed 's/tiger2/tiger/g; s#vms/tiger2#vms/tiger#g' "$tmp/vms/tiger2/run-qemu.sh") "$tmp/vms/tiger/run-qemu.sh" >/dev/null; then pass "deterministic launcher"; else fail "launchers differ"; fi

if command -v qemu-system-ppc >/dev/null; then
	# The launcher itself, headless, with the serial console in a file.
	timeout 60 sh "$tmp/vms/tiger/run-qemu.sh" -serial "file:$tmp/serial.log" -display none -monitor none >/dev/null 2>&1 &
	qpid=$!
	for _ in $(seq 300); do grep -q "OpenBIOS" "$tmp/serial.log" 2>/dev/null && break; sleep 0.1; done
	kill $qpid 2>/dev/null
	pkill -f "guest=tiger" 2>/dev/null
	wait $qpid 2>/dev/null
	contains "OpenBIOS banner on serial" "$(cat "$tmp/serial.log" 2>/dev/null)" "OpenBIOS"
fi
check "list" 0 "$bin" list
contains "list: the ppc guest" "$out" "tiger"
check "rm" 0 "$bin" rm tiger --yes --connect test:///default
[ ! -e "$tmp/vms/tiger" ] && pass "rm removed it" || fail "rm left files"
done_testing
