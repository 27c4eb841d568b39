#!/bin/bash
# SPDX-License-Identifier: MIT
# On a terminal without options `new` asks for what has no safe default (the
# macOS version, the GPU) showing the default, then asks before doing anything;
# without a terminal it never asks.
bin=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1
export DARWINKVM_VMS_DIR=$tmp/vms

# tty_run ANSWERS... -- CMD...: runs CMD on a pseudo-terminal, typing one answer per prompt.
tty_run() {
	python3 - "$@" <<'PY'
import os, pty, sys, time
args = sys.argv[1:]
sep = args.index("--")
answers, cmd = args[:sep], args[sep + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b""
deadline = time.time() + 30
while time.time() < deadline:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if out.rstrip().endswith(b"]:") and answers:
        os.write(fd, (answers.pop(0) + "\n").encode())
        out += b"<" + b">\n"
sys.stdout.write(out.decode(errors="replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

run tty_run "10.15" "none" "n" -- "$bin" new asked --offline --no-recovery
[ "$rc" -eq 0 ] && pass "answered, then declined" || fail "exit $rc" "$out"
contains "asks the version with a default" "$out" "macOS version ["
contains "asks the GPU with a default" "$out" "GPU to pass through (a PCI address, or none) ["
contains "the answer is used" "$out" "macOS:     10.15 Catalina"
contains "asks before doing anything" "$out" "Go ahead? [Y]:"
contains "declining does nothing" "$out" "Nothing done."
[ ! -e "$tmp/vms/asked" ] && pass "nothing written after declining" || fail "files written"

run tty_run "" "" "" -- "$bin" new defaults --offline --no-recovery --no-define
contains "empty answers take the defaults" "$out" "Plan for defaults"
contains "and it runs" "$out" "spec"

# Without a terminal: no questions, and the run goes ahead.
check "no terminal: never asks (offline: exit 4)" 4 "$bin" new quiet --offline --no-recovery --no-define </dev/null
lacks "no prompt" "$out" "macOS version ["
contains "it ran" "$out" "done     disk"
done_testing
