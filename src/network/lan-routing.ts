import type { Mac } from '../gate/mac.ts';
import { Refusal } from '../nostr/notice-codes.ts';
import { normalizeIp } from './client-address.ts';
import type { MacLookup } from './mac-lookup.ts';
import { parseSubnet, type Subnet, subnetContains } from './subnet.ts';

/** One gate's LAN and the MAC lookup in its own leases and neighbour table. */
export interface LanGate {
  name: string;
  /** CIDR subnets; no two gates' overlap (the config checks it). */
  lan: readonly string[];
  macs: MacLookup;
}

/**
 * Finds a customer's gate from the subnet their request comes from, then their MAC in that gate's
 * leases and neighbours, and tells `claim` which gate the MAC made its request on.
 */
export function lanRouting(gates: readonly LanGate[], claim: (mac: Mac, gate: string) => void): MacLookup {
  const subnets: Array<{ subnet: Subnet; gate: LanGate }> = gates.flatMap((gate) =>
    gate.lan.map((text) => {
      const subnet = parseSubnet(text);
      if (!subnet) throw new Error(`gate ${gate.name}: ${text} is not a subnet`);
      return { subnet, gate };
    }),
  );
  return {
    async lookup(address) {
      const ip = normalizeIp(address);
      const found = subnets.find(({ subnet }) => subnetContains(subnet, ip));
      if (!found) throw new Refusal('mac-address-lookup-failed', 'your address is on none of the gateway\'s networks');
      const mac = await found.gate.macs.lookup(ip);
      claim(mac, found.gate.name);
      return mac;
    },
  };
}
