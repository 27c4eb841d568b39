#!/bin/bash
# SPDX-License-Identifier: MIT
# The VM generators against golden files: the domain XML and the QEMU argv of a
# matrix of specs (MacPro7,1 on Intel 8c/16t and AMD with a GPU, MacPro5,1 on
# 6c/12t with a bridge, MacPro4,1, dual GPU with evdev), every XML validated by
# virt-xml-validate; one bad spec per validation rule with its one-line error.
# DARWINKVM_TEST_REGENERATE=1 rewrites the golden files.
bin=$(realpath "$1")
tests=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
golden=$tests/golden/vm
regen=${DARWINKVM_TEST_REGENERATE:-}
bash "$tests/helpers/vm-fixtures.sh" "$tests" "$tmp/hosts" || exit 1

# Paths that differ from checkout to checkout.
normalize() { sed -e "s#$tests#@TESTS@#g"; }

# golden NAME FILE TEXT
golden() {
	local name=$1 file=$2 text=$3
	if [ -n "$regen" ]; then
		printf '%s\n' "$text" >"$file"
		pass "$name # regenerated"
	elif [ ! -f "$file" ]; then
		fail "$name" "no golden file $file (DARWINKVM_TEST_REGENERATE=1)"
	elif diff -u "$file" <(printf '%s\n' "$text") >"$tmp/diff"; then
		pass "$name"
	else
		fail "$name" "$(head -40 "$tmp/diff")"
	fi
}

have_validate=0
command -v virt-xml-validate >/dev/null && have_validate=1

cases=(
	"mp71-intel-8c16t|intel-8c16t|"
	"mp71-amd-navi21|amd-navi21|"
	"mp51-6c12t-bridge|no-avx2|"
	"mp41-leopard|intel-nvidia-single|"
	"dual-gpu-evdev|pop-dual-gpu|"
	"mp71-intel-8c16t-selftest|intel-8c16t|--tcg --headless --serial /var/log/dkvm-selftest.log"
)
for c in "${cases[@]}"; do
	IFS='|' read -r name host opts <<<"$c"
	spec=$tests/fixtures/vm/${name%-selftest}/vm.conf
	# shellcheck disable=SC2086
	run "$bin" --root "$tmp/hosts/$host" vm xml $opts "$spec"
	if [ "$rc" -ne 0 ]; then
		fail "$name: vm xml exits 0" "exit $rc" "$err"
		continue
	fi
	printf '%s\n' "$out" >"$tmp/$name.xml"
	golden "$name: domain XML" "$golden/$name.xml" "$(printf '%s\n' "$out" | normalize)"
	if [ $have_validate = 1 ]; then
		if virt-xml-validate "$tmp/$name.xml" domain >"$tmp/v" 2>&1; then
			pass "$name: virt-xml-validate"
		else
			fail "$name: virt-xml-validate" "$(cat "$tmp/v")"
		fi
	else
		pass "$name: virt-xml-validate # SKIP not installed"
	fi
	# shellcheck disable=SC2086
	run "$bin" --root "$tmp/hosts/$host" vm qemu --print $opts "$spec"
	if [ "$name" = dual-gpu-evdev ]; then
		# macvtap only exists through libvirt: the argv refuses it, naming the key.
		if [ "$rc" -eq 1 ] && [[ $err == *"network.mode = macvtap needs libvirt"* ]]; then
			pass "$name: qemu argv refuses macvtap"
		else
			fail "$name: qemu argv refuses macvtap" "exit $rc" "$err"
		fi
		continue
	fi
	golden "$name: QEMU argv" "$golden/$name.argv" "$(printf '%s\n' "$out" | normalize)"
done

# Facts of the matrix, beyond the golden files.
x=$(cat "$tmp/mp71-intel-8c16t.xml")
contains "8c/16t: fake core count 14 of 16" "$x" '<vcpu placement="static" current="14">16</vcpu>'
contains "8c/16t: vCPU 1 on host thread 9 (siblings n, n+8)" "$x" '<vcpupin vcpu="1" cpuset="9"/>'
contains "8c/16t: emulator on the host's core" "$x" '<emulatorpin cpuset="0,8"/>'
contains "8c/16t: iothread attached to the disk" "$x" 'iothread="1"/>'
contains "8c/16t: hugepages" "$x" '<hugepages/>'
contains "8c/16t: explicit OVMF loader" "$x" '<loader readonly="yes" secure="no" type="pflash">/usr/share/OVMF/OVMF_CODE_4M.fd</loader>'
lacks "8c/16t: never firmware='efi' alone" "$x" 'firmware='
x=$(cat "$tmp/mp71-amd-navi21.xml")
contains "AMD: topoext" "$x" '<feature policy="require" name="topoext"/>'
contains "AMD: GPU multifunction" "$x" 'function="0x0" multifunction="on"/>'
contains "AMD: audio function 1 on the GPU's slot" "$x" '<address type="pci" domain="0x0000" bus="0x01" slot="0x00" function="0x1"/>'
contains "AMD: the GPU's USB function as function 2 of its slot" "$x" 'bus="0x01" slot="0x00" function="0x2"/>'
lacks "AMD: no emulated tablet with a GPU" "$x" 'usb-tablet'
x=$(cat "$tmp/mp51-6c12t-bridge.xml")
contains "6c/12t: 10 of 16 vCPUs" "$x" '<vcpu placement="static" current="10">16</vcpu>'
contains "6c/12t: vCPU 1 on host thread 7 (siblings n, n+6)" "$x" '<vcpupin vcpu="1" cpuset="7"/>'
contains "MacPro5,1: DUDK" "$x" 'DUDK_CODE.fd</loader>'
contains "MacPro5,1: Westmere with rdrand" "$x" 'Westmere-v2,vendor=GenuineIntel,+rdrand'
contains "MacPro5,1: SATA" "$x" 'bus="sata"'
contains "MacPro5,1: vmxnet3 on br0" "$x" '<source bridge="br0"/>'
x=$(cat "$tmp/mp41-leopard.xml")
contains "MacPro4,1: Conroe" "$x" 'Conroe-v1,vendor=GenuineIntel'
contains "Leopard: e1000-82545em" "$x" '<model type="e1000-82545em"/>'
x=$(cat "$tmp/dual-gpu-evdev.xml")
contains "evdev keyboard with grab toggle" "$x" 'grab="all" grabToggle="ctrl-scrolllock" repeat="on"'
contains "macvtap" "$x" '<interface type="direct">'
x=$(cat "$tmp/mp71-intel-8c16t-selftest.xml")
contains "self-test: domain type qemu" "$x" '<domain type="qemu"'
contains "self-test: serial to a file" "$x" '<source path="/var/log/dkvm-selftest.log"/>'

# evdev needs the devices in qemu.conf's cgroup ACL: said with the XML.
run "$bin" --root "$tmp/hosts/pop-dual-gpu" vm xml "$tests/fixtures/vm/dual-gpu-evdev/vm.conf"
contains "evdev: the qemu.conf ACL line" "$err" 'cgroup_device_acl = [ "/dev/null"'
contains "evdev: the keyboard in the ACL" "$err" '"/dev/input/by-id/usb-Logitech_USB_Keyboard-event-kbd"'
run "$bin" --root "$tmp/hosts/amd-navi21" vm xml "$tests/fixtures/vm/mp71-amd-navi21/vm.conf"
lacks "no evdev: no ACL note" "$err" "cgroup_device_acl"
# The argv as JSON, for programs.
run "$bin" --root "$tmp/hosts/amd-navi21" --json vm qemu "$tests/fixtures/vm/mp71-amd-navi21/vm.conf"
if printf '%s' "$out" | python3 -c 'import json, sys; a = json.load(sys.stdin)["argv"]; sys.exit(a[0] != "qemu-system-x86_64" or "-cpu" not in a)'; then
	pass "--json vm qemu: the argv as a JSON array"
else
	fail "--json vm qemu: the argv as a JSON array" "$out"
fi

# The domain type falls back to qemu with a warning when KVM cannot run the guest.
printf '[vm]\nname = t\nuuid = 11111111-2222-4333-8444-555555555555\nmacos = 14\n[disks]\nopencore = /srv/vm/OpenCore.img\n' >"$tmp/pvm.conf"
mkdir -p "$tmp/hosts/pvm"
cp -a "$tests/fixtures/hosts/pvm-nested/." "$tmp/hosts/pvm/"
mkdir -p "$tmp/hosts/pvm/srv/vm" && : >"$tmp/hosts/pvm/srv/vm/OpenCore.img"
check "PVM host: vm xml still works" 0 "$bin" --root "$tmp/hosts/pvm" vm xml "$tmp/pvm.conf"
contains "PVM host: domain type qemu" "$out" '<domain type="qemu"'
contains "PVM host: warned" "$err" "KVM cannot run this guest (/dev/kvm is kvm_pvm"

# Mojave and older want DUDK-Firmware: without it, OVMF and a warning (an explicit
# firmware.type = dudk is an error instead: bad/dudk-missing).
sed 's/^macos = 14$/macos = 10.13/' "$tmp/pvm.conf" >"$tmp/hs.conf"
check "no DUDK: vm xml still works" 0 "$bin" --root "$tmp/hosts/amd-navi21" vm xml "$tmp/hs.conf"
contains "no DUDK: OVMF" "$out" '/usr/share/edk2/x64/OVMF_CODE.4m.fd</loader>'
contains "no DUDK: warned" "$err" "macOS 10.13 wants DUDK-Firmware"

# Bad specs: one per rule, each with its one-line error and exit status.
for f in "$tests"/fixtures/vm/bad/*.conf; do
	name=$(basename "$f" .conf)
	host=$(sed -n 's/^# host: //p' "$f")
	run "$bin" --root "$tmp/hosts/$host" vm xml "$f"
	if [ -n "$out" ]; then
		fail "bad spec $name: no XML" "$out"
		continue
	fi
	golden "bad spec $name" "$golden/bad/$name.err" "$(printf '%s\n# exit: %s\n' "$err" "$rc" | normalize)"
done

# The spec must name its key and line: every bad-spec error does.
for f in "$golden"/bad/*.err; do
	head -1 "$f" | grep -qE '^darwinkvm: @TESTS@/fixtures/vm/bad/[a-z0-9-]+\.conf(:[0-9]+)?: ' ||
		fail "$(basename "$f"): names the file and line" "$(head -1 "$f")"
done
pass "every bad-spec error names its file (and line)"

check "usage: vm without an action" 2 "$bin" vm
check "usage: unknown action" 2 "$bin" vm frobnicate x
contains "usage: unknown action named" "$err" "unknown action 'frobnicate'"
check "missing spec: exit 3" 3 "$bin" vm xml /nonexistent/vm.conf
contains "missing spec: said" "$err" "no such VM spec"
DARWINKVM_VMS_DIR=$tmp/vms check "VM by name: looked up in the VMs directory" 3 "$bin" vm xml myvm
contains "VM by name: the path" "$err" "$tmp/vms/myvm/vm.conf"
done_testing
