import type { Config } from '../config/config.ts';
import { loadConfig } from '../config/load-config.ts';
import { UsageError } from './io.ts';

export const CONFIG_ENV = 'TOLLKEEPER_CONFIG';

/** --config FILE, else $TOLLKEEPER_CONFIG: the file tells the CLI the data dir and admin port of the gateway. */
export function configFrom(path: string | undefined): Config {
  const file = path ?? process.env[CONFIG_ENV];
  if (!file) throw new UsageError(`--config FILE is required (or set ${CONFIG_ENV})`);
  return loadConfig(file);
}
