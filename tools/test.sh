#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite: install the dependencies, check formatting and the
# --root lint, build with gcc + ASan/UBSan and run every test, build with clang
# and run the unit tests (also under valgrind), then print "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
bash tools/deps.sh test || exit 3

passed=0
failed=0
step() { # NAME COMMAND...: a check that counts as one test
	local name=$1
	shift
	if "$@" >/tmp/dkvm-step.log 2>&1; then
		passed=$((passed + 1))
		echo "PASS $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
		tail -n 40 /tmp/dkvm-step.log
	fi
}

# Counts meson's per-test results from its JSON log.
count() { # BUILDDIR
	local log=$1/meson-logs/testlog.json
	[ -f "$log" ] || return
	local p f
	p=$(python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    r=json.loads(l)["result"]
    n+= r in ("OK","EXPECTEDFAIL","SKIP")
print(n)' "$log")
	f=$(python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    r=json.loads(l)["result"]
    n+= r not in ("OK","EXPECTEDFAIL","SKIP")
print(n)' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
}

step clang-format bash -c 'clang-format --dry-run --Werror src/*/*.c src/*/*.h tests/unit/*.c'
# Host paths are read through struct root only: no literal /sys, /proc, /dev, /etc or /var
# path may reach open(), fopen(), opendir() or stat() in the core library.
step root-lint bash -c '! grep -nE "(open|fopen|opendir|stat|access)\(\"/(sys|proc|dev|etc|var)" src/core/*.c'

# gcc with sanitizers: every suite.
rm -rf build-ci build-clang
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
if meson setup build-ci -Db_sanitize=address,undefined -Db_lundef=false >/dev/null &&
	meson compile -C build-ci >/tmp/dkvm-build.log 2>&1; then
	passed=$((passed + 1))
	echo "PASS build gcc+asan+ubsan"
	meson test -C build-ci --print-errorlogs --num-processes 2
	count build-ci
else
	failed=$((failed + 1))
	echo "FAIL build gcc+asan+ubsan"
	tail -n 40 /tmp/dkvm-build.log
fi

# clang: build and unit tests, then the unit tests under valgrind.
# (DWARF 4: valgrind 3.19 cannot read clang 14's default DWARF 5.)
if CC=clang meson setup build-clang -Dc_args=-gdwarf-4 >/dev/null && meson compile -C build-clang >/tmp/dkvm-build.log 2>&1; then
	passed=$((passed + 1))
	echo "PASS build clang"
	step "clang unit tests" meson test -C build-clang --suite unit --print-errorlogs
	step "valgrind unit tests" meson test -C build-clang --suite unit --setup valgrind --print-errorlogs
else
	failed=$((failed + 1))
	echo "FAIL build clang"
	tail -n 40 /tmp/dkvm-build.log
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
