#!/bin/bash
# SPDX-License-Identifier: MIT
# The main job: install the dependencies, build darwinkvm, check this host, and
# make a macOS VM with the defaults this host supports (darwinkvm new). Where the
# download servers cannot be reached (or a download has no pin yet), `new` says
# so in one line and finishes every step that does not need them; running this
# again later resumes. Set DARWINKVM_VM to choose the VM's name (default: macos);
# extra arguments go to `new` (e.g. --macos 14 --gpu none --plan).
set -eu
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
dkvm=./build/src/cli/darwinkvm
# doctor exits 1 when a check fails; that is a verdict, not an error of this script.
"$dkvm" doctor || [ $? -eq 1 ]
echo
# new: 0 done, 1 a problem it named (such as a download without a pin), 4 no network.
rc=0
"$dkvm" new "${DARWINKVM_VM:-macos}" "$@" || rc=$?
case $rc in
0) echo "main: the VM is ready: $dkvm verify ${DARWINKVM_VM:-macos}" ;;
1 | 4) echo "main: every step that needs no download is done; run this again to resume" ;;
*) exit $rc ;;
esac
