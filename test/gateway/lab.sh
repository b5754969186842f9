#!/usr/bin/env bash
# Real-gateway lab: Debian's OpenNDS in network namespaces, for tollkeeper's end-to-end tests.
#
#   lab.sh install            apt-get the Debian packages the lab needs (OpenNDS is never started on the host)
#   lab.sh up                 build the namespaces and start OpenNDS; idempotent
#   lab.sh down               remove everything `up` made; idempotent
#   lab.sh status             what is up, and OpenNDS's client list
#   lab.sh exec NS CMD...     run CMD in namespace NS (tk-gw, tk-up, tk-c1, tk-c2, ...)
#
# Topology (only 198.18.0.0/15, never anything outside the namespaces made here):
#   tk-cN  eth0 198.18.0.1N/24, MAC 02:74:6b:00:00:0N ─veth─┐
#   tk-gw  br-tk 198.18.0.1/24 (OpenNDS GatewayInterface, tbf $LAB_SHAPE)   wan0 198.19.0.1/24
#   tk-up  eth0 198.19.0.2/24: web server on :80 (GET /bytes/N -> N bytes); 198.19.0.2:3338 is left
#          free for a test mint (`ip netns exec tk-up tsx test/support/test-mint/main.ts --host 198.19.0.2 --port 3338`)
#
# Inside `ip netns exec tk-gw ...` the command `iptables` is iptables-legacy (OpenNDS 9.10 fails on
# the nf_tables variant): /etc/netns/tk-gw/alternatives is a copy of /etc/alternatives with the
# iptables links pointed at the legacy binaries, and `ip netns exec` bind-mounts it over /etc/alternatives.
# The host's own alternatives are never touched.
#
# Shared with the host (one lab per machine): /tmp/ndsctl.sock and /tmp/ndsctl.lock (OpenNDS and
# ndsctl hard-code them) and /tmp/dhcp.leases (OpenNDS refuses a client IP without a lease line).
# `up` refuses when any of them exists and is not the lab's; `down` removes them.
#
# Settings: LAB_DIR (state dir, default /run/tollkeeper-lab), LAB_CLIENTS (default 2, at most 9),
# LAB_SHAPE (tbf rate on the LAN side, default 80mbit; "off" for none), LAB_ENGINE_PORT (default 2121).
set -euo pipefail

LAB_DIR=${LAB_DIR:-/run/tollkeeper-lab}
LAB_CLIENTS=${LAB_CLIENTS:-2}
LAB_SHAPE=${LAB_SHAPE:-80mbit}
LAB_ENGINE_PORT=${LAB_ENGINE_PORT:-2121}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

GW=tk-gw
UP=tk-up
BRIDGE=br-tk
LAN_PREFIX=198.18.0
GW_LAN_IP=198.18.0.1
GW_WAN_IP=198.19.0.1
UP_IP=198.19.0.2
NETNS_ETC=/etc/netns/$GW
LEASES=/tmp/dhcp.leases
NDS_SOCK=/tmp/ndsctl.sock
NDS_LOCK=/tmp/ndsctl.lock

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

client_ns() { echo "tk-c$1"; }
client_ip() { echo "$LAN_PREFIX.$((10 + $1))"; }
client_mac() { printf '02:74:6b:00:00:%02x' "$1"; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

ns_exists() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }

cmd_install() {
  need_root
  local pkgs=(opennds iptables iproute2 curl procps)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  command -v node >/dev/null || die "node is needed for the upstream web server and is not on PATH"
  if ((${#missing[@]} == 0)); then
    log "already installed: ${pkgs[*]}"
    return 0
  fi
  log "installing: ${missing[*]}"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update
  fi
  # OpenNDS's postinst would start opennds.service on the host's interfaces where systemd runs:
  # a temporary policy-rc.d forbids that, and the unit is disabled afterwards.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
  ((made_policy)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get install failed ($rc)"
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now opennds.service >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  *) die "usage: lab.sh install|up|down|status|exec NS CMD..." ;;
esac
