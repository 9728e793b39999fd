#!/usr/bin/env bash
# Small-file latency while the same I/O thread serves cold files (evicted from the page
# cache), kevent-serve on CPU 0, clients on CPU 1:
#   1. four 128 MiB files download (their bodies go to the aio pool);
#   2. four clients fetch 2000 distinct cold 16 KiB files (small files: read on the I/O
#      thread only when their pages are cached, RWF_NOWAIT; otherwise sent by the pool).
# A warm 1 KiB file is probed with `ab -c 1` meanwhile: if the thread waited on the disk,
# the probe's tail would show it.
#   bash bench/cold-files.sh [rounds=3]
# Where the disk waits land instead: the 2000 cold files and 200 listings of a directory
# with kevent-serve under `strace -f -c -w` (wall-clock time per syscall, all threads). A
# pread64 on the I/O thread waits for the disk there; preadv2 (RWF_NOWAIT) never does;
# sendfile on the pool and getdents64 on the listing workers may.
#   bash bench/cold-files.sh syscalls
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d -p /var/tmp)"  # not tmpfs: the files must live on a disk
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"
head -c 1024 /dev/urandom > "$work/root/f1k"
mkdir "$work/root/small"
for i in $(seq 2000); do head -c 16384 /dev/urandom > "$work/root/small/s$i"; done
# iflag=nocache with count=0 drops the whole file from the page cache (no root needed).
evict() { for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }
# Four keep-alive clients, 500 cold files each.
fetch_small() {
  local fetchers=()
  for q in 0 1 2 3; do
    taskset -c 1 curl -s "http://127.0.0.1:18095/small/s[$((q * 500 + 1))-$((q * 500 + 500))]" > /dev/null &
    fetchers+=($!)
  done
  wait "${fetchers[@]}"
}

if [[ "${1:-}" == syscalls ]]; then
  mkdir "$work/root/dir"
  for i in $(seq 2000); do : > "$work/root/dir/entry-with-a-longer-name-$i"; done
  sync
  evict "$work"/root/small/s*
  strace -f -c -w -o "$work/strace" -e trace=pread64,preadv2,sendfile,getdents64 \
    taskset -c 0 node "$here/../dist/cli.js" "$work/root" --port 18095 --threads 1 --listing > "$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18095/f1k && break; sleep 0.1; done
  fetch_small
  taskset -c 1 curl -s "http://127.0.0.1:18095/dir/?[1-200]" > /dev/null
  kill -INT "$(pgrep -P "$pid")"
  wait "$pid" || true
  pid=""
  echo "| syscall | calls | errors | total ms | avg us |"
  echo "|---|---|---|---|---|"
  awk '$NF ~ /^(pread64|preadv2|sendfile|getdents64)$/ { err = NF == 6 ? $5 : 0; printf "| %s | %s | %s | %.1f | %s |\n", $NF, $4, err, $2 * 1000, $3 }' "$work/strace"
  exit 0
fi

for i in 1 2 3 4; do head -c $((128 << 20)) /dev/urandom > "$work/root/big$i"; done
sync
taskset -c 0 node "$here/../dist/cli.js" "$work/root" --port 18095 --threads 1 > "$work/serve.log" 2>&1 &
pid=$!
sleep 1.5
echo "### 1 KiB probe while four cold 128 MiB files download"
echo
echo "| round | small-file p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|"
for round in $(seq "${1:-3}"); do
  evict "$work"/root/big?
  downloads=()
  for i in 1 2 3 4; do
    taskset -c 1 curl -s -o /dev/null "http://127.0.0.1:18095/big$i" &
    downloads+=($!)
  done
  out="$(taskset -c 1 ab -q -n 3000 -c 1 http://127.0.0.1:18095/f1k 2>&1)"
  wait "${downloads[@]}"
  echo "| $round | $(awk '$1 == "50%" {print $2}' <<< "$out") | $(awk '$1 == "99%" {print $2}' <<< "$out") | $(awk '$1 == "100%" {print $2}' <<< "$out") |"
done
echo
echo "### 1 KiB probe while four clients fetch 2000 cold 16 KiB files"
echo
echo "| round | probe p50 ms | p99 ms | max ms | cold fetch s |"
echo "|---|---|---|---|---|"
for round in $(seq "${1:-3}"); do
  evict "$work"/root/small/s*
  start=$(date +%s.%N)
  fetch_small &
  fetcher=$!
  out="$(taskset -c 1 ab -q -n 3000 -c 1 http://127.0.0.1:18095/f1k 2>&1)"
  wait "$fetcher"
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  echo "| $round | $(awk '$1 == "50%" {print $2}' <<< "$out") | $(awk '$1 == "99%" {print $2}' <<< "$out") | $(awk '$1 == "100%" {print $2}' <<< "$out") | $took |"
done
