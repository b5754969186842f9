import type { GatewayIdentity } from '../nostr/identity.ts';
import { noticeEvent, type NoticeLevel } from '../nostr/events.ts';
import { NOTICE_STATUS, Refusal, isRefusal, type NoticeCode } from '../nostr/notice-codes.ts';
import type { StoredAnswer } from './deps.ts';

export const JSON_TYPE = 'application/json; charset=utf-8';

const GENERIC_FAILURE = 'the gateway could not handle this request';

function isNoticeCode(code: string): code is NoticeCode {
  return Object.hasOwn(NOTICE_STATUS, code);
}

/**
 * A refusal the engine reported as a code string. A code tollkeeper does not know means a bug
 * somewhere below: it becomes a session-error with a generic message.
 */
export function refusalFromCode(code: string, message: string): Refusal {
  return isNoticeCode(code) ? new Refusal(code, message) : new Refusal('session-error', GENERIC_FAILURE);
}

/**
 * Any thrown value as the refusal the customer sees. Fastify's own request errors keep their
 * meaning (413, 415, malformed request); everything else is a 500 session-error whose message
 * says nothing about internals.
 */
export function refusalFromError(error: unknown): Refusal {
  if (isRefusal(error)) return error;
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new Refusal('payload-too-large', 'request body is too large');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new Refusal('unsupported-media-type', 'send the payment as text/plain, application/json or a form body');
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new Refusal('invalid-request', 'malformed request');
  }
  return new Refusal('session-error', GENERIC_FAILURE);
}

export interface NoticeContext {
  identity: GatewayIdentity;
  now: () => number;
}

/** A signed kind 21023 answer; status defaults to the code's status from NOTICE_STATUS. */
export function renderNotice(
  ctx: NoticeContext,
  refusal: Refusal,
  customerPubkey?: string | null,
  status: number = refusal.status,
  level: NoticeLevel = 'error',
): StoredAnswer {
  const event = noticeEvent(
    ctx.identity,
    { level, code: refusal.code, message: refusal.message, customerPubkey },
    ctx.now(),
  );
  return { status, body: JSON.stringify(event) };
}
