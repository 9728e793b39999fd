#!/usr/bin/env bash
# Small-file latency while four cold (evicted from the page cache) 128 MiB files download
# from the same I/O thread: with file bodies on the aio pool, the thread never waits on the
# disk, so the small requests' tail stays short. kevent-serve on CPU 0, clients on CPU 1.
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
sync
taskset -c 0 node "$here/../dist/cli.js" "$work/root" --port 18095 --threads 1 > "$work/serve.log" 2>&1 &
pid=$!
sleep 1.5
echo "| round | small-file p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|"
for round in $(seq "${1:-3}"); do
  # iflag=nocache with count=0 drops the whole file from the page cache (no root needed).
  for i in 1 2 3 4; do dd if="$work/root/big$i" iflag=nocache count=0 status=none; done
  downloads=()
  for i in 1 2 3 4; do
    taskset -c 1 curl -s -o /dev/null "http://127.0.0.1:18095/big$i" &
    downloads+=($!)
  done
  out="$(taskset -c 1 ab -q -n 3000 -c 1 http://127.0.0.1:18095/f1k 2>&1)"
  wait "${downloads[@]}"
  echo "| $round | $(awk '$1 == "50%" {print $2}' <<< "$out") | $(awk '$1 == "99%" {print $2}' <<< "$out") | $(awk '$1 == "100%" {print $2}' <<< "$out") |"
done
