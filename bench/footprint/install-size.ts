import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package directory Node would resolve `name` to from `fromDir` (nested node_modules first). */
function packageDir(name: string, fromDir: string, root: string): string | null {
  for (let dir = fromDir; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return null;
}

/** Every installed package directory `names` need at run time (dependencies and optional ones, transitively). */
export function dependencyClosure(names: readonly string[], root: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string, fromDir: string) => {
    const dir = packageDir(name, fromDir, root);
    if (!dir || seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) visit(dep, dir);
  };
  for (const name of names) visit(name, root);
  return [...seen];
}

/** Disk use of the paths together in bytes (`du` counts a directory met twice once). */
export function diskBytes(paths: readonly string[]): number {
  const out = execFileSync('du', ['-skc', ...paths], { encoding: 'utf8' });
  return Number(out.trim().split('\n').at(-1)!.split('\t')[0]) * 1024;
}
