import { fromPromise } from 'xstate';
import type { GateInput, GateOpened, LeaveGateInput, OpenGateInput } from '../../machines/session/session.actors.ts';
import type { Baseline, FinalReading } from '../../machines/session/session.types.ts';
import { type Gate, GateError, type GateReading } from '../gate/gate.ts';
import { type Mac, parseMac } from '../gate/mac.ts';
import type { Credit, Redeemer, RedeemInput } from '../../machines/domain.ts';

export interface SessionEffectDeps {
  gate: Gate;
  redeemer: Redeemer;
  /** The meter's own reading, shared by concurrent callers, so a baseline counts like the meter does. */
  readAll: () => Promise<GateReading>;
  /** MACs restored while their authorisation was in flight; each is taken out at its next authorisation. */
  restoredAuthorizing?: Set<string>;
}

/** The real effects behind the session machine's named actors. */
export function sessionEffects({ gate, redeemer, readAll, restoredAuthorizing = new Set() }: SessionEffectDeps) {
  /**
   * MACs restored in the middle of an authorisation whose re-run found the client already
   * authorised: the auth sent before the crash took effect, the gate's counters started at it, and
   * every byte they show is this session's (the traffic while tollkeeper was dead included). Only
   * then: a client found authorised at any other opening (an earlier auth whose answer timed out,
   * or a reading that missed a client still open) may hold counters of traffic already charged,
   * so its baseline is read as before.
   */
  const openedBefore = new Set<string>();
  return {
    // A precredited payment goes to the redeemer too: it hands the booked credit over once, whichever way it comes.
    redeemPayment: fromPromise<Credit, RedeemInput>(async ({ input }) =>
      redeemer.redeem({ mac: input.mac, sessionId: input.sessionId, payment: input.payment }),
    ),
    openGate: fromPromise<GateOpened, OpenGateInput>(async ({ input }) => {
      const since = Date.now();
      const mac = parseMac(input.mac);
      if (input.gate !== undefined) pinTo(mac, input.gate);
      const on = gate.gateOf ? { gate: gate.gateOf(mac) } : {};
      if ((gate.enforcementFor?.(mac) ?? gate.enforcement) !== 'nft-quota') {
        const outcome = await gate.authorize(mac, input.limits);
        if (restoredAuthorizing.delete(mac) && outcome === 'already-open') openedBefore.add(mac);
        else openedBefore.delete(mac);
        return { outcome, backstop: { ...input.limits, since }, ...on };
      }
      // The kernel quota is the data session's backstop: OpenNDS's own quota would only force a
      // renewal (a deauth and an auth) at a top-up beyond it.
      const allowance = input.allowance ?? null;
      const limits = allowance === null ? input.limits : { ...input.limits, downloadQuotaKB: 0, uploadQuotaKB: 0 };
      const outcome = await gate.authorize(mac, limits, allowance);
      return { outcome, backstop: { ...limits, since }, ...on };
    }),
    readBaseline: fromPromise<Baseline, GateInput>(async ({ input }) => {
      const mac = parseMac(input.mac);
      const reading = await readAll();
      const client = reading.clients.get(mac);
      if (!client?.authenticated) throw new GateError('not-found', `the gate does not list ${mac} as authorised yet`);
      const source = client.source ?? reading.source;
      // The quota's counters were installed at 0 just before the gate opened: every byte since is this opening's.
      if (source === 'nft-quota') return { download: 0, upload: 0, source };
      if (openedBefore.delete(mac)) return { download: 0, upload: 0, source };
      return { download: client.download, upload: client.upload, source };
    }),
    closeGate: fromPromise(({ input }: { input: GateInput }) => gate.deauthorize(parseMac(input.mac))),
    readAndCloseGate: fromPromise<FinalReading | null, GateInput>(async ({ input }) => {
      const mac = parseMac(input.mac);
      const reading = await readAll();
      await gate.deauthorize(mac, { keepQuota: true });
      return finalReadingOf(reading, mac);
    }),
    // The gate left keeps no quota for the client: the session opens elsewhere, with one of its own.
    leaveGate: fromPromise<FinalReading | null, LeaveGateInput>(async ({ input }) => {
      const mac = parseMac(input.mac);
      if (input.gate !== null) pinTo(mac, input.gate);
      const reading = await readAll();
      await gate.deauthorize(mac);
      return finalReadingOf(reading, mac);
    }),
  };

  function pinTo(mac: Mac, name: string): void {
    if (!gate.moveTo) throw new GateError('failed', `no gate named ${name}: this tollkeeper serves one gate`);
    gate.moveTo(mac, name);
  }
}

function finalReadingOf(reading: GateReading, mac: Mac): FinalReading | null {
  const client = reading.clients.get(mac);
  if (!client?.authenticated) return null;
  return { download: client.download, upload: client.upload, at: reading.at, source: client.source ?? reading.source };
}

/**
 * Coalesces concurrent reads: every caller gets a reading that started after it asked, and callers
 * that ask while a read is running share the next one.
 */
export function coalesced<T>(run: () => Promise<T>): () => Promise<T> {
  let current: Promise<T> | null = null;
  let next: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const reading = run().finally(() => {
      if (current === reading) current = null;
    });
    current = reading;
    return reading;
  };
  return () => {
    if (!current) return start();
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = null;
        return start();
      });
    return next;
  };
}
