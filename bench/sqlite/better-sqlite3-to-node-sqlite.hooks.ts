// Module resolution hook for use-node-sqlite.ts.
const ADAPTER = new URL('./node-sqlite-database.ts', import.meta.url).href;

type Resolve = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Resolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'better-sqlite3') return { url: ADAPTER, shortCircuit: true };
  return next(specifier, context);
}
