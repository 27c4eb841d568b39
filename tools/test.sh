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

# Counts the results in meson's JSON log, one per subtest: every TAP line of the
# CLI and golden scripts, every cmocka test case; a test that died counts as failed.
count() { # BUILDDIR [SUFFIX]
	local log=$1/meson-logs/testlog${2:-}.json
	[ -f "$log" ] || return
	local pf
	pf=$(python3 - "$log" <<'EOF'
import json, re, sys
p = f = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get("stdout") or ""
    ok = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
    tap_ok = len(re.findall(r"^ok \d+", out, re.M))
    tap_bad = len(re.findall(r"^not ok \d+", out, re.M))
    cm_ok = len(re.findall(r"^\[ +OK +\] ", out, re.M))
    cm_bad = len(re.findall(r"^\[ +FAILED +\] test", out, re.M))
    if tap_ok + tap_bad:
        p += tap_ok; f += tap_bad
    elif cm_ok + cm_bad:
        p += cm_ok; f += cm_bad
    else:
        p += ok; f += not ok
    if not ok and not (tap_bad or cm_bad):
        f += 1  # died, or a wrong exit status after passing cases
print(p, f)
EOF
)
	passed=$((passed + ${pf% *}))
	failed=$((failed + ${pf#* }))
}

step clang-format bash -c 'clang-format --dry-run --Werror src/*/*.c src/*/*.h tests/unit/*.c tests/fuzz/*.c'
# Host paths are read through struct root only: no literal /sys, /proc, /dev, /etc or /var
# path may reach open(), fopen(), opendir() or stat() in the core library.
step root-lint bash -c '! grep -nE "(open|fopen|opendir|stat|access)\(\"/(sys|proc|dev|etc|var)" src/core/*.c'

# gcc with sanitizers: every suite.
rm -rf build-ci build-clang build-fuzz
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
	meson test -C build-clang --suite unit --print-errorlogs
	count build-clang
	meson test -C build-clang --suite unit --setup valgrind --print-errorlogs
	count build-clang -valgrind
else
	failed=$((failed + 1))
	echo "FAIL build clang"
	tail -n 40 /tmp/dkvm-build.log
fi

# The parsers of untrusted input under libFuzzer, each for a bounded time, from its corpus in
# the repo (copied: the run adds to the copy, never to the checkout).
if CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false -Db_sanitize=address,undefined \
	>/dev/null && meson compile -C build-fuzz $(for h in tests/fuzz/fuzz-*.c; do
		basename "$h" .c | sed 's#^#tests/#'
	done) >/tmp/dkvm-build.log 2>&1; then
	for h in tests/fuzz/fuzz-*.c; do
		name=$(basename "$h" .c)
		name=${name#fuzz-}
		rm -rf "/tmp/dkvm-fuzz-$name" && cp -r "tests/fuzz/corpus-$name" "/tmp/dkvm-fuzz-$name"
		step "fuzz $name (${FUZZ_SECONDS:-15} s)" "./build-fuzz/tests/fuzz-$name" \
			-max_total_time="${FUZZ_SECONDS:-15}" -max_len=65536 "/tmp/dkvm-fuzz-$name"
	done
else
	failed=$((failed + 1))
	echo "FAIL build fuzz"
	tail -n 40 /tmp/dkvm-build.log
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
