#!/bin/bash
# SPDX-License-Identifier: MIT
# Run-time binding, the single-GPU hook, bridge, setup and governor against a
# fixture sysfs: the test reads back what darwinkvm wrote to driver_override,
# unbind, bind, drivers_probe, vtcon*/bind and the EFI framebuffer. Never
# touches this machine's drivers or devices.
bin=$(realpath "$1")
tests=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
# The trees live on tmpfs where there is one: every atomic write fsyncs twice.
if shm=$(mktemp -d /dev/shm/dkvm-prep.XXXXXX 2>/dev/null); then
	trap 'rm -rf "$tmp" "$shm"' EXIT
	tmp=$shm
fi
export SOURCE_DATE_EPOCH=1700000000
make_tree() { bash "$tests/fixtures/prep/make-tree.sh" "$1" "$2"; }
golden_dir=$tests/golden/prep
golden() {
	local f=$golden_dir/$1.out got
	got=$(printf '%s\n--- stderr\n%s\n--- exit %s\n' "$out" "$err" "$rc" | sed "s|$tmp|TMP|g")
	if [ -n "${DARWINKVM_TEST_REGENERATE:-}" ]; then
		printf '%s\n' "$got" >"$f"
		pass "$1 (regenerated)"
	elif [ "$got" == "$(cat "$f" 2>/dev/null)" ]; then
		pass "$1 matches its golden file"
	else
		fail "$1 differs from its golden file" "$(diff <(printf '%s\n' "$got") "$f" | head -20 | tr '\n' '|')"
	fi
}
etc_snap() { (cd "$1" && find etc -printf '%y %m %l %p\n' | sort && find etc -type f -print0 | sort -z | xargs -0 md5sum); }
attr() { cat "$t/sys/bus/pci/devices/$1/$2"; }

# ---------------- vfio bind / unbind ----------------
t=$tmp/arch
make_tree arch "$t"
dev=$t/sys/bus/pci/devices/0000:0e:00.4
run "$bin" --root "$t" host vfio bind 0000:0e:00.4 --apply
golden vfio-bind
contains "bind: driver_override" "$(cat "$dev/driver_override")" "vfio-pci"
contains "bind: unbound from snd_hda_intel" "$(cat "$t/sys/bus/pci/drivers/snd_hda_intel/unbind")" "0000:0e:00.4"
contains "bind: probed" "$(cat "$t/sys/bus/pci/drivers_probe")" "0000:0e:00.4"
contains "bind: the original driver recorded" "$(cat "$t/run/darwinkvm/vfio/0000:0e:00.4")" "snd_hda_intel"
run "$bin" --root "$t" host vfio unbind 0000:0e:00.4 --apply
golden vfio-unbind
[ "$(cat "$dev/driver_override")" == "" ] && pass "unbind: driver_override cleared" || fail "unbind: driver_override cleared"
contains "unbind: the original driver bound again" "$(cat "$t/sys/bus/pci/drivers/snd_hda_intel/bind")" "0000:0e:00.4"
[ -e "$t/run/darwinkvm/vfio/0000:0e:00.4" ] && fail "unbind: record removed" || pass "unbind: record removed"
check "bind: the boot GPU is refused" 1 "$bin" --root "$t" host vfio bind 0000:0b:00.0 --apply
contains "bind: the boot GPU: points at the hook" "$err" "host hooks install"
check "bind: an unknown device" 1 "$bin" --root "$t" host vfio bind 0000:77:00.0 --apply
check "bind: not a BDF" 2 "$bin" --root "$t" host vfio bind 01:00 --apply
t2=$tmp/fedora
make_tree fedora "$t2"
check "bind: a group with host devices is refused" 1 "$bin" --root "$t2" host vfio bind 0000:01:00.0 --apply
contains "bind: names the device the host needs" "$err" "which the host needs"
lacks "bind: nothing written on refusal" "$(cat "$t2/sys/bus/pci/devices/0000:01:00.0/driver_override")" "vfio"
t3=$tmp/ubuntu
make_tree ubuntu "$t3"
check "bind: IOMMU off is refused" 1 "$bin" --root "$t3" host vfio bind 0000:04:00.0 --apply
contains "bind: IOMMU off: says so" "$err" "in no IOMMU group"
t4=$tmp/dry
make_tree arch "$t4"
run "$bin" --root "$t4" host vfio bind 0000:0e:00.4 --dry-run
contains "bind --dry-run: says what it would write" "$out" "would write 'vfio-pci' to /sys/bus/pci/devices/0000:0e:00.4/driver_override"
[ -s "$t4/sys/bus/pci/devices/0000:0e:00.4/driver_override" ] && fail "bind --dry-run writes nothing" || pass "bind --dry-run writes nothing"

# ---------------- single-GPU hooks ----------------
t=$tmp/hooks
make_tree arch "$t"
before=$(etc_snap "$t")
run "$bin" --root "$t" host hooks install --vm macOS --vm "Sonoma VM" --apply
golden hooks-install
hook=$t/etc/libvirt/hooks/qemu
contains "hook: executable" "$(stat -c %a "$hook")" "755"
if sh -n "$hook"; then pass "hook: valid sh"; else fail "hook: valid sh"; fi
# The hook calls darwinkvm for the named VMs only: run it with a stand-in darwinkvm.
mkdir -p "$tmp/stub" "$tmp/log"
printf '#!/bin/sh\necho "$@" >>%s/calls\n' "$tmp" >"$tmp/stub/darwinkvm"
chmod +x "$tmp/stub/darwinkvm"
sed -e "s|^PATH=.*|PATH=$tmp/stub:/usr/bin:/bin|" -e "s|^log=.*|log=$tmp/log/hook.log|" "$hook" >"$tmp/hook.sh"
sh "$tmp/hook.sh" macOS prepare begin -
sh "$tmp/hook.sh" "Sonoma VM" release end -
sh "$tmp/hook.sh" Windows prepare begin -
sh "$tmp/hook.sh" macOS started begin -
contains "hook: prepare for a named VM" "$(cat "$tmp/calls")" "hook prepare macOS"
contains "hook: release for a named VM with a space" "$(cat "$tmp/calls")" "hook release Sonoma VM"
lacks "hook: other VMs left alone" "$(cat "$tmp/calls")" "Windows"
contains "hook: two calls only" "$(wc -l <"$tmp/calls")" "2"

run "$bin" --root "$t" hook prepare macOS --apply
golden hook-prepare
contains "prepare: vtcon1 unbound" "$(cat "$t/sys/class/vtconsole/vtcon1/bind")" "0"
contains "prepare: vtcon0 (not bound) untouched" "$(cat "$t/sys/class/vtconsole/vtcon0/bind")" "0"
contains "prepare: EFI framebuffer unbound" "$(cat "$t/sys/bus/platform/drivers/efi-framebuffer/unbind")" "efi-framebuffer.0"
contains "prepare: GPU to vfio-pci" "$(attr 0000:0b:00.0 driver_override)" "vfio-pci"
contains "prepare: its audio too (whole group)" "$(attr 0000:0b:00.1 driver_override)" "vfio-pci"
contains "prepare: unbound from amdgpu" "$(cat "$t/sys/bus/pci/drivers/amdgpu/unbind")" "0000:0b:00.0"
contains "prepare: amdgpu unloaded (shown: not this kernel's)" "$out" "would unload module amdgpu"
contains "prepare: state recorded" "$(cat "$t/run/darwinkvm/hooks/macOS.state")" "vfio 0000:0b:00.0 amdgpu"
check "prepare twice is refused" 1 "$bin" --root "$t" hook prepare macOS --apply
contains "prepare twice: says release first" "$err" "hook release macOS"
run "$bin" --root "$t" hook release macOS --apply
golden hook-release
contains "release: vtcon1 bound again" "$(cat "$t/sys/class/vtconsole/vtcon1/bind")" "1"
contains "release: EFI framebuffer bound again" "$(cat "$t/sys/bus/platform/drivers/efi-framebuffer/bind")" "efi-framebuffer.0"
contains "release: GPU back to amdgpu" "$(cat "$t/sys/bus/pci/drivers/amdgpu/bind")" "0000:0b:00.0"
[ "$(attr 0000:0b:00.0 driver_override)" == "" ] && pass "release: override cleared" || fail "release: override cleared"
[ -e "$t/run/darwinkvm/hooks/macOS.state" ] && fail "release: state removed" || pass "release: state removed"
check "release without prepare: nothing to do" 0 "$bin" --root "$t" hook release macOS --apply
contains "release without prepare: says so" "$out" "nothing to release"
check "prepare for another VM: nothing" 0 "$bin" --root "$t" hook prepare Windows --apply
contains "prepare for another VM: says so" "$out" "not a darwinkvm single-GPU VM"

# A failing step: prepare gives back what it took, in reverse order.
rm "$t/sys/bus/pci/devices/0000:0b:00.1/driver_override"
echo 1 >"$t/sys/class/vtconsole/vtcon1/bind"
: >"$t/sys/bus/platform/drivers/efi-framebuffer/bind"
run "$bin" --root "$t" hook prepare macOS --apply
golden hook-prepare-fails
[ "$rc" -eq 1 ] && pass "failed prepare exits 1" || fail "failed prepare exits 1" "rc $rc"
contains "failed prepare: console back" "$(cat "$t/sys/class/vtconsole/vtcon1/bind")" "1"
contains "failed prepare: framebuffer back" "$(cat "$t/sys/bus/platform/drivers/efi-framebuffer/bind")" "efi-framebuffer.0"
[ -e "$t/run/darwinkvm/hooks/macOS.state" ] && fail "failed prepare: no state left" || pass "failed prepare: no state left"

check "hooks uninstall" 0 "$bin" --root "$t" host hooks uninstall --apply
[ "$before" == "$(etc_snap "$t")" ] && pass "hooks uninstall: /etc as before" || fail "hooks uninstall: /etc as before"

# Someone else's hook is not overwritten.
t=$tmp/foreign
make_tree debian "$t"
mkdir -p "$t/etc/libvirt/hooks"
printf '#!/bin/bash\n# RisingPrism\n' >"$t/etc/libvirt/hooks/qemu"
check "foreign hook: refused" 1 "$bin" --root "$t" host hooks install --vm macOS --apply
contains "foreign hook: says whose" "$err" "is not darwinkvm's"
# AMD reset bug: the workaround is chosen from the data.
t=$tmp/resetbug
make_tree fedora "$t"
run "$bin" --root "$t" host hooks install --vm macOS --gpu 0000:01:00.0 --apply
contains "reset bug: named" "$out" "has the AMD reset bug: using the suspend workaround"
contains "reset bug: recorded" "$(cat "$t/etc/darwinkvm/hooks.conf")" "reset-workaround suspend"
run "$bin" --root "$t" host hooks install --vm macOS --reset-workaround vendor-reset --apply
contains "reset bug: the choice kept" "$(cat "$t/etc/darwinkvm/hooks.conf")" "reset-workaround vendor-reset"
check "reset bug: a bad choice" 2 "$bin" --root "$t" host hooks install --vm macOS --reset-workaround kick --apply

# ---------------- bridge ----------------
t=$tmp/bridge
make_tree debian "$t"
before=$(etc_snap "$t")
check "bridge: Wi-Fi refused" 1 "$bin" --root "$t" host bridge --nic wlp4s0 --apply
contains "bridge: Wi-Fi: says why" "$err" "is Wi-Fi"
check "bridge: no such interface" 1 "$bin" --root "$t" host bridge --nic eth9 --apply
run "$bin" --root "$t" host bridge --nic enp3s0 --apply
golden bridge-networkd
check "bridge: undo" 0 "$bin" --root "$t" host undo --all --apply
[ "$before" == "$(etc_snap "$t")" ] && pass "bridge: undone" || fail "bridge: undone"
t=$tmp/bridge-nm
make_tree arch "$t"
run "$bin" --root "$t" host bridge --nic enp3s0 --apply
golden bridge-networkmanager
contains "bridge: keyfiles are 0600" "$(stat -c %a "$t/etc/NetworkManager/system-connections/darwinkvm-br0.nmconnection")" "600"

# ---------------- setup ----------------
t=$tmp/setup
make_tree debian "$t"
before=$(etc_snap "$t")
run "$bin" --root "$t" host setup --user alice --evdev --hugepages 8G --apply
golden setup
check "setup twice: no file changes" 0 "$bin" --root "$t" host setup --user alice --evdev --hugepages 8G --apply
lacks "setup twice: no diff" "$out" "+++"
run "$bin" --root "$t" host undo --all --apply
golden setup-undo
[ "$before" == "$(etc_snap "$t")" ] && pass "setup: undone" || fail "setup: undone"
check "setup: a bad size" 2 "$bin" --root "$t" host setup --hugepages lots

# ---------------- governor ----------------
t=$tmp/gov
make_tree arch "$t"
run "$bin" --root "$t" host governor performance --apply
golden governor
contains "governor: cpu3 performance" "$(cat "$t/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor")" "performance"
run "$bin" --root "$t" host governor performance --apply
contains "governor twice: the first state kept" "$(cat "$t/var/lib/darwinkvm/governor")" "schedutil"
check "governor restore" 0 "$bin" --root "$t" host governor restore --apply
contains "governor: restored" "$(cat "$t/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")" "schedutil"
check "governor: unknown one refused" 2 "$bin" --root "$t" host governor turbo --apply
contains "governor: lists the available" "$err" "performance powersave schedutil"

done_testing
