import type { FastifyBaseLogger } from 'fastify';
import type { Mac } from '../gate/mac.ts';
import type { GatewayApi } from '../engine/gateway-api.ts';
import type { GatewayIdentity } from '../nostr/identity.ts';
import type { Pricing } from '../nostr/events.ts';
import type { HttpLimits } from './http-limits.ts';
import type { SessionSummary } from '../../machines/domain.ts';
import type { LightningApi } from '../lightning/lightning-api.ts';

/** An answer already given to a payment, replayed byte for byte when the same payment returns. */
export interface StoredAnswer {
  status: number;
  body: string;
}

/**
 * Replay store keyed by payment id (the kind 21000 event id, or sha256 of a raw token).
 * src/store's AnswersRepo fits: it gives back the body it was given (a string here).
 */
export interface AnswerStore {
  get(paymentId: string): RecalledAnswer | null | undefined | Promise<RecalledAnswer | null | undefined>;
  /** May return a promise (AnswersRepo's group commit): the answer is sent only once it settles. */
  put(paymentId: string, status: number, body: string): unknown;
}

export interface RecalledAnswer {
  status: number;
  body: unknown;
}

/** Finds the MAC of a customer address; throws Refusal('mac-address-lookup-failed') when unknown. */
export interface MacResolver {
  lookup(ip: string): Promise<Mac>;
}

/** The part of the engine the HTTP layer uses. */
export type PaymentGateway = Pick<GatewayApi, 'pay' | 'usage' | 'sessionOf'>;

export interface HttpDeps {
  gateway: PaymentGateway;
  identity: GatewayIdentity;
  answers: AnswerStore;
  macs: MacResolver;
  /** Current prices; read on each advertisement so a configuration reload shows at once. */
  pricing: () => Pricing;
  /** ms since the epoch; defaults to Date.now. */
  now?: () => number;
  /**
   * Refuses (throws Refusal) a token for what can be told without its mint. A token it refuses
   * reaches no session actor and no store: its answer is not kept for replay.
   */
  offlineCheck?: (token: string) => unknown;
  /**
   * A token this device already paid with, and whose credit it already has: `session` is the live
   * session it bought (answered with a fresh 1022), null once that session has ended (token-spent).
   * Null for any other token, which takes the usual path (and another device's copy is refused there).
   */
  spentHere?: (mac: Mac, token: string) => { session: SessionSummary | null } | null;
  /** Each accepted mint's health, shown by /healthz. */
  mintStates?: () => ReadonlyArray<{ url: string; state: string }>;
  /** True while tollkeeper is starting (restoring, reconciling): every route answers 503 `starting`. */
  starting?: () => boolean;
  /** Lightning purchases through the mints' bolt11 quotes (`/ln-invoice`); absent when switched off. */
  lightning?: LightningApi;
}

/** What the RFC 8908 captive-portal API names; null leaves the key out. */
export interface CaptivePortalLinks {
  userPortalUrl: string | null;
  venueInfoUrl: string | null;
}

export interface RateLimitOptions {
  /** Requests a client may make at once. */
  burst: number;
  /** Tokens returned to a client's bucket per second. */
  perSecond: number;
}

export interface HttpOptions {
  /** Largest POST / body in bytes (default 16 KiB). */
  bodyLimit?: number;
  /** Per-client token bucket on POST / (default burst 10, 1 per second); false disables it. */
  rateLimit?: RateLimitOptions | false;
  /** Addresses allowed to pay on behalf of another device: their kind 21000 MAC is believed. */
  trustedRelays?: readonly string[];
  /** Accepted distance between a payment event's created_at and now, in seconds (default 600). */
  eventWindowSeconds?: number;
  /** Timeouts, connection caps and the per-client request budget (defaults: DEFAULT_HTTP_LIMITS). */
  limits?: Partial<HttpLimits>;
  /** false: no CORS headers (only to show what a browser does without them). */
  cors?: boolean;
  /** The RFC 8908 API's links (default: none). */
  captivePortal?: CaptivePortalLinks;
  /** An existing pino logger; none by default. */
  logger?: FastifyBaseLogger;
}

export const DEFAULT_BODY_LIMIT = 16 * 1024;
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { burst: 10, perSecond: 1 };
