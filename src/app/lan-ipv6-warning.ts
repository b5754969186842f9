import type { Logger } from 'pino';
import type { LanIpv6Finding } from '../gate/lan-ipv6.ts';

/** How the start-up IPv6 check is told to the operator: a warning when the LAN forwards IPv6 around the portal. */
export function logLanIpv6(finding: LanIpv6Finding, log: Logger): void {
  if (finding.status === 'unknown') {
    log.info({ lan: finding.lan, reason: finding.reason }, 'could not check the captive LAN for forwarded IPv6 (gate.lanInterface)');
    return;
  }
  const { lan, addresses, internetAddresses, forwarding } = finding;
  if (finding.status === 'forwarded') {
    log.warn(
      { lan, addresses, internetAddresses, forwarding },
      'the captive LAN forwards IPv6 around the portal: OpenNDS gates and meters IPv4 only, so devices may use IPv6 unpaid; turn IPv6 off on the LAN or drop IPv6 forwarded from it (docs/operating.md, "Threats and limits")',
    );
    return;
  }
  log.info({ lan, addresses, forwarding }, 'the captive LAN does not forward IPv6 around the portal');
}
