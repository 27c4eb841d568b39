#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage, help, exit codes and option parsing of the real binary.
bin=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

check "--version" 0 "$bin" --version
contains "--version prints the version" "$out" "darwinkvm "
check "--help" 0 "$bin" --help
contains "--help lists verbs" "$out" "doctor"
contains "--help documents exit codes" "$out" "environment error"
check "no verb is a usage error" 2 "$bin"
for v in doctor iommu devices compat completion help version; do
	check "$v --help" 0 "$bin" "$v" --help
	contains "$v --help shows usage" "$out" "Usage: darwinkvm $v"
done
check "help VERB" 0 "$bin" help doctor
contains "help VERB shows that verb" "$out" "Usage: darwinkvm doctor"
check "unknown verb" 2 "$bin" doctr
contains "unknown verb: did you mean" "$err" "did you mean 'doctor'?"
check "unknown verb, nothing close" 2 "$bin" frobnicate
lacks "no suggestion when nothing is close" "$err" "did you mean"
check "unknown option" 2 "$bin" doctor --jsn
contains "unknown option: did you mean" "$err" "did you mean '--json'?"
check "unknown global option" 2 "$bin" --rot / doctor
contains "unknown global option: did you mean" "$err" "did you mean '--root'?"
check "option missing its value" 2 "$bin" doctor --user
contains "missing value named" "$err" "needs a value"
check "flag given a value" 2 "$bin" iommu --gpu=yes
check "bad --json style" 2 "$bin" --json=yaml doctor
check "extra argument" 2 "$bin" doctor extra
contains "extra argument named" "$err" "unexpected argument 'extra'"
check "combined short options refused" 2 "$bin" doctor -qv
check "compat without lookup" 2 "$bin" compat
check "compat bad lookup" 2 "$bin" compat gpus
contains "compat bad lookup names it" "$err" "unknown lookup 'gpus'"
check "compat gpu without query" 2 "$bin" compat gpu
check "compat macos unknown version" 2 "$bin" compat macos 10.99
contains "unknown version named" "$err" "'10.99'"
check "iommu bad --group" 2 "$bin" iommu --group x
check "iommu bad --id" 2 "$bin" iommu --id 10de:zz
check "completion bad shell" 2 "$bin" completion fish
check "completion bash" 0 "$bin" completion bash
if bash -n "$tmp/out"; then pass "bash completion parses"; else fail "bash completion parses"; fi
contains "bash completion lists verbs" "$out" "doctor iommu devices compat"
check "-- ends options" 2 "$bin" compat -- --json
check "missing root" 3 "$bin" --root /nonexistent/dkvm doctor
contains "missing root named" "$err" "/nonexistent/dkvm"
check "global option after the verb" 0 "$bin" compat macos 14 --json
if python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["name"]=="Sonoma"' <<<"$out"; then pass "--json after the verb is JSON"; else fail "--json after the verb is JSON" "$out"; fi

# Data files: missing, or broken, is an environment error naming the file and line.
check "missing data dir" 3 "$bin" --data-dir /nonexistent/data compat macos
contains "missing data dir named" "$err" "/nonexistent/data/macos-versions.tsv"
mkdir -p "$tmp/data"
cp "$(dirname "$0")/../../data/"*.tsv "$tmp/data/"
printf 'bad\tline\n' >>"$tmp/data/macos-versions.tsv"
check "broken data file" 3 "$bin" --data-dir "$tmp/data" compat macos
contains "broken data file: file and line" "$err" "macos-versions.tsv:27: expected 13 tab-separated fields, found 2"
cp "$(dirname "$0")/../../data/macos-versions.tsv" "$tmp/data/"
sed -i 's/^26\tTahoe/2x\tTahoe/' "$tmp/data/macos-versions.tsv"
check "bad version in data" 3 "$bin" --data-dir "$tmp/data" compat macos
contains "bad version in data named" "$err" "column 'version': '2x' is not a macOS version"

# Colour only on a terminal, never with NO_COLOR or --no-color.
check "no colour into a pipe" 0 "$bin" compat macos 14
lacks "no escape sequences" "$out" $'\033['
if command -v script >/dev/null; then
	unset NO_COLOR
	script -qec "$bin --root / doctor >/dev/null; $bin compat gpu 1002:73bf" /dev/null >"$tmp/tty" 2>&1
	tty_out=$(cat "$tmp/tty")
	contains "colour on a terminal" "$tty_out" "support:"
	script -qec "$bin --root / --no-color doctor" /dev/null >"$tmp/tty" 2>&1
	lacks "--no-color on a terminal" "$(cat "$tmp/tty")" $'\033[3'
	NO_COLOR=1 script -qec "$bin --root / doctor" /dev/null >"$tmp/tty" 2>&1
	lacks "NO_COLOR on a terminal" "$(cat "$tmp/tty")" $'\033[3'
	script -qec "$bin --root / doctor" /dev/null >"$tmp/tty" 2>&1
	contains "doctor colours statuses on a terminal" "$(cat "$tmp/tty")" $'\033[3'
	export NO_COLOR=1
fi

# A full stdout is a failure, not silent success.
if [ -w /dev/full ]; then
	:
	"$bin" compat macos >/dev/full 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 3 ] && grep -q "write failure" "$tmp/err"; then pass "write failure reported"; else fail "write failure reported" "rc $rc: $(cat "$tmp/err")"; fi
fi
done_testing
