import { Graphviz } from '@hpcc-js/wasm-graphviz';

let loaded: Promise<Graphviz> | null = null;

/** Renders DOT to SVG with Graphviz compiled to WebAssembly: no browser, no network. */
export async function dotToSvg(dot: string): Promise<string> {
  loaded ??= Graphviz.load();
  const svg = (await loaded).dot(dot, 'svg');
  // Drop the XML prolog, doctype and generator comments so the SVG can be inlined in a page.
  return `${svg
    .replace(/<\?xml[^>]*\?>\s*/g, '')
    .replace(/<!DOCTYPE[^>]*>\s*/g, '')
    .replace(/<!--[\s\S]*?-->\s*/g, '')
    // Graphviz writes '-' as &#45;, which would hide ids like `state-session.idle` from a plain search.
    .replace(/&#45;/g, '-')
    .trim()}\n`;
}
