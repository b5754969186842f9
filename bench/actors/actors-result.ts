/** What one engine measured in the actors bench. */
export interface EngineFigures {
  /** Session snapshots written to SQLite, as startTollkeeper runs the engine. */
  persisted: boolean;
  /** Heap growth per live session actor, the simulated gate's own records subtracted. */
  heapPerActorBytes: number;
  /** Heap growth per actor including the simulated gate's record of the client. */
  heapPerActorWithGateBytes: number;
  /** Wall time to create all sessions (pay, credit, open, baseline) in one burst. */
  spawnAllMs: number;
  /** A batch of new customers paying once the bed is full: from the first payment until each of their sessions polls, with `liveBefore` sessions live. */
  lastBatch: BatchFigures;
  /** gateway.stop() with every session live. */
  stopMs: number;
  /** Per tick: from the gate's answer until everything the reading set off in the engine has run. */
  fanOutMs: number[];
  /** Per tick: the simulated gate's readAll alone. */
  readAllMs: number[];
  /** Per tick: session actors whose own record of usage the reading changed (the rest answer from the counter table). */
  wokenPerTick: number[];
  /** Per tick: session snapshots the persistence checkpoint wrote after it, and the time that took (all chunks). */
  checkpointRows: number[];
  checkpointMs: number[];
  /** The tick in which 1 % of the sessions ran out: until each of them had left polling. */
  exhaustMs: number;
  exhausted: number;
}

export interface BatchFigures {
  sessions: number;
  liveBefore: number;
  ms: number;
}

export interface ActorsResult {
  actors: number;
  ticks: number;
  gatePerClientBytes: number;
  /** The engine alone, then (with `both`) the engine with persistence; their ticks alternated. */
  engines: EngineFigures[];
  /** The engine alone with a tenth of the sessions, its ticks alternating with the engines' above. */
  floor: { actors: number; fanOutMs: number[]; lastBatch: BatchFigures; stopMs: number };
}
