import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse-config.ts';
import { ConfigError } from '../../../src/config/config.ts';
import { adminTokenPath, readAdminToken } from '../../../src/ops/admin-token.ts';
import { DEVICE, startRunningGateway, type RunningGateway } from './running-gateway.ts';

describe('admin API', () => {
  let g: RunningGateway;
  let token: string;
  beforeAll(async () => {
    g = await startRunningGateway();
    token = readAdminToken(g.dataDir);
  });
  afterAll(() => g.close());

  it('keeps its token in the data dir, readable by the owner only', () => {
    expect(statSync(adminTokenPath(g.dataDir)).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('listens on loopback', () => {
    expect(new URL(g.tk.adminUrl!).hostname).toBe('127.0.0.1');
  });

  it('refuses a request without the token, or with a wrong one', async () => {
    const none = await fetch(`${g.tk.adminUrl}/admin/sessions`);
    const wrong = await fetch(`${g.tk.adminUrl}/admin/sessions`, { headers: { authorization: `Bearer ${'0'.repeat(64)}` } });
    const closeWithout = await fetch(`${g.tk.adminUrl}/admin/sessions/${DEVICE.mac}/close`, { method: 'POST' });
    expect([none.status, wrong.status, closeWithout.status]).toEqual([401, 401, 401]);
  });

  it('lists and closes sessions with the token', async () => {
    expect((await g.pay(50)).status).toBe(200);
    const auth = { authorization: `Bearer ${token}` };
    const list = (await (await fetch(`${g.tk.adminUrl}/admin/sessions`, { headers: auth })).json()) as { sessions: { mac: string; state: string }[] };
    expect(list.sessions.map((s) => [s.mac, s.state])).toEqual([[DEVICE.mac, 'polling']]);
    expect(g.gate.isOpen(DEVICE.mac)).toBe(true);

    const closed = await fetch(`${g.tk.adminUrl}/admin/sessions/${DEVICE.mac.toUpperCase()}/close`, { method: 'POST', headers: auth });
    expect(closed.status).toBe(200);
    expect(((await closed.json()) as { session: { state: string; closeReason: string } }).session).toMatchObject({
      state: 'closed',
      closeReason: 'operator',
    });
    expect(g.gate.isOpen(DEVICE.mac)).toBe(false);

    const unknown = await fetch(`${g.tk.adminUrl}/admin/sessions/aa:bb:cc:dd:ee:99/close`, { method: 'POST', headers: auth });
    const notMac = await fetch(`${g.tk.adminUrl}/admin/sessions/not-a-mac/close`, { method: 'POST', headers: auth });
    expect([unknown.status, notMac.status]).toEqual([404, 400]);
  });

  it('refuses peers that are not loopback, token or not', async () => {
    const reply = await g.tk.admin.inject({
      method: 'GET',
      url: '/admin/sessions',
      remoteAddress: '198.18.0.11',
      headers: { authorization: `Bearer ${token}` },
    });
    const metrics = await g.tk.admin.inject({ method: 'GET', url: '/metrics', remoteAddress: '198.18.0.11' });
    expect([reply.statusCode, metrics.statusCode]).toEqual([403, 403]);
  });

  it('cannot be configured to listen beyond loopback', () => {
    let error: unknown;
    try {
      parseConfig({ mints: [{ url: 'http://127.0.0.1:3338' }], admin: { host: '0.0.0.0' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { key: 'admin.host', problem: 'is "0.0.0.0"', expected: 'a loopback address (127.0.0.1, ::1 or localhost)' },
    ]);
  });
});
