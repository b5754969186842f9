// Benchmark-only: `NODE_OPTIONS="--import tsx --import ./bench/sqlite/use-node-sqlite.ts" npm run bench -- persistence payments`
// runs the benches with node:sqlite (node-sqlite-database.ts) wherever the code imports better-sqlite3.
import { register } from 'node:module';

register(new URL('./better-sqlite3-to-node-sqlite.hooks.ts', import.meta.url));
