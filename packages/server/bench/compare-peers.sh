#!/usr/bin/env bash
# kevent-serve against nginx and lighttpd (Debian packages, when installed) on a 1 KiB
# file: each server pinned to CPU 0 with one worker/thread, the load generator on CPU 1,
# all in one run. Prints one markdown row per server and workload.
#   ab -n 50000 -c 8000 (no keep-alive): req/s, failed requests, 99th percentile
#   wrk -t1 -c1000 -d5s (keep-alive): req/s
# and, on a 10 MiB file, the throughput of wrk -t1 -c8 -d5s (keep-alive) in MiB/s.
#   bash compare-peers.sh [all|small|large]   (default all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cli="$here/../dist/cli.js"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root" "$work/tmp"
mode="${1:-all}"
head -c 1024 /dev/urandom > "$work/root/f1k"
head -c $((10 << 20)) /dev/urandom > "$work/root/f10m"
chmod 755 "$work" "$work/root" && chmod 644 "$work/root/f1k" "$work/root/f10m"  # nginx workers run as nobody
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

# CPU ticks (utime + stime) of the server started by `start_<name>`: its process and children.
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2> /dev/null || echo 0)))
  done
  echo "$total"
}

declare -A server_pid
servers=("kevent-serve:18081:start_kevent")
command -v nginx > /dev/null && servers+=("nginx:18082:start_nginx")
command -v lighttpd > /dev/null && servers+=("lighttpd:18083:start_lighttpd")
for s in "${servers[@]}"; do "${s##*:}"; server_pid["${s%%:*}"]="${pids[-1]}"; done
sleep 2

# Calls `$2 name url` for each server, with the url of /$1, once the server answers there.
each_server() {
  local s name rest port url
  for s in "${servers[@]}"; do
    name="${s%%:*}"; rest="${s#*:}"; port="${rest%%:*}"; url="http://127.0.0.1:$port/$1"
    if curl -sf "$url" -o /dev/null; then "$2" "$name" "$url"; else echo "| $name | not answering |"; fi
  done
}

small_row() {
  local ab_out rps failed p99 wrk_rps
  ab_out="$(taskset -c 1 ab -q -r -n 50000 -c 8000 "$2" 2>&1 || true)"
  rps="$(awk '/^Requests per second/ {print $4}' <<< "$ab_out")"
  failed="$(awk '/^Failed requests/ {print $3}' <<< "$ab_out")"
  p99="$(awk '$1 == "99%" {print $2}' <<< "$ab_out")"
  wrk_rps="$(taskset -c 1 wrk -t1 -c1000 -d5s "$2" 2>&1 | awk '/^Requests\/sec/ {print $2}')"
  echo "| $1 | ${rps:-?} | ${failed:-?} | ${p99:-?} | ${wrk_rps:-?} |"
}

large_row() {
  local t0 t1 mibs per_cpu
  t0="$(cpu_ticks "${server_pid[$1]}")"
  # wrk prints e.g. "Transfer/sec:      1.21GB": turned into MiB/s.
  mibs="$(taskset -c 1 wrk -t1 -c8 -d5s "$2" 2>&1 | awk '/^Transfer\/sec/ {
    v = $2; u = substr(v, length(v) - 1); v += 0
    if (u == "GB") v *= 1024; else if (u == "KB") v /= 1024; else if (u !~ /MB/) v /= 1048576
    printf "%.0f", v }')"
  t1="$(cpu_ticks "${server_pid[$1]}")"
  per_cpu="$(awk -v m="${mibs:-0}" -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (t > 0) printf "%.0f", m * 5 * hz / t; else print "?" }')"
  echo "| $1 | ${mibs:-?} | $per_cpu |"
}

if [[ "$mode" != large ]]; then
  echo "| server | ab -c 8000 req/s | failed | p99 ms | wrk -c 1000 keep-alive req/s |"
  echo "|---|---|---|---|---|"
  each_server f1k small_row
fi
if [[ "$mode" != small ]]; then
  [[ "$mode" == large ]] || echo
  # Throughput swings with the other tenants of the machine; the server's CPU time per MiB
  # moved is the steadier figure.
  echo "| server | 10 MiB, wrk -c 8 keep-alive, MiB/s | MiB per server CPU-second |"
  echo "|---|---|---|"
  each_server f10m large_row
fi
