#!/usr/bin/env bash
# Records real OpenNDS answers into test/fixtures/gate/real-opennds-9.10/ (the default lab) or, with
# LAB_OPENNDS=10, real-opennds-10.3/ (see their README.md). Runs the lab from scratch
# (`lab.sh down; lab.sh up`) and leaves it down. Needs root.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB="$HERE/lab.sh"
lab() { bash "$LAB" "$@"; }
LAB_OPENNDS=${LAB_OPENNDS:-9}
export LAB_OPENNDS
if [[ $LAB_OPENNDS == 10 ]]; then VERSION=10.3; else VERSION=9.10; fi
OUT=${1:-"$HERE/../fixtures/gate/real-opennds-$VERSION"}
MAC1=02:74:6b:00:00:01
MAC2=02:74:6b:00:00:02
UNKNOWN=02:74:6b:00:00:99
UPSTREAM=http://198.19.0.2
DROPPED=http://198.19.0.2:8080
CURL_FORMAT='http_code=%{http_code} size_download=%{size_download}\n'

mkdir -p "$OUT"
: >"$OUT/exit-codes.txt"

# record NAME CMD...: stdout to NAME.txt, exit status to exit-codes.txt (stderr is OpenNDS noise).
record() {
  local name=$1 rc=0
  shift
  "$@" >"$OUT/$name.txt" 2>"$OUT/.stderr" || rc=$?
  echo "$name $rc" >>"$OUT/exit-codes.txt"
}
gw() { lab gw "$@"; }
client() { local n=$1; shift; lab exec "tk-c$n" "$@"; }
fetch() { client "$1" curl -s -o /dev/null -w "$CURL_FORMAT" --max-time "${3:-3}" "$2"; }

lab down
lab up
trap 'lab down' EXIT

record json-0-clients gw ndsctl json
cp "$OUT/.stderr" "$OUT/ndsctl-stderr-noise.txt"
record unpaid-c1-port8080 fetch 1 "$DROPPED/bytes/1000"
record json-unknown-mac gw ndsctl json "$UNKNOWN"
record auth-c1-first gw ndsctl auth "$MAC1" 0 0 0 0 0 x
record auth-c1-again gw ndsctl auth "$MAC1" 0 0 0 0 0 x
record auth-c2-first gw ndsctl auth "$MAC2" 0 0 0 0 0 y
record json-2-clients-before-traffic gw ndsctl json
record c1-download-5000000 fetch 1 "$DROPPED/bytes/5000000"
record json-c1-after-5000000 gw ndsctl json "$MAC1"

# c2 downloads and uploads while c1 is idle: c1's counters must not move.
record c2-download-20000000 fetch 2 "$DROPPED/bytes/20000000"
head -c 1000000 /dev/zero >"$OUT/.upload"
record c2-upload-1000000 client 2 curl -s --max-time 5 --data-binary "@$OUT/.upload" "$DROPPED/sink"
record json-c1-after-c2-traffic gw ndsctl json "$MAC1"
record json-2-clients-after-traffic gw ndsctl json
if [[ $LAB_OPENNDS == 10 ]]; then
  record nft-mangle-ndsINC gw nft list chain ip nds_mangle ndsINC
  record nft-mangle-ndsOUT gw nft list chain ip nds_mangle ndsOUT
  record nft-json-mangle-ndsINC gw nft -j list chain ip nds_mangle ndsINC
  record nft-json-mangle-ndsOUT gw nft -j list chain ip nds_mangle ndsOUT
else
  record iptables-mangle-ndsINC gw iptables -t mangle -L ndsINC -v -x -n
  record iptables-mangle-ndsOUT gw iptables -t mangle -L ndsOUT -v -x -n
fi

record deauth-c1 gw ndsctl deauth "$MAC1"
record deauth-unknown-mac gw ndsctl deauth "$UNKNOWN"
record json-c1-after-deauth gw ndsctl json "$MAC1"
record deauthed-c1-port8080 fetch 1 "$DROPPED/bytes/1000"
# OpenNDS 10 answers the splash redirect after its helper scripts ran: seconds on a busy machine.
record deauthed-c1-port80 fetch 1 "$UPSTREAM/bytes/1000" 30
record json-c1-after-port80-redirect gw ndsctl json "$MAC1"
if [[ $LAB_OPENNDS == 10 ]]; then
  # A restart: OpenNDS 10 forgets the authenticated c2 and its counter rules (restart detection).
  record json-before-restart gw ndsctl json
  lab restart-opennds
  record json-after-restart gw ndsctl json
  record nft-mangle-ndsOUT-after-restart gw nft list chain ip nds_mangle ndsOUT
fi
rm -f "$OUT/.stderr" "$OUT/.upload"
