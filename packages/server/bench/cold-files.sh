#!/usr/bin/env bash
# Small-file latency while the same I/O thread serves cold files (evicted from the page
# cache), kevent-serve on CPU 0, clients on CPU 1:
#   1. four 128 MiB files download (their bodies go to the aio pool);
#   2. four clients fetch 2000 distinct cold 16 KiB files (small files: read on the I/O
#      thread only when their pages are cached, RWF_NOWAIT; otherwise sent by the pool).
# A warm 1 KiB file is probed with `ab -c 1` meanwhile: if the thread waited on the disk,
# the probe's tail would show it.
#   bash bench/cold-files.sh [rounds=3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d -p /var/tmp)"  # not tmpfs: the files must live on a disk
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"
head -c 1024 /dev/urandom > "$work/root/f1k"
for i in 1 2 3 4; do head -c $((128 << 20)) /dev/urandom > "$work/root/big$i"; done
mkdir "$work/root/small"
for i in $(seq 2000); do head -c 16384 /dev/urandom > "$work/root/small/s$i"; done
sync
taskset -c 0 node "$here/../dist/cli.js" "$work/root" --port 18095 --threads 1 > "$work/serve.log" 2>&1 &
pid=$!
sleep 1.5
# iflag=nocache with count=0 drops the whole file from the page cache (no root needed).
evict() { for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }
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
  fetchers=()
  for q in 0 1 2 3; do
    taskset -c 1 curl -s "http://127.0.0.1:18095/small/s[$((q * 500 + 1))-$((q * 500 + 500))]" > /dev/null &
    fetchers+=($!)
  done
  out="$(taskset -c 1 ab -q -n 3000 -c 1 http://127.0.0.1:18095/f1k 2>&1)"
  wait "${fetchers[@]}"
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  echo "| $round | $(awk '$1 == "50%" {print $2}' <<< "$out") | $(awk '$1 == "99%" {print $2}' <<< "$out") | $(awk '$1 == "100%" {print $2}' <<< "$out") | $took |"
done
