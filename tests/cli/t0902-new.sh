#!/bin/bash
# SPDX-License-Identifier: MIT
# `new` end to end, against synthetic assets over real HTTP on 127.0.0.1: an
# OpenCore release zip whose BOOTx64.efi is a GRUB program printing OpenCore's
# log lines, kext zips with real Info.plists, a recovery image with a chunklist
# signed by a test key behind the recovery protocol. The first run has every
# asset download cut half-way (it finishes every other step and says so), the
# second resumes with Range requests, `verify` boots the result to the picker,
# a third run changes nothing, and `rm` leaves nothing behind.
bin=$(realpath "$1")
tests_dir=$(realpath "$2")
helpers=$tests_dir/helpers
source "$(dirname "$0")/lib.sh"
source "$helpers/nginx.sh"
cd "$tmp" || exit 1
for p in nginx openssl qemu-system-x86_64 grub-mkstandalone; do
	command -v $p >/dev/null || [ -x /usr/sbin/$p ] || { echo "1..0 # SKIP $p missing"; exit 0; }
done
export PATH=$PATH:/usr/sbin
export DARWINKVM_VMS_DIR=$tmp/vms DARWINKVM_CACHE_DIR=$tmp/cache DARWINKVM_PINS=$tmp/pins.tsv
export DARWINKVM_RETRY_BACKOFF_MS=1
www=$tmp/srv/www
mkdir -p "$www"
trap 'nginx_stop; [ -n "${fs_pid:-}" ] && kill $fs_pid 2>/dev/null; rm -rf "$tmp"' EXIT

check "marker EFI" 0 bash "$helpers/make-marker-efi.sh" "$tmp/boot.efi" "OC: Starting OpenCore..." "OCB: Showing menu..."
nginx_start "$tmp/srv" || { fail "nginx starts"; done_testing; exit 1; }
check "synthetic assets and their pins" 0 python3 "$helpers/make-e2e-assets.py" "$www" "$tmp/boot.efi" "$NGINX_URL" "$tmp/pins.tsv"
openssl genrsa -out "$tmp/key.pem" 2048 2>/dev/null
openssl rsa -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem" 2>/dev/null
board=$("$bin" --json fetch list | python3 -c 'import json,sys; print([v["board_id"] for v in json.load(sys.stdin) if v["version"] == "14"][0])')
mkdir -p "$www/$board"
head -c $((3 * 1048576 + 4321)) /dev/urandom >"$www/$board/BaseSystem.dmg"
check "a signed chunklist" 0 python3 "$helpers/make-chunklist.py" "$www/$board/BaseSystem.dmg" "$www/$board/BaseSystem.chunklist" --chunk 1048576 --key "$tmp/key.pem"
python3 "$helpers/fault-server.py" "$tmp/srv" "$tmp/port" "$NGINX_URL" &
fs_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
fs=http://127.0.0.1:$(cat "$tmp/port")

new=("$bin" new boot --macos 14 --gpu none --no-define --seed e2e --retries 0
	--server "$fs/drop" --recovery-server "$fs" --trust-key "$tmp/pub.pem")

# ---- the plan ----
check "--plan" 0 "${new[@]}" --plan
contains "plan: model" "$out" "Mac model: MacPro7,1, QEMU CPU Cascadelake-Server"
contains "plan: pinned downloads" "$out" "OpenCore 1.0.7 (pinned)"
contains "plan: recovery" "$out" "macOS Sonoma recovery image from Apple, chunklist-verified"
[ ! -e "$tmp/vms/boot" ] && pass "--plan writes nothing" || fail "--plan wrote $tmp/vms/boot"
check "--plan --json" 0 "${new[@]}" --plan --json
contains "plan json" "$(printf '%s' "$out" | python3 -c 'import json,sys; p=json.load(sys.stdin)["plan"]; print(p["model"], p["macos"], p["nic_model"], p["passthrough"])')" "MacPro7,1 14 virtio none"
check "bad --disk-size" 2 "$bin" new boot --disk-size 12 --plan
check "unknown macOS" 1 "$bin" new boot --macos 99 --plan
check "bad VM name" 1 "$bin" new "bad/name" --plan

# ---- run 1: every asset download is cut half-way ----
check "run 1: the network fails (exit 4)" 4 "${new[@]}"
contains "run 1: one line says so" "$err" "the download servers could not be reached"
contains "run 1: OpenCore skipped" "$out" "skipped  opencore"
contains "run 1: recovery done" "$out" "done     recovery"
contains "run 1: image done" "$out" "done     image"
contains "run 1: disk done" "$out" "done     disk"
contains "run 1: spec done" "$out" "done     spec"
ls "$tmp/cache/assets/OpenCorePkg-1.0.7/"*.part >/dev/null 2>&1 && pass "run 1: a .part stays for the resume" || fail "run 1: no .part" "$(ls -R "$tmp/cache")"
[ ! -e "$tmp/cache/assets/OpenCorePkg-1.0.7/OpenCore-1.0.7-RELEASE.zip" ] && pass "run 1: no unverified final name" || fail "run 1: a final name appeared"
serial1=$(grep '^serial' "$tmp/vms/boot/vm.conf")

# ---- run 2: resumes ----
check "run 2: completes" 0 "${new[@]}"
contains "run 2: OpenCore done" "$out" "done     opencore"
contains "run 2: kexts" "$out" "Lilu, VMHide, AppleMCEReporterDisabler, HfsPlus"
contains "run 2: validated with files" "$out" "0 findings (schema, values, files, VM lint)"
contains "run 2: recovery kept" "$out" "already  recovery"
contains "run 2: image rebuilt" "$out" "done     image"
grep -q "GET /drop/OpenCore-1.0.7-RELEASE.zip range=bytes=[1-9]" "$tmp/srv/requests.log" && pass "run 2: resumed with Range" || fail "run 2: no Range request" "$(cat "$tmp/srv/requests.log")"
[ "$(grep '^serial' "$tmp/vms/boot/vm.conf")" = "$serial1" ] && pass "run 2: same identity" || fail "run 2: identity changed"
run "$bin" image ls "$tmp/vms/boot/OpenCore.img" EFI/OC/Kexts
contains "image holds the kexts" "$out" "Lilu.kext"
run "$bin" image ls "$tmp/vms/boot/OpenCore.img" com.apple.recovery.boot
contains "image holds the recovery image" "$out" "BaseSystem.dmg"
run "$bin" image cat "$tmp/vms/boot/OpenCore.img" EFI/OC/config.plist
printf '%s' "$out" >"$tmp/config.plist"
check "config.plist parses with plistlib" 0 python3 -c 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); assert d["PlatformInfo"]["Generic"]["SystemProductName"] == "MacPro7,1"' "$tmp/config.plist"
check "config.plist validates" 0 "$bin" opencore validate "$tmp/config.plist"

# ---- run 3: nothing to do ----
check "run 3: idempotent" 0 "${new[@]}"
for s in identity config opencore kexts recovery image disk spec; do
	lacks "run 3: $s not redone" "$out" "done     $s"
done

# ---- defining it: through the same path as 'vm define' (libvirt's test driver here) ----
check "define on libvirt" 0 "$bin" new boot --macos 14 --gpu none --seed e2e --retries 0 \
	--server "$fs/drop" --recovery-server "$fs" --trust-key "$tmp/pub.pem" --connect test:///default
contains "defined" "$out" "Defined boot on test:///default"

# ---- verify boots it ----
check "verify reaches the picker" 0 "$bin" verify boot --timeout 120
contains "verify: picker" "$out" "verdict: boots to the OpenCore picker"

# ---- bad input and a host darwinkvm cannot edit ----
check "a missing --opencore-zip" 2 "$bin" new bad --opencore-zip "$tmp/none.zip" --plan
contains "names the file" "$err" "--opencore-zip $tmp/none.zip"
cp -a "$tests_dir/fixtures/hosts/amd-navi21" "$tmp/noboot"
rm -rf "$tmp/noboot/boot" "$tmp/noboot/etc/kernel"
check "unknown bootloader: the VM is made anyway" 0 "$bin" --root "$tmp/noboot" new noboot --macos 14 \
	--gpu 0000:0b:00.0 --no-define --no-recovery --seed n --server "$NGINX_URL" --yes
contains "unknown bootloader: the exact manual steps" "$out" "note: no GRUB, systemd-boot, kernelstub or grubby configuration found; do it by hand"
run "$bin" --root "$tmp/noboot" --json host status
contains "unknown bootloader: the hooks are made all the same" "$(printf '%s' "$out" | python3 -c 'import json,sys; print([e["verb"] for e in json.load(sys.stdin)["entries"]])')" "['new:noboot']"
check "rm noboot" 0 "$bin" --root "$tmp/noboot" rm noboot --yes --connect test:///default

check "list shows it" 0 "$bin" list
contains "list" "$out" "boot"
check "rm" 0 "$bin" rm boot --yes
[ ! -e "$tmp/vms/boot" ] && pass "rm leaves no file" || fail "rm left $(ls "$tmp/vms/boot")"
check "rm of a VM that is gone" 1 "$bin" rm boot --yes

# ---- a GPU VM on a fixture host: the host changes go through the journal, rm takes them back ----
# same_host: the fixture's configuration (not its sysfs, whose links loop) is as it was.
same_host() { diff -r --no-dereference "$tmp/host.orig" "$tmp/host" >"$tmp/host.diff" 2>&1; }
cp -a "$tests_dir/fixtures/hosts/amd-navi21" "$tmp/host"
cp -a "$tmp/host" "$tmp/host.orig"
gpu=("$bin" --root "$tmp/host" new gpuvm --macos 14 --gpu 0000:0b:00.0 --no-define --no-recovery --seed g --server "$NGINX_URL")
check "GPU VM: plan" 0 "${gpu[@]}" --plan
contains "GPU VM: single-GPU passthrough" "$out" "(single-gpu passthrough), with its audio 0000:0b:00.1"
contains "GPU VM: kernel parameters" "$out" "kernel parameters: add video=efifb:off"
contains "GPU VM: hooks" "$out" "single-GPU hooks for gpuvm"
check "GPU VM: without --yes the host is left alone" 0 "${gpu[@]}"
if same_host; then pass "GPU VM: host untouched without --yes"; else fail "GPU VM: host changed without --yes" "$(head -20 "$tmp/host.diff")"; fi
contains "GPU VM: says what the host still needs" "$out" "The host still needs"
check "GPU VM: --yes makes the host changes" 0 "${gpu[@]}" --yes
run "$bin" --root "$tmp/host" host status
contains "GPU VM: journaled as new:gpuvm" "$out" "new:gpuvm"
if same_host; then fail "GPU VM: --yes changed nothing"; else pass "GPU VM: --yes changed the host tree"; fi
grep -rq "video=efifb:off" "$tmp/host/boot" "$tmp/host/etc/kernel" 2>/dev/null && pass "GPU VM: the parameter is in the boot configuration" || fail "GPU VM: no video=efifb:off written"
check "GPU VM: --yes again changes nothing more" 0 "${gpu[@]}" --yes
run "$bin" --root "$tmp/host" --json host status
entries=$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')
[ "$entries" = 1 ] && pass "GPU VM: one journal entry" || fail "GPU VM: $entries journal entries"
check "GPU VM: rm" 0 "$bin" --root "$tmp/host" rm gpuvm --yes --connect test:///default
contains "GPU VM: rm undid the host changes" "$out" "Undid 1 host change"
run "$bin" --root "$tmp/host" --json host status
entries=$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')
[ "$entries" = 0 ] && pass "GPU VM: no journal entry left" || fail "GPU VM: $entries journal entries left"
# The journal's directories stay (empty) for the next change; anything left in them fails rmdir.
rmdir "$tmp/host/var/lib/darwinkvm/journal" "$tmp/host/var/lib/darwinkvm" "$tmp/host/var/lib" 2>/dev/null
if same_host; then pass "GPU VM: every host file back byte for byte"; else fail "GPU VM: host differs after rm" "$(head -20 "$tmp/host.diff")"; fi

done_testing
