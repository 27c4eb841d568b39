#!/bin/bash
# SPDX-License-Identifier: MIT
# Boots images made by 'image build' with OVMF (TCG: KVM on these hosts cannot
# run OVMF): a GRUB EFI program that prints a marker on the serial console sits
# where OpenCore would, as EFI/BOOT/BOOTx64.efi. Both layouts, and qcow2.
bin=$(realpath "$1")
tests_dir=$(realpath "$2")
helpers=$tests_dir/helpers
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1

code=/usr/share/OVMF/OVMF_CODE_4M.fd
vars=/usr/share/OVMF/OVMF_VARS_4M.fd
if [ ! -r $code ] || ! command -v qemu-system-x86_64 >/dev/null || ! command -v grub-mkstandalone >/dev/null; then
	echo "1..0 # SKIP OVMF, QEMU or GRUB missing"
	exit 0
fi
marker="DKVM-IMAGE-BOOT-$$"
mkdir -p tree/EFI/BOOT tree/EFI/OC
check "marker EFI" 0 bash "$helpers/make-marker-efi.sh" tree/EFI/BOOT/BOOTx64.efi "$marker"
echo '<plist/>' >tree/EFI/OC/config.plist

for layout in gpt whole-disk qcow2; do
	fmt=raw
	[ $layout = qcow2 ] && fmt=qcow2
	check "$layout: build" 0 "$bin" image build "$layout.img" --from tree --layout "${layout/qcow2/gpt}" --format $fmt --seed boot
	cp $vars "vars-$layout.fd"
	check "$layout: OVMF boots it to the marker" 0 bash "$helpers/qemu-wait-marker.sh" "$marker" 60 "serial-$layout.log" -- \
		qemu-system-x86_64 -machine q35 -accel tcg -m 256 -nodefaults -no-reboot \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
		-drive "if=pflash,format=raw,unit=1,file=vars-$layout.fd" \
		-drive "if=none,id=disk,format=$fmt,file=$layout.img" \
		-device ahci,id=ahci -device ide-hd,drive=disk,bus=ahci.0
	[ "$rc" -eq 0 ] || echo "# $out"
done

done_testing
