#!/bin/bash
# SPDX-License-Identifier: MIT
# fetch installer against a synthetic software-update catalog (written with
# python's plistlib as a second opinion on the format) served by nginx:
# product selection, dist version/build, the integrityDataV1 chunklist checked
# while InstallAssistant.pkg streams.
bin=$(realpath "$1")
helpers=$(realpath "$2/helpers")
source "$(dirname "$0")/lib.sh"
source "$helpers/nginx.sh"
export XDG_CACHE_HOME=$tmp/cache DARWINKVM_RETRY_BACKOFF_MS=10
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
trap 'nginx_stop; rm -rf "$tmp"' EXIT

www=$tmp/srv/www
mkdir -p "$www"
nginx_start "$tmp/srv" || { fail "nginx starts"; done_testing; exit 1; }
python3 - "$www" "$NGINX_URL" "$helpers" <<'PY'
import datetime, os, plistlib, subprocess, sys
www, base, helpers = sys.argv[1:4]
def product(pid, version, build, date, size, fault=None):
    d = os.path.join(www, pid)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "InstallAssistant.pkg"), "wb") as f:
        f.write(os.urandom(size))
    subprocess.run(["python3", os.path.join(helpers, "make-chunklist.py"), os.path.join(d, "InstallAssistant.pkg"),
                    os.path.join(d, "InstallAssistant.pkg.integrityDataV1"), "--unsigned", "--chunk", "262144"], check=True)
    with open(os.path.join(d, pid + ".English.dist"), "w") as f:
        f.write('<?xml version="1.0"?><installer-gui-script><title>SU_TITLE</title><auxinfo><dict>'
                '<key>macOSProductBuildVersion</key><string>%s</string><key>macOSProductVersion</key>'
                '<string>%s</string></dict></auxinfo><script>var supportedDeviceIDs = [];</script></installer-gui-script>' % (build, version))
    isize = os.path.getsize(os.path.join(d, "InstallAssistant.pkg.integrityDataV1"))
    if fault == "flip":
        with open(os.path.join(d, "InstallAssistant.pkg"), "r+b") as f:
            f.seek(300000); b = f.read(1); f.seek(300000); f.write(bytes([b[0] ^ 1]))
    if fault == "isize":
        isize += 1
    u = "%s/%s/" % (base, pid)
    return {"PostDate": date, "ServerMetadataURL": u + "x.smd",
            "Distributions": {"English": u + pid + ".English.dist"},
            "ExtendedMetaInfo": {"InstallAssistantPackageIdentifiers": {"SharedSupport": "com.apple.pkg.InstallAssistant.macOSSonoma"}},
            "Packages": [{"URL": u + "MajorOSInfo.pkg", "Size": 10},
                         {"URL": u + "InstallAssistant.pkg", "Size": size,
                          "IntegrityDataURL": u + "InstallAssistant.pkg.integrityDataV1", "IntegrityDataSize": isize}]}
dt = lambda y, m, d: datetime.datetime(y, m, d)
products = {
    "052-00014": product("052-00014", "14.6.1", "23G93", dt(2024, 8, 7), 700000),
    "052-00013": product("052-00013", "13.6.7", "22G720", dt(2024, 5, 13), 300000),
    "052-00015": product("052-00015", "15.0", "24A335", dt(2024, 9, 16), 600000, "flip"),
    "052-00012": product("052-00012", "12.7.4", "21H1123", dt(2024, 3, 7), 100000, "isize"),
    "041-00000": {"PostDate": dt(2020, 1, 1), "Packages": [{"URL": base + "/old/RecoveryHDMetaDmg.pkg", "Size": 5}]},
    "041-00001": {"PostDate": dt(2019, 1, 1), "ExtendedMetaInfo": {"InstallAssistantPackageIdentifiers": {"OSInstall": "com.apple.mpkg.OSInstall"}},
                  "Packages": [{"URL": base + "/old/InstallESDDmg.pkg", "Size": 5}]},
}
with open(os.path.join(www, "index.sucatalog"), "wb") as f:
    plistlib.dump({"CatalogVersion": 2, "Products": products}, f)
PY
cat=$NGINX_URL/index.sucatalog

check "installer --list" 0 "$bin" fetch installer --list --server "$cat"
contains "list: newest first with build" "$out" "052-00015    15.0      24A335     2024-09-16"
contains "list: 14.6.1" "$out" "052-00014    14.6.1    23G93      2024-08-07"
lacks "list: pre-11 products left out" "$out" "041-0000"
check "installer --list --json" 0 "$bin" --json fetch installer --list --server "$cat"
contains "json row" "$out" '{"product":"052-00014","version":"14.6.1","build":"23G93","title":"SU_TITLE","date":"2024-08-07","size":700000,"integrity_data":true}'
check "installer --macos 14" 0 "$bin" fetch installer --macos 14 --server "$cat" -o "$tmp/i1"
cmp -s "$tmp/i1/InstallAssistant.pkg" "$www/052-00014/InstallAssistant.pkg" && pass "package identical" || fail "package identical"
contains "warns about a non-HTTPS catalog" "$err" "is not HTTPS"
check "installer --macos 15: flipped byte" 1 "$bin" fetch installer --macos 15 --server "$cat" -o "$tmp/i2"
contains "flipped: names the chunk" "$err" "chunk 1 (bytes 262144..524287)"
[ ! -e "$tmp/i2/InstallAssistant.pkg" ] && pass "flipped: no final name" || fail "flipped: no final name"
check "installer --macos 12: integrity size mismatch" 1 "$bin" fetch installer --macos 12 --server "$cat" -o "$tmp/i3"
contains "size mismatch named" "$err" "the catalog says"
check "installer --macos 99: none" 1 "$bin" fetch installer --macos 99 --server "$cat"
contains "none: says so" "$err" "no full installer for macOS 99"
check "installer: bad catalog" 1 "$bin" fetch installer --list --server "$NGINX_URL/052-00014/052-00014.English.dist"
check "installer: catalog 404" 4 "$bin" fetch installer --list --server "$NGINX_URL/nope.sucatalog"
check "installer: needs --macos or --list" 2 "$bin" fetch installer
done_testing
