import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Mac } from '../../gate/mac.ts';
import type { PayOutcome } from '../../engine/gateway-api.ts';
import { checkCashuToken, tokenPaymentId } from '../../payment/cashu-token.ts';
import { sessionEvent } from '../../nostr/events.ts';
import { verifyPaymentEvent, type VerifiedPayment } from '../../nostr/payment-event.ts';
import { Refusal, isRefusal } from '../../nostr/notice-codes.ts';
import { asNut24Refusal, paymentRequestFor, tokenFromHeader, X_CASHU } from '../cashu-402.ts';
import { clientIpOf } from '../client-ip.ts';
import type { HttpContext } from '../context.ts';
import { JSON_TYPE, refusalFromCode, renderNotice } from '../notice.ts';
import { isFinalStatus, type ProducedAnswer } from '../payment-answers.ts';
import { readPaymentBody } from '../payment-body.ts';
import type { PostedBody } from '../plugins/content-types.ts';
import type { PaymentRequest, SessionSummary } from '../../../machines/domain.ts';
import type { StoredAnswer } from '../deps.ts';

interface Payment {
  request: PaymentRequest;
  /** Set for kind 21000 payments: the MAC the event names. */
  event: VerifiedPayment | null;
}

/**
 * POST / — a raw cashu token or a kind 21000 event, or (NUT-24) a token in the `X-Cashu` header;
 * 200 + kind 1022, or a kind 21023 notice. With no payment at all: 402 and a NUT-18 payment request
 * in `X-Cashu`, for generic Cashu wallets.
 */
export default async function paymentRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.post('/', { config: { rateLimited: true }, bodyLimit: ctx.bodyLimit }, async (request, reply) => {
    const headerToken = tokenFromHeader(request.headers[X_CASHU]);
    const posted = request.body as PostedBody | undefined;
    if (headerToken === null && (posted?.text.trim() ?? '') === '') {
      reply.header(X_CASHU, paymentRequestFor(ctx.pricing(), ctx.identity.pubkey));
      throw new Refusal('invalid-request', 'no payment: pay the request in X-Cashu (NUT-24), or post a cashu token or a kind 21000 event', 402);
    }
    const payment = headerToken === null ? readPayment(ctx, posted) : tokenPayment(headerToken);
    request.noticeRecipient = payment.request.customerPubkey ?? null;
    // Thrown as a Refusal: answered by the error handler, stored nowhere.
    try {
      ctx.offlineCheck(payment.request.token);
    } catch (error) {
      throw headerToken === null ? error : asNut24Refusal(error);
    }
    const mac = await customerMac(ctx, request, payment.event);
    // A token this device already has the credit of is answered with what is true now, whatever
    // was answered before and whichever envelope it comes in: not stored, as it changes.
    const spent = ctx.spentHere(mac, payment.request.token);
    if (spent) {
      const answer = spent.session ? sessionAnswer(ctx, mac, payment.request, spent.session) : spentAnswer(ctx, payment.request);
      return reply.code(answer.status).type(JSON_TYPE).send(answer.body);
    }
    const answer = await ctx.answers.answer(answerKey(payment, mac), () => redeem(ctx, mac, payment.request));
    return reply.code(answer.status).type(JSON_TYPE).send(answer.body);
  });
}

function readPayment(ctx: HttpContext, posted: PostedBody | undefined): Payment {
  const body = readPaymentBody(posted);
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

function tokenPayment(token: string): Payment {
  const checked = checkCashuToken(token);
  if (!checked.ok) throw new Refusal('payment-error-invalid-token', `invalid cashu token: ${checked.reason}`);
  return { request: { id: tokenPaymentId(checked.token), token: checked.token }, event: null };
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
