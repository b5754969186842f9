import type { Metric } from '../../machines/domain.ts';
import type { SshTarget } from '../gate/ssh-transport.ts';
import type { HttpLimits } from '../http/http-limits.ts';
import { DEFAULT_LIGHTNING_LIMITS, type LightningLimits } from '../lightning/lightning-limits.ts';

export interface MintConfig {
  url: string;
  unit: string;
  pricePerStep: number;
  minSteps: number;
  /** Scheduled payouts of this mint's balance to Lightning addresses; null = none. */
  payout: PayoutConfig | null;
}

/** Amounts in the mint's unit (sat). */
export interface PayoutConfig {
  /** Who gets what part of each payout; shares are fractions summing to at most 1. */
  targets: Array<{ lightningAddress: string; share: number }>;
  intervalMs: number;
  /** A target's payout smaller than this is not made (the sats stay for the next one). */
  minPayout: number;
  /** The float: this much stays in the wallet after every payout. */
  keep: number;
  /** The most one payout (one target, fees included) may take from the wallet. */
  maxPerPayout: number;
  /** The most all payouts of one interval may take from the wallet, fees included. */
  capPerInterval: number;
  /** The Lightning network the mint pays on; an invoice for another is refused. */
  network: 'bitcoin' | 'testnet' | 'signet' | 'regtest';
  /** What the mint's fee reserve is assumed to be when the invoice is sized (checked against its quote). */
  feeReserveEstimate: { min: number; percent: number };
}

/** How gate commands reach the gateway host: run here, or over one long-lived ssh session to the router. */
export type GateTransportConfig = { kind: 'local' } | ({ kind: 'ssh' } & SshTarget);

export type GateConfig =
  | {
      kind: 'ndsctl';
      /** argv prefix that runs ndsctl, e.g. ["ndsctl"] or ["ssh", "root@router", "ndsctl"]; with an ssh transport, the argv on the router. */
      command: string[];
      transport: GateTransportConfig;
      counters: 'auto' | 'iptables' | 'nft' | 'ndsctl-json';
      /** Who cuts a data session at its allotment: a kernel quota (`nft-quota`), `deauth` after a reading, or `auto` (the quota when nft works). */
      enforce: 'auto' | 'nft-quota' | 'deauth';
      timeoutMs: number;
      /** How long re-opening the gate for a client it lost (an OpenNDS restart) is retried, from its first failure. */
      reopenForMs: number;
      /** The captive LAN's interface on the gateway host (OpenNDS's GatewayInterface), checked at start for forwarded IPv6. */
      lanInterface: string;
    }
  | { kind: 'simulated' };

/** One of several gates (`gates`): its own gateway host, the LAN its customers come from, its leases and neighbour table. */
export interface GateEntry {
  name: string;
  /** The subnets (CIDR) the requests of this gate's customers come from; no two gates' overlap. */
  lan: string[];
  leaseFiles: string[];
  arpFile: string;
  gate: GateConfig;
}

/** The single `gate`'s name, and its LAN: every address. */
export const DEFAULT_GATE_NAME = 'default';
export const EVERY_ADDRESS = ['0.0.0.0/0', '::/0'];

export interface Config {
  listen: { host: string; port: number };
  dataDir: string;
  /** The one gate; with `gates`, the first of them (use gateEntriesOf). */
  gate: GateConfig;
  /** Several gates, each with its name and LAN; empty: the one `gate` above, named "default". */
  gates: GateEntry[];
  metric: Metric;
  /** Bytes or milliseconds one step buys. */
  stepSize: number;
  mints: MintConfig[];
  /** Meter pace: readings between minMs and maxMs apart; linkRate (bytes/s) is the fastest one customer can go. */
  poll: { minMs: number; maxMs: number; linkRate: number };
  leaseFiles: string[];
  arpFile: string;
  trustedRelays: string[];
  rateLimit: { burst: number; perSecond: number };
  /** Bounds on what LAN devices may hold of the customer and admin listeners (see src/http/http-limits.ts). */
  httpLimits: Omit<HttpLimits, 'requests'> & { requestBurst: number; requestsPerSecond: number };
  /** How long a swap at the mint may take before the payment is ambiguous. */
  paymentTimeoutMs: number;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'; pretty: boolean };
  /** Operator listener (admin API for the CLI, /metrics); loopback addresses only. */
  admin: { host: string; port: number };
  /** Browser view of the live sessions (statechart, table, event feed); off unless enabled, token required. */
  liveView: { enabled: boolean; host: string; port: number; token: string | null; allowRemote: boolean };
  /** WebSocket of a Stately inspector relay to stream actor events to; null = off. */
  inspectUrl: string | null;
  /** Links the RFC 8908 captive-portal API (GET /captive-portal) gives phones; null leaves a key out. */
  captivePortal: { userPortalUrl: string | null; venueInfoUrl: string | null };
  /** Lightning purchases (`/ln-invoice`) through the accepted mints that offer bolt11 minting, and their bounds. */
  lightning: { enabled: boolean } & LightningLimits;
}

export interface ConfigProblem {
  key: string;
  problem: string;
  expected: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.key}: ${p.problem} (expected ${p.expected})`).join('\n'));
  }
}

export const DEFAULT_CONFIG: Config = {
  listen: { host: '0.0.0.0', port: 2121 },
  dataDir: './data',
  gate: { kind: 'ndsctl', command: ['ndsctl'], transport: { kind: 'local' }, counters: 'auto', enforce: 'auto', timeoutMs: 10_000, reopenForMs: 120_000, lanInterface: 'br-lan' },
  gates: [],
  metric: 'bytes',
  stepSize: 1_048_576,
  mints: [],
  poll: { minMs: 50, maxMs: 2_000, linkRate: 12_500_000 },
  leaseFiles: ['/tmp/dhcp.leases', '/var/lib/misc/dnsmasq.leases'],
  arpFile: '/proc/net/arp',
  trustedRelays: [],
  rateLimit: { burst: 10, perSecond: 1 },
  httpLimits: {
    requestTimeoutMs: 15_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    idleTimeoutMs: 90_000,
    connectionsPerIp: 32,
    connections: 512,
    requestBurst: 60,
    requestsPerSecond: 10,
  },
  paymentTimeoutMs: 10_000,
  log: { level: 'info', pretty: false },
  admin: { host: '127.0.0.1', port: 2122 },
  liveView: { enabled: false, host: '127.0.0.1', port: 2123, token: null, allowRemote: false },
  inspectUrl: null,
  captivePortal: { userPortalUrl: null, venueInfoUrl: null },
  lightning: { enabled: true, ...DEFAULT_LIGHTNING_LIMITS },
};

/** The gates tollkeeper serves: `gates`, or the one `gate` with the top-level lease and neighbour files. */
export function gateEntriesOf(config: Config): GateEntry[] {
  if (config.gates.length > 0) return config.gates;
  return [{ name: DEFAULT_GATE_NAME, lan: EVERY_ADDRESS, leaseFiles: config.leaseFiles, arpFile: config.arpFile, gate: config.gate }];
}
