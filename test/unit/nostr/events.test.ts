import { generateSecretKey, verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/gate/mac.ts';
import { advertisementEvent, noticeEvent, sessionEvent } from '../../../src/nostr/events.ts';
import { identityFromSecret } from '../../../src/nostr/identity.ts';

const identity = identityFromSecret(generateSecretKey());
const now = Date.UTC(2026, 2, 1, 12, 0, 0);
const fresh = (event: NostrEvent): NostrEvent => JSON.parse(JSON.stringify(event)) as NostrEvent;

describe('gateway events', () => {
  it('advertisement: kind 10021, one price_per_step per mint, real created_at, empty content', () => {
    const ad = advertisementEvent(
      identity,
      {
        metric: 'bytes',
        stepSize: 1_048_576,
        tips: ['1', '2'],
        prices: [
          { mintUrl: 'https://a.example', price: 2, unit: 'sat', minSteps: 5 },
          { mintUrl: 'https://b.example/path', price: 1, unit: 'usd', minSteps: 1 },
        ],
      },
      now,
    );
    expect(verifyEvent(fresh(ad))).toBe(true);
    expect({ kind: ad.kind, created_at: ad.created_at, content: ad.content, pubkey: ad.pubkey }).toEqual({
      kind: 10021,
      created_at: now / 1000,
      content: '',
      pubkey: identity.pubkey,
    });
    expect(ad.tags).toEqual([
      ['metric', 'bytes'],
      ['step_size', '1048576'],
      ['tips', '1', '2'],
      ['price_per_step', 'cashu', '2', 'sat', 'https://a.example', '5'],
      ['price_per_step', 'cashu', '1', 'usd', 'https://b.example/path', '1'],
    ]);
  });

  it('session: kind 1022 with p, device-identifier, cumulative allotment, metric and start-time', () => {
    const customer = 'c'.repeat(64);
    const session = sessionEvent(
      identity,
      { customerPubkey: customer, mac: 'aa:bb:cc:dd:ee:ff' as Mac, allotment: 120_000, metric: 'milliseconds', startedAt: now - 30_000 },
      now,
    );
    expect(verifyEvent(fresh(session))).toBe(true);
    expect(session.kind).toBe(1022);
    expect(session.tags).toEqual([
      ['p', customer],
      ['device-identifier', 'mac', 'aa:bb:cc:dd:ee:ff'],
      ['allotment', '120000'],
      ['metric', 'milliseconds'],
      ['start-time', String((now - 30_000) / 1000)],
    ]);
  });

  it('session for a raw-token payment has no p tag', () => {
    const session = sessionEvent(identity, { mac: 'aa:bb:cc:dd:ee:ff' as Mac, allotment: 1, metric: 'bytes', startedAt: now }, now);
    expect(session.tags.some((tag) => tag[0] === 'p')).toBe(false);
  });

  it('notice: kind 21023, level and code tags, message in content, optional p', () => {
    const notice = noticeEvent(identity, { level: 'error', code: 'invalid-event', message: 'bad', customerPubkey: 'd'.repeat(64) }, now);
    expect(verifyEvent(fresh(notice))).toBe(true);
    expect({ kind: notice.kind, content: notice.content, tags: notice.tags }).toEqual({
      kind: 21023,
      content: 'bad',
      tags: [['level', 'error'], ['code', 'invalid-event'], ['p', 'd'.repeat(64)]],
    });
    expect(noticeEvent(identity, { level: 'info', code: 'x', message: 'm' }, now).tags).toEqual([['level', 'info'], ['code', 'x']]);
  });
});
