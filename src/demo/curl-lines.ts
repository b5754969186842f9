import type { DemoDevice } from './demo-customers.ts';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Ready-to-paste commands against the demo's HTTP API. */
export function curlLines(url: string, token: string, customer: DemoDevice | undefined): string[] {
  const lines = [
    `# the signed advertisement (kind 10021): prices, metric, step size`,
    `curl -s ${url}/`,
    `# pay with a freshly minted 10 sat token; from 127.0.0.1 you are device ${'02:00:00:00:00:01'}`,
    `curl -s -X POST -H 'Content-Type: text/plain' --data ${quote(token)} ${url}/`,
    `# your usage (used/allotment in bytes; -1/-1 without a session)`,
    `curl -s ${url}/usage`,
  ];
  if (customer) {
    lines.push(
      `# ${customer.name}'s usage: from loopback, X-Real-IP names the device the way a local proxy would`,
      `curl -s -H 'X-Real-IP: ${customer.ip}' ${url}/usage`,
    );
  }
  return lines;
}
