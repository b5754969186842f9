import { DEFAULT_CONFIG, type GateConfig, type GateEntry } from './config.ts';
import { describe, isObject, type Reader } from './config-reader.ts';
import { readGateTransport } from './gate-transport-config.ts';
import { isInterfaceName } from '../gate/lan-ipv6.ts';
import { parseSubnet, type Subnet, subnetsOverlap } from '../network/subnet.ts';

const GATE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const ENTRY_KEYS = ['name', 'lan', 'leaseFiles', 'arpFile'];
/** Enough for any venue one box serves (docs/operating.md, "How far one box goes"). */
const MAX_GATES = 64;

/**
 * `gate` (one gate, every address its LAN) or `gates` (several, each with its name and LAN); not
 * both. An empty `gates` is the default, as a written-out config holds it: the one `gate`.
 */
export function readGates(r: Reader, input: Record<string, unknown>): { gate: GateConfig; gates: GateEntry[] } {
  const value = input.gates;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return { gate: readGate(r, input.gate, 'gate'), gates: [] };
  if (input.gate !== undefined) r.fail('gate', 'is given beside gates', 'either gate (one gate) or gates (several), not both');
  if (!Array.isArray(value) || value.length > MAX_GATES) {
    r.fail('gates', Array.isArray(value) ? `has ${value.length} entries` : `is ${describe(value)}`, `an array of 1 to ${MAX_GATES} gates { name, lan, … }`);
    return { gate: DEFAULT_CONFIG.gate, gates: [] };
  }
  const gates = value.map((entry, i) => readEntry(r, entry, `gates[${i}]`));
  checkNames(r, gates);
  checkLans(r, gates);
  return { gate: gates[0]!.gate, gates };
}

function readEntry(r: Reader, entry: unknown, at: string): GateEntry {
  const value = isObject(entry) ? entry : (r.fail(at, `is ${describe(entry)}`, 'an object { name, lan, … }'), {});
  const { name, lan, leaseFiles, arpFile, ...gate } = value;
  const text = r.string(`${at}.name`, name, '');
  if (!GATE_NAME.test(text)) r.fail(`${at}.name`, name === undefined ? 'is missing' : `is ${describe(name)}`, 'a name of lower-case letters, digits, _ and - (at most 32), e.g. "lobby"');
  return {
    name: text,
    lan: readLan(r, lan, `${at}.lan`),
    leaseFiles: r.strings(`${at}.leaseFiles`, leaseFiles, DEFAULT_CONFIG.leaseFiles),
    arpFile: r.string(`${at}.arpFile`, arpFile, DEFAULT_CONFIG.arpFile),
    gate: readGate(r, gate, at, ENTRY_KEYS),
  };
}

function readLan(r: Reader, value: unknown, at: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    r.fail(at, value === undefined ? 'is missing' : `is ${describe(value)}`, 'the subnet this gate\'s customers come from, in CIDR form (e.g. "192.168.10.0/24"), or an array of them');
    return [];
  }
  return list.flatMap((cidr, i) => {
    const subnet = typeof cidr === 'string' ? parseSubnet(cidr) : null;
    if (!subnet) r.fail(`${at}[${i}]`, `is ${describe(cidr)}`, 'a subnet in CIDR form with no host bits set, e.g. "192.168.10.0/24" or "fd00:10::/64"');
    return subnet ? [subnet.text] : [];
  });
}

function checkNames(r: Reader, gates: readonly GateEntry[]): void {
  const seen = new Map<string, number>();
  gates.forEach((gate, i) => {
    const first = seen.get(gate.name);
    if (first !== undefined && gate.name) r.fail(`gates[${i}].name`, `"${gate.name}" is also gates[${first}]'s name`, 'a name no other gate has');
    else seen.set(gate.name, i);
  });
}

/** A customer's gate is found from the subnet their request comes from: no address may lead to two gates. */
function checkLans(r: Reader, gates: readonly GateEntry[]): void {
  const all: Array<{ subnet: Subnet; gate: number }> = gates.flatMap((gate, i) => gate.lan.map((text) => ({ subnet: parseSubnet(text)!, gate: i })));
  for (let a = 0; a < all.length; a++) {
    for (let b = a + 1; b < all.length; b++) {
      const [x, y] = [all[a]!, all[b]!];
      if (!subnetsOverlap(x.subnet, y.subnet)) continue;
      r.fail(`gates[${y.gate}].lan`, `${y.subnet.text} overlaps ${x.subnet.text} of gates[${x.gate}]`, 'subnets that no two gates (nor two entries of one) share');
    }
  }
}

/** One gate's settings, at `at` (`gate`, or `gates[i]` beside that entry's own keys). */
export function readGate(r: Reader, value: unknown, at: string, entryKeys: readonly string[] = []): GateConfig {
  if (value === undefined) return DEFAULT_CONFIG.gate;
  if (!isObject(value)) {
    r.fail(at, `is ${describe(value)}`, 'an object');
    return DEFAULT_CONFIG.gate;
  }
  const gate = value;
  const kind = r.oneOf(`${at}.kind`, gate.kind, ['ndsctl', 'simulated'] as const, 'ndsctl');
  r.knownKeys(at, gate, kind === 'simulated' ? ['kind', ...entryKeys] : [...Object.keys(DEFAULT_CONFIG.gate), ...entryKeys]);
  if (kind === 'simulated') return { kind };
  const command = r.strings(`${at}.command`, gate.command, ['ndsctl']);
  if (command.length === 0) r.fail(`${at}.command`, 'is empty', 'an argv prefix such as ["ndsctl"]');
  return {
    kind,
    command,
    transport: readGateTransport(r, gate.transport, command, at),
    counters: r.oneOf(`${at}.counters`, gate.counters, ['auto', 'iptables', 'nft', 'ndsctl-json'] as const, 'auto'),
    enforce: r.oneOf(`${at}.enforce`, gate.enforce, ['auto', 'nft-quota', 'deauth'] as const, 'auto'),
    timeoutMs: r.integer(`${at}.timeoutMs`, gate.timeoutMs, 10_000, 100),
    reopenForMs: r.integer(`${at}.reopenForMs`, gate.reopenForMs, 120_000, 1_000),
    lanInterface: readLanInterface(r, gate.lanInterface, at),
  };
}

/** Passed to `ip` and into a /proc path on the gateway host, maybe through ssh's remote shell: a plain interface name only. */
function readLanInterface(r: Reader, value: unknown, at: string): string {
  const name = r.string(`${at}.lanInterface`, value, 'br-lan');
  if (!isInterfaceName(name)) r.fail(`${at}.lanInterface`, `is ${JSON.stringify(name)}`, 'a network interface name such as "br-lan" (letters, digits, _ . @ -; at most 15)');
  return name;
}
