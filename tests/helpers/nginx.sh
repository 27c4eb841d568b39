#!/bin/bash
# SPDX-License-Identifier: MIT
# A throwaway nginx on a free 127.0.0.1 port, for tests that need real HTTP
# (Range, 206/416, limit_rate). Source this file, then:
#   nginx_start DIR [EXTRA]   serve DIR/www; EXTRA is added inside the server block
#                             (e.g. 'location /slow/ { limit_rate 100k; }')
#                             sets NGINX_PORT and NGINX_URL (http://127.0.0.1:PORT)
#   nginx_stop                stops it (also installed as an EXIT trap by the caller if wanted)
# Paths for "no Range support" and slow links come ready-made:
#   $NGINX_URL/norange/F  serves DIR/www/F without Range (max_ranges 0: always 200)
#   $NGINX_URL/slow/F     serves DIR/www/F at NGINX_RATE (default 256k) per second
# No systemd and no root needed: pid, logs and temp files live under DIR.

nginx_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

nginx_start() {
	local dir=$1 extra=${2:-} user_line=""
	NGINX_DIR=$(realpath "$dir")
	mkdir -p "$NGINX_DIR/www" "$NGINX_DIR/nginx-tmp"
	# As root nginx would drop its workers to "nobody", who cannot read mktemp directories.
	[ "$(id -u)" -eq 0 ] && user_line="user root;"
	local try
	for try in 1 2 3 4 5; do
		NGINX_PORT=$(nginx_free_port)
		cat >"$NGINX_DIR/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon on;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/nginx-error.log warn;
events { worker_connections 64; }
http {
	access_log $NGINX_DIR/nginx-access.log;
	client_body_temp_path $NGINX_DIR/nginx-tmp/body;
	proxy_temp_path $NGINX_DIR/nginx-tmp/proxy;
	fastcgi_temp_path $NGINX_DIR/nginx-tmp/fastcgi;
	uwsgi_temp_path $NGINX_DIR/nginx-tmp/uwsgi;
	scgi_temp_path $NGINX_DIR/nginx-tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $NGINX_DIR/www;
		location /norange/ { alias $NGINX_DIR/www/; max_ranges 0; }
		location /slow/ { alias $NGINX_DIR/www/; limit_rate ${NGINX_RATE:-256k}; }
		$extra
	}
}
CONF
		if nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" -e "$NGINX_DIR/nginx-error.log" 2>>"$NGINX_DIR/nginx-start.log"; then
			NGINX_URL="http://127.0.0.1:$NGINX_PORT"
			local i
			for i in $(seq 50); do
				[ -s "$NGINX_DIR/nginx.pid" ] && return 0
				sleep 0.05
			done
		fi
	done
	echo "nginx_start: nginx did not start; see $NGINX_DIR/nginx-start.log" >&2
	return 1
}

nginx_stop() {
	[ -n "${NGINX_DIR:-}" ] && [ -s "$NGINX_DIR/nginx.pid" ] || return 0
	local pid
	pid=$(cat "$NGINX_DIR/nginx.pid")
	kill "$pid" 2>/dev/null
	local i
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f "$NGINX_DIR/nginx.pid"
}
