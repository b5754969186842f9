#!/bin/sh
# Removes the iptables chains a crashed OpenNDS 9.x left behind, so that it can start again.
#
# OpenNDS 9.x refuses to start while its chains exist ("iptables: Chain already exists", then
# "Exiting because of error initializing firewall rules"), and a crash (OpenNDS 9.10 dies of SIGFPE
# now and then: docs/operating.md) or a SIGKILL leaves them all in place, so a service manager's
# restart fails for ever. Run it before OpenNDS starts (systemd: ExecStartPre; procd: in the init
# script's start_service). It does nothing while OpenNDS runs, and touches only OpenNDS's own
# chains (every name starting with "nds") and the jumps to them; tollkeeper's nftables table and
# every other rule are left alone. OpenNDS 10 clears its nftables tables itself and needs none of this.
set -eu

# A killed daemon can stay a zombie for a while: only a live one counts.
if ps -C opennds -o stat= 2>/dev/null | grep -qv '^Z'; then
	echo "opennds-cleanup: OpenNDS is running; nothing to do" >&2
	exit 0
fi

for table in mangle nat filter; do
	rules=$(iptables -w -t "$table" -S) || continue
	# Jumps from the built-in chains first (a chain still referenced cannot be deleted).
	echo "$rules" | grep -E '^-A [A-Z]+ .*-j nds[A-Za-z0-9]+( |$)' | sed 's/^-A /-D /' | while read -r rule; do
		eval "iptables -w -t \"$table\" $rule"
	done
	chains=$(echo "$rules" | sed -n 's/^-N \(nds[A-Za-z0-9]*\)$/\1/p')
	for chain in $chains; do iptables -w -t "$table" -F "$chain"; done
	for chain in $chains; do iptables -w -t "$table" -X "$chain"; done
done
