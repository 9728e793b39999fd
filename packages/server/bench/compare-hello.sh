#!/usr/bin/env bash
# A JS handler answering "hello": the engine (one I/O thread) against node:http, each
# process pinned to CPU 0 and wrk on CPU 1, keep-alive, one run. Prints markdown rows.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ulimit -n 20000
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
taskset -c 0 node "$here/hello-server.mjs" kevent 18091 & pids+=($!)
taskset -c 0 node "$here/hello-server.mjs" node 18092 & pids+=($!)
sleep 1
echo "| server | wrk -c 1000 req/s | wrk -c 100 req/s |"
echo "|---|---|---|"
for s in kevent:18091 node:18092; do
  url="http://127.0.0.1:${s#*:}/"
  a="$(taskset -c 1 wrk -t1 -c1000 -d5s "$url" 2>&1 | awk '/^Requests\/sec/ {print $2}')"
  b="$(taskset -c 1 wrk -t1 -c100 -d5s "$url" 2>&1 | awk '/^Requests\/sec/ {print $2}')"
  echo "| ${s%%:*} | ${a:-?} | ${b:-?} |"
done
