import { latestUsed, withLatestCounters } from '../../machines/gateway/gateway.fanout.ts';
import type { MeterReading } from '../../machines/gateway/gateway.types.ts';
import type { SessionContext } from '../../machines/session/session.types.ts';
import type { SessionSnapshot } from './summary.ts';
import { type MeteredSession, nextTickDelay, type TickPolicy } from './tick-policy.ts';

/**
 * When the gate is read next, and what a session's usage is as of the latest reading. The meter
 * wakes a session actor only when a reading must change it, so its own record of usage can be a few
 * seconds old; the root actor keeps the latest reading, and this applies it.
 */
export class MeterPlan {
  constructor(
    readonly policy: TickPolicy,
    private readonly latestReading: () => MeterReading | null,
    private readonly sessions: () => Iterable<SessionSnapshot>,
  ) {}

  /** A session's context with the latest reading applied (for `/usage`, the CLI and the live view). */
  latestContext(snapshot: SessionSnapshot): SessionContext {
    const reading = this.latestReading();
    if (!reading || !snapshot.hasTag('metered')) return snapshot.context;
    return withLatestCounters(snapshot.context, reading.clients[snapshot.context.mac], reading.at, reading.source);
  }

  /** Null when nothing needs the gate read: no session metered, none waiting to (re)open its gate. */
  nextDelay(): number | null {
    const metered: MeteredSession[] = [];
    let opening = false;
    for (const snapshot of this.sessions()) {
      if (snapshot.hasTag('metered')) metered.push(this.metered(snapshot.context));
      else if (snapshot.hasTag('opening')) opening = true;
    }
    if (metered.length > 0) return nextTickDelay(metered, this.policy);
    return opening ? this.policy.maxMs : null;
  }

  /** How soon after the last read a session that just started metering needs the next one. */
  firstReadWithin(context: SessionContext): number {
    return nextTickDelay([this.metered(context)], this.policy);
  }

  /** What the tick policy needs of a metered session, its usage as of the latest reading (no context copy). */
  private metered(context: SessionContext): MeteredSession {
    const reading = this.latestReading();
    const { metric, rate, allotment, endsAt, mac } = context;
    const used = reading ? latestUsed(context, reading.clients[mac], reading.at, reading.source) : context.used;
    return { metric, rate, allotment, endsAt, used };
  }
}
