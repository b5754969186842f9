import { afterEach, expect, it } from 'vitest';
import { GateTransportError, type GateTransport } from '../../../src/gate/gate-transport.ts';
import { LocalTransport } from '../../../src/gate/local-transport.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { NdsctlGate } from '../../../src/gate/ndsctl-gate.ts';
import { FakeNdsctl } from '../../support/fake-ndsctl/fake-ndsctl.ts';

let fake: FakeNdsctl | undefined;
afterEach(async () => {
  await fake?.cleanup();
  fake = undefined;
});

/** A transport whose first `drops` commands fail as a dropped ssh session would; then the fakes answer. */
function droppingTransport(env: Record<string, string>, drops: number): GateTransport & { sent: string[][] } {
  const local = new LocalTransport(env);
  const sent: string[][] = [];
  return {
    kind: 'ssh',
    sent,
    async run(argv, options) {
      sent.push([...argv]);
      if (drops-- > 0) throw new GateTransportError('dropped', `${argv.join(' ')}: the session ended`);
      return local.run(argv, options);
    },
    close: async () => undefined,
  };
}

it('a dropped session while the counter source is detected is an error of that reading, not a verdict against the firewall', async () => {
  fake = await FakeNdsctl.create({ firewall: 'iptables' });
  const mac = parseMac('aa:bb:cc:dd:ee:07');
  await fake.addClient(mac, { ip: '198.18.0.7', state: 'Authenticated', download: 4_000, upload: 1_000 });
  const transport = droppingTransport(fake.env(), 1);
  const gate = new NdsctlGate({ transport, enforce: 'deauth', timeoutMs: 5_000 });
  const first = await gate.readAll().catch((error: unknown) => error);
  expect(first).toBeInstanceOf(GateTransportError);
  const second = await gate.readAll();
  expect(second.source).toBe('iptables');
  expect(second.clients.get(mac)).toMatchObject({ download: 4_000, upload: 1_000 });
  expect(transport.sent.filter((argv) => argv[0] === 'ndsctl')).toEqual([]);
});
