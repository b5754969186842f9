import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GateError } from '../../../src/gate/gate.ts';
import { backoffDelay, DEFAULT_RETRY, NdsctlRunner } from '../../../src/gate/ndsctl-runner.ts';
import { FakeNdsctl } from '../../support/fake-ndsctl/fake-ndsctl.ts';

const quickRetry = { attempts: 4, baseDelayMs: 1, maxDelayMs: 4 };

describe('backoffDelay', () => {
  it('grows exponentially, stays within [ceiling/2, ceiling] and is capped', () => {
    const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0.5)).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
  });
});

describe('NdsctlRunner', () => {
  let fake: FakeNdsctl;
  beforeEach(async () => {
    fake = await FakeNdsctl.create();
  });
  afterEach(async () => {
    await fake.cleanup();
  });

  it('retries "ndsctl thread is busy" (exit 4) with backoff and then answers', async () => {
    await fake.setFaults({ busy: 2 });
    const delays: number[] = [];
    const runner = new NdsctlRunner({
      env: fake.env(),
      retry: quickRetry,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const result = await runner.ndsctl(['json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ client_list_length: '0' });
    expect((await fake.calls()).map((c) => c.exit)).toEqual([4, 4, 0]);
    expect(delays).toHaveLength(2);
  });

  it('gives up with GateError busy after the configured attempts', async () => {
    await fake.setFaults({ busy: 100 });
    const runner = new NdsctlRunner({ env: fake.env(), retry: quickRetry });
    const error = await runner.ndsctl(['json']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateError);
    expect((error as GateError).kind).toBe('busy');
    expect((error as GateError).detail?.exitCode).toBe(4);
    expect(await fake.calls()).toHaveLength(quickRetry.attempts);
  });

  it('retries the lock-file exits 5 and 6 too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runner-'));
    try {
      // Exits 5, then 6, then succeeds: the attempt number lives in a file.
      const script = `n=$(cat "${dir}/n" 2>/dev/null || echo 0); echo $((n+1)) > "${dir}/n"; [ "$n" = 0 ] && exit 5; [ "$n" = 1 ] && exit 6; echo "ok $*"`;
      const runner = new NdsctlRunner({ command: ['sh', '-c', script, 'ndsctl'], retry: quickRetry });
      const result = await runner.ndsctl(['json']);
      expect(result).toMatchObject({ exitCode: 0, stdout: 'ok json' });
      expect(await readFile(join(dir, 'n'), 'utf8')).toBe('3\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exclusive: the tool commands it makes run back to back, before a command queued meanwhile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runner-'));
    try {
      const script = `echo "$0 $*" >> "${dir}/log"`;
      const runner = new NdsctlRunner({ command: ['sh', '-c', script, 'ndsctl'], retry: quickRetry });
      let queuedMeanwhile: Promise<unknown> | undefined;
      const held = runner.exclusive(async (tool) => {
        await tool(['read']);
        queuedMeanwhile = runner.ndsctl(['json']);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await tool(['update']);
        return 'done';
      });
      expect(await held).toBe('done');
      await queuedMeanwhile;
      expect((await readFile(join(dir, 'log'), 'utf8')).trim().split('\n')).toEqual(['read ', 'update ', 'ndsctl json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('returns other exit codes to the caller without retrying', async () => {
    const runner = new NdsctlRunner({ env: fake.env(), retry: quickRetry });
    const result = await runner.ndsctl(['deauth', 'aa:bb:cc:dd:ee:01']);
    expect(result).toMatchObject({ exitCode: 1, stdout: 'Client aa:bb:cc:dd:ee:01 not found.' });
    expect(await fake.calls()).toHaveLength(1);
  });

  it('kills a hanging ndsctl and reports GateError timeout', async () => {
    await fake.setFaults({ hang: 1 });
    const runner = new NdsctlRunner({ env: fake.env(), timeoutMs: 1_000, retry: quickRetry });
    const error = await runner.ndsctl(['json']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateError);
    expect((error as GateError).kind).toBe('timeout');
    // The queue is free again and the next call answers.
    expect((await runner.ndsctl(['json'], { timeoutMs: 10_000 })).exitCode).toBe(0);
  });

  it('reports a missing ndsctl as GateError failed', async () => {
    const runner = new NdsctlRunner({ command: ['/nonexistent/ndsctl'] });
    await expect(runner.ndsctl(['json'])).rejects.toMatchObject({ name: 'GateError', kind: 'failed' });
  });

  it('passes arguments verbatim, never through a shell', async () => {
    const runner = new NdsctlRunner({ command: ['printf', '%s|'] });
    const result = await runner.ndsctl(['a b', '$(reboot)', ';rm -rf /', '`id`']);
    expect(result.stdout).toBe('a b|$(reboot)|;rm -rf /|`id`|');
  });

  it('runs firewall tools through the ndsctl command minus its last element', async () => {
    const runner = new NdsctlRunner({ command: ['env', 'TOLL_PREFIX_SEEN=yes', 'ndsctl'] });
    expect(runner.hostPrefix).toEqual(['env', 'TOLL_PREFIX_SEEN=yes']);
    const result = await runner.tool(['printenv', 'TOLL_PREFIX_SEEN']);
    expect(result.stdout).toBe('yes');
  });
});
