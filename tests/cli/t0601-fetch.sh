#!/bin/bash
# SPDX-License-Identifier: MIT
# fetch over real HTTP on 127.0.0.1: nginx for the transfers (Range, 206/416,
# no-Range, limit_rate), a small python server for the recovery protocol and
# the faults nginx cannot make (a cut connection, 500 then success). Synthetic
# images signed with a test RSA key, synthetic zips with their own pins. In
# every failure the final name must not appear and the error names the chunk
# or member.
bin=$(realpath "$1")
helpers=$(realpath "$2/helpers")
source "$(dirname "$0")/lib.sh"
source "$helpers/nginx.sh"

export XDG_CACHE_HOME=$tmp/cache DARWINKVM_RETRY_BACKOFF_MS=10
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
fs_pid=
cleanup() {
	[ -n "$fs_pid" ] && kill "$fs_pid" 2>/dev/null
	nginx_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

www=$tmp/srv/www
mkdir -p "$www"
openssl genrsa -out "$tmp/key.pem" 2048 2>/dev/null
openssl rsa -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem" 2>/dev/null
openssl genrsa -out "$tmp/other.pem" 2048 2>/dev/null

# One image per board-id directory: the recovery server's AU/CU point at
# $NGINX_URL/<board-id>/BaseSystem.{dmg,chunklist}.
mkimage() { # BOARD [make-chunklist options...]
	local d=$www/$1
	shift
	mkdir -p "$d"
	cp "$tmp/image" "$d/BaseSystem.dmg"
	python3 "$helpers/make-chunklist.py" "$d/BaseSystem.dmg" "$d/BaseSystem.chunklist" --chunk 1048576 --key "$tmp/key.pem" "$@"
}
head -c $((5 * 1048576 + 12345)) /dev/urandom >"$tmp/image"
mkimage Mac-827FAC58A8FDFA22
mkimage Mac-GOOD
mkimage Mac-FLIP
python3 - "$www/Mac-FLIP/BaseSystem.dmg" <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(3 * 1048576 + 7); b = f.read(1); f.seek(3 * 1048576 + 7); f.write(bytes([b[0] ^ 0x40]))
PY
mkimage Mac-DROPLAST --fault drop-last
mkimage Mac-EXTRA --fault extra
mkimage Mac-BADCOUNT --fault bad-count
mkimage Mac-BADOFF --fault bad-offset
mkimage Mac-BADSIGOFF --fault bad-sigoff
mkimage Mac-BADSIG --fault flip-sig
mkimage Mac-UNSIGNED --unsigned
mkimage Mac-OTHERKEY --key "$tmp/other.pem"
mkimage Mac-TRAILING --fault trailing

nginx_start "$tmp/srv" || { fail "nginx starts"; done_testing; exit 1; }
python3 "$helpers/fault-server.py" "$tmp/srv" "$tmp/port" "$NGINX_URL" &
fs_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
fs=http://127.0.0.1:$(cat "$tmp/port")

rec() { # BOARD OUTDIR [extra args]
	local board=$1 odir=$2
	shift 2
	run "$bin" fetch recovery --board-id "$board" --server "$fs" --trust-key "$tmp/pub.pem" -o "$odir" --seed t "$@"
}

# ---- recovery: the happy path ----
check "recovery --macos 14 downloads and verifies" 0 "$bin" fetch recovery --macos 14 --server "$fs" --trust-key "$tmp/pub.pem" -o "$tmp/r1"
contains "prints the image path" "$out" "$tmp/r1/BaseSystem.dmg"
if cmp -s "$tmp/r1/BaseSystem.dmg" "$tmp/image"; then pass "image identical"; else fail "image identical"; fi
if cmp -s "$tmp/r1/BaseSystem.chunklist" "$www/Mac-827FAC58A8FDFA22/BaseSystem.chunklist"; then pass "chunklist stored beside it"; else fail "chunklist stored beside it"; fi
contains "session cookie sent back" "$(cat "$tmp/srv/requests.log")" "POST /InstallationPayload/RecoveryImage range=None cookie=session=1700000000~ABCDEF"
contains "asset token sent" "$(cat "$tmp/srv/../srv/nginx-access.log" 2>/dev/null; cat "$tmp/srv/requests.log")" "POST"
lacks "no .part left" "$(ls "$tmp/r1")" ".part"
rec Mac-GOOD "$tmp/rj" --json
contains "--json names the product" "$out" '"product":"041-00000"'

# The release trust: Apple's keys only, so the test-signed list is refused.
check "test-signed list refused with Apple's keys" 1 "$bin" fetch recovery --board-id Mac-GOOD --server "$fs" -o "$tmp/r2"
contains "says which check failed" "$err" "matches none of the 2 trusted key(s)"
if [ ! -e "$tmp/r2/BaseSystem.dmg" ]; then pass "no image after refusal"; else fail "no image after refusal"; fi

# ---- chunklist faults ----
rec Mac-FLIP "$tmp/r3"
[ "$rc" -eq 1 ] && pass "flipped byte: exit 1" || fail "flipped byte: exit 1" "rc=$rc $err"
contains "flipped byte: names chunk 3" "$err" "chunk 3 (bytes 3145728..4194303) has SHA-256"
[ ! -e "$tmp/r3/BaseSystem.dmg" ] && pass "flipped byte: no final name" || fail "flipped byte: no final name"
part=$(stat -c %s "$tmp/r3/BaseSystem.dmg.part" 2>/dev/null || echo none)
[ "$part" = 3145728 ] && pass "flipped byte: verified chunks kept for a resume" || fail "flipped byte: verified chunks kept for a resume" "part=$part"

rec Mac-DROPLAST "$tmp/r4"
[ "$rc" -eq 1 ] && pass "chunk missing at the end: exit 1" || fail "chunk missing at the end: exit 1" "rc=$rc"
contains "chunk missing: says data runs past the last chunk" "$err" "data continues past the last chunk (5 chunks"
[ ! -e "$tmp/r4/BaseSystem.dmg" ] && pass "chunk missing: no final name" || fail "chunk missing: no final name"
rec Mac-EXTRA "$tmp/r5"
[ "$rc" -eq 1 ] && pass "extra chunk: exit 1" || fail "extra chunk: exit 1" "rc=$rc"
contains "extra chunk: names where the data ends" "$err" "inside chunk 6 of 7"
[ ! -e "$tmp/r5/BaseSystem.dmg" ] && pass "extra chunk: no final name" || fail "extra chunk: no final name"
rec Mac-BADCOUNT "$tmp/r6"
contains "bad count refused" "$err" "signature_offset is"
rec Mac-BADOFF "$tmp/r6"
contains "bad chunk_offset refused" "$err" "chunk_offset is not 0x24"
rec Mac-BADSIGOFF "$tmp/r6"
contains "bad signature_offset refused" "$err" "signature_offset is"
rec Mac-TRAILING "$tmp/r6"
contains "bytes after the trailer refused" "$err" "expected"
rec Mac-BADSIG "$tmp/r6"
[ "$rc" -eq 1 ] && pass "bad signature: exit 1" || fail "bad signature: exit 1" "rc=$rc"
contains "bad signature named" "$err" "RSA signature matches none"
rec Mac-OTHERKEY "$tmp/r6"
contains "signed by another key: refused" "$err" "RSA signature matches none"
rec Mac-UNSIGNED "$tmp/r6"
[ "$rc" -eq 1 ] && pass "unsigned: exit 1" || fail "unsigned: exit 1" "rc=$rc"
contains "unsigned named" "$err" "not signed (method 2"
[ ! -e "$tmp/r6/BaseSystem.dmg" ] && pass "bad lists: no image ever" || fail "bad lists: no image ever"
rec Mac-UNSIGNED "$tmp/r7" --allow-unsigned
[ "$rc" -eq 0 ] && pass "--allow-unsigned takes it" || fail "--allow-unsigned takes it" "rc=$rc $err"
contains "--allow-unsigned warns loudly" "$err" "WARNING: the chunklist is NOT signed"

# ---- offline: a recovery directory already on disk ----
check "--local verifies a downloaded dir" 0 "$bin" fetch recovery --local "$tmp/r1" --trust-key "$tmp/pub.pem"
contains "--local prints the image" "$out" "$tmp/r1/BaseSystem.dmg"
mkdir -p "$tmp/loc"
cp "$www/Mac-FLIP/BaseSystem.dmg" "$www/Mac-FLIP/BaseSystem.chunklist" "$tmp/loc/"
check "--local: flipped byte found offline" 1 "$bin" fetch recovery --local "$tmp/loc" --trust-key "$tmp/pub.pem"
contains "--local names the chunk" "$err" "chunk 3 (bytes 3145728..4194303)"
check "--local with Apple's keys refuses a test signature" 1 "$bin" fetch recovery --local "$tmp/r1"
check "--local: no image" 3 "$bin" fetch recovery --local "$tmp"

# An expired asset token (403): darwinkvm asks the server again and finishes.
: >"$tmp/srv/requests.log"
rec Mac-EXPIRE "$tmp/rx"
[ "$rc" -eq 0 ] && pass "403 on the image: fresh tokens, then done" || fail "403 on the image: fresh tokens, then done" "rc=$rc $err"
contains "403: says it asks again" "$err" "asking for fresh asset tokens"
[ "$(grep -c 'POST /InstallationPayload' "$tmp/srv/requests.log")" -eq 2 ] && pass "403: queried twice" || fail "403: queried twice"
cmp -s "$tmp/rx/BaseSystem.dmg" "$tmp/image" && pass "403: image identical" || fail "403: image identical"

# ---- recovery protocol errors ----
check "unknown board: exit 4" 4 "$bin" fetch recovery --board-id Mac-UNKNOWN --server "$fs" -o "$tmp/r8"
contains "unknown board named" "$err" "does not know board-id Mac-UNKNOWN"
check "no server: exit 4" 4 "$bin" fetch recovery --board-id Mac-GOOD --server http://127.0.0.1:1 --retries 1 -o "$tmp/r8"
check "bad --mlb: usage" 2 "$bin" fetch recovery --board-id Mac-GOOD --mlb 123 --server "$fs"
check "unknown version: usage" 2 "$bin" fetch recovery --macos 99 --server "$fs"
check "fetch list" 0 "$bin" fetch list
contains "list: Sonoma board" "$out" "14       Sonoma         Mac-827FAC58A8FDFA22"
check "fetch list --json --online" 0 "$bin" --json fetch list --online --server "$fs"
contains "list --online: product" "$out" '"version":"14","name":"Sonoma","board_id":"Mac-827FAC58A8FDFA22","mlb":"00000000000000000","os":"default","available":true,"product":"041-00000"'

# ---- pinned assets ----
zips=$tmp/zips
python3 "$helpers/make-zips.py" "$zips"
cp "$zips"/*.zip "$www/"
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
head -c $((3 * 1048576 + 99)) /dev/urandom >"$www/big.zip"
pins=$tmp/pins.tsv
pin_row() { # NAME VERSION KIND URL FILE
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(size "$5")" "$(sha "$5")"
}
{
	printf 'name\tversion\tkind\turl\tsize\tsha256\n# test pins\n'
	pin_row OpenCorePkg 1.0.7 opencore "$NGINX_URL/OpenCore-1.0.7-RELEASE.zip" "$www/OpenCore-1.0.7-RELEASE.zip"
	pin_row Lilu 1.7.1 kext "$NGINX_URL/Lilu-1.7.1-RELEASE.zip" "$www/Lilu-1.7.1-RELEASE.zip"
	pin_row VMHide 2.0.0 kext "$NGINX_URL/VMHide-2.0.0-RELEASE.zip" "$www/VMHide-2.0.0-RELEASE.zip"
	pin_row AppleMCEReporterDisabler 1.2 kext "$NGINX_URL/AppleMCEReporterDisabler.kext.zip" "$www/AppleMCEReporterDisabler.kext.zip"
	pin_row Big 1 kext "$NGINX_URL/big.zip" "$www/big.zip"
	pin_row Slow 1 kext "$NGINX_URL/slow/big.zip" "$www/big.zip"
	pin_row Drop 1 kext "$fs/drop/big.zip" "$www/big.zip"
	pin_row Flaky 1 kext "$fs/fail500/big.zip" "$www/big.zip"
	pin_row Broken 1 kext "$fs/always500/big.zip" "$www/big.zip"
	pin_row NoRange 1 kext "$NGINX_URL/norange/big.zip" "$www/big.zip"
	pin_row Missing 1 kext "$NGINX_URL/missing.zip" "$www/big.zip"
	printf 'Tampered\t1\tkext\t%s\t%s\t%s\n' "$NGINX_URL/Lilu-1.7.1-RELEASE.zip" "$(size "$www/Lilu-1.7.1-RELEASE.zip")" "$(sha "$www/VMHide-2.0.0-RELEASE.zip")"
	printf 'Unpinned\t1\tkext\t%s\t-\t-\n' "$NGINX_URL/VMHide-2.0.0-RELEASE.zip"
	pin_row DotDot 1 kext "$NGINX_URL/evil-dotdot.zip" "$www/evil-dotdot.zip"
	pin_row Symlink 1 kext "$NGINX_URL/evil-symlink.zip" "$www/evil-symlink.zip"
	pin_row Bomb 1 kext "$NGINX_URL/evil-bomb.zip" "$www/evil-bomb.zip"
} >"$pins"
export DARWINKVM_PINS=$pins

efi=$tmp/esp
check "fetch opencore --efi" 0 "$bin" fetch opencore --efi "$efi"
for f in EFI/BOOT/BOOTx64.efi EFI/OC/OpenCore.efi EFI/OC/Drivers/OpenRuntime.efi EFI/OC/Drivers/ResetNvramEntry.efi EFI/OC/Drivers/OpenHfsPlus.efi EFI/OC/Kexts EFI/OC/ACPI; do
	[ -e "$efi/$f" ] && pass "opencore: $f" || fail "opencore: $f"
done
[ ! -e "$efi/EFI/OC/Drivers/Ext4Dxe.efi" ] && pass "opencore: unneeded drivers left out" || fail "opencore: unneeded drivers left out"
[ ! -e "$efi/IA32" ] && [ ! -e "$efi/Docs" ] && pass "opencore: only the X64 boot files" || fail "opencore: only the X64 boot files"
lacks "no staging left behind" "$(ls -a "$efi")" ".darwinkvm-unzip"
check "fetch kexts Lilu VMHide AppleMCEReporterDisabler --efi" 0 "$bin" fetch kexts Lilu VMHide AppleMCEReporterDisabler --efi "$efi"
for f in Lilu.kext/Contents/Info.plist Lilu.kext/Contents/MacOS/Lilu VMHide.kext/Contents/MacOS/VMHide AppleMCEReporterDisabler.kext/Contents/Info.plist; do
	[ -e "$efi/EFI/OC/Kexts/$f" ] && pass "kexts: $f" || fail "kexts: $f"
done
[ ! -e "$efi/EFI/OC/Kexts/Lilu.kext.dSYM" ] && pass "kexts: no dSYM" || fail "kexts: no dSYM"
contains "cached under XDG_CACHE_HOME" "$out" "$tmp/cache/darwinkvm/assets/Lilu-1.7.1/Lilu-1.7.1-RELEASE.zip"
check "offline: --zip into an EFI tree" 0 "$bin" fetch opencore --zip "$zips/OpenCore-1.0.7-RELEASE.zip" --efi "$tmp/esp2"
[ -e "$tmp/esp2/EFI/OC/OpenCore.efi" ] && pass "offline opencore installed" || fail "offline opencore installed"
check "--driver picks the drivers" 0 "$bin" fetch opencore --zip "$zips/OpenCore-1.0.7-RELEASE.zip" --efi "$tmp/esp3" --driver OpenRuntime --driver OpenPartitionDxe
check "--driver picks the drivers" 0 "$bin" fetch opencore --efi "$tmp/esp3" --driver OpenRuntime --driver OpenPartitionDxe
[ -e "$tmp/esp3/EFI/OC/Drivers/OpenPartitionDxe.efi" ] && [ ! -e "$tmp/esp3/EFI/OC/Drivers/OpenHfsPlus.efi" ] && pass "only the named drivers" || fail "only the named drivers"
check "a driver not in the zip" 3 "$bin" fetch opencore --efi "$tmp/esp4" --driver NoSuchDxe
contains "missing driver named" "$err" "no member X64/EFI/OC/Drivers/NoSuchDxe.efi"

# Transfers.
check "plain pinned download" 0 "$bin" fetch kexts Big
cmp -s "$tmp/cache/darwinkvm/assets/Big-1/big.zip" "$www/big.zip" && pass "pinned download identical" || fail "pinned download identical"
: >"$tmp/srv/requests.log"
check "connection cut mid-file, resumed in the same run" 0 "$bin" fetch kexts Drop
cmp -s "$tmp/cache/darwinkvm/assets/Drop-1/big.zip" "$www/big.zip" && pass "resumed file identical" || fail "resumed file identical"
contains "the retry asked for the rest with Range" "$(cat "$tmp/srv/requests.log")" "GET /drop/big.zip range=bytes="
check "500 then success" 0 "$bin" fetch kexts Flaky
[ "$(grep -c 'GET /fail500/big.zip' "$tmp/srv/requests.log")" -eq 2 ] && pass "500: retried once" || fail "500: retried once" "$(cat "$tmp/srv/requests.log")"
check "always 500: exit 4" 4 "$bin" fetch kexts Broken --retries 2
contains "always 500: names the status" "$err" "HTTP 500"
[ "$(grep -c 'GET /always500/big.zip' "$tmp/srv/requests.log")" -eq 3 ] && pass "always 500: 1 + 2 retries" || fail "always 500: 1 + 2 retries"
[ ! -e "$tmp/cache/darwinkvm/assets/Broken-1/big.zip" ] && pass "always 500: no final name" || fail "always 500: no final name"
check "404: exit 4" 4 "$bin" fetch kexts Missing
contains "404 named" "$err" "HTTP 404"
: >"$tmp/srv/requests.log"
mkdir -p "$www/m"
cp "$www/big.zip" "$www/m/missing.zip"
check "mirrors in order: 404, then 500s, then a good one" 0 "$bin" fetch kexts Missing --retries 1 --mirror "$fs/always500/m" --mirror "$NGINX_URL/m"
[ "$(grep -c 'GET /always500/m/missing.zip' "$tmp/srv/requests.log")" -eq 2 ] && pass "mirrors: the failing mirror retried once" || fail "mirrors: the failing mirror retried once"
cmp -s "$tmp/cache/darwinkvm/assets/Missing-1/missing.zip" "$www/big.zip" && pass "mirrors: file from the last mirror" || fail "mirrors: file from the last mirror"
# A half .part and a server that ignores Range: it starts over and still verifies.
mkdir -p "$tmp/cache/darwinkvm/assets/NoRange-1"
head -c 1000000 "$www/big.zip" >"$tmp/cache/darwinkvm/assets/NoRange-1/big.zip.part"
check "server without Range support" 0 "$bin" fetch kexts NoRange
cmp -s "$tmp/cache/darwinkvm/assets/NoRange-1/big.zip" "$www/big.zip" && pass "no-Range: identical" || fail "no-Range: identical"
# A .part longer than the file: 416, start over.
mkdir -p "$tmp/cache/darwinkvm/assets/Big-1"
rm -f "$tmp/cache/darwinkvm/assets/Big-1/big.zip"
head -c $((3 * 1048576 + 99)) /dev/zero >"$tmp/cache/darwinkvm/assets/Big-1/big.zip.part"
check "stale .part with wrong content: refetched" 0 "$bin" fetch kexts Big
cmp -s "$tmp/cache/darwinkvm/assets/Big-1/big.zip" "$www/big.zip" && pass "stale .part: identical" || fail "stale .part: identical"

check "pin mismatch: exit 1" 1 "$bin" fetch kexts Tampered
contains "pin mismatch names both digests" "$err" "SHA-256 is $(sha "$www/Lilu-1.7.1-RELEASE.zip"), the pin says $(sha "$www/VMHide-2.0.0-RELEASE.zip")"
[ ! -e "$tmp/cache/darwinkvm/assets/Tampered-1/Lilu-1.7.1-RELEASE.zip" ] && [ ! -e "$tmp/cache/darwinkvm/assets/Tampered-1/Lilu-1.7.1-RELEASE.zip.part" ] && pass "pin mismatch: nothing kept" || fail "pin mismatch: nothing kept"
check "unpinned: refused" 1 "$bin" fetch kexts Unpinned
contains "unpinned: says how to pin" "$err" "fetch pins --update Unpinned"
check "unpinned with --allow-unpinned" 0 "$bin" fetch kexts Unpinned --allow-unpinned
contains "unpinned: loud warning" "$err" "WARNING: Unpinned 1 is NOT pinned"

# Hostile zips: refused, naming the member; nothing lands in the EFI tree.
before=$(cd "$efi" && find . | sort)
check "zip with ../: exit 1" 1 "$bin" fetch kexts DotDot --efi "$efi"
contains "../ member named" "$err" 'member "Evil.kext/../../../escaped" has an unsafe path'
check "zip with a symlink: exit 1" 1 "$bin" fetch kexts Symlink --efi "$efi"
contains "symlink member named" "$err" "member Evil.kext/Contents/Resources is a symbolic link"
check "zip bomb: exit 1" 1 "$bin" fetch kexts Bomb --efi "$efi"
contains "zip bomb named" "$err" "member Bomb.kext/Contents/MacOS/Bomb expands the archive"
check "absolute path zip (offline): exit 1" 1 "$bin" fetch kexts --zip "$zips/evil-abs.zip" --efi "$efi"
contains "absolute member named" "$err" 'member "/tmp/dkvm-absolute-escape" has an unsafe path'
check "not a zip: exit 1" 1 "$bin" fetch kexts --zip "$zips/not-a-zip.zip" --efi "$efi"
after=$(cd "$efi" && find . | sort)
[ "$before" = "$after" ] && pass "hostile zips changed nothing" || fail "hostile zips changed nothing" "$(diff <(echo "$before") <(echo "$after"))"
[ ! -e "$tmp/escaped" ] && [ ! -e /tmp/dkvm-absolute-escape ] && pass "nothing escaped" || fail "nothing escaped"

# Full disk: RLIMIT_FSIZE of 1 MiB, a 3 MiB file.
rm -rf "$tmp/cache/darwinkvm/assets/Big-1"
run bash -c "ulimit -f 1024; exec \"$bin\" fetch kexts Big"
[ "$rc" -eq 3 ] && pass "full disk: exit 3" || fail "full disk: exit 3" "rc=$rc $err"
contains "full disk: names the .part" "$err" "big.zip.part: File too large"
[ ! -e "$tmp/cache/darwinkvm/assets/Big-1/big.zip" ] && pass "full disk: no final name" || fail "full disk: no final name"
check "full disk: the next run resumes and verifies" 0 "$bin" fetch kexts Big
cmp -s "$tmp/cache/darwinkvm/assets/Big-1/big.zip" "$www/big.zip" && pass "after full disk: identical" || fail "after full disk: identical"

# Ctrl-C during a slow transfer: exit 130, the .part stays, the next run resumes with a Range.
"$bin" fetch kexts Slow >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/cache/darwinkvm/assets/Slow-1/big.zip.part" ] && break; sleep 0.05; done
sleep 0.3
kill -INT $pid
wait $pid
rc=$?
[ "$rc" -eq 130 ] && pass "Ctrl-C: exit 130" || fail "Ctrl-C: exit 130" "rc=$rc $(cat "$tmp/err")"
contains "Ctrl-C: says how to resume" "$(cat "$tmp/err")" "interrupted; run the same command again"
[ ! -e "$tmp/cache/darwinkvm/assets/Slow-1/big.zip" ] && [ -s "$tmp/cache/darwinkvm/assets/Slow-1/big.zip.part" ] && pass "Ctrl-C: only the .part" || fail "Ctrl-C: only the .part"
check "Ctrl-C: resumed at full speed" 0 "$bin" fetch kexts Slow --server "$NGINX_URL"
cmp -s "$tmp/cache/darwinkvm/assets/Slow-1/big.zip" "$www/big.zip" && pass "Ctrl-C: resumed file identical" || fail "Ctrl-C: resumed file identical"
grep -q '"GET /big.zip HTTP/1.1" 206' "$NGINX_DIR/nginx-access.log" && pass "Ctrl-C: resume used a Range (206)" || fail "Ctrl-C: resume used a Range (206)"

# pins --update, run by a person: records size and digest; the table keeps its comments.
printf 'name\tversion\tkind\turl\tsize\tsha256\n# comment kept\nLilu\t1.7.1\tkext\t%s\t-\t-\n' "$NGINX_URL/Lilu-1.7.1-RELEASE.zip" >"$tmp/new-pins.tsv"
check "fetch pins shows unpinned" 0 "$bin" fetch pins --pins "$tmp/new-pins.tsv"
contains "NOT PINNED shown" "$out" "NOT PINNED"
check "fetch pins --update" 0 "$bin" fetch pins --update --pins "$tmp/new-pins.tsv"
contains "pin recorded" "$(cat "$tmp/new-pins.tsv")" "$(size "$www/Lilu-1.7.1-RELEASE.zip")	$(sha "$www/Lilu-1.7.1-RELEASE.zip")"
contains "comment kept" "$(cat "$tmp/new-pins.tsv")" "# comment kept"
check "pinned now: fetch works without --allow-unpinned" 0 "$bin" fetch kexts Lilu --pins "$tmp/new-pins.tsv"

# The shipped table: every asset unpinned, so nothing is downloaded unchecked.
unset DARWINKVM_PINS
check "shipped pins: fetch opencore refused offline-safe" 1 "$bin" fetch opencore --server "$NGINX_URL"
contains "shipped pins: says not pinned" "$err" "OpenCorePkg 1.0.7 is not pinned"
check "unknown fetch target" 2 "$bin" fetch nonsense

done_testing
