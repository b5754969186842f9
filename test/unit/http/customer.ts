import { getEncodedToken } from '@cashu/cashu-ts';
import { finalizeEvent, generateSecretKey, type NostrEvent } from 'nostr-tools/pure';

/** A syntactically valid cashuB token (the test double never asks a mint about it). */
export function cashuB(amount = 8, secret = 'a'.repeat(64)): string {
  return getEncodedToken({
    mint: 'http://mint.test',
    unit: 'sat',
    proofs: [{ id: '009a1f293253e41e', amount, secret, C: `02${'ab'.repeat(32)}` }],
  } as unknown as Parameters<typeof getEncodedToken>[0]);
}

/** A cashuA (v3, JSON) token in standard base64 with `=` padding. */
export function cashuA(secret = 'legacy'): string {
  const json = JSON.stringify({
    token: [{ mint: 'http://mint.test', proofs: [{ id: '009a1f293253e41e', amount: 4, secret, C: `02${'cd'.repeat(32)}` }] }],
    unit: 'sat',
  });
  return `cashuA${Buffer.from(json).toString('base64')}`;
}

export interface PaymentEventInput {
  gatewayPubkey: string;
  mac: string;
  token: string;
  createdAt?: number;
  kind?: number;
  tags?: string[][];
  secretKey?: Uint8Array;
}

/** A kind 21000 payment as a TollGate client signs it. */
export function paymentEvent(input: PaymentEventInput): NostrEvent {
  const tags = input.tags ?? [
    ['p', input.gatewayPubkey],
    ['device-identifier', 'mac', input.mac],
    ['payment', input.token],
  ];
  return finalizeEvent(
    { kind: input.kind ?? 21000, tags, content: '', created_at: input.createdAt ?? Math.floor(Date.now() / 1000) },
    input.secretKey ?? generateSecretKey(),
  );
}

export const tagValue = (event: { tags: string[][] }, name: string): string[] | undefined =>
  event.tags.find((tag) => tag[0] === name);
