#!/usr/bin/env bash
# Two-router lab (issue 18): two gateways, each with Debian's OpenNDS and Debian's sshd in its own
# private mount namespace, and tollkeeper in a controller namespace reaching both over ssh across a
# venue network; one phone whose single MAC can move from gateway A's LAN to gateway B's.
# Its own script beside lab.sh (the single-gateway lab), whose conventions it keeps: lab.sh's names,
# host paths (/tmp/ndsctl.sock, /tmp/dhcp.leases) and one-gateway functions are used by every other
# suite, and a second gateway would thread through all of them.
#
#   lab-routers.sh up                  build the namespaces, start both OpenNDS and sshd; idempotent
#   lab-routers.sh down                remove everything `up` made; idempotent
#   lab-routers.sh status              what is up, where the phone is, each OpenNDS's client list
#   lab-routers.sh move-phone a|b      the phone leaves its gateway's LAN and joins the other's, same MAC
#   lab-routers.sh restart-opennds a|b SIGKILL that gateway's OpenNDS and start it again (it forgets every client)
#   lab-routers.sh kill-ssh a|b        SIGKILL every sshd serving a connection on that gateway (not its listener)
#   lab-routers.sh alive               exit 0 while both OpenNDS run; else say how one ended
#   lab-routers.sh gw a|b CMD...       run CMD on that gateway as its sshd's sessions do (same netns, mount ns, tool root)
#   lab-routers.sh exec NS CMD...      run CMD in a namespace of this lab (tkr-…)
#
# Install with `lab.sh install` (same packages, same OpenNDS 10 root) plus openssh-server.
# Topology (only 198.18.0.0/15):
#   tkr-up     br-venue 198.19.0.2/24: the venue network and the internet: web server :80 :8080, mint slot :3338
#   tkr-ctl    198.19.0.3: tollkeeper (:2121, open to unpaid clients of both gateways)
#   tkr-a      wan0 198.19.0.11, br-lan 198.18.1.1/24: OpenNDS, sshd on 198.19.0.11:22
#   tkr-b      wan0 198.19.0.12, br-lan 198.18.2.1/24: OpenNDS, sshd on 198.19.0.12:22
#   tkr-phone  MAC 02:74:6b:00:01:01; link wa to A's LAN (198.18.1.11), wb to B's (198.18.2.11); one up at a time
#   tkr-a1     MAC 02:74:6b:00:01:0a, 198.18.1.12 (stays on A)   tkr-b1  MAC 02:74:6b:00:01:0b, 198.18.2.12 (stays on B)
# Each gateway's OpenNDS, its sshd and `gw` share one mount namespace, held by a `sleep` (its pid in
# LAB_DIR/<gw>/holder.pid), made inside `ip netns exec tkr-<gw>` (so /etc/netns/tkr-<gw> is bound
# over /etc, as lab.sh does for iptables-legacy) with a tmpfs on /tmp: /tmp/ndsctl.sock and
# /tmp/dhcp.leases are each gateway's own and the host's /tmp is not used. For OpenNDS 10 the trixie
# root's /tmp and /etc/config (its UCI file) get a tmpfs each in that namespace too; the root itself
# is shared read-only in effect. sshd's sessions put LAB_DIR/<gw>/bin first on PATH: wrappers that
# append each ndsctl, iptables, nft and chroot call to LAB_DIR/<gw>/commands.log, then exec the real
# tool (tests check what the meter ran on the router).
#
# Settings: LAB_OPENNDS (9 or 10), LAB_ROUTERS_DIR (default /run/tollkeeper-lab-routers), LAB_SHAPE
# (tbf rate on each LAN, default 80mbit), LAB_OPENNDS10_ROOT, LAB_OPENNDS10_CHECKINTERVAL (600),
# LAB_OPENNDS9_CHECKINTERVAL (5), LAB_OPENNDS10_BINAUTH (/bin/true): as in lab.sh and docs/lab.md.
set -euo pipefail

LAB_DIR=${LAB_ROUTERS_DIR:-/run/tollkeeper-lab-routers}
LAB_SHAPE=${LAB_SHAPE:-80mbit}
LAB_OPENNDS=${LAB_OPENNDS:-9}
ROOT10=${LAB_OPENNDS10_ROOT:-/var/cache/tollkeeper-lab/opennds10-root}
LAB_OPENNDS9_CHECKINTERVAL=${LAB_OPENNDS9_CHECKINTERVAL:-5}
LAB_OPENNDS10_CHECKINTERVAL=${LAB_OPENNDS10_CHECKINTERVAL:-600}
LAB_OPENNDS10_BINAUTH=${LAB_OPENNDS10_BINAUTH:-/bin/true}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab-opennds.sh
source "$HERE/lab-opennds.sh"

ENGINE_PORT=2121
UP=tkr-up
CTL=tkr-ctl
PHONE=tkr-phone
VENUE_PREFIX=198.19.0
UP_IP=198.19.0.2
CTL_IP=198.19.0.3
PHONE_MAC=02:74:6b:00:01:01
GATEWAYS=(a b)
LEASES=/tmp/dhcp.leases

log() { printf 'lab-routers: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

gw_ok() { [[ ${1:-} == a || ${1:-} == b ]] || die "no gateway ${1:-}: a or b"; }
gw_ns() { echo "tkr-$1"; }
gw_index() { [[ $1 == a ]] && echo 1 || echo 2; }
gw_lan_ip() { echo "198.18.$(gw_index "$1").1"; }
gw_wan_ip() { echo "$VENUE_PREFIX.$((10 + $(gw_index "$1")))"; }
phone_ip() { echo "198.18.$(gw_index "$1").11"; }
resident_ns() { echo "tkr-${1}1"; }
resident_ip() { echo "198.18.$(gw_index "$1").12"; }
resident_mac() { echo "02:74:6b:00:01:0$1"; }
gw_dir() { echo "$LAB_DIR/$1"; }
holder() { cat "$(gw_dir "$1")/holder.pid" 2>/dev/null; }
flavour() { cat "$LAB_DIR/flavour" 2>/dev/null || echo "$LAB_OPENNDS"; }

running() {
  local state
  state=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}
pid_alive() { [[ -f $1 ]] && running "$(cat "$1")"; }

# In gateway $1's network and mount namespaces.
in_gw() {
  local gw=$1 pid
  shift
  pid=$(holder "$gw") || die "gateway $gw is not up"
  nsenter -t "$pid" -m -n -- "$@"
}
# A gateway tool as its sshd sessions run it: in OpenNDS 10's root for the 10 flavour.
gw_tool() {
  local gw=$1
  shift
  if [[ $(flavour) == 10 ]]; then in_gw "$gw" chroot "$ROOT10" "$@"; else in_gw "$gw" "$@"; fi
}
nds_json() { retry_while_busy gw_tool "$1" ndsctl json "${@:2}"; }
# For lab-opennds.sh.
on_gateway() { in_gw "$@"; }

# ---- down ---------------------------------------------------------------------------------------
cmd_down() {
  need_root
  local ns path
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^tkr-(up|ctl|phone|a|b|a1|b1)$' || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  done
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^tkr-(up|ctl|phone|a|b|a1|b1)$' || true); do
    ip netns del "$ns"
  done
  if [[ -f $LAB_DIR/owned ]]; then
    tac "$LAB_DIR/owned" | while read -r path; do
      if [[ $path == /etc/netns || $path == /run/sshd ]]; then rmdir "$path" 2>/dev/null || true; else rm -rf -- "$path"; fi
    done
  fi
  rm -rf -- "$LAB_DIR"
}

# ---- up -----------------------------------------------------------------------------------------
own() { echo "$1" >>"$LAB_DIR/owned"; }

veth_into() { # veth_into NS_A IF_A NS_B IF_B
  ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
}

build_network() {
  local gw ns
  for ns in $UP $CTL $PHONE tkr-a tkr-b tkr-a1 tkr-b1; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
  ip -n $UP link add br-venue type bridge
  ip -n $UP addr add "$UP_IP/24" dev br-venue
  ip -n $UP link set br-venue up
  veth_into $UP v-ctl $CTL eth0
  ip -n $UP link set v-ctl master br-venue up
  ip -n $CTL addr add "$CTL_IP/24" dev eth0
  ip -n $CTL link set eth0 up
  for gw in "${GATEWAYS[@]}"; do
    ns=$(gw_ns "$gw")
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
    veth_into $UP "v-$gw" "$ns" wan0
    ip -n $UP link set "v-$gw" master br-venue up
    ip -n "$ns" addr add "$(gw_wan_ip "$gw")/24" dev wan0
    ip -n "$ns" link set wan0 up
    ip -n "$ns" route add default via "$UP_IP"
    ip -n $UP route add "198.18.$(gw_index "$gw").0/24" via "$(gw_wan_ip "$gw")"
    ip -n $CTL route add "198.18.$(gw_index "$gw").0/24" via "$(gw_wan_ip "$gw")"
    ip -n "$ns" link add br-lan type bridge
    ip -n "$ns" addr add "$(gw_lan_ip "$gw")/24" dev br-lan
    # The resident client, always on this gateway.
    veth_into "$ns" vr "$(resident_ns "$gw")" eth0
    ip -n "$ns" link set vr master br-lan up
    ip -n "$(resident_ns "$gw")" link set eth0 address "$(resident_mac "$gw")"
    ip -n "$(resident_ns "$gw")" addr add "$(resident_ip "$gw")/24" dev eth0
    ip -n "$(resident_ns "$gw")" link set eth0 up
    ip -n "$(resident_ns "$gw")" route add default via "$(gw_lan_ip "$gw")"
    # The phone's link to this gateway's LAN; down until the phone is here.
    veth_into "$ns" vp $PHONE "w$gw"
    ip -n "$ns" link set vp master br-lan up
    ip -n $PHONE link set "w$gw" address "$PHONE_MAC"
    ip -n "$ns" link set br-lan up
    if [[ $LAB_SHAPE != off ]]; then
      ip netns exec "$ns" tc qdisc replace dev br-lan root tbf rate "$LAB_SHAPE" burst 64kb latency 50ms
    fi
  done
}

# /etc/netns/tkr-<gw>: iptables-legacy for OpenNDS 9.10 (see lab.sh), and copies of the files OpenNDS's dnsconfig.sh edits.
write_netns_etc() {
  local gw=$1 etc fam tool
  etc=/etc/netns/$(gw_ns "$gw")
  if [[ ! -d /etc/netns ]]; then mkdir /etc/netns && own /etc/netns; fi
  [[ -e $etc ]] && die "$etc exists and is not this lab's"
  mkdir "$etc" && own "$etc"
  cp -a /etc/alternatives "$etc/alternatives"
  for fam in iptables ip6tables; do
    for tool in "" -restore -save; do ln -sfn "/usr/sbin/$fam-legacy$tool" "$etc/alternatives/$fam$tool"; done
  done
  cp -p /etc/hosts "$etc/hosts"
  if [[ -f /etc/dnsmasq.conf ]]; then cp -p /etc/dnsmasq.conf "$etc/dnsmasq.conf"; fi
}

# The gateway's own mount namespace, kept by a sleep; everything of the gateway enters it.
start_holder() {
  local gw=$1 dir i
  dir=$(gw_dir "$gw")
  ip netns exec "$(gw_ns "$gw")" setsid unshare --mount --propagation private sh -c '
    mount -t tmpfs -o mode=1777 tkr-tmp /tmp || exit 1
    if [ "$1" = 10 ]; then
      mount -t tmpfs -o mode=1777 tkr-root-tmp "$2/tmp" && mkdir -p "$2/etc/config" && mount -t tmpfs tkr-uci "$2/etc/config" || exit 1
    fi
    exec sleep infinity' holder "$(flavour)" "$ROOT10" </dev/null >/dev/null 2>"$dir/holder.log" &
  echo $! >"$dir/holder.pid"
  for ((i = 0; i < 100; i++)); do
    [[ $(cat "/proc/$!/comm" 2>/dev/null) == sleep ]] && return 0
    running "$!" || break
    sleep 0.05
  done
  die "gateway $gw's mount namespace did not come up: $(cat "$dir/holder.log")"
}

write_leases() { # write_leases GW MAC IP NAME: a lease line as the gateway's DHCP server would write it
  local file=$LEASES expiry
  [[ $(flavour) == 10 ]] && file=$ROOT10$LEASES
  expiry=$(($(date +%s) + 365 * 24 * 3600))
  in_gw "$1" sh -c 'grep -qs " $2 " "$1" || echo "$3 $2 $4 $5 *" >>"$1"' lease "$file" "$2" "$expiry" "$3" "$4"
}

write_opennds_config() {
  local gw=$1 dir
  dir=$(gw_dir "$gw")
  if [[ $(flavour) == 10 ]]; then
    in_gw "$gw" sh -c 'cat >"$1/etc/config/opennds"' uci "$ROOT10" <<EOF
config opennds 'setup'
	option enabled '1'
	option gatewayinterface 'br-lan'
	option gatewayname 'tollkeeper-lab-$gw'
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
	list preauthenticated_users 'allow tcp port $ENGINE_PORT to $CTL_IP'
EOF
  else
    cat >"$dir/opennds.conf" <<EOF
GatewayInterface br-lan
GatewayName tollkeeper-lab-$gw
GatewayPort 2050
checkinterval $LAB_OPENNDS9_CHECKINTERVAL
allow_preemptive_authentication 1
gatewayfqdn disable
dhcp_default_url_enable 0
FirewallRuleSet authenticated-users {
}
FirewallRuleSet preauthenticated-users {
    FirewallRule allow tcp port $ENGINE_PORT to $CTL_IP
}
FirewallRuleSet users-to-router {
    FirewallRule allow udp port 53
    FirewallRule allow tcp port 53
    FirewallRule allow udp port 67
}
EOF
  fi
}

launch_opennds() {
  local gw=$1 dir
  dir=$(gw_dir "$gw")
  local h
  h=$(holder "$gw")
  # nsenter, setsid, unshare and chroot each exec the next: the pid recorded is the daemon's own.
  if [[ $(flavour) == 10 ]]; then
    # OpenNDS empties it too, as it starts; leave_first_pass_marker watches it being written anew.
    in_gw "$gw" rm -rf "$ROOT10/tmp/ndscids"
    nsenter -t "$h" -m -n -- setsid unshare --mount --propagation private bash -c '
      root=$1
      mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" && mount --rbind /dev "$root/dev" || exit 1
      exec chroot "$root" /usr/bin/opennds -f -d 1' opennds10 "$ROOT10" >>"$dir/opennds.log" 2>&1 </dev/null &
  else
    nsenter -t "$h" -m -n -- env PATH="$LAB_DIR/shims:$PATH" setsid opennds -f -c "$dir/opennds.conf" >>"$dir/opennds.log" 2>&1 </dev/null &
  fi
  echo $! >"$dir/opennds.pid"
  if [[ $(flavour) == 10 ]]; then leave_first_pass_marker "$gw" "$(resident_mac "$gw")"; fi
}

# What each sshd session finds first on PATH: the real tool, after a line in commands.log.
write_audit_wrappers() {
  local gw=$1 dir tool real
  dir=$(gw_dir "$gw")
  mkdir -p "$dir/bin"
  : >"$dir/commands.log"
  for tool in ndsctl iptables nft chroot; do
    # OpenNDS 10's flavour has ndsctl, iptables and nft only in its root, reached through chroot.
    real=$(command -v "$tool") || continue
    printf '#!/bin/sh\nprintf "%%s\\n" "%s $*" >>%s\nexec %s "$@"\n' "$tool" "$dir/commands.log" "$real" >"$dir/bin/$tool"
    chmod 755 "$dir/bin/$tool"
  done
}

start_sshd() {
  local gw=$1 dir
  dir=$(gw_dir "$gw")
  ssh-keygen -q -t ed25519 -N '' -C "tkr-$gw-host" -f "$dir/host_key"
  cat >"$dir/sshd_config" <<EOF
ListenAddress $(gw_wan_ip "$gw")
Port 22
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $LAB_DIR/controller/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
PrintMotd no
X11Forwarding no
AllowTcpForwarding no
MaxStartups 100
SetEnv PATH=$dir/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  nsenter -t "$(holder "$gw")" -m -n -- setsid /usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$dir/sshd.log" 2>&1 </dev/null &
  echo $! >"$dir/sshd.listener"
  echo "$(gw_wan_ip "$gw") $(cut -d' ' -f1,2 "$dir/host_key.pub")" >>"$LAB_DIR/controller/known_hosts"
}

start_upstream() {
  ip netns exec $UP setsid node "$HERE/upstream-server.mjs" "$UP_IP" 80 8080 >"$LAB_DIR/upstream.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/upstream.pid"
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

opennds_alive() {
  pid_alive "$(gw_dir "$1")/opennds.pid" || die "gateway $1's opennds exited; its log ends: $(tail -5 "$(gw_dir "$1")/opennds.log")"
}
opennds_answers() {
  opennds_alive "$1"
  nds_json "$1" | grep -c client_list_length >/dev/null
}
sshd_listens() { grep -q 'Server listening' "$(gw_dir "$1")/sshd.log"; }
upstream_answers() { ip netns exec $CTL curl -s --max-time 1 -o /dev/null "http://$UP_IP/"; }
# Each gateway's resident client authorised, by the first pass (await_first_pass) or by an auth now,
# then deauthorised: OpenNDS 10 refuses `ndsctl auth` until its start-up scripts are done.
opennds10_authorises() {
  local mac
  mac=$(resident_mac "$1")
  nds_json "$1" "$mac" | grep -c '"state":"Authenticated"' >/dev/null ||
    retry_while_busy gw_tool "$1" ndsctl auth "$mac" 0 0 0 0 0 labprobe | grep -c authenticated >/dev/null || return 1
  retry_while_busy gw_tool "$1" ndsctl deauth "$mac" >/dev/null || true
}
# A client's captive-portal check (lab.sh's captive_portal_check): it puts the client in OpenNDS's list.
portal_check() { # portal_check NS MAC GW
  ip netns exec "$1" curl -s -o /dev/null --max-time 5 "http://$UP_IP/" || true
  nds_json "$3" "$2" | grep -c '"state"' >/dev/null
}

# After OpenNDS (re)starts on gateway $1: neighbour entries; for 10, its first pass over (the ndsctl
# lock a restart holds let go after it), OpenNDS answering and a client authorised.
settle_gateway() {
  local gw=$1
  ip netns exec "$(resident_ns "$gw")" ping -c 1 -W 1 "$(gw_lan_ip "$gw")" >/dev/null 2>&1 || true
  if [[ $(phone_at) == "$gw" ]]; then ip netns exec $PHONE ping -c 1 -W 1 "$(gw_lan_ip "$gw")" >/dev/null 2>&1 || true; fi
  if [[ $(flavour) == 10 ]]; then
    await_first_pass "$gw"
    release_ndsctl_lock "$gw" "$(gw_dir "$gw")"
    wait_until "gateway $gw's opennds to answer ndsctl json" 300 opennds_answers "$gw"
    wait_until "gateway $gw's opennds 10 to authorise a client" 100 opennds10_authorises "$gw"
  fi
}

phone_at() { cat "$LAB_DIR/phone-at" 2>/dev/null || echo none; }

# The phone joins gateway $1's LAN: its link to the other goes down, this one comes up with the same
# MAC, the address the gateway's DHCP gives it (a lease line there, as dnsmasq would write), and a default route.
join_phone() {
  local gw=$1 other
  other=$([[ $gw == a ]] && echo b || echo a)
  if [[ $(phone_at) == "$gw" ]]; then return 0; fi
  ip -n $PHONE addr flush dev "w$other"
  ip -n $PHONE link set "w$other" down
  write_leases "$gw" "$PHONE_MAC" "$(phone_ip "$gw")" tkr-phone
  ip -n $PHONE link set "w$gw" up
  ip -n $PHONE addr add "$(phone_ip "$gw")/24" dev "w$gw"
  ip -n $PHONE route replace default via "$(gw_lan_ip "$gw")"
  echo "$gw" >"$LAB_DIR/phone-at"
  ip netns exec $PHONE ping -c 1 -W 1 "$(gw_lan_ip "$gw")" >/dev/null 2>&1 || true
}

is_up() {
  [[ -f $LAB_DIR/flavour && $(flavour) == "$LAB_OPENNDS" ]] || return 1
  local gw
  for gw in "${GATEWAYS[@]}"; do
    pid_alive "$(gw_dir "$gw")/opennds.pid" && pid_alive "$(gw_dir "$gw")/sshd.listener" || return 1
    nds_json "$gw" | grep -c client_list_length >/dev/null || return 1
  done
  pid_alive "$LAB_DIR/upstream.pid"
}

cmd_up() {
  need_root
  [[ $LAB_OPENNDS == 9 || $LAB_OPENNDS == 10 ]] || die "LAB_OPENNDS must be 9 or 10"
  [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd is missing: apt-get install openssh-server"
  if is_up; then log "already up"; return 0; fi
  cmd_down
  if [[ $LAB_OPENNDS == 10 && ! -f $ROOT10/.tollkeeper-lab-packages ]]; then die "no OpenNDS 10 root at $ROOT10: run LAB_OPENNDS=10 lab.sh install"; fi
  mkdir -p "$LAB_DIR/controller" "$LAB_DIR/shims"
  : >"$LAB_DIR/owned"
  echo "$LAB_OPENNDS" >"$LAB_DIR/flavour"
  trap 'log "up failed; tearing down"; cmd_down' EXIT
  if [[ ! -d /run/sshd ]]; then mkdir -m 755 /run/sshd && own /run/sshd; fi
  # Host paths OpenNDS 9.10's scripts or iptables-legacy may create (lab.sh's SIDE_PATHS outside /tmp).
  local side
  for side in /run/xtables.lock /etc/dnsmasq.conf; do [[ -e $side ]] || own "$side"; done
  printf '#!/bin/sh\necho "lab: ignored: systemctl $*" >&2\nexit 0\n' >"$LAB_DIR/shims/systemctl"
  chmod 755 "$LAB_DIR/shims/systemctl"
  ssh-keygen -q -t ed25519 -N '' -C tollkeeper-lab-controller -f "$LAB_DIR/controller/id_ed25519"
  cp "$LAB_DIR/controller/id_ed25519.pub" "$LAB_DIR/controller/authorized_keys"
  : >"$LAB_DIR/controller/known_hosts"
  build_network
  start_upstream
  local gw
  for gw in "${GATEWAYS[@]}"; do
    mkdir -p "$(gw_dir "$gw")"
    write_netns_etc "$gw"
    start_holder "$gw"
    write_leases "$gw" "$(resident_mac "$gw")" "$(resident_ip "$gw")" "tkr-${gw}1"
    write_opennds_config "$gw"
    write_audit_wrappers "$gw"
    start_sshd "$gw"
    : >"$(gw_dir "$gw")/opennds.log"
    launch_opennds "$gw"
  done
  join_phone a
  wait_until "the upstream web server" 100 upstream_answers
  for gw in "${GATEWAYS[@]}"; do
    wait_until "gateway $gw's sshd" 100 sshd_listens "$gw"
    wait_until "gateway $gw's opennds to answer ndsctl json" 300 opennds_answers "$gw"
  done
  for gw in "${GATEWAYS[@]}"; do settle_gateway "$gw"; done
  for gw in "${GATEWAYS[@]}"; do
    wait_until "tkr-${gw}1's captive-portal check" 100 portal_check "$(resident_ns "$gw")" "$(resident_mac "$gw")" "$gw"
  done
  wait_until "the phone's captive-portal check" 100 portal_check $PHONE "$PHONE_MAC" a
  trap - EXIT
  log "up: OpenNDS $LAB_OPENNDS on tkr-a and tkr-b, sshd on $(gw_wan_ip a):22 and $(gw_wan_ip b):22, controller $CTL ($CTL_IP), phone on a"
}

cmd_move_phone() {
  need_root
  local gw=${1:-}
  gw_ok "$gw"
  [[ -f $LAB_DIR/flavour ]] || die "the lab is not up"
  join_phone "$gw"
  # A phone that joins a Wi-Fi checks for a captive portal first.
  wait_until "the phone's captive-portal check at $gw" 50 portal_check $PHONE "$PHONE_MAC" "$gw"
  log "phone ($PHONE_MAC) now on $gw's LAN as $(phone_ip "$gw")"
}

cmd_restart_opennds() {
  need_root
  local gw=${1:-} dir pid i
  gw_ok "$gw"
  dir=$(gw_dir "$gw")
  pid_alive "$dir/opennds.pid" || die "gateway $gw's opennds is not running"
  pid=$(cat "$dir/opennds.pid")
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do running "$pid" || break; sleep 0.05; done
  running "$pid" && die "opennds (pid $pid) did not die of SIGKILL"
  if [[ $(flavour) == 10 ]]; then
    in_gw "$gw" rm -f "$ROOT10/tmp/ndsctl.sock" "$ROOT10/tmp/ndsctl.lock"
    hold_ndsctl_lock "$gw" "$dir"
  else
    # In a PID namespace of its own: the script waits while any OpenNDS runs, and on this host the
    # other router's does (on a router it sees only its own). Run from a copy in the router's dir:
    # a checkout under /tmp is not there in the router's mount namespace, whose /tmp is its own.
    cp "$HERE/../../deploy/opennds-cleanup.sh" "$dir/opennds-cleanup.sh"
    in_gw "$gw" unshare --pid --fork --mount-proc sh "$dir/opennds-cleanup.sh"
    in_gw "$gw" rm -f /tmp/ndsctl.sock /tmp/ndsctl.lock
  fi
  launch_opennds "$gw"
  if [[ $(flavour) == 9 ]]; then wait_until "gateway $gw's opennds to answer ndsctl json" 300 opennds_answers "$gw"; fi
  settle_gateway "$gw"
  log "gateway $gw's opennds restarted (pid $(cat "$dir/opennds.pid"))"
}

# The listener forks a monitor per connection, which forks the session's own sshd: all of them go,
# and with them every connection at once, as test/support/sshd.ts's killSessions does.
sshd_descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    [[ $(cat "/proc/$child/comm" 2>/dev/null) == sshd ]] && echo "$child"
    sshd_descendants "$child"
  done
}

cmd_kill_ssh() {
  need_root
  local gw=${1:-} pids
  gw_ok "$gw"
  pids=$(sshd_descendants "$(cat "$(gw_dir "$gw")/sshd.listener")")
  if [[ -n $pids ]]; then kill -KILL $pids 2>/dev/null || true; fi
  echo "$pids" | grep -c . || true
}

cmd_alive() {
  need_root
  local gw ok=0
  for gw in "${GATEWAYS[@]}"; do
    if ! pid_alive "$(gw_dir "$gw")/opennds.pid"; then
      ok=1
      echo "gateway $gw's OpenNDS is not running; its log ends:"
      tail -5 "$(gw_dir "$gw")/opennds.log" 2>/dev/null || true
    fi
  done
  if ((ok)); then dmesg 2>/dev/null | grep -E 'opennds\[' | tail -3 || true; fi
  return $ok
}

cmd_status() {
  need_root
  if is_up; then echo "state: up"; else echo "state: down"; fi
  echo "opennds flavour: $(flavour); dir: $LAB_DIR"
  echo "namespaces: $(ip netns list | awk '{print $1}' | grep -E '^tkr-' | tr '\n' ' ')"
  echo "phone: $PHONE_MAC on $(phone_at)"
  echo "controller: $CTL ($CTL_IP); key $LAB_DIR/controller/id_ed25519, known_hosts $LAB_DIR/controller/known_hosts"
  local gw
  for gw in "${GATEWAYS[@]}"; do
    echo "gateway $gw: $(gw_ns "$gw") LAN $(gw_lan_ip "$gw")/24, sshd root@$(gw_wan_ip "$gw"):22"
    if pid_alive "$(gw_dir "$gw")/opennds.pid"; then nds_json "$gw" || true; echo; fi
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  move-phone) cmd_move_phone "${2:-}" ;;
  restart-opennds) cmd_restart_opennds "${2:-}" ;;
  kill-ssh) cmd_kill_ssh "${2:-}" ;;
  alive) cmd_alive ;;
  gw) need_root; gw_ok "${2:-}"; gw_tool "$2" "${@:3}" ;;
  exec)
    need_root
    [[ ${2:-} =~ ^tkr-(up|ctl|phone|a|b|a1|b1)$ ]] || die "not a namespace of this lab: ${2:-}"
    if [[ $2 == tkr-a || $2 == tkr-b ]]; then in_gw "${2#tkr-}" "${@:3}"; else exec ip netns exec "$2" "${@:3}"; fi
    ;;
  *) die "usage: lab-routers.sh up|down|status|move-phone a|b|restart-opennds a|b|kill-ssh a|b|alive|gw a|b CMD...|exec NS CMD..." ;;
esac
