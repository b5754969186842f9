import { writeFileSync } from 'node:fs';

/** A simulated device: its DHCP lease maps a loopback address (its HTTP source address) to its MAC. */
export interface DemoDevice {
  name: string;
  ip: string;
  mac: string;
}

/** The terminal's own curl: requests from 127.0.0.1 without X-Real-IP pay for this device. */
export const YOU: DemoDevice = { name: 'you (curl)', ip: '127.0.0.1', mac: '02:00:00:00:00:01' };

/** `count` devices on 127.0.0.11, .12, … with locally administered MACs 02:00:00:00:01:01, …:02, … */
export function demoDevices(count: number): DemoDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `customer-${i + 1}`,
    ip: `127.0.0.${11 + i}`,
    mac: `02:00:00:00:01:${(i + 1).toString(16).padStart(2, '0')}`,
  }));
}

/** A dnsmasq-style leases file (`EXPIRY MAC IP NAME CLIENTID`; expiry 0 = never), as OpenWrt writes it. */
export function writeLeases(path: string, devices: readonly DemoDevice[]): void {
  writeFileSync(path, devices.map((d) => `0 ${d.mac} ${d.ip} ${d.name.replace(/\s+/g, '-')} *`).join('\n') + '\n');
}
