/** Endpoint K of bench/lab/macvlan-clients.sh (keep the two in step): its MAC and IP. */
import { parseMac, type Mac } from '../../src/gate/mac.ts';

export const MACVLAN_NS = 'tk-mv';
export const MACVLAN_GATEWAY_IP = '198.18.1.1';
export const MACVLAN_SCRIPT = new URL('./macvlan-clients.sh', import.meta.url).pathname;

const hex = (byte: number) => byte.toString(16).padStart(2, '0');

export const macvlanMac = (k: number): Mac => parseMac(`02:6d:76:00:${hex(k >> 8)}:${hex(k & 0xff)}`);
export const macvlanIp = (k: number): string => `198.18.1.${k + 1}`;
