#!/usr/bin/env bash
# Debian packages the native build needs beyond node/python3/make/g++:
#   node-llhttp  the C of llhttp (/usr/share/llhttp/*.c, /usr/share/include/llhttp/llhttp.h),
#                which packages/server compiles into its addon (see DESIGN.md, "The engine").
# Runs as root (apt-get); elsewhere through sudo when there is one.
set -euo pipefail
packages=(node-llhttp)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo=(sudo); else
    echo "install-build-deps: need root to apt-get install ${missing[*]}" >&2; exit 1
  fi
fi
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y "${missing[@]}"
