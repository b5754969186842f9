import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { SESSION_MACHINE_VERSION, createSessionMachine } from '../../../machines/session/session.machine.ts';
import {
  envelopeToRow,
  type PersistedSession,
  rowToEnvelope,
  UnrestorableSnapshotError,
  wrapSession,
} from '../../../src/engine/persistence/envelope.ts';
import { sessionContextProblem } from '../../../src/engine/persistence/session-context-check.ts';

const MAC = 'aa:bb:cc:00:00:01';
const sessionMachine = createSessionMachine(() => Date.now());

function persistedIdleSession(): PersistedSession {
  const actor = createActor(sessionMachine, { input: { mac: MAC, metric: 'bytes' } }).start();
  const persisted = actor.getPersistedSnapshot() as unknown as PersistedSession;
  actor.stop();
  return persisted;
}

describe('session snapshot envelope', () => {
  it('round-trips through a stored row and restores an actor in the same state', () => {
    const snapshot = persistedIdleSession();
    const envelope = wrapSession(MAC, snapshot, 1_700_000_000_000);
    const row = envelopeToRow(envelope);
    expect(row).toMatchObject({ mac: MAC, machine: 'session', version: SESSION_MACHINE_VERSION, state: 'idle', savedAt: 1_700_000_000_000 });

    const back = rowToEnvelope(row);
    expect(back).toEqual(envelope);
    const restored = createActor(sessionMachine, { snapshot: back.snapshot as never, input: { mac: MAC, metric: 'bytes' } });
    expect(restored.getSnapshot().value).toBe('idle');
    expect(restored.getSnapshot().context.mac).toBe(MAC);
  });

  it('refuses a snapshot written by another version of the session machine', () => {
    const row = { ...envelopeToRow(wrapSession(MAC, persistedIdleSession(), 1)), version: SESSION_MACHINE_VERSION + 1 };
    expect(() => rowToEnvelope(row)).toThrow(UnrestorableSnapshotError);
    expect(() => rowToEnvelope(row)).toThrow(/version/);
  });

  it('upgrades a version 1 snapshot: the limits the gate was given are unknown to it', () => {
    const snapshot = persistedIdleSession();
    delete (snapshot.context as Record<string, unknown>).backstop;
    const back = rowToEnvelope({ ...envelopeToRow(wrapSession(MAC, snapshot, 1)), version: 1 });
    expect(back.version).toBe(SESSION_MACHINE_VERSION);
    expect(back.snapshot.context.backstop).toBeNull();
    expect(back.snapshot.context.failingSince).toBeNull();
    expect(() => rowToEnvelope({ ...envelopeToRow(wrapSession(MAC, snapshot, 1)), version: 0 })).toThrow(/version 0/);
  });

  it('upgrades a version 2 snapshot: a re-opening it was retrying by count starts its time at its next failure', () => {
    const snapshot = persistedIdleSession();
    delete (snapshot.context as Record<string, unknown>).failingSince;
    Object.assign(snapshot.context, { attempts: 3 });
    const back = rowToEnvelope({ ...envelopeToRow(wrapSession(MAC, snapshot, 1)), version: 2 });
    expect(back.version).toBe(SESSION_MACHINE_VERSION);
    expect(back.snapshot.context).toMatchObject({ attempts: 3, failingSince: null });
    expect(sessionContextProblem(back.snapshot.context)).toBeNull();
    expect(sessionContextProblem(snapshot.context)).toMatch(/failingSince is missing/);
  });

  it('upgrades a version 3 snapshot: written with one gate, its gate is not known (the gate that lists the client serves it)', () => {
    const snapshot = persistedIdleSession();
    delete (snapshot.context as Record<string, unknown>).gate;
    expect(sessionContextProblem(snapshot.context)).toMatch(/gate is missing/);
    const back = rowToEnvelope({ ...envelopeToRow(wrapSession(MAC, snapshot, 1)), version: 3 });
    expect(back.version).toBe(SESSION_MACHINE_VERSION);
    expect(back.snapshot.context.gate).toBeNull();
    expect(sessionContextProblem(back.snapshot.context)).toBeNull();
  });

  it('upgrades a version 4 snapshot: it was never moving between gates', () => {
    const snapshot = persistedIdleSession();
    delete (snapshot.context as Record<string, unknown>).movingTo;
    expect(sessionContextProblem(snapshot.context)).toMatch(/movingTo is missing/);
    const back = rowToEnvelope({ ...envelopeToRow(wrapSession(MAC, snapshot, 1)), version: 4 });
    expect(back.version).toBe(SESSION_MACHINE_VERSION);
    expect(back.snapshot.context.movingTo).toBeNull();
    expect(sessionContextProblem(back.snapshot.context)).toBeNull();
  });

  it('refuses a snapshot of another machine, one filed under another MAC, and one that is not JSON', () => {
    const row = envelopeToRow(wrapSession(MAC, persistedIdleSession(), 1));
    expect(() => rowToEnvelope({ ...row, machine: 'gateway' })).toThrow(UnrestorableSnapshotError);
    expect(() => rowToEnvelope({ ...row, mac: 'aa:bb:cc:00:00:02' })).toThrow(/belongs to/);
    expect(() => rowToEnvelope({ ...row, snapshotJson: '{"status":' })).toThrow(/not JSON/);
  });
});
