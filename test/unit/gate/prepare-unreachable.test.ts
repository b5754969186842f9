// `gate.enforce: auto` decides at start whether the kernel quota can be used, by creating
// tollkeeper's nftables table on the gateway host. A host that does not answer (an ssh gate whose
// router is still rebooting) says nothing of its nft: the gate waits for it, and settles on the
// deauth fallback only when the host answers that nft is missing, or after the wait.
import { describe, expect, it } from 'vitest';
import type { CommandResult, GateTransport, TransportFault, TransportRunOptions } from '../../../src/gate/gate-transport.ts';
import { GateTransportError } from '../../../src/gate/gate-transport.ts';
import { NdsctlGate, type EnforceMode } from '../../../src/gate/ndsctl-gate.ts';

/** A router that fails `faults` calls on the way there, then answers every command with `answer`. */
class RebootingRouter implements GateTransport {
  readonly kind = 'ssh' as const;
  calls = 0;
  constructor(
    private faults: number,
    private readonly fault: TransportFault = 'connect',
    private readonly answer: Omit<CommandResult, 'command'> = { exitCode: 0, stdout: '', stderr: '' },
  ) {}

  async run(argv: readonly string[], _options: TransportRunOptions): Promise<CommandResult> {
    this.calls += 1;
    if (this.faults > 0) {
      this.faults -= 1;
      throw new GateTransportError(this.fault, `ssh: connect to host 192.168.1.1 port 22: No route to host`);
    }
    return { command: [...argv], ...this.answer };
  }

  async close(): Promise<void> {}
}

function gateOver(router: RebootingRouter, enforce: EnforceMode, unreachableWaitMs?: number) {
  const slept: number[] = [];
  const gate = new NdsctlGate({
    command: ['ndsctl'],
    transport: router,
    enforce,
    sleep: async (ms) => void slept.push(ms),
    ...(unreachableWaitMs !== undefined ? { unreachableWaitMs } : {}),
  });
  return { gate, slept };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('choosing the enforcement while the gateway host does not answer', () => {
  it('auto waits for a router that comes back, then uses the kernel quota', async () => {
    const router = new RebootingRouter(4);
    const { gate, slept } = gateOver(router, 'auto');
    expect(await gate.prepare()).toBe('nft-quota');
    expect(gate.enforcement).toBe('nft-quota');
    expect(gate.kernelQuotaUnavailable).toBeUndefined();
    expect(slept).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(router.calls).toBe(5);
  });

  it('auto settles on deauth after the wait (60 s by default), saying why', async () => {
    const { gate, slept } = gateOver(new RebootingRouter(Number.MAX_SAFE_INTEGER), 'auto');
    expect(await gate.prepare()).toBe('deauth');
    expect(sum(slept)).toBe(60_000);
    expect(Math.max(...slept)).toBe(10_000);
    expect(gate.kernelQuotaUnavailable).toMatch(/did not answer for 60 s: ssh: connect to host/);
  });

  it('nft-quota waits as long, then fails the start', async () => {
    const { gate, slept } = gateOver(new RebootingRouter(Number.MAX_SAFE_INTEGER), 'nft-quota', 5_000);
    await expect(gate.prepare()).rejects.toBeInstanceOf(GateTransportError);
    expect(sum(slept)).toBe(5_000);
  });

  it('a host that answers without nft is not waited for', async () => {
    const router = new RebootingRouter(0, 'connect', { exitCode: 127, stdout: '', stderr: 'sh: nft: not found\n' });
    const { gate, slept } = gateOver(router, 'auto');
    expect(await gate.prepare()).toBe('deauth');
    expect(slept).toEqual([]);
    expect(gate.kernelQuotaUnavailable).toMatch(/nft: not found/);
  });

  it('a refused host key is not waited out', async () => {
    const { gate, slept } = gateOver(new RebootingRouter(Number.MAX_SAFE_INTEGER, 'host-key'), 'auto');
    expect(await gate.prepare()).toBe('deauth');
    expect(slept).toEqual([]);
  });
});
