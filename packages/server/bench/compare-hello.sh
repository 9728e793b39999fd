#!/usr/bin/env bash
# A JS handler answering "hello": the engine (one I/O thread) against node:http, each
# process pinned to CPU 0 and wrk on CPU 1, keep-alive, one run. Prints markdown rows.
# Besides requests/s, each row has the server's CPU time per request (user+system, from
# /proc), which other load on a shared machine disturbs far less than wall-clock rates.
# ROUNDS=n alternates the servers n times, so drift in the machine's load hits both.
# BASELINE=/other/checkout/packages/server/bench/hello-server.mjs adds that build's engine
# as a third row (before/after comparisons in one run). CPU=user: user time only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ulimit -n 20000
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
# Other runs share the machine: ports the kernel says are free now, unless given.
free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
kport="${KEVENT_PORT:-$(free_port)}"
nport="${NODE_PORT:-$(free_port)}"
dur="${DURATION:-5s}"
rounds="${ROUNDS:-1}"
# KIND=kevent-frozen: the handler returns one frozen object (headers serialised once).
taskset -c 0 node "$here/hello-server.mjs" "${KIND:-kevent}" "$kport" & kpid=$!; pids+=($kpid)
taskset -c 0 node "$here/hello-server.mjs" node "$nport" & npid=$!; pids+=($npid)
servers=("kevent:$kpid:$kport" "node:$npid:$nport")
if [ -n "${BASELINE:-}" ]; then
  bport="$(free_port)"
  taskset -c 0 node "$BASELINE" kevent "$bport" & bpid=$!; pids+=($bpid)
  servers+=("baseline:$bpid:$bport")
fi
sleep 1
for p in "${pids[@]}"; do kill -0 "$p" || { echo "a server failed to start" >&2; exit 1; }; done
tick="$(getconf CLK_TCK)"
# CPU=user counts user time only (the engine's own code, without the kernel's TCP work).
if [ "${CPU:-all}" = user ]; then cpu_ticks() { awk '{print $14}' "/proc/$1/stat"; }
else cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }; fi

# One wrk run: prints "req/s µs-CPU/request".
run() {
  local pid=$1 port=$2 conns=$3 before after out
  before="$(cpu_ticks "$pid")"
  out="$(taskset -c 1 wrk -t1 -c"$conns" -d"$dur" "http://127.0.0.1:$port/" 2>&1)"
  after="$(cpu_ticks "$pid")"
  echo "$out" | awk -v cpu="$(( after - before ))" -v tick="$tick" '
    /requests in/ { n = $1 }
    /^Requests\/sec/ { rps = $2 }
    END { printf "%s %.2f", rps, (n > 0 ? cpu / tick * 1e6 / n : 0) }'
}

echo "| round | server | wrk -c 1000 req/s | CPU µs/req | wrk -c 100 req/s | CPU µs/req |"
echo "|---|---|---|---|---|---|"
for r in $(seq 1 "$rounds"); do
  for s in "${servers[@]}"; do
    IFS=: read -r name pid port <<<"$s"
    read -r a acpu <<<"$(run "$pid" "$port" 1000)"
    read -r b bcpu <<<"$(run "$pid" "$port" 100)"
    echo "| $r | $name | ${a:-?} | $acpu | ${b:-?} | $bcpu |"
  done
done
