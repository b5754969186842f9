import { type ActorRefFrom, assertEvent, assign, enqueueActions, fromCallback, sendTo, setup } from 'xstate';
import { sessionMachine } from '../session/session.machine.ts';
import type { SessionContext, SessionEvent } from '../session/session.types.ts';
import { catchUpEvent, readingEvent, wakeFor } from './gateway.fanout.ts';
import { sessionSystemId } from './gateway.ids.ts';
import type { GatewayEvent, GatewayInput, MeterReading, RetirementPolicy } from './gateway.types.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

export interface GatewayContext extends GatewayInput {
  sessions: Record<string, SessionRef>;
  /**
   * The latest reading of the gate's counters, the engine's one copy of it: what sessions not woken
   * by it are measured against, and what `/usage`, the tick policy and reconciliation read.
   */
  reading: MeterReading | null;
  /** Where in the sessions the next reading's refreshes start. */
  refreshFrom: number;
  /** Readings received so far. */
  readings: number;
  meterFailures: number;
  /** Session actors retired so far: when it moves, the engine lets go of what it kept for them. */
  retired: number;
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

/** The session actors of `macs` stop and leave the sessions; the count of retirements moves. */
function retire(context: GatewayContext, macs: string[], enqueue: { stopChild(ref: SessionRef): void; assign(update: Partial<GatewayContext>): void }): void {
  if (macs.length === 0) return;
  const remaining = { ...context.sessions };
  for (const mac of macs) {
    const ref = remaining[mac];
    if (ref) enqueue.stopChild(ref);
    delete remaining[mac];
  }
  enqueue.assign({ sessions: remaining, retired: context.retired + macs.length });
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
    ensureSession: assign(({ context, event, spawn }) => {
      assertEvent(event, 'session.pay');
      if (context.sessions[event.mac]) return {};
      const ref = spawn('session', {
        id: sessionSystemId(event.mac),
        systemId: sessionSystemId(event.mac),
        input: { mac: event.mac, metric: context.metric },
      });
      return { sessions: { ...context.sessions, [event.mac]: ref } };
    }),
    forwardPayment: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.pay');
      const ref = context.sessions[event.mac];
      if (!ref) return;
      const catchUp = catchUpFor(context, event.mac, ref);
      if (catchUp) enqueue.sendTo(ref, catchUp);
      enqueue.sendTo(ref, { type: 'payment.received', payment: event.payment });
    }),
    forwardClose: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.close');
      const ref = context.sessions[event.mac];
      if (!ref) return;
      const catchUp = catchUpFor(context, event.mac, ref);
      if (catchUp) enqueue.sendTo(ref, catchUp);
      enqueue.sendTo(ref, { type: 'session.close', reason: event.reason });
    }),
    /**
     * A reading goes into the counter table; sessions get it only when it must change them (see
     * gateway.fanout.ts). Sessions waiting out a backoff to open their gate retry now: the gate answers.
     */
    distributeReading: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'meter.reading');
      const { clients, at, source } = event.reading;
      const entries = Object.entries(context.sessions);
      // Refreshes go round: each reading starts where the previous one ran out of its budget.
      const from = entries.length === 0 ? 0 : context.refreshFrom % entries.length;
      let refreshes = 0;
      let nextFrom = context.refreshFrom;
      for (let i = 0; i < entries.length; i++) {
        const index = (from + i) % entries.length;
        const [mac, ref] = entries[index]!;
        const snapshot = ref.getSnapshot();
        if (!snapshot.hasTag('metered')) {
          // Waiting out a retry backoff to open its gate: a gate that answers again is worth a try at once.
          if (snapshot.hasTag('waitingToOpen')) enqueue.sendTo(ref, { type: 'session.resume' });
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
      if (nextFrom !== context.refreshFrom) enqueue.assign({ refreshFrom: nextFrom });
    }),
    /** Every polling session takes in the latest counters (before its snapshot is written for good). */
    refreshSessions: enqueueActions(({ context, enqueue }) => {
      for (const [mac, ref] of Object.entries(context.sessions)) {
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
      const due = Object.entries(context.sessions).filter(([, ref]) => {
        const session = holdingNothing(ref);
        return session !== null && event.now >= retireAt(session, context.retirement);
      });
      retire(context, due.map(([mac]) => mac), enqueue);
    }),
    /**
     * A new MAC is about to get an actor while `maxHoldingNothing` actors hold nothing: the ones
     * that settled longest ago are retired, a tenth of the cap beyond what makes room, so the walk
     * that finds them runs once per that many new MACs, not for each.
     */
    makeRoomForSession: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'session.pay');
      const { maxHoldingNothing } = context.retirement;
      const entries = Object.entries(context.sessions);
      if (context.sessions[event.mac] || entries.length < maxHoldingNothing) return;
      const idle: Array<[string, number]> = [];
      for (const [mac, ref] of entries) {
        const session = holdingNothing(ref);
        if (session) idle.push([mac, session.settledAt ?? 0]);
      }
      if (idle.length < maxHoldingNothing) return;
      const keep = Math.max(0, maxHoldingNothing - 1 - Math.floor(maxHoldingNothing / 10));
      idle.sort((a, b) => a[1] - b[1]);
      retire(context, idle.slice(0, idle.length - keep).map(([mac]) => mac), enqueue);
    }),
  },
}).createMachine({
  id: 'gateway',
  context: ({ input }) => ({ ...input, sessions: {}, reading: null, refreshFrom: 0, readings: 0, meterFailures: 0, retired: 0 }),
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
    'meter.reading': { actions: ['distributeReading', 'recordReading'] },
    'sessions.refresh': { actions: 'refreshSessions' },
    'meter.failed': { actions: 'countMeterFailure' },
    'sessions.sweep': { actions: 'retireSettledSessions' },
    'meter.tick': { actions: sendTo('meter', { type: 'meter.tick' }) },
    'meter.replan': { actions: sendTo('meter', ({ event }) => event) },
  },
});
