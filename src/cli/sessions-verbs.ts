import { parseArgs } from 'node:util';
import { parseMac } from '../gate/mac.ts';
import { adminRequest, errorOf } from './admin-client.ts';
import { configFrom } from './config-arg.ts';
import { formatQuantity, pad, progressBar } from '../text/format.ts';
import { type CliIo, UsageError } from './io.ts';
import type { SessionSummary } from '../../machines/domain.ts';

export const SESSIONS_USAGE = `Usage: tollkeeper sessions [--json] [--config FILE]

Lists the sessions of the running gateway (through its loopback admin API).
  --json           one JSON document instead of a table
  --config FILE    the gateway's config (default $TOLLKEEPER_CONFIG)`;

export const CLOSE_USAGE = `Usage: tollkeeper close MAC [--config FILE]

Closes the session of MAC now: the gate closes and the unspent allotment is forfeited.
  --config FILE    the gateway's config (default $TOLLKEEPER_CONFIG)`;

export async function sessionsVerb(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return io.out(SESSIONS_USAGE), 0;
  const config = configFrom(values.config);
  const { status, body } = await adminRequest(config, 'GET', '/admin/sessions');
  if (status !== 200) return io.err(`sessions: the gateway answered ${status}: ${errorOf(body)}`), 1;
  const sessions = (body as { sessions: SessionSummary[] }).sessions;
  if (values.json) return io.out(JSON.stringify(sessions, null, 2)), 0;
  if (sessions.length === 0) return io.out('no sessions'), 0;
  io.out(`${pad('MAC', 18)} ${pad('GATE', 12)} ${pad('STATE', 10)} ${pad('USED', 10)} ${pad('ALLOTMENT', 10)} ${pad('', 22)} STARTED`);
  for (const s of sessions) {
    const started = s.startedAt ? new Date(s.startedAt).toISOString().replace('T', ' ').slice(0, 19) : '-';
    io.out(
      `${pad(s.mac, 18)} ${pad(s.gate ?? '-', 12)} ${pad(s.state, 10)} ${pad(formatQuantity(s.used, s.metric), 10)} ${pad(formatQuantity(s.allotment, s.metric), 10)} ${progressBar(s.used, s.allotment)} ${started}`,
    );
  }
  return 0;
}

export async function closeVerb(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return io.out(CLOSE_USAGE), 0;
  if (positionals.length !== 1) throw new UsageError('close takes exactly one MAC');
  let mac: string;
  try {
    mac = parseMac(positionals[0]!);
  } catch {
    throw new UsageError(`${JSON.stringify(positionals[0])} is not a MAC address (expected e.g. aa:bb:cc:dd:ee:01)`);
  }
  const config = configFrom(values.config);
  const { status, body } = await adminRequest(config, 'POST', `/admin/sessions/${encodeURIComponent(mac)}/close`);
  if (status === 404) return io.err(`close: no session for ${mac}`), 1;
  if (status !== 200) return io.err(`close: the gateway answered ${status}: ${errorOf(body)}`), 1;
  const session = (body as { session: SessionSummary }).session;
  io.out(`${mac}: ${session.state} after ${formatQuantity(session.used, session.metric)} of ${formatQuantity(session.allotment, session.metric)}`);
  return 0;
}
