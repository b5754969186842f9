/** One request the load generator sends. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Written by the bench as JSON; read by load-child.ts. */
export interface LoadSpec {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Requests in flight at once, each on its own keep-alive connection. */
  concurrency: number;
  /** The first `warmup` requests are sent but not measured. */
  warmup: number;
  /** Measuring stops once this long has passed (requests in flight finish); unsent ones are skipped. */
  maxMs: number;
  requests: LoadRequest[];
}

export interface LoadResult {
  sent: number;
  elapsedMs: number;
  perSecond: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** A sample answer body per non-2xx status, to say why. */
  failures: Record<string, string>;
}
