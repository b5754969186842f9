import { afterEach, describe, expect, it } from 'vitest';
import { LoopbackLightning } from '../support/lightning/loopback-lightning.ts';
import { type LnurlServer, startLnurlServer } from '../support/lightning/lnurl-server.ts';
import { CrashLab, until } from './crash-harness.ts';

let lab: CrashLab | undefined;
let lnurl: LnurlServer | undefined;
afterEach(async () => {
  await lab?.close();
  await lnurl?.stop();
  lab = lnurl = undefined;
});

const payouts = (crashLab: CrashLab) =>
  crashLab.read((db) => db.prepare('SELECT state, amount, change FROM payouts ORDER BY id').all() as Array<{ state: string; amount: number; change: number | null }>) ?? [];
const held = (crashLab: CrashLab) =>
  crashLab.read((db) => (db.prepare(`SELECT COALESCE(SUM(amount), 0) AS total FROM proofs WHERE state = 'unspent'`).get() as { total: number }).total);

describe('a crash during a payout', () => {
  it('SIGKILL after the melt is sent and before its answer: after the restart there is exactly one payout, its change restored, and the books add up', async () => {
    const lightning = new LoopbackLightning('regtest');
    lnurl = await startLnurlServer(lightning);
    lab = await CrashLab.create({
      lightning,
      payout: { network: 'regtest', intervalMs: 2_000, minPayout: 10, targets: [{ lightningAddress: lnurl.address('dave'), share: 1 }] },
    });
    // The mint pays the invoice at once and holds its answer back: the engine dies waiting for it.
    lab.mint.setFault({ kind: 'slow-answer', ms: 20_000, paths: ['/v1/melt/bolt11'], times: 1 });
    await lab.startEngine();
    expect((await lab.pay(await lab.mint.mintToken(500))).status).toBe(200);

    await until(() => lightning.payments.length === 1, 'the scheduled payout to reach the mint and be paid', 30_000);
    expect(payouts(lab)).toEqual([{ state: 'sent', amount: 495, change: null }]);
    expect(held(lab)).toBe(0);
    await lab.killEngine();

    await lab.startEngine();
    await until(() => payouts(lab!)[0]?.state === 'paid', 'the payout to be resolved after the restart', 30_000);
    // One payout, one Lightning payment; the 4 sats of unused fee reserve restored as change (NUT-09).
    expect(payouts(lab)).toEqual([{ state: 'paid', amount: 495, change: 4 }]);
    expect(lightning.payments).toHaveLength(1);
    expect(lightning.receivedBy('dave')).toBe(495);
    expect(held(lab)).toBe(4);
    expect(lab.mint.requests.filter((r) => r.path === '/v1/melt/bolt11')).toHaveLength(1);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);
});
