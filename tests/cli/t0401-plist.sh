#!/bin/bash
# SPDX-License-Identifier: MIT
# plist: get/set/add/delete/convert/merge on XML and binary files, every output read
# back by python3's plistlib; bad input to every parser (truncated, not a plist, wrong
# root, 100,000 levels, a 1 GiB claimed length, invalid UTF-8, duplicate keys) gives a
# one-line error, exit 2, and leaves the files alone.
bin=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
G=7C436110-AB2A-4BBB-A880-FE41995C9F82

py() { python3 -c "$@"; }
py "
import plistlib, datetime
d = {'Kernel': {'Add': [{'BundlePath': 'Lilu.kext', 'Enabled': True}, {'BundlePath': 'VMHide.kext', 'Enabled': False}]},
     'NVRAM': {'Add': {'$G': {'boot-args': '-v', 'csr-active-config': b'\x00\x00\x00\x00'}}},
     'Misc': {'Timeout': 5, 'Ratio': 0.25, 'When': datetime.datetime(2024, 2, 29, 12, 0, 0), 'Name': 'caf\u00e9 <&>'}}
plistlib.dump(d, open('$tmp/x.plist', 'wb'))
plistlib.dump(d, open('$tmp/b.plist', 'wb'), fmt=plistlib.FMT_BINARY)
"
for f in x b; do
	check "$f: get a string" 0 "$bin" plist get "$tmp/$f.plist" "Kernel.Add[1].BundlePath"
	[ "$out" = VMHide.kext ] && pass "$f: value" || fail "$f: value" "$out"
	check "$f: get by GUID path" 0 "$bin" plist get "$tmp/$f.plist" "NVRAM.Add.$G.csr-active-config"
	[ "$out" = 00000000 ] && pass "$f: data as hex" || fail "$f: data" "$out"
	check "$f: get a date" 0 "$bin" plist get "$tmp/$f.plist" Misc.When
	[ "$out" = 2024-02-29T12:00:00Z ] && pass "$f: date" || fail "$f: date" "$out"
	check "$f: get a real" 0 "$bin" plist get "$tmp/$f.plist" Misc.Ratio
	[ "$out" = 0.25 ] && pass "$f: real" || fail "$f: real" "$out"
	check "$f: missing index exits 1" 1 "$bin" plist get "$tmp/$f.plist" "Kernel.Add[7]"
	contains "$f: names the path" "$err" "Kernel.Add[7]: index out of range (2 elements)"
	check "$f: --json" 0 "$bin" --json plist get "$tmp/$f.plist" Kernel
	contains "$f: json" "$out" '{"Add":[{"BundlePath":"Lilu.kext","Enabled":true}'
done

# Edits keep the format and are read back by plistlib.
check "set bool (type kept)" 0 "$bin" plist set "$tmp/b.plist" "Kernel.Add[1].Enabled" true
check "set boot-args" 0 "$bin" plist set "$tmp/b.plist" "NVRAM.Add.$G.boot-args" -- "-v keepsyms=1"
check "add integer" 0 "$bin" plist add "$tmp/b.plist" Misc.Count --type integer 0x10
check "add data (base64)" 0 "$bin" plist add "$tmp/b.plist" Misc.Blob --type data base64:AQID
check "insert into array" 0 "$bin" plist add "$tmp/b.plist" "Kernel.Add[0]" --type dict
check "append to array" 0 "$bin" plist add "$tmp/b.plist" "Kernel.Add[]" --type string last
check "add refuses an existing key" 1 "$bin" plist add "$tmp/b.plist" Misc.Count --type integer 1
check "delete" 0 "$bin" plist delete "$tmp/b.plist" Misc.Ratio
check "bad integer exits 2" 2 "$bin" plist set "$tmp/b.plist" Misc.Timeout --type integer ten
check "bad type exits 2" 2 "$bin" plist set "$tmp/b.plist" Misc.Timeout --type float 1
if py "
import plistlib
d = plistlib.load(open('$tmp/b.plist', 'rb'))
assert open('$tmp/b.plist', 'rb').read(8) == b'bplist00'
k = d['Kernel']['Add']
assert k[0] == {} and k[2] == {'BundlePath': 'VMHide.kext', 'Enabled': True} and k[3] == 'last', k
assert d['NVRAM']['Add']['$G']['boot-args'] == '-v keepsyms=1'
assert d['Misc']['Count'] == 16 and d['Misc']['Blob'] == b'\x01\x02\x03' and 'Ratio' not in d['Misc']
assert d['Misc']['Timeout'] == 5
"; then pass "plistlib reads the edits"; else fail "plistlib disagrees"; fi

# convert, byte stability, merge.
check "convert to xml" 0 "$bin" plist convert "$tmp/b.plist" -o "$tmp/c.plist"
check "convert back" 0 "$bin" plist convert "$tmp/c.plist" -o "$tmp/c.bin"
check "and again" 0 "$bin" plist convert "$tmp/c.bin" -o "$tmp/c2.plist"
cmp -s "$tmp/c.plist" "$tmp/c2.plist" && pass "xml byte-stable" || fail "xml differs"
check "re-save in place" 0 "$bin" plist set "$tmp/c2.plist" Misc.Timeout 5
cmp -s "$tmp/c.plist" "$tmp/c2.plist" && pass "unchanged edit keeps bytes" || fail "bytes changed"
contains "7-bit ASCII" "$(cat "$tmp/c.plist")" "<string>caf&#xE9; &lt;&amp;&gt;</string>"
contains "tabs, Apple DOCTYPE" "$(head -3 "$tmp/c.plist")" '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"'
if py "import plistlib; assert plistlib.load(open('$tmp/c.plist','rb')) == plistlib.load(open('$tmp/b.plist','rb'))"; then pass "plistlib: xml == binary"; else fail "plistlib: xml != binary"; fi
if command -v plistutil >/dev/null; then
	plistutil -i "$tmp/c.plist" -o "$tmp/pu.bin" -f bin 2>/dev/null
	check "libplist's plistutil output reads" 0 "$bin" plist get "$tmp/pu.bin" Misc.Name
	plistutil -i "$tmp/c.bin" -o "$tmp/pu.xml" -f xml 2>/dev/null
	if py "import plistlib; assert plistlib.load(open('$tmp/pu.xml','rb')) == plistlib.load(open('$tmp/c.plist','rb'))"; then pass "plistutil reads our binary"; else fail "plistutil disagrees on our binary"; fi
fi
py "import plistlib; plistlib.dump({'Misc': {'Timeout': 9, 'New': True}, 'Extra': [1]}, open('$tmp/m.plist','wb'))"
check "merge" 0 "$bin" plist merge "$tmp/c.plist" "$tmp/m.plist"
if py "
import plistlib
d = plistlib.load(open('$tmp/c.plist','rb'))
assert d['Misc']['Timeout'] == 9 and d['Misc']['New'] is True and d['Misc']['Name'] and d['Extra'] == [1]
"; then pass "merged recursively"; else fail "merge result"; fi

# Bad input: one line, exit 2, nothing written.
mk() { py "$1"; }
printf '<?xml version="1.0"?>\n<plist version="1.0">\n<dict>\n<key>a</key>\n<str' >"$tmp/bad-truncated.plist"
printf 'this is not a plist\n' >"$tmp/bad-text.plist"
: >"$tmp/bad-empty.plist"
printf '<plist version="1.0"><dict><key>a</key><true/><key>a</key><false/></dict></plist>' >"$tmp/bad-dupkey.plist"
printf '<plist version="1.0"><dict><key>a</key><string>\xff\xfe</string></dict></plist>' >"$tmp/bad-utf8.plist"
py "open('$tmp/bad-deep.plist','w').write('<plist>' + '<array>' * 100000 + '</array>' * 100000 + '</plist>')"
mk "
import struct
def bplist(objs):
    out = bytearray(b'bplist00'); offs = []
    for o in objs:
        offs.append(len(out)); out += o
    table = len(out); out += bytes(offs)
    out += bytes(6) + bytes([1, 1]) + struct.pack('>QQQ', len(objs), 0, table)
    return bytes(out)
open('$tmp/bad-huge.plist','wb').write(bplist([b'\x4f\x13' + struct.pack('>Q', 1 << 30)]))
open('$tmp/bad-bindup.plist','wb').write(bplist([b'\xd2\x01\x02\x03\x04', b'\x51a', b'\x51a', b'\x10\x01', b'\x10\x02']))
open('$tmp/bad-cycle.plist','wb').write(bplist([b'\xa1\x00']))
good = open('$tmp/c.bin','rb').read()
open('$tmp/bad-bintrunc.plist','wb').write(good[:len(good) // 2])
"
printf '<plist version="1.0"><array><string>x</string></array></plist>' >"$tmp/bad-root.plist"
for f in "$tmp"/bad-*.plist; do
	name=$(basename "$f" .plist)
	cp "$f" "$tmp/before"
	for cmd in "plist get" "plist set" "opencore validate" "smbios apply" "opencore snapshot $tmp/noefi"; do
		case $cmd in
		"plist set") run "$bin" plist set "$f" a.b x ;;
		"opencore snapshot"*) run "$bin" opencore snapshot "$tmp" "$f" ;;
		"smbios apply") run "$bin" smbios apply "$f" --model MacPro7,1 --seed x ;;
		*) run "$bin" $cmd "$f" ;;
		esac
		want=2
		# An array root is a valid plist: get prints it, validate reports one finding, set finds no key.
		if [ "$name" = bad-root ]; then
			case $cmd in "plist get") want=0 ;; "opencore validate") want=1 ;; "plist set") want=1 ;; esac
		fi
		lines=$(printf '%s' "$err" | grep -c '')
		if [ "$rc" -eq "$want" ] && { [ "$want" -ne 2 ] || [ "$lines" -eq 1 ]; }; then pass "$name: $cmd exits $want"; else fail "$name: $cmd exits $rc (want $want)" "$err"; fi
		cmp -s "$f" "$tmp/before" && pass "$name: $cmd leaves the file alone" || fail "$name: $cmd touched the file"
	done
done
run "$bin" plist get "$tmp/bad-dupkey.plist"
contains "duplicate key named" "$err" 'duplicate key "a"'
run "$bin" plist get "$tmp/bad-bindup.plist"
contains "binary duplicate key named" "$err" 'duplicate key "a"'
run "$bin" plist get "$tmp/bad-huge.plist"
contains "1 GiB claim refused" "$err" "claims 1073741824 bytes"
run "$bin" plist get "$tmp/bad-deep.plist"
contains "nesting refused" "$err" "nesting deeper than 256 levels"
run "$bin" plist get "$tmp/bad-utf8.plist"
contains "UTF-8 refused" "$err" "invalid UTF-8"
ls "$tmp"/.#* "$tmp"/*.tmp 2>/dev/null | grep -q . && fail "temporary files left behind" || pass "no temporary files left"
done_testing
