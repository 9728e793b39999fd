#!/usr/bin/env bash
# Per request, the JS hook ("hello", bench/hello-server.mjs) against a static 1 KiB file:
# context switches of the server's threads (from /proc, no tracer attached) and syscalls
# (strace -c -f, a second run: strace slows the server, the counts per request hold).
# Shows whether handing requests to JS costs wake-ups the static path does not pay.
# One I/O thread on CPU 0, `wrk -t1 -c$C` on CPU 1. Usage: bash bench/handoff-counts.sh ; C=1000
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
conns="${C:-1000}"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 20000
head -c 1024 /dev/zero | tr '\0' x > "$work/f1k"
free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
switches() { cat /proc/"$pid"/task/*/status | awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s}'; }
requests() { awk '/requests in/ {print $1}'; }

measure() {
  local kind="$1" port path before after n
  port="$(free_port)"
  if [ "$kind" = hello ]; then
    taskset -c 0 node "$here/hello-server.mjs" kevent "$port" & pid=$!; path=/
  else
    taskset -c 0 node "$here/../dist/cli.js" "$work" --port "$port" --threads 1 >/dev/null & pid=$!; path=/f1k
  fi
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port$path" -o /dev/null && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$port$path" >/dev/null  # warm-up
  before="$(switches)"
  n="$(taskset -c 1 wrk -t1 -c"$conns" -d5s "http://127.0.0.1:$port$path" | requests)"
  after="$(switches)"
  strace -c -f -o "$work/strace.txt" -p "$pid" 2>/dev/null & local tracer=$!
  sleep 0.5
  local traced
  traced="$(taskset -c 1 wrk -t1 -c"$conns" -d3s "http://127.0.0.1:$port$path" | requests)"
  kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  local calls
  calls="$(awk -v n="$traced" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" && $4 / n >= 0.01 {printf "%s %.2f, ", $NF, $4 / n}' "$work/strace.txt")"
  echo "| $kind | $n | $(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN {printf "%.3f", (a - b) / n}') | ${calls%, } |"
}

echo "wrk -t1 -c$conns; per request"
echo
echo "| path | requests (5 s) | context switches/req | syscalls/req (>= 0.01) |"
echo "|---|---|---|---|"
measure hello
measure static
