#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-fixtures.sh TESTS_DIR DEST: the host trees the VM tests read (--root), made at test time
# from the committed fixture hosts so that those stay untouched:
#   - copies of intel-nvidia-single (8c/8t), amd-navi21 (16c/32t), pop-dual-gpu (16c/32t) and
#     no-avx2 (6c/12t, siblings n and n+6);
#   - intel-8c16t: intel-nvidia-single turned into an 8-core, 16-thread CPU (siblings n and n+8,
#     as in the thread pinning write-up) with 16 GiB of 2 MiB huge pages reserved;
#   - in each: the images the specs name (/srv/vm), a bridge br0, an interface enp5s0, evdev
#     nodes, and DUDK-Firmware on the hosts that run legacy guests.
set -eu
tests=$1
dest=$2
src=$tests/fixtures/hosts
rm -rf "$dest"
mkdir -p "$dest"
for h in intel-nvidia-single amd-navi21 pop-dual-gpu no-avx2 iommu-off; do
	cp -a "$src/$h" "$dest/$h"
done
cp -a "$src/intel-nvidia-single" "$dest/intel-8c16t"

# intel-8c16t: 16 processors from the first one of the 8-thread host.
t=$dest/intel-8c16t
awk 'BEGIN { RS = ""; ORS = "" } NR == 1 { block = $0 } END {
	for (i = 0; i < 16; i++) {
		b = block
		sub(/processor[ \t]*: [0-9]+/, "processor\t: " i, b)
		sub(/core id[ \t]*: [0-9]+/, "core id\t\t: " (i % 8), b)
		sub(/siblings[ \t]*: [0-9]+/, "siblings\t: 16", b)
		sub(/apicid[ \t]*: [0-9]+/, "apicid\t\t: " (2 * (i % 8) + int(i / 8)), b)
		sub(/initial apicid[ \t]*: [0-9]+/, "initial apicid\t: " (2 * (i % 8) + int(i / 8)), b)
		if (b !~ / ht /) sub(/ tm /, " ht tm ", b)
		print b "\n\n"
	}
}' "$src/intel-nvidia-single/proc/cpuinfo" >"$t/proc/cpuinfo"
rm -rf "$t/sys/devices/system/cpu"
for i in $(seq 0 15); do
	d=$t/sys/devices/system/cpu/cpu$i/topology
	mkdir -p "$d"
	echo $((i % 8)) >"$d/core_id"
	echo 0 >"$d/physical_package_id"
	echo "$((i % 8)),$((i % 8 + 8))" >"$d/thread_siblings_list"
done
sed -i -e 's/^HugePages_Total: .*/HugePages_Total:    8192/' \
	-e 's/^HugePages_Free: .*/HugePages_Free:     8192/' "$t/proc/meminfo"
cat >"$t/FIXTURE.md" <<'DOC'
# intel-8c16t

Made by tests/helpers/vm-fixtures.sh from intel-nvidia-single: an 8-core, 16-thread Intel CPU
(thread siblings n and n+8) with 8192 huge pages of 2 MiB reserved.
DOC

for h in "$dest"/*/; do
	mkdir -p "$h/srv/vm" "$h/sys/class/net/br0/bridge" "$h/sys/class/net/enp5s0" "$h/dev/input/by-id"
	printf 'opencore image\n' >"$h/srv/vm/OpenCore.img"
	printf 'QFI\373\0\0\0\3' >"$h/srv/vm/macOS.qcow2"
	printf 'recovery\n' >"$h/srv/vm/BaseSystem.img"
	printf 'vbios\n' >"$h/srv/vm/gpu.rom"
	: >"$h/dev/input/by-id/usb-Logitech_USB_Keyboard-event-kbd"
	: >"$h/dev/input/by-id/usb-Logitech_USB_Mouse-event-mouse"
done
for h in intel-8c16t no-avx2 intel-nvidia-single; do
	mkdir -p "$dest/$h/usr/share/DarwinUDK/x64"
	printf 'dudk code\n' >"$dest/$h/usr/share/DarwinUDK/x64/DUDK_CODE.fd"
	printf 'dudk vars\n' >"$dest/$h/usr/share/DarwinUDK/x64/DUDK_VARS.fd"
done
