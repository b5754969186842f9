import type { Logger } from 'pino';
import type { Gate, GateReading } from '../../gate/gate.ts';
import { type Mac, parseMac } from '../../gate/mac.ts';
import type { SessionSnapshot } from '../summary.ts';

/**
 * Clients the gate lets through with no session of ours behind them. A session in `paying` holds
 * its gate too: it opens in a moment, and closing it now would race that.
 */
export function orphanedClients(reading: GateReading, sessionOf: (mac: Mac) => SessionSnapshot | undefined): Mac[] {
  const orphans: Mac[] = [];
  for (const [mac, client] of reading.clients) {
    if (!client.authenticated) continue;
    const snapshot = sessionOf(mac);
    if (!snapshot || !snapshot.hasTag('holdsGate')) orphans.push(mac);
  }
  return orphans;
}

/**
 * True when every client our sessions had open in the previous reading has gone from the gate at
 * once, as after an OpenNDS restart. (The sessions recover by themselves on the same reading: each
 * re-authorises its client and carries its usage; this tells the operator what happened.)
 */
export function gateLostEveryClient(reading: GateReading, openBefore: Mac[], minimum = 2): boolean {
  if (openBefore.length < minimum) return false;
  return openBefore.every((mac) => !reading.clients.get(mac)?.authenticated);
}

export interface GateReconcilerDeps {
  gate: Gate;
  sessionOf: (mac: Mac) => SessionSnapshot | undefined;
  sessions: () => SessionSnapshot[];
  log: Logger;
}

/** Keeps the last two gate readings and acts on what they show: orphaned clients, a restarted gate. */
export class GateReconciler {
  private previous: GateReading | null = null;
  latest: GateReading | null = null;
  private readonly closing = new Set<string>();

  constructor(private readonly deps: GateReconcilerDeps) {}

  /** Every reading of the gate passes through here. */
  observe(reading: GateReading): void {
    this.previous = this.latest;
    this.latest = reading;
  }

  /** Logs (and answers true) when every client our sessions had open vanished at once. */
  noticeRestart(reading: GateReading): boolean {
    const previous = this.previous;
    if (!previous) return false;
    // Usually some client of ours is still there, and the first one found settles it.
    for (const [mac, client] of reading.clients) {
      if (!client.authenticated || !previous.clients.get(mac)?.authenticated) continue;
      const session = this.deps.sessionOf(mac);
      if (session && (session.hasTag('metered') || session.hasTag('opening'))) return false;
    }
    // After the reading reached them, sessions whose client vanished are back in `open`. A session
    // renewing its backstop closed its own client on purpose.
    const hadOpen = this.deps
      .sessions()
      .filter((s) => (s.hasTag('metered') || s.hasTag('opening')) && !s.matches({ polling: 'renewingBackstop' }))
      .map((s) => s.context.mac as Mac)
      .filter((mac) => previous.clients.get(mac)?.authenticated);
    if (!gateLostEveryClient(reading, hadOpen)) return false;
    this.deps.log.warn({ sessions: hadOpen.length, source: reading.source }, 'the gate lost every client at once (restarted?); sessions re-authorise with their usage carried');
    return true;
  }

  /** Closes clients authorised at the gate with no session behind them; returns those closed. */
  async closeOrphans(reading: GateReading): Promise<Mac[]> {
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
