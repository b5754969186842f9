// The lab benches' stopwatch for "traffic flows": traffic-probe.ts run inside a client's namespace,
// and the bare gate opening every bench sets its figures against, timed by that same probe.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import type { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { bytesUrl, captivePortalCheck, type LabClient } from '../../test/gateway/lab.ts';
import { deauthAllClients } from '../../test/gateway/tollkeeper-lab.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Starts the probe in a client's namespace; resolves once it is trying. Wrapped: a ResultPromise is a thenable. */
export async function startProbe(ns: string): Promise<{ flowingAt: () => Promise<number> }> {
  const probe = execa('ip', ['netns', 'exec', ns, 'node', '--import', 'tsx', 'bench/lab/traffic-probe.ts', bytesUrl(1)], {
    cwd: REPO,
    reject: false,
    stdin: 'ignore',
  });
  await new Promise<void>((resolve) => probe.stdout!.once('data', () => resolve()));
  return {
    async flowingAt() {
      const flowing = /flowing (\d+)/.exec(String((await probe).stdout));
      if (!flowing) throw new Error(`the probe in ${ns} never got through`);
      return Number(flowing[1]);
    },
  };
}

export interface RawOpening {
  authMs: number;
  readAllMs: number;
  /** From the start of `ndsctl auth` to the probe's first answer. */
  authToFlowingMs: number;
}

/** The calls tollkeeper makes to open a gate (`ndsctl auth`, one counters read), run bare for `client` with the probe running. */
export async function rawOpening(gate: NdsctlGate, client: LabClient): Promise<RawOpening> {
  await deauthAllClients();
  // The same start as a paying customer's: OpenNDS has seen the client.
  await captivePortalCheck(client.n);
  const probe = await startProbe(client.ns);
  const wallStart = Date.now();
  let started = performance.now();
  await gate.authorize(client.mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
  const authMs = performance.now() - started;
  started = performance.now();
  await gate.readAll();
  const readAllMs = performance.now() - started;
  return { authMs, readAllMs, authToFlowingMs: (await probe.flowingAt()) - wallStart };
}
