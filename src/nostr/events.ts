import type { NostrEvent } from 'nostr-tools/pure';
import type { Mac } from '../gate/mac.ts';
import { signEvent } from './event-signer.ts';
import type { GatewayIdentity } from './identity.ts';
import type { Metric } from '../../machines/domain.ts';

export const KIND_ADVERTISEMENT = 10021;
export const KIND_PAYMENT = 21000;
export const KIND_SESSION = 1022;
export const KIND_NOTICE = 21023;

export type { NostrEvent };

/** One accepted mint in the advertisement. */
export interface MintPrice {
  mintUrl: string;
  /** Price of one step, in `unit`. */
  price: number;
  unit: string;
  /** Smallest purchase, in steps. */
  minSteps: number;
}

export interface Pricing {
  metric: Metric;
  /** Size of one step in the metric's unit (milliseconds or bytes). */
  stepSize: number;
  /** TollGate TIP numbers this gateway implements. */
  tips: readonly string[];
  prices: readonly MintPrice[];
  /** Mints among `prices` that sell access for Lightning too (NUT-04 bolt11 minting), and the amounts they take. */
  lightning?: ReadonlyArray<{ mintUrl: string; unit: string; minAmount: number; maxAmount: number }>;
}

export interface SessionEventInput {
  /** The customer's pubkey from a kind 21000 event; absent for raw-token payments. */
  customerPubkey?: string | undefined;
  mac: Mac;
  /** Cumulative allotment of the session, in the metric's unit. */
  allotment: number;
  metric: Metric;
  /** Session start, ms since the epoch. */
  startedAt: number;
}

export type NoticeLevel = 'error' | 'warning' | 'info' | 'debug';

export interface NoticeInput {
  level: NoticeLevel;
  code: string;
  message: string;
  customerPubkey?: string | null | undefined;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);
const integer = (value: number): string => String(Math.max(0, Math.floor(value)));

function sign(identity: GatewayIdentity, kind: number, tags: string[][], content: string, now: number): NostrEvent {
  return signEvent({ kind, tags, content, created_at: seconds(now) }, identity.secretKey);
}

/** Kind 10021: what the gateway sells and at which price, one `price_per_step` tag per mint. */
export function advertisementEvent(identity: GatewayIdentity, pricing: Pricing, now: number): NostrEvent {
  const tags: string[][] = [
    ['metric', pricing.metric],
    ['step_size', integer(pricing.stepSize)],
    ['tips', ...pricing.tips],
    ...pricing.prices.map((p) => [
      'price_per_step',
      'cashu',
      String(p.price),
      p.unit,
      p.mintUrl,
      integer(p.minSteps),
    ]),
    // Not in the TollGate spec (clients ignore tags they do not know): the portal reads which mints take Lightning.
    ...(pricing.lightning ?? []).map((m) => ['lightning', 'bolt11', m.mintUrl, m.unit, integer(m.minAmount), integer(m.maxAmount)]),
  ];
  return sign(identity, KIND_ADVERTISEMENT, tags, '', now);
}

/**
 * Kind 1022: the session a payment bought. For raw-token payments there is no customer pubkey
 * and the `p` tag is left out: a `p` tag holds a pubkey (NIP-01), and the MAC the reference
 * gateway puts there is already in `device-identifier`.
 */
export function sessionEvent(identity: GatewayIdentity, input: SessionEventInput, now: number): NostrEvent {
  const tags: string[][] = [];
  if (input.customerPubkey) tags.push(['p', input.customerPubkey]);
  tags.push(
    ['device-identifier', 'mac', input.mac],
    ['allotment', integer(input.allotment)],
    ['metric', input.metric],
    ['start-time', String(seconds(input.startedAt))],
  );
  return sign(identity, KIND_SESSION, tags, '', now);
}

/** Kind 21023: a notice, the body of every refusal and error. */
export function noticeEvent(identity: GatewayIdentity, input: NoticeInput, now: number): NostrEvent {
  const tags: string[][] = [
    ['level', input.level],
    ['code', input.code],
  ];
  if (input.customerPubkey) tags.push(['p', input.customerPubkey]);
  return sign(identity, KIND_NOTICE, tags, input.message, now);
}
