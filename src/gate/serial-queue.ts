/**
 * Runs async tasks one at a time, in the order they were queued. A task's failure does not stop
 * the tasks queued after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Number of tasks queued or running. */
  get pending(): number {
    return this.waiting;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const result = this.tail.then(task).finally(() => {
      this.waiting -= 1;
    });
    // The chain must survive a rejected task; the caller still sees the rejection through `result`.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
