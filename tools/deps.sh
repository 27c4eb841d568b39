#!/bin/bash
# SPDX-License-Identifier: MIT
# Installs what darwinkvm needs to build (and, with "test", to run its test
# suite) on Debian 12. Idempotent; needs root. The package lists live here only.
set -eu
build_pkgs=(meson ninja-build pkg-config gcc libpci-dev pci.ids scdoc
	acpica-tools libcurl4-openssl-dev libssl-dev libarchive-dev
	libvirt-dev libxml2-dev libkmod-dev ca-certificates)
test_pkgs=(clang libclang-rt-14-dev clang-format libcmocka-dev python3 pciutils valgrind util-linux
	dosfstools mtools gdisk fdisk qemu-system-x86 qemu-system-ppc qemu-utils ovmf
	grub-efi-amd64-bin grub-common libvirt-daemon-system libvirt-clients
	libvirt-daemon-driver-qemu libplist-utils libxml2-utils nginx-light openssl curl
	zip unzip)
want=("${build_pkgs[@]}")
[ "${1:-}" = test ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "darwinkvm: these packages are missing; install them as root: ${missing[*]}" >&2
		exit 3
	fi
	echo "Installing: ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
