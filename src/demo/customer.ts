import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SimulatedGate } from '../gate/simulated-gate.ts';
import type { DemoDevice } from './demo-customers.ts';
import { httpFrom } from './http-from.ts';

export type Range = readonly [number, number];

/** How a simulated customer behaves; every range is drawn from afresh for each session. */
export interface CustomerPlan {
  /** Sats paid per purchase (and per top-up). */
  purchaseSats: Range;
  /** Download speed while browsing, bytes per second. */
  rateBytesPerSecond: Range;
  /** Wait before the first purchase (staggers the customers). */
  firstRestMs: Range;
  /** Wait between one session ending and the next purchase. */
  restMs: Range;
  /** How often traffic is added to the simulated gate. */
  trafficEveryMs: number;
  /** Chance a session is topped up once it is 60 % used. */
  topUpChance: number;
  /** Chance the customer leaves at 40 % and the operator closes the session. */
  leaveEarlyChance: number;
}

export const DEFAULT_PLAN: CustomerPlan = {
  purchaseSats: [15, 40],
  rateBytesPerSecond: [150_000, 450_000],
  firstRestMs: [300, 4_000],
  restMs: [2_000, 6_000],
  trafficEveryMs: 250,
  topUpChance: 0.35,
  leaveEarlyChance: 0.15,
};

export interface CustomerDeps {
  device: DemoDevice;
  /** Base URL of the gateway's HTTP API. */
  url: string;
  mintToken(amount: number): Promise<string>;
  gate: SimulatedGate;
  /** What the operator does with `tollkeeper close MAC`. */
  closeSession(mac: string): Promise<unknown>;
  plan: CustomerPlan;
  log: Logger;
  random?: () => number;
}

export type Activity = 'waiting' | 'paying' | 'browsing' | 'left';

/** A device that buys access over real HTTP from its own address, uses data, tops up, runs out and comes back. */
export class SimulatedCustomer {
  activity: Activity = 'waiting';
  /** Current download speed, bytes per second (0 unless browsing). */
  rate = 0;
  paidSats = 0;
  payments = 0;
  lastProblem: string | null = null;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private readonly random: () => number;

  constructor(private readonly deps: CustomerDeps) {
    this.random = deps.random ?? Math.random;
  }

  get device(): DemoDevice {
    return this.deps.device;
  }

  start(): this {
    this.running ??= this.loop().catch((error: unknown) => {
      if (!this.abort.signal.aborted) this.deps.log.error({ err: error, mac: this.device.mac }, 'demo customer stopped');
    });
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { plan } = this.deps;
    await this.rest(plan.firstRestMs);
    while (!this.abort.signal.aborted) {
      if (await this.pay()) await this.browse();
      this.rate = 0;
      this.activity = 'waiting';
      await this.rest(plan.restMs);
    }
  }

  /** One purchase over HTTP; true when the gateway answered with a session. */
  private async pay(): Promise<boolean> {
    this.activity = 'paying';
    const amount = Math.round(this.between(this.deps.plan.purchaseSats));
    try {
      const token = await this.deps.mintToken(amount);
      const reply = await httpFrom(this.device.ip, `${this.deps.url}/`, {
        method: 'POST',
        body: token,
        headers: { 'content-type': 'text/plain' },
      });
      if (reply.status !== 200) {
        this.lastProblem = `payment answered ${reply.status}`;
        this.deps.log.warn({ mac: this.device.mac, status: reply.status }, 'demo customer: payment refused');
        return false;
      }
      this.paidSats += amount;
      this.payments += 1;
      this.lastProblem = null;
      return true;
    } catch (error) {
      if (this.abort.signal.aborted) return false;
      this.lastProblem = (error as Error).message;
      this.deps.log.warn({ err: error, mac: this.device.mac }, 'demo customer: payment failed');
      return false;
    }
  }

  private async browse(): Promise<void> {
    const { plan, gate, device } = this.deps;
    this.activity = 'browsing';
    this.rate = this.between(plan.rateBytesPerSecond);
    const leavesEarly = this.random() < plan.leaveEarlyChance;
    let toppedUp = false;
    let sinceUsage = 0;
    while (!this.abort.signal.aborted) {
      if (!(await this.rest([plan.trafficEveryMs, plan.trafficEveryMs]))) return;
      // The gate counts traffic only while it is open: false means the session ran out or was closed.
      if (!gate.addTraffic(device.mac, Math.round((this.rate * plan.trafficEveryMs) / 1000))) return;
      sinceUsage += plan.trafficEveryMs;
      if (sinceUsage < 1_000) continue;
      sinceUsage = 0;
      const fraction = await this.usedFraction();
      if (fraction === null) continue;
      if (!toppedUp && fraction > 0.6 && this.random() < plan.topUpChance) {
        toppedUp = true;
        await this.pay();
        this.activity = 'browsing';
      } else if (leavesEarly && fraction > 0.4) {
        this.activity = 'left';
        await this.deps.closeSession(device.mac);
        return;
      }
    }
  }

  /** used/allotment from GET /usage, as the customer's own device would ask. */
  private async usedFraction(): Promise<number | null> {
    try {
      const reply = await httpFrom(this.device.ip, `${this.deps.url}/usage`);
      const [used, allotment] = reply.body.split('/').map(Number);
      return used !== undefined && allotment !== undefined && allotment > 0 ? used / allotment : null;
    } catch {
      return null;
    }
  }

  /** Sleeps for a draw from `range`; false when the customer was stopped meanwhile. */
  private async rest(range: Range): Promise<boolean> {
    try {
      await sleep(this.between(range), undefined, { signal: this.abort.signal });
      return true;
    } catch {
      return false;
    }
  }

  private between([low, high]: Range): number {
    return low + this.random() * (high - low);
  }
}
