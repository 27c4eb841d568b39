#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark: `darwinkvm doctor` and `darwinkvm iommu` on the 200-device fixture,
against the physical floor (a bare C walk of the same files) and the reference
(`lspci -nnks` per device in a shell loop over the IOMMU groups, what the guide's
iommu.sh and ls-iommu-style scripts do), all timed in the same run.

Usage: host-scan.py DARWINKVM_BINARY WALK_BINARY FIXTURE_ROOT [RUNS]
Prints one table row per work item: name, our median, the reference's median, ratio, target.
"""
import os
import shlex
import statistics
import subprocess
import sys
import time


def median_ms(cmd, runs, env=None, shell=False):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env, shell=shell, check=False)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    dkvm, walk, root = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 21
    env = dict(os.environ, NO_COLOR="1", LC_ALL="C")
    ids = os.path.join(root, "usr/share/misc/pci.ids")
    groups = os.path.join(root, "sys/kernel/iommu_groups")
    loop = (
        f'for g in {shlex.quote(groups)}/*; do echo "IOMMU Group ${{g##*/}}:"; '
        f'for d in "$g"/devices/*; do lspci -nnks "${{d##*/}}" -A linux-sysfs '
        f'-O sysfs.path={shlex.quote(os.path.join(root, "sys"))} -i {shlex.quote(ids)}; done; done'
    )
    spawn = median_ms(["/bin/true"], runs)
    floor = median_ms([walk, root], runs)
    iommu = median_ms([dkvm, "--root", root, "iommu"], runs, env)
    doctor = median_ms([dkvm, "--root", root, "doctor", "--user", "alice"], runs, env)
    ref_runs = max(3, runs // 7)
    ref = median_ms(["bash", "-c", loop], ref_runs, env)
    rows = [
        ("process spawn (/bin/true)", spawn, None, None, None, "-"),
        ("iommu, 200 devices", iommu, "bare C walk (floor)", floor, iommu / floor, "<= 3.0x"),
        ("iommu, 200 devices", iommu, "lspci shell loop", ref, iommu / ref, "<= 0.1x"),
        ("doctor, 200 devices", doctor, "-", None, None, "<= 20 ms"),
        ("doctor, 200 devices", doctor, "lspci shell loop", ref, doctor / ref, "<= 0.1x"),
    ]
    # One line per result for bench/run's table: RESULT|work|ours ms|reference|ref ms|ratio|target
    for name, ours, refname, refv, ratio, target in rows:
        r = f"{refv:.2f}" if refv is not None else "-"
        q = f"{ratio:.2f}" if ratio is not None else "-"
        print(f"RESULT|{name}|{ours:.2f}|{refname or '-'}|{r}|{q}|{target}")


if __name__ == "__main__":
    main()
