import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/config.ts';
import { loadConfig } from '../../../src/config/load-config.ts';

const root = join(import.meta.dirname, '../../..');

/** `listen.host`, `gate.kind`, `mints` … every leaf key of the defaults (arrays are leaves). */
function leafKeys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

describe('configuration reference', () => {
  it('docs/operating.md documents every key with its default', () => {
    const doc = readFileSync(join(root, 'docs/operating.md'), 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([a-zA-Z.[\]]+)` \| (.+?) \|/gm)].map((m) => [m[1]!, m[2]!]),
    );
    for (const key of leafKeys(DEFAULT_CONFIG)) {
      if (key === 'mints') continue; // documented per field as mints[].url, …
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULT_CONFIG);
      expect(rows.get(key), `row for ${key}`).toBe(`\`${JSON.stringify(value).replace(/,/g, ', ')}\``);
    }
    for (const field of ['url', 'unit', 'pricePerStep', 'minSteps']) expect(rows.has(`mints[].${field}`)).toBe(true);
  });

  it('deploy/config.example.json is a valid config naming every top-level key', () => {
    const example = JSON.parse(readFileSync(join(root, 'deploy/config.example.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(example).sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
    expect(loadConfig(join(root, 'deploy/config.example.json')).dataDir).toBe('/var/lib/tollkeeper');
  });
});
