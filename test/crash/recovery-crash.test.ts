import { afterEach, describe, expect, it } from 'vitest';
import type { MintFault } from '../../src/loopback-mint/mint.ts';
import { BYTES_PER_SAT, CrashLab, until } from './crash-harness.ts';

// The engine is killed (SIGKILL) while its start-up recovery pass is between two pending swaps:
// the first settled, the second still waiting for the mint. Nothing booked may be lost or doubled.

let lab: CrashLab;
afterEach(async () => {
  await lab?.close();
});

/** The mint applies the swap, answers 502, and cannot be asked about it: the customer gets 503. */
const ANSWER_LOST: MintFault[] = [
  { kind: 'apply-then-fail', status: 502, times: 1 },
  { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 1 },
];

const secondSwapError = (l: CrashLab) =>
  l.read((db) => (db.prepare('SELECT last_error FROM pending_swaps ORDER BY created_at LIMIT 1 OFFSET 1').get() as { last_error: string | null }).last_error);

const moves = (l: CrashLab) => l.read((db) => db.prepare('SELECT state FROM keyset_moves ORDER BY id').all() as Array<{ state: string }>) ?? [];

const delivered = (l: CrashLab) =>
  l.read((db) => db.prepare('SELECT received, delivered_at FROM ledger ORDER BY id').all() as Array<{ received: number; delivered_at: number | null }>) ?? [];

describe('crash during recovery', () => {
  it('between two pending swaps: the first credit reaches the MAC as it settles, the second after the restart; the books add up', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    for (const amount of [20, 30]) {
      const token = await lab.mint.mintToken(amount);
      lab.mint.setFault(ANSWER_LOST);
      expect((await lab.pay(token)).status).toBe(503);
    }
    await lab.killEngine();
    const errorBeforeRestart = secondSwapError(lab);

    // The next start settles the first swap, then waits on the mint for the second: killed there.
    lab.mint.setFault([
      { kind: 'slow', ms: 0, paths: ['/v1/checkstate'], times: 1 },
      { kind: 'slow', ms: 30_000, paths: ['/v1/checkstate'], times: 1 },
    ]);
    const starting = lab.spawnEngine().catch(() => null);
    await until(() => delivered(lab).some((row) => row.received === 20 && row.delivered_at !== null), 'the first credit to be delivered', 30_000);
    expect(delivered(lab)).toHaveLength(1);
    // Delivered while the second swap still waited on the mint, not once the whole pass was over.
    expect(secondSwapError(lab)).toBe(errorBeforeRestart);
    await lab.killEngine();
    await starting;
    lab.mint.setFault(null);

    await lab.startEngine();
    await until(async () => (await lab.usage()).body === `0/${50 * BYTES_PER_SAT}`, 'both credits on the MAC', 30_000);
    expect(await lab.isOpen()).toBe(true);
    expect(delivered(lab).map((row) => [row.received, row.delivered_at !== null])).toEqual([
      [20, true],
      [30, true],
    ]);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);

  it('while held proofs are moved out of a keyset before its final expiry: the move is finished after the restart, once; the books add up', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    expect((await lab.pay(await lab.mint.mintToken(20))).status).toBe(200);
    await lab.killEngine();
    const active = lab.mint.rotateKeyset(Math.floor(Date.now() / 1000) + 3_600);

    // The next start's recovery pass sends the move; the mint sits on it and the engine is killed.
    lab.mint.setFault({ kind: 'slow', ms: 10_000, paths: ['/v1/swap'], times: 1 });
    const starting = lab.spawnEngine().catch(() => null);
    await until(() => lab.mint.requests.filter((r) => r.path === '/v1/swap').length === 2, 'the move to reach the mint', 30_000);
    expect(moves(lab)).toEqual([{ state: 'sent' }]);
    await lab.killEngine();
    await starting;

    await lab.startEngine();
    await until(() => moves(lab)[0]?.state === 'settled', 'the move to settle after the restart', 30_000);
    const held = lab.read((db) => db.prepare(`SELECT keyset_id, amount FROM proofs WHERE state = 'unspent'`).all() as Array<{ keyset_id: string; amount: number }>);
    expect(new Set(held.map((p) => p.keyset_id))).toEqual(new Set([active]));
    expect(held.reduce((sum, p) => sum + p.amount, 0)).toBe(20);
    expect((await lab.usage()).body).toBe(`0/${20 * BYTES_PER_SAT}`);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);
});
