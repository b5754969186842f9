import type { Pricing } from '../nostr/events.ts';
import type { CaptivePortalLinks, HttpDeps, MacResolver, PaymentGateway } from './deps.ts';
import type { NoticeContext } from './notice.ts';
import type { PaymentAnswers } from './payment-answers.ts';

/** Everything the routes share, resolved from HttpDeps and HttpOptions by buildApp. */
export interface HttpContext extends NoticeContext {
  gateway: PaymentGateway;
  macs: MacResolver;
  pricing: () => Pricing;
  answers: PaymentAnswers;
  /** Normalised addresses whose payment events may name another device's MAC. */
  trustedRelays: ReadonlySet<string>;
  eventWindowSeconds: number;
  bodyLimit: number;
  offlineCheck: (token: string) => unknown;
  spentHere: NonNullable<HttpDeps['spentHere']>;
  captivePortal: CaptivePortalLinks;
  mintStates: NonNullable<HttpDeps['mintStates']>;
}
