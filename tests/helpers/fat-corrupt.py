#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# fat-corrupt.py IMAGE MODE: damages a whole-disk FAT32 image whose root holds
# A.BIN and B.BIN (8.3 names, same size, several clusters each), the way the
# bad-input tests need: loop, crosslink, dirty, dirty-fat, fatdiff, free-in-chain.
import struct
import sys

path, mode = sys.argv[1], sys.argv[2]
f = open(path, "r+b")
bs = f.read(512)
bps, spc, reserved, nfats = struct.unpack_from("<HBHB", bs, 11)
fat_sectors, = struct.unpack_from("<I", bs, 36)
root, = struct.unpack_from("<I", bs, 44)
fat_off = [reserved * bps + i * fat_sectors * bps for i in range(nfats)]
data = (reserved + nfats * fat_sectors) * bps
cs = bps * spc


def fat_get(c):
    f.seek(fat_off[0] + 4 * c)
    return struct.unpack("<I", f.read(4))[0] & 0x0FFFFFFF


def fat_set(c, v, copies=None):
    for off in copies if copies is not None else fat_off:
        f.seek(off + 4 * c)
        f.write(struct.pack("<I", v))


def root_entries():
    f.seek(data + (root - 2) * cs)
    buf = f.read(cs)
    out = {}
    for i in range(0, cs, 32):
        e = buf[i:i + 32]
        if e[0] == 0:
            break
        if e[0] == 0xE5 or e[11] == 0x0F:
            continue
        name = e[0:8].decode().strip() + "." + e[8:11].decode().strip()
        cl = struct.unpack_from("<H", e, 20)[0] << 16 | struct.unpack_from("<H", e, 26)[0]
        out[name] = (data + (root - 2) * cs + i, cl)
    return out


ents = root_entries()
a_slot, a = ents["A.BIN"]
b_slot, b = ents["B.BIN"]
if mode == "loop":
    c = a
    while fat_get(fat_get(c)) < 0x0FFFFFF8:
        c = fat_get(c)
    fat_set(fat_get(c), a)
elif mode == "crosslink":
    f.seek(b_slot + 20)
    f.write(struct.pack("<H", a >> 16))
    f.seek(b_slot + 26)
    f.write(struct.pack("<H", a & 0xFFFF))
elif mode == "dirty":
    f.seek(65)
    f.write(bytes([bs[65] | 1]))
elif mode == "dirty-fat":
    fat_set(1, 0x07FFFFFF)
elif mode == "fatdiff":
    fat_set(b, 0x0FFFFFFF, [fat_off[1]])
elif mode == "free-in-chain":
    fat_set(fat_get(a), 0)
else:
    sys.exit("unknown mode " + mode)
f.close()
