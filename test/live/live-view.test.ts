import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMac } from '../../src/gate/mac.ts';
import type { FeedEntry } from '../../src/live/feed.ts';
import type { LiveSessionRow } from '../../src/live/session-rows.ts';
import { LIVE_TOKEN, type LiveLab, startLiveLab } from './live-lab.ts';

const MAC = parseMac('aa:bb:cc:dd:ee:01');

/** Reads server-sent events until `done` says enough; returns them as [event, data] pairs. */
async function readEvents(response: Response, done: (events: [string, unknown][]) => boolean): Promise<[string, unknown][]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: [string, unknown][] = [];
  let buffer = '';
  try {
    while (!done(events)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) events.push([event, JSON.parse(data)]);
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

describe('live view', () => {
  let lab: LiveLab;
  beforeAll(async () => {
    lab = await startLiveLab();
  });
  afterAll(() => lab?.close());

  it('listens on loopback only by default', () => {
    expect(new URL(lab.view.url).hostname).toBe('127.0.0.1');
  });

  it('turns away requests without the right token', async () => {
    for (const path of ['', 'sessions', 'events', `sessions?token=${LIVE_TOKEN.slice(0, -1)}x`]) {
      const response = await fetch(new URL(path, lab.view.url));
      expect(response.status, path).toBe(401);
      await response.body?.cancel();
    }
    const bearer = await fetch(new URL('sessions', lab.view.url), { headers: { authorization: 'Bearer wrong-token-wrong-token' } });
    expect(bearer.status).toBe(401);
  });

  it('serves the page with the session statechart to a token in the query', async () => {
    const response = await fetch(new URL(`?token=${LIVE_TOKEN}`, lab.view.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toContain('HttpOnly');
    const html = await response.text();
    expect(html).toContain('id="state-session.polling.metering"');
    expect(html).toContain('<tbody id="sessions">');
  });

  it('lists a paid session and streams its events with the token withheld', async () => {
    const stream = await fetch(new URL('events', lab.view.url), { headers: { authorization: `Bearer ${LIVE_TOKEN}` } });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const cashu = await lab.mint.mintToken(10);
    const outcome = await lab.gateway.pay(MAC, { id: 'live-pay-1', token: cashu });
    expect(outcome.ok).toBe(true);
    lab.gate.addTraffic(MAC, 2_500);
    await lab.gateway.meterNow();

    const events = await readEvents(stream, (seen) =>
      seen.some(([type, data]) => type === 'feed' && (data as FeedEntry).text === 'usage.reported'),
    );
    const feed = events.filter(([type]) => type === 'feed').map(([, data]) => data as FeedEntry);
    expect(feed.map((e) => e.text)).toEqual(expect.arrayContaining(['payment.received', 'paying', 'polling.metering', 'usage.reported']));
    expect(JSON.stringify(events)).not.toContain(cashu);

    const rows = (await (await fetch(new URL('sessions', lab.view.url), { headers: { authorization: `Bearer ${LIVE_TOKEN}` } })).json()) as LiveSessionRow[];
    expect(rows).toEqual([
      expect.objectContaining({ mac: MAC, state: 'polling.metering', used: 2_500, allotment: 10_000, fraction: 0.25 }),
    ]);
    expect(rows[0]!.stateIds).toEqual(['session.polling', 'session.polling.metering']);
  });
});
