import { verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { expect } from 'vitest';
import { tagValue } from './customer.ts';

/** Parses a response body as an event signed by `pubkey`, checked with nostr-tools on a fresh object. */
export function signedEvent(body: string, pubkey: string, kind: number): NostrEvent {
  const event = JSON.parse(body) as NostrEvent;
  expect(event.kind).toBe(kind);
  expect(event.pubkey).toBe(pubkey);
  expect(verifyEvent(JSON.parse(body) as NostrEvent)).toBe(true);
  return event;
}

/** A kind 21023 error notice with the given code; returns the event. */
export function expectNotice(response: { statusCode: number; body: string }, pubkey: string, status: number, code: string): NostrEvent {
  expect({ status: response.statusCode, code: codeOf(response.body) }).toEqual({ status, code });
  const notice = signedEvent(response.body, pubkey, 21023);
  expect(tagValue(notice, 'level')).toEqual(['level', 'error']);
  expect(notice.content.length).toBeGreaterThan(0);
  return notice;
}

function codeOf(body: string): string | undefined {
  try {
    return tagValue(JSON.parse(body) as NostrEvent, 'code')?.[1];
  } catch {
    return `<not json: ${body.slice(0, 80)}>`;
  }
}
