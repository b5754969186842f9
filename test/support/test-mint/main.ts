// CLI: tsx test/support/test-mint/main.ts --port P --host H [--fee-ppk N] [--unit sat] [--faults-on-stdin] [--unpaid-mint-quotes]
// With --unpaid-mint-quotes, bolt11 mint quotes stay UNPAID until `POST /test/mint-quote/<id>/pay`.
// With --faults-on-stdin, each line read is a JSON MintFault (or `null`) put in force at once; the
// mint answers `faults set` on stdout, so a test in another process (the lab's) can make it misbehave.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { MintFault } from '../../../src/loopback-mint/faults.ts';
import { startTestMint } from '../../../src/loopback-mint/mint.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'fee-ppk': { type: 'string', default: '0' },
    unit: { type: 'string', default: 'sat' },
    'faults-on-stdin': { type: 'boolean', default: false },
    'unpaid-mint-quotes': { type: 'boolean', default: false },
  },
});

const mint = await startTestMint({
  port: Number(values.port),
  host: values.host,
  inputFeePpk: Number(values['fee-ppk']),
  unit: values.unit,
  mintQuotes: values['unpaid-mint-quotes'] ? 'unpaid' : 'paid',
});
process.stdout.write(`${mint.url}\n`);

if (values['faults-on-stdin']) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === '') return;
    mint.setFault(JSON.parse(line) as MintFault | MintFault[] | null);
    process.stdout.write('faults set\n');
  });
}

const shutdown = (): void => {
  void mint.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
