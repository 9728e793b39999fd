#!/usr/bin/env bash
# What the open-file cache buys on keep-alive requests for a 1 KiB file, side by side:
#   1. syscalls per request: strace -c -f on the server while `ab -k -n N -c 50` runs,
#      kevent-serve with the cache (default) and without it (fileCacheEntries: 0);
#   2. req/s with `wrk -t1 -c1000 -d5s` (keep-alive), ROUNDS interleaved rounds of
#      kevent-serve with and without the cache, each pinned to CPU 0 with one I/O thread,
#      wrk on CPU 1. Against lighttpd and nginx: bench/compare-peers.sh.
# Usage: bash bench/file-cache.sh [N=20000] [ROUNDS=3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="$here/../dist"
n="${1:-20000}"
rounds="${2:-3}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"
head -c 1024 /dev/urandom > "$work/root/f1k"
ulimit -n 20000

# kevent <port> <fileCacheEntries> [prefix command...]: one I/O thread on CPU 0.
kevent() {
  local port="$1" entries="$2"
  shift 2
  "$@" taskset -c 0 node --input-type=module -e "
    import { serveStatic } from '$dist/index.js';
    const engine = serveStatic('$work/root', { port: $port, threads: 1, fileCacheEntries: $entries });
    await engine.start();
    setInterval(() => {}, 1 << 30); // native threads hold no libuv handle
    process.on('SIGINT', async () => { await engine.stop({ grace: 0 }); process.exit(0); });
  " &
  pids+=($!)
}
wait_up() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/f1k" -o /dev/null && return 0; sleep 0.1; done; return 1; }

echo "## syscalls per keep-alive request (ab -k -n $n -c 50, strace -c -f on the server)"
echo
echo "| server | syscalls/request | top calls per request |"
echo "|---|---|---|"
for entries in 1024 0; do
  port=$((28400 + entries % 7))
  kevent "$port" "$entries" strace -c -f -o "$work/strace.$entries"
  tracer=$!
  wait_up "$port"
  taskset -c 1 ab -q -k -n "$n" -c 50 "http://127.0.0.1:$port/f1k" > /dev/null
  kill -INT "$(pgrep -P "$tracer")"
  wait "$tracer" || true
  # The startup curl and the JS thread's housekeeping are in the totals too (a few hundred calls).
  total="$(awk '$NF == "total" {print $4}' "$work/strace.$entries")"
  top="$(awk -v n="$n" 'NR > 2 && $1 ~ /^[0-9.]+$/ && $NF != "total" && $4 / n >= 0.05 { printf "%s %.2f, ", $NF, $4 / n }' "$work/strace.$entries")"
  echo "| kevent-serve fileCacheEntries=$entries | $(awk -v t="$total" -v n="$n" 'BEGIN { printf "%.2f", t / n }') | ${top%, } |"
done

kevent 28411 1024
kevent 28412 0
wait_up 28411 && wait_up 28412

echo
echo "## wrk -t1 -c1000 -d5s keep-alive, 1 KiB file, req/s ($rounds interleaved rounds)"
echo
echo "| round | kevent-serve (cache) | kevent-serve (fileCacheEntries 0) | cache / no cache |"
echo "|---|---|---|---|"
for r in $(seq "$rounds"); do
  row=()
  for port in 28411 28412; do
    row+=("$(taskset -c 1 wrk -t1 -c1000 -d5s "http://127.0.0.1:$port/f1k" 2>&1 | awk '/^Requests\/sec/ {print $2}')")
  done
  echo "| $r | ${row[0]} | ${row[1]} | $(awk -v a="${row[0]}" -v b="${row[1]}" 'BEGIN { printf "%.2f", a / b }') |"
done
