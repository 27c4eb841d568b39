#!/bin/bash
# SPDX-License-Identifier: MIT
# make-marker-efi.sh OUT.efi LINE...
# A tiny x86-64 EFI program (GRUB, standalone, with an embedded config) that
# prints each LINE on the serial console and powers the machine off. The boot
# tests put it where OpenCore would be, so no Apple or OpenCore binary is needed
# (printing OpenCore's own log lines lets `verify` be tested stage by stage).
set -eu
out=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	echo "set timeout=0"
	for line in "$@"; do
		printf 'echo "%s"\n' "$line"
	done
	echo "halt"
} >"$tmp/grub.cfg"
grub-mkstandalone -O x86_64-efi \
	--install-modules="normal echo halt reboot configfile memdisk tar part_gpt fat search" \
	--modules="part_gpt fat" --locales= --fonts= --themes= \
	-o "$out" "boot/grub/grub.cfg=$tmp/grub.cfg"
