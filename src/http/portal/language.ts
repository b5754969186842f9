import type { Catalogue } from './catalogue/catalogue.ts';
import { en } from './catalogue/en.ts';
import { es } from './catalogue/es.ts';

/** The portal's languages; the first is the fallback. Adding one is a catalogue and a line here. */
export const CATALOGUES = { en, es } as const satisfies Record<string, Catalogue>;
export type Language = keyof typeof CATALOGUES;
export const DEFAULT_LANGUAGE: Language = 'en';

/** An Accept-Language header is read up to this many characters and entries: it is LAN input. */
const MAX_HEADER_CHARS = 256;
const MAX_ENTRIES = 16;

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(CATALOGUES, value);
}

/**
 * The language to answer in: an explicit `?lang=` the page's own links set, else the best of
 * Accept-Language (by q, then order) that has a catalogue, compared by primary subtag, else English.
 */
export function chooseLanguage(query: unknown, acceptLanguage: string | string[] | undefined): Language {
  if (isLanguage(query)) return query;
  const header = (Array.isArray(acceptLanguage) ? acceptLanguage[0] : acceptLanguage) ?? '';
  const ranked = header
    .slice(0, MAX_HEADER_CHARS)
    .split(',', MAX_ENTRIES)
    .map((entry, index) => {
      const [tag = '', ...params] = entry.trim().split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { primary: tag.trim().toLowerCase().split('-')[0]!, q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((entry) => entry.primary).find(isLanguage) ?? DEFAULT_LANGUAGE;
}

/** `{name}` marks in a catalogue string filled with values (already escaped when bound for HTML). */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (mark, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : mark));
}
