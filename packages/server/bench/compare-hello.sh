#!/usr/bin/env bash
# A JS handler answering "hello": the engine (one I/O thread) against node:http, each
# process pinned to CPU 0 and wrk on CPU 1, keep-alive, one run. Prints markdown rows.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ulimit -n 20000
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
# Other runs may share the machine: ports from the environment or picked from our pid.
kport="${KEVENT_PORT:-$((20000 + $$ % 20000))}"
nport="${NODE_PORT:-$((kport + 1))}"
dur="${DURATION:-5s}"
taskset -c 0 node "$here/hello-server.mjs" kevent "$kport" & pids+=($!)
taskset -c 0 node "$here/hello-server.mjs" node "$nport" & pids+=($!)
sleep 1
for p in "${pids[@]}"; do kill -0 "$p" || { echo "a server failed to start" >&2; exit 1; }; done
echo "| server | wrk -c 1000 req/s | wrk -c 100 req/s |"
echo "|---|---|---|"
for s in "kevent:$kport" "node:$nport"; do
  url="http://127.0.0.1:${s#*:}/"
  a="$(taskset -c 1 wrk -t1 -c1000 -d"$dur" "$url" 2>&1 | awk '/^Requests\/sec/ {print $2}')"
  b="$(taskset -c 1 wrk -t1 -c100 -d"$dur" "$url" 2>&1 | awk '/^Requests\/sec/ {print $2}')"
  echo "| ${s%%:*} | ${a:-?} | ${b:-?} |"
done
