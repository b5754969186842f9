import type { CommandResult } from '../gate/gate-transport.ts';
import { DEFAULT_MAX_FILE_BYTES } from './parsed-file.ts';

export type ReadRemoteText = (path: string) => Promise<string>;

export interface RemoteFileOptions {
  /** A copy younger than this is used as is (default 1 s). */
  maxAgeMs?: number;
  maxBytes?: number;
  now?: () => number;
}

/**
 * A file on the router (DHCP leases, the neighbour table) read through the gate's transport when
 * asked for and the copy held is older than `maxAgeMs`: never copied on a schedule. Lookups arriving
 * together share one read.
 */
export class RemoteFile<T> {
  /** Times the file was read and parsed (for tests). */
  reads = 0;
  private cached: { at: number; value: T } | undefined;
  private inFlight: Promise<T> | undefined;

  constructor(
    readonly path: string,
    private readonly parse: (text: string) => T,
    private readonly readText: ReadRemoteText,
    private readonly options: RemoteFileOptions = {},
  ) {}

  /** The parsed file; `maxAgeMs` overrides the default (a lookup that found nothing asks for a fresher copy). */
  get(maxAgeMs = this.options.maxAgeMs ?? 1_000): Promise<T> {
    const now = this.options.now ?? Date.now;
    if (this.cached && now() - this.cached.at < maxAgeMs) return Promise.resolve(this.cached.value);
    this.inFlight ??= this.load(now()).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(at: number): Promise<T> {
    const text = await this.readText(this.path);
    const maxBytes = this.options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
    if (Buffer.byteLength(text) > maxBytes) throw new Error(`${this.path} on the gateway host is larger than ${maxBytes} bytes; it is not read`);
    const value = this.parse(text);
    this.reads += 1;
    this.cached = { at, value };
    return value;
  }
}

/** What runs a tool on the gateway host (NdsctlRunner.tool). */
export interface GatewayTool {
  tool(argv: readonly string[]): Promise<CommandResult>;
}

/** Reads a file on the gateway host with `cat`, through the gate's transport; a missing file reads as empty. */
export function readOnGateway(host: GatewayTool): ReadRemoteText {
  return async (path) => {
    if (!path.startsWith('/')) throw new RangeError(`not an absolute path: ${JSON.stringify(path)}`);
    const result = await host.tool(['cat', path]);
    if (result.exitCode === 0) return result.stdout;
    if (/no such file/i.test(result.stderr)) return '';
    throw new Error(`cat ${path} on the gateway host: exit ${result.exitCode} ${result.stderr.trim().slice(0, 200)}`);
  };
}
