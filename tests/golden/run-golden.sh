#!/bin/bash
# SPDX-License-Identifier: MIT
# Golden tests: run the real binary on every fixture host and compare stdout,
# stderr and the exit status with tests/golden/hosts/<fixture>/<case>.out.
# DARWINKVM_TEST_REGENERATE=1 rewrites the expected files (review them with git diff).
# Output: TAP.
set -u
bin=$(realpath "$1")
tests_dir=$2
fixtures="$tests_dir/fixtures"
golden="$tests_dir/golden/hosts"
regen=${DARWINKVM_TEST_REGENERATE:-}
export LC_ALL=C TZ=UTC NO_COLOR=1
unset SUDO_USER

cases=(
	"doctor|doctor --user alice"
	"doctor-json|--json=pretty doctor --user alice"
	"doctor-quiet|doctor --quiet --user alice"
	"iommu|iommu"
	"iommu-json|--json iommu"
	"iommu-gpu|iommu --gpu"
	"devices|devices"
	"devices-json|--json=pretty devices"
	"compat-cpu|compat cpu"
)

n=0
fail=0
plan=0
for f in "$fixtures"/hosts/*/; do plan=$((plan + ${#cases[@]})); done
echo "1..$plan"
cd "$fixtures" || exit 1
for f in hosts/*/; do
	name=$(basename "$f")
	mkdir -p "$golden/$name"
	for c in "${cases[@]}"; do
		id=${c%%|*}
		args=${c#*|}
		n=$((n + 1))
		expected="$golden/$name/$id.out"
		# shellcheck disable=SC2086
		out=$("$bin" --root "hosts/$name" $args 2>/tmp/dkvm-golden-err.$$; echo "# exit: $?")
		err=$(cat /tmp/dkvm-golden-err.$$)
		[ -n "$err" ] && out="$out"$'\n'"# stderr:"$'\n'"$err"
		if [[ $id == *-json ]]; then
			if ! printf '%s\n' "$out" | sed '/^# exit:/,$d' | python3 -m json.tool >/dev/null 2>&1; then
				echo "not ok $n - $name $id: output is not valid JSON"
				fail=$((fail + 1))
				continue
			fi
		fi
		if [ -n "$regen" ]; then
			printf '%s\n' "$out" >"$expected"
			echo "ok $n - $name $id # regenerated"
			continue
		fi
		if [ ! -f "$expected" ]; then
			echo "not ok $n - $name $id: no expected file $expected (run with DARWINKVM_TEST_REGENERATE=1)"
			fail=$((fail + 1))
			continue
		fi
		if diff -u "$expected" <(printf '%s\n' "$out") >/tmp/dkvm-golden-diff.$$; then
			echo "ok $n - $name $id"
		else
			echo "not ok $n - $name $id"
			sed 's/^/# /' /tmp/dkvm-golden-diff.$$ | head -60
			echo "# rerun: (cd $fixtures && $bin --root hosts/$name $args)"
			fail=$((fail + 1))
		fi
	done
done
rm -f /tmp/dkvm-golden-err.$$ /tmp/dkvm-golden-diff.$$
exit $((fail > 0))
