#!/bin/bash
# SPDX-License-Identifier: MIT
# A real libvirt (started here, no systemd) and real boots under TCG: a VM whose
# OpenCore disk is a GPT/FAT32 image with a marker EFI as EFI/BOOT/BOOTX64.efi is
# defined, started, seen printing the marker on its serial log, stopped and
# undefined through `darwinkvm vm`; redefinition keeps UUID and NVRAM; a domain
# darwinkvm did not make is refused; the same over qemu+tcp://127.0.0.1; and the
# QEMU argv boots the same disk to the same marker. Everything touched is restored.
bin=$(realpath "$1")
tests=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
source "$tests/helpers/libvirtd.sh"

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}
for t in qemu-system-x86_64 grub-mkstandalone sgdisk mformat mcopy virsh; do
	command -v "$t" >/dev/null || skip_all "$t not installed"
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip_all "no OVMF"
[ "$(id -u)" = 0 ] || skip_all "needs root (system libvirtd)"

# The disk lives where libvirt's QEMU (libvirt-qemu) can reach it.
work=$(mktemp -d /var/tmp/dkvm-t0701.XXXXXX)
chmod 755 "$work"
name=dkvm-t0701-$$
foreign=dkvm-t0701-foreign-$$
cleanup() {
	for d in "$name" "$foreign"; do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
		virsh -c qemu:///system undefine --nvram "$d" >/dev/null 2>&1
	done
	libvirtd_stop
	rm -rf "$work" "$tmp"
}
trap cleanup EXIT

marker="DKVM-T0701-$$-MARKER"
bash "$tests/helpers/make-marker-efi.sh" "$work/BOOTX64.efi" "$marker" || skip_all "grub-mkstandalone failed"
img=$work/OpenCore.img
truncate -s 64M "$img"
sgdisk --clear --new=1:2048:0 --typecode=1:EF00 --change-name=1:"EFI System Partition" "$img" >/dev/null
sectors=$(sgdisk -i 1 "$img" | awk '/Partition size/ { print $3 }')
mformat -i "$img@@1M" -F -v OPENCORE -T "$sectors" ::
mmd -i "$img@@1M" ::/EFI ::/EFI/BOOT
mcopy -i "$img@@1M" "$work/BOOTX64.efi" ::/EFI/BOOT/BOOTX64.efi

mkdir -p "$work/vms/$name"
uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
spec=$work/vms/$name/vm.conf
cat >"$spec" <<CONF
# The boot self-test's machine: one vCPU, 1 GiB, the marker disk, user network.
[vm]
name = $name
uuid = $uuid
macos = 14

[cpu]
cores = 1
vcpus = 1
host_cores = 1
pin = no

[memory]
size = 1G

[disks]
opencore = $img

[network]
mode = user
CONF
serial=$work/serial.log
nvram=$work/vms/$name/${name}_VARS.fd

libvirtd_start --tcp
r=$?
[ $r = 77 ] && skip_all "libvirtd cannot run here"
[ $r = 0 ] || {
	fail "libvirtd started"
	done_testing
	exit 1
}
pass "libvirtd started (uri $LIBVIRTD_URI)"
export LIBVIRT_DEFAULT_URI=qemu:///system
export DARWINKVM_VMS_DIR=$work/vms
opts=(--tcg --headless --serial "$serial")

# libvirt's QEMU driver accepts every XML of the golden matrix (passthrough, pinning, evdev,
# bridge, macvtap, DUDK...): defined and undefined at once, never started.
bash "$tests/helpers/vm-fixtures.sh" "$tests" "$tmp/hosts" || fail "fixture hosts"
kvm_opt=()
virsh capabilities 2>/dev/null | grep -q "<domain type='kvm'" || kvm_opt=(--tcg)
for c in mp71-intel-8c16t:intel-8c16t mp71-amd-navi21:amd-navi21 mp51-6c12t-bridge:no-avx2 \
	mp41-leopard:intel-nvidia-single dual-gpu-evdev:pop-dual-gpu; do
	case=${c%%:*}
	"$bin" --root "$tmp/hosts/${c#*:}" vm xml "${kvm_opt[@]}" "$tests/fixtures/vm/$case/vm.conf" \
		>"$tmp/$case.xml" 2>/dev/null
	dom=$(sed -n 's|^  <name>\(.*\)</name>$|\1|p' "$tmp/$case.xml")
	if virsh define "$tmp/$case.xml" >"$tmp/define.out" 2>&1; then
		pass "libvirt accepts the $case XML"
	else
		fail "libvirt accepts the $case XML" "$(cat "$tmp/define.out")"
	fi
	virsh undefine --nvram "$dom" >/dev/null 2>&1
done

check "define" 0 "$bin" vm define "${opts[@]}" "$name"
contains "define: said" "$out" "Defined $name on qemu:///system (uuid $uuid)"
check "status: shut off, ours" 0 "$bin" vm status "$name"
contains "status: shut off" "$out" "$name: shut off"
contains "status: made by darwinkvm" "$out" "made by: darwinkvm"
contains "status: spec recorded" "$out" "spec:    $spec"
dumped=$(virsh dumpxml "$name")
contains "libvirt keeps the explicit loader" "$dumped" "<loader readonly='yes' secure='no' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
contains "libvirt keeps the per-VM NVRAM" "$dumped" "$nvram</nvram>"
contains "libvirt keeps our metadata" "$dumped" "urn:darwinkvm:vm:1"

start_ms=$(date +%s%N)
check "start" 0 "$bin" vm start "$name"
found=0
for _ in $(seq 1 600); do
	if grep -a -q -- "$marker" "$serial" 2>/dev/null; then
		found=1
		break
	fi
	sleep 0.1
done
if [ $found = 1 ]; then
	pass "marker on the serial log after $((($(date +%s%N) - start_ms) / 1000000)) ms"
else
	fail "marker on the serial log" "$(tail -c 600 "$serial" 2>/dev/null | tr -d '\033')"
fi
grep -a -q 'BdsDxe: starting Boot0001' "$serial" && pass "OVMF booted the OpenCore disk" ||
	fail "OVMF booted the OpenCore disk"
[ -f "$nvram" ] && pass "NVRAM created from the template" || fail "NVRAM created from the template"
# GRUB halts: the domain shuts off by itself; stop is then a no-op.
for _ in $(seq 1 100); do
	virsh domstate "$name" 2>/dev/null | grep -q 'shut off' && break
	sleep 0.1
done
check "stop after the guest powered off" 0 "$bin" vm stop "$name"
contains "stop: not running" "$out" "is not running"

# Started again and stopped while it runs (forced: the GRUB guest has no ACPI handler running).
: >"$serial" 2>/dev/null
check "start again" 0 "$bin" vm start "$name"
check "start while running: refused" 1 "$bin" vm start "$name"
contains "start while running: said" "$err" "already running"
check "stop --force" 0 "$bin" vm stop --force "$name"
contains "stop --force: said" "$out" "Stopped $name"

# Redefinition keeps the UUID and the NVRAM, even when the spec's UUID changed.
echo "nvram-mark" >>"$nvram"
sed -i "s/^uuid = .*/uuid = $(python3 -c 'import uuid; print(uuid.uuid4())')/" "$spec"
check "redefine" 0 "$bin" vm define "${opts[@]}" "$spec"
contains "redefine: said" "$out" "Redefined $name"
contains "redefine: UUID kept" "$out" "(uuid $uuid)"
contains "redefine: warned about the UUID" "$err" "keeping the domain's UUID $uuid"
grep -q nvram-mark "$nvram" && pass "redefine: NVRAM kept" || fail "redefine: NVRAM kept"

# A domain darwinkvm did not make is never touched.
cat >"$work/foreign.xml" <<XML
<domain type='qemu'><name>$foreign</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>
XML
virsh define "$work/foreign.xml" >/dev/null
sed "s/^name = .*/name = $foreign/" "$spec" >"$work/foreign.conf"
check "define over a foreign domain: refused" 1 "$bin" vm define "${opts[@]}" "$work/foreign.conf"
contains "foreign: said" "$err" "was not made by darwinkvm"
check "undefine a foreign domain: refused" 1 "$bin" vm undefine "$foreign"
check "start a foreign domain: refused" 1 "$bin" vm start "$foreign"
check "status of a foreign domain" 0 "$bin" vm status "$foreign"
contains "status: not ours" "$out" "made by: not darwinkvm"
virsh undefine "$foreign" >/dev/null

# Undefine keeps the NVRAM unless asked.
check "undefine" 0 "$bin" vm undefine "$name"
[ -f "$nvram" ] && pass "undefine: NVRAM kept" || fail "undefine: NVRAM kept"
check "status after undefine: no such domain" 1 "$bin" vm status "$name"
contains "status: said" "$err" "no such domain"

# Remote transport: the same daemon over TCP on 127.0.0.1.
if [ -n "$LIBVIRTD_TCP_URI" ]; then
	check "tcp: define" 0 "$bin" vm define "${opts[@]}" --connect "$LIBVIRTD_TCP_URI" "$name"
	contains "tcp: defined over tcp" "$out" "on $LIBVIRTD_TCP_URI"
	check "tcp: status" 0 "$bin" --json vm status --connect "$LIBVIRTD_TCP_URI" "$name"
	contains "tcp: status JSON" "$out" '"darwinkvm":true'
	check "tcp: undefine --nvram" 0 "$bin" vm undefine --nvram --connect "$LIBVIRTD_TCP_URI" "$name"
	[ ! -f "$nvram" ] && pass "undefine --nvram: NVRAM removed" || fail "undefine --nvram: NVRAM removed"
else
	pass "tcp # SKIP a libvirtd started elsewhere is running (no TCP listener of ours)"
fi
check "bad URI: exit 3" 3 "$bin" vm status --connect "qemu+tcp://127.0.0.1:1/system" "$name"

# The QEMU argv boots the same disk to the same marker.
run "$bin" vm qemu --print --tcg --headless "$spec"
if [ "$rc" -eq 0 ]; then
	eval "argv=($out)"
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$nvram"
	if bash "$tests/helpers/qemu-wait-marker.sh" "$marker" 90 "$work/qemu-serial.log" -- "${argv[@]}" >"$work/wait.out"; then
		pass "QEMU argv boots to the marker ($(cat "$work/wait.out"))"
	else
		fail "QEMU argv boots to the marker" "$(cat "$work/wait.out")"
	fi
else
	fail "vm qemu --print" "$err"
fi

# `vm qemu` runs QEMU itself, making the NVRAM from the template first.
rm -f "$nvram" "$work/exec-serial.log"
"$bin" vm qemu --tcg --headless --serial "$work/exec-serial.log" "$spec" >"$work/exec.out" 2>&1 &
qpid=$!
found=0
for _ in $(seq 1 900); do
	if grep -a -q -- "$marker" "$work/exec-serial.log" 2>/dev/null; then
		found=1
		break
	fi
	kill -0 $qpid 2>/dev/null || break
	sleep 0.1
done
kill $qpid 2>/dev/null
wait $qpid 2>/dev/null
[ $found = 1 ] && pass "vm qemu runs QEMU to the marker" ||
	fail "vm qemu runs QEMU to the marker" "$(tail -5 "$work/exec.out")"
[ -f "$nvram" ] && pass "vm qemu made the NVRAM" || fail "vm qemu made the NVRAM"
done_testing
