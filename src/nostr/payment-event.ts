import { getEventHash, verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { InvalidMacError, parseMac, type Mac } from '../gate/mac.ts';
import { Refusal } from './notice-codes.ts';
import { checkCashuToken } from '../payment/cashu-token.ts';
import { KIND_PAYMENT } from './events.ts';

export const DEFAULT_EVENT_WINDOW_SECONDS = 600;

export interface PaymentEventRules {
  gatewayPubkey: string;
  /** Current time, ms since the epoch. */
  now: number;
  /** Largest distance between `created_at` and now, in seconds. */
  windowSeconds?: number;
}

/** A kind 21000 payment whose id, signature, recipient, token syntax and MAC syntax were checked. */
export interface VerifiedPayment {
  id: string;
  customerPubkey: string;
  token: string;
  mac: Mac;
  createdAt: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

const invalid = (message: string): Refusal => new Refusal('invalid-event', message);

/**
 * Checks a parsed JSON value as a TollGate payment event. Every failure is a Refusal: an
 * `invalid-event` for the event itself, `invalid-mac-address` for a malformed MAC.
 */
export function verifyPaymentEvent(value: unknown, rules: PaymentEventRules): VerifiedPayment {
  const event = asEventShape(value);
  if (event.kind !== KIND_PAYMENT) throw invalid(`event kind must be ${KIND_PAYMENT}, got ${event.kind}`);

  // A fresh copy: verifyEvent caches its verdict on the object it is given.
  const copy: NostrEvent = {
    id: event.id,
    pubkey: event.pubkey,
    created_at: event.created_at,
    kind: event.kind,
    tags: event.tags.map((tag) => [...tag]),
    content: event.content,
    sig: event.sig,
  };
  if (getEventHash(copy) !== event.id) throw invalid('event id does not match its content');
  if (!verifyEvent(copy)) throw invalid('event signature is not valid');

  const window = rules.windowSeconds ?? DEFAULT_EVENT_WINDOW_SECONDS;
  const skew = event.created_at - Math.floor(rules.now / 1000);
  if (Math.abs(skew) > window) {
    throw invalid(`event created_at is ${skew > 0 ? 'in the future' : 'too old'} (allowed ±${window} s)`);
  }

  const recipient = single(event.tags, 'p');
  if (recipient[1] !== rules.gatewayPubkey) throw invalid('event p tag does not name this gateway');

  const payment = single(event.tags, 'payment');
  const token = checkCashuToken(payment[1] ?? '');
  if (!token.ok) throw invalid(`payment tag: ${token.reason}`);

  const device = single(event.tags, 'device-identifier');
  if (device[1] !== 'mac') throw invalid('device-identifier tag must be of type mac');
  let mac: Mac;
  try {
    mac = parseMac(device[2]);
  } catch (error) {
    if (error instanceof InvalidMacError) throw new Refusal('invalid-mac-address', 'device-identifier is not a MAC address');
    throw error;
  }

  return { id: event.id, customerPubkey: event.pubkey, token: token.token, mac, createdAt: event.created_at };
}

function asEventShape(value: unknown): NostrEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('event must be a JSON object');
  const e = value as Record<string, unknown>;
  if (!Number.isInteger(e.kind)) throw invalid('event kind must be an integer');
  if (typeof e.id !== 'string' || !HEX64.test(e.id)) throw invalid('event id must be 64 lower-case hex digits');
  if (typeof e.pubkey !== 'string' || !HEX64.test(e.pubkey)) throw invalid('event pubkey must be 64 lower-case hex digits');
  if (typeof e.sig !== 'string' || !HEX128.test(e.sig)) throw invalid('event sig must be 128 lower-case hex digits');
  if (!Number.isSafeInteger(e.created_at) || (e.created_at as number) < 0) throw invalid('event created_at must be a unix time in seconds');
  if (typeof e.content !== 'string') throw invalid('event content must be a string');
  if (!Array.isArray(e.tags) || !e.tags.every((t) => Array.isArray(t) && t.every((v) => typeof v === 'string'))) {
    throw invalid('event tags must be arrays of strings');
  }
  return e as unknown as NostrEvent;
}

function single(tags: string[][], name: string): string[] {
  const found = tags.filter((tag) => tag[0] === name);
  if (found.length !== 1) throw invalid(`event must have exactly one ${name} tag, found ${found.length}`);
  return found[0]!;
}
