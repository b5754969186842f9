// A load generator in its own process (its own core), so it does not steal the gateway's event loop.
// Usage: node --import tsx bench/load/load-child.ts SPEC.json   -> one JSON LoadResult on stdout
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { percentile } from '../lib/stats.ts';
import type { LoadRequest, LoadResult, LoadSpec } from './load-spec.ts';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;
const base = new URL(spec.url);
const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });

function send(one: LoadRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = one.body === undefined ? undefined : Buffer.from(one.body);
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: one.method,
        path: one.path,
        headers: body ? { ...one.headers, 'content-length': String(body.length) } : one.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function drive(requests: readonly LoadRequest[], record: boolean, deadline = Number.POSITIVE_INFINITY): Promise<{ latencies: number[]; statuses: Record<string, number>; failures: Record<string, string> }> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const failures: Record<string, string> = {};
  let next = 0;
  const worker = async () => {
    while (next < requests.length && performance.now() < deadline) {
      const one = requests[next++]!;
      const started = performance.now();
      let status: string;
      try {
        const answer = await send(one);
        status = String(answer.status);
        if (answer.status >= 300) failures[status] ??= answer.body.slice(0, 300);
      } catch (error) {
        status = `error:${(error as NodeJS.ErrnoException).code ?? 'unknown'}`;
      }
      if (record) latencies.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return { latencies, statuses, failures };
}

await drive(spec.requests.slice(0, spec.warmup), false);
const measured = spec.requests.slice(spec.warmup);
const started = performance.now();
const { latencies, statuses, failures } = await drive(measured, true, started + spec.maxMs);
const elapsedMs = performance.now() - started;
latencies.sort((a, b) => a - b);
const result: LoadResult = {
  sent: latencies.length,
  elapsedMs,
  perSecond: (latencies.length / elapsedMs) * 1000,
  statuses,
  p50Ms: percentile(latencies, 50),
  p90Ms: percentile(latencies, 90),
  p99Ms: percentile(latencies, 99),
  maxMs: latencies.at(-1) ?? Number.NaN,
  failures,
};
agent.destroy();
process.stdout.write(`${JSON.stringify(result)}\n`);
