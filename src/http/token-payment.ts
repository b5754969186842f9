import type { FastifyRequest } from 'fastify';
import type { Mac } from '../gate/mac.ts';
import type { PayOutcome } from '../engine/gateway-api.ts';
import { checkCashuToken, tokenPaymentId } from '../payment/cashu-token.ts';
import { sessionEvent } from '../nostr/events.ts';
import { verifyPaymentEvent, type VerifiedPayment } from '../nostr/payment-event.ts';
import { Refusal, isRefusal } from '../nostr/notice-codes.ts';
import { clientIpOf } from './client-ip.ts';
import type { HttpContext } from './context.ts';
import type { StoredAnswer } from './deps.ts';
import { refusalFromCode, renderNotice } from './notice.ts';
import { isFinalStatus, type ProducedAnswer } from './payment-answers.ts';
import type { PaymentBody } from './payment-body.ts';
import type { PaymentRequest, SessionSummary } from '../../machines/domain.ts';

/** A payment as read from a request, before its MAC is known. */
export interface Payment {
  request: PaymentRequest;
  /** Set for kind 21000 payments: the MAC the event names. */
  event: VerifiedPayment | null;
}

/** A parsed body as a payment: an event is verified, a token checked for its form. */
export function paymentOf(ctx: HttpContext, body: PaymentBody): Payment {
  if (body.form === 'event') {
    const event = verifyPaymentEvent(body.event, {
      gatewayPubkey: ctx.identity.pubkey,
      now: ctx.now(),
      windowSeconds: ctx.eventWindowSeconds,
    });
    return { request: { id: event.id, token: event.token, customerPubkey: event.customerPubkey }, event };
  }
  return tokenPayment(body.token);
}

export function tokenPayment(token: string): Payment {
  const checked = checkCashuToken(token);
  if (!checked.ok) throw new Refusal('payment-error-invalid-token', `invalid cashu token: ${checked.reason}`);
  return { request: { id: tokenPaymentId(checked.token), token: checked.token }, event: null };
}

/**
 * The one money path every route that takes ecash goes through (POST /, the portal's form): the
 * sender's MAC, a replay of a token this device already has the credit of, else one redemption per
 * payment id with its answer stored. Answers 200 + kind 1022 or a kind 21023 notice; throws a
 * Refusal for what is refused before the payment reaches the engine (its offline check included,
 * which the caller runs first so it can reword it).
 */
export async function payAndAnswer(ctx: HttpContext, request: FastifyRequest, payment: Payment): Promise<StoredAnswer> {
  const mac = await customerMac(ctx, request, payment.event);
  // A token this device already has the credit of is answered with what is true now, whatever
  // was answered before and whichever envelope it comes in: not stored, as it changes.
  const spent = ctx.spentHere(mac, payment.request.token);
  if (spent) return spent.session ? sessionAnswer(ctx, mac, payment.request, spent.session) : spentAnswer(ctx, payment.request);
  return ctx.answers.answer(answerKey(payment, mac), () => redeem(ctx, mac, payment.request));
}

/**
 * Answers are replayed per device. A kind 21000 event names (and signs) its MAC, so its id is
 * enough; a raw token names no device, and a copy of someone's token posted by another device
 * must be refused as spent, not answered with the payer's session event.
 */
function answerKey(payment: Payment, mac: Mac): string {
  return payment.event ? payment.request.id : `${payment.request.id}@${mac}`;
}

/**
 * The MAC comes from the network. A payment event naming another MAC is refused, unless it
 * arrives from a trusted relay paying on a device's behalf.
 */
async function customerMac(ctx: HttpContext, request: FastifyRequest, event: VerifiedPayment | null): Promise<Mac> {
  if (event && ctx.trustedRelays.has(clientIpOf(request))) {
    request.answeredFor = event.mac;
    return event.mac;
  }
  const mac = await request.clientMac();
  if (event && event.mac !== mac) {
    throw new Refusal('invalid-mac-address', 'the event names a different MAC address than the device that sent it');
  }
  return mac;
}

async function redeem(ctx: HttpContext, mac: Mac, payment: PaymentRequest): Promise<ProducedAnswer> {
  let outcome: PayOutcome;
  try {
    outcome = await ctx.gateway.pay(mac, payment);
  } catch (error) {
    if (!isRefusal(error)) throw error;
    outcome = { ok: false, refusal: { paymentId: payment.id, code: error.code, message: error.message } };
  }
  if (!outcome.ok) {
    const refusal = refusalFromCode(outcome.refusal.code, outcome.refusal.message);
    const answer = renderNotice(ctx, refusal, payment.customerPubkey);
    return { ...answer, final: isFinalStatus(answer.status) };
  }
  return { ...sessionAnswer(ctx, mac, payment, outcome.session), final: true };
}

/** 200 with a kind 1022 of the session as it stands: its cumulative allotment now. */
function sessionAnswer(ctx: HttpContext, mac: Mac, payment: PaymentRequest, session: SessionSummary): StoredAnswer {
  const event = sessionEvent(
    ctx.identity,
    {
      customerPubkey: payment.customerPubkey,
      mac,
      allotment: session.allotment,
      metric: session.metric,
      startedAt: session.startedAt ?? ctx.now(),
    },
    ctx.now(),
  );
  return { status: 200, body: JSON.stringify(event) };
}

function spentAnswer(ctx: HttpContext, payment: PaymentRequest): StoredAnswer {
  const refusal = new Refusal('payment-error-token-spent', 'this token paid for a session that has ended');
  return renderNotice(ctx, refusal, payment.customerPubkey);
}
