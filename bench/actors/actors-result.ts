export interface ActorsResult {
  actors: number;
  /** Session snapshots written to SQLite, as startTollkeeper runs the engine. */
  persisted: boolean;
  /** Heap growth per live session actor, the simulated gate's own records subtracted. */
  heapPerActorBytes: number;
  /** Heap growth per actor including the simulated gate's record of the client. */
  heapPerActorWithGateBytes: number;
  gatePerClientBytes: number;
  /** Wall time to create all sessions (pay, credit, open, baseline) in one burst. */
  spawnAllMs: number;
  /** Per tick: from the gate's answer to every session holding the new counters. */
  fanOutMs: number[];
  /** Per tick: the simulated gate's readAll alone. */
  readAllMs: number[];
  ticks: number;
  /** 1 per tick when meterNow resolved with every session already updated. */
  checksAfterMeterNow: number[];
}
