#!/usr/bin/env bash
# Real-gateway lab: Debian's OpenNDS in network namespaces, for tollkeeper's end-to-end tests.
# Two flavours, chosen with LAB_OPENNDS:
#   9   (default) Debian bookworm's OpenNDS 9.10 from the host, on iptables-legacy
#   10  Debian trixie's OpenNDS 10.3 on nftables, as OpenWrt 22.03+ runs it: from a trixie root
#       (debootstrap, cached in LAB_OPENNDS10_ROOT), chroot'ed inside tk-gw
#
#   lab.sh install            apt-get the Debian packages the lab needs (OpenNDS is never started on the host)
#   lab.sh up                 build the namespaces and start OpenNDS; idempotent
#   lab.sh down               remove everything `up` made; idempotent
#   lab.sh status             what is up, and OpenNDS's client list
#   lab.sh restart-opennds    SIGKILL OpenNDS and start it again as a service manager would (it forgets every client)
#   lab.sh alive              exit 0 while OpenNDS runs; else print how it ended (its log, the kernel's trap line)
#   lab.sh exec NS CMD...     run CMD in namespace NS (tk-gw, tk-up, tk-c1, tk-c2, ...)
#   lab.sh gw CMD...          run a gateway tool as tollkeeper does (ndsctl, nft, iptables: in tk-gw, in the OpenNDS 10 root)
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
# OpenNDS 10 (LAB_OPENNDS=10): its glibc is newer than bookworm's, so it runs from a Debian trixie
# root built by `install` with debootstrap (minbase + opennds, nftables, procps, iproute2) and kept
# in LAB_OPENNDS10_ROOT (default /var/cache/tollkeeper-lab/opennds10-root, ~210 MB; delete it to
# rebuild). The daemon runs `chroot ROOT /usr/bin/opennds` inside tk-gw in a private mount namespace
# (`unshare --mount`) where /proc, /sys (tk-gw's) and /dev are bound into the root: those mounts die
# with the daemon and the host never sees them. Its /tmp paths (ndsctl.sock, dhcp.leases, ndscids…)
# are ROOT/tmp, not the host's; its settings are OpenWrt's UCI file ROOT/etc/config/opennds, which
# `up` writes. ndsctl and nft run the same way: `ip netns exec tk-gw chroot ROOT ndsctl|nft …`.
# `down` empties ROOT/tmp and removes the UCI file; nothing else of the host is touched.
#
# Settings: LAB_OPENNDS (9 or 10, default 9), LAB_DIR (state dir, default /run/tollkeeper-lab),
# LAB_CLIENTS (default 2, at most 9), LAB_SHAPE (tbf rate on the LAN side, default 80mbit; "off" for
# none), LAB_ENGINE_PORT (default 2121), LAB_OPENNDS10_ROOT, LAB_DEBIAN_MIRROR (for debootstrap,
# default http://deb.debian.org/debian), LAB_OPENNDS_MAXCLIENTS (unset: OpenNDS's own limit of 250
# clients; the 250-clients overshoot bench needs more, docs/lab.md), LAB_OPENNDS9_CHECKINTERVAL
# (default 5; the 250-clients overshoot bench raises it, docs/lab.md), LAB_OPENNDS10_CHECKINTERVAL (default 600) and
# LAB_OPENNDS10_BINAUTH (default /bin/true): the two settings docs/operating.md asks for on
# OpenNDS 10, and why, in docs/lab.md. LAB_FAS=1 sends unpaid clients to tollkeeper's portal (FAS
# at level 1, the lines docs/operating.md gives operators: fasport LAB_ENGINE_PORT, faspath /portal,
# fas_secure_enabled 1, and a secret faskey: LAB_FASKEY, random unless given; with OpenNDS's built-in
# default key a client can authorise itself, docs/lab.md).
set -euo pipefail

LAB_DIR=${LAB_DIR:-/run/tollkeeper-lab}
LAB_CLIENTS=${LAB_CLIENTS:-2}
LAB_SHAPE=${LAB_SHAPE:-80mbit}
LAB_ENGINE_PORT=${LAB_ENGINE_PORT:-2121}
LAB_OPENNDS=${LAB_OPENNDS:-9}
LAB_OPENNDS10_ROOT=${LAB_OPENNDS10_ROOT:-/var/cache/tollkeeper-lab/opennds10-root}
LAB_DEBIAN_MIRROR=${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
LAB_OPENNDS_MAXCLIENTS=${LAB_OPENNDS_MAXCLIENTS:-}
LAB_OPENNDS9_CHECKINTERVAL=${LAB_OPENNDS9_CHECKINTERVAL:-5}
LAB_OPENNDS10_CHECKINTERVAL=${LAB_OPENNDS10_CHECKINTERVAL:-600}
LAB_OPENNDS10_BINAUTH=${LAB_OPENNDS10_BINAUTH:-/bin/true}
LAB_FAS=${LAB_FAS:-0}
LAB_FASKEY=${LAB_FASKEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab-opennds.sh
source "$HERE/lab-opennds.sh"
ROOT10=$LAB_OPENNDS10_ROOT
# What the trixie root holds besides minbase; a root built with another list is rebuilt.
ROOT10_PACKAGES=opennds,nftables,procps,iproute2,libmicrohttpd12t64
ROOT10_STAMP=$ROOT10/.tollkeeper-lab-packages

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

flavour_ok() { [[ $LAB_OPENNDS == 9 || $LAB_OPENNDS == 10 ]] || die "LAB_OPENNDS must be 9 or 10, not $LAB_OPENNDS"; }

cmd_install() {
  need_root
  flavour_ok
  local pkgs=(opennds iptables nftables iproute2 iputils-ping curl procps)
  if [[ $LAB_OPENNDS == 10 ]]; then pkgs=(debootstrap iproute2 iputils-ping curl procps util-linux); fi
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  command -v node >/dev/null || die "node is needed for the upstream web server and is not on PATH"
  if ((${#missing[@]} == 0)); then
    log "already installed: ${pkgs[*]}"
    if [[ $LAB_OPENNDS == 10 ]]; then build_root10; fi
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
  if [[ $LAB_OPENNDS == 10 ]]; then build_root10; return 0; fi
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now opennds.service >/dev/null 2>&1 || true
  fi
}

# The trixie root for OpenNDS 10. debootstrap mounts /proc and /sys inside the root while it works:
# in a private mount namespace, so that no mount reaches the host even if it fails half way. Nothing
# in the root is started (Debian's opennds has only a systemd unit, and no systemd runs in there).
build_root10() {
  if [[ -f $ROOT10_STAMP && $(cat "$ROOT10_STAMP") == "$ROOT10_PACKAGES" ]]; then
    log "OpenNDS 10 root: $ROOT10 ($(chroot "$ROOT10" dpkg-query -W -f='${Version}' opennds))"
    return 0
  fi
  local staging=$ROOT10.building
  log "building the OpenNDS 10 root (debootstrap trixie from $LAB_DEBIAN_MIRROR) into $ROOT10"
  mkdir -p "$(dirname "$ROOT10")"
  rm -rf -- "$staging"
  unshare --mount --propagation private \
    debootstrap --variant=minbase --include="$ROOT10_PACKAGES" trixie "$staging" "$LAB_DEBIAN_MIRROR" \
    >"$staging.log" 2>&1 || die "debootstrap failed; see $staging.log"
  rm -f "$staging"/var/cache/apt/archives/*.deb
  echo "$ROOT10_PACKAGES" >"$staging/.tollkeeper-lab-packages"
  rm -rf -- "$ROOT10"
  mv "$staging" "$ROOT10"
  rm -f "$staging.log"
  log "OpenNDS 10 root ready: $(chroot "$ROOT10" dpkg-query -W -f='${Version}' opennds)"
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

# The flavour this command acts on: `up` brings up LAB_OPENNDS; the others act on the lab that is up.
ACTIVE=$LAB_OPENNDS
lab_flavour() { cat "$LAB_DIR/flavour" 2>/dev/null || echo "$LAB_OPENNDS"; }

# A gateway tool (ndsctl, nft, iptables) as tollkeeper runs it: in tk-gw, and in OpenNDS 10's root.
gw_tool() {
  if [[ $ACTIVE == 10 ]]; then
    ip netns exec "$GW" chroot "$ROOT10" "$@"
  else
    ip netns exec "$GW" "$@"
  fi
}
nds_json() { retry_while_busy gw_tool ndsctl json "$@"; }
# Checks read all of nds_json with `grep -c`, not `grep -q`: with many clients ndsctl is still
# writing when `grep -q` exits, dies of SIGPIPE, and pipefail would call the lab down.

is_up() {
  [[ $(lab_flavour) == "$ACTIVE" ]] && pid_alive "$LAB_DIR/opennds.pid" && pid_alive "$LAB_DIR/upstream.pid" &&
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
  clean_root10
}

# What OpenNDS 10 and `up` leave in the trixie root: its /tmp, its UCI file. A mount left under the
# root (there should be none: they live in the daemon's own mount namespace) is detached.
clean_root10() {
  [[ -d $ROOT10 ]] || return 0
  local mount
  for mount in $(awk -v root="$ROOT10/" 'index($2, root) == 1 {print $2}' /proc/self/mounts | sort -r); do
    log "detaching $mount"
    umount -l "$mount" || true
  done
  find "$ROOT10/tmp" -mindepth 1 -delete 2>/dev/null || true
  rm -f "$ROOT10/etc/config/opennds"
}

# ---- up -----------------------------------------------------------------------------------------
check_free() {
  local path paths=("$LEASES" "$NDS_SOCK" "$NDS_LOCK" "$NETNS_ETC")
  # OpenNDS 10's /tmp is the root's own; the host's /tmp and /etc are not used.
  if [[ $ACTIVE == 10 ]]; then paths=(); fi
  for path in "${paths[@]}"; do
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
  local expiry i leases=$LEASES
  expiry=$(($(date +%s) + 365 * 24 * 3600))
  if [[ $ACTIVE == 10 ]]; then
    leases=$ROOT10$LEASES
    : >"$leases"
  else
    : >"$leases" && own "$leases"
  fi
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    echo "$expiry $(client_mac "$i") $(client_ip "$i") tk-c$i *" >>"$leases"
  done
}

write_opennds_conf() {
  cat >"$LAB_DIR/opennds.conf" <<EOF
GatewayInterface $BRIDGE
GatewayName tollkeeper-lab
GatewayPort 2050
checkinterval $LAB_OPENNDS9_CHECKINTERVAL
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
  if [[ -n $LAB_OPENNDS_MAXCLIENTS ]]; then
    printf 'MaxClients %s\n' "$LAB_OPENNDS_MAXCLIENTS" >>"$LAB_DIR/opennds.conf"
  fi
  if [[ $LAB_FAS == 1 ]]; then
    printf 'fasport %s\nfaspath /portal\nfas_secure_enabled 1\nfaskey %s\n' "$LAB_ENGINE_PORT" "$LAB_FASKEY" >>"$LAB_DIR/opennds.conf"
  fi
}

# OpenNDS 10 takes its settings from OpenWrt's UCI file (its helper script reads it with grep and
# awk where `uci` is missing); the rule sets are UCI lists there.
write_opennds10_uci() {
  mkdir -p "$ROOT10/etc/config"
  cat >"$ROOT10/etc/config/opennds" <<EOF
config opennds 'setup'
	option enabled '1'
	option gatewayinterface '$BRIDGE'
	option gatewayname 'tollkeeper-lab'
	option gatewayport '2050'
	option checkinterval '$LAB_OPENNDS10_CHECKINTERVAL'
	option allow_preemptive_authentication '1'
	option gatewayfqdn 'disable'
	option dhcp_default_url_enable '0'
	option debuglevel '1'
	option binauth '$LAB_OPENNDS10_BINAUTH'
	list users_to_router 'allow udp port 53'
	list users_to_router 'allow tcp port 53'
	list users_to_router 'allow udp port 67'
	list users_to_router 'allow tcp port $LAB_ENGINE_PORT'
EOF
  if [[ -n $LAB_OPENNDS_MAXCLIENTS ]]; then
    printf "\toption maxclients '%s'\n" "$LAB_OPENNDS_MAXCLIENTS" >>"$ROOT10/etc/config/opennds"
  fi
  if [[ $LAB_FAS == 1 ]]; then
    printf "\toption fasport '%s'\n\toption faspath '/portal'\n\toption fas_secure_enabled '1'\n\toption faskey '%s'\n" "$LAB_ENGINE_PORT" "$LAB_FASKEY" >>"$ROOT10/etc/config/opennds"
  fi
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

# Every process here execs the next, so the pid recorded is the daemon's own.
launch_opennds() {
  if [[ $ACTIVE == 10 ]]; then
    # OpenNDS empties it too, as it starts; leave_first_pass_marker watches it being written anew.
    rm -rf "$ROOT10/tmp/ndscids"
    ip netns exec "$GW" setsid unshare --mount --propagation private bash -c '
      root=$1
      mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" && mount --rbind /dev "$root/dev" || exit 1
      exec chroot "$root" /usr/bin/opennds -f -d 1' opennds10 "$ROOT10" \
      >>"$LAB_DIR/opennds.log" 2>&1 </dev/null &
  else
    ip netns exec "$GW" env PATH="$LAB_DIR/bin:$PATH" setsid opennds -f -c "$LAB_DIR/opennds.conf" \
      >>"$LAB_DIR/opennds.log" 2>&1 </dev/null &
  fi
  echo $! >"$LAB_DIR/opennds.pid"
  if [[ $ACTIVE == 10 ]]; then leave_first_pass_marker "" "$(client_mac "$LAB_CLIENTS")"; fi
}

start_opennds() {
  if [[ $ACTIVE == 10 ]]; then
    write_opennds10_uci
  else
    own "$NDS_SOCK"
    own "$NDS_LOCK"
    write_shims
  fi
  : >"$LAB_DIR/opennds.log"
  launch_opennds
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

# For lab-opennds.sh, which serves lab-routers.sh's two gateways too: this lab has one.
opennds_alive() {
  pid_alive "$LAB_DIR/opennds.pid" || die "opennds exited; $LAB_DIR/opennds.log ends: $(tail -5 "$LAB_DIR/opennds.log")"
}
on_gateway() { "${@:2}"; }

opennds_answers() {
  opennds_alive
  nds_json | grep -c client_list_length >/dev/null
}

# OpenNDS 10 answers `ndsctl json` while its start-up scripts still run, and refuses `ndsctl auth`
# until they are done (measured: the first auth after `up` failed, the next one passed). Its
# checker makes its first pass as it starts (then one each checkinterval), and an auth stamped
# between that pass reading its clock and taking the client list can be its division by zero
# (docs/lab.md); one lab `up` died of it at its first auth. So the lab waits for that pass to end
# (lab-opennds.sh, await_first_pass), then for the probe client authorised: by the first pass, which
# await_first_pass asks to, or by an auth now. Then it deauthorises it.
opennds10_authorises() {
  local mac
  mac=$(client_mac "$1")
  nds_json "$mac" | grep -c '"state":"Authenticated"' >/dev/null ||
    retry_while_busy gw_tool ndsctl auth "$mac" 0 0 0 0 0 labprobe | grep -c authenticated >/dev/null || return 1
  retry_while_busy gw_tool ndsctl deauth "$mac" >/dev/null || true
}

# What a phone does when it joins the Wi-Fi: an HTTP request that OpenNDS redirects to its splash
# page, which puts the phone in OpenNDS's client list. Without it every first `ndsctl auth` takes
# OpenNDS's preemptive path, which holds the client list for ~0.5 s of helper scripts before it
# stamps the client's rate window; OpenNDS 9.10's checker thread, whose clock was read before it
# waited for that lock, then divides by (its time - the window's start + 1) = 0 and dies of SIGFPE
# (auth.c, fw_sync_with_authenticated). See docs/lab.md.
captive_portal_check() {
  local mac
  mac=$(client_mac "$1")
  ip netns exec "$(client_ns "$1")" curl -s -o /dev/null --max-time 5 "http://$UP_IP/" || true
  nds_json "$mac" | grep -c '"state"' >/dev/null
}

# Preemptive authentication (an auth for a client OpenNDS has not seen) needs the gateway to have a
# neighbour entry for the client.
ping_gateway_from_clients() {
  local i
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    ip netns exec "$(client_ns "$i")" ping -c 1 -W 1 "$GW_LAN_IP" >/dev/null 2>&1 || true
  done
}

# After launch_opennds: OpenNDS answering ndsctl and, for 10, its first client check over (with the
# ndsctl lock a restart holds let go after it) and a client authorised. The probe uses the last
# client, which the restart test leaves unpaid.
await_opennds_ready() {
  if [[ $ACTIVE == 10 ]]; then
    await_first_pass ""
    release_ndsctl_lock "" "$LAB_DIR"
  fi
  wait_until "opennds to answer ndsctl json" 150 opennds_answers
  if [[ $ACTIVE == 10 ]]; then
    wait_until "opennds 10 to authorise a client" 100 opennds10_authorises "$LAB_CLIENTS"
  fi
}

cmd_up() {
  need_root
  [[ $LAB_CLIENTS =~ ^[1-9]$ ]] || die "LAB_CLIENTS must be 1..9"
  [[ -z $LAB_OPENNDS_MAXCLIENTS || $LAB_OPENNDS_MAXCLIENTS =~ ^[1-9][0-9]{0,4}$ ]] || die "LAB_OPENNDS_MAXCLIENTS must be a number of clients"
  if is_up; then
    log "already up"
    return 0
  fi
  cmd_down
  check_free
  if [[ $ACTIVE == 10 && ! -f $ROOT10_STAMP ]]; then die "no OpenNDS 10 root at $ROOT10: run LAB_OPENNDS=10 lab.sh install"; fi
  mkdir -p "$LAB_DIR"
  : >"$LAB_DIR/owned"
  echo "$ACTIVE" >"$LAB_DIR/flavour"
  if [[ $ACTIVE == 9 ]]; then own_side_paths; fi
  trap 'log "up failed; tearing down"; cmd_down' EXIT
  build_namespaces
  if [[ $ACTIVE == 9 ]]; then write_legacy_alternatives; fi
  write_leases
  write_opennds_conf
  start_upstream
  wait_until "the upstream web server" 100 upstream_answers
  ping_gateway_from_clients
  start_opennds
  await_opennds_ready
  local i
  for ((i = 1; i <= LAB_CLIENTS; i++)); do
    wait_until "client $i's captive-portal check to reach OpenNDS" 100 captive_portal_check "$i"
  done
  trap - EXIT
  log "up: OpenNDS $ACTIVE$( [[ $ACTIVE == 10 ]] && echo " (root $ROOT10)"), gateway $GW ($GW_LAN_IP, $GW_WAN_IP), upstream $UP ($UP_IP:80), $LAB_CLIENTS clients"
}

# Same daemon, same config, as a service manager restarts it after a crash: SIGKILL (what OpenNDS
# 9.10's SIGFPE leaves is the same), then, for 9.10, deploy/opennds-cleanup.sh (the ExecStartPre an
# operator installs: 9.10 refuses to start while its chains exist), then the start sequence of `up`.
# Every client comes back unauthenticated.
cmd_restart_opennds() {
  need_root
  ACTIVE=$(lab_flavour)
  is_up || die "the lab is not up"
  local pid i
  pid=$(cat "$LAB_DIR/opennds.pid")
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do running "$pid" || break; sleep 0.05; done
  running "$pid" && die "opennds (pid $pid) did not die of SIGKILL"
  if [[ $ACTIVE == 10 ]]; then
    # OpenNDS 10 deletes its own tables when it starts; only its socket and lock are stale.
    rm -f "$ROOT10$NDS_SOCK" "$ROOT10$NDS_LOCK"
    hold_ndsctl_lock "" "$LAB_DIR"
  else
    ip netns exec "$GW" sh "$HERE/../../deploy/opennds-cleanup.sh"
    rm -f "$NDS_SOCK" "$NDS_LOCK"
  fi
  ping_gateway_from_clients
  launch_opennds
  await_opennds_ready
  log "opennds restarted (pid $(cat "$LAB_DIR/opennds.pid"))"
}

# ---- status / exec ------------------------------------------------------------------------------
cmd_status() {
  need_root
  local i
  ACTIVE=$(lab_flavour)
  if is_up; then echo "state: up"; else echo "state: down"; fi
  echo "opennds flavour: $ACTIVE$( [[ $ACTIVE == 10 ]] && echo " (root $ROOT10)")"
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

# Exit 0 while the lab's OpenNDS runs; otherwise say how it ended, for a test that failed with it.
cmd_alive() {
  need_root
  pid_alive "$LAB_DIR/opennds.pid" && return 0
  echo "OpenNDS (pid $(cat "$LAB_DIR/opennds.pid" 2>/dev/null || echo '?')) is not running; its log ends:"
  tail -5 "$LAB_DIR/opennds.log" 2>/dev/null || true
  echo "kernel messages about it:"
  dmesg 2>/dev/null | grep -E 'opennds\[' | tail -3 || true
  return 1
}

cmd_exec() {
  need_root
  (($# >= 2)) || die "usage: lab.sh exec NS CMD..."
  local ns=$1
  shift
  [[ $ns =~ ^tk-(gw|up|c[0-9]+)$ ]] || die "not a lab namespace: $ns"
  exec ip netns exec "$ns" "$@"
}

# A gateway tool as tollkeeper runs it: `lab.sh gw ndsctl json`, `lab.sh gw nft list ruleset`.
cmd_gw() {
  need_root
  (($# >= 1)) || die "usage: lab.sh gw CMD..."
  ACTIVE=$(lab_flavour)
  gw_tool "$@"
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  up) flavour_ok; cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart-opennds) cmd_restart_opennds ;;
  alive) cmd_alive ;;
  exec) shift; cmd_exec "$@" ;;
  gw) shift; cmd_gw "$@" ;;
  *) die "usage: lab.sh install|up|down|status|restart-opennds|alive|exec NS CMD...|gw CMD..." ;;
esac
