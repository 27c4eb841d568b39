#!/bin/bash
# SPDX-License-Identifier: MIT
# Source this file. A real libvirtd for tests on machines without systemd (see
# feasibility.md sec. 3): virtlogd and libvirtd started by hand, /dev/kvm made
# usable by libvirt's QEMU (root:kvm 0660), and everything restored afterwards.
#
#   libvirtd_start [--tcp]  starts the daemons (or reuses running ones); with --tcp also
#                           a listener on a free 127.0.0.1 port, without authentication.
#                           Sets LIBVIRTD_URI (qemu:///system) and, with --tcp,
#                           LIBVIRTD_TCP_URI (qemu+tcp://127.0.0.1:PORT/system); returns 77
#                           when it cannot run here (not root, libvirtd missing).
#   libvirtd_stop           stops what libvirtd_start started and restores /dev/kvm.
#
# Test runs on one machine are serialised by a lock: the system libvirtd is one per machine.
# A daemon started by someone else is reused and left running; without a TCP listener of
# ours LIBVIRTD_TCP_URI stays empty and the caller skips the remote part.

LIBVIRTD_URI=qemu:///system
LIBVIRTD_TCP_URI=
_lvd_started=()
_lvd_kvm_saved=
_lvd_dir=
_lvd_lock_fd=

_lvd_pid_alive() {
	local f=$1 pid
	[ -r "$f" ] || return 1
	pid=$(cat "$f" 2>/dev/null)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

_lvd_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

libvirtd_start() {
	local tcp=0
	[ "${1:-}" = --tcp ] && tcp=1
	[ "$(id -u)" = 0 ] || return 77
	command -v libvirtd >/dev/null || [ -x /usr/sbin/libvirtd ] || return 77
	command -v virsh >/dev/null || return 77
	export PATH=$PATH:/usr/sbin
	mkdir -p /run/lock
	exec {_lvd_lock_fd}>/run/lock/darwinkvm-libvirtd-test.lock
	flock -w 900 "$_lvd_lock_fd" || return 1
	_lvd_dir=$(mktemp -d /tmp/dkvm-libvirtd.XXXXXX)
	if [ -e /dev/kvm ]; then
		_lvd_kvm_saved=$(stat -c '%u:%g %a' /dev/kvm)
		if getent group kvm >/dev/null; then
			chown root:kvm /dev/kvm && chmod 0660 /dev/kvm
		fi
	fi
	if ! _lvd_pid_alive /run/virtlogd.pid; then
		# Daemons must not inherit the lock: it would outlive the test run.
		virtlogd -d {_lvd_lock_fd}>&- || return 1
		_lvd_started+=(/run/virtlogd.pid:"$(cat /run/virtlogd.pid 2>/dev/null)")
	fi
	if _lvd_pid_alive /run/libvirtd.pid; then
		: # someone else's daemon: use it, leave it running
	else
		local conf=$_lvd_dir/libvirtd.conf args=(-d)
		if [ $tcp = 1 ]; then
			local port
			port=$(_lvd_free_port)
			cat >"$conf" <<CONF
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "$port"
auth_tcp = "none"
CONF
			args+=(--listen --config "$conf")
			LIBVIRTD_TCP_URI="qemu+tcp://127.0.0.1:$port/system"
		fi
		libvirtd "${args[@]}" {_lvd_lock_fd}>&- || return 1
		local i
		for i in $(seq 1 100); do
			_lvd_pid_alive /run/libvirtd.pid && [ -S /run/libvirt/libvirt-sock ] && break
			sleep 0.1
		done
		_lvd_started+=(/run/libvirtd.pid:"$(cat /run/libvirtd.pid 2>/dev/null)")
	fi
	# The first call probes QEMU's capabilities (about 12 s); afterwards calls are fast.
	timeout 120 virsh -c "$LIBVIRTD_URI" version >/dev/null 2>&1
}

libvirtd_stop() {
	local entry pid i
	# Newest first: libvirtd before virtlogd.
	for ((i = ${#_lvd_started[@]} - 1; i >= 0; i--)); do
		entry=${_lvd_started[$i]}
		pid=${entry#*:}
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		rm -f "${entry%%:*}"
	done
	_lvd_started=()
	if [ -n "$_lvd_kvm_saved" ] && [ -e /dev/kvm ]; then
		chown "${_lvd_kvm_saved% *}" /dev/kvm
		chmod "${_lvd_kvm_saved#* }" /dev/kvm
	fi
	_lvd_kvm_saved=
	[ -n "$_lvd_dir" ] && rm -rf "$_lvd_dir"
	_lvd_dir=
	if [ -n "$_lvd_lock_fd" ]; then
		exec {_lvd_lock_fd}>&-
		_lvd_lock_fd=
	fi
	LIBVIRTD_TCP_URI=
}
