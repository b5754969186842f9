#!/usr/bin/env node
// Runs the compiled bundle (`npm run build` writes dist/; the published package ships it).
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/main.js')) throw error;
  process.stderr.write('tollkeeper: dist/main.js is missing; run `npm run build` first\n');
  process.exitCode = 1;
}
