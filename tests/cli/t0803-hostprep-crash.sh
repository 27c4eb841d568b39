#!/bin/bash
# SPDX-License-Identifier: MIT
# The crash test: $DARWINKVM_TEST_CRASH_AFTER_WRITES=N kills darwinkvm right
# after its Nth write (journal files, targets, removals), for every N. After
# each crash every file is either its old or its new content, and
# `host undo --all` brings the whole tree back byte for byte.
bin=$(realpath "$1")
tests=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
# The trees live on tmpfs where there is one: every atomic write fsyncs twice.
if shm=$(mktemp -d /dev/shm/dkvm-prep.XXXXXX 2>/dev/null); then
	trap 'rm -rf "$tmp" "$shm"' EXIT
	tmp=$shm
fi
export SOURCE_DATE_EPOCH=1700000000
# One tree per fixture, copied for each run: cheaper than building it again.
make_tree() {
	[ -d "$tmp/template-$1" ] || bash "$tests/fixtures/prep/make-tree.sh" "$1" "$tmp/template-$1"
	rm -rf "$2" && cp -a "$tmp/template-$1" "$2"
}
# What darwinkvm may write here: /etc, /boot and /var (its journal aside).
snap() {
	(cd "$1" && find etc boot var \( -path var/lib/darwinkvm \) -prune -o \
		-printf '%y %m %U %G %l %p\n' | sort &&
		find etc boot var \( -path var/lib/darwinkvm \) -prune -o -type f -print0 |
		sort -z | xargs -0 md5sum)
}

# crash_case NAME FIXTURE FILES -- ARGS: FILES are the targets to check for old-or-new.
crash_case() {
	local name=$1 fixture=$2 files=$3
	shift 4
	local pristine=$tmp/$name-pristine done=$tmp/$name-done
	make_tree "$fixture" "$pristine"
	make_tree "$fixture" "$done"
	"$bin" --root "$done" host "$@" --apply >/dev/null 2>&1 || { fail "$name: the uncrashed run"; return; }
	local want
	want=$(snap "$pristine")
	local w=1 crashes=0 bad=0
	while :; do
		local t=$tmp/$name-$w
		make_tree "$fixture" "$t"
		DARWINKVM_TEST_CRASH_AFTER_WRITES=$w "$bin" --root "$t" host "$@" --apply >/dev/null 2>&1
		local r=$?
		[ $r -ne 99 ] && { rm -rf "$t"; break; }
		crashes=$((crashes + 1))
		for f in $files; do
			if [ -e "$t$f" ] || [ -e "$pristine$f" ] || [ -e "$done$f" ]; then
				if ! cmp -s "$t$f" "$pristine$f" 2>/dev/null && ! cmp -s "$t$f" "$done$f" 2>/dev/null &&
					! { [ ! -e "$t$f" ] && [ ! -e "$pristine$f" ]; }; then
					bad=$((bad + 1))
					fail "$name: after write $w, $f is neither old nor new"
				fi
			fi
		done
		"$bin" --root "$t" host undo --all --apply >/dev/null 2>&1
		if [ "$(snap "$t")" != "$want" ]; then
			bad=$((bad + 1))
			fail "$name: after a crash at write $w, undo does not restore the tree" "$(diff <(snap "$t") <(echo "$want") | head -5 | tr '\n' '|')"
		fi
		# A crash during undo, too: the next undo finishes it.
		rm -rf "$t"
		w=$((w + 1))
	done
	[ $crashes -ge 3 ] && pass "$name: crashed at each of $crashes writes" || fail "$name: only $crashes crashes"
	[ $bad -eq 0 ] && pass "$name: every crash left old-or-new files and undo restored the tree"
}

crash_case arch-kernel-params arch "/etc/kernel/cmdline /boot/loader/entries/arch.conf /boot/loader/entries/arch-fallback.conf" -- \
	kernel-params --add video=efifb:off --add amd_iommu=on
crash_case arch-vfio-boot arch "/etc/modprobe.d/darwinkvm-vfio.conf /etc/mkinitcpio.conf" -- vfio boot 0000:0e:00.4
crash_case debian-hooks debian "/etc/darwinkvm/hooks.conf /etc/libvirt/hooks/qemu /etc/systemd/system/libvirt-nosleep@.service" -- \
	hooks install --vm macOS

# An interrupted entry says so in status.
t=$tmp/pending
make_tree arch "$t"
DARWINKVM_TEST_CRASH_AFTER_WRITES=9 "$bin" --root "$t" host kernel-params --add iommu=soft --apply >/dev/null 2>&1
run "$bin" --root "$t" host status
contains "status: an interrupted entry is pending" "$out" "kernel-params  pending"
contains "status: names the undo" "$out" "'darwinkvm host undo 1' rolls it back"
contains "status: the written file in place" "$out" "in place       /etc/kernel/cmdline"
contains "status: the others original" "$out" "original       /boot/loader/entries/arch.conf"

# Crashes during undo: each leaves old-or-new, and running undo again finishes.
t0=$tmp/undo-pristine
make_tree arch "$t0"
want=$(snap "$t0")
w=1
while :; do
	t=$tmp/undo-$w
	make_tree arch "$t"
	"$bin" --root "$t" host kernel-params --add video=efifb:off --add amd_iommu=on --apply >/dev/null 2>&1
	DARWINKVM_TEST_CRASH_AFTER_WRITES=$w "$bin" --root "$t" host undo --all --apply >/dev/null 2>&1
	r=$?
	[ $r -ne 99 ] && break
	"$bin" --root "$t" host undo --all --apply >/dev/null 2>&1
	if [ "$(snap "$t")" == "$want" ]; then pass "undo crashed at write $w: a second undo restores the tree"; else fail "undo crashed at write $w: a second undo restores the tree"; fi
	rm -rf "$t"
	w=$((w + 1))
done
[ $w -ge 3 ] && pass "undo crashed at $((w - 1)) points" || fail "undo crashed at only $((w - 1)) points"

done_testing
