const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or an attribute value made inert in HTML. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A catalogue string, escaped, with its `{name}` marks filled with escaped values. */
export function fillHtml(template: string, values: Readonly<Record<string, string | number>> = {}): string {
  return escapeHtml(template).replace(/\{(\w+)\}/g, (mark, name: string) => (Object.hasOwn(values, name) ? escapeHtml(values[name]!) : mark));
}
