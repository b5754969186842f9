import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../../src/gate/serial-queue.ts';

describe('SerialQueue', () => {
  it('runs one task at a time, in order, even when tasks are queued all at once', async () => {
    const queue = new SerialQueue();
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    const tasks = Array.from({ length: 20 }, (_, i) =>
      queue.run(async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(i);
        running -= 1;
        return i * 2;
      }),
    );
    expect(await Promise.all(tasks)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(maxRunning).toBe(1);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(queue.pending).toBe(0);
  });

  it('keeps going after a task fails, and the caller sees that failure', async () => {
    const queue = new SerialQueue();
    const failing = queue.run(async () => {
      throw new Error('boom');
    });
    const next = queue.run(async () => 'after');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('after');
  });
});
