// Runs inside tk-mv (bench/lab/macvlan-clients.sh): every endpoint 1..N fetches a few KB through
// the gate every PERIOD ms, from its own address, so each open session's counters keep moving while
// the metering bench reads them. Prints `trickling N` once started; runs until killed.
//
//   node --import tsx bench/lab/trickle.ts N URL [PERIOD_MS, default 2000]
import { get } from 'node:http';
import { macvlanIp } from './macvlan-layout.ts';

const count = Number(process.argv[2]);
const url = process.argv[3]!;
const periodMs = Number(process.argv[4] ?? 2000);

function fetchFrom(localAddress: string): void {
  const req = get(url, { localAddress, timeout: 5_000 }, (res) => res.resume());
  req.on('timeout', () => req.destroy());
  req.on('error', () => undefined);
}

for (let k = 1; k <= count; k++) {
  const ip = macvlanIp(k);
  // Spread the endpoints over the period instead of all at once.
  setTimeout(() => {
    fetchFrom(ip);
    setInterval(() => fetchFrom(ip), periodMs);
  }, Math.floor((periodMs * (k - 1)) / count));
}
process.stdout.write(`trickling ${count}\n`);
