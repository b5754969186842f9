/** A strict reader of the Prometheus text format, enough to check what /metrics serves. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedMetrics {
  types: Map<string, string>;
  samples: ParsedSample[];
  /** Value of the one sample of `name` whose labels include `labels`; throws when there is not exactly one. */
  value(name: string, labels?: Record<string, string>): number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parsePrometheus(text: string): ParsedMetrics {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const types = new Map<string, string>();
  const samples: ParsedSample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (!name || !NAME.test(name) || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? '')) throw new Error(`bad TYPE line: ${line}`);
      if (types.has(name)) throw new Error(`TYPE of ${name} given twice`);
      types.set(name, type!);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (match[3]) {
      LABEL.lastIndex = 0;
      let consumed = 0;
      let m: RegExpExecArray | null;
      while ((m = LABEL.exec(match[3])) !== null) {
        labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed = LABEL.lastIndex;
        if (m[3] === '') break;
      }
      if (consumed !== match[3].length) throw new Error(`bad labels: ${line}`);
    }
    const raw = match[4]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value: ${line}`);
    const family = match[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(match[1]!) && !types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return {
    types,
    samples,
    value(name, want = {}) {
      const found = samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
      if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(want)}`);
      return found[0]!.value;
    },
  };
}
