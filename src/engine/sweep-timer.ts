import { fromCallback } from 'xstate';
import type { GatewayEvent } from '../../machines/gateway/gateway.types.ts';

/** The root machine's `sweepTimer`: every `everyMs` it sends `sessions.sweep` with the time, so settled sessions can be retired. */
export function sweepTimer(everyMs: number) {
  return fromCallback<GatewayEvent>(({ sendBack }) => {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(() => {
        sendBack({ type: 'sessions.sweep', now: Date.now() });
        arm();
      }, everyMs);
      timer.unref?.();
    };
    arm();
    return () => clearTimeout(timer);
  });
}
