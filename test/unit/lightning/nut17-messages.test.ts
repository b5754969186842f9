import { describe, expect, it } from 'vitest';
import { offersQuoteSocket, parseMintMessage, socketUrlOf, subscribeRequest, unsubscribeRequest } from '../../../src/lightning/nut17-messages.ts';

const note = (subId: unknown, payload: unknown) => JSON.stringify({ jsonrpc: '2.0', method: 'subscribe', params: { subId, payload } });

describe('NUT-17 framing', () => {
  it('writes subscribe and unsubscribe as JSON-RPC 2.0 requests of kind bolt11_mint_quote', () => {
    expect(JSON.parse(subscribeRequest(7, 'sub-1', ['q1', 'q2']))).toEqual({
      jsonrpc: '2.0',
      id: 7,
      method: 'subscribe',
      params: { kind: 'bolt11_mint_quote', subId: 'sub-1', filters: ['q1', 'q2'] },
    });
    expect(JSON.parse(unsubscribeRequest(8, 'sub-1'))).toEqual({ jsonrpc: '2.0', id: 8, method: 'unsubscribe', params: { subId: 'sub-1' } });
  });

  it('finds the socket address of a mint URL, keeping its path', () => {
    expect(socketUrlOf('http://127.0.0.1:3338')).toBe('ws://127.0.0.1:3338/v1/ws');
    expect(socketUrlOf('https://mint.example/cashu/')).toBe('wss://mint.example/cashu/v1/ws');
  });

  it('reads NUT-06 info: only bolt11 in our unit with the bolt11_mint_quote command counts', () => {
    const info = (supported: unknown) => ({ nuts: { '17': { supported } } });
    expect(offersQuoteSocket(info([{ method: 'bolt11', unit: 'sat', commands: ['bolt11_mint_quote'] }]), 'sat')).toBe(true);
    expect(offersQuoteSocket(info([{ method: 'bolt11', unit: 'usd', commands: ['bolt11_mint_quote'] }]), 'sat')).toBe(false);
    expect(offersQuoteSocket(info([{ method: 'bolt11', unit: 'sat', commands: ['proof_state'] }]), 'sat')).toBe(false);
    expect(offersQuoteSocket(info([{ method: 'bolt12', unit: 'sat', commands: ['bolt11_mint_quote'] }]), 'sat')).toBe(false);
    expect(offersQuoteSocket(info(true), 'sat')).toBe(false);
    expect(offersQuoteSocket(info([null, 3, 'x']), 'sat')).toBe(false);
    expect(offersQuoteSocket({ nuts: {} }, 'sat')).toBe(false);
    expect(offersQuoteSocket(null, 'sat')).toBe(false);
  });

  it('reads replies, errors and quote notifications', () => {
    expect(parseMintMessage(JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK', subId: 's' }, id: 3 }))).toEqual({ type: 'reply', id: 3, subId: 's' });
    // The spec's own error example echoes the id as a string.
    expect(parseMintMessage(JSON.stringify({ jsonrpc: '2.0', error: { code: -32601, message: 'nope' }, id: '1' }))).toEqual({ type: 'error', id: 1, code: -32601, message: 'nope' });
    expect(parseMintMessage(JSON.stringify({ jsonrpc: '2.0', result: { status: 'BAD' }, id: 4 }))).toMatchObject({ type: 'error', id: 4 });
    expect(parseMintMessage(note('s', { quote: 'q1', state: 'PAID', amount: 5, unit: 'sat', request: 'lnbc', expiry: 1 }))).toEqual({ type: 'quote', subId: 's', quote: 'q1', state: 'PAID' });
  });

  it('calls anything else invalid, and never throws', () => {
    const hostile = [
      '',
      '{ not json',
      'null',
      '[1,2,3]',
      '"PAID"',
      JSON.stringify({ method: 'subscribe', params: { subId: 's', payload: { quote: 'q', state: 'PAID' } } }),
      JSON.stringify({ jsonrpc: '1.0', result: { status: 'OK' }, id: 1 }),
      JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK' }, id: 1.5 }),
      JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK' }, id: { x: 1 } }),
      note('', { quote: 'q', state: 'PAID' }),
      note('s'.repeat(257), { quote: 'q', state: 'PAID' }),
      note(5, { quote: 'q', state: 'PAID' }),
      note('s', null),
      note('s', { quote: 'q' }),
      note('s', { quote: 7, state: 'PAID' }),
      note('s', { quote: 'q', state: 'P'.repeat(33) }),
      note('s', { quote: 'q'.repeat(300), state: 'PAID' }),
      JSON.stringify({ jsonrpc: '2.0', method: 'subscribe', params: null }),
      JSON.stringify({ jsonrpc: '2.0', method: 'other', params: {} }),
      JSON.stringify({ jsonrpc: '2.0', ['__proto__']: { result: 1 } }),
    ];
    for (const frame of hostile) expect(parseMintMessage(frame).type, frame.slice(0, 80)).toBe('invalid');
    // An error's message is cut short; a missing one is named.
    expect(parseMintMessage(JSON.stringify({ jsonrpc: '2.0', error: { message: 'x'.repeat(5000) }, id: null }))).toMatchObject({ type: 'error', id: null, code: null });
    expect((parseMintMessage(JSON.stringify({ jsonrpc: '2.0', error: { message: 'x'.repeat(5000) }, id: 2 })) as { message: string }).message).toHaveLength(200);
    expect(parseMintMessage(JSON.stringify({ jsonrpc: '2.0', error: null, id: 2 }))).toEqual({ type: 'error', id: 2, code: null, message: 'no message' });
  });
});
