import { assertEvent, assign, enqueueActions, fromCallback, sendTo, setup } from 'xstate';
import { sessionMachine } from '../session/session.machine.ts';
import type { SessionContext, SessionEvent } from '../session/session.types.ts';
import { catchUpEvent, readingEvent, wakeFor } from './gateway.fanout.ts';
import { type SessionDirectory, type SessionRef, startSession } from './gateway.sessions.ts';
import type { GatewayEvent, GatewayInput, MeterReading, RetirementPolicy } from './gateway.types.ts';

export interface GatewayContext extends GatewayInput {
  sessions: SessionDirectory;
  /**
   * The latest reading of the gate's counters, the engine's one copy of it: what sessions not woken
   * by it are measured against, and what `/usage`, the tick policy and reconciliation read.
   */
  reading: MeterReading | null;
  /** Where in the sessions the next reading's refreshes start. */
  refreshFrom: number;
  /** When a reading last made the sessions waiting to open their gate retry (see FanOutPolicy.resumeEveryMs). */
  resumedAt: number | null;
  /** Readings received so far. */
  readings: number;
  meterFailures: number;
  /** Session actors retired so far: when it moves, the engine lets go of what it kept for them. */
  retired: number;
  /** New MACs since the last walk looking for actors holding nothing (see makeRoomForSession), and how many the next one waits for. */
  newSinceWalk: number;
  walkEvery: number;
  /** Sessions those walks looked at so far: their cost, which must stay proportional to the MACs created. */
  walked: number;
}

/** The context of a session actor that holds nothing (see RetirementPolicy), or null when it holds something. */
function holdingNothing(ref: SessionRef): SessionContext | null {
  const snapshot = ref.getSnapshot();
  const context: SessionContext = snapshot.context;
  if (!snapshot.hasTag('settled') || context.settledAt === null) return null;
  return context.payments.length === 0 && context.unspent === 0 ? context : null;
}

/** When an actor holding nothing is due to be retired: soon if its gate never opened, later if it ran. */
function retireAt(context: SessionContext, policy: RetirementPolicy): number {
  return (context.settledAt ?? 0) + (context.startedAt === null ? policy.unopenedAfterMs : policy.afterMs);
}

interface RetireEnqueue {
  stopChild(ref: SessionRef): void;
  assign(update: Partial<GatewayContext>): void;
  (action: () => void): void;
}

/** An action taking `macs` out of the sessions, once XState's stopChild has stopped their actors. */
function forgetSessions(sessions: SessionDirectory, macs: string[]): () => void {
  return () => {
    for (const mac of macs) sessions.delete(mac);
  };
}

/** The session actors of `macs` stop and leave the sessions; the count of retirements moves. */
function retire(context: GatewayContext, macs: string[], enqueue: RetireEnqueue): void {
  if (macs.length === 0) return;
  for (const mac of macs) {
    const ref = context.sessions.get(mac);
    if (ref) enqueue.stopChild(ref);
  }
  enqueue(forgetSessions(context.sessions, macs));
  enqueue.assign({ retired: context.retired + macs.length });
}

/** The latest counters a polling session has not yet seen, as the event that brings them. */
function catchUpFor(context: GatewayContext, mac: string, ref: SessionRef): SessionEvent | null {
  const { reading } = context;
  if (reading === null) return null;
  const snapshot = ref.getSnapshot();
  if (!snapshot.hasTag('metered')) return null;
  return catchUpEvent(snapshot.context, reading.clients[mac], reading.at, reading.source);
}

export const gatewayMachine = setup({
  types: {
    context: {} as GatewayContext,
    events: {} as GatewayEvent,
    input: {} as GatewayInput,
  },
  actors: {
    session: sessionMachine,
    /** Reads the gate's counters once per tick and sends `meter.reading`; supplied by the engine. */
    meter: fromCallback<GatewayEvent>(() => {
      throw new Error('the gateway machine\'s "meter" actor must be supplied with machine.provide()');
    }),
    /** Sends `sessions.sweep` with the time every few seconds, so settled sessions are retired; supplied by the engine. */
    sweepTimer: fromCallback<GatewayEvent>(() => {
      throw new Error('the gateway machine\'s "sweepTimer" actor must be supplied with machine.provide()');
    }),
  },
  actions: {
    /**
     * A MAC's first payment creates its session actor (see gateway.sessions.ts). In an assign, where
     * XState's own `spawn` creates actors: the session's initial step runs its own assigns.
     */
    ensureSession: assign(({ context, event, self }) => {
      assertEvent(event, 'session.pay');
      if (!context.sessions.has(event.mac)) startSession(self, context.sessions, event.mac, { input: { mac: event.mac, metric: context.metric } });
      return {};
    }),
    /** The persisted sessions come back, each from its snapshot, before anything else reaches them. */
    restoreSessions: assign(({ context, event, self }) => {
      assertEvent(event, 'sessions.restore');
      for (const { mac, snapshot } of event.sessions) {
        if (!context.sessions.has(mac)) startSession(self, context.sessions, mac, { snapshot });
      }
      return {};
    }),
    /** XState stops only the children in its own record when the gateway stops: the sessions stop first, each once. */
    stopSessions: enqueueActions(({ context, enqueue }) => {
      for (const ref of context.sessions.values()) enqueue.stopChild(ref);
      enqueue(forgetSessions(context.sessions, [...context.sessions.keys()]));
    }),
    forwardPayment: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.pay');
      const ref = context.sessions.get(event.mac);
      if (!ref) return;
      const catchUp = catchUpFor(context, event.mac, ref);
      if (catchUp) enqueue.sendTo(ref, catchUp);
      enqueue.sendTo(ref, { type: 'payment.received', payment: event.payment });
    }),
    forwardClose: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.close');
      const ref = context.sessions.get(event.mac);
      if (!ref) return;
      const catchUp = catchUpFor(context, event.mac, ref);
      if (catchUp) enqueue.sendTo(ref, catchUp);
      enqueue.sendTo(ref, { type: 'session.close', reason: event.reason });
    }),
    forwardMove: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.move');
      const ref = context.sessions.get(event.mac);
      if (!ref?.getSnapshot().matches({ polling: 'metering' })) return;
      const catchUp = catchUpFor(context, event.mac, ref);
      if (catchUp) enqueue.sendTo(ref, catchUp);
      enqueue.sendTo(ref, { type: 'session.move', to: event.to });
    }),
    /**
     * A reading goes into the counter table; sessions get it only when it must change them (see
     * gateway.fanout.ts). Sessions waiting out a backoff to open their gate retry now, the gate
     * answering, unless a reading made them retry less than `resumeEveryMs` ago.
     */
    distributeReading: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'meter.reading');
      const { clients, at, source } = event.reading;
      const entries = [...context.sessions];
      const resumeDue = context.resumedAt === null || at - context.resumedAt >= context.fanOut.resumeEveryMs;
      let resumed = false;
      // Refreshes go round: each reading starts where the previous one ran out of its budget.
      const from = entries.length === 0 ? 0 : context.refreshFrom % entries.length;
      let refreshes = 0;
      let nextFrom = context.refreshFrom;
      for (let i = 0; i < entries.length; i++) {
        const index = (from + i) % entries.length;
        const [mac, ref] = entries[index]!;
        const snapshot = ref.getSnapshot();
        if (!snapshot.hasTag('metered')) {
          if (resumeDue && snapshot.hasTag('waitingToOpen')) {
            enqueue.sendTo(ref, { type: 'session.resume' });
            resumed = true;
          }
          continue;
        }
        const wake = wakeFor(snapshot.context, clients[mac], at, source, context.fanOut.refreshMs);
        if (wake === 'none') continue;
        if (wake === 'refresh') {
          if (refreshes >= context.fanOut.maxRefreshPerReading) continue;
          refreshes += 1;
          nextFrom = index + 1;
        } else {
          // Usage is carried across a vanished client or restarted counters: bring it up to date first.
          const catchUp = catchUpFor(context, mac, ref);
          if (catchUp) enqueue.sendTo(ref, catchUp);
        }
        enqueue.sendTo(ref, readingEvent(snapshot.context, clients[mac], at, source));
      }
      if (nextFrom !== context.refreshFrom || resumed) enqueue.assign({ refreshFrom: nextFrom, ...(resumed ? { resumedAt: at } : {}) });
    }),
    /** Every polling session takes in the latest counters (before its snapshot is written for good). */
    refreshSessions: enqueueActions(({ context, enqueue }) => {
      for (const [mac, ref] of context.sessions) {
        const catchUp = catchUpFor(context, mac, ref);
        if (catchUp) enqueue.sendTo(ref, catchUp);
      }
    }),
    recordReading: assign(({ context, event }) => {
      assertEvent(event, 'meter.reading');
      return { reading: event.reading, readings: context.readings + 1, meterFailures: 0 };
    }),
    countMeterFailure: assign(({ context }) => ({ meterFailures: context.meterFailures + 1 })),
    retireSettledSessions: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'sessions.sweep');
      const due = [...context.sessions].filter(([, ref]) => {
        const session = holdingNothing(ref);
        return session !== null && event.now >= retireAt(session, context.retirement);
      });
      retire(context, due.map(([mac]) => mac), enqueue);
    }),
    /**
     * Keeps the actors holding nothing at `maxHoldingNothing` as new MACs arrive. Finding them walks
     * every session, so the walk runs once per `walkEvery` new MACs: a tenth of the cap, or of the
     * sessions holding something if more, which keeps its cost per new MAC constant however many
     * sessions are live. Each walk retires the ones that settled longest ago, leaving room for the
     * `walkEvery` new MACs until the next walk; with more than ten times the cap holding something,
     * that room is a tenth of them.
     */
    makeRoomForSession: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.pay');
      const { maxHoldingNothing } = context.retirement;
      if (context.sessions.has(event.mac) || context.sessions.size < maxHoldingNothing) return;
      if (context.newSinceWalk + 1 < context.walkEvery) {
        enqueue.assign({ newSinceWalk: context.newSinceWalk + 1 });
        return;
      }
      const idle: Array<[string, number]> = [];
      for (const [mac, ref] of context.sessions) {
        const session = holdingNothing(ref);
        if (session) idle.push([mac, session.settledAt ?? 0]);
      }
      const holdingSomething = context.sessions.size - idle.length;
      const walkEvery = Math.max(1, Math.floor(maxHoldingNothing / 10), Math.floor(holdingSomething / 10));
      enqueue.assign({ newSinceWalk: 0, walkEvery, walked: context.walked + context.sessions.size });
      const keep = Math.max(0, maxHoldingNothing - walkEvery);
      if (idle.length <= keep) return;
      idle.sort((a, b) => a[1] - b[1]);
      retire(context, idle.slice(0, idle.length - keep).map(([mac]) => mac), enqueue);
    }),
  },
}).createMachine({
  id: 'gateway',
  context: ({ input }) => ({
    ...input,
    sessions: new Map(),
    reading: null,
    refreshFrom: 0,
    resumedAt: null,
    readings: 0,
    meterFailures: 0,
    retired: 0,
    newSinceWalk: 0,
    walkEvery: 1,
    walked: 0,
  }),
  initial: 'running',
  states: {
    running: {
      invoke: [
        {
          id: 'meter',
          src: 'meter',
          onError: { target: 'running', reenter: true, actions: 'countMeterFailure' },
        },
        { id: 'sweepTimer', src: 'sweepTimer' },
      ],
    },
  },
  on: {
    'session.pay': { actions: ['makeRoomForSession', 'ensureSession', 'forwardPayment'] },
    'session.close': { actions: 'forwardClose' },
    'session.move': { actions: 'forwardMove' },
    'meter.reading': { actions: ['distributeReading', 'recordReading'] },
    'sessions.refresh': { actions: 'refreshSessions' },
    'meter.failed': { actions: 'countMeterFailure' },
    'sessions.sweep': { actions: 'retireSettledSessions' },
    'sessions.restore': { actions: 'restoreSessions' },
    'sessions.stop': { actions: 'stopSessions' },
    'meter.tick': { actions: sendTo('meter', { type: 'meter.tick' }) },
    'meter.replan': { actions: sendTo('meter', ({ event }) => event) },
  },
});
