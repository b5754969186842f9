import { type Actor, fromCallback, waitFor } from 'xstate';
import type { gatewayMachine } from '../../machines/gateway/gateway.machine.ts';
import type { GatewayEvent, MeterReading } from '../../machines/gateway/gateway.types.ts';
import type { GateReading } from '../gate/gate.ts';

export interface MeterDeps {
  readAll: () => Promise<GateReading>;
  /** Milliseconds until the next read, or null when no session needs metering. */
  nextDelay: () => number | null;
  idleMs: number;
  /** false: read only when asked (`meter.tick`); for tests that step time by hand. */
  autoTick?: boolean;
  onTick?: (tick: { durationMs: number; clients: number; source: string }) => void;
  onError?: (error: unknown) => void;
}

export function toMeterReading(reading: GateReading): MeterReading {
  const clients: MeterReading['clients'] = {};
  for (const [mac, client] of reading.clients) {
    clients[mac] = { download: client.download, upload: client.upload, authenticated: client.authenticated, ...(client.source !== undefined ? { source: client.source } : {}) };
  }
  return { at: reading.at, source: reading.source, clients };
}

/** The gateway's meter: one read of every client's counters per tick, at the pace the sessions need. */
export function meterActor(deps: MeterDeps) {
  return fromCallback<GatewayEvent>(({ sendBack, receive }) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;

    let lastReadAt = performance.now();
    /** When the armed timer fires (performance.now() time). */
    let nextReadAt = Infinity;
    const schedule = (ms: number) => {
      if (stopped || deps.autoTick === false) return;
      nextReadAt = performance.now() + ms;
      timer = setTimeout(() => void tick(), ms);
    };

    let running = false;
    /** A read asked for while one was running: it starts when that one ends. */
    let askedAgain = false;
    const tick = async (forced = false) => {
      if (running) {
        askedAgain ||= forced;
        return;
      }
      running = true;
      clearTimeout(timer);
      try {
        await readOnce(forced);
      } finally {
        running = false;
      }
      if (askedAgain && !stopped) {
        askedAgain = false;
        void tick(true);
      }
    };

    const readOnce = async (forced: boolean) => {
      if (!forced && deps.nextDelay() === null) return schedule(deps.idleMs);
      const started = performance.now();
      lastReadAt = started;
      try {
        const reading = await deps.readAll();
        if (stopped) return;
        sendBack({ type: 'meter.reading', reading: { ...toMeterReading(reading), startedAt: started } });
        deps.onTick?.({ durationMs: performance.now() - started, clients: reading.clients.size, source: reading.source });
      } catch (error) {
        if (stopped) return;
        deps.onError?.(error);
        sendBack({ type: 'meter.failed', error: error instanceof Error ? error.message : String(error), at: Date.now() });
      }
      schedule(deps.nextDelay() ?? deps.idleMs);
    };

    receive((event) => {
      if (event.type === 'meter.tick') void tick(true);
      // A session began metering (a gate just opened, or re-opened): a small purchase or a customer
      // already downloading may need a read sooner than the timer armed before it was there.
      if (event.type === 'meter.replan' && !running && lastReadAt + event.withinMs < nextReadAt) {
        clearTimeout(timer);
        schedule(Math.max(0, lastReadAt + event.withinMs - performance.now()));
      }
    });
    schedule(0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  });
}

/**
 * Asks the root's meter to read the gate now; resolves once a reading begun after the asking has
 * reached the sessions. A read already under way when asked does not count: it may have listed the
 * counters before whatever the caller did just before asking.
 */
export async function readNow(root: Actor<typeof gatewayMachine>, timeoutMs: number): Promise<void> {
  const { meterFailures } = root.getSnapshot().context;
  const askedAt = performance.now();
  root.send({ type: 'meter.tick' });
  const fresh = (reading: MeterReading | null) => reading !== null && (reading.startedAt ?? -Infinity) >= askedAt;
  const after = await waitFor(root, (s) => fresh(s.context.reading) || s.context.meterFailures > meterFailures, { timeout: timeoutMs });
  if (!fresh(after.context.reading)) throw new Error('reading the gate failed');
}
