#!/bin/bash
# SPDX-License-Identifier: MIT
# smbios: deterministic generation with --seed, decode of known serials and MLBs
# (macserial's own answers), exit codes, apply into a config, the deny-list.
bin=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

check "generate" 0 "$bin" smbios generate --model MacPro7,1 --count 3 --seed s1
a=$out
check "generate again" 0 "$bin" smbios generate --model MacPro7,1 --count 3 --seed s1
[ "$a" = "$out" ] && pass "same seed, same identities" || fail "not deterministic"
check "other seed" 0 "$bin" smbios generate --model MacPro7,1 --count 3 --seed s2
[ "$a" != "$out" ] && pass "other seed, other identities" || fail "seed ignored"
check "no seed" 0 "$bin" smbios generate --model MacPro7,1
b=$out
check "no seed again" 0 "$bin" smbios generate --model MacPro7,1
[ "$b" != "$out" ] && pass "without --seed: random" || fail "unseeded output repeated"
[ "$(wc -l <<<"$a")" -eq 3 ] && pass "--count 3" || fail "count" "$a"
# Each generated serial and MLB decodes as valid, for the right model.
while IFS=' |' read -r model serial mlb uuid rom; do
	check "decode $serial" 0 "$bin" smbios decode "$serial"
	contains "model of $serial" "$out" "model:    $model"
	check "decode $mlb" 0 "$bin" smbios decode "$mlb"
	[[ $uuid =~ ^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$ ]] && pass "UUID v4 upper case" || fail "uuid" "$uuid"
	[[ $rom =~ ^[0-9A-F]{12}$ ]] && pass "ROM 6 bytes" || fail "rom" "$rom"
done < <(sed 's/ | /|/g; s/|/ | /g' <<<"$a" | tr -s ' ')

check "fixed year and week" 0 "$bin" smbios generate --model MacPro7,1 --year 2020 --week 10 --seed x
contains "year letter C, week C" "$out" "F5KCC"
check "legacy model" 0 "$bin" smbios --json generate --model MacPro5,1 --seed x
contains "11-character serial" "$out" '"serial":"CK1'
check "unknown model" 2 "$bin" smbios generate --model MacPro9,9
check "missing model" 2 "$bin" smbios generate

# macserial's decodes (formats.md 4.7).
check "decode C02VV5RFHX87" 0 "$bin" smbios decode C02VV5RFHX87
contains "iMacPro 2017 week 50 copy 5" "$out" "year:     2017
week:     50
line:     1205 (copy 5)"
check "decode W8712AKSWGP" 0 "$bin" smbios --json decode W8712AKSWGP
contains "old layout" "$out" '"model":"MacBook2,1","model_code":"WGP","location":"W8","year":2007,"week":12,"line":1352,"copy":8,"valid":true'
check "invalid serial exits 1" 1 "$bin" smbios decode F5KZN00HPIQM
contains "says why" "$out" "character 'I'"
check "wrong length exits 2" 2 "$bin" smbios decode ABC
check "MLB checksum" 1 "$bin" smbios decode F5K00000000K3F700
contains "invalid checksum" "$out" "checksum: INVALID"
check "shared serial flagged" 1 "$bin" smbios decode C02FPBZPHX87
contains "deny-listed" "$out" "OSX-KVM"

# apply.
cat >"$tmp/c.plist" <<'P'
<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>PlatformInfo</key><dict><key>Generic</key><dict><key>SystemProductName</key><string>MacPro7,1</string></dict></dict></dict></plist>
P
check "apply" 0 "$bin" smbios apply "$tmp/c.plist" --seed z
serial=$(cut -d'|' -f2 <<<"$out" | tr -d ' ')
run "$bin" plist get "$tmp/c.plist" PlatformInfo.Generic.SystemSerialNumber
[ "$out" = "$serial" ] && pass "serial written" || fail "serial" "$out vs $serial"
run "$bin" plist get "$tmp/c.plist" PlatformInfo.Generic.ROM
[ ${#out} -eq 12 ] && pass "ROM written" || fail "rom" "$out"
cp "$tmp/c.plist" "$tmp/before.plist"
check "apply a shared serial is refused" 2 "$bin" smbios apply "$tmp/c.plist" --serial C07W10D9JYVX
contains "says why" "$err" "ULTMOS"
cmp -s "$tmp/c.plist" "$tmp/before.plist" && pass "refusal leaves the file alone" || fail "file touched"
check "--force accepts it" 0 "$bin" smbios apply "$tmp/c.plist" --serial C07W10D9JYVX --force
check "apply --rom/--uuid" 0 "$bin" smbios apply "$tmp/c.plist" --rom 525400123456 --uuid 12345678-1234-4234-8234-123456789abc
run "$bin" plist get "$tmp/c.plist" PlatformInfo.Generic.SystemUUID
[ "$out" = 12345678-1234-4234-8234-123456789ABC ] && pass "UUID upper-cased" || fail "uuid" "$out"
check "bad --rom" 2 "$bin" smbios apply "$tmp/c.plist" --rom 12
done_testing
