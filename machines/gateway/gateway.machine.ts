import { type ActorRefFrom, assign, enqueueActions, fromCallback, sendTo, setup } from 'xstate';
import { sessionMachine } from '../session/session.machine.ts';
import type { SessionContext } from '../session/session.types.ts';
import { sessionSystemId } from './gateway.ids.ts';
import type { GatewayEvent, GatewayInput, MeterReading } from './gateway.types.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

export interface GatewayContext extends GatewayInput {
  sessions: Record<string, SessionRef>;
  lastReading: { at: number; source: string; clients: number } | null;
  /** Readings received so far. */
  readings: number;
  meterFailures: number;
}

/** States in which a session actor holds nothing open and may be retired. */
const SETTLED_STATES = ['idle', { exhausted: 'gateClosed' }, { closed: 'gateClosed' }] as const;

function isRetirable(ref: SessionRef, now: number, retireAfterMs: number): boolean {
  const snapshot = ref.getSnapshot();
  const context: SessionContext = snapshot.context;
  if (context.payments.length > 0 || context.settledAt === null) return false;
  if (!SETTLED_STATES.some((state) => snapshot.matches(state))) return false;
  return now - context.settledAt >= retireAfterMs;
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
  },
  actions: {
    ensureSession: assign(({ context, event, spawn }) => {
      if (event.type !== 'session.pay' || context.sessions[event.mac]) return {};
      const ref = spawn('session', {
        id: sessionSystemId(event.mac),
        systemId: sessionSystemId(event.mac),
        input: { mac: event.mac, metric: context.metric },
      });
      return { sessions: { ...context.sessions, [event.mac]: ref } };
    }),
    forwardPayment: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'session.pay') return;
      const ref = context.sessions[event.mac];
      if (ref) enqueue.sendTo(ref, { type: 'payment.received', payment: event.payment });
    }),
    forwardClose: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'session.close') return;
      const ref = context.sessions[event.mac];
      if (ref) enqueue.sendTo(ref, { type: 'session.close', reason: event.reason });
    }),
    /** One reading fans out to every session: its counters, or word that the gate no longer lists it. */
    distributeReading: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'meter.reading') return;
      const { clients, at } = event.reading;
      for (const [mac, ref] of Object.entries(context.sessions)) {
        if (!ref.getSnapshot().matches('polling')) continue;
        const client = clients[mac];
        if (client?.authenticated) {
          enqueue.sendTo(ref, { type: 'usage.reported', report: { download: client.download, upload: client.upload, at } });
        } else {
          enqueue.sendTo(ref, { type: 'client.missing', at });
        }
      }
    }),
    recordReading: assign(({ context, event }) => {
      if (event.type !== 'meter.reading') return {};
      const reading: MeterReading = event.reading;
      return {
        lastReading: { at: reading.at, source: reading.source, clients: Object.keys(reading.clients).length },
        readings: context.readings + 1,
        meterFailures: 0,
      };
    }),
    countMeterFailure: assign(({ context }) => ({ meterFailures: context.meterFailures + 1 })),
    retireSettledSessions: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'sessions.sweep') return;
      const retired = Object.entries(context.sessions).filter(([, ref]) => isRetirable(ref, event.now, context.retireAfterMs));
      if (retired.length === 0) return;
      for (const [, ref] of retired) enqueue.stopChild(ref);
      const remaining = { ...context.sessions };
      for (const [mac] of retired) delete remaining[mac];
      enqueue.assign({ sessions: remaining });
    }),
  },
}).createMachine({
  id: 'gateway',
  context: ({ input }) => ({ ...input, sessions: {}, lastReading: null, readings: 0, meterFailures: 0 }),
  initial: 'running',
  states: {
    running: {
      invoke: {
        id: 'meter',
        src: 'meter',
        onError: { target: 'running', reenter: true, actions: 'countMeterFailure' },
      },
    },
  },
  on: {
    'session.pay': { actions: ['ensureSession', 'forwardPayment'] },
    'session.close': { actions: 'forwardClose' },
    'meter.reading': { actions: ['recordReading', 'distributeReading'] },
    'meter.failed': { actions: 'countMeterFailure' },
    'sessions.sweep': { actions: 'retireSettledSessions' },
    'meter.tick': { actions: sendTo('meter', { type: 'meter.tick' }) },
  },
});
