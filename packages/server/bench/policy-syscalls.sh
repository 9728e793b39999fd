#!/usr/bin/env bash
# Syscalls per request that the static policy adds: the same 1 KiB file fetched with
# keep-alive, with and without Accept-Encoding, with and without a sibling, and with
# precompressed off. One I/O thread under `strace -f -c`; counts, not times, so the shared
# machine's noise does not matter. Prints markdown rows: syscalls per request, by name.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
n="${N:-20000}"
site="$(mktemp -d)"
trap 'rm -rf "$site"' EXIT
head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 > "$site/plain.js"
cp "$site/plain.js" "$site/sib.js"
gzip -k "$site/sib.js"
cp "$site/sib.js.gz" "$site/sib.js.br"  # the bytes do not matter here, only that it exists
run() {  # name, precompressed, path, accept-encoding
  local out="$site/strace-$1"
  strace -f -c -o "$out" node --input-type=module -e "
    import { serveStatic } from '$here/../dist/index.js';
    const e = serveStatic('$site', { port: 18190, threads: 1, precompressed: $2,
      cacheRules: [{ match: '*.js', cacheControl: 'max-age=60' }], headerRules: [{ match: '/**', headers: { 'X-A': 'b' } }] });
    await e.start();
    setInterval(() => {}, 1 << 30);  // the engine does not hold the event loop open
    process.on('SIGINT', () => e.stop().then(() => process.exit(0)));
  " &
  local tracer=$!
  local pid=""
  for _ in $(seq 50); do pid="$(pgrep -P "$tracer" -x node || true)"; [ -n "$pid" ] && break; sleep 0.2; done
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:18190/$3" && break; sleep 0.2; done
  local h=()
  [ -n "$4" ] && h=(-H "Accept-Encoding: $4")
  ab -q -k -n "$n" -c 10 "${h[@]}" "http://127.0.0.1:18190/$3" | awk '/^(Failed|Non-2xx)/' >&2
  kill -INT "$pid"; wait "$tracer" || true
  awk -v n="$n" -v name="$1" '$NF ~ /^(openat2|openat|fstat|newfstatat|statx|pread64|close|sendmsg|recvfrom|read|epoll_wait)$/ && $4 ~ /^[0-9]+$/ {
    row = row sprintf(" %s %.2f;", $NF, $4 / n) } END { print "| " name " |" row " |" }' "$out"
}
echo "| case | syscalls per request |"
echo "|---|---|"
run "no Accept-Encoding" true plain.js ""
run "gzip, br; no sibling" true plain.js "gzip, br"
run "gzip, br; .br sibling" true sib.js "gzip, br"
run "precompressed off" false plain.js "gzip, br"
