import type { CommandResult } from './ndsctl-runner.ts';

/**
 * OpenNDS and NoDogSplash gate and meter IPv4 only. When the router gives the captive LAN routable
 * IPv6 prefixes (which its router advertisements then announce) and forwards IPv6 from it, every
 * device reaches the internet over IPv6 unpaid and unmetered. This reads both on the gateway host,
 * through the same command prefix as ndsctl (so an ssh gate is checked on the router, not here).
 */

/** A Linux interface name (at most 15 characters), with nothing a remote shell behind ssh would read specially. */
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$/;

export function isInterfaceName(name: string): boolean {
  return INTERFACE_NAME.test(name);
}

export interface LanIpv6Commands {
  /** Lists the interface's IPv6 addresses of global scope (ULA included), one per line. */
  addresses: string[];
  /** Prints 1 when the host forwards IPv6 arriving on the interface. */
  forwarding: string[];
}

/** The two commands, each an argv run without a shell on the gateway host (behind the gate's command prefix). */
export function lanIpv6Commands(lan: string): LanIpv6Commands {
  if (!isInterfaceName(lan)) throw new RangeError(`not an interface name: ${JSON.stringify(lan)}`);
  return {
    addresses: ['ip', '-6', '-o', 'addr', 'show', 'dev', lan, 'scope', 'global'],
    forwarding: ['cat', `/proc/sys/net/ipv6/conf/${lan}/forwarding`],
  };
}

/** The addresses in `ip -6 -o addr show` output (`2: br-lan    inet6 2001:db8::1/64 scope global …`). */
export function parseIpv6Addresses(stdout: string): string[] {
  return [...stdout.matchAll(/\binet6\s+([0-9A-Fa-f:.]+)\/\d{1,3}\b/g)].map((match) => match[1]!.toLowerCase());
}

/** In 2000::/3, the global unicast space the internet routes (as opposed to ULA, fc00::/7). */
export function isInternetAddress(address: string): boolean {
  const first = Number.parseInt(address.split(':')[0] || '0', 16);
  return Number.isFinite(first) && (first & 0xe000) === 0x2000;
}

export type LanIpv6Finding =
  | {
      status: 'forwarded' | 'not-forwarded';
      lan: string;
      /** Routable addresses on the LAN interface (global scope, ULA included). */
      addresses: string[];
      /** Those of them in 2000::/3. */
      internetAddresses: string[];
      forwarding: boolean;
    }
  | { status: 'unknown'; lan: string; reason: string };

/**
 * The decision: IPv6 is forwarded around the portal when the LAN interface carries a routable
 * prefix (global or ULA: a ULA prefix can be masqueraded, and a global one can arrive later by
 * prefix delegation) and the host forwards IPv6 from it. A LAN with link-local addresses only, or a
 * host that does not forward IPv6 from it, gives the devices no route beyond the router.
 */
export function decideLanIpv6(lan: string, addresses: CommandResult, forwarding: CommandResult): LanIpv6Finding {
  if (addresses.exitCode !== 0) return { status: 'unknown', lan, reason: `${addresses.command.join(' ')} exited ${addresses.exitCode}: ${addresses.stderr.trim().slice(0, 200)}` };
  if (forwarding.exitCode !== 0) return { status: 'unknown', lan, reason: `${forwarding.command.join(' ')} exited ${forwarding.exitCode}: ${forwarding.stderr.trim().slice(0, 200)}` };
  const flag = forwarding.stdout.trim();
  if (flag !== '0' && flag !== '1') return { status: 'unknown', lan, reason: `IPv6 forwarding flag reads ${JSON.stringify(flag.slice(0, 20))}` };
  const routable = parseIpv6Addresses(addresses.stdout);
  const forwards = flag === '1';
  return {
    status: forwards && routable.length > 0 ? 'forwarded' : 'not-forwarded',
    lan,
    addresses: routable,
    internetAddresses: routable.filter(isInternetAddress),
    forwarding: forwards,
  };
}

/** What runs a tool on the gateway host: NdsctlRunner.tool puts the gate's command prefix (ssh …) before the argv. */
export interface GatewayHost {
  tool(argv: readonly string[]): Promise<CommandResult>;
}

/** Checks the LAN interface on the gateway host; a command that cannot run gives `unknown`, never a throw. */
export async function checkLanIpv6(host: GatewayHost, lan: string): Promise<LanIpv6Finding> {
  try {
    const commands = lanIpv6Commands(lan);
    const addresses = await host.tool(commands.addresses);
    const forwarding = await host.tool(commands.forwarding);
    return decideLanIpv6(lan, addresses, forwarding);
  } catch (error) {
    return { status: 'unknown', lan, reason: error instanceof Error ? error.message : String(error) };
  }
}
