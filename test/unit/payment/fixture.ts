import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedeemer, type AcceptedMint, type MintRedeemer, type RedeemerOptions } from '../../../src/payment/redeemer.ts';
import { openStore, type Store } from '../../../src/store/store.ts';

export const MAC = 'aa:bb:cc:dd:ee:01';
export const STEP_MS = 60_000;

/** A store in a fresh temp directory plus a redeemer over it; `cleanup` closes and deletes both. */
export function makeRedeemer(mints: AcceptedMint[], overrides: Partial<RedeemerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tollkeeper-pay-'));
  const path = join(dir, 'tollkeeper.db');
  const store: Store = openStore(path);
  const redeemer: MintRedeemer = createRedeemer({
    store,
    mints,
    metric: 'milliseconds',
    stepSize: STEP_MS,
    timeoutMs: 2_000,
    ...overrides,
  });
  return {
    store,
    redeemer,
    path,
    cleanup: () => {
      if (store.db.open) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
export function payment(token: string) {
  counter += 1;
  return { mac: MAC, sessionId: 'session-1', payment: { id: `payment-${counter}`, token } };
}
