#!/bin/bash
# SPDX-License-Identifier: MIT
# Host inspection on fixture trees beyond the golden files: bad input never
# crashes and turns into "unknown" with a reason, --root confines every read,
# and one smoke run on this very machine.
bin=$(realpath "$1")
fixtures=$2/fixtures/hosts
source "$(dirname "$0")/lib.sh"

# Statuses 0 and 1 are verdicts; anything else (2+, or a signal: 128+) is a failure here.
verdict_rc() { [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; }

for f in "$fixtures"/*/; do
	name=$(basename "$f")
	for verb in "doctor --user alice" "iommu" "devices" "--json doctor --user alice" "--json iommu" "--json devices"; do
		# shellcheck disable=SC2086
		run "$bin" --root "$f" $verb
		if verdict_rc; then pass "$name: $verb exits $rc"; else fail "$name: $verb exits $rc" "$err"; fi
	done
done

# Verdicts and exit codes.
check "healthy host: doctor exits 0" 0 "$bin" --root "$fixtures/pop-dual-gpu" doctor --user alice
contains "healthy host: no findings" "$out" "21 ok, 0 warn, 0 fail, 0 unknown"
contains "healthy host: dual GPU" "$out" "possible (dual-gpu)"
run "$bin" --root "$fixtures/amd-navi21" doctor --user alice
contains "Resizable BAR seen" "$out" "[warn] gpu.bar                0000:0b:00.0: largest BAR 16.0 GiB, mapped above 4 GiB"
run "$bin" --root "$fixtures/iommu-off" doctor --user alice
contains "GPU daemons seen" "$out" "[warn] host.gpu_daemons       installed: docker.io"
contains "DUDK found for High Sierra" "$out" "[ ok ] firmware.dudk"
run "$bin" --root "$fixtures/intel-nvidia-single" doctor --user alice
contains "DUDK missing for High Sierra" "$out" "[warn] firmware.dudk"
run "$bin" --root "$fixtures/amd-navi21" doctor --user alice
lacks "no DUDK check for Tahoe" "$out" "firmware.dudk"
check "no KVM: doctor exits 1" 1 "$bin" --root "$fixtures/no-kvm" doctor --user alice
contains "no KVM: VT-x named" "$out" "enable Intel VT-x in the firmware"
check "IOMMU off: iommu exits 1" 1 "$bin" --root "$fixtures/iommu-off" iommu
contains "IOMMU off: said" "$out" "No IOMMU groups"
run "$bin" --root "$fixtures/no-avx2" doctor --user alice
contains "no AVX2: newest macOS 12" "$out" "Newest macOS (CPU):      12 Monterey"
run "$bin" --root "$fixtures/intel-igpu-amd-shared" --json doctor --user alice
if python3 -c 'import json,sys; d=json.load(sys.stdin)["verdict"]; assert d["gpu"]["iommu_viability"]=="acs-override" and not d["passthrough"]["possible"]' <<<"$out"; then pass "shared group: acs-override in JSON"; else fail "shared group: acs-override in JSON" "${out:0:300}"; fi

# iommu filters.
run "$bin" --root "$fixtures/intel-nvidia-single" iommu --usb
contains "--usb shows the xHCI" "$out" "0000:00:14.0"
lacks "--usb hides the GPU" "$out" "0000:01:00.0"
run "$bin" --root "$fixtures/intel-nvidia-single" iommu --group 7
contains "--group shows the group" "$out" "2 devices shown"
run "$bin" --root "$fixtures/intel-nvidia-single" iommu --id 10de
contains "--id VENDOR" "$out" "2 devices shown"
run "$bin" --root "$fixtures/intel-nvidia-single" iommu --id 10de:10f0
contains "--id VENDOR:DEVICE" "$out" "1 device shown"
run "$bin" --root "$fixtures/intel-nvidia-single" iommu --nvme --audio
contains "filters combine (NVMe)" "$out" "0000:02:00.0"
contains "filters combine (audio)" "$out" "0000:01:00.1"
run "$bin" --root "$fixtures/intel-nvidia-single" iommu --audio
contains "chipset audio needs an ACS override" "$out" "acs-override"

# Broken trees: each broken part is reported as unknown with its reason.
run "$bin" --root "$fixtures/bad-empty" doctor --user alice
contains "empty cpuinfo is unknown" "$out" "[ ?? ] cpu.vendor"
contains "empty cpuinfo reason" "$out" "no 'processor' entries in /proc/cpuinfo"
contains "empty meminfo reason" "$out" "no valid 'MemTotal' in /proc/meminfo"
contains "empty cmdline reason" "$out" "/proc/cmdline is empty"
run "$bin" --root "$fixtures/bad-garbage" doctor --user alice
verdict_rc && pass "garbage: doctor survives" || fail "garbage: doctor survives" "$err"
run "$bin" --root "$fixtures/bad-garbage" --json doctor --user alice
if python3 -m json.tool <<<"$out" >/dev/null 2>&1; then pass "garbage: JSON stays valid"; else fail "garbage: JSON stays valid"; fi
run "$bin" --root "$fixtures/bad-loops" doctor --user alice
contains "cpuinfo symlink loop is unknown" "$out" "cannot read /proc/cpuinfo: Too many levels of symbolic links"
run "$bin" --root "$fixtures/bad-loops" iommu
verdict_rc && pass "loops: iommu survives" || fail "loops: iommu survives" "$err"
run "$bin" --root "$fixtures/bad-truncated" iommu
contains "device without vendor is named" "$out" "cannot read 'vendor'"

# --root confines absolute symlinks: a link to /etc/os-release inside the tree
# must read the tree's file, never this machine's.
mkdir -p "$tmp/r/etc" "$tmp/r/proc"
echo 'PRETTY_NAME="Fixture OS"' >"$tmp/r/etc/fixture-release"
echo 'ID=fixture' >>"$tmp/r/etc/fixture-release"
ln -s /etc/fixture-release "$tmp/r/etc/os-release"
ln -s /proc/self/status "$tmp/r/proc/cpuinfo"
run "$bin" --root "$tmp/r" doctor
contains "absolute link resolved inside the root" "$out" "Host: Fixture OS"
contains "link out of the root is not followed" "$out" "cannot read /proc/cpuinfo: No such file or directory"
lacks "nothing of this machine's CPU leaks in" "$out" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# Unreadable files (as an unprivileged user: root reads everything).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	cp -a "$fixtures/intel-nvidia-single" "$tmp/u"
	# The unprivileged user must reach the binary and the data wherever this checkout lives.
	cp "$bin" "$tmp/dkvm"
	cp -r "$(dirname "$0")/../../data" "$tmp/data"
	chmod -R a+rX "$tmp"
	chmod 000 "$tmp/u/proc/cpuinfo" "$tmp/u/proc/meminfo"
	dev=$(ls "$tmp/u/sys/bus/pci/devices" | head -1)
	chmod 000 "$(readlink -f "$tmp/u/sys/bus/pci/devices/$dev")/class"
	chmod 000 "$tmp/u/sys/kernel/iommu_groups"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/dkvm" --data-dir "$tmp/data" --root "$tmp/u" doctor --user alice
	contains "unreadable cpuinfo: permission named" "$out" "cannot read /proc/cpuinfo: Permission denied"
	contains "unreadable meminfo: unknown" "$out" "[ ?? ] memory.size"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/dkvm" --data-dir "$tmp/data" --root "$tmp/u" iommu
	contains "unreadable group dir: named" "$out" "Permission denied"
	contains "unreadable class: named" "$out" "cannot read 'class': Permission denied"
	chmod -R u+rwX "$tmp/u"
else
	pass "unreadable files # SKIP needs root and setpriv"
fi

# Smoke run on this machine: it must not fail, whatever the verdict.
run "$bin" doctor
verdict_rc && pass "real host: doctor exits $rc" || fail "real host: doctor exits $rc" "$err"
contains "real host: a verdict" "$out" "Verdict"
run "$bin" --json doctor
if python3 -m json.tool <<<"$out" >/dev/null 2>&1; then pass "real host: doctor JSON"; else fail "real host: doctor JSON" "${out:0:300}"; fi
run "$bin" iommu
verdict_rc && pass "real host: iommu exits $rc" || fail "real host: iommu exits $rc" "$err"
run "$bin" devices
[ "$rc" -eq 0 ] && pass "real host: devices" || fail "real host: devices exits $rc" "$err"
run "$bin" compat cpu
verdict_rc && pass "real host: compat cpu exits $rc" || fail "real host: compat cpu" "$err"
done_testing
