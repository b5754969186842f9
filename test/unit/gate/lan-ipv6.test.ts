import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { logLanIpv6 } from '../../../src/app/lan-ipv6-warning.ts';
import { GateError } from '../../../src/gate/gate.ts';
import { checkLanIpv6, decideLanIpv6, type GatewayHost, isInternetAddress, lanIpv6Commands, parseIpv6Addresses } from '../../../src/gate/lan-ipv6.ts';
import type { CommandResult } from '../../../src/gate/ndsctl-runner.ts';
import { NdsctlRunner } from '../../../src/gate/ndsctl-runner.ts';
import { createOps } from '../../../src/ops/ops.ts';

// `ip -6 -o addr show dev br-lan scope global` as iproute2 prints it (one line per address).
const ULA = '5: br-lan    inet6 fd5c:1a2b:3c4d::1/60 scope global noprefixroute \\       valid_lft forever preferred_lft forever\n';
const GLOBAL = '5: br-lan    inet6 2001:db8:1234:5600::1/64 scope global dynamic noprefixroute \\       valid_lft 86370sec preferred_lft 14370sec\n';

const result = (command: string[], stdout: string, exitCode = 0, stderr = ''): CommandResult => ({ command, stdout, stderr, exitCode });
const ran = (addresses: string, forwarding: string, addressesExit = 0): [CommandResult, CommandResult] => [
  result(lanIpv6Commands('br-lan').addresses, addresses, addressesExit, addressesExit ? 'Device "br-lan" does not exist.' : ''),
  result(lanIpv6Commands('br-lan').forwarding, forwarding),
];

/** A gateway host answering from a table, recording what it was asked to run. */
function host(answers: Record<string, CommandResult | Error>): GatewayHost & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    async tool(argv) {
      asked.push([...argv]);
      const answer = answers[argv[0]!];
      if (!answer) throw new Error(`unexpected ${argv.join(' ')}`);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe('the commands, through the gate command prefix', () => {
  it('runs behind the ssh prefix of the gate, as one argv with no shell', async () => {
    // echo stands in for ssh: it prints the argv it was given, which is what ssh would send to the router.
    const runner = new NdsctlRunner({ command: ['echo', 'ssh', '-o', 'BatchMode=yes', 'root@192.168.1.1', 'ndsctl'] });
    const commands = lanIpv6Commands('br-lan');
    expect((await runner.tool(commands.addresses)).stdout).toBe('ssh -o BatchMode=yes root@192.168.1.1 ip -6 -o addr show dev br-lan scope global');
    expect((await runner.tool(commands.forwarding)).stdout).toBe('ssh -o BatchMode=yes root@192.168.1.1 cat /proc/sys/net/ipv6/conf/br-lan/forwarding');
  });

  it('with the default command (ndsctl) runs ip and cat on this host, and no shell reads the arguments', async () => {
    expect(new NdsctlRunner({ command: ['ndsctl'] }).hostPrefix).toEqual([]);
    const runner = new NdsctlRunner({ command: ['echo', '$(id)', 'ndsctl'] });
    expect((await runner.tool(lanIpv6Commands('br-lan').addresses)).stdout).toBe('$(id) ip -6 -o addr show dev br-lan scope global');
  });

  it('refuses an interface name a remote shell would read (the check reports unknown, runs nothing)', async () => {
    for (const bad of ['br-lan; reboot', '$(id)', 'a b', '', 'x'.repeat(16), '../all']) {
      expect(() => lanIpv6Commands(bad)).toThrow(RangeError);
    }
    const gateway = host({});
    expect(await checkLanIpv6(gateway, 'br-lan;reboot')).toMatchObject({ status: 'unknown' });
    expect(gateway.asked).toEqual([]);
  });
});

describe('the decision', () => {
  it('reads the addresses of iproute2 one-line output', () => {
    expect(parseIpv6Addresses(ULA + GLOBAL)).toEqual(['fd5c:1a2b:3c4d::1', '2001:db8:1234:5600::1']);
    expect(parseIpv6Addresses('')).toEqual([]);
    expect(['2001:db8::1', '2a00::1', '3fff::1'].map(isInternetAddress)).toEqual([true, true, true]);
    expect(['fd00::1', 'fe80::1', '::1', '4000::1'].map(isInternetAddress)).toEqual([false, false, false, false]);
  });

  it('a routable prefix on the LAN and IPv6 forwarding on: forwarded around the portal', () => {
    expect(decideLanIpv6('br-lan', ...ran(ULA + GLOBAL, '1\n'))).toEqual({
      status: 'forwarded',
      lan: 'br-lan',
      addresses: ['fd5c:1a2b:3c4d::1', '2001:db8:1234:5600::1'],
      internetAddresses: ['2001:db8:1234:5600::1'],
      forwarding: true,
    });
    // A ULA prefix alone is forwarded too: it can be masqueraded, and a delegated prefix can join it later.
    expect(decideLanIpv6('br-lan', ...ran(ULA, '1\n'))).toMatchObject({ status: 'forwarded', internetAddresses: [] });
  });

  it('no routable prefix on the LAN, or no IPv6 forwarding: not forwarded', () => {
    expect(decideLanIpv6('br-lan', ...ran('', '1\n'))).toMatchObject({ status: 'not-forwarded', addresses: [], forwarding: true });
    expect(decideLanIpv6('br-lan', ...ran(GLOBAL, '0\n'))).toMatchObject({ status: 'not-forwarded', forwarding: false });
  });

  it('an interface that does not exist, or a flag that is not 0 or 1: unknown, never "not forwarded"', () => {
    expect(decideLanIpv6('br-lan', ...ran('', '', 1))).toMatchObject({ status: 'unknown', reason: expect.stringMatching(/exited 1: Device "br-lan" does not exist/) });
    expect(decideLanIpv6('br-lan', ...ran(GLOBAL, 'yes'))).toMatchObject({ status: 'unknown' });
  });

  it('a gate host that times out (ssh unreachable) gives unknown, not a throw', async () => {
    const gateway = host({ ip: new GateError('timeout', 'ssh: no answer within 10000 ms') });
    expect(await checkLanIpv6(gateway, 'br-lan')).toEqual({ status: 'unknown', lan: 'br-lan', reason: 'ssh: no answer within 10000 ms' });
  });

  it('runs both commands on the gateway host and decides from their answers', async () => {
    const [addresses, forwarding] = ran(GLOBAL, '1\n');
    const gateway = host({ ip: addresses, cat: forwarding });
    expect(await checkLanIpv6(gateway, 'br-lan')).toMatchObject({ status: 'forwarded' });
    expect(gateway.asked).toEqual([lanIpv6Commands('br-lan').addresses, lanIpv6Commands('br-lan').forwarding]);
  });
});

describe('what the operator sees', () => {
  function captured() {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    return { log, lines };
  }

  it('warns at start when IPv6 is forwarded, and only then', () => {
    const forwarded = captured();
    logLanIpv6(decideLanIpv6('br-lan', ...ran(GLOBAL, '1')), forwarded.log);
    expect(forwarded.lines).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/forwards IPv6 around the portal/) })]);
    for (const finding of [decideLanIpv6('br-lan', ...ran('', '1')), decideLanIpv6('br-lan', ...ran('', '', 1))]) {
      const quiet = captured();
      logLanIpv6(finding, quiet.log);
      expect(quiet.lines.map((line) => line.level)).toEqual([30]);
    }
  });

  it('/metrics shows tollkeeper_lan_ipv6_forwarded once checked, and nothing when the check could not run', () => {
    const ops = createOps({ dataDir: '/nonexistent', metric: 'bytes' });
    expect(ops.metricsText()).not.toMatch(/tollkeeper_lan_ipv6_forwarded/);
    ops.noteLanIpv6(decideLanIpv6('br-lan', ...ran('', '', 1)));
    expect(ops.metricsText()).not.toMatch(/tollkeeper_lan_ipv6_forwarded/);
    ops.noteLanIpv6(decideLanIpv6('br-lan', ...ran(GLOBAL, '1')));
    expect(ops.metricsText()).toMatch(/^tollkeeper_lan_ipv6_forwarded\{interface="br-lan"\} 1$/m);
    ops.noteLanIpv6(decideLanIpv6('br-lan', ...ran(GLOBAL, '0')));
    expect(ops.metricsText()).toMatch(/^tollkeeper_lan_ipv6_forwarded\{interface="br-lan"\} 0$/m);
  });
});
