#!/bin/sh
# Builds the aio pool and its cancel stress with ThreadSanitizer and runs it (outside Node,
# whose own threads TSan cannot see). Usage: scripts/tsan-aio.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
pkg="$here/packages/kevent-native"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -std=c++17 -O1 -g -fsanitize=thread -Wall -Wextra -Wno-missing-field-initializers -I"$pkg/src/core" \
  "$pkg/src/core/queue.cc" "$pkg/src/core/signal_hub.cc" "$pkg/src/core/aio_pool.cc" \
  "$pkg/test/native/aio_cancel_stress.cc" -o "$out/aio_cancel_stress" -pthread
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" "$out/aio_cancel_stress"
