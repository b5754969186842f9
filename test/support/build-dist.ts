// vitest globalSetup: the tests that start bin/tollkeeper.js run the compiled bundle, so it is built from this tree first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function buildDist(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: join(import.meta.dirname, '../..'), stdio: 'inherit' });
}
