import type { Logger } from 'pino';
import type { MeterReading } from '../../machines/gateway/gateway.types.ts';
import type { Gate } from '../gate/gate.ts';
import { type Mac, parseMac } from '../gate/mac.ts';
import type { SessionSnapshot } from './summary.ts';

export interface ReconcileReport {
  /** Clients closed at the gate because no session stood behind them. */
  orphansClosed: Mac[];
  /** Every client our sessions had open had vanished from the gate (an OpenNDS restart). */
  gateRestarted: boolean;
}

/**
 * Clients the gate lets through with no session of ours behind them. A session in `paying` holds
 * its gate too: it opens in a moment, and closing it now would race that.
 */
export function orphanedClients(reading: MeterReading, sessionOf: (mac: Mac) => SessionSnapshot | undefined): Mac[] {
  const orphans: Mac[] = [];
  for (const mac in reading.clients) {
    if (!reading.clients[mac]!.authenticated) continue;
    const snapshot = sessionOf(mac as Mac);
    if (!snapshot || !snapshot.hasTag('holdsGate')) orphans.push(mac as Mac);
  }
  return orphans;
}

/**
 * True when every client our sessions had open in the previous reading has gone from the gate at
 * once, as after an OpenNDS restart. (The sessions recover by themselves on the same reading: each
 * re-authorises its client and carries its usage; this tells the operator what happened.)
 */
export function gateLostEveryClient(reading: MeterReading, openBefore: Mac[], minimum = 2): boolean {
  if (openBefore.length < minimum) return false;
  return openBefore.every((mac) => !reading.clients[mac]?.authenticated);
}

function closedOnPurpose(session: SessionSnapshot): boolean {
  return session.matches({ polling: 'renewingBackstop' }) || session.matches({ polling: { toppingUp: 'suspending' } }) || session.matches({ polling: { toppingUp: 'suspended' } });
}

export interface GateReconcilerDeps {
  gate: Gate;
  sessionOf: (mac: Mac) => SessionSnapshot | undefined;
  sessions: () => SessionSnapshot[];
  log: Logger;
  /** Orphaned clients are looked for every this many meter readings. */
  everyReadings: number;
}

/** Acts on what the gate's readings show: orphaned clients, a restarted gate. */
export class GateReconciler {
  /** The reading before the one being looked at: a restart shows as clients gone since then. */
  private previous: MeterReading | null = null;
  private readings = 0;
  private readonly closing = new Set<string>();

  constructor(private readonly deps: GateReconcilerDeps) {}

  /** After each meter reading: a restart is noticed at once, orphans are closed every `everyReadings`. */
  afterReading(reading: MeterReading): void {
    this.readings += 1;
    this.noticeRestart(reading);
    if (this.readings % this.deps.everyReadings !== 0) return;
    void this.closeOrphans(reading).catch((err: unknown) => this.deps.log.warn({ err }, 'closing orphaned gate clients failed'));
  }

  /** Logs (and answers true) when every client our sessions had open vanished since the previous reading. */
  noticeRestart(reading: MeterReading): boolean {
    const previous = this.previous;
    this.previous = reading;
    if (!previous) return false;
    // Usually some client of ours is still there, and the first one found settles it.
    for (const mac in reading.clients) {
      if (!reading.clients[mac]!.authenticated || !previous.clients[mac]?.authenticated) continue;
      const session = this.deps.sessionOf(mac as Mac);
      if (session && (session.hasTag('metered') || session.hasTag('opening'))) return false;
    }
    // After the reading reached them, sessions whose client vanished are back in `open`. A session
    // renewing its backstop, or closing the gate until a top-up is credited, closed its own client on purpose.
    const hadOpen = this.deps
      .sessions()
      .filter((s) => (s.hasTag('metered') || s.hasTag('opening')) && !closedOnPurpose(s))
      .map((s) => s.context.mac as Mac)
      .filter((mac) => previous.clients[mac]?.authenticated);
    if (!gateLostEveryClient(reading, hadOpen)) return false;
    this.deps.log.warn({ sessions: hadOpen.length, source: reading.source }, 'the gate lost every client at once (restarted?); sessions re-authorise with their usage carried');
    return true;
  }

  /** Closes clients authorised at the gate with no session behind them; returns those closed. */
  async closeOrphans(reading: MeterReading): Promise<Mac[]> {
    const orphans = orphanedClients(reading, this.deps.sessionOf).filter((mac) => !this.closing.has(mac));
    const closed: Mac[] = [];
    await Promise.all(
      orphans.map(async (mac) => {
        // The session may have moved on while the reading travelled: decide again now.
        const now = this.deps.sessionOf(mac);
        if (now?.hasTag('holdsGate')) return;
        this.closing.add(mac);
        try {
          if ((await this.deps.gate.deauthorize(parseMac(mac))) === 'closed') {
            this.deps.log.warn({ mac }, 'closed a gate client authorised with no session behind it');
            closed.push(mac);
          }
        } catch (err) {
          this.deps.log.warn({ err, mac }, 'closing a gate client with no session behind it failed; retried at the next reconciliation');
        } finally {
          this.closing.delete(mac);
        }
      }),
    );
    return closed;
  }
}

/**
 * The start-up reconciliation, then the pruning of kernel quotas left for clients with no session.
 * Resolves with the report, or null when the gate could not be read (the meter retries).
 */
export function reconcileAtStart(reconcile: () => Promise<ReconcileReport>, prune: () => Promise<unknown>, log: Logger): Promise<ReconcileReport | null> {
  return reconcile()
    .then(async (report) => {
      await prune();
      return report;
    })
    .catch((err: unknown) => {
      log.warn({ err }, 'start-up reconciliation with the gate failed; the meter retries');
      return null;
    });
}
