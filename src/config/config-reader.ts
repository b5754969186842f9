import { type Config, DEFAULT_CONFIG } from './config.ts';

export type Json = Record<string, unknown>;

/** Reads config values, each checked against what it must be; every problem is reported through `fail` with its key. */
export class Reader {
  constructor(
    private readonly input: Json,
    readonly fail: (key: string, problem: string, expected: string) => void,
  ) {}

  /** A top-level section whose keys are those of its defaults; any other key is a problem named by its path. */
  section(key: keyof Config): Json | undefined {
    const value = this.object(key);
    if (value) this.knownKeys(key, value, Object.keys(DEFAULT_CONFIG[key] as object));
    return value;
  }

  knownKeys(path: string, value: Json, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.fail(`${path}.${key}`, 'is not a known key', `one of ${known.join(', ')}`);
    }
  }

  object(key: string): Json | undefined {
    const value = this.input[key];
    if (value === undefined) return undefined;
    if (isObject(value)) return value;
    this.fail(key, `is ${describe(value)}`, 'an object');
    return undefined;
  }

  string(key: string, value: unknown, fallback: string): string {
    if (value === undefined) return fallback;
    if (typeof value === 'string' && value.length > 0) return value;
    this.fail(key, `is ${describe(value)}`, 'a non-empty string');
    return fallback;
  }

  strings(key: string, value: unknown, fallback: string[]): string[] {
    if (value === undefined) return fallback;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0)) return value as string[];
    this.fail(key, `is ${describe(value)}`, 'an array of non-empty strings');
    return fallback;
  }

  number(key: string, value: unknown, fallback: number, min: number): number {
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value;
    this.fail(key, `is ${describe(value)}`, `a number >= ${min}`);
    return fallback;
  }

  integer(key: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
    this.fail(key, `is ${describe(value)}`, `a whole number from ${min} to ${max}`);
    return fallback;
  }

  boolean(key: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.fail(key, `is ${describe(value)}`, 'true or false');
    return fallback;
  }

  oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.fail(key, `is ${describe(value)}`, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return fallback;
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value).slice(0, 60);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
