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

# Look-ups in the data that read no host.
data_cases=(
	"macos-all|compat macos"
	"macos-all-json|--json=pretty compat macos"
	"macos-mojave|compat macos 10.14"
	"macos-bigsur|compat macos big-sur"
	"macos-tiger-json|--json compat macos 10.4"
	"macos-ppc-tiger|compat macos 10.4 --arch ppc"
	"gpu-navi21|compat gpu 1002:73bf"
	"gpu-navi10|compat gpu 1002:731f"
	"gpu-pascal-json|--json=pretty compat gpu 10de:1b81"
	"gpu-ampere|compat gpu 10de:2204"
	"gpu-unknown|compat gpu 1234:5678"
	"gpu-name-rx580|compat gpu 'RX 580'"
	"gpu-name-none|compat gpu 'Voodoo 5'"
)

n=0
fail=0
plan=${#data_cases[@]}
for f in "$fixtures"/hosts/*/; do plan=$((plan + ${#cases[@]})); done
echo "1..$plan"
cd "$fixtures" || exit 1

# compare NAME EXPECTED_FILE OUTPUT RERUN: one TAP line
compare() {
	local name=$1 expected=$2 out=$3 rerun=$4
	if [[ $name == *-json ]]; then
		if ! printf '%s\n' "$out" | sed '/^# exit:/,$d' | python3 -m json.tool >/dev/null 2>&1; then
			echo "not ok $n - $name: output is not valid JSON"
			fail=$((fail + 1))
			return
		fi
	fi
	if [ -n "$regen" ]; then
		printf '%s\n' "$out" >"$expected"
		echo "ok $n - $name # regenerated"
	elif [ ! -f "$expected" ]; then
		echo "not ok $n - $name: no expected file $expected (run with DARWINKVM_TEST_REGENERATE=1)"
		fail=$((fail + 1))
	elif diff -u "$expected" <(printf '%s\n' "$out") >/tmp/dkvm-golden-diff.$$; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' /tmp/dkvm-golden-diff.$$ | head -60
		echo "# rerun: (cd $fixtures && $rerun)"
		fail=$((fail + 1))
	fi
}

mkdir -p "$tests_dir/golden/compat"
for c in "${data_cases[@]}"; do
	id=${c%%|*}
	args=${c#*|}
	n=$((n + 1))
	out=$(eval "\"\$bin\" $args" 2>/tmp/dkvm-golden-err.$$; echo "# exit: $?")
	err=$(cat /tmp/dkvm-golden-err.$$)
	[ -n "$err" ] && out="$out"$'\n'"# stderr:"$'\n'"$err"
	compare "compat $id" "$tests_dir/golden/compat/$id.out" "$out" "$bin $args"
done

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
		compare "$name $id" "$expected" "$out" "$bin --root hosts/$name $args"
	done
done
rm -f /tmp/dkvm-golden-err.$$ /tmp/dkvm-golden-diff.$$
exit $((fail > 0))
