#!/bin/bash
# SPDX-License-Identifier: MIT
# qemu-wait-marker.sh MARKER TIMEOUT_S LOGFILE -- qemu-system-x86_64 args...
# Starts QEMU in the background with its serial console in LOGFILE, waits until
# MARKER appears (exit 0) or the timeout passes or QEMU exits (exit 1), and
# always kills QEMU: under KVM on some hosts OVMF hangs instead of exiting.
set -u
marker=$1 tmo=$2 log=$3
shift 3
[ "${1:-}" = "--" ] && shift
: >"$log"
start=$(date +%s%N)
"$@" -serial "file:$log" -display none -monitor none </dev/null >"$log.qemu-stderr" 2>&1 &
qpid=$!
found=0
while :; do
	if grep -a -q -- "$marker" "$log"; then
		found=1
		break
	fi
	kill -0 $qpid 2>/dev/null || break
	[ $((($(date +%s%N) - start) / 1000000000)) -ge "$tmo" ] && break
	sleep 0.05
done
ms=$((($(date +%s%N) - start) / 1000000))
kill $qpid 2>/dev/null
wait $qpid 2>/dev/null
if [ $found = 1 ]; then
	echo "marker found after ${ms} ms"
	exit 0
fi
echo "marker not found after ${ms} ms; last serial lines:"
tail -n 5 "$log" | tr -d '\033' | sed 's/^/  /'
sed 's/^/  qemu: /' "$log.qemu-stderr" | tail -n 5
exit 1
