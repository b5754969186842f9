import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/run.ts';
import { captureIo } from '../unit/cli/capture-io.ts';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { LoopbackLightning } from '../support/lightning/loopback-lightning.ts';
import { startLnurlServer, type LnurlServer } from '../support/lightning/lnurl-server.ts';
import { CUSTOMERS, expectBooksAddUp, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

let h: Harness | undefined;
let mint: TestMint | undefined;
let lnurl: LnurlServer | undefined;
afterEach(async () => {
  await h?.close();
  await mint?.stop();
  await lnurl?.stop();
  h = mint = lnurl = undefined;
});

/**
 * Customers pay first (`amounts`, one customer each, over HTTP); then the gateway restarts with
 * the payout configured, so its schedule's first run finds the whole balance.
 */
async function setUp(amounts: number[], payout: (addr: (name: string) => string) => Record<string, unknown>, inputFeePpk = 0) {
  const lightning = new LoopbackLightning('regtest');
  mint = await startTestMint({ lightning, inputFeePpk });
  lnurl = await startLnurlServer(lightning);
  h = await startHarness({ mint });
  await customersPay(h, amounts);
  await h.restart({ payout: { network: 'regtest', ...payout(lnurl.address) } });
  return { lightning, lnurl, h };
}

async function customersPay(harness: Harness, amounts: number[]): Promise<void> {
  for (const [i, amount] of amounts.entries()) {
    const token = await harness.mint.mintToken(amount);
    expectSession(await harness.http(token, { ip: CUSTOMERS[i]!.ip }), harness.tk.identity.pubkey, CUSTOMERS[i]!.mac, 'bytes');
  }
}

describe('payouts to Lightning addresses', () => {
  it('customers pay over HTTP, the scheduled payout pays each share, keeps the float, and the books add up', async () => {
    const { lightning, h } = await setUp([300, 200, 500], (addr) => ({
      targets: [{ lightningAddress: addr('alice'), share: 0.7 }, { lightningAddress: addr('bob'), share: 0.3 }],
      intervalMs: 1_000,
      minPayout: 10,
      keep: 100,
    }));
    expect(h.ledger().reduce((sum, row) => sum + row.received, 0)).toBe(1000);
    // distributable 900: alice's budget 630, bob's 270; each less the fee reserve the mint quotes (1 %, min 2).
    await expect.poll(() => h.tk.store.payouts.all().map((p) => p.state), { timeout: 10_000 }).toEqual(['paid', 'paid']);
    const [alicePayout, bobPayout] = h.tk.store.payouts.all();
    expect(alicePayout).toMatchObject({ target: expect.stringMatching(/^alice@/), state: 'paid', feeReserve: 7, amount: 623 });
    expect(bobPayout).toMatchObject({ target: expect.stringMatching(/^bob@/), state: 'paid', feeReserve: 3, amount: 267 });
    expect(lightning.receivedBy('alice')).toBe(623);
    expect(lightning.receivedBy('bob')).toBe(267);
    // Each melt cost the 1-sat routing fee; the rest of the reserve came back as change.
    expect(h.balance()).toBe(1000 - 623 - 267 - 2);
    expect(h.balance()).toBeGreaterThanOrEqual(100);
    const metrics = (await h.tk.admin.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`tollkeeper_payouts_total{mint="${h.mint.url}",unit="sat",state="paid"} 2`);
    expect(metrics).toContain(`tollkeeper_payout_amount_total{mint="${h.mint.url}",unit="sat"} 890`);
    // 2 × (the 1-sat routing fee); the test mint charges no input fee here.
    expect(metrics).toContain(`tollkeeper_payout_fees_total{mint="${h.mint.url}",unit="sat"} 2`);
    expect(metrics).toContain(`tollkeeper_wallet_balance{mint="${h.mint.url}",unit="sat"} 108`);
    await expectBooksAddUp(h);
  }, 60_000);

  it('the CLI: `wallet payout --dry-run` shows the plan and pays nothing, `wallet payout` pays, `wallet history` lists it; input fees are part of the sums', async () => {
    const payout = (addr: (name: string) => string) => ({ intervalMs: 3_600_000, minPayout: 10, keep: 50, targets: [{ lightningAddress: addr('erin'), share: 1 }] });
    const { lightning, lnurl, h } = await setUp([300], payout, 1000);
    const configFile = join(h.tk.config.dataDir, 'cli-config.json');
    writeFileSync(configFile, JSON.stringify({ dataDir: h.tk.config.dataDir, paymentTimeoutMs: 5_000, mints: [{ url: h.mint.url, payout: { network: 'regtest', ...payout(lnurl.address) } }] }));
    const cli = async (...argv: string[]) => {
      const io = captureIo();
      const code = await main(argv, io);
      return { code, out: io.stdout.join('\n') };
    };
    const received = h.ledger()[0]!.received;
    const plan = await cli('wallet', 'payout', '--dry-run', '--config', configFile);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain(`balance ${received}, taken this interval 0, to share out ${received - 50}`);
    expect(plan.out).toMatch(/would pay: \d+ to erin@/);
    expect(lightning.payments).toEqual([]);

    const paid = await cli('wallet', 'payout', '--config', configFile);
    expect(paid.code).toBe(0);
    const [row] = h.tk.store.payouts.all();
    // 1000 ppk: each input proof costs 1 sat; the invoice, its reserve and the input fee fit the share exactly or under.
    expect(row!.inputFee).toBe(row!.inputs.length);
    expect(row!.amount + row!.feeReserve + row!.inputFee).toBeLessThanOrEqual(received - 50);
    expect(lightning.receivedBy('erin')).toBe(row!.amount);
    expect(paid.out).toContain(`paid: ${row!.amount} to erin@`);
    expect(h.balance()).toBeGreaterThanOrEqual(50);

    const history = await cli('wallet', 'history', '--config', configFile);
    expect(history.out).toMatch(new RegExp(`#1 \\S+  paid +${row!.amount} sat to erin@\\S+, fee ${row!.inputFee + 1} `));
    await expectBooksAddUp(h);
  }, 60_000);

  it('`ledger export` lists payments, payouts and drains, hashes MACs with a salt, and its footer reconciles with the wallet', async () => {
    const payout = (addr: (name: string) => string) => ({ intervalMs: 3_600_000, minPayout: 10, keep: 20, targets: [{ lightningAddress: addr('frank'), share: 1 }] });
    const { lnurl, h } = await setUp([40, 60], payout);
    await h.tk.payouts.runNow();
    const drained = h.tk.wallet.drain(h.mint.url)!;
    const configFile = join(h.tk.config.dataDir, 'cli-config.json');
    writeFileSync(configFile, JSON.stringify({ dataDir: h.tk.config.dataDir, mints: [{ url: h.mint.url, payout: { network: 'regtest', ...payout(lnurl.address) } }] }));
    const cli = async (...argv: string[]) => {
      const io = captureIo();
      const code = await main(argv, io);
      return { code, out: io.stdout.join('\n') };
    };

    const json = await cli('ledger', 'export', '--format', 'json', '--config', configFile);
    expect(json.code).toBe(0);
    const exported = JSON.parse(json.out) as { rows: Array<Record<string, unknown>>; footer: { books: Record<string, unknown> } };
    expect(exported.rows.map((r) => r.kind)).toEqual(['payment', 'payment', 'payout', 'drain']);
    const [payout1] = h.tk.store.payouts.all();
    expect(exported.rows[0]).toMatchObject({ kind: 'payment', amount: 40, fee: 0, received: 40, metric: 'bytes', mac: CUSTOMERS[0]!.mac });
    expect(exported.rows[2]).toMatchObject({ kind: 'payout', amount: payout1!.amount, target: expect.stringMatching(/^frank@/), state: 'paid' });
    expect(exported.rows[3]).toMatchObject({ kind: 'drain', amount: drained.amount });
    // The float (20) and the unused fee reserve came back and were drained: 20 + (80 − invoice − 1 sat routing fee).
    expect(drained.amount).toBe(20 + 80 - payout1!.amount - 1);
    expect(exported.footer.books).toEqual({ received: 100, paidOut: 100 - drained.amount, drained: drained.amount, keysetMoveFees: 0, held: 0, reconciles: true });

    const csv = await cli('ledger', 'export', '--format', 'csv', '--mac-salt', 'a-long-salt', '--since', '2020-01-01', '--config', configFile);
    const lines = csv.out.split('\n');
    expect(lines[0]).toBe('kind,time,mint,unit,amount,fee,received,allotment,metric,session,mac,target,state');
    expect(csv.out).not.toContain(CUSTOMERS[0]!.mac);
    expect(lines[1]).toMatch(/^payment,.*,[0-9a-f]{32},,credited$/);
    expect(lines.at(-1)).toMatch(/; the wallet holds 0: reconciles$/);
    // A window that ends before anything happened lists nothing, and the whole book still reconciles.
    const empty = await cli('ledger', 'export', '--format', 'csv', '--until', '2020-01-01', '--config', configFile);
    expect(empty.out.split('\n').filter((l) => !l.startsWith('#'))).toHaveLength(1);
    expect(empty.code).toBe(0);
  }, 60_000);
});
