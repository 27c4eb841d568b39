#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes an Apple-format chunklist (formats.md 2) for a file, signed with a test
# RSA key through the openssl command (PKCS#1 v1.5 over SHA-256, stored
# little-endian). Faults on request, for tests:
#   make-chunklist.py DATA OUT [--key KEY.pem] [--chunk N] [--unsigned]
#       [--fault drop-last|extra|bad-count|bad-offset|bad-sigoff|bad-magic|flip-sig|trailing]
import argparse
import hashlib
import struct
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("out")
ap.add_argument("--key")
ap.add_argument("--chunk", type=int, default=10 * 1024 * 1024)
ap.add_argument("--unsigned", action="store_true")
ap.add_argument("--fault", default="")
a = ap.parse_args()

entries = []
with open(a.data, "rb") as f:
    while True:
        b = f.read(a.chunk)
        if not b:
            break
        entries.append((len(b), hashlib.sha256(b).digest()))
if a.fault == "drop-last":
    entries = entries[:-1]
elif a.fault == "extra":
    entries.append((a.chunk, hashlib.sha256(b"\0" * a.chunk).digest()))

count = len(entries)
chunk_off = 0x24
sig_off = chunk_off + 36 * count
if a.fault == "bad-count":
    count += 1
if a.fault == "bad-offset":
    chunk_off = 0x28
if a.fault == "bad-sigoff":
    sig_off += 36
method = 2 if a.unsigned else 1
magic = b"CNKX" if a.fault == "bad-magic" else b"CNKL"
head = magic + struct.pack("<IBBBBQQQ", 0x24, 1, 1, method, 0, count, chunk_off, sig_off)
body = head + b"".join(struct.pack("<I", s) + d for s, d in entries)
if a.unsigned:
    trailer = hashlib.sha256(body).digest()
else:
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", a.key], input=body,
                         capture_output=True, check=True).stdout
    assert len(sig) == 256
    trailer = sig[::-1]
    if a.fault == "flip-sig":
        trailer = bytes([trailer[0] ^ 1]) + trailer[1:]
out = body + trailer
if a.fault == "trailing":
    out += b"\0"
with open(a.out, "wb") as f:
    f.write(out)
