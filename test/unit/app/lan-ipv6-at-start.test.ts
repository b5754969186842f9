import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startTollkeeper, type Tollkeeper } from '../../../src/app/tollkeeper.ts';
import { parseConfig } from '../../../src/config/parse-config.ts';
import { silentLog } from '../../support/silent-log.ts';

// A stand-in for `ssh root@router`: records each argv it is handed and answers as the router would.
const GATEWAY_HOST = `
import { appendFileSync } from 'node:fs';
const argv = process.argv.slice(2);
appendFileSync(new URL('./asked.jsonl', import.meta.url), JSON.stringify(argv) + '\\n');
if (argv[0] === 'ip') process.stdout.write('5: br-lan    inet6 2001:db8:1234:5600::1/64 scope global dynamic \\\\       valid_lft 86370sec preferred_lft 14370sec\\n');
else if (argv[0] === 'cat') process.stdout.write('1\\n');
else if (argv[0] === 'ndsctl' && argv[1] === 'json') process.stdout.write('{"client_list_length":"0","clients":{}}\\n');
else process.exitCode = 1;
`;

let dir: string | undefined;
let tk: Tollkeeper | undefined;
afterEach(async () => {
  await tk?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  tk = undefined;
  dir = undefined;
});

it('at start, checks the LAN for forwarded IPv6 through the gate command prefix and shows it in /metrics', async () => {
  dir = await mkdtemp(join(tmpdir(), 'tollkeeper-ipv6-'));
  const host = join(dir, 'gateway-host.mjs');
  await writeFile(host, GATEWAY_HOST);
  const config = parseConfig({
    dataDir: join(dir, 'data'),
    gate: { kind: 'ndsctl', command: [process.execPath, host, 'ndsctl'], counters: 'ndsctl-json', lanInterface: 'br-lan' },
    mints: [{ url: 'http://127.0.0.1:9', unit: 'sat' }],
    leaseFiles: [],
    arpFile: join(dir, 'no-arp'),
  });
  tk = await startTollkeeper({ config, log: silentLog, listen: false });
  const metrics = async () => (await tk!.admin.inject({ method: 'GET', url: '/metrics' })).body;
  const deadline = Date.now() + 15_000;
  while (!/tollkeeper_lan_ipv6_forwarded/.test(await metrics()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await metrics()).toMatch(/^tollkeeper_lan_ipv6_forwarded\{interface="br-lan"\} 1$/m);
  const asked = readFileSync(join(dir, 'asked.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]);
  expect(asked).toContainEqual(['ip', '-6', '-o', 'addr', 'show', 'dev', 'br-lan', 'scope', 'global']);
  expect(asked).toContainEqual(['cat', '/proc/sys/net/ipv6/conf/br-lan/forwarding']);
}, 30_000);
