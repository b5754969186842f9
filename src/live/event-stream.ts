import type { Writable } from 'node:stream';

/** Unsent bytes a viewer's event stream may hold before the viewer is dropped. */
export const MAX_VIEWER_BACKLOG_BYTES = 256 * 1024;

/**
 * Writes one server-sent event unless the viewer has stopped reading: a stream whose unsent
 * backlog is past `maxBacklogBytes` is destroyed instead, so a stalled viewer cannot make the
 * process buffer every update for it. Returns false when the viewer was dropped.
 */
export function sendEvent(stream: Writable, event: string, data: unknown, maxBacklogBytes = MAX_VIEWER_BACKLOG_BYTES): boolean {
  if (stream.destroyed) return false;
  if (stream.writableLength > maxBacklogBytes) {
    stream.destroy();
    return false;
  }
  stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  return true;
}
