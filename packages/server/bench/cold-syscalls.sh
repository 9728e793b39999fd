#!/usr/bin/env bash
# Where the disk waits land: 2000 cold 16 KiB files (evicted from the page cache) fetched by
# four keep-alive clients, and 200 listings of a cold directory, with kevent-serve (one I/O
# thread) under `strace -f -c -w` (wall-clock time per syscall, all threads). A pread64 or
# getdents64 on the I/O thread waits for the disk there; preadv2 (RWF_NOWAIT) never does;
# sendfile and getdents64 on the pool and the listing workers may.
#   bash bench/cold-syscalls.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d -p /var/tmp)"  # not tmpfs: the files must live on a disk
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root/small" "$work/root/dir"
for i in $(seq 2000); do head -c 16384 /dev/urandom > "$work/root/small/s$i"; done
for i in $(seq 2000); do : > "$work/root/dir/entry-with-a-longer-name-$i"; done
sync
for f in "$work"/root/small/s*; do dd if="$f" iflag=nocache count=0 status=none; done
strace -f -c -w -o "$work/strace" -e trace=pread64,preadv2,sendfile,getdents64 \
  node "$here/../dist/cli.js" "$work/root" --port 18096 --threads 1 --listing > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18096/small/s1 && break; sleep 0.1; done
fetchers=()
for q in 0 1 2 3; do
  curl -s "http://127.0.0.1:18096/small/s[$((q * 500 + 1))-$((q * 500 + 500))]" > /dev/null &
  fetchers+=($!)
done
wait "${fetchers[@]}"
curl -s "http://127.0.0.1:18096/dir/?[1-200]" > /dev/null
kill -INT "$pid"
wait "$pid" || true
pid=""
echo "| syscall | calls | errors | total ms | avg us |"
echo "|---|---|---|---|---|"
awk '$NF ~ /^(pread64|preadv2|sendfile|getdents64)$/ { err = NF == 6 ? $5 : 0; printf "| %s | %s | %s | %.1f | %s |\n", $NF, $4, err, $2 * 1000, $3 }' "$work/strace"
