import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem, DEFAULT_CONFIG, gateEntriesOf } from '../../../src/config/config.ts';
import { parseConfig } from '../../../src/config/parse-config.ts';

const MINT = { url: 'https://mint.example', unit: 'sat', pricePerStep: 1, minSteps: 1 };
const SSH = { kind: 'ssh', host: '10.0.0.2', identityFile: '/etc/tollkeeper/id_ed25519', knownHostsFile: '/etc/tollkeeper/known_hosts' };

function problemsOf(input: unknown): ConfigProblem[] {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('gates in the config', () => {
  it('keeps the one `gate` valid as it is: one gate named "default" whose LAN is every address', () => {
    const config = parseConfig({ mints: [MINT], gate: { kind: 'ndsctl', command: ['ndsctl'] }, leaseFiles: ['/tmp/x.leases'], arpFile: '/tmp/arp' });
    expect(config.gates).toEqual([]);
    expect(gateEntriesOf(config)).toEqual([
      { name: 'default', lan: ['0.0.0.0/0', '::/0'], leaseFiles: ['/tmp/x.leases'], arpFile: '/tmp/arp', gate: config.gate },
    ]);
    expect(gateEntriesOf(parseConfig({ mints: [MINT] }))[0]!.gate).toEqual(DEFAULT_CONFIG.gate);
  });

  it('reads several gates, each with its name, LAN subnets, leases, neighbour table and gate settings', () => {
    const config = parseConfig({
      mints: [MINT],
      gates: [
        { name: 'lobby', lan: '192.168.10.0/24', leaseFiles: ['/tmp/lobby.leases'], arpFile: '/tmp/lobby.arp', counters: 'iptables', enforce: 'deauth' },
        { name: 'terrace', lan: ['192.168.20.0/24', 'FD00:20::/64'], transport: SSH, lanInterface: 'br-guest', reopenForMs: 60_000 },
        { name: 'bench', kind: 'simulated', lan: '10.9.0.0/16' },
      ],
    });
    expect(config.gates.map((g) => [g.name, g.lan])).toEqual([
      ['lobby', ['192.168.10.0/24']],
      ['terrace', ['192.168.20.0/24', 'fd00:20::/64']],
      ['bench', ['10.9.0.0/16']],
    ]);
    expect(config.gates[0]).toMatchObject({ leaseFiles: ['/tmp/lobby.leases'], arpFile: '/tmp/lobby.arp', gate: { kind: 'ndsctl', counters: 'iptables', enforce: 'deauth', transport: { kind: 'local' } } });
    expect(config.gates[1]).toMatchObject({ leaseFiles: DEFAULT_CONFIG.leaseFiles, gate: { lanInterface: 'br-guest', reopenForMs: 60_000, transport: { kind: 'ssh', host: '10.0.0.2', user: 'root', port: 22 } } });
    expect(config.gates[2]!.gate).toEqual({ kind: 'simulated' });
    expect(gateEntriesOf(config)).toBe(config.gates);
  });

  it('refuses two gates with one name, a gate without a LAN, and a name that is not a plain word', () => {
    expect(problemsOf({ mints: [MINT], gates: [{ name: 'a', lan: '10.1.0.0/16' }, { name: 'a', lan: '10.2.0.0/16' }, { name: 'Bad Name', lan: '10.3.0.0/16' }, { name: 'c' }] })).toEqual([
      { key: 'gates[2].name', problem: 'is "Bad Name"', expected: expect.stringMatching(/^a name of lower-case letters/) },
      { key: 'gates[3].lan', problem: 'is missing', expected: expect.stringContaining('CIDR') },
      { key: 'gates[1].name', problem: '"a" is also gates[0]\'s name', expected: 'a name no other gate has' },
    ]);
  });

  it('refuses LAN subnets that overlap, between two gates or within one, and what is not a subnet', () => {
    const problems = problemsOf({
      mints: [MINT],
      gates: [
        { name: 'a', lan: ['10.1.0.0/16', '10.1.2.0/24'] },
        { name: 'b', lan: ['10.0.0.0/8', 'fd00::/48'] },
        { name: 'c', lan: ['fd00:0:0:5::/64', '192.168.1.1/24', '10.5.0.0/33', 'lan'] },
      ],
    });
    expect(problems.map((p) => `${p.key}: ${p.problem}`)).toEqual([
      'gates[2].lan[1]: is "192.168.1.1/24"',
      'gates[2].lan[2]: is "10.5.0.0/33"',
      'gates[2].lan[3]: is "lan"',
      'gates[0].lan: 10.1.2.0/24 overlaps 10.1.0.0/16 of gates[0]',
      'gates[1].lan: 10.0.0.0/8 overlaps 10.1.0.0/16 of gates[0]',
      'gates[1].lan: 10.0.0.0/8 overlaps 10.1.2.0/24 of gates[0]',
      'gates[2].lan: fd00:0:0:5::/64 overlaps fd00::/48 of gates[1]',
    ]);
    // IPv4 and IPv6 networks never overlap, however short their prefixes.
    expect(parseConfig({ mints: [MINT], gates: [{ name: 'a', lan: '0.0.0.0/0' }, { name: 'b', lan: '::/0' }] }).gates).toHaveLength(2);
  });

  it('names the entry in every problem of its gate settings, and refuses `gate` beside `gates`', () => {
    const problems = problemsOf({
      mints: [MINT],
      gate: { kind: 'simulated' },
      gates: [{ name: 'a', lan: '10.1.0.0/16', transport: { ...SSH, host: '-oProxyCommand=x' }, colour: 'red', enforce: 'sometimes' }],
    });
    expect(problems.map((p) => p.key).sort()).toEqual(['gate', 'gates[0].colour', 'gates[0].enforce', 'gates[0].transport.host']);
    expect(problemsOf({ mints: [MINT], gates: Array.from({ length: 65 }, (_, i) => ({ name: `g${i}`, lan: `10.${i}.0.0/16` })) })).toEqual([
      { key: 'gates', problem: 'has 65 entries', expected: expect.stringContaining('1 to 64') },
    ]);
    // Empty, as a written-out config holds it: the one `gate`.
    expect(parseConfig({ mints: [MINT], gate: { kind: 'simulated' }, gates: [] })).toMatchObject({ gate: { kind: 'simulated' }, gates: [] });
    expect(problemsOf({ mints: [MINT], gates: { name: 'a' } })[0]).toMatchObject({ key: 'gates', problem: 'is an object' });
  });
});
