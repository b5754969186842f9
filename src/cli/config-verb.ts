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
  const transport = config.gate.kind === 'ndsctl' && config.gate.transport.kind === 'ssh' ? ` over ssh ${config.gate.transport.user}@${config.gate.transport.host}:${config.gate.transport.port}` : '';
  io.out(
    `${file}: ok (${config.mints.length} mint(s), metric ${config.metric}, gate ${config.gate.kind}${transport}, ` +
      `listen ${config.listen.host}:${config.listen.port}, admin ${config.admin.host}:${config.admin.port}, data ${config.dataDir})`,
  );
  return 0;
}
