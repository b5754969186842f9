import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sendEvent } from '../../src/live/event-stream.ts';

/** A viewer's socket: `reading` false is a viewer that stopped reading (nothing leaves the buffer). */
function viewer(reading: boolean): Writable {
  return new Writable({
    highWaterMark: 1024,
    write(_chunk, _encoding, callback) {
      if (reading) callback();
    },
  });
}

const ROW = { mac: 'aa:bb:cc:dd:ee:01', state: 'polling', used: 123_456, allotment: 1_000_000 };

describe('live view event stream', () => {
  it('drops a viewer that stopped reading once its backlog passes the cap, having buffered no more than that', () => {
    const CAP = 16 * 1024;
    const stalled = viewer(false);
    let sent = 0;
    while (sendEvent(stalled, 'sessions', [ROW], CAP)) {
      sent += 1;
      expect(sent).toBeLessThan(10_000);
    }
    expect(stalled.destroyed).toBe(true);
    expect(sent).toBeGreaterThan(10);
    expect(sendEvent(stalled, 'sessions', [ROW], CAP)).toBe(false);
  });

  it('keeps a viewer that reads, however many events it gets', () => {
    const reader = viewer(true);
    for (let i = 0; i < 5_000; i++) expect(sendEvent(reader, 'sessions', [ROW], 16 * 1024)).toBe(true);
    expect(reader.destroyed).toBe(false);
  });
});
