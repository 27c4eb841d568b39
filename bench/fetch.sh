#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: download + full verification of a 1 GiB synthetic recovery image
# (10 MiB chunks, a chunklist signed with a throwaway RSA key) over 127.0.0.1
# nginx, against `curl -s -o FILE` of the same file and `sha256sum FILE`, all
# timed in the same run (median of RUNS). Target (bench/baselines): our
# throughput >= 1.2x curl -o (floor 0.95x).
# Usage: bench/fetch.sh [DARWINKVM_BINARY] [RUNS]
set -eu
bin=$(realpath "${1:-build-bench/src/cli/darwinkvm}")
runs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
helpers=$here/tests/helpers
work=$(mktemp -d /tmp/dkvm-bench-fetch.XXXXXX)
source "$helpers/nginx.sh"
fs_pid=
cleanup() {
	[ -n "$fs_pid" ] && kill "$fs_pid" 2>/dev/null
	nginx_stop
	rm -rf "$work"
}
trap cleanup EXIT

size_mib=${SIZE_MIB:-1024}
mkdir -p "$work/srv/www/Mac-BENCH"
img=$work/srv/www/Mac-BENCH/BaseSystem.dmg
openssl genrsa -out "$work/key.pem" 2048 2>/dev/null
openssl rsa -in "$work/key.pem" -pubout -out "$work/pub.pem" 2>/dev/null
# Incompressible but cheap to make: AES-CTR keystream.
openssl enc -aes-128-ctr -nosalt -pass pass:darwinkvm -in /dev/zero 2>/dev/null | head -c $((size_mib << 20)) >"$img"
python3 "$helpers/make-chunklist.py" "$img" "${img%.dmg}.chunklist" --key "$work/key.pem"
nginx_start "$work/srv"
python3 "$helpers/fault-server.py" "$work/srv" "$work/port" "$NGINX_URL" &
fs_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
fs=http://127.0.0.1:$(cat "$work/port")
url=$NGINX_URL/Mac-BENCH/BaseSystem.dmg

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }
t_ours=() t_curl=() t_sha=() c_ours=() c_curl=()
# CPU seconds (user + system) of one command, from /usr/bin/time.
cpu() { awk '{print $1 + $2}' "$work/time"; }
for i in $(seq "$runs"); do
	rm -rf "$work/out" "$work/curl.dmg"
	sync
	t0=$(now)
	/usr/bin/time -f '%U %S' -o "$work/time" "$bin" -q fetch recovery --board-id Mac-BENCH --server "$fs" --trust-key "$work/pub.pem" -o "$work/out" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	t1=$(now)
	c_ours+=("$(cpu)")
	/usr/bin/time -f '%U %S' -o "$work/time" curl -s -o "$work/curl.dmg" "$url"
	t2=$(now)
	c_curl+=("$(cpu)")
	sha256sum "$work/curl.dmg" >/dev/null
	t3=$(now)
	t_ours+=("$(echo "$t1 - $t0" | bc -l)")
	t_curl+=("$(echo "$t2 - $t1" | bc -l)")
	t_sha+=("$(echo "$t3 - $t2" | bc -l)")
done
cmp -s "$work/out/BaseSystem.dmg" "$img" || { echo "bench: the downloaded image differs" >&2; exit 1; }
m_ours=$(printf '%s\n' "${t_ours[@]}" | median)
m_curl=$(printf '%s\n' "${t_curl[@]}" | median)
m_sha=$(printf '%s\n' "${t_sha[@]}" | median)
mbps() { echo "scale=0; $size_mib * 1048576 / $1 / 1000000" | bc -l; }
echo "== fetch: ${size_mib} MiB image + signed chunklist over 127.0.0.1 nginx, median of $runs"
printf '%-44s %8.3f s %6s MB/s\n' "darwinkvm fetch recovery (download + verify)" "$m_ours" "$(mbps "$m_ours")"
printf '%-44s %8.3f s %6s MB/s\n' "curl -s -o FILE (download only)" "$m_curl" "$(mbps "$m_curl")"
printf '%-44s %8.3f s %6s MB/s\n' "sha256sum FILE (verify only, from cache)" "$m_sha" "$(mbps "$m_sha")"
printf 'CPU seconds (user+sys), median: darwinkvm %s (hashing included, on 2 threads), curl %s\n' \
	"$(printf '%s\n' "${c_ours[@]}" | median)" "$(printf '%s\n' "${c_curl[@]}" | median)"
printf 'load average at the end: %s (the ratio needs idle cores: hashing runs beside the receiver)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'throughput vs curl -o:    %.2fx (target >= 1.2x, floor 0.95x)\n' "$(echo "$m_curl / $m_ours" | bc -l)"
printf 'throughput vs sha256sum:  %.2fx (verification must not be the bottleneck)\n' "$(echo "$m_sha / $m_ours" | bc -l)"
# For bench/run's table (ms; a ratio of times, so <= 0.83 is >= 1.2x the throughput).
ms() { echo "scale=1; $1 * 1000 / 1" | bc -l; }
r() { echo "scale=2; $1 / $2" | bc -l; }
echo "RESULT|fetch + verify ${size_mib} MiB|$(ms "$m_ours")|curl -o|$(ms "$m_curl")|$(r "$m_ours" "$m_curl")|<= 0.83x (floor 1.05x)"
echo "RESULT|fetch + verify ${size_mib} MiB|$(ms "$m_ours")|sha256sum of the file|$(ms "$m_sha")|$(r "$m_ours" "$m_sha")|verify not the bottleneck"
