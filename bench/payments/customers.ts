import { writeFile } from 'node:fs/promises';

/** A leased device: the bench's load generator sends X-Real-IP `ip`, the gateway finds `mac`. */
export interface BenchCustomer {
  ip: string;
  mac: string;
}

/** `count` customers in 198.18.0.0/15 (up to 65,024), each with its own MAC. */
export function benchCustomers(count: number): BenchCustomer[] {
  return Array.from({ length: count }, (_, i) => {
    const host = i + 2;
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    return {
      ip: `198.18.${Math.floor(host / 254)}.${(host % 254) + 1}`,
      mac: `02:be:4c:${hex((i >> 16) & 0xff)}:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`,
    };
  });
}

/** A dnsmasq leases file naming every customer (expiry 0: never expires). */
export async function writeLeases(path: string, customers: readonly BenchCustomer[]): Promise<void> {
  await writeFile(path, customers.map((c, i) => `0 ${c.mac} ${c.ip} bench-${i} *`).join('\n') + '\n');
}
