import type { Logger } from 'pino';
import { type Config, type GateConfig, type GateEntry, gateEntriesOf } from '../config/config.ts';
import type { Gate } from '../gate/gate.ts';
import { GateSet, type SessionGates } from '../gate/gate-set.ts';
import type { Mac } from '../gate/mac.ts';
import { NdsctlGate } from '../gate/ndsctl-gate.ts';
import { SimulatedGate } from '../gate/simulated-gate.ts';
import { SshTransport } from '../gate/ssh-transport.ts';
import type { MacResolver } from '../http/deps.ts';
import type { Gateway } from '../engine/gateway.ts';
import { lanRouting } from '../network/lan-routing.ts';
import { createMacLookup } from '../network/mac-lookup.ts';
import { readOnGateway, RemoteFile } from '../network/remote-file.ts';

/** A copy of the router's leases and neighbour table is read again after this, or after a lookup that found nothing and is older than MISS_MAX_AGE_MS. */
const REMOTE_TABLE_MAX_AGE_MS = 1_000;
const MISS_MAX_AGE_MS = 250;

export function gateFromConfig(config: GateConfig, log?: Logger): Gate {
  if (config.kind === 'simulated') return new SimulatedGate();
  const { transport } = config;
  return new NdsctlGate({
    command: config.command,
    counters: config.counters,
    enforce: config.enforce,
    timeoutMs: config.timeoutMs,
    ...(transport.kind === 'ssh' ? { transport: new SshTransport({ ...transport, ...(log ? { log: log.child({ component: 'gate-transport' }) } : {}) }) } : {}),
  });
}

/** The gate's runner when it reaches the router over an ssh transport. */
function sshRunner(gate: Gate) {
  return gate instanceof NdsctlGate && gate.runner.transport.kind === 'ssh' ? gate.runner : undefined;
}

/**
 * The configured gates as one: `gates`, or the one `gate` named "default". `override` (the demo's
 * simulated gate, tests) stands for the single gate; a GateSet given there is used as it is.
 */
export function gateSetFromConfig(config: Config, log: Logger, override?: Gate): GateSet {
  const setLog = log.child({ component: 'gates' });
  if (override instanceof GateSet) return override;
  const entries = gateEntriesOf(config);
  if (override) return new GateSet([{ name: entries[0]!.name, gate: override }], setLog);
  return new GateSet(entries.map((entry) => ({ name: entry.name, gate: gateFromConfig(entry.gate, log.child({ gate: entry.name })) })), setLog);
}

/** What the gate set asks of the engine's sessions: the gate each was opened on (persisted), whether it holds one, and moves. */
export function sessionGates(gateway: Pick<Gateway, 'sessionRef' | 'move'>): SessionGates {
  return {
    gateOf: (mac) => gateway.sessionRef(mac)?.getSnapshot().context.gate ?? null,
    holdsGate: (mac) => gateway.sessionRef(mac)?.getSnapshot().hasTag('holdsGate') ?? false,
    move: (mac, to) => gateway.move(mac, to),
  };
}

/**
 * Which gate and MAC a customer's request comes from. With `gates`: the gate whose LAN subnet holds
 * the address, then the MAC in that gate's leases and neighbours. With the one `gate`: its lookup.
 * Either way the set is told which gate the MAC asked on.
 */
export function gateRoutingFor(config: Config, gates: GateSet, log: Logger): MacResolver {
  const entries = gateEntriesOf(config);
  const lookupOf = (entry: GateEntry) => macLookupFor(entry, gates.member(entry.name)!, log.child({ gate: entry.name }));
  const claim = (mac: Mac, name: string) => void gates.claim(mac, name);
  if (config.gates.length === 0) {
    const only = lookupOf(entries[0]!);
    return {
      async lookup(ip) {
        const mac = await only.lookup(ip);
        claim(mac, entries[0]!.name);
        return mac;
      },
    };
  }
  return lanRouting(entries.map((entry) => ({ name: entry.name, lan: entry.lan, macs: lookupOf(entry) })), claim);
}

/**
 * MAC lookup from the DHCP leases and the neighbour table: the router's own, read through the gate's
 * ssh session on demand, when the gate is reached that way; otherwise the files on this machine.
 */
export function macLookupFor(files: { leaseFiles: string[]; arpFile: string }, gate: Gate, log: Logger): MacResolver {
  const remote = sshRunner(gate);
  return createMacLookup({
    leaseFiles: files.leaseFiles,
    arpFile: files.arpFile,
    log,
    ...(remote
      ? {
          openFile: <T>(path: string, parse: (text: string) => T) => new RemoteFile(path, parse, readOnGateway(remote), { maxAgeMs: REMOTE_TABLE_MAX_AGE_MS }),
          missMaxAgeMs: MISS_MAX_AGE_MS,
        }
      : {}),
  });
}

/** Each gate of the set chooses how it cuts data sessions, and says so; all at once, so routers still rebooting wait together. */
export async function prepareGates(gates: GateSet, log: Logger): Promise<void> {
  await Promise.all(gates.names.map((name) => prepareGate(gates.member(name)!, gates.names.length > 1 ? log.child({ gate: name }) : log)));
}

/** Chooses how the gate cuts data sessions (the kernel quota needs tollkeeper's nftables table) and says so. */
export async function prepareGate(gate: Gate, log: Logger): Promise<void> {
  if (!(gate instanceof NdsctlGate)) return;
  const enforcement = await gate.prepare();
  if (gate.kernelQuotaUnavailable) log.warn({ enforcement, reason: gate.kernelQuotaUnavailable }, 'no kernel quota (nft missing or not permitted): data sessions are cut by ndsctl deauth after a reading');
  else log.info({ enforcement }, enforcement === 'nft-quota' ? 'data sessions are cut by a kernel quota per client (nftables table inet tollkeeper)' : 'data sessions are cut by ndsctl deauth after a reading');
}
