#!/usr/bin/env bash
# Installs the benchmark peers and load generators from Debian: nginx, lighttpd,
# apache2-utils (ab) and wrk. The harness starts its own nginx/lighttpd instances with
# generated configs on its own ports, so the Debian system services must not stay
# running (they would hold port 80 and compete for the two cores).
#
# Idempotent: installs only what is missing; run it as root. With --with-svg-tools it
# also installs librsvg2-bin (rsvg-convert, to turn the SVG charts into PNG).
set -euo pipefail

packages=(nginx lighttpd apache2-utils wrk)
if [[ "${1:-}" == "--with-svg-tools" ]]; then packages+=(librsvg2-bin); fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install-bench-deps: not root; install these yourself: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    echo "install-bench-deps: $p already installed"
  else
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  # Keep the packages' postinst from starting services: a policy-rc.d answering 101
  # ("action forbidden") is the Debian way. Only add one if none exists, and only remove ours.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  cleanup() { if [[ $added_policy -eq 1 ]]; then rm -f "$policy"; fi; }
  trap cleanup EXIT

  echo "install-bench-deps: apt-get update"
  apt-get update -qq
  echo "install-bench-deps: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Whether or not we installed them now, make sure the system services are stopped and
# not enabled. The stop goes through the init system, which knows the services' own pids.
for svc in nginx lighttpd; do
  if ! command -v "$svc" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$svc" ]]; then continue; fi
  if [[ -d /run/systemd/system ]]; then
    if systemctl is-active --quiet "$svc"; then
      systemctl stop "$svc" && echo "install-bench-deps: stopped system service $svc"
    fi
    systemctl disable --quiet "$svc" 2>/dev/null && echo "install-bench-deps: disabled $svc at boot" || true
  else
    pidfile="/run/$svc.pid"
    if [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill "$(cat "$pidfile")" && echo "install-bench-deps: stopped system $svc (pid $(cat "$pidfile"))"
    fi
    if command -v update-rc.d >/dev/null 2>&1 && [[ -e "/etc/init.d/$svc" ]]; then
      update-rc.d "$svc" disable >/dev/null 2>&1 && echo "install-bench-deps: disabled $svc at boot" || true
    fi
  fi
done

for tool in nginx lighttpd ab wrk; do
  path="$(command -v "$tool" || true)"
  [[ -z "$path" && -x "/usr/sbin/$tool" ]] && path="/usr/sbin/$tool"
  echo "install-bench-deps: $tool -> ${path:-MISSING}"
done
