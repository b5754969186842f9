import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../../src/config/config.ts';
import { parseConfig } from '../../../src/config/parse-config.ts';

const MINT = { url: 'https://mint.example', unit: 'sat', pricePerStep: 1, minSteps: 1 };

function problemsOf(payout: unknown): ConfigProblem[] {
  try {
    parseConfig({ mints: [{ ...MINT, payout }] });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('a mint payout section', () => {
  it('is read with its defaults', () => {
    const config = parseConfig({ mints: [{ ...MINT, payout: { targets: [{ lightningAddress: 'Me@Example.com', share: 1 }] } }] });
    expect(config.mints[0]!.payout).toEqual({
      targets: [{ lightningAddress: 'me@example.com', share: 1 }],
      intervalMs: 86_400_000,
      minPayout: 100,
      keep: 0,
      maxPerPayout: 100_000,
      capPerInterval: 100_000,
      network: 'bitcoin',
      feeReserveEstimate: { min: 2, percent: 1 },
    });
    expect(parseConfig({ mints: [MINT] }).mints[0]!.payout).toBeNull();
  });

  it.each<[string, unknown, Partial<ConfigProblem>]>([
    ['not an object', 5, { key: 'mints[0].payout', problem: 'is number 5' }],
    ['no targets', {}, { key: 'mints[0].payout.targets', problem: 'is missing' }],
    ['an empty target list', { targets: [] }, { key: 'mints[0].payout.targets', problem: 'is an array' }],
    ['a bad address', { targets: [{ lightningAddress: 'not an address', share: 1 }] }, { key: 'mints[0].payout.targets[0].lightningAddress', expected: 'a Lightning address such as "name@example.com"' }],
    ['a share of 0', { targets: [{ lightningAddress: 'a@b.example', share: 0 }] }, { key: 'mints[0].payout.targets[0].share', problem: 'is number 0' }],
    ['a share above 1', { targets: [{ lightningAddress: 'a@b.example', share: 1.5 }] }, { key: 'mints[0].payout.targets[0].share' }],
    [
      'shares above 1 together',
      { targets: [{ lightningAddress: 'a@b.example', share: 0.6 }, { lightningAddress: 'c@b.example', share: 0.5 }] },
      { key: 'mints[0].payout.targets', problem: 'has shares adding up to 1.1' },
    ],
    ['an address twice', { targets: [{ lightningAddress: 'a@b.example', share: 0.5 }, { lightningAddress: 'A@b.example', share: 0.5 }] }, { key: 'mints[0].payout.targets[1].lightningAddress', problem: 'repeats a@b.example' }],
    ['an unknown key', { targets: [{ lightningAddress: 'a@b.example', share: 1 }], every: 'day' }, { key: 'mints[0].payout.every', problem: 'is not a known key' }],
    ['a negative float', { targets: [{ lightningAddress: 'a@b.example', share: 1 }], keep: -1 }, { key: 'mints[0].payout.keep' }],
    ['an interval under a second', { targets: [{ lightningAddress: 'a@b.example', share: 1 }], intervalMs: 10 }, { key: 'mints[0].payout.intervalMs' }],
    ['a maximum below the minimum', { targets: [{ lightningAddress: 'a@b.example', share: 1 }], minPayout: 500, maxPerPayout: 100 }, { key: 'mints[0].payout.maxPerPayout', problem: '100 is below minPayout 500' }],
    ['a cap below the minimum', { targets: [{ lightningAddress: 'a@b.example', share: 1 }], minPayout: 500, capPerInterval: 100 }, { key: 'mints[0].payout.capPerInterval', problem: '100 is below minPayout 500' }],
    ['an unknown network', { targets: [{ lightningAddress: 'a@b.example', share: 1 }], network: 'liquid' }, { key: 'mints[0].payout.network' }],
  ])('%s is refused with the key named', (_name, payout, expected) => {
    expect(problemsOf(payout)).toContainEqual(expect.objectContaining(expected));
  });
});
