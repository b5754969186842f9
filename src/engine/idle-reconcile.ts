import type { Logger } from 'pino';

/**
 * With no session to meter the meter does not read the gate: this timer reconciles with it every
 * `everyMs` instead, so clients authorised behind tollkeeper's back are still found.
 */
export class IdleReconcile {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly everyMs: number | null,
    private readonly isIdle: () => boolean,
    private readonly reconcile: () => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  schedule(): void {
    if (this.everyMs === null || this.stopped) return;
    this.timer = setTimeout(() => {
      void (this.isIdle() ? this.reconcile() : Promise.resolve())
        .catch((err: unknown) => this.log.warn({ err }, 'reconciliation with the gate failed'))
        .finally(() => this.schedule());
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
