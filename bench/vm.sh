#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: `darwinkvm vm define` + `darwinkvm vm start` (spec parsed, checked
# against the host, XML built, libvirt C API) against `virsh define` +
# `virsh start` of the same XML, in the same run, on a real libvirtd (started
# here as in the tests, and stopped afterwards). TCG guests; each started
# domain is destroyed and undefined between runs (not timed).
#   bench/vm.sh [DARWINKVM_BINARY] [RUNS]   (root; target ratio <= 1.0)
set -u
bin=$(realpath "${1:-build-bench/src/cli/darwinkvm}")
runs=${2:-9}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tests/helpers/libvirtd.sh"

work=$(mktemp -d /var/tmp/dkvm-bench-vm.XXXXXX)
chmod 755 "$work"
name=dkvm-bench-$$
cleanup() {
	virsh -c qemu:///system destroy "$name" >/dev/null 2>&1
	virsh -c qemu:///system undefine --nvram "$name" >/dev/null 2>&1
	libvirtd_stop
	rm -rf "$work"
}
trap cleanup EXIT
libvirtd_start || {
	echo "bench/vm.sh: cannot start libvirtd (root needed)" >&2
	exit 1
}
export LIBVIRT_DEFAULT_URI=qemu:///system

truncate -s 64M "$work/OpenCore.img"
cat >"$work/vm.conf" <<CONF
[vm]
name = $name
uuid = $(python3 -c 'import uuid; print(uuid.uuid4())')
macos = 14
[cpu]
cores = 1
vcpus = 1
pin = no
[memory]
size = 512M
[disks]
opencore = $work/OpenCore.img
[network]
mode = none
CONF
opts=(--tcg --headless --serial "$work/serial.log")
"$bin" vm xml "${opts[@]}" "$work/vm.conf" >"$work/dom.xml" 2>/dev/null || exit 1

reset_domain() {
	virsh destroy "$name" >/dev/null 2>&1
	virsh undefine --nvram "$name" >/dev/null 2>&1
}
now_ms() { date +%s%N; }
ours=()
ref=()
ours_def=()
ref_def=()
reset_domain
for i in $(seq 1 "$runs"); do
	# Alternate which goes first, so neither always meets a warmer daemon.
	for who in $([ $((i % 2)) = 0 ] && echo "ours ref" || echo "ref ours"); do
		t0=$(now_ms)
		if [ "$who" = ours ]; then
			"$bin" vm define "${opts[@]}" "$work/vm.conf" >/dev/null 2>&1 || { echo "darwinkvm failed" >&2; exit 1; }
			ours_def+=($((($(now_ms) - t0) / 1000)))
			"$bin" vm start "$name" >/dev/null 2>&1 || { echo "darwinkvm failed" >&2; exit 1; }
			ours+=($((($(now_ms) - t0) / 1000)))
		else
			virsh define "$work/dom.xml" >/dev/null 2>&1 || { echo "virsh failed" >&2; exit 1; }
			ref_def+=($((($(now_ms) - t0) / 1000)))
			virsh start "$name" >/dev/null 2>&1 || { echo "virsh failed" >&2; exit 1; }
			ref+=($((($(now_ms) - t0) / 1000)))
		fi
		reset_domain
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mo=$(median "${ours[@]}")
mr=$(median "${ref[@]}")
mod=$(median "${ours_def[@]}")
mrd=$(median "${ref_def[@]}")
echo "median of $runs runs (us):"
printf '%-44s %10s\n' "darwinkvm vm define" "$mod" "virsh define (same XML)" "$mrd" \
	"darwinkvm vm define + vm start" "$mo" "virsh define + virsh start (same XML)" "$mr"
awk -v o="$mod" -v r="$mrd" 'BEGIN { printf "define alone, ratio ours/virsh: %.2f\n", o / r }'
awk -v o="$mo" -v r="$mr" 'BEGIN { printf "define + start, ratio ours/virsh: %.2f (target <= 1.0)\n", o / r }'
# For bench/run's table (ms).
awk -v o="$mod" -v r="$mrd" 'BEGIN { printf "RESULT|vm define|%.1f|virsh define|%.1f|%.2f|<= 1.0x\n", o / 1000, r / 1000, o / r }'
awk -v o="$mo" -v r="$mr" 'BEGIN { printf "RESULT|vm define + start|%.1f|virsh define + start|%.1f|%.2f|<= 1.0x\n", o / 1000, r / 1000, o / r }'
