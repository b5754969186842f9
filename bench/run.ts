// npm run bench                 the default benches (none needs the lab)
// npm run bench -- payments     one bench by name (several names allowed; actors-persisted only so)
// npm run bench -- footprint    start time, RSS and install size: compiled, tsx and a bare node server
// npm run bench -- hostile     attacks from the LAN against a real `tollkeeper serve`, a customer paying alongside
// npm run bench -- routes      per-answer cost of the TollGate compatibility routes, real MAC lookup vs in-memory
// npm run bench -- portal      the customer portal: bytes on the wire for its first view, and its cost per request
// npm run bench -- lightning   a Lightning purchase from invoice paid to gate open, against the raw mint call
// npm run bench -- ssh-tick    a metering tick over one ssh session vs local vs a per-call ssh prefix (a real sshd on loopback)
// npm run bench -- lab          the OpenNDS lab benches (root; lab-metering, lab-overshoot, lab-gate-open, lab-portal, lab-lightning), only when named
// npm run bench -- lab-roam     a roaming hand-over between the two-router lab's routers over ssh, beside the session's first opening (root)
// Prints figures only; nothing here asserts a time.
import { actorsBench, actorsPersistedBench } from './actors/actors.bench.ts';
import { footprintBench } from './footprint/footprint.bench.ts';
import { hostileBench } from './hostile/hostile.bench.ts';
import { loadLine, machineLine, treeLine } from './lib/machine.ts';
import type { Bench, BenchRow } from './lib/row.ts';
import { markdownTable } from './lib/table.ts';
import { labGateOpenBench } from './lab/gate-open-latency.ts';
import { labMeteringBench } from './lab/metering-cost.ts';
import { labOvershootBench } from './lab/overshoot.ts';
import { labLightningBench } from './lab/lightning-open.ts';
import { labPortalBench } from './lab/portal-paint.ts';
import { labRoamBench } from './lab/roam-hand-over.ts';
import { lightningBench } from './lightning/paid-to-credit.bench.ts';
import { paymentsBench } from './payments/payments.bench.ts';
import { persistenceBench } from './persistence/persistence.bench.ts';
import { portalBench } from './portal/portal.bench.ts';
import { routesBench } from './routes/customer-routes.bench.ts';
import { sshTickBench } from './ssh/ssh-tick.bench.ts';

const BENCHES: readonly Bench[] = [paymentsBench, actorsBench, actorsPersistedBench, persistenceBench, footprintBench, hostileBench, routesBench, portalBench, lightningBench, sshTickBench, labMeteringBench, labOvershootBench, labGateOpenBench, labPortalBench, labLightningBench, labRoamBench];
/** Names that stand for several benches. */
const GROUPS: Readonly<Record<string, readonly string[]>> = { lab: [labMeteringBench.name, labOvershootBench.name, labGateOpenBench.name, labPortalBench.name, labLightningBench.name] };

const names = process.argv.slice(2).filter((arg) => arg !== '--').flatMap((name) => GROUPS[name] ?? [name]);
const unknown = names.filter((name) => !BENCHES.some((bench) => bench.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
const chosen = names.length === 0 ? BENCHES.filter((bench) => bench.byDefault) : BENCHES.filter((bench) => names.includes(bench.name));

process.stdout.write(`${machineLine()}; ${treeLine()}\n`);
const rows: BenchRow[] = [];
let failed = false;
for (const bench of chosen) {
  const started = performance.now();
  process.stderr.write(`bench ${bench.name} ... (${loadLine()})\n`);
  try {
    const benchRows = await bench.run();
    rows.push(...benchRows);
    for (const row of benchRows) process.stderr.write(`  ${row.what}: ${row.figure}\n`);
  } catch (error) {
    failed = true;
    process.stderr.write(`bench ${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.stderr.write(`bench ${bench.name} took ${((performance.now() - started) / 1000).toFixed(1)} s (${loadLine()})\n`);
}
process.stdout.write(`\n${markdownTable(rows)}\n`);
process.exitCode = failed ? 1 : 0;
