# SPDX-License-Identifier: MIT
# A tiny TAP harness for the CLI tests: they run the real binary.
# Usage: source lib.sh; then `check NAME EXPECTED_EXIT CMD...`, `ok NAME COND...`, `done_testing`.
set -u
n=0
failures=0
export LC_ALL=C TZ=UTC NO_COLOR=1
unset SUDO_USER
tmp=$(mktemp -d /tmp/dkvm-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Runs CMD, keeping stdout in $out, stderr in $err, status in $rc.
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1))
	failures=$((failures + 1))
	echo "not ok $n - $1"
	shift
	for l in "$@"; do printf '# %s\n' "$l"; done
}

# check NAME EXPECTED_RC CMD...: runs CMD and checks its exit status
check() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $rc, expected $want" "stdout: ${out:0:400}" "stderr: ${err:0:400}"; fi
}

# contains NAME HAYSTACK NEEDLE
contains() {
	if [[ $2 == *"$3"* ]]; then pass "$1"; else fail "$1" "missing: $3" "in: ${2:0:600}"; fi
}

# lacks NAME HAYSTACK NEEDLE
lacks() {
	if [[ $2 != *"$3"* ]]; then pass "$1"; else fail "$1" "unexpected: $3" "in: ${2:0:600}"; fi
}

done_testing() {
	echo "1..$n"
	[ "$failures" -eq 0 ]
}
