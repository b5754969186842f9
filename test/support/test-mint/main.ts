// CLI: tsx test/support/test-mint/main.ts --port P --host H [--fee-ppk N] [--unit sat]
import { parseArgs } from 'node:util';
import { startTestMint } from '../../../src/loopback-mint/mint.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'fee-ppk': { type: 'string', default: '0' },
    unit: { type: 'string', default: 'sat' },
  },
});

const mint = await startTestMint({
  port: Number(values.port),
  host: values.host,
  inputFeePpk: Number(values['fee-ppk']),
  unit: values.unit,
});
process.stdout.write(`${mint.url}\n`);

const shutdown = (): void => {
  void mint.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
