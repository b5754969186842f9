import { describe, expect, it } from 'vitest';
import { activeStateIds } from '../../src/live/session-rows.ts';

describe('activeStateIds', () => {
  it('names every active node from the top, as the statechart SVG ids do', () => {
    expect(activeStateIds('idle', 'session')).toEqual(['session.idle']);
    expect(activeStateIds({ polling: 'toppingUp' }, 'session')).toEqual(['session.polling', 'session.polling.toppingUp']);
    expect(activeStateIds({ open: { retry: 'waiting' } }, 'm')).toEqual(['m.open', 'm.open.retry', 'm.open.retry.waiting']);
  });
});
