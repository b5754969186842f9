# Sourced by lab.sh and lab-routers.sh: OpenNDS's ndsctl lock, and OpenNDS 10's first client check.
# The sourcing script defines `die MESSAGE`, `wait_until WHAT TRIES CMD...` (every 0.2 s),
# `opennds_alive GW` (dies if GW's OpenNDS is gone), `on_gateway GW CMD...` (runs CMD where GW's
# OpenNDS sees its files) and ROOT10.

LAB_OPENNDS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# retry_while_busy CMD...: runs CMD (an ndsctl call) and prints what it printed, again while it exits
# 4, "ndsctl thread is busy": another caller (tollkeeper, in the tests) holds the lock.
retry_while_busy() {
  local i out status
  for ((i = 0; i < 50; i++)); do
    status=0
    out=$("$@" 2>/dev/null) || status=$?
    ((status == 4)) || break
    sleep 0.05
  done
  printf '%s\n' "$out"
  return "$status"
}

# OpenNDS 10's checker divides by zero when an auth is stamped between its pass reading the clock
# and taking the client list (docs/lab.md). Its first pass reads the clock seconds after OpenNDS
# starts answering ndsctl (a helper asks OpenNDS's web server, up to 4 times a second apart, then
# nft up to 4 times: 4.1 s here on 2026-11-30), later under load. A tollkeeper running through an
# OpenNDS restart re-authorises the customers OpenNDS forgot as soon as ndsctl lets it: CI's run of
# 2026-11-30 lost OpenNDS 10.3 that way in the restart test. So a restart holds ndsctl's lock from
# before OpenNDS starts until that pass is over; tollkeeper's calls meanwhile fail "busy", as while
# any other caller holds it, and it re-authorises after.
#
# hold_ndsctl_lock GW STATE_DIR: STATE_DIR must be visible where `on_gateway GW` runs.
hold_ndsctl_lock() {
  local gw=$1 dir=$2 i
  cp "$LAB_OPENNDS_HERE/hold-ndsctl-lock.pl" "$dir/hold-ndsctl-lock.pl"
  rm -f "$dir/ndsctl-lock-held"
  on_gateway "$gw" perl "$dir/hold-ndsctl-lock.pl" "$ROOT10/tmp/ndsctl.lock" "$dir/ndsctl-lock-held" $$ \
    </dev/null &
  echo $! >"$dir/ndsctl-lock-holder.pid"
  for ((i = 0; i < 100; i++)); do
    [[ -e $dir/ndsctl-lock-held ]] && return 0
    sleep 0.05
  done
  die "timed out taking ndsctl's lock"
}

# Checks that ndsctl still finds the lock held (it is, unless OpenNDS's deletion of the file got
# past the holder), then lets it go. The pid file names the holder or the subshell it runs under;
# the holder exits within 20 ms of either. ndsctl callers use retry_while_busy. Does nothing when
# no lock is held.
release_ndsctl_lock() {
  local gw=$1 dir=$2 pid status=0
  [[ -f $dir/ndsctl-lock-holder.pid ]] || return 0
  on_gateway "$gw" chroot "$ROOT10" ndsctl json >/dev/null 2>&1 || status=$?
  ((status == 4)) || die "ndsctl answered (exit $status) while the lab held its lock"
  pid=$(cat "$dir/ndsctl-lock-holder.pid")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$dir/ndsctl-lock-holder.pid" "$dir/ndsctl-lock-held"
}

# Right after a pass lets the client list go, it runs `libopennds.sh get_next_preemptive_auth`,
# which takes one file from ndscids/preemptive_auth and authorises what it names. A file left there
# as OpenNDS starts is therefore gone once the first pass is over. OpenNDS empties ndscids before it
# writes ndscids/ndsinfo, and starts the checker after that.
LAB_FIRST_PASS_MARKER=ndscids/preemptive_auth/lab-first-pass # in OpenNDS 10's /tmp

# leave_first_pass_marker GW MAC: call right after launching OpenNDS 10 with ndscids removed; MAC is
# a client the first pass may authorise (the lab's probe client, deauthorised after).
leave_first_pass_marker() {
  local gw=$1 mac=$2 i
  local ndscids=$ROOT10/tmp/ndscids
  for ((i = 0; ; i++)); do
    opennds_alive "$gw"
    on_gateway "$gw" test -e "$ndscids/ndsinfo" && break
    ((i < 3000)) || die "timed out waiting for OpenNDS 10 to write ndsinfo"
    sleep 0.02
  done
  # Written beside the directory and moved in: the pass must not read it half written.
  on_gateway "$gw" sh -c 'mkdir -p "${3%/*}" && echo "$1,0,0,0,0,0,labprobe" >"$2" && mv "$2" "$3"' \
    sh "$mac" "$ndscids/lab-first-pass" "$ROOT10/tmp/$LAB_FIRST_PASS_MARKER"
}

# await_first_pass GW: returns once the first pass has taken the marker.
first_pass_over() {
  opennds_alive "$1"
  ! on_gateway "$1" test -e "$ROOT10/tmp/$LAB_FIRST_PASS_MARKER"
}
await_first_pass() { wait_until "OpenNDS 10's first client check" 600 first_pass_over "$1"; }
