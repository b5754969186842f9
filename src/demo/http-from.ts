import { request } from 'node:http';

export interface HttpReply {
  status: number;
  body: string;
}

/**
 * An HTTP request sent from a chosen local address (any 127.x.y.z works on Linux without setup),
 * so the gateway sees each simulated device at its own address, as it would on a LAN.
 */
export function httpFrom(
  localAddress: string,
  url: string,
  init: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', localAddress, headers: init.headers, timeout: init.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.end(init.body);
  });
}
