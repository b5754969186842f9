#!/usr/bin/env bash
# Real-gateway lab: Debian's OpenNDS in network namespaces, for tollkeeper's end-to-end tests.
#
#   lab.sh install            apt-get the Debian packages the lab needs (OpenNDS is never started on the host)
#   lab.sh up                 build the namespaces and start OpenNDS; idempotent
#   lab.sh down               remove everything `up` made; idempotent
#   lab.sh status             what is up, and OpenNDS's client list
#   lab.sh restart-opennds    kill OpenNDS and start it again (it forgets every client), as a crash would
#   lab.sh exec NS CMD...     run CMD in namespace NS (tk-gw, tk-up, tk-c1, tk-c2, ...)
#
# Topology (only 198.18.0.0/15, never anything outside the namespaces made here):
#   tk-cN  eth0 198.18.0.1N/24, MAC 02:74:6b:00:00:0N ─veth─┐
#   tk-gw  br-tk 198.18.0.1/24 (OpenNDS GatewayInterface, tbf $LAB_SHAPE)   wan0 198.19.0.1/24
#   tk-up  eth0 198.19.0.2/24: web server on :80 and :8080 (GET /bytes/N -> N bytes, POST /sink).
#          OpenNDS redirects an unpaid client's port 80 to its splash page and rejects port 8080.
#          198.19.0.2:3338 is left free for a test mint (`ip netns exec tk-up tsx test/support/test-mint/main.ts --host 198.19.0.2 --port 3338`)
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
# Host paths OpenNDS or iptables-legacy create as a side effect; removed on down unless they existed before.
SIDE_PATHS=(/tmp/ndscids /tmp/ndslog /tmp/ndsdebuglevel /run/xtables.lock /etc/dnsmasq.conf)

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

client_ns() { echo "tk-c$1"; }
client_ip() { echo "$LAN_PREFIX.$((10 + $1))"; }
client_mac() { printf '02:74:6b:00:00:%02x' "$1"; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; }

cmd_install() {
  need_root
  local pkgs=(opennds iptables iproute2 iputils-ping curl procps)
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
  # No recommends: nftables is not needed (OpenNDS runs on iptables-legacy here).
  local rc=0
  apt_install "${missing[@]}" || { DEBIAN_FRONTEND=noninteractive apt-get update && apt_install "${missing[@]}"; } || rc=$?
  if ((made_policy)); then rm -f "$policy"; fi
  ((rc == 0)) || die "apt-get install failed ($rc)"
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now opennds.service >/dev/null 2>&1 || true
  fi
}

# ---- state ------------------------------------------------------------------------------------
# $LAB_DIR/owned lists host paths `up` created, so `down` removes exactly those.
own() { echo "$1" >>"$LAB_DIR/owned"; }

# A killed daemon can linger as a zombie until init reaps it (slowly here): that counts as gone.
running() {
  local state
  state=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}
pid_alive() { [[ -f $1 ]] && running "$(cat "$1")"; }

# SIGKILL at once: everything OpenNDS would undo on SIGTERM (its firewall rules) lives in tk-gw and
# goes with the namespace, and its leftover files in /tmp are removed below; SIGTERM costs ~1.5 s.
stop_pidfile() {
  local file=$1 pid i
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do running "$pid" || break; sleep 0.05; done
  rm -f "$file"
}

nds_json() { ip netns exec "$GW" ndsctl json "$@" 2>/dev/null; }
# Checks read all of nds_json with `grep -c`, not `grep -q`: with many clients ndsctl is still
# writing when `grep -q` exits, dies of SIGPIPE, and pipefail would call the lab down.

is_up() {
  pid_alive "$LAB_DIR/opennds.pid" && pid_alive "$LAB_DIR/upstream.pid" &&
    nds_json | grep -c client_list_length >/dev/null
}

# ---- down ---------------------------------------------------------------------------------------
cmd_down() {
  need_root
  stop_pidfile "$LAB_DIR/opennds.pid"
  stop_pidfile "$LAB_DIR/upstream.pid"
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^tk-(gw|up|c[0-9]+)$' || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns"
  done
  if [[ -f $LAB_DIR/owned ]]; then
    local path
    # Newest first, so a directory is removed after what was made inside it.
    tac "$LAB_DIR/owned" | while read -r path; do
      if [[ $path == /etc/netns ]]; then
        rmdir "$path" 2>/dev/null || true
      elif [[ -d $path && ! -L $path ]]; then
        rm -rf -- "$path"
      else
        rm -f -- "$path"
      fi
    done
  fi
  rm -rf -- "$LAB_DIR"
}

# ---- up -----------------------------------------------------------------------------------------
check_free() {
  local path
  for path in "$LEASES" "$NDS_SOCK" "$NDS_LOCK" "$NETNS_ETC"; do
    [[ -e $path ]] && die "$path exists and is not this lab's (another OpenNDS or lab on this host?)"
  done
  local pid
  for pid in $(pgrep -x opennds || true); do
    if running "$pid"; then die "an opennds process (pid $pid) is already running on this host"; fi
  done
}

write_legacy_alternatives() {
  # `ip netns exec tk-gw` bind-mounts each entry of /etc/netns/tk-gw over /etc: a full copy of the
  # host's alternatives (awk and others live there too) with only the iptables links changed.
  if [[ ! -d /etc/netns ]]; then mkdir /etc/netns && own /etc/netns; fi
  mkdir "$NETNS_ETC" && own "$NETNS_ETC"
  cp -a /etc/alternatives "$NETNS_ETC/alternatives"
  local fam tool
  for fam in iptables ip6tables; do
    for tool in "" -restore -save; do
      ln -sfn "/usr/sbin/$fam-legacy$tool" "$NETNS_ETC/alternatives/$fam$tool"
    done
  done
  ip netns exec "$GW" iptables -V | grep -q legacy || die "iptables in $GW is not the legacy variant"
  # OpenNDS's dnsconfig.sh edits /etc/hosts and /etc/dnsmasq.conf on "generic Linux": give it copies.
  cp -p /etc/hosts "$NETNS_ETC/hosts"
  if [[ -f /etc/dnsmasq.conf ]]; then cp -p /etc/dnsmasq.conf "$NETNS_ETC/dnsmasq.conf"; fi
}

own_side_paths() {
  local path
  for path in "${SIDE_PATHS[@]}"; do
    if [[ ! -e $path ]]; then own "$path"; fi
  done
}

write_leases() {
  local expiry i
  expiry=$(($(date +%s) + 365 * 24 * 3600))
  : >"$LEASES" && own "$LEASES"
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    echo "$expiry $(client_mac "$i") $(client_ip "$i") tk-c$i *" >>"$LEASES"
  done
}

write_opennds_conf() {
  cat >"$LAB_DIR/opennds.conf" <<EOF
GatewayInterface $BRIDGE
GatewayName tollkeeper-lab
GatewayPort 2050
checkinterval 5
allow_preemptive_authentication 1
# Keep dnsconfig.sh from writing a gateway FQDN and DHCP option 114 into the host's DNS files.
gatewayfqdn disable
dhcp_default_url_enable 0
FirewallRuleSet authenticated-users {
}
FirewallRuleSet preauthenticated-users {
}
FirewallRuleSet users-to-router {
    FirewallRule allow udp port 53
    FirewallRule allow tcp port 53
    FirewallRule allow udp port 67
    FirewallRule allow tcp port $LAB_ENGINE_PORT
}
EOF
}

build_namespaces() {
  local i ns
  ip netns add "$GW"
  ip netns add "$UP"
  ip -n "$GW" link set lo up
  ip -n "$UP" link set lo up
  ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1

  ip -n "$GW" link add wan0 type veth peer name eth0 netns "$UP"
  ip -n "$GW" addr add "$GW_WAN_IP/24" dev wan0
  ip -n "$UP" addr add "$UP_IP/24" dev eth0
  ip -n "$GW" link set wan0 up
  ip -n "$UP" link set eth0 up
  ip -n "$GW" route add default via "$UP_IP"
  ip -n "$UP" route add "$LAN_PREFIX.0/24" via "$GW_WAN_IP"

  ip -n "$GW" link add "$BRIDGE" type bridge
  ip -n "$GW" addr add "$GW_LAN_IP/24" dev "$BRIDGE"
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    ns=$(client_ns "$i")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$GW" link add "vc$i" type veth peer name eth0 netns "$ns"
    ip -n "$GW" link set "vc$i" master "$BRIDGE" up
    ip -n "$ns" link set eth0 address "$(client_mac "$i")"
    ip -n "$ns" addr add "$(client_ip "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$GW_LAN_IP"
  done
  ip -n "$GW" link set "$BRIDGE" up
  if [[ $LAB_SHAPE != off ]]; then
    ip netns exec "$GW" tc qdisc replace dev "$BRIDGE" root tbf rate "$LAB_SHAPE" burst 64kb latency 50ms
  fi
}

start_upstream() {
  ip netns exec "$UP" setsid node "$HERE/upstream-server.mjs" "$UP_IP" 80 8080 \
    >"$LAB_DIR/upstream.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/upstream.pid"
}

# OpenNDS's helper scripts call `systemctl restart dnsmasq` and, because they look for an nftables
# ruleset that iptables-legacy never has, `systemctl restart opennds`: on a systemd host that would
# act on the host's services. OpenNDS runs with a PATH whose `systemctl` only logs.
write_shims() {
  mkdir -p "$LAB_DIR/bin"
  printf '#!/bin/sh\necho "lab: ignored: systemctl $*" >&2\nexit 0\n' >"$LAB_DIR/bin/systemctl"
  chmod 755 "$LAB_DIR/bin/systemctl"
}

start_opennds() {
  own "$NDS_SOCK"
  own "$NDS_LOCK"
  write_shims
  ip netns exec "$GW" env PATH="$LAB_DIR/bin:$PATH" setsid opennds -f -c "$LAB_DIR/opennds.conf" \
    >"$LAB_DIR/opennds.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/opennds.pid"
}

wait_until() {
  local what=$1 tries=$2 i
  shift 2
  for ((i = 0; i < tries; i++)); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  die "timed out waiting for $what"
}

upstream_answers() { ip netns exec "$GW" curl -s --max-time 1 -o /dev/null "http://$UP_IP/"; }

opennds_answers() {
  if ! pid_alive "$LAB_DIR/opennds.pid"; then
    die "opennds exited; $LAB_DIR/opennds.log ends: $(tail -5 "$LAB_DIR/opennds.log")"
  fi
  nds_json | grep -c client_list_length >/dev/null
}

cmd_up() {
  need_root
  [[ $LAB_CLIENTS =~ ^[1-9]$ ]] || die "LAB_CLIENTS must be 1..9"
  if is_up; then
    log "already up"
    return 0
  fi
  cmd_down
  check_free
  mkdir -p "$LAB_DIR"
  : >"$LAB_DIR/owned"
  own_side_paths
  trap 'log "up failed; tearing down"; cmd_down' EXIT
  build_namespaces
  write_legacy_alternatives
  write_leases
  write_opennds_conf
  start_upstream
  wait_until "the upstream web server" 100 upstream_answers
  start_opennds
  wait_until "opennds to answer ndsctl json" 150 opennds_answers
  # Preemptive authentication needs the gateway to have a neighbour entry for the client.
  local i
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    ip netns exec "$(client_ns "$i")" ping -c 1 -W 1 "$GW_LAN_IP" >/dev/null 2>&1 || true
  done
  trap - EXIT
  log "up: gateway $GW ($GW_LAN_IP, $GW_WAN_IP), upstream $UP ($UP_IP:80), $LAB_CLIENTS clients"
}

# Same daemon, same config, as `systemctl restart opennds` would: SIGTERM, then the start sequence
# of `up`. Every client comes back unauthenticated.
cmd_restart_opennds() {
  need_root
  is_up || die "the lab is not up"
  local pid i
  pid=$(cat "$LAB_DIR/opennds.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do running "$pid" || break; sleep 0.05; done
  running "$pid" && die "opennds (pid $pid) did not stop on SIGTERM"
  # Its SIGTERM cleanup leaves chains behind (the new daemon then fails on "Chain already exists");
  # the lab itself puts no rules in tk-gw, so everything there is OpenNDS's.
  local table
  for table in filter nat mangle; do
    ip netns exec "$GW" iptables -t "$table" -F
    ip netns exec "$GW" iptables -t "$table" -X
  done
  rm -f "$NDS_SOCK" "$NDS_LOCK"
  ip netns exec "$GW" env PATH="$LAB_DIR/bin:$PATH" setsid opennds -f -c "$LAB_DIR/opennds.conf" \
    >>"$LAB_DIR/opennds.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/opennds.pid"
  wait_until "opennds to answer ndsctl json" 150 opennds_answers
  local i
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    ip netns exec "$(client_ns "$i")" ping -c 1 -W 1 "$GW_LAN_IP" >/dev/null 2>&1 || true
  done
  log "opennds restarted (pid $(cat "$LAB_DIR/opennds.pid"))"
}

# ---- status / exec ------------------------------------------------------------------------------
cmd_status() {
  need_root
  local i
  if is_up; then echo "state: up"; else echo "state: down"; fi
  echo "dir: $LAB_DIR"
  echo "namespaces: $(ip netns list | awk '{print $1}' | grep -E '^tk-' | tr '\n' ' ')"
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    echo "client $i: ns $(client_ns "$i") ip $(client_ip "$i") mac $(client_mac "$i")"
  done
  echo "upstream: http://$UP_IP/ and :8080 (GET /bytes/N, POST /sink); mint slot $UP_IP:3338"
  if pid_alive "$LAB_DIR/opennds.pid"; then
    echo "opennds: pid $(cat "$LAB_DIR/opennds.pid"), log $LAB_DIR/opennds.log"
    nds_json || true
    echo
  fi
}

cmd_exec() {
  need_root
  (($# >= 2)) || die "usage: lab.sh exec NS CMD..."
  local ns=$1
  shift
  [[ $ns =~ ^tk-(gw|up|c[0-9]+)$ ]] || die "not a lab namespace: $ns"
  exec ip netns exec "$ns" "$@"
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart-opennds) cmd_restart_opennds ;;
  exec) shift; cmd_exec "$@" ;;
  *) die "usage: lab.sh install|up|down|status|restart-opennds|exec NS CMD..." ;;
esac
