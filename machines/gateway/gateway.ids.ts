/** The actor-system id of a MAC's session actor; a MAC has at most one at a time. */
export function sessionSystemId(mac: string): string {
  return `session:${mac}`;
}
