import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { LocalTransport } from '../../src/gate/local-transport.ts';
import { sshArguments, SshTransport } from '../../src/gate/ssh-transport.ts';
import { TestSshd } from '../../test/support/sshd.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median, round } from '../lib/stats.ts';

const COMMAND = 'npm run bench -- ssh-tick';
const CLIENTS = [1, 10, 100] as const;
const ROUNDS = 5;
/** Ticks per round: the persistent transports, and the per-call ssh prefix (a handshake per listing). */
const TICKS = { session: 20, perCall: 1 } as const;

/**
 * One client's rules as OpenNDS 9.10 lists them (test/fixtures/gate/real-opennds-9.10/iptables-mangle-*),
 * repeated for `count` clients with distinct addresses, MACs and counts.
 */
function listings(count: number): { incoming: string; outgoing: string } {
  const header = (chain: string) => `Chain ${chain} (1 references)\n    pkts      bytes target     prot opt in     out     source               destination         \n`;
  const row = (pkts: number, bytes: number, target: string, source: string, destination: string, extra: string) =>
    `${String(pkts).padStart(8)} ${String(bytes).padStart(8)} ${target.padEnd(10)} 0    --  *      *       ${source.padEnd(20)} ${destination.padEnd(20)} ${extra}`.trimEnd() + (extra ? '\n' : ' \n');
  let incoming = header('ndsINC');
  let outgoing = header('ndsOUT');
  for (let i = 0; i < count; i++) {
    const ip = `198.18.${1 + (i >> 8)}.${i & 255}`;
    const mac = `02:74:6b:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const down = 5_009_744 + i * 7_919;
    incoming += row(184 + i, down, 'MARK', '0.0.0.0/0', ip, 'MARK or 0x30000') + row(184 + i, down, 'ACCEPT', '0.0.0.0/0', ip, '');
    outgoing += row(274 + i, 14_348 + i * 31, 'MARK', ip, '0.0.0.0/0', `MAC ${mac} MARK or 0x30000`);
  }
  return { incoming, outgoing };
}

/** A directory holding the N-client listings and a fake `iptables` that prints them (a sh script, the same on both sides). */
async function fakeFirewall(root: string, count: number): Promise<string> {
  const dir = join(root, `clients-${count}`);
  await mkdir(dir, { recursive: true });
  const { incoming, outgoing } = listings(count);
  await writeFile(join(dir, 'ndsINC.txt'), incoming);
  await writeFile(join(dir, 'ndsOUT.txt'), outgoing);
  // iptables -t mangle -L CHAIN -v -x -n
  await writeFile(join(dir, 'iptables'), `#!/bin/sh\nexec cat "${dir}/$4.txt"\n`);
  await chmod(join(dir, 'iptables'), 0o755);
  return dir;
}

async function msPerTick(gate: NdsctlGate, ticks: number, clients: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ticks; i++) {
    const reading = await gate.readAll();
    if (reading.clients.size !== clients || reading.source !== 'iptables') throw new Error(`a tick read ${reading.clients.size} clients from ${reading.source}`);
  }
  return (performance.now() - started) / ticks;
}

/**
 * A metering tick (both firewall listings, parsed) for 1, 10 and 100 clients: run here, over one
 * long-lived ssh session to a real sshd on loopback (the agent under busybox sh), and with the old
 * per-call `ssh` prefix (a handshake per listing). The same recorded-format listing is served by
 * the same fake `iptables` on both sides, so the difference is the transport's.
 */
export const sshTickBench: Bench = {
  name: 'ssh-tick',
  byDefault: false,
  async run(): Promise<BenchRow[]> {
    const sshd = await TestSshd.start();
    const rows: BenchRow[] = [];
    try {
      for (const clients of CLIENTS) {
        const dir = await fakeFirewall(sshd.dir, clients);
        const gateOptions = { counters: 'iptables' as const, enforce: 'deauth' as const, timeoutMs: 30_000 };
        const path = `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
        const local = new NdsctlGate({ ...gateOptions, transport: new LocalTransport({ PATH: path }) });
        const session = new SshTransport({ ...sshd.target({ maxReplyBytes: 8 * 1024 * 1024 }), agentShell: sshd.agentShell([dir]) });
        const overSsh = new NdsctlGate({ ...gateOptions, transport: session });
        const perCall = new NdsctlGate({ ...gateOptions, command: ['ssh', ...sshArguments(sshd.target(), 'env'), `PATH=${dir}:/usr/bin:/bin`, 'ndsctl'] });
        const samples = { local: [] as number[], ssh: [] as number[], perCall: [] as number[] };
        await msPerTick(local, 3, clients);
        await msPerTick(overSsh, 3, clients);
        for (let round = 0; round < ROUNDS; round++) {
          samples.local.push(await msPerTick(local, TICKS.session, clients));
          samples.ssh.push(await msPerTick(overSsh, TICKS.session, clients));
          samples.perCall.push(await msPerTick(perCall, TICKS.perCall, clients));
        }
        await session.close();
        if (session.connects !== 1) throw new Error(`the ssh transport connected ${session.connects} times`);
        const [l, s, p] = [median(samples.local), median(samples.ssh), median(samples.perCall)];
        const ratio = s / l;
        rows.push({
          what: `metering tick, ${clients} client${clients === 1 ? '' : 's'}: over one ssh session ÷ local`,
          command: COMMAND,
          figure: `${round(ratio, 2)}× (ssh session ${round(s, 2)} ms, local ${round(l, 2)} ms, per-call ssh prefix ${round(p, 1)} ms = ${round(p / l, 1)}× local)`,
          goal: clients === 100 ? '≤ 2× local' : '—',
          met: clients === 100 ? ratio <= 2 : null,
          note: `median of ${ROUNDS} interleaved rounds of ${TICKS.session} ticks (per-call: ${TICKS.perCall}); 2 listings per tick; sshd and the busybox agent on loopback, so no network latency is in these figures`,
        });
      }
    } finally {
      await sshd.stop();
    }
    return rows;
  },
};
