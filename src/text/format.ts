import type { Metric } from '../../machines/domain.ts';

/** 1536 -> "1.5 kB" (1024-based, as ndsctl counts); milliseconds -> "12.3 s". */
export function formatQuantity(value: number, metric: Metric): string {
  if (metric === 'milliseconds') return `${(value / 1000).toFixed(1)} s`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A bar of `width` cells filled to used/allotment (full when there is no allotment yet). */
export function progressBar(used: number, allotment: number, width = 20): string {
  const fraction = allotment > 0 ? Math.min(1, Math.max(0, used / allotment)) : 0;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}
