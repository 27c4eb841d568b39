#!/bin/bash
# SPDX-License-Identifier: MIT
# Host preparation on writable fixture roots (tests/fixtures/prep/make-tree.sh):
# golden diffs for every bootloader and change, apply then undo gives every
# file back byte for byte with owner and mode, applying twice changes nothing,
# bad input is refused with nothing changed. Never touches this machine.
# DARWINKVM_TEST_REGENERATE=1 rewrites tests/golden/prep/.
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

# golden NAME: compares "$out" (stdout), "$err" and "$rc" with golden/prep/NAME.out.
golden() {
	local f=$golden_dir/$1.out
	local got
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

# snap DIR: every path with type, mode, owner, size, link target and content hash,
# darwinkvm's own journal and run state aside.
snap() {
	(cd "$1" && find . \( -path ./var/lib/darwinkvm -o -path ./run/darwinkvm \) -prune -o \
		-printf '%y %m %U %G %l %p\n' | sort &&
		find . \( -path ./var/lib/darwinkvm -o -path ./run/darwinkvm \) -prune -o -type f -print0 |
		sort -z | xargs -0 md5sum)
}

same_tree() { # NAME A B
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "$(diff <(echo "$2") <(echo "$3") | head -10 | tr '\n' '|')"; fi
}

# ---------------- kernel parameters on every bootloader ----------------
declare -A params=(
	[debian]="--recommended"
	[ubuntu]="--recommended"
	[fedora]="--add iommu=pt --add video=efifb:off --remove rhgb"
	[arch]="--add amd_iommu=on --add video=efifb:off"
	[pop]="--add video=efifb:off --remove splash --add vfio-pci.ids=1002:73ff"
)
for d in debian ubuntu fedora arch pop; do
	t=$tmp/$d
	make_tree "$d" "$t"
	before=$(snap "$t")
	# shellcheck disable=SC2086
	run "$bin" --root "$t" host kernel-params ${params[$d]} --dry-run
	golden "$d-kernel-params-dry-run"
	same_tree "$d: a dry run writes nothing" "$before" "$(snap "$t")"
	# shellcheck disable=SC2086
	run "$bin" --root "$t" host kernel-params ${params[$d]} --apply
	golden "$d-kernel-params"
	after=$(snap "$t")
	lacks "$d: the apply changed files" "$(diff <(echo "$before") <(echo "$after"))" "^$"
	# shellcheck disable=SC2086
	check "$d: applying twice exits 0" 0 "$bin" --root "$t" host kernel-params ${params[$d]} --apply
	contains "$d: applying twice changes nothing" "$out" "nothing to change"
	same_tree "$d: the second apply wrote nothing" "$after" "$(snap "$t")"
	run "$bin" --root "$t" host status
	golden "$d-status"
	run "$bin" --root "$t" host undo --all --apply
	golden "$d-undo"
	same_tree "$d: undo gives every file back (bytes, mode, owner)" "$before" "$(snap "$t")"
	run "$bin" --root "$t" host status
	contains "$d: status says undone" "$out" "undone"
done

# ---------------- vfio at boot: modprobe.d, softdeps, initramfs ----------------
declare -A vfio_bdf=([debian]=0000:00:14.0 [fedora]=0000:00:14.0 [arch]=0000:0e:00.4 [pop]=0000:0b:00.0)
for d in debian fedora arch pop; do
	t=$tmp/$d
	make_tree "$d" "$t"
	before=$(snap "$t")
	run "$bin" --root "$t" host vfio boot "${vfio_bdf[$d]}" --apply
	golden "$d-vfio-boot"
	check "$d: vfio boot twice changes nothing" 0 "$bin" --root "$t" host vfio boot "${vfio_bdf[$d]}" --apply
	contains "$d: vfio boot twice: nothing to change" "$out" "nothing to change"
	check "$d: undo vfio boot" 0 "$bin" --root "$t" host undo --all --apply
	same_tree "$d: vfio boot undone, created directories too" "$before" "$(snap "$t")"
done

# ---------------- owner and mode kept ----------------
t=$tmp/mode
make_tree debian "$t"
chmod 0640 "$t/etc/default/grub"
before=$(snap "$t")
check "mode: apply" 0 "$bin" --root "$t" host kernel-params --add video=efifb:off --apply
contains "mode: 0640 kept by the atomic write" "$(stat -c %a "$t/etc/default/grub")" "640"
check "mode: undo" 0 "$bin" --root "$t" host undo 1 --apply
same_tree "mode: undo restores bytes and mode" "$before" "$(snap "$t")"

# ---------------- bad input: a clear error and nothing changed ----------------
grub_case() { # NAME EXPECTED_RC NEEDLE CONTENT
	local t=$tmp/bad-$1
	make_tree debian "$t"
	printf '%s' "$4" >"$t/etc/default/grub"
	local before
	before=$(snap "$t")
	check "bad grub ($1): exit $2" "$2" "$bin" --root "$t" host kernel-params --add iommu=pt --add video=efifb:off --apply
	contains "bad grub ($1): says why" "$err" "$3"
	same_tree "bad grub ($1): nothing changed" "$before" "$(snap "$t")"
}
grub_case missing 2 "no GRUB_CMDLINE_LINUX_DEFAULT= line" $'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=""\n'
grub_case twice 2 "set twice (lines 1 and 3)" $'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n# later\nGRUB_CMDLINE_LINUX_DEFAULT="splash"\n'
grub_case unterminated 2 "line 2: unterminated double quote" $'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet splash\nGRUB_TIMEOUT=5\n'
grub_case variable 2 "uses \$ or \`" $'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT quiet"\n'
grub_case append 2 "appended to with +=" $'GRUB_CMDLINE_LINUX_DEFAULT+=" quiet"\n'

# Odd quoting and continuation lines are understood and kept.
odd_case() { # NAME CONTENT
	local t=$tmp/odd-$1
	make_tree debian "$t"
	printf '%s' "$2" >"$t/etc/default/grub"
	run "$bin" --root "$t" host kernel-params --add iommu=pt --remove quiet --apply
	golden "grub-odd-$1"
	check "odd grub ($1): twice changes nothing" 0 "$bin" --root "$t" host kernel-params --add iommu=pt --remove quiet --apply
	contains "odd grub ($1): nothing to change" "$out" "nothing to change"
	check "odd grub ($1): undo" 0 "$bin" --root "$t" host undo --all --apply
	contains "odd grub ($1): bytes back" "$(cat "$t/etc/default/grub")" "$(printf '%s' "$2")"
}
odd_case single-quotes $'# comment with "quotes\' in it\nGRUB_CMDLINE_LINUX_DEFAULT=\'quiet splash\'  # trailing comment\n'
odd_case continuation $'GRUB_CMDLINE_LINUX_DEFAULT="quiet \\\n  splash"\nGRUB_TIMEOUT=5\n'
odd_case unquoted $'export GRUB_CMDLINE_LINUX_DEFAULT=quiet\nGRUB_CMDLINE_LINUX=""\n'
odd_case mixed $'GRUB_CMDLINE_LINUX_DEFAULT="quiet "\'splash\'\\ nomodeset\n'
odd_case no-final-newline $'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"'

# Ubuntu's grub.d: the last file that sets the variable is the one update-grub uses.
t=$tmp/grubd
make_tree ubuntu "$t"
mkdir -p "$t/etc/default/grub.d"
printf 'GRUB_TIMEOUT=0\n' >"$t/etc/default/grub.d/10-timeout.cfg"
printf '# cloud image\nGRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"\n' >"$t/etc/default/grub.d/50-cloudimg-settings.cfg"
printf 'GRUB_CMDLINE_LINUX_DEFAULT=$X\n' >"$t/etc/default/grub.d/README"
run "$bin" --root "$t" host kernel-params --add iommu=pt --apply
golden grub-d-override
contains "grub.d: the overriding file edited" "$(cat "$t/etc/default/grub.d/50-cloudimg-settings.cfg")" 'GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0 iommu=pt"'
lacks "grub.d: the main file left" "$(cat "$t/etc/default/grub")" "iommu=pt"

t=$tmp/readonly
make_tree debian "$t"
chmod 0444 "$t/etc/default/grub"
before=$(snap "$t")
check "read-only file: exit 3" 3 "$bin" --root "$t" host kernel-params --add video=efifb:off --apply
contains "read-only file: says so" "$err" "is read-only (mode 0444)"
same_tree "read-only file: nothing changed" "$before" "$(snap "$t")"
[ -d "$t/var/lib/darwinkvm/journal/0001" ] && fail "read-only file: no journal entry" || pass "read-only file: no journal entry"

t=$tmp/nobackup
make_tree debian "$t"
check "missing backup: apply" 0 "$bin" --root "$t" host kernel-params --add video=efifb:off --apply
rm "$t/var/lib/darwinkvm/journal/0001/1.old"
before=$(snap "$t")
check "missing backup: undo exits 1" 1 "$bin" --root "$t" host undo 1 --apply
contains "missing backup: says which" "$err" "the backup of /etc/default/grub is missing"
same_tree "missing backup: nothing changed" "$before" "$(snap "$t")"
run "$bin" --root "$t" host status
contains "missing backup: status says so" "$out" "backup missing"

t=$tmp/changed
make_tree debian "$t"
check "changed since: apply" 0 "$bin" --root "$t" host kernel-params --add video=efifb:off --apply
sed -i 's/GRUB_TIMEOUT=5/GRUB_TIMEOUT=9/' "$t/etc/default/grub"
before=$(snap "$t")
run "$bin" --root "$t" host undo --all --apply
golden "undo-refused-changed-since"
same_tree "changed since: nothing changed" "$before" "$(snap "$t")"
run "$bin" --root "$t" host status
contains "changed since: status says so" "$out" "changed since"

# Two entries on one file: undo of the older one alone is refused, --all undoes both.
t=$tmp/stacked
make_tree debian "$t"
before=$(snap "$t")
check "stacked: first" 0 "$bin" --root "$t" host kernel-params --add video=efifb:off --apply
check "stacked: second" 0 "$bin" --root "$t" host kernel-params --add pcie_acs_override=downstream --apply
check "stacked: undo 1 alone refused" 1 "$bin" --root "$t" host undo 1 --apply
contains "stacked: names the newer entry" "$err" "undo 2 first"
check "stacked: undo --all" 0 "$bin" --root "$t" host undo --all --apply
same_tree "stacked: both undone" "$before" "$(snap "$t")"

t=$tmp/unknown
make_tree debian "$t"
rm -f "$t/etc/default/grub" "$t/boot/grub/grub.cfg"
check "unknown bootloader: exit 1" 1 "$bin" --root "$t" host kernel-params --add iommu=pt --apply
contains "unknown bootloader: manual steps" "$err" "do it by hand"

# --json: one document with the diff, the log and the entry.
t=$tmp/json
make_tree arch "$t"
run "$bin" --root "$t" --json host kernel-params --add video=efifb:off --apply
if printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["entry"] == 1 and not d["dry_run"] and "+options" in d["diff"], d'; then
	pass "json: apply"
else fail "json: apply" "$out"; fi
run "$bin" --root "$t" --json host status
if printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); e=d["entries"][0]; assert e["id"] == 1 and e["state"] == "complete" and e["time"] == 1700000000 and all(f["state"] == "in place" for f in e["files"]), d'; then
	pass "json: status"
else fail "json: status" "$out"; fi
run "$bin" --root "$t" --json host undo 7 --apply
if [ "$rc" -eq 1 ] && printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert not d["ok"] and "no journal entry 7" in d["error"], d'; then
	pass "json: an error"
else fail "json: an error" "$rc $out"; fi

check "kernel-params without an action" 2 "$bin" --root "$tmp/unknown" host kernel-params
check "undo without an ID" 2 "$bin" --root "$tmp/unknown" host undo
check "unknown host action" 2 "$bin" --root "$tmp/unknown" host frobnicate
check "misspelt host action" 2 "$bin" --root "$tmp/unknown" host kernel-param --add x
contains "misspelt host action: did you mean" "$err" "did you mean 'kernel-params'?"

# Without --apply and not root, nothing is written (the default dry run).
if [ "$(id -u)" -ne 0 ]; then
	t=$tmp/default-dry
	make_tree debian "$t"
	before=$(snap "$t")
	run "$bin" --root "$t" host kernel-params --add video=efifb:off
	contains "not root: a dry run by default" "$out" "dry run: nothing written"
	same_tree "not root: nothing written" "$before" "$(snap "$t")"
fi

done_testing
