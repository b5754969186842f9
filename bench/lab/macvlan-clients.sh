#!/usr/bin/env bash
# Extends a running lab (test/gateway/lab.sh up) with N customers, each a macvlan
# endpoint with its own MAC and IP, for bench/lab/metering-cost.ts. Needs root.
#
#   bench/lab/macvlan-clients.sh up N      add N endpoints (1..250) in namespace tk-mv
#   bench/lab/macvlan-clients.sh down      remove tk-mv, its routes and its lease lines
#   bench/lab/macvlan-clients.sh offline K take the first K endpoints off the air: link down and
#                                          their neighbour entries deleted at the gateway (a sleeping phone)
#
# Layout (only 198.18.0.0/15): a second LAN subnet 198.18.1.0/24 on the lab's bridge br-tk
# (gateway 198.18.1.1); measured: OpenNDS 9.10 authorises, counts and forwards clients on it like
# those of the bridge's first subnet (its rules match on MAC and IP, not on the subnet). Endpoint K: interface mvK, MAC 02:6d:76:00:HH:LL, IP 198.18.1.(K+1).
# Per the shared notes' opennds.md: macvlan endpoints on one link need source routing (one table
# per endpoint) and arp_ignore=1 / arp_announce=2, otherwise every IP answers with the first MAC.
# OpenNDS refuses an IP without a lease line, so each endpoint gets one in /tmp/dhcp.leases (the
# OpenNDS 10 lab's is in its root: run with LAB_OPENNDS=10, as lab.sh).
set -euo pipefail

GW=tk-gw
UP=tk-up
NS=tk-mv
BRIDGE=br-tk
SUBNET=198.18.1
GW_IP=198.18.1.1
GW_WAN_IP=198.19.0.1
LEASES=/tmp/dhcp.leases
if [[ ${LAB_OPENNDS:-9} == 10 ]]; then LEASES=${LAB_OPENNDS10_ROOT:-/var/cache/tollkeeper-lab/opennds10-root}$LEASES; fi
TABLE_BASE=1000

log() { printf 'macvlan-clients: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root"

mac_of() { printf '02:6d:76:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
ip_of() { echo "$SUBNET.$(($1 + 1))"; }

cmd_down() {
  if ip netns list | awk '{print $1}' | grep -qx "$NS"; then ip netns del "$NS"; fi
  ip -n "$GW" link del vmv 2>/dev/null || true
  ip -n "$GW" addr del "$GW_IP/24" dev "$BRIDGE" 2>/dev/null || true
  ip -n "$UP" route del "$SUBNET.0/24" via "$GW_WAN_IP" 2>/dev/null || true
  if [[ -f $LEASES ]]; then sed -i "/ $SUBNET\.[0-9]* tk-mv/d" "$LEASES"; fi
}

cmd_up() {
  local n=$1 k mac ip table
  [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 250)) || die "N must be 1..250"
  ip netns list | awk '{print $1}' | grep -qx "$GW" || die "the lab is not up (test/gateway/lab.sh up)"
  cmd_down
  ip -n "$GW" addr add "$GW_IP/24" dev "$BRIDGE"
  ip -n "$UP" route add "$SUBNET.0/24" via "$GW_WAN_IP"
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$GW" link add vmv type veth peer name eth0 netns "$NS"
  ip -n "$GW" link set vmv master "$BRIDGE" up
  ip -n "$NS" link set eth0 up
  ip netns exec "$NS" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  local expiry=$(($(date +%s) + 365 * 24 * 3600))
  for ((k = 1; k <= n; k++)); do
    mac=$(mac_of "$k")
    ip=$(ip_of "$k")
    table=$((TABLE_BASE + k))
    ip -n "$NS" link add "mv$k" link eth0 address "$mac" type macvlan mode bridge
    ip netns exec "$NS" sysctl -qw "net.ipv4.conf.mv$k.arp_ignore=1" "net.ipv4.conf.mv$k.arp_announce=2"
    ip -n "$NS" addr add "$ip/24" dev "mv$k"
    ip -n "$NS" link set "mv$k" up
    ip -n "$NS" route add "$SUBNET.0/24" dev "mv$k" src "$ip" table "$table"
    ip -n "$NS" route add default via "$GW_IP" dev "mv$k" table "$table"
    ip -n "$NS" rule add from "$ip" table "$table"
    echo "$expiry $mac $ip tk-mv$k *" >>"$LEASES"
  done
  # Preemptive authentication needs a neighbour entry for each client at the gateway. OpenNDS's
  # firewall answers an unpaid client's ping with "port unreachable", so ping's exit status says
  # nothing: the gateway's neighbour table is checked instead.
  for ((k = 1; k <= n; k++)); do
    ip netns exec "$NS" ping -c 1 -W 1 -I "$(ip_of "$k")" "$GW_IP" >/dev/null 2>&1 || true
  done
  local known
  known=$(ip -n "$GW" neigh show dev "$BRIDGE" | grep -c " lladdr 02:6d:76:" || true)
  ((known >= n)) || log "only $known of $n endpoints have a neighbour entry at the gateway"
  log "up: $n endpoints in $NS, $(ip_of 1) .. $(ip_of "$n")"
}

cmd_offline() {
  local count=$1 k
  for ((k = 1; k <= count; k++)); do
    ip -n "$NS" link set "mv$k" down
    ip -n "$GW" neigh del "$(ip_of "$k")" dev "$BRIDGE" 2>/dev/null || true
  done
  log "offline: endpoints 1..$count"
}

case "${1:-}" in
  up) cmd_up "${2:?N}" ;;
  down) cmd_down ;;
  offline) cmd_offline "${2:?K}" ;;
  *) die "usage: macvlan-clients.sh up N | down | offline K" ;;
esac
