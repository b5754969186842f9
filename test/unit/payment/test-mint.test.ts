import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { getDecodedToken, hashToCurve, Mint, OutputData, Wallet } from '@cashu/cashu-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';

let mint: TestMint;
let wallet: Wallet;

beforeAll(async () => {
  mint = await startTestMint({ inputFeePpk: 0 });
  wallet = new Wallet(mint.url);
  await wallet.loadMint();
});
afterAll(async () => {
  await mint.stop();
});

const y = (secret: string) => hashToCurve(new TextEncoder().encode(secret)).toHex(true);

describe('test mint', () => {
  it('signs real blind signatures that a cashu-ts wallet accepts, and refuses a forged one', async () => {
    const token = getDecodedToken(await mint.mintToken(8, { denominations: [8] }), []);
    const other = getDecodedToken(await mint.mintToken(8, { denominations: [8] }), []);
    // Without its DLEQ, so the wallet cannot catch it and the mint has to.
    const { dleq: _dleq, ...bare } = token.proofs[0]!;
    const forged = [{ ...bare, C: other.proofs[0]!.C }];
    await expect(wallet.receive(forged)).rejects.toMatchObject({ code: 10003 });
    const proofs = await wallet.receive(token.proofs);
    expect(proofs.reduce((a, p) => a + p.amount.toNumber(), 0)).toBe(8);
  });

  it('refuses a second spend with NUT code 11001 and reports SPENT by Y', async () => {
    const token = getDecodedToken(await mint.mintToken(4), []);
    const api = new Mint(mint.url);
    const before = await api.check({ Ys: token.proofs.map((p) => y(p.secret)) });
    expect(before.states.map((s) => s.state)).toEqual(['UNSPENT']);
    await wallet.receive(token.proofs);
    await expect(wallet.receive(token.proofs)).rejects.toMatchObject({ code: 11001 });
    const after = await api.check({ Ys: token.proofs.map((p) => y(p.secret)) });
    expect(after.states.map((s) => s.state)).toEqual(['SPENT']);
  });

  it('charges the input fee: a swap must leave ceil(ppk·n/1000) behind', async () => {
    const feeMint = await startTestMint({ inputFeePpk: 400 });
    try {
      const feeWallet = new Wallet(feeMint.url);
      await feeWallet.loadMint();
      const proofs = getDecodedToken(await feeMint.mintToken(7, { denominations: [1, 2, 4] }), []).proofs;
      const outputs = OutputData.createRandomData(7, feeWallet.getKeyset());
      // Outputs worth the full 7 do not balance against a 2 sat fee (ceil(1200/1000)).
      await expect(
        feeWallet.mint.swap({ inputs: proofs, outputs: outputs.map((o) => o.blindedMessage) }),
      ).rejects.toMatchObject({ code: 11002 });
      const received = await feeWallet.receive(proofs);
      expect(received.reduce((a, p) => a + p.amount.toNumber(), 0)).toBe(5);
    } finally {
      await feeMint.stop();
    }
  });

  it('restores signatures it issued (NUT-09) and nothing for unknown outputs', async () => {
    const api = new Mint(mint.url);
    const proofs = getDecodedToken(await mint.mintToken(6, { denominations: [2, 4] }), []).proofs;
    const outputs = OutputData.createRandomData(6, wallet.getKeyset());
    const unknown = OutputData.createRandomData(2, wallet.getKeyset());
    const { signatures } = await api.swap({ inputs: proofs, outputs: outputs.map((o) => o.blindedMessage) });

    const restored = await api.restore({ outputs: [...outputs, ...unknown].map((o) => o.blindedMessage) });
    expect(restored.outputs.map((o) => o.B_)).toEqual(outputs.map((o) => o.blindedMessage.B_));
    expect(restored.signatures.map((s) => s.C_)).toEqual(signatures.map((s) => s.C_));
  });

  it('drop-swap-response applies the swap but the client gets no answer', async () => {
    const proofs = getDecodedToken(await mint.mintToken(4), []).proofs;
    mint.setFault({ kind: 'drop-swap-response', times: 1 });
    await expect(wallet.receive(proofs)).rejects.toThrow();
    expect(proofs.map((p) => mint.stateOf(p.secret))).toEqual(['SPENT']);
  });

  it('CLI prints its URL and serves /v1/info', async () => {
    const child = spawn('node_modules/.bin/tsx', ['test/support/test-mint/main.ts', '--port', '0', '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout! });
      const [url] = (await once(lines, 'line')) as [string];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const info = (await (await fetch(`${url}/v1/info`)).json()) as { nuts: Record<string, unknown> };
      expect(Object.keys(info.nuts)).toEqual(expect.arrayContaining(['4', '7', '9']));
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
