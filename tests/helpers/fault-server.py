#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A tiny HTTP server for the faults nginx cannot make and for Apple's recovery
# protocol. Usage: fault-server.py ROOT PORTFILE [ASSET_BASE_URL]
# It writes its port to PORTFILE. Paths:
#   GET  /                                    Set-Cookie: session=... (recovery step 1)
#   POST /InstallationPayload/RecoveryImage   needs the cookie and a cid/sn/bid/k/fg body; answers
#                                             AP/AU/AH/AT/CU/CH/CT with AU/CU = ASSET_BASE_URL/<bid>/...
#   GET  /drop/F        first request: half of ROOT/F, then the connection is cut; later ones: Range ok
#   GET  /fail500/F     first request 500, then the file
#   GET  /always500/F   always 500
#   GET  /token/F       403 for the token of the first Mac-EXPIRE query, else the file
#   GET  /F             the file (Range supported)
# Every request is appended to ROOT/requests.log (method, path, Range, Cookie).
import http.server
import os
import re
import sys

root, portfile = sys.argv[1], sys.argv[2]
asset_base = sys.argv[3] if len(sys.argv) > 3 else ""
seen = set()
queries = [0]


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def log(self):
        with open(os.path.join(root, "requests.log"), "a") as f:
            f.write("%s %s range=%s cookie=%s\n" % (self.command, self.path,
                    self.headers.get("Range"), self.headers.get("Cookie")))

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.log()
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        if self.path != "/InstallationPayload/RecoveryImage":
            return self.reply(404, b"no\n")
        if not (self.headers.get("Cookie") or "").startswith("session="):
            return self.reply(403, b"no session\n")
        kv = dict(l.split("=", 1) for l in body.split("\n"))
        ok = (set(kv) >= {"cid", "sn", "bid", "k", "fg"} and re.fullmatch("[0-9A-F]{16}", kv["cid"])
              and len(kv["sn"]) == 17 and re.fullmatch("[0-9A-F]{64}", kv["k"]))
        if not ok or kv["bid"] == "Mac-UNKNOWN":
            return self.reply(400, b"bad request\n")
        d = "%s/%s" % (asset_base, kv["bid"])
        au, at = d + "/BaseSystem.dmg", "expires=1~token-image"
        if kv["bid"] == "Mac-EXPIRE":
            # The image comes from here with a token that works only from the second query on.
            queries[0] += 1
            au = "http://127.0.0.1:%d/token/Mac-GOOD/BaseSystem.dmg" % self.server.server_address[1]
            at = "expires=1~query=%d" % queries[0]
            d = "%s/Mac-GOOD" % asset_base
        reply = ("AP: 041-00000\nAU: %s\nAH: 00\nAT: %s\n"
                 "CU: %s/BaseSystem.chunklist\nCH: 00\nCT: expires=1~token-chunklist\n" % (au, at, d))
        self.reply(200, reply.encode(), [("Content-Type", "text/plain")])

    def do_GET(self):
        self.log()
        if self.path == "/":
            return self.reply(200, b"", [("Set-Cookie", "other=1; Path=/"),
                                         ("Set-Cookie", "session=1700000000~ABCDEF; Path=/; HttpOnly")])
        if self.path.startswith("/token/"):
            if (self.headers.get("Cookie") or "") == "AssetToken=expires=1~query=1":
                return self.reply(403, b"token expired\n")
        m = re.match(r"^/(drop|fail500|always500|token)/(.*)$", self.path)
        mode, name = (m.group(1), m.group(2)) if m else ("plain", self.path.lstrip("/"))
        path = os.path.join(root, "www", name)
        if not os.path.isfile(path):
            return self.reply(404, b"not found\n")
        data = open(path, "rb").read()
        first = (mode, name) not in seen
        seen.add((mode, name))
        if mode == "always500" or (mode == "fail500" and first):
            return self.reply(500, b"oops\n")
        start = 0
        rng = self.headers.get("Range")
        if rng:
            start = int(re.match(r"bytes=(\d+)-", rng).group(1))
            if start >= len(data):
                return self.reply(416, b"", [("Content-Range", "bytes */%d" % len(data))])
        part = data[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if mode == "drop" and first:
            self.wfile.write(part[: len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(part)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
