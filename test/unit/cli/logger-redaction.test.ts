import { Writable } from 'node:stream';
import { getDecodedToken } from '@cashu/cashu-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, REDACT_CENSOR } from '../../../src/cli/logger.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';
import { DEVICE, startRunningGateway, type RunningGateway } from '../ops/running-gateway.ts';

async function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { log: await createLogger({ level: 'trace', pretty: false }, destination), lines };
}

/** Every string a token carries that would let a reader of the logs spend it. */
function secretsOf(token: string): string[] {
  const decoded = getDecodedToken(token, []);
  return [token, ...decoded.proofs.flatMap((p) => [p.secret, p.C])];
}

describe('log redaction', () => {
  it('censors tokens, proofs and secrets wherever the code puts them', async () => {
    const { log, lines } = await capturingLogger();
    log.info({ token: 'cashuBsecret1' }, 'a');
    log.info({ payment: { id: 'p1', token: 'cashuBsecret2' } }, 'b');
    log.info({ payments: [{ id: 'p2', token: 'cashuBsecret3' }] }, 'c');
    log.error({ err: { message: 'swap failed', proofs: [{ secret: 's4', C: 'c4' }] } }, 'd');
    log.info({ swap: { secret: 's5' }, secretKey: 's6' }, 'e');
    log.info({ req: { method: 'GET', headers: { authorization: 'Bearer s7' } } }, 'f');
    const text = lines.join('\n');
    for (const secret of ['cashuBsecret1', 'cashuBsecret2', 'cashuBsecret3', 's4', 'c4', 's5', 's6', 's7']) expect(text).not.toContain(secret);
    expect(lines.filter((l) => l.includes(REDACT_CENSOR))).toHaveLength(6);
    // What an operator needs stays readable.
    expect(JSON.parse(lines[1]!)).toMatchObject({ payment: { id: 'p1', token: REDACT_CENSOR } });
  });

  describe('through the real payment path at trace level', () => {
    let g: RunningGateway;
    let other: TestMint;
    let lines: string[];
    beforeAll(async () => {
      const capture = await capturingLogger();
      lines = capture.lines;
      g = await startRunningGateway({ log: capture.log });
      other = await startTestMint({});
    });
    afterAll(async () => {
      await g.close();
      await other.stop();
    });

    it('never writes a token or a proof to the logs, paid or refused', async () => {
      const secrets: string[] = [];
      const paid = await g.pay(16);
      expect(paid.status).toBe(200);
      secrets.push(...secretsOf(paid.token));

      const post = (body: string) =>
        fetch(`${g.tk.url}/`, { method: 'POST', body, headers: { 'content-type': 'text/plain', 'x-real-ip': DEVICE.ip } });
      const foreign = await other.mintToken(8);
      secrets.push(...secretsOf(foreign));
      expect((await post(foreign)).status).toBe(402);

      g.mint.setFault({ kind: 'down', mode: '503', paths: ['/v1/swap'] });
      const failing = await g.mint.mintToken(8).catch(() => null);
      g.mint.setFault(null);
      const unlucky = failing ?? (await g.mint.mintToken(8));
      g.mint.setFault({ kind: 'down', mode: '503', paths: ['/v1/swap'] });
      const refused = await post(unlucky);
      g.mint.setFault(null);
      expect(refused.status).toBeGreaterThanOrEqual(400);
      secrets.push(...secretsOf(unlucky));

      const garbage = 'cashuBnot-a-real-token-but-secret-looking-0123456789';
      await post(garbage);
      secrets.push(garbage);

      const text = lines.join('\n');
      expect(lines.length).toBeGreaterThan(5);
      for (const secret of secrets) expect(text, `log leaks ${secret.slice(0, 16)}…`).not.toContain(secret);
    });
  });
});
