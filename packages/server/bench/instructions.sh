#!/usr/bin/env bash
# User-space instructions and malloc calls per request on the engine's two hot paths,
# counted by valgrind's callgrind (deterministic, unlike clocks on a shared machine):
#   static: keep-alive GET of a 1 KiB file (served by the I/O thread from the file cache);
#   hello:  the JS handler answering "hello" (I/O thread + the JS thread's batch callback).
# One I/O thread. Collection is on only inside IoThread::Run (the whole I/O thread) and the
# dispatch callback on the JS thread (the handler and respond() run inside it); a warm-up
# run goes first, then the counters are zeroed, `ab -k -n N -c C` runs, and they are dumped.
# Kernel work (syscalls) is not counted: strace -c counts those (bench/file-cache.sh).
# Usage: bash bench/instructions.sh [static|hello|both] ; N=20000 C=100 WARMUP=5000
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${DIST:-$here/../dist}"  # DIST=/other/checkout/packages/server/dist: measure that build
which="${1:-both}"
n="${N:-20000}"
c="${C:-100}"
warm="${WARMUP:-5000}"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"
head -c 1024 /dev/zero | tr '\0' x > "$work/root/f1k"
ulimit -n 20000
free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }

# The JS thread's batch callback, CallDispatch inlined into node-addon-api's wrapper.
js_fn='Napi::TypedThreadSafeFunction<void, kserver::DynamicBatch, &kserver::(anonymous namespace)::CallDispatch>::CallJsInternal*'

measure() {
  local kind="$1" path port
  port="$(free_port)"
  if [ "$kind" = static ]; then
    path=/f1k
    script="import { serveStatic } from '$dist/index.js';
      await serveStatic('$work/root', { port: $port, threads: 1 }).start();"
  else
    path=/
    script="import { createEngine } from '$dist/index.js';
      await createEngine({ port: $port, threads: 1,
        handler: () => ({ headers: { 'Content-Type': 'text/plain' }, body: 'hello' }) }).start();"
  fi
  rm -f "$work"/cg.*
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" --separate-threads=yes \
    --collect-atstart=no --toggle-collect='kserver::IoThread::Run()' --toggle-collect="$js_fn" \
    node --input-type=module -e "$script setInterval(() => {}, 1 << 30);" 2>"$work/vg.log" &
  pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port$path" -o /dev/null && break; sleep 0.2; done
  ab -q -k -n "$warm" -c "$c" "http://127.0.0.1:$port$path" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  local out
  out="$(ab -q -k -n "$n" -c "$c" "http://127.0.0.1:$port$path")"
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  local failed
  failed="$(echo "$out" | awk '/^Failed requests/ {print $3}')"
  python3 - "$kind" "$n" "$failed" "$work" <<'EOF'
import glob, re, sys
kind, n, failed, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
# The dump after zeroing is the one with the highest part number per thread.
files = {}
for f in glob.glob(work + '/cg.*'):
    m = re.match(r'.*cg\.(\d+)(?:\.(\d+))?-(\d+)$', f)
    if not m: continue
    part, tid = int(m.group(2) or 0), int(m.group(3))
    if tid not in files or part > files[tid][0]: files[tid] = (part, f)
rows = []
for tid, (_, f) in sorted(files.items()):
    names, total, cfn, mallocs, frees = {}, 0, None, 0, 0
    for line in open(f, errors='replace'):
        if line.startswith('summary:') or line.startswith('totals:'):
            total = int(line.split()[1])
        elif line.startswith('fn=') or line.startswith('cfn='):
            # Names are compressed: "(id) name" the first time, "(id)" after; fn and cfn share ids.
            m = re.match(r'c?fn=\((\d+)\)(?: (.*))?', line.strip())
            if m.group(2): names[m.group(1)] = m.group(2)
            cfn = names.get(m.group(1), '') if line.startswith('cfn=') else None
        elif line.startswith('calls=') and cfn is not None:
            calls = int(line.split()[0][6:])
            if cfn in ('malloc', 'calloc', 'realloc'): mallocs += calls
            elif cfn in ('free', 'cfree'): frees += calls
            cfn = None
    if total: rows.append((tid, total, mallocs, frees))
who_is = {1: 'JS thread'}
for tid, total, mallocs, frees in rows:
    who = who_is.get(tid, 'I/O thread')
    print(f'| {kind} | {who} | {total / n:,.0f} | {mallocs / n:.2f} | {frees / n:.2f} |')
if len(rows) > 1:
    print(f'| {kind} | total | {sum(r[1] for r in rows) / n:,.0f} | {sum(r[2] for r in rows) / n:.2f} | {sum(r[3] for r in rows) / n:.2f} |')
if failed not in ('0', ''): print(f'warning: {failed} failed requests', file=sys.stderr)
EOF
}

echo "N=$n C=$c (ab -k); instructions and calls per request"
echo
echo "| path | thread | instructions/req | malloc/req | free/req |"
echo "|---|---|---|---|---|"
[ "$which" = hello ] || measure static
[ "$which" = static ] || measure hello
