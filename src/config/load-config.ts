import { readFileSync } from 'node:fs';
import { type Config, ConfigError } from './config.ts';
import { parseConfig } from './parse-config.ts';

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([{ key: '(file)', problem: `cannot be read: ${(error as Error).message}`, expected: `a readable JSON file at ${path}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ key: '(file)', problem: `is not JSON: ${(error as Error).message}`, expected: 'a JSON object' }]);
  }
  return parseConfig(json);
}
