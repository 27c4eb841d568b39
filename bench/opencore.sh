#!/bin/bash
# SPDX-License-Identifier: MIT
# OpenCore and plist timings (not a test): `opencore validate` on the largest golden
# config (target < 5 ms per run, whole process), and plist parse + write of a 1 MiB
# XML plist shaped like an OpenCore config, XML -> binary and binary -> XML, against
# libplist's plistutil on the same files (target <= 1.0x). Median of RUNS (21) runs.
# Usage: bench/opencore.sh [path/to/darwinkvm]   (builds nothing itself)
set -eu
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build-bench/src/cli/darwinkvm}")
runs=${RUNS:-21}
out=bench/out/opencore
mkdir -p "$out"
command -v plistutil >/dev/null || { echo "bench: install libplist-utils for the reference" >&2; exit 3; }
export DARWINKVM_DATA_DIR=$PWD/data

# median_ms CMD...: runs CMD $runs times, prints the median CPU time (user + system) in ms.
# CPU time, not wall time: CI and shared machines run other jobs at the same time.
median_ms() {
	python3 - "$runs" "$@" <<'PY'
import os, subprocess, sys
runs = int(sys.argv[1]); cmd = sys.argv[2:]
t = []
for _ in range(runs):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    t.append((ru.ru_utime + ru.ru_stime) * 1000)
t.sort()
print("%.2f" % t[len(t) // 2])
PY
}

config=tests/golden/opencore/macpro7-navi10-full.plist
v=$(median_ms "$bin" opencore validate --macos 15 "$config")
base=$(median_ms "$bin" version)
echo "opencore validate ($(wc -c <"$config") bytes, whole process, CPU): $v ms; process start-up alone ($bin version) $base ms (target < 5 ms)"

# 1 MiB: a config whose Kernel.Add and DeviceProperties are blown up.
python3 - "$config" "$out/big.plist" <<'PY'
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
base = d["Kernel"]["Add"][0]
i = 0
while len(plistlib.dumps(d)) < (1 << 20):
    for _ in range(200):
        e = dict(base); e["BundlePath"] = "Kext%05d.kext" % i; e["Comment"] = "entry %d with some text" % i
        d["Kernel"]["Add"].append(e)
        d["DeviceProperties"]["Add"]["PciRoot(0x0)/Pci(0x%x,0x0)" % (i % 32)] = {"model": "GPU %d" % i, "layout-id": b"\x01\x00\x00\x00"}
        i += 1
plistlib.dump(d, open(sys.argv[2], "wb"))
PY
cp "$out/big.plist" "$out/big-ours.plist"
"$bin" plist convert "$out/big-ours.plist" -o "$out/big.bin"
echo "plist: $(wc -c <"$out/big.plist") bytes XML, $(wc -c <"$out/big.bin") bytes binary"
ours_x2b=$(median_ms "$bin" plist convert "$out/big.plist" -o "$out/ours.bin")
ref_x2b=$(median_ms plistutil -i "$out/big.plist" -o "$out/ref.bin" -f bin)
ours_b2x=$(median_ms "$bin" plist convert "$out/big.bin" -o "$out/ours.xml")
ref_b2x=$(median_ms plistutil -i "$out/big.bin" -o "$out/ref.xml" -f xml)
ratio() { python3 -c "print('%.2fx' % ($1 / $2))"; }
echo "XML -> binary: darwinkvm $ours_x2b ms, plistutil $ref_x2b ms: $(ratio "$ours_x2b" "$ref_x2b") (target <= 1.0x)"
echo "binary -> XML: darwinkvm $ours_b2x ms, plistutil $ref_b2x ms: $(ratio "$ours_b2x" "$ref_b2x") (target <= 1.0x)"
# For bench/run's table (CPU ms).
r() { python3 -c "print('%.2f' % ($1 / $2))"; }
echo "RESULT|opencore validate (largest golden)|$v|process start-up|$base|$(r "$v" "$base")|< 5 ms"
echo "RESULT|plist 1 MiB XML -> binary|$ours_x2b|plistutil|$ref_x2b|$(r "$ours_x2b" "$ref_x2b")|<= 1.0x"
echo "RESULT|plist 1 MiB binary -> XML|$ours_b2x|plistutil|$ref_b2x|$(r "$ours_b2x" "$ref_b2x")|<= 1.0x"
