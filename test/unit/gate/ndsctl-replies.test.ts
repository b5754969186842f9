import { describe, expect, it } from 'vitest';
import { classifyAuthReply, classifyDeauthReply } from '../../../src/gate/ndsctl-replies.ts';

describe('ndsctl auth/deauth replies', () => {
  it('reads both dialects’ success lines', () => {
    expect(classifyAuthReply(0, 'Client aa:bb:cc:dd:ee:01,60,0,0,512,2048 authenticated.\n')).toBe('authenticated');
    expect(classifyAuthReply(0, 'Client aa:bb:cc:dd:ee:01 authenticated.\n')).toBe('authenticated');
    expect(classifyDeauthReply(0, 'Client aa:bb:cc:dd:ee:01 deauthenticated.\n')).toBe('deauthenticated');
  });

  it('tells a refusal and an unknown client from an answer it does not understand', () => {
    expect(classifyAuthReply(1, 'Failed to authenticate client aa:bb:cc:dd:ee:01,0,0,0,0,0.\n')).toBe('refused');
    expect(classifyDeauthReply(1, 'Client aa:bb:cc:dd:ee:01 not found.\n')).toBe('not-found');
    expect(classifyAuthReply(2, '')).toBe('unknown');
    expect(classifyDeauthReply(2, '')).toBe('unknown');
    expect(classifyDeauthReply(3, 'ndsctl: opennds probably not started')).toBe('unknown');
    // A success line with a failing exit code is not trusted.
    expect(classifyAuthReply(1, 'Client aa:bb:cc:dd:ee:01 authenticated.')).toBe('unknown');
  });
});
