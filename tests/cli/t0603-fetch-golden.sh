#!/bin/bash
# SPDX-License-Identifier: MIT
# Golden files for what fetch prints without the network: the recovery
# targets from the data files, the shipped pin table, the help text.
# DARWINKVM_TEST_REGENERATE=1 rewrites tests/golden/fetch/*.out (review with git diff).
bin=$(realpath "$1")
golden=$(realpath "$2/golden/fetch")
source "$(dirname "$0")/lib.sh"

cases=(
	"list|fetch list"
	"list-json|--json=pretty fetch list"
	"pins|fetch pins"
	"pins-json|--json=pretty fetch pins"
	"help|fetch --help"
)
for c in "${cases[@]}"; do
	name=${c%%|*}
	args=${c#*|}
	# shellcheck disable=SC2086
	run "$bin" $args
	# The data directory differs between checkouts.
	got=$(printf '%s\n%s\n# exit: %s\n' "$out" "$err" "$rc" | sed "s|${DARWINKVM_DATA_DIR:-/nonexistent}|DATA|g")
	if [ -n "${DARWINKVM_TEST_REGENERATE:-}" ]; then
		printf '%s\n' "$got" >"$golden/$name.out"
		pass "$name (regenerated)"
	elif [ "$got" = "$(cat "$golden/$name.out" 2>/dev/null)" ]; then
		pass "$name"
	else
		fail "$name" "$(diff <(cat "$golden/$name.out" 2>/dev/null) <(printf '%s\n' "$got") | head -20)"
	fi
	if [[ $name == *-json ]]; then
		if printf '%s\n' "$out" | python3 -m json.tool >/dev/null 2>&1; then pass "$name: valid JSON"; else fail "$name: valid JSON"; fi
	fi
done
done_testing
