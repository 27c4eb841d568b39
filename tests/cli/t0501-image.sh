#!/bin/bash
# SPDX-License-Identifier: MIT
# image build / ls / cat / put / rm and disk create, checked with the real
# tools as second opinion: fsck.fat -n (dosfstools), sfdisk --dump and
# sgdisk -v (GPT), mdir/mcopy (mtools) byte for byte; bad input refused with
# the reason and nothing left behind; a writer stopped at every write leaves
# the old image or the new one, fsck-clean.
bin=$(realpath "$1")
tests_dir=$(realpath "$2")
helpers=$tests_dir/helpers
source "$(dirname "$0")/lib.sh"
export MTOOLS_SKIP_CHECK=1 SOURCE_DATE_EPOCH=1700000000
# mtools converts names through the locale: UTF-8 for the Unicode names.
mdir() { LC_ALL=C.UTF-8 command mdir "$@"; }
mcopy() { LC_ALL=C.UTF-8 command mcopy "$@"; }
# On tmpfs when there is room: the many small fsyncs cost nothing there, and the
# image copies take the plain-copy path (no reflinks on tmpfs).
work=$tmp
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt 1048576 ]; then
	work=$(mktemp -d /dev/shm/dkvm-t0501.XXXXXX) && trap 'rm -rf "$tmp" "$work"' EXIT
fi
cd "$work" || exit 1

# The ESP of a GPT image (1 MiB in, up to 1 MiB before the end) as its own file.
esp() { # IMAGE OUT
	local mib=$(($(stat -c %s "$1") / 1048576))
	dd if="$1" of="$2" bs=1M skip=1 count=$((mib - 2)) status=none
}
fsck_ok() { # NAME VOLUME
	run fsck.fat -n "$2"
	if [ "$rc" -eq 0 ] && [[ $out != *"
"*[Ee]rror* ]]; then pass "$1: fsck.fat clean"; else fail "$1: fsck.fat clean" "$out" "$err"; fi
}
same_tree() { # NAME DIR1 DIR2
	run diff -r "$2" "$3"
	if [ "$rc" -eq 0 ]; then pass "$1"; else fail "$1" "$out"; fi
}
no_leftovers() { # NAME DIR: no temporary files of ours
	local left
	left=$(find "$2" -maxdepth 1 -name '.*.tmp' -o -maxdepth 1 -name '*.dkvm-*')
	if [ -z "$left" ]; then pass "$1: no temporary files left"; else fail "$1: no temporary files left" "$left"; fi
}

# A tree like an OpenCore EFI folder: long, mixed-case and Unicode names, empty
# files, files of exactly one cluster and one byte more, nesting, many small files.
mk_tree() { # DIR
	mkdir -p "$1/EFI/BOOT" "$1/EFI/OC/Kexts/Lilu.kext/Contents/MacOS" "$1/EFI/OC/Drivers" \
		"$1/EFI/OC/Resources/Font" "$1/EFI/OC/ACPI" "$1/Sub Dir With Spaces/deeper/deepest"
	head -c 70000 /dev/urandom >"$1/EFI/BOOT/BOOTx64.efi"
	head -c 600000 /dev/urandom >"$1/EFI/OC/OpenCore.efi"
	echo '<plist version="1.0"><dict/></plist>' >"$1/EFI/OC/config.plist"
	head -c 512 /dev/urandom >"$1/EFI/OC/ACPI/SSDT-EC.aml"
	head -c 513 /dev/urandom >"$1/EFI/OC/ACPI/SSDT-PLUG.aml"
	: >"$1/EFI/OC/empty"
	echo unicode >"$1/EFI/OC/Ünïcødé 名前 ok.txt"
	echo x >"$1/EFI/OC/MiXeD.CaSe.NaMe.Plist"
	echo y >"$1/EFI/OC/A Very Long File Name That Needs Several LFN Entries To Hold It All.txt"
	echo z >"$1/EFI/OC/README"
	head -c 40000 /dev/urandom >"$1/EFI/OC/Kexts/Lilu.kext/Contents/MacOS/Lilu"
	echo '<plist/>' >"$1/EFI/OC/Kexts/Lilu.kext/Contents/Info.plist"
	for i in $(seq 1 60); do head -c $((i * 37)) /dev/urandom >"$1/EFI/OC/Resources/Font/glyph-$i.bin"; done
	for i in $(seq 1 30); do echo "$i" >"$1/EFI/OC/Drivers/Driver$i.efi"; done
	echo deep >"$1/Sub Dir With Spaces/deeper/deepest/file"
}
mk_tree src

# --- build, GPT layout ---
check "build gpt" 0 "$bin" image build gpt.img --from src --seed test
contains "build: summary" "$out" "GPT disk with a"
esp gpt.img gpt.esp
fsck_ok "gpt" gpt.esp
run sgdisk -v gpt.img
contains "sgdisk -v: no problems" "$out" "No problems found"
run sfdisk --dump gpt.img
contains "sfdisk: GPT" "$out" "label: gpt"
contains "sfdisk: ESP at 1 MiB" "$out" "start=        2048"
contains "sfdisk: ESP type" "$out" "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
contains "sfdisk: name" "$out" 'name="EFI System Partition"'
mkdir back && mcopy -s -n -i gpt.esp ::EFI ::"Sub Dir With Spaces" back/ 2>/dev/null
same_tree "mcopy reads every file back byte-identical" src back
run mdir -i gpt.esp ::EFI/OC
contains "mdir: long name" "$out" "A Very Long File Name That Needs Several LFN Entries To Hold It All.txt"
contains "mdir: mixed case" "$out" "MiXeD.CaSe.NaMe.Plist"
contains "mdir: unicode" "$out" "Ünïcødé 名前 ok.txt"
contains "mdir: 8.3 alias" "$out" "CONFIG~1 PLI"
contains "mdir: exact 8.3 name without alias" "$out" "README"
run mdir -i gpt.esp ::
contains "volume label" "$out" "Volume in drive : is OPENCORE"
# The smallest size: FAT32's 65525 clusters of 512 bytes plus the GPT.
check "auto size is the minimum" 0 test "$(stat -c %s gpt.img)" -eq $((35 * 1048576))
blocks=$(stat -c %b gpt.img)
check "sparse output" 0 test "$blocks" -lt 8192
no_leftovers "build" .

# Reproducible: same inputs, seed and SOURCE_DATE_EPOCH, same bytes.
check "rebuild with --force" 0 "$bin" image build gpt2.img --from src --seed test
check "reproducible bytes" 0 cmp gpt.img gpt2.img
check "another seed" 0 "$bin" image build gpt3.img --from src --seed other
check "another seed gives other GUIDs" 1 cmp -s gpt.img gpt3.img

# Our reader agrees with the tree.
run "$bin" image ls -R gpt.img
contains "ls -R: nested" "$out" "Sub Dir With Spaces/deeper/deepest/file"
contains "ls -R: unicode" "$out" "EFI/OC/Ünïcødé 名前 ok.txt"
n_files=$(find src -type f | wc -l)
check "ls -R lists every file" 0 test "$(grep -c '^-' <<<"$out")" -eq "$n_files"
ok_cat=1
while IFS= read -r f; do
	"$bin" image cat gpt.img "${f#src/}" | cmp -s - "$f" || ok_cat=0
done < <(find src -type f)
check "cat gives every file byte-identical" 0 test $ok_cat = 1
check "cat is case-insensitive like FAT" 0 "$bin" image cat gpt.img efi/oc/CONFIG.PLIST
check "cat of a directory" 2 "$bin" image cat gpt.img EFI
contains "cat of a directory: reason" "$err" "is a directory"
check "cat of a missing file" 2 "$bin" image cat gpt.img EFI/nope
run "$bin" --json image ls gpt.img EFI/OC
contains "ls --json" "$out" '"partitioning":"gpt"'
contains "ls --json: entry" "$out" '"path":"config.plist","short_name":"CONFIG~1.PLI"'

# --- golden: a fixed tree, seed and SOURCE_DATE_EPOCH give these exact bytes ---
golden=$tests_dir/golden/image
mkdir -p gold/EFI/BOOT gold/EFI/OC/Kexts/Lilu.kext/Contents gold/EFI/OC/Drivers
yes "bootx64" | head -c 70000 >gold/EFI/BOOT/BOOTx64.efi
yes "opencore" | head -c 300001 >gold/EFI/OC/OpenCore.efi
yes "<key>Misc</key>" | head -c 9000 >gold/EFI/OC/config.plist
yes "lilu" | head -c 4096 >gold/EFI/OC/Kexts/Lilu.kext/Contents/Info.plist
printf 'x' >"gold/EFI/OC/Drivers/OpenRuntime.efi"
printf 'ü' >"gold/EFI/OC/Ünïcødé.txt"
: >gold/EFI/OC/empty
golden_case() { # NAME FILE: compares (or with DARWINKVM_TEST_REGENERATE=1 writes) golden/image/NAME
	if [ -n "${DARWINKVM_TEST_REGENERATE:-}" ]; then
		mkdir -p "$golden" && cp "$2" "$golden/$1"
		pass "golden $1 (regenerated)"
	else
		run diff -u "$golden/$1" "$2"
		if [ "$rc" -eq 0 ]; then pass "golden $1"; else fail "golden $1" "$out"; fi
	fi
}
for layout in gpt whole-disk; do
	"$bin" --json image build "gold-$layout.img" --from gold --layout "$layout" --seed golden >"gold-$layout.json"
	sha256sum <"gold-$layout.img" | cut -d' ' -f1 >"gold-$layout.sha256"
	"$bin" image ls -R "gold-$layout.img" >"gold-$layout.ls"
	golden_case "$layout.build.json" "gold-$layout.json"
	golden_case "$layout.sha256" "gold-$layout.sha256"
	golden_case "$layout.ls" "gold-$layout.ls"
done
sfdisk --dump gold-gpt.img | sed 's/^device: .*/device: IMAGE/; s/^gold-gpt.img/IMAGE/' >gold-gpt.sfdisk
golden_case "gpt.sfdisk" gold-gpt.sfdisk

# --- whole-disk layout ---
check "build whole-disk" 0 "$bin" image build whole.img --from src --layout whole-disk --label MYEFI --seed test
fsck_ok "whole-disk" whole.img
rm -rf back && mkdir back && mcopy -s -n -i whole.img ::EFI ::"Sub Dir With Spaces" back/ 2>/dev/null
same_tree "whole-disk: mcopy byte-identical" src back
run mdir -i whole.img ::
contains "whole-disk: label" "$out" "is MYEFI"
run sfdisk --dump whole.img
lacks "whole-disk: no partition table" "$out" "label: gpt"

# --- explicit size, qcow2 ---
check "build --size 256M" 0 "$bin" image build big.img --from src --size 256M --seed test
check "256M exactly" 0 test "$(stat -c %s big.img)" -eq $((256 * 1048576))
esp big.img big.esp
fsck_ok "256M" big.esp
check "build 300M (4 KiB clusters)" 0 "$bin" image build c4k.img --from src --size 300M --layout whole-disk
fsck_ok "4 KiB clusters" c4k.img
run "$bin" --json image ls c4k.img
contains "4 KiB clusters used" "$out" '"cluster_bytes":4096'
check "build qcow2" 0 "$bin" image build gpt.qcow2 --from src --format qcow2 --seed test
run qemu-img check gpt.qcow2
contains "qemu-img check" "$out" "No errors were found"
qemu-img convert -O raw gpt.qcow2 gpt-from-qcow2.img
check "qcow2 holds the same bytes as raw" 0 cmp gpt.img gpt-from-qcow2.img
# Several L2 tables (one maps 512 MiB): data at both ends of a 3 GiB disk.
check "build 3G qcow2" 0 "$bin" image build big.qcow2 --from src --size 3G --format qcow2 --seed test
run qemu-img check big.qcow2
contains "3G qcow2: qemu-img check" "$out" "No errors were found"
check "3G qcow2 is small" 0 test "$(stat -c %s big.qcow2)" -lt 4000000
qemu-img convert -O raw big.qcow2 big-from-qcow2.img
"$bin" image build big3g.img --from src --size 3G --seed test >/dev/null
check "3G qcow2 holds the same bytes as raw" 0 cmp big3g.img big-from-qcow2.img
rm -f big3g.img big-from-qcow2.img
no_leftovers "qcow2" .

# --- put / rm on our image and on one made by mkfs.fat ---
head -c 123457 /dev/urandom >newconfig
cp gpt.img edit.img
check "put replaces a file" 0 "$bin" image put edit.img EFI/OC/config.plist newconfig
check "put creates parents" 0 "$bin" image put edit.img "com.apple.recovery.boot/BaseSystem Long.chunklist" newconfig
check "rm a file" 0 "$bin" image rm edit.img EFI/OC/empty
check "rm a non-empty directory" 2 "$bin" image rm edit.img EFI/OC
contains "rm: reason" "$err" "directory not empty"
check "rm an empty directory" 0 "$bin" image rm edit.img "Sub Dir With Spaces/deeper/deepest/file"
check "rm it" 0 "$bin" image rm edit.img "Sub Dir With Spaces/deeper/deepest"
esp edit.img edit.esp
fsck_ok "after put/rm" edit.esp
run mcopy -n -i edit.esp ::EFI/OC/config.plist got1
check "mcopy reads the put file" 0 cmp got1 newconfig
run mcopy -n -i edit.esp "::com.apple.recovery.boot/BaseSystem Long.chunklist" got2
check "mcopy reads the new file in a new directory" 0 cmp got2 newconfig
run mdir -i edit.esp ::EFI/OC
lacks "rm'd file gone" "$out" " empty "
# A whole directory in one change (the installer's com.apple.recovery.boot).
mkdir -p rec/com.apple.recovery.boot/empty-dir
head -c 2000000 /dev/urandom >rec/com.apple.recovery.boot/BaseSystem.dmg
echo chunks >rec/com.apple.recovery.boot/BaseSystem.chunklist
check "put a directory tree" 0 "$bin" image put edit.img com.apple.recovery.boot rec/com.apple.recovery.boot
esp edit.img edit.esp
fsck_ok "after the tree put" edit.esp
rm -rf recback && mkdir recback && mcopy -s -n -i edit.esp ::com.apple.recovery.boot recback/ 2>/dev/null
check "mcopy reads the put tree back (1)" 0 cmp rec/com.apple.recovery.boot/BaseSystem.dmg recback/com.apple.recovery.boot/BaseSystem.dmg
check "mcopy reads the put tree back (2)" 0 cmp rec/com.apple.recovery.boot/BaseSystem.chunklist recback/com.apple.recovery.boot/BaseSystem.chunklist
check "the empty directory too" 0 test -d recback/com.apple.recovery.boot/empty-dir
contains "the earlier file in the merged directory stays" "$(ls recback/com.apple.recovery.boot)" "BaseSystem Long.chunklist"
# Fill a directory past one cluster so it has to grow.
for i in $(seq 1 40); do "$bin" image put edit.img "EFI/OC/Resources/many/long file name number $i.txt" newconfig || break; done
esp edit.img edit.esp
fsck_ok "directory grown" edit.esp
run mdir -b -i edit.esp ::EFI/OC/Resources/many
check "40 files in the grown directory" 0 test "$(grep -c 'long file name' <<<"$out")" -eq 40

mkfs.fat -C -F 32 -n MKFS mkfs.img 40960 >/dev/null
mcopy -s -i mkfs.img src/EFI ::
check "put on a mkfs.fat image" 0 "$bin" image put mkfs.img EFI/OC/config.plist newconfig
check "put a new long name on a mkfs.fat image" 0 "$bin" image put mkfs.img "EFI/OC/Brand New Ünïcødé.plist" newconfig
check "rm on a mkfs.fat image" 0 "$bin" image rm mkfs.img EFI/BOOT/BOOTx64.efi
fsck_ok "mkfs.fat image after put/rm" mkfs.img
run mcopy -n -i mkfs.img "::EFI/OC/Brand New Ünïcødé.plist" got3
check "mtools reads our entry in a mkfs.fat image" 0 cmp got3 newconfig
"$bin" image cat mkfs.img EFI/OC/OpenCore.efi | cmp -s - src/EFI/OC/OpenCore.efi
check "we read mtools' files" 0 test $? = 0
truncate -s 42M part.img
sgdisk -n 1:2048:+40M -t 1:ef00 part.img >/dev/null
mkfs.fat -F 32 --offset 2048 part.img 40960 >/dev/null 2>&1
check "put on an sgdisk + mkfs.fat --offset image" 0 "$bin" image put part.img EFI/OC/config.plist newconfig
"$bin" image cat part.img EFI/OC/config.plist | cmp -s - newconfig
check "read it back" 0 test $? = 0
esp part.img part.esp
fsck_ok "sgdisk + mkfs.fat image after put" part.esp

# --- a writer stopped at every write: old image or new, fsck-clean ---
cp gpt.img before.img
n_ok=0 n_bad=0
for k in $(seq 0 100); do
	cp before.img fi.img
	DARWINKVM_FAIL_AFTER_WRITES=$k "$bin" image put fi.img "EFI/OC/Brand New Dir/config.plist" newconfig 2>/dev/null
	frc=$?
	if [ $frc -eq 0 ]; then
		"$bin" image cat fi.img "EFI/OC/Brand New Dir/config.plist" | cmp -s - newconfig || n_bad=$((n_bad + 1))
		break
	fi
	cmp -s fi.img before.img || n_bad=$((n_bad + 1))
	esp fi.img fi.esp
	fsck.fat -n fi.esp >/dev/null 2>&1 || n_bad=$((n_bad + 1))
	n_ok=$((n_ok + 1))
done
check "put stopped at every write ($n_ok points) left the old image" 0 test $n_bad = 0 -a $n_ok -gt 3
check "and the last run wrote the new one" 0 test $frc = 0
esp fi.img fi.esp
fsck_ok "after the fault runs" fi.esp
no_leftovers "fault injection" .
n_bad=0
for k in $(seq 0 20); do
	rm -f fb.img
	DARWINKVM_FAIL_AFTER_WRITES=$k "$bin" image build fb.img --from src --seed test >/dev/null 2>&1 && break
	[ -e fb.img ] && n_bad=$((n_bad + 1))
done
check "build stopped at every write leaves no output" 0 test $n_bad = 0
check "then builds the same image" 0 cmp fb.img gpt.img
for k in 0 1 2 3; do
	cp before.img fr.img
	DARWINKVM_FAIL_AFTER_WRITES=$k "$bin" image rm fr.img EFI/OC/config.plist 2>/dev/null && break
	cmp -s fr.img before.img || n_bad=$((n_bad + 1))
done
check "rm stopped at every write left the old image" 0 test $n_bad = 0
n_bad=0 tree_ok=0
for k in $(seq 0 60); do
	cp before.img ft.img
	if DARWINKVM_FAIL_AFTER_WRITES=$k "$bin" image put ft.img com.apple.recovery.boot rec/com.apple.recovery.boot 2>/dev/null; then
		tree_ok=1
		break
	fi
	cmp -s ft.img before.img || n_bad=$((n_bad + 1))
done
check "tree put stopped at every write left the old image" 0 test $n_bad = 0 -a $tree_ok = 1

# --- bad input ---
mkdir -p bad1 && echo x >'bad1/a:b'
check "name FAT cannot hold" 2 "$bin" image build bad.img --from bad1
contains "names the file" "$err" "'a:b': FAT names cannot hold ':'"
mkdir -p bad2 && echo x >'bad2/trailing.'
check "trailing dot" 2 "$bin" image build bad.img --from bad2
mkdir -p bad3 && echo x >bad3/Config.plist && echo y >bad3/config.plist
check "names differing only in case" 2 "$bin" image build bad.img --from bad3
contains "case reason" "$err" "case-insensitive"
mkdir -p bad4 && mkfifo bad4/fifo
check "a fifo" 2 "$bin" image build bad.img --from bad4
mkdir -p huge && head -c 40000000 /dev/zero >huge/big.bin
check "a tree too large for --size" 1 "$bin" image build bad.img --from huge --size 36M
contains "says the size it needs" "$err" "it needs 41.0 MiB"
check "without --size the same tree gets the size it needs" 0 "$bin" image build auto.img --from huge --layout whole-disk
check "auto size: 39 MiB (41 MiB less the GPT's 2)" 0 test "$(stat -c %s auto.img)" -eq $((39 * 1048576))
fsck_ok "auto size" auto.img
rm -f auto.img
check "size below FAT32's minimum" 2 "$bin" image build bad.img --from src --size 16M
contains "names the minimum" "$err" "below FAT32's minimum"
check "existing output" 2 "$bin" image build gpt.img --from src
contains "existing: --force" "$err" "--force"
check "missing --from" 2 "$bin" image build x.img
check "bad --layout" 2 "$bin" image build x.img --from src --layout mbr
check "bad --size" 2 "$bin" image build x.img --from src --size lots
check "missing source" 2 "$bin" image build x.img --from nowhere
check "label too long" 2 "$bin" image build x.img --from src --label ABCDEFGHIJKL
if [ "$(id -u)" = 0 ]; then unwritable=/proc/self; else mkdir ro && chmod 555 ro && unwritable=ro; fi
run "$bin" image build "$unwritable/x.img" --from src
if [ "$rc" -ge 2 ] && [ -n "$err" ]; then pass "unwritable directory refused ($rc)"; else fail "unwritable directory refused" "$rc $err"; fi
for f in bad.img x.img; do check "no partial $f" 1 test -e $f; done
no_leftovers "bad input" .

head -c 1048576 gpt.img >trunc.img
check "truncated image" 2 "$bin" image ls trunc.img
contains "truncated: reason" "$err" "lies outside"
head -c 20000000 whole.img >trunc2.img
check "truncated whole-disk image" 2 "$bin" image ls trunc2.img
contains "truncated whole-disk: reason" "$err" "truncated"
head -c 65536 /dev/urandom >garbage.img
check "garbage image" 2 "$bin" image ls garbage.img
contains "garbage: reason" "$err" "no GPT, MBR or FAT boot sector"
check "empty image" 2 "$bin" image ls /dev/null
mkfs.fat -C -F 16 f16.img 40960 >/dev/null
check "FAT16 refused" 2 "$bin" image ls f16.img
contains "FAT16: reason" "$err" "only FAT32"
check "qcow2 refused with the conversion" 2 "$bin" image ls gpt.qcow2
contains "qcow2: reason" "$err" "qemu-img convert"
mkdir -p ab && head -c 3000 /dev/urandom >ab/A.BIN && head -c 3000 /dev/urandom >ab/B.BIN
"$bin" image build ab.img --from ab --layout whole-disk >/dev/null
for mode in loop:"cluster loop" crosslink:"cross-linked" dirty:"dirty" dirty-fat:"dirty" fatdiff:"FATs differ" free-in-chain:"free cluster"; do
	m=${mode%%:*} why=${mode#*:}
	cp ab.img "bad-$m.img"
	python3 "$helpers/fat-corrupt.py" "bad-$m.img" "$m"
	cp "bad-$m.img" "bad-$m.orig"
	check "$m refused by ls" 2 "$bin" image ls "bad-$m.img"
	contains "$m: reason" "$err" "$why"
	check "$m refused by put" 2 "$bin" image put "bad-$m.img" X.BIN newconfig
	check "$m: image untouched" 0 cmp "bad-$m.img" "bad-$m.orig"
done

# --- disk create ---
check "disk create qcow2" 0 "$bin" disk create mac.qcow2 --size 128G
run qemu-img info mac.qcow2
contains "qcow2 format" "$out" "file format: qcow2"
contains "lazy refcounts" "$out" "lazy refcounts: true"
contains "128 GiB" "$out" "virtual size: 128 GiB"
check "disk create refuses to overwrite" 2 "$bin" disk create mac.qcow2 --size 64G
check "disk create --force" 0 "$bin" disk create mac.qcow2 --size 64G --force
check "disk create raw" 0 "$bin" disk create mac.img --size 64G --format raw
check "raw is sparse" 0 test "$(stat -c %b mac.img)" -lt 100
check "raw is 64 GiB" 0 test "$(stat -c %s mac.img)" -eq $((64 << 30))
check "metadata preallocation on raw" 2 "$bin" disk create m2.img --size 1G --format raw --preallocation metadata
check "qcow2 metadata preallocation" 0 "$bin" disk create m3.qcow2 --size 1G --preallocation metadata
check "falloc beyond the free space" 1 "$bin" disk create m4.img --size 900T --format raw --preallocation falloc
contains "says what is missing" "$err" "missing"
check "no m4.img" 1 test -e m4.img
check "bad preallocation" 2 "$bin" disk create m5.img --size 1G --preallocation full
no_leftovers "disk" .

done_testing
