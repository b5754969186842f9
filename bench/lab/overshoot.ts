// NOT YET RUN. Bench 2: enforcement overshoot of a 50 MB purchase on the lab's 80 Mbit/s link,
// adaptive tick (the default poll) against a fixed 2 s tick (poll {minMs:2000,maxMs:2000}).
//
//   sudo test/gateway/lab.sh up            (LAB_SHAPE defaults to 80mbit)
//   sudo node --import tsx bench/lab/overshoot.ts [REPEATS, default 3]
//
// Client tk-c1 buys 50 sats at 1 sat per 1,000,000 bytes and downloads 200 MB through the gate
// until it is cut off. Overshoot = body bytes received − 50,000,000. The gate counts IP-level
// bytes (headers included), so the body figure is a little below what the meter saw.
import { download, labSkipReason, bytesUrl } from '../../test/gateway/lab.ts';
import { deauthAllClients, mintTokens, payFromClient, startLabMint } from '../../test/gateway/tollkeeper-lab.ts';
import { median, round } from '../lib/stats.ts';
import { startBenchServe } from './lab-serve.ts';

const REPEATS = Number(process.argv[2] ?? 3);
const STEP = 1_000_000;
const SATS = 50;
const ALLOTMENT = SATS * STEP;
const POLICIES = [
  { name: 'adaptive (default poll)', poll: undefined },
  { name: 'fixed 2 s tick', poll: { minMs: 2000, maxMs: 2000 } },
] as const;

const skip = labSkipReason();
if (skip) throw new Error(skip);

const mint = await startLabMint();
const overshoot: Record<string, number[]> = {};
try {
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const policy of POLICIES) {
      await deauthAllClients();
      const serve = await startBenchServe({ stepSize: STEP, ...(policy.poll ? { poll: policy.poll } : {}) });
      try {
        const [token] = await mintTokens([SATS]);
        const paid = await payFromClient(1, token!);
        if (paid.status !== 200) throw new Error(`payment refused: ${paid.status} ${paid.body}`);
        const received = await download(1, bytesUrl(200_000_000), { maxTimeSeconds: 60, curlArgs: ['--speed-limit', '1', '--speed-time', '3'] });
        (overshoot[policy.name] ??= []).push(received - ALLOTMENT);
        process.stderr.write(`${policy.name}: received ${received} bytes, overshoot ${received - ALLOTMENT}\n`);
      } finally {
        await serve.stop();
      }
    }
  }
} finally {
  await deauthAllClients();
  await mint.stop();
}

process.stdout.write('| Tick policy | Overshoot, median (MB) | Each run (bytes) |\n| --- | --- | --- |\n');
for (const [name, values] of Object.entries(overshoot)) {
  process.stdout.write(`| ${name} | ${round(median(values) / 1e6, 2)} | ${values.join(', ')} |\n`);
}
process.stdout.write(`${JSON.stringify(overshoot)}\n`);
