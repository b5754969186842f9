import { asMintCallError, createMintRequest } from '../payment/mint-client.ts';
import type { ProbeResult } from './health-state.ts';

/**
 * One health probe: `GET /v1/info` and `GET /v1/keysets` must both answer, and the keysets must
 * include an active one of `unit`. A 429 means the mint is throttling us. The info answer goes to
 * `onInfo` (what the mint offers: bolt11 minting, NUT-17), so nobody else needs to fetch it.
 */
export async function probeMint(url: string, unit: string, timeoutMs: number, onInfo?: (info: unknown) => void): Promise<ProbeResult> {
  const request = createMintRequest(timeoutMs, 256 * 1024);
  try {
    const info = await request<unknown>({ endpoint: `${url}/v1/info`, method: 'GET' });
    onInfo?.(info);
    const answer = await request<{ keysets?: Array<{ unit?: string; active?: boolean }> }>({ endpoint: `${url}/v1/keysets`, method: 'GET' });
    if (!Array.isArray(answer.keysets) || !answer.keysets.some((k) => k.unit === unit && k.active === true)) {
      return { ok: false, kind: 'unreachable', error: `no active ${unit} keyset in /v1/keysets` };
    }
    return { ok: true };
  } catch (error) {
    const failure = asMintCallError(error);
    if (failure?.kind === 'rate-limited') return { ok: false, kind: 'throttled', error: failure.message };
    return { ok: false, kind: 'unreachable', error: failure?.message ?? String(error) };
  }
}
