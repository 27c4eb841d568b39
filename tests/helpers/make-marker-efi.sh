#!/bin/bash
# SPDX-License-Identifier: MIT
# make-marker-efi.sh OUT.efi MARKER
# A tiny x86-64 EFI program (GRUB, standalone, with an embedded config) that
# prints "MARKER" on the serial console and powers the machine off. The boot
# tests put it where OpenCore would be, so no Apple or OpenCore binary is needed.
set -eu
out=$1
marker=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/grub.cfg" <<CFG
set timeout=0
echo "$marker"
halt
CFG
grub-mkstandalone -O x86_64-efi \
	--install-modules="normal echo halt reboot configfile memdisk tar part_gpt fat search" \
	--modules="part_gpt fat" --locales= --fonts= --themes= \
	-o "$out" "boot/grub/grub.cfg=$tmp/grub.cfg"
