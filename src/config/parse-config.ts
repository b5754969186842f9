import { type Config, ConfigError, type ConfigProblem, DEFAULT_CONFIG, type MintConfig } from './config.ts';
import { describe, isObject, type Json, Reader } from './config-reader.ts';
import { readGates } from './gates-config.ts';
import { readLightning } from './lightning-config.ts';
import { readPayout } from './payout-config.ts';

const TOP_LEVEL_KEYS = new Set(Object.keys(DEFAULT_CONFIG));

/** Checks a parsed JSON config, filling defaults; every problem names its key, what is wrong and what is expected. */
export function parseConfig(input: unknown): Config {
  const problems: ConfigProblem[] = [];
  const fail = (key: string, problem: string, expected: string) => problems.push({ key, problem, expected });
  if (!isObject(input)) throw new ConfigError([{ key: '(root)', problem: `is ${describe(input)}`, expected: 'a JSON object' }]);
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL_KEYS.has(key)) fail(key, 'is not a known key', `one of ${[...TOP_LEVEL_KEYS].join(', ')}`);
  }
  const r = new Reader(input, fail);
  const { gate, gates } = readGates(r, input);
  const listen = r.section('listen') ?? {};
  const config: Config = {
    listen: {
      host: r.string('listen.host', listen.host, DEFAULT_CONFIG.listen.host),
      port: r.integer('listen.port', listen.port, DEFAULT_CONFIG.listen.port, 0, 65_535),
    },
    dataDir: r.string('dataDir', input.dataDir, DEFAULT_CONFIG.dataDir),
    gate,
    gates,
    metric: r.oneOf('metric', input.metric, ['bytes', 'milliseconds'] as const, DEFAULT_CONFIG.metric),
    stepSize: r.integer('stepSize', input.stepSize, DEFAULT_CONFIG.stepSize, 1),
    mints: readMints(r, input.mints),
    poll: (() => {
      const poll = r.section('poll') ?? {};
      return {
        minMs: r.integer('poll.minMs', poll.minMs, DEFAULT_CONFIG.poll.minMs, 10),
        maxMs: r.integer('poll.maxMs', poll.maxMs, DEFAULT_CONFIG.poll.maxMs, 10),
        linkRate: r.integer('poll.linkRate', poll.linkRate, DEFAULT_CONFIG.poll.linkRate, 0),
      };
    })(),
    leaseFiles: r.strings('leaseFiles', input.leaseFiles, DEFAULT_CONFIG.leaseFiles),
    arpFile: r.string('arpFile', input.arpFile, DEFAULT_CONFIG.arpFile),
    trustedRelays: r.strings('trustedRelays', input.trustedRelays, DEFAULT_CONFIG.trustedRelays),
    rateLimit: (() => {
      const limit = r.section('rateLimit') ?? {};
      return {
        burst: r.integer('rateLimit.burst', limit.burst, DEFAULT_CONFIG.rateLimit.burst, 1),
        perSecond: r.number('rateLimit.perSecond', limit.perSecond, DEFAULT_CONFIG.rateLimit.perSecond, 0.001),
      };
    })(),
    httpLimits: readHttpLimits(r),
    paymentTimeoutMs: r.integer('paymentTimeoutMs', input.paymentTimeoutMs, DEFAULT_CONFIG.paymentTimeoutMs, 100),
    log: (() => {
      const log = r.section('log') ?? {};
      return {
        level: r.oneOf('log.level', log.level, ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, DEFAULT_CONFIG.log.level),
        pretty: r.boolean('log.pretty', log.pretty, DEFAULT_CONFIG.log.pretty),
      };
    })(),
    admin: readAdmin(r),
    liveView: readLiveView(r),
    inspectUrl: readInspectUrl(r, input.inspectUrl),
    captivePortal: readCaptivePortal(r),
    lightning: readLightning(r),
  };
  if (config.poll.minMs > config.poll.maxMs) fail('poll.minMs', `${config.poll.minMs} is above poll.maxMs`, 'minMs <= maxMs');
  if (config.mints.length === 0) fail('mints', 'is empty', 'at least one accepted mint');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const LOOPBACK_HOSTS = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

/** The live view shows customers' MACs: it is off by default and always behind a token. */
function readLiveView(r: Reader): Config['liveView'] {
  const live = r.section('liveView') ?? {};
  const defaults = DEFAULT_CONFIG.liveView;
  const enabled = r.boolean('liveView.enabled', live.enabled, defaults.enabled);
  const token = live.token === undefined || live.token === null ? null : r.string('liveView.token', live.token, '');
  if (enabled && (token === null || token.length < 16)) {
    r.fail('liveView.token', token === null ? 'is missing' : 'is shorter than 16 characters', 'a random string of at least 16 characters, e.g. from `openssl rand -hex 16`');
  }
  const host = r.string('liveView.host', live.host, defaults.host);
  const allowRemote = r.boolean('liveView.allowRemote', live.allowRemote, defaults.allowRemote);
  if (!LOOPBACK_HOSTS.test(host) && !allowRemote) {
    r.fail('liveView.host', `is ${JSON.stringify(host)}`, 'a loopback address, or liveView.allowRemote: true to show sessions beyond this machine');
  }
  if (allowRemote && (token === null || token.length < 16)) {
    r.fail('liveView.allowRemote', 'is true without a token', 'a liveView.token of at least 16 characters');
  }
  return { enabled, host, port: r.integer('liveView.port', live.port, defaults.port, 0, 65_535), token, allowRemote };
}

/** Every bound on what LAN devices may hold of the listeners; each at least 1. */
function readHttpLimits(r: Reader): Config['httpLimits'] {
  const limits = r.section('httpLimits') ?? {};
  const defaults = DEFAULT_CONFIG.httpLimits;
  const read = (key: keyof Config['httpLimits']) => r.integer(`httpLimits.${key}`, limits[key], defaults[key], 1);
  const config = {
    requestTimeoutMs: read('requestTimeoutMs'),
    headersTimeoutMs: read('headersTimeoutMs'),
    keepAliveTimeoutMs: read('keepAliveTimeoutMs'),
    idleTimeoutMs: read('idleTimeoutMs'),
    connectionsPerIp: read('connectionsPerIp'),
    connections: read('connections'),
    requestBurst: read('requestBurst'),
    requestsPerSecond: r.number('httpLimits.requestsPerSecond', limits.requestsPerSecond, defaults.requestsPerSecond, 0.001),
  };
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    r.fail('httpLimits.headersTimeoutMs', `${config.headersTimeoutMs} is above httpLimits.requestTimeoutMs`, 'headersTimeoutMs <= requestTimeoutMs');
  }
  return config;
}

function readInspectUrl(r: Reader, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const url = r.string('inspectUrl', value, '');
  if (url && !/^wss?:\/\/\S+$/.test(url)) r.fail('inspectUrl', `is ${JSON.stringify(url)}`, 'a ws:// or wss:// URL of a Stately inspector relay');
  return url || null;
}

function readCaptivePortal(r: Reader): Config['captivePortal'] {
  const captive = r.section('captivePortal') ?? {};
  const url = (key: 'userPortalUrl' | 'venueInfoUrl'): string | null => {
    const value = captive[key];
    if (value === undefined || value === null) return null;
    const text = r.string(`captivePortal.${key}`, value, '');
    if (!/^https?:\/\/[^\s"]+$/.test(text)) {
      r.fail(`captivePortal.${key}`, `is ${JSON.stringify(text)}`, 'an http(s) URL the customer\'s device can open, or null');
      return null;
    }
    return text;
  };
  return { userPortalUrl: url('userPortalUrl'), venueInfoUrl: url('venueInfoUrl') };
}

/** The admin listener answers the CLI and /metrics; it must never face the customers' network. */
function readAdmin(r: Reader): Config['admin'] {
  const admin = r.section('admin') ?? {};
  const host = r.string('admin.host', admin.host, DEFAULT_CONFIG.admin.host);
  if (!LOOPBACK_HOSTS.test(host)) r.fail('admin.host', `is ${JSON.stringify(host)}`, 'a loopback address (127.0.0.1, ::1 or localhost)');
  return { host, port: r.integer('admin.port', admin.port, DEFAULT_CONFIG.admin.port, 0, 65_535) };
}

const MINT_KEYS = ['url', 'unit', 'pricePerStep', 'minSteps', 'payout'];

function readMints(r: Reader, value: unknown): MintConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    r.fail('mints', `is ${describe(value)}`, 'an array of { url, unit, pricePerStep, minSteps }');
    return [];
  }
  return value.map((entry, i) => {
    const key = `mints[${i}]`;
    const mint = isObject(entry) ? entry : (r.fail(key, `is ${describe(entry)}`, 'an object'), {});
    r.knownKeys(key, mint, MINT_KEYS);
    const url = r.string(`${key}.url`, mint.url, '');
    if (!/^https?:\/\/[^/\s]+/i.test(url)) r.fail(`${key}.url`, `is ${JSON.stringify(url)}`, 'an http(s) URL of a Cashu mint');
    return {
      url,
      unit: r.string(`${key}.unit`, mint.unit, 'sat'),
      pricePerStep: r.integer(`${key}.pricePerStep`, mint.pricePerStep, 1, 1),
      minSteps: r.integer(`${key}.minSteps`, mint.minSteps, 1, 0),
      payout: readPayout(r, `${key}.payout`, mint.payout),
    };
  });
}
