#!/usr/bin/env bash
# kevent-serve against nginx and lighttpd (Debian packages, when installed) on a 1 KiB
# file: each server pinned to CPU 0 with one worker/thread, the load generator on CPU 1,
# all in one run. Prints one markdown row per server and workload.
#   ab -n 50000 -c 8000 (no keep-alive): req/s, failed requests, 99th percentile
#   wrk -t1 -c1000 -d5s (keep-alive): req/s
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cli="$here/../dist/cli.js"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root" "$work/tmp"
head -c 1024 /dev/urandom > "$work/root/f1k"
chmod 755 "$work" "$work/root" && chmod 644 "$work/root/f1k"  # nginx workers run as nobody
ulimit -n 20000

start_kevent() {
  taskset -c 0 node "$cli" "$work/root" --port 18081 --threads 1 > "$work/kevent.log" 2>&1 &
  pids+=($!)
}
start_nginx() {
  cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;
worker_rlimit_nofile 20000;
events { worker_connections 16384; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:18082 backlog=4096; root $work/root; } }
CONF
  taskset -c 0 nginx -c "$work/nginx.conf" &
  pids+=($!)
}
start_lighttpd() {
  cat > "$work/lighttpd.conf" <<CONF
server.document-root = "$work/root"
server.port = 18083
server.bind = "127.0.0.1"
server.max-fds = 20000
server.max-connections = 10000
server.max-keep-alive-requests = 1000000
server.listen-backlog = 4096
CONF
  taskset -c 0 lighttpd -D -f "$work/lighttpd.conf" &
  pids+=($!)
}

servers=("kevent-serve:18081:start_kevent")
command -v nginx > /dev/null && servers+=("nginx:18082:start_nginx")
command -v lighttpd > /dev/null && servers+=("lighttpd:18083:start_lighttpd")
for s in "${servers[@]}"; do "${s##*:}"; done
sleep 1

echo "| server | ab -c 8000 req/s | failed | p99 ms | wrk -c 1000 keep-alive req/s |"
echo "|---|---|---|---|---|"
for s in "${servers[@]}"; do
  name="${s%%:*}"; rest="${s#*:}"; port="${rest%%:*}"
  url="http://127.0.0.1:$port/f1k"
  curl -sf "$url" -o /dev/null || { echo "| $name | not answering | | | |"; continue; }
  ab_out="$(taskset -c 1 ab -q -r -n 50000 -c 8000 "$url" 2>&1 || true)"
  rps="$(awk '/^Requests per second/ {print $4}' <<< "$ab_out")"
  failed="$(awk '/^Failed requests/ {print $3}' <<< "$ab_out")"
  p99="$(awk '$1 == "99%" {print $2}' <<< "$ab_out")"
  wrk_rps="$(taskset -c 1 wrk -t1 -c1000 -d5s "$url" 2>&1 | awk '/^Requests\/sec/ {print $2}')"
  echo "| $name | ${rps:-?} | ${failed:-?} | ${p99:-?} | ${wrk_rps:-?} |"
done
