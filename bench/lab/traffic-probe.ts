// Runs inside a client namespace: tries GET URL every 2 ms (20 ms timeout each) and
// prints `flowing <Date.now()>` at the first 200, then exits. Prints `probing` once it has started.
// The short timeout matters: a SYN sent while OpenNDS rewrites its rules can be dropped instead of
// rejected, and the probe must not wait long for it (seen: +100 ms steps with a 100 ms timeout).
import { get } from 'node:http';

const url = process.argv[2]!;
const deadline = Date.now() + Number(process.argv[3] ?? 30_000);

function attempt(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 20 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

process.stdout.write('probing\n');
while (Date.now() < deadline) {
  if (await attempt()) {
    process.stdout.write(`flowing ${Date.now()}\n`);
    process.exit(0);
  }
  await new Promise((resolve) => setTimeout(resolve, 2));
}
process.exit(1);
