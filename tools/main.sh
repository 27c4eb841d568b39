#!/bin/bash
# SPDX-License-Identifier: MIT
# The main job: install the dependencies, build darwinkvm, and check this host.
set -eu
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
# doctor exits 1 when a check fails; that is a verdict, not an error of this script.
./build/src/cli/darwinkvm doctor "$@" || [ $? -eq 1 ]
