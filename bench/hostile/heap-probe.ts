// Loaded into the `tollkeeper serve` process by the hostile bench only (node --expose-gc --import):
// answers the message 'heap' over the IPC channel with the heap in use after a full collection,
// so the bench reads tollkeeper's own heap rather than the process's RSS. Runtime code knows nothing of it.
const collect = (globalThis as { gc?: () => void }).gc;

process.on('message', (message) => {
  if (message !== 'heap' || !process.send) return;
  collect?.();
  collect?.();
  process.send({ heapUsed: process.memoryUsage().heapUsed, collected: collect !== undefined });
});
// The channel must not keep serve alive once it is told to stop.
process.channel?.unref();
