import type { GateConfig } from '../config/config.ts';
import { loadConfig } from '../config/load-config.ts';
import { type CliIo, UsageError } from './io.ts';

export const CONFIG_USAGE = `Usage: tollkeeper config check FILE

Validates FILE and prints each problem as "key: problem; expected …" (exit 1 when there is one).`;

export function configVerb(args: string[], io: CliIo): number {
  const [action, file, ...extra] = args;
  if (action === '--help' || action === '-h' || (action === 'check' && (file === '--help' || file === '-h'))) {
    io.out(CONFIG_USAGE);
    return 0;
  }
  if (action !== 'check') throw new UsageError(action === undefined ? 'config needs an action' : `unknown config action ${JSON.stringify(action)}`);
  if (file === undefined || extra.length > 0) throw new UsageError('config check takes exactly one FILE');
  const config = loadConfig(file);
  const gates = config.gates.length === 0 ? `gate ${describeGate(config.gate)}` : `gates ${config.gates.map((g) => `${g.name} ${describeGate(g.gate)} on ${g.lan.join(' ')}`).join(', ')}`;
  io.out(
    `${file}: ok (${config.mints.length} mint(s), metric ${config.metric}, ${gates}, ` +
      `listen ${config.listen.host}:${config.listen.port}, admin ${config.admin.host}:${config.admin.port}, data ${config.dataDir})`,
  );
  return 0;
}

function describeGate(gate: GateConfig): string {
  const transport = gate.kind === 'ndsctl' && gate.transport.kind === 'ssh' ? ` over ssh ${gate.transport.user}@${gate.transport.host}:${gate.transport.port}` : '';
  return `${gate.kind}${transport}`;
}
