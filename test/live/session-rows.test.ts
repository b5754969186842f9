import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createSessionMachine } from '../../machines/session/session.machine.ts';
import type { SessionSummary } from '../../machines/domain.ts';
import { activeStateIds, sessionRows } from '../../src/live/session-rows.ts';

describe('activeStateIds', () => {
  it('names every active node from the top, as the statechart SVG ids do', () => {
    expect(activeStateIds('idle', 'session')).toEqual(['session.idle']);
    expect(activeStateIds({ polling: 'toppingUp' }, 'session')).toEqual(['session.polling', 'session.polling.toppingUp']);
    expect(activeStateIds({ open: { retry: 'waiting' } }, 'm')).toEqual(['m.open', 'm.open.retry', 'm.open.retry.waiting']);
  });
});

describe('sessionRows', () => {
  it('shows the gate each session is on', () => {
    const actors = ['aa:00:00:00:00:01', 'bb:00:00:00:00:02'].map((mac) => createActor(createSessionMachine(() => 0), { input: { mac, metric: 'bytes' } }).start());
    const summary = (mac: string, gate: string | null): SessionSummary => ({ mac, gate, sessionId: null, state: 'idle', metric: 'bytes', allotment: 0, used: 0, startedAt: null, endsAt: null, closeReason: null });
    const rows = sessionRows({
      sessions: () => [summary('bb:00:00:00:00:02', null), summary('aa:00:00:00:00:01', 'terrace')],
      sessionRef: ((mac: string) => actors.find((a) => a.getSnapshot().context.mac === mac)) as never,
    });
    expect(rows.map((row) => [row.mac, row.gate, row.state])).toEqual([
      ['aa:00:00:00:00:01', 'terrace', 'idle'],
      ['bb:00:00:00:00:02', null, 'idle'],
    ]);
    for (const actor of actors) actor.stop();
  });
});
