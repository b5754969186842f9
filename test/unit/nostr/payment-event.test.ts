import { finalizeEvent, generateSecretKey, verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { checkCashuToken, tokenPaymentId } from '../../../src/payment/cashu-token.ts';
import { verifyPaymentEvent } from '../../../src/nostr/payment-event.ts';
import { Refusal } from '../../../src/nostr/notice-codes.ts';
import { cashuA, cashuB, paymentEvent } from '../http/customer.ts';

const gateway = 'a'.repeat(64);
const now = Date.now();
const rules = { gatewayPubkey: gateway, now };
const mac = 'aa:bb:cc:dd:ee:01';

function refusalOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof Refusal) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('verifyPaymentEvent', () => {
  it('returns id, customer pubkey, token and canonical MAC of a valid event', () => {
    const token = cashuB();
    const event = paymentEvent({ gatewayPubkey: gateway, mac: 'AA-BB-CC-DD-EE-01', token });
    expect(verifyPaymentEvent(event, rules)).toEqual({ id: event.id, customerPubkey: event.pubkey, token, mac, createdAt: event.created_at });
  });

  it('verifies the signature of a copy, so an object nostr-tools already vouched for is checked again', () => {
    const event = paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB() });
    expect(verifyEvent(event)).toBe(true); // caches "verified" on this object
    const forged = Object.assign(event, { sig: 'b'.repeat(128) });
    expect(refusalOf(() => verifyPaymentEvent(forged, rules))).toEqual({ code: 'invalid-event', message: 'event signature is not valid' });
  });

  it.each<[string, () => unknown, string]>([
    ['not an object', () => [1, 2], 'event must be a JSON object'],
    ['upper-case id', () => ({ ...paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB() }), id: 'A'.repeat(64) }), 'event id must be 64 lower-case hex digits'],
    ['wrong kind', () => paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB(), kind: 21001 }), 'event kind must be 21000, got 21001'],
    ['tampered content', () => ({ ...paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB() }), content: 'x' }), 'event id does not match its content'],
    ['too old', () => paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB(), createdAt: Math.floor(now / 1000) - 601 }), 'event created_at is too old (allowed ±600 s)'],
    ['other gateway', () => paymentEvent({ gatewayPubkey: 'b'.repeat(64), mac, token: cashuB() }), 'event p tag does not name this gateway'],
    ['two payment tags', () => paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB(), tags: [['p', gateway], ['device-identifier', 'mac', mac], ['payment', cashuB()], ['payment', cashuB()]] }), 'event must have exactly one payment tag, found 2'],
    ['no device-identifier', () => paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB(), tags: [['p', gateway], ['payment', cashuB()]] }), 'event must have exactly one device-identifier tag, found 0'],
    ['device-identifier not of type mac', () => paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB(), tags: [['p', gateway], ['device-identifier', 'ip', mac], ['payment', cashuB()]] }), 'device-identifier tag must be of type mac'],
    ['number in a tag', () => {
      const e = paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB() });
      return { ...e, tags: [...e.tags, ['x', 1]] };
    }, 'event tags must be arrays of strings'],
  ])('refuses %s with invalid-event', (_name, make, message) => {
    expect(refusalOf(() => verifyPaymentEvent(make(), rules))).toEqual({ code: 'invalid-event', message });
  });

  it('refuses a MAC with shell metacharacters with invalid-mac-address', () => {
    const event = paymentEvent({ gatewayPubkey: gateway, mac: `${mac};reboot`, token: cashuB() });
    expect(refusalOf(() => verifyPaymentEvent(event, rules)).code).toBe('invalid-mac-address');
  });

  it('honours a configured time window', () => {
    const event = paymentEvent({ gatewayPubkey: gateway, mac, token: cashuB(), createdAt: Math.floor(now / 1000) + 100 });
    expect(refusalOf(() => verifyPaymentEvent(event, { ...rules, windowSeconds: 60 })).message).toBe('event created_at is in the future (allowed ±60 s)');
    expect(verifyPaymentEvent(event, { ...rules, windowSeconds: 120 }).id).toBe(event.id);
  });

  it('does not mutate the event it checks', () => {
    const event: NostrEvent = finalizeEvent(
      { kind: 21000, tags: [['p', gateway], ['device-identifier', 'mac', mac], ['payment', cashuB()]], content: '', created_at: Math.floor(now / 1000) },
      generateSecretKey(),
    );
    const before = JSON.stringify(event);
    verifyPaymentEvent(event, rules);
    expect(JSON.stringify(event)).toBe(before);
  });
});

describe('cashu token syntax', () => {
  it('accepts cashuA and cashuB tokens and refuses truncated or empty ones', () => {
    expect(checkCashuToken(cashuB()).ok).toBe(true);
    expect(checkCashuToken(cashuA()).ok).toBe(true);
    expect(checkCashuToken(cashuB().slice(0, -10)).ok).toBe(false);
    expect(checkCashuToken('cashuB').ok).toBe(false);
    expect(checkCashuToken(`cashuA${Buffer.from('{"token":[]}').toString('base64')}`).ok).toBe(false);
    expect(checkCashuToken(`${cashuB()} ; reboot`).ok).toBe(false);
  });

  it('payment id of a raw token is its sha256', () => {
    expect(tokenPaymentId('cashuBabc')).toBe('413e636942d9b288b1fe839761da198680af0dcb1c41c22e4e1ab3dda20e229e');
  });
});
