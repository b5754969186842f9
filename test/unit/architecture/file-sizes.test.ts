import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
/** A file that outgrows this has more than one job: cut it along them rather than raise the limit. */
const MAX_LINES = 300;
/** The engine's facade: wiring and lifecycle only; everything else lives in the files beside it. */
const MAX_FACADE_LINES = 250;

function linesOf(dir: string): Array<[file: string, lines: number]> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return linesOf(path);
    if (!path.endsWith('.ts')) return [];
    return [[relative(ROOT, path), readFileSync(path, 'utf8').split('\n').length - 1] as [string, number]];
  });
}

describe('file sizes', () => {
  it(`no file in src/ or machines/ is over ${MAX_LINES} lines`, () => {
    const over = [...linesOf(join(ROOT, 'src')), ...linesOf(join(ROOT, 'machines'))].filter(([, lines]) => lines > MAX_LINES);
    expect(over).toEqual([]);
  });

  it(`src/engine/gateway.ts is at most ${MAX_FACADE_LINES} lines`, () => {
    const facade = linesOf(join(ROOT, 'src/engine')).find(([file]) => file === 'src/engine/gateway.ts');
    expect(facade?.[1]).toBeLessThanOrEqual(MAX_FACADE_LINES);
  });
});
