import type { Logger } from 'pino';
import type { Config, GateConfig } from '../config/config.ts';
import type { Gate } from '../gate/gate.ts';
import { NdsctlGate } from '../gate/ndsctl-gate.ts';
import { SimulatedGate } from '../gate/simulated-gate.ts';
import { SshTransport } from '../gate/ssh-transport.ts';
import type { MacResolver } from '../http/deps.ts';
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
 * MAC lookup from the DHCP leases and the neighbour table: the router's own, read through the gate's
 * ssh session on demand, when the gate is reached that way; otherwise the files on this machine.
 */
export function macLookupFor(config: Config, gate: Gate, log: Logger): MacResolver {
  const remote = sshRunner(gate);
  return createMacLookup({
    leaseFiles: config.leaseFiles,
    arpFile: config.arpFile,
    log,
    ...(remote
      ? {
          openFile: <T>(path: string, parse: (text: string) => T) => new RemoteFile(path, parse, readOnGateway(remote), { maxAgeMs: REMOTE_TABLE_MAX_AGE_MS }),
          missMaxAgeMs: MISS_MAX_AGE_MS,
        }
      : {}),
  });
}

/** Chooses how the gate cuts data sessions (the kernel quota needs tollkeeper's nftables table) and says so. */
export async function prepareGate(gate: Gate, log: Logger): Promise<void> {
  if (!(gate instanceof NdsctlGate)) return;
  const enforcement = await gate.prepare();
  if (gate.kernelQuotaUnavailable) log.warn({ enforcement, reason: gate.kernelQuotaUnavailable }, 'no kernel quota (nft missing or not permitted): data sessions are cut by ndsctl deauth after a reading');
  else log.info({ enforcement }, enforcement === 'nft-quota' ? 'data sessions are cut by a kernel quota per client (nftables table inet tollkeeper)' : 'data sessions are cut by ndsctl deauth after a reading');
}
